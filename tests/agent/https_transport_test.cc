// The HTTPS transport against a real API server on a loopback port.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "src/server/apiserver/api_server.h"
#include "src/server/client/https_transport.h"
#include "src/server/client/in_process_transport.h"
#include "src/server/client/informer.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"
#include "src/store/memory_store.h"
#include "tests/testing/api_fixture.h"
#include "tests/testing/temp_dir.h"

namespace kite::client {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

constexpr char kToken[] = "join-token-123";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Server {
  testing::TempDir dir;
  store::MemoryStore store;
  std::unique_ptr<apiserver::ApiServer> server;
  std::unique_ptr<InProcessTransport> admin;

  Server() {
    apiserver::ApiServerOptions options;
    options.server_dir = dir.file("server");
    options.port = 0;
    options.join_token = kToken;
    auto started = apiserver::ApiServer::Start(options, &store);
    REQUIRE(started.ok());
    server = std::move(started).value();
    admin = std::make_unique<InProcessTransport>(server->handler(), "admin", std::vector<std::string>{"system:masters"});
  }
  ~Server() { server->Stop(); }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(server->port()); }
  std::string tls(const char* file) const { return ReadFile(dir.file("server") + "/tls/" + file); }

  std::unique_ptr<HttpsTransport> Connect(HttpsTransportOptions options) {
    if (options.server_url.empty()) options.server_url = url();
    if (options.ca_pem.empty()) options.ca_pem = tls("server-ca.crt");
    auto t = HttpsTransport::Create(std::move(options));
    REQUIRE(t.ok());
    return std::move(t).value();
  }
};

