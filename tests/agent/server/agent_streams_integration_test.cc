// exec, attach and port-forward through the agent's handler against the real containerd
// (Debian's 1.6), which the test starts itself in a temporary folder (ContainerdProcess)
// with its own bridge and pod CIDR, so it never meets the developer's or another test's
// containerd. A busybox pod runs `httpd -f -p 8080`; the test speaks to the handler as
// kubectl does (WebSocket v5 first, SPDY as the fallback; port-forward over SPDY and over
// SPDY-in-WebSocket) and as the Python client does (port-forward over WebSocket channels),
// and once more over TLS through AgentServer. A containerd that cannot
// start fails the test; nothing is skipped.
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <variant>

#include "src/agent/server/agent_handler.h"
#include "src/agent/server/agent_server.h"
#include "src/agent/server/pod_lookup.h"
#include "src/agent/server/remote_command.h"
#include "src/runtime/containerd/containerd_process.h"
#include "src/runtime/containerd/image_importer.h"
#include "src/runtime/cri/cri_runtime.h"
#include "src/server/pki/certificates.h"
#include "tests/agent/server/channel_forward_client.h"
#include "tests/agent/server/stream_clients.h"
#include "tests/agent/server/tls_client.h"

namespace kite::agent::server {
namespace {

using namespace std::chrono_literals;

constexpr char kSuccess[] = R"({"metadata":{},"status":"Success"})";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The test's folder; on the way out, whatever a failed run left there: processes (shims)
// that mention it, its mounts, the files, and the bridge.
struct TestFolder {
  std::string dir;
  std::string bridge;
  TestFolder() {
    char pattern[] = "/tmp/kas-XXXXXX";  // short: containerd's socket path must fit
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    bridge = "ka" + std::to_string(::getpid() % 10000);
  }
  ~TestFolder() {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (cmdline.find(dir + "/") != std::string::npos) ::kill(std::stoi(name), SIGKILL);
    }
    std::stringstream mounts(ReadFile("/proc/self/mounts"));
    std::vector<std::string> ours;
    std::string device, point, rest;
    while (mounts >> device >> point && std::getline(mounts, rest)) {
      if (point.rfind(dir + "/", 0) == 0) ours.push_back(point);
    }
    std::sort(ours.rbegin(), ours.rend());
    for (const std::string& m : ours) ::umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::string del = "ip link del " + bridge + " >/dev/null 2>&1";
    (void)std::system(del.c_str());
  }
};

template <class T>
T Must(Result<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return std::move(result).value();
}

http::UpgradeResponse MustUpgrade(AgentHandler& handler, http::Request request) {
  http::HandlerResult result = handler.Handle(request);
  if (auto* response = std::get_if<http::Response>(&result)) {
    FAIL("expected an upgrade, got " << response->status << ": " << response->body);
  }
  return std::get<http::UpgradeResponse>(std::move(result));
}

TEST_CASE("exec, attach and port-forward reach a busybox pod in containerd") {
  // One containerd and one pod for every scenario below (starting them is the slow part).
  TestFolder folder;
  containerd::ContainerdOptions options;
  options.dir = folder.dir;
  options.bridge_name = folder.bridge;
  options.pod_cidr = "10.202." + std::to_string(::getpid() % 250) + ".0/24";
  options.start_timeout = 60s;
  options.log = [](const std::string& line) { UNSCOPED_INFO("containerd: " << line); };
  std::unique_ptr<containerd::ContainerdProcess> process =
      Must(containerd::ContainerdProcess::Start(options));
  REQUIRE(containerd::ImportImage(process->socket_path(),
                                  std::string(KITE_IMAGES_DIR) + "/busybox.tar")
              .ok());
  std::unique_ptr<runtime::CriRuntime> cri =
      Must(runtime::CriRuntime::Connect(process->socket_path(), 60s));
  auto deadline = std::chrono::steady_clock::now() + 60s;
  Status ready;
  while (!(ready = cri->Ready()).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  INFO(ready.ToString());
  REQUIRE(ready.ok());

  runtime::PodSandboxConfig sandbox;
  sandbox.metadata = {"web", "default", "uid-streams-1", 0};
  sandbox.hostname = "web";
  sandbox.log_directory = folder.dir + "/pod-logs";
  sandbox.labels = {{runtime::kPodNameLabel, "web"},
                    {runtime::kPodNamespaceLabel, "default"},
                    {runtime::kPodUidLabel, "uid-streams-1"}};
  std::string sandbox_id = Must(cri->RunPodSandbox(sandbox));
  // Removed however the test ends: its network namespace lives outside the folder.
  struct SandboxGuard {
    runtime::CriRuntime* cri;
    std::string id;
    ~SandboxGuard() {
      (void)cri->StopPodSandbox(id);
      (void)cri->RemovePodSandbox(id);
    }
  } sandbox_guard{cri.get(), sandbox_id};
  runtime::ContainerConfig container;
  container.metadata = {"app", 0};
  container.image = "kite.local/busybox:1";
  container.command = {"sh", "-c",
                       "echo hello-from-pod > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"};
  container.log_path = "app/0.log";
  container.labels = {{runtime::kContainerNameLabel, "app"}};
  std::string container_id = Must(cri->CreateContainer(sandbox_id, container, sandbox));
  REQUIRE(cri->StartContainer(container_id).ok());
  // A second container to attach to: cat with its stdin kept open.
  runtime::ContainerConfig echoer;
  echoer.metadata = {"echoer", 0};
  echoer.image = "kite.local/busybox:1";
  echoer.command = {"cat"};
  echoer.log_path = "echoer/0.log";
  echoer.labels = {{runtime::kContainerNameLabel, "echoer"}};
  echoer.stdin_open = true;
  std::string echoer_id = Must(cri->CreateContainer(sandbox_id, echoer, sandbox));
  REQUIRE(cri->StartContainer(echoer_id).ok());

  RuntimePodLookup pods(cri.get());
  AgentHandlerOptions handler_options;
  handler_options.log = [](const std::string& line) { UNSCOPED_INFO("agent: " << line); };
  AgentHandler handler(cri.get(), &pods, handler_options);

  {
    INFO("exec echo hi: stdout and Success");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::WebSocketRequest("/exec/default/web/app",
                                           "command=echo&command=hi&stdout=true&stderr=true"));
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "", false);
    CHECK(result.stdout_data == "hi\n");
    CHECK(result.status == kSuccess);
    CHECK(result.closed_normally);
  }
  {
    INFO("exit 3: NonZeroExitCode with code 3; stderr on its channel");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler,
        testing::WebSocketRequest("/exec/default/web/app",
                                  "command=sh&command=-c&command=echo%20oops%20%3E%262%3B%20"
                                  "exit%203&stdout=true&stderr=true"));
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "", false);
    CHECK(result.stderr_data == "oops\n");
    CHECK(result.status.find(R"("status":"Failure")") != std::string::npos);
    CHECK(result.status.find(R"("reason":"NonZeroExitCode")") != std::string::npos);
    CHECK(result.status.find(R"({"reason":"ExitCode","message":"3"})") != std::string::npos);
  }
  {
    INFO("a TTY: the size sent on the resize channel reaches the terminal");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::WebSocketRequest("/exec/default/web/app",
                                           "command=sh&command=-c&command=sleep%201%3B%20stty%20"
                                           "size&stdin=true&stdout=true&tty=true"));
    testing::ExecResult result = testing::RunWebSocketExec(
        upgrade, kV5ChannelProtocol, "", false, R"({"Width":123,"Height":45})");
    CHECK(result.stdout_data == "45 123\r\n");
    CHECK(result.status == kSuccess);
  }
  {
    INFO("a command that does not exist fails with a Status, not a hang");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::WebSocketRequest("/exec/default/web/app",
                                           "command=no-such-command&stdout=1&stderr=1"));
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "", false);
    CHECK(result.status.find(R"("status":"Failure")") != std::string::npos);
    CHECK(result.closed_normally);
  }
  {
    INFO("stdin piped to cat, ended by v5's close signal");
    std::string input;
    for (int i = 0; i < 2000; ++i) input += "line " + std::to_string(i) + "\n";
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::WebSocketRequest("/exec/default/web/app",
                                           "command=cat&stdin=true&stdout=true&stderr=true"));
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, input, true);
    CHECK(result.stdout_data == input);
    CHECK(result.status == kSuccess);
  }
  {
    INFO("attach: stdin reaches the container's process, its output comes back");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::WebSocketRequest("/attach/default/web/echoer",
                                           "stdin=true&stdout=true&stderr=true"));
    testing::ExecResult result = testing::RunWebSocketAttach(upgrade, "ping\n", "ping\n");
    CHECK(result.stdout_data == "ping\n");
    CHECK(result.closed_normally);
    // Detaching leaves the container running.
    CHECK(Must(cri->ContainerStatus(echoer_id)).state == runtime::ContainerState::kRunning);
  }
  {
    INFO("exec over SPDY (kubectl's fallback), stdin included");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::SpdyRequest("/exec/default/web/app",
                                      "command=sh&command=-c&command=tr%20a-z%20A-Z&stdin=1&"
                                      "stdout=1&stderr=1",
                                      "v4.channel.k8s.io"));
    RemoteCommandOptions command;
    command.stdin_open = true;
    std::string input = "shout\n";
    testing::ExecResult result = testing::RunSpdyExec(upgrade, command, &input);
    CHECK(result.stdout_data == "SHOUT\n");
    CHECK(result.status == kSuccess);
  }
  {
    INFO("port-forward carries GETs to httpd, over SPDY and SPDY-in-WebSocket");
    for (bool tunneled : {false, true}) {
      INFO("tunneled: " << tunneled);
      http::UpgradeResponse upgrade = MustUpgrade(
          handler,
          tunneled ? testing::WebSocketRequest("/portForward/default/web", "",
                                               "SPDY/3.1+portforward.k8s.io")
                   : testing::SpdyRequest("/portForward/default/web", "", "portforward.k8s.io"));
      std::string get = "GET /index.html HTTP/1.0\r\nHost: web\r\n\r\n";
      std::vector<testing::ForwardResult> results =
          testing::RunPortForward(upgrade, tunneled, 8080, {get, get});
      REQUIRE(results.size() == 2);
      for (const testing::ForwardResult& r : results) {
        INFO(r.data);
        CHECK(r.data.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);  // busybox httpd answers 1.1
        CHECK(r.data.find("hello-from-pod") != std::string::npos);
        CHECK(r.error.empty());
      }
    }
  }
  {
    INFO("port-forward to a closed port reports the error on the error stream");
    http::UpgradeResponse upgrade = MustUpgrade(
        handler, testing::SpdyRequest("/portForward/default/web", "", "portforward.k8s.io"));
    std::vector<testing::ForwardResult> results =
        testing::RunPortForward(upgrade, false, 9999, {"GET / HTTP/1.0\r\n\r\n"});
    REQUIRE(results.size() == 1);
    CHECK(results[0].data.empty());
    CHECK(results[0].error.find("9999") != std::string::npos);
  }
  {
    INFO("port-forward over WebSocket channels (the Python client's way), binary and base64");
    for (const char* protocol : {kV4ChannelProtocol, kV4Base64ChannelProtocol}) {
      INFO("subprotocol " << protocol);
      http::UpgradeResponse upgrade = MustUpgrade(
          handler, testing::WebSocketRequest("/portForward/default/web", "ports=8080,9999",
                                             protocol));
      testing::ChannelForwardResult result = testing::RunChannelPortForward(
          upgrade, protocol, 2, {"GET /index.html HTTP/1.0\r\nHost: web\r\n\r\n", ""});
      INFO(result.data[0]);
      CHECK(result.prefixes ==
            std::vector<std::string>{testing::PortPrefix(8080), testing::PortPrefix(8080),
                                     testing::PortPrefix(9999), testing::PortPrefix(9999)});
      CHECK(result.data[0].rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
      CHECK(result.data[0].find("hello-from-pod") != std::string::npos);
      CHECK(result.errors[0].empty());
      CHECK(result.data[1].empty());
      CHECK(result.errors[1].find("9999") != std::string::npos);
      CHECK(result.closed_normally);  // both connections over: the agent closes
    }
  }
  {
    INFO("the whole endpoint over TLS");
    auto ca = pki::CreateCaCertificate(std::time(nullptr));
    REQUIRE(ca.ok());
    std::string ca_pem = Must(pki::CertificateToPem(ca->cert.get()));
    auto client = pki::CreateClientCertificate(*ca, "kube-apiserver-kubelet-client",
                                               {"system:masters"}, std::time(nullptr));
    REQUIRE(client.ok());
    std::string cert_pem = Must(pki::CertificateToPem(client->cert.get()));
    std::string key_pem = Must(pki::PrivateKeyToPem(client->key.get()));
    AgentServerOptions server_options;
    server_options.bind_address = "127.0.0.1";
    server_options.port = 0;
    server_options.data_dir = folder.dir;
    server_options.node_name = "node-streams";
    server_options.client_ca_pem = ca_pem;
    std::unique_ptr<AgentServer> server =
        Must(AgentServer::Start(server_options, cri.get(), &pods));
    auto upgraded = Must(testing::TlsRequest(
        server->port(), server->serving_cert_pem(), cert_pem, key_pem,
        "GET /exec/default/web/app?command=hostname&stdout=true&stderr=true HTTP/1.1\r\n"
        "Host: node\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Protocol: v5.channel.k8s.io,v4.channel.k8s.io\r\n\r\n"));
    REQUIRE(upgraded.status == 101);
    testing::ExecResult result =
        testing::SpeakWebSocketExec(*upgraded.upgraded, kV5ChannelProtocol, "", false);
    CHECK(result.stdout_data == "web\n");
    CHECK(result.status == kSuccess);
    server->Stop();
  }

}

}  // namespace
}  // namespace kite::agent::server
