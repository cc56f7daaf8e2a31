// The serving certificate, pods found by the runtime's labels, and the whole endpoint over
// TLS: client-certificate authorization and a WebSocket exec through the HTTPS server's
// upgrade.
#include "src/agent/server/agent_server.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "src/agent/server/serving_certificate.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/pki/certificates.h"
#include "tests/agent/server/fake_stream_runtime.h"
#include "tests/agent/server/stream_clients.h"
#include "tests/agent/server/tls_client.h"

namespace kite::agent::server {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/kite-agent-server-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<std::string> SansOf(const std::string& pem) {
  auto cert = pki::CertificateFromPem(pem);
  REQUIRE(cert.ok());
  return pki::SubjectAltNamesOf(cert->get());
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("a self-signed serving certificate is made once and reissued when SANs change") {
  TempDir dir;
  ServingCertificateOptions options;
  options.tls_dir = dir.path + "/agent/tls";
  options.node_name = "node-a";
  options.addresses = {"10.0.0.5"};
  auto first = LoadOrCreateServingCertificate(options);
  REQUIRE(first.ok());
  CHECK(first->issued);
  std::vector<std::string> sans = SansOf(first->cert_pem);
  CHECK(Contains(sans, "node-a"));
  CHECK(Contains(sans, "localhost"));
  CHECK(Contains(sans, "127.0.0.1"));
  CHECK(Contains(sans, "10.0.0.5"));
  struct stat key_stat {};
  REQUIRE(::stat((options.tls_dir + "/kubelet.key").c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 0777) == 0600);
  // The chain file holds the serving certificate and the CA that signed it.
  auto leaf = pki::CertificateFromPem(first->cert_pem);
  auto ca = pki::CertificateFromPem(first->cert_pem.substr(first->cert_pem.find("-----END") + 20));
  REQUIRE(leaf.ok());
  REQUIRE(ca.ok());
  CHECK(pki::CheckSignedBy(leaf->get(), ca->get()).ok());

  auto again = LoadOrCreateServingCertificate(options);
  REQUIRE(again.ok());
  CHECK_FALSE(again->issued);
  CHECK(again->cert_pem == first->cert_pem);

  options.addresses = {"10.0.0.6"};
  auto moved = LoadOrCreateServingCertificate(options);
  REQUIRE(moved.ok());
  CHECK(moved->issued);
  CHECK(Contains(SansOf(moved->cert_pem), "10.0.0.6"));

  // Given files are used as they are; a key that does not match is refused.
  ServingCertificateOptions given;
  given.cert_file = options.tls_dir + "/kubelet.crt";
  given.key_file = options.tls_dir + "/kubelet.key";
  auto loaded = LoadOrCreateServingCertificate(given);
  REQUIRE(loaded.ok());
  CHECK(loaded->cert_pem == moved->cert_pem);
  CHECK_FALSE(loaded->issued);
  TempDir other;
  ServingCertificateOptions other_options = options;
  other_options.tls_dir = other.path;
  REQUIRE(LoadOrCreateServingCertificate(other_options).ok());
  given.key_file = other.path + "/kubelet.key";
  CHECK(LoadOrCreateServingCertificate(given).status().code() == StatusCode::kInvalidArgument);
  given.key_file = "";
  CHECK_FALSE(LoadOrCreateServingCertificate(given).ok());
}

TEST_CASE("the runtime pod lookup goes by the kubelet's labels") {
  auto runtime = runtime::FakeRuntime::Create({});
  REQUIRE(runtime.ok());
  runtime::PodSandboxConfig config;
  config.metadata = {"web", "default", "uid-9", 0};
  config.labels = {{runtime::kPodNameLabel, "web"},
                   {runtime::kPodNamespaceLabel, "default"},
                   {runtime::kPodUidLabel, "uid-9"}};
  auto sandbox = (*runtime)->RunPodSandbox(config);
  REQUIRE(sandbox.ok());
  runtime::ContainerConfig container;
  container.metadata = {"app", 0};
  container.image = "busybox";
  container.labels = {{runtime::kContainerNameLabel, "app"}};
  auto created = (*runtime)->CreateContainer(*sandbox, container, config);
  REQUIRE(created.ok());

  RuntimePodLookup lookup(runtime->get());
  auto pod = lookup.FindPod("default", "web");
  REQUIRE(pod.ok());
  CHECK(pod->uid == "uid-9");
  CHECK(pod->sandbox_id == *sandbox);
  CHECK(lookup.FindPod("other", "web").status().code() == StatusCode::kNotFound);
  // Created but not started: not running yet.
  CHECK(lookup.FindRunningContainer(*pod, "app").status().code() == StatusCode::kNotFound);
  REQUIRE((*runtime)->StartContainer(*created).ok());
  auto id = lookup.FindRunningContainer(*pod, "app");
  REQUIRE(id.ok());
  CHECK(*id == *created);
  CHECK(lookup.FindRunningContainer(*pod, "sidecar").status().code() == StatusCode::kNotFound);
}

class OnePod final : public PodLookup {
 public:
  Result<PodTarget> FindPod(const std::string& ns, const std::string& name) override {
    if (ns == "default" && name == "web") return PodTarget{"uid-1", "sandbox-1"};
    return NotFoundError("pod \"" + name + "\" not found");
  }
  Result<std::string> FindRunningContainer(const PodTarget&, const std::string& c) override {
    if (c == "app") return std::string("cid-app");
    return NotFoundError("container \"" + c + "\" is not running");
  }
};

TEST_CASE("the endpoint over TLS: client certificates decide, upgrades work") {
  auto ca = pki::CreateCaCertificate(std::time(nullptr));
  REQUIRE(ca.ok());
  auto ca_pem = pki::CertificateToPem(ca->cert.get());
  REQUIRE(ca_pem.ok());
  auto issue = [&](const std::string& cn, const std::vector<std::string>& groups) {
    auto client = pki::CreateClientCertificate(*ca, cn, groups, std::time(nullptr));
    REQUIRE(client.ok());
    auto cert = pki::CertificateToPem(client->cert.get());
    auto key = pki::PrivateKeyToPem(client->key.get());
    REQUIRE(cert.ok());
    REQUIRE(key.ok());
    return std::make_pair(*cert, *key);
  };
  auto [api_cert, api_key] = issue("kube-apiserver-kubelet-client", {"system:masters"});
  auto [node_cert, node_key] = issue("system:node:x", {"system:nodes"});

  TempDir dir;
  testing::FakeStreamRuntime runtime;
  OnePod pods;
  AgentServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.data_dir = dir.path;
  options.node_name = "node-a";
  options.client_ca_pem = *ca_pem;
  auto server = AgentServer::Start(options, &runtime, &pods);
  REQUIRE(server.ok());
  int port = (*server)->port();
  REQUIRE(port > 0);
  const std::string& trust = (*server)->serving_cert_pem();

  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto ok = testing::TlsRequest(port, trust, api_cert, api_key, healthz);
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  CHECK(ok->body == "ok\n");
  auto anonymous = testing::TlsRequest(port, trust, "", "", healthz);
  REQUIRE(anonymous.ok());
  CHECK(anonymous->status == 401);
  auto node = testing::TlsRequest(port, trust, node_cert, node_key, healthz);
  REQUIRE(node.ok());
  CHECK(node->status == 403);

  auto exec = testing::TlsRequest(
      port, trust, api_cert, api_key,
      "GET /exec/default/web/app?command=echo&command=over&command=tls&stdout=true "
      "HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
  REQUIRE(exec.ok());
  REQUIRE(exec->status == 101);
  CHECK(exec->head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") !=
        std::string::npos);
  testing::ExecResult result =
      testing::SpeakWebSocketExec(*exec->upgraded, kV5ChannelProtocol, "", false);
  CHECK(result.stdout_data == "over tls\n");
  CHECK(result.status == R"({"metadata":{},"status":"Success"})");
  CHECK(result.closed_normally);
  (*server)->Stop();
}

}  // namespace
}  // namespace kite::agent::server