TEST_CASE("https transport: options are checked") {
  std::string pem = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
  CHECK(HttpsTransport::Create({.server_url = "http://h:1", .ca_pem = pem}).status().code() == StatusCode::kInvalidArgument);
  CHECK(HttpsTransport::Create({.server_url = "https://", .ca_pem = pem}).status().code() == StatusCode::kInvalidArgument);
  CHECK(HttpsTransport::Create({.server_url = "https://h:1/api", .ca_pem = pem}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(HttpsTransport::Create({.server_url = "https://h:1", .ca_pem = "junk"}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(HttpsTransport::Create({.server_url = "https://h:1", .ca_pem = pem, .client_cert_pem = pem}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(HttpsTransport::Create({.server_url = "https://h:1/", .ca_pem = pem}).ok());
}

TEST_CASE("https transport: requests with a bearer token or a client certificate") {
  Server s;
  SECTION("the join token acts as a node") {
    auto t = s.Connect({.bearer_token = kToken});
    ResourceClient nodes(t.get(), kNodes);
    auto created = nodes.Create("", *json::ParseJson(R"({"metadata":{"name":"n1"}})"));
    REQUIRE(created.ok());
    CHECK(json::StringMember(*json::Member(*created, "metadata"), "name") == "n1");
    for (int i = 0; i < 5; ++i) {  // several requests over the kept-alive connection
      auto list = nodes.List("");
      REQUIRE(list.ok());
      CHECK(json::Member(*list, "items")->Size() == 1);
    }
    auto patched = nodes.Patch("", "n1", PatchType::kMerge, R"({"metadata":{"labels":{"a":"b"}}})");
    REQUIRE(patched.ok());
    CHECK(json::StringMember(*json::Member(*json::Member(*patched, "metadata"), "labels"), "a") == "b");
    CHECK(nodes.Get("", "missing").status().code() == StatusCode::kNotFound);
    // Node rights do not reach secrets' writes.
    ResourceClient secrets(t.get(), kSecrets);
    auto denied = secrets.Create("default", *json::ParseJson(R"({"metadata":{"name":"s"}})"));
    CHECK_FALSE(denied.ok());
    CHECK(denied.status().message().find("forbidden") != std::string::npos);
    CHECK(nodes.Delete("", "n1").code() == StatusCode::kUnavailable);  // no delete on nodes
  }
  SECTION("a client certificate (the admin's)") {
    auto t = s.Connect({.client_cert_pem = s.tls("client-admin.crt"), .client_key_pem = s.tls("client-admin.key")});
    ResourceClient namespaces(t.get(), kNamespaces);
    auto list = namespaces.List("");
    REQUIRE(list.ok());
    CHECK(json::Member(*list, "items")->Size() >= 4);
    ClientResponse raw = t->Do({.method = "GET", .path = "/version"});
    CHECK(raw.status == 200);
    CHECK(raw.body.find("gitVersion") != std::string::npos);
  }
  SECTION("a wrong token is refused with 401") {
    auto t = s.Connect({.bearer_token = "nope"});
    ClientResponse r = t->Do({.method = "GET", .path = "/api/v1/nodes"});
    CHECK(r.status == 401);
  }
  SECTION("a server the CA did not sign is not trusted") {
    // The admin certificate is a PEM certificate, but not the CA that signed the server.
    auto t = s.Connect({.ca_pem = s.tls("client-admin.crt"), .bearer_token = kToken});
    ClientResponse r = t->Do({.method = "GET", .path = "/api/v1/nodes"});
    CHECK(r.status == 0);
    Status status = StatusFromResponse(r);
    CHECK(status.code() == StatusCode::kUnavailable);
    CHECK(status.message().find(s.url()) != std::string::npos);
    INFO(status.message());
    CHECK(status.message().find("certificate") != std::string::npos);
  }
}

TEST_CASE("https transport: nothing listening is an error, not a crash") {
  std::string pem = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
  auto t = HttpsTransport::Create({.server_url = "https://127.0.0.1:1", .ca_pem = pem});
  REQUIRE(t.ok());
  ClientResponse r = (*t)->Do({.method = "GET", .path = "/version"});
  CHECK(r.status == 0);
  CHECK(StatusFromResponse(r).code() == StatusCode::kUnavailable);
  auto w = (*t)->Watch({.method = "GET", .path = "/api/v1/pods", .query = "watch=true"});
  CHECK(w.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("https transport: watches stream events and stop at once when dropped") {
  Server s;
  auto t = s.Connect({.bearer_token = kToken});
  ResourceClient nodes(t.get(), kNodes);
  ResourceClient admin_nodes(s.admin.get(), kNodes);
  auto list = nodes.List("");
  REQUIRE(list.ok());
  ListOptions options;
  options.resource_version = json::StringMember(*json::Member(*list, "metadata"), "resourceVersion");
  auto reader = nodes.Watch("", options);
  REQUIRE(reader.ok());
  REQUIRE(admin_nodes.Create("", *json::ParseJson(R"({"metadata":{"name":"w1"}})")).ok());
  std::vector<std::string> lines;
  REQUIRE(Eventually([&] {
    auto next = (*reader)->Next(100ms);
    if (next.ok()) lines.insert(lines.end(), next->begin(), next->end());
    return !lines.empty();
  }));
  auto event = json::ParseJson(lines[0]);
  REQUIRE(event.ok());
  CHECK(json::StringMember(*event, "type") == "ADDED");
  CHECK(json::StringMember(*json::Member(*json::Member(*event, "object"), "metadata"), "name") == "w1");
  // Nothing more: Next times out with no lines.
  auto quiet = (*reader)->Next(50ms);
  REQUIRE(quiet.ok());
  CHECK(quiet->empty());

  auto start = std::chrono::steady_clock::now();
  reader->reset();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);

  SECTION("a refused watch is an error with the server's message") {
    ResourceClient deployments(t.get(), kDeployments);
    auto refused = deployments.Watch("", {});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message().find("403") != std::string::npos);
  }
  SECTION("the server's timeout ends the stream") {
    ListOptions short_watch = options;
    short_watch.timeout_seconds = 1;
    auto ending = nodes.Watch("", short_watch);
    REQUIRE(ending.ok());
    bool ended = false;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
      auto next = (*ending)->Next(100ms);
      ended = !next.ok() && next.status().code() == StatusCode::kUnavailable;
    }
    CHECK(ended);
  }
}

TEST_CASE("https transport: an informer lists and watches over it") {
  Server s;
  auto t = s.Connect({.bearer_token = kToken});
  Informer informer(ResourceClient(t.get(), kPods), "", ListOptions{.field_selector = "spec.nodeName=n1"});
  informer.Start();
  REQUIRE(informer.WaitForSync(5s));
  ResourceClient admin_pods(s.admin.get(), kPods);
  REQUIRE(admin_pods.Create("default", *json::ParseJson(
      R"({"metadata":{"name":"a"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}})")).ok());
  REQUIRE(admin_pods.Create("default", *json::ParseJson(
      R"({"metadata":{"name":"b"},"spec":{"nodeName":"n2","containers":[{"name":"c","image":"x"}]}})")).ok());
  CHECK(Eventually([&] { return informer.Get("default/a") != nullptr; }));
  CHECK(informer.Get("default/b") == nullptr);
  auto start = std::chrono::steady_clock::now();
  informer.Stop();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

}  // namespace
}  // namespace kite::client
