// pods/log, exec, attach and portforward through a real API server to a fake node agent: an
// HttpsServer on a loopback port whose handler serves /containerLogs and an upgrade echo,
// reached through a Node whose status points at it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "src/base/mutex.h"
#include "src/server/apiserver/kubelet_client.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/http/https_server.h"
#include "src/server/json/json_util.h"
#include "tests/server/http/raw_tls_client.h"
#include "tests/server/http/test_certs.h"
#include "tests/testing/api_fixture.h"

namespace kite::apiserver {
namespace {

using namespace std::chrono_literals;

const bool kIgnoreSigpipe = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Log lines the test feeds to the fake agent's follow stream.
class LogFeed {
 public:
  void Push(const std::string& text, bool end = false) {
    std::function<void()> wake;
    {
      MutexLock l(mu_);
      data_ += text;
      ended_ = ended_ || end;
      wake = wake_;
    }
    if (wake) wake();
  }
  void SetWake(std::function<void()> wake) {
    MutexLock l(mu_);
    wake_ = std::move(wake);
  }
  bool Take(std::string& out) {
    MutexLock l(mu_);
    out += data_;
    data_.clear();
    return !ended_;
  }
  std::atomic<bool> cancelled{false};

 private:
  Mutex mu_;
  std::string data_ GUARDED_BY(mu_);
  bool ended_ GUARDED_BY(mu_) = false;
  std::function<void()> wake_ GUARDED_BY(mu_);
};

class FeedStream final : public http::ResponseStream {
 public:
  explicit FeedStream(std::shared_ptr<LogFeed> feed) : feed_(std::move(feed)) {}
  void Start(std::function<void()> wake) override { feed_->SetWake(std::move(wake)); }
  bool Poll(std::string& out) override { return feed_->Take(out); }
  void Cancel() override {
    feed_->SetWake(nullptr);
    feed_->cancelled = true;
  }

 private:
  std::shared_ptr<LogFeed> feed_;
};

// The node agent's side: records what reached it and answers as a kubelet would.
class FakeAgent : public http::Handler {
 public:
  struct Seen {
    std::string method, path, query;
    http::HeaderList headers;
    http::PeerIdentity peer;
  };

  http::HandlerResult Handle(http::Request& request) override {
    {
      MutexLock l(mu_);
      seen_.push_back({request.method, request.path, request.query, request.headers, request.peer});
    }
    if (request.path.starts_with("/containerLogs/")) {
      if (request.path.ends_with("/broken")) {
        return http::Response{400, "text/plain", {}, "container \"broken\" is misbehaving\n"};
      }
      if (request.path.ends_with("/gone")) return http::Response{404, "text/plain", {}, "not here"};
      http::StreamingResponse streaming;
      streaming.content_type = "text/plain";
      if (request.query.find("follow=true") != std::string::npos) {
        streaming.stream = std::make_unique<FeedStream>(feed);
      } else {
        auto once = std::make_shared<LogFeed>();
        once->Push("line 1\nline 2\n", true);
        streaming.stream = std::make_unique<FeedStream>(once);
      }
      return streaming;
    }
    if (request.query.find("command=fail") != std::string::npos) {
      return http::Response{400, "text/plain", {}, "the agent refuses"};
    }
    http::UpgradeResponse up;
    up.headers = {{"Connection", "Upgrade"},
                  {"Upgrade", std::string(request.Header("upgrade"))},
                  {"X-Stream-Protocol-Version", "v4.channel.k8s.io"}};
    up.session = [this](http::UpgradedConnection& c) {
      c.Write("hello from the agent\n");
      char buf[4096];
      for (;;) {
        size_t n = c.Read(buf, sizeof buf);
        if (n == 0) break;
        if (!c.Write("echo:" + std::string(buf, n))) break;
      }
      sessions_ended++;
    };
    return up;
  }

  std::vector<Seen> seen() {
    MutexLock l(mu_);
    return seen_;
  }
  Seen last() {
    MutexLock l(mu_);
    REQUIRE(!seen_.empty());
    return seen_.back();
  }

  std::shared_ptr<LogFeed> feed = std::make_shared<LogFeed>();
  std::atomic<int> sessions_ended{0};

 private:
  Mutex mu_;
  std::vector<Seen> seen_ GUARDED_BY(mu_);
};

// A TLS client with the cluster admin's certificate, on one thread, that also decodes a
// chunked body.
class AdminClient {
 public:
  AdminClient(int port, const std::string& tls_dir)
      : tls_(port, {.cert_file = tls_dir + "/client-admin.crt", .key_file = tls_dir + "/client-admin.key"}) {}
  bool connected() const { return tls_.connected(); }
  bool Write(const std::string& data) { return tls_.Write(data); }
  std::string ReadThrough(const std::string& needle) { return tls_.ReadThrough(needle); }
  // The decoded chunked body until `needle` appears in it (or the last chunk).
  std::string ReadChunkedThrough(const std::string& needle) {
    for (;;) {
      if (body_.find(needle) != std::string::npos || body_done_) return body_;
      std::string size_line = ReadThrough("\r\n");
      if (size_line.empty()) return body_;
      size_t size = std::stoul(size_line, nullptr, 16);
      if (size == 0) {
        ReadThrough("\r\n");
        body_done_ = true;
        continue;
      }
      std::string chunk = ReadThrough("\r\n");
      while (chunk.size() < size + 2) {
        std::string more = ReadThrough("\r\n");
        if (more.empty()) return body_;
        chunk += more;
      }
      body_ += chunk.substr(0, size);
    }
  }
  bool body_done() const { return body_done_; }

 private:
  testing::RawTlsClient tls_;
  std::string body_;
  bool body_done_ = false;
};

// A ResponseStream driven as the HTTPS server drives it.
std::string Drain(http::ResponseStream& stream) {
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  stream.Start([&] {
    std::lock_guard<std::mutex> l(mu);
    ++wakes;
    cv.notify_all();
  });
  std::string out;
  int seen = 0;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (stream.Poll(out)) {
    std::unique_lock<std::mutex> l(mu);
    if (!cv.wait_until(l, deadline, [&] { return wakes != seen; })) {
      stream.Cancel();
      FAIL("the stream did not end");
    }
    seen = wakes;
  }
  return out;
}

class Fixture {
 public:
  Fixture() : agent_ca_("fake-agent") {
    http::testing::CertAndKey serving = agent_ca_.IssueServer();
    http::HttpsServerOptions options;
    options.port = 0;
    options.server_cert_pem = serving.cert_pem;
    options.server_key_pem = serving.key_pem;
    // The agent checks the API server's client certificate against the cluster CA.
    options.client_ca_pem = ReadFile(api.tls_dir() + "/server-ca.crt");
    options.network_threads = 1;
    options.handler_threads = 4;
    auto server = http::HttpsServer::Start(options, &agent);
    REQUIRE(server.ok());
    agent_server = std::move(server).value();
    AddNode("node-a", agent_server->port());

    CreatePod("web", "node-a", R"([{"name":"app","image":"busybox"}])");
    SetStatus("web", R"({"phase":"Running","containerStatuses":[{"name":"app","ready":true,"restartCount":0,
      "image":"busybox","imageID":"","containerID":"containerd://abc","state":{"running":{"startedAt":"2024-01-02T03:04:05Z"}}}]})");
  }
  ~Fixture() { agent_server->Stop(); }

  void AddNode(const std::string& name, int port) {
    rapidjson::Document node = api.Create(client::kNodes, "", R"({"metadata":{"name":")" + name + R"("}})");
    auto status = json::ParseJson(R"({"addresses":[{"type":"Hostname","address":"localhost"},
      {"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":)" +
                                  std::to_string(port) + "}}}");
    REQUIRE(status.ok());
    json::SetMember(node, "status", rapidjson::Value(*status, node.GetAllocator()), node.GetAllocator());
    REQUIRE(api.Client(client::kNodes).UpdateStatus(node).ok());
  }

  void CreatePod(const std::string& name, const std::string& node, const std::string& containers,
                 const std::string& init_containers = "") {
    std::string spec = R"({"containers":)" + containers;
    if (!node.empty()) spec += R"(,"nodeName":")" + node + "\"";
    if (!init_containers.empty()) spec += R"(,"initContainers":)" + init_containers;
    spec += "}";
    api.Create(client::kPods, "default", R"({"metadata":{"name":")" + name + R"("},"spec":)" + spec + "}");
  }

  void SetStatus(const std::string& name, const std::string& status_json) {
    auto pod = api.Client(client::kPods).Get("default", name);
    REQUIRE(pod.ok());
    auto status = json::ParseJson(status_json);
    REQUIRE(status.ok());
    json::SetMember(*pod, "status", rapidjson::Value(*status, pod->GetAllocator()), pod->GetAllocator());
    REQUIRE(api.Client(client::kPods).UpdateStatus(*pod).ok());
  }

  // A request straight to the API handler as `user` (an admin by default).
  http::HandlerResult Call(const std::string& method, const std::string& target, const std::string& user = "kite:test-admin",
                           const std::vector<std::string>& groups = {"system:masters"},
                           http::HeaderList headers = {}) {
    http::Request request;
    request.method = method;
    request.target = target;
    size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.headers = std::move(headers);
    request.peer.has_verified_certificate = true;
    request.peer.common_name = user;
    request.peer.organizations = groups;
    return api.handler()->Handle(request);
  }

  static http::HeaderList SpdyHeaders() {
    return {{"connection", "Upgrade"}, {"upgrade", "SPDY/3.1"}, {"x-stream-protocol-version", "v4.channel.k8s.io"}};
  }

  kite::testing::ApiFixture api;
  FakeAgent agent;
  std::unique_ptr<http::HttpsServer> agent_server;

 private:
  http::testing::TestCa agent_ca_;
};

http::Response AsResponse(http::HandlerResult result) {
  auto* r = std::get_if<http::Response>(&result);
  REQUIRE(r != nullptr);
  return *r;
}

// status code and message of an error response
std::pair<int, std::string> Error(http::HandlerResult result) {
  http::Response r = AsResponse(std::move(result));
  auto doc = json::ParseJson(r.body);
  REQUIRE(doc.ok());
  return {r.status, std::string(json::StringMember(*doc, "message"))};
}

const char kLog[] = "/api/v1/namespaces/default/pods/web/log";
const char kExec[] = "/api/v1/namespaces/default/pods/web/exec";

TEST_CASE("pods/log: the agent's body streams back; query and client certificate as a kubelet sees them") {
  Fixture f;
  http::HandlerResult result =
      f.Call("GET", std::string(kLog) + "?timestamps=true&tailLines=5&limitBytes=100&container=app");
  auto* streaming = std::get_if<http::StreamingResponse>(&result);
  REQUIRE(streaming != nullptr);
  CHECK(streaming->status == 200);
  CHECK(streaming->content_type == "text/plain");
  CHECK(Drain(*streaming->stream) == "line 1\nline 2\n");

  FakeAgent::Seen seen = f.agent.last();
  CHECK(seen.method == "GET");
  CHECK(seen.path == "/containerLogs/default/web/app");
  CHECK(seen.query == "limitBytes=100&tailLines=5&timestamps=true");
  CHECK(seen.peer.has_verified_certificate);
  CHECK(seen.peer.common_name == "kube-apiserver-kubelet-client");
  CHECK(seen.peer.organizations == std::vector<std::string>{"system:masters"});

  // The only container is the default; sinceTime goes on to the second.
  result = f.Call("GET", std::string(kLog) + "?sinceTime=2024-01-02T03%3A04%3A05.5Z&previous=false");
  REQUIRE(std::holds_alternative<http::StreamingResponse>(result));
  CHECK(f.agent.last().query == "sinceTime=2024-01-02T03%3A04%3A05Z");
}

TEST_CASE("pods/log?follow over HTTPS: lines arrive as the agent sends them, then the end") {
  Fixture f;
  AdminClient c(f.api.port(), f.api.tls_dir());
  REQUIRE(c.connected());
  REQUIRE(c.Write(std::string("GET ") + kLog + "?follow=true HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string head = c.ReadThrough("\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(head.find("Content-Type: text/plain") != std::string::npos);
  CHECK(head.find("Transfer-Encoding: chunked") != std::string::npos);
  f.agent.feed->Push("first line\n");
  CHECK(c.ReadChunkedThrough("first line\n") == "first line\n");
  std::this_thread::sleep_for(100ms);
  f.agent.feed->Push("second line\n");
  CHECK(c.ReadChunkedThrough("second line\n") == "first line\nsecond line\n");
  CHECK_FALSE(c.body_done());
  f.agent.feed->Push("bye\n", true);
  CHECK(c.ReadChunkedThrough("never") == "first line\nsecond line\nbye\n");
  CHECK(c.body_done());
  CHECK(f.agent.last().query == "follow=true");
}

TEST_CASE("pods/log?follow: a client that goes away cancels the agent's stream") {
  Fixture f;
  {
    AdminClient c(f.api.port(), f.api.tls_dir());
    REQUIRE(c.connected());
    REQUIRE(c.Write(std::string("GET ") + kLog + "?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(!c.ReadThrough("\r\n\r\n").empty());
    f.agent.feed->Push("x\n");
    REQUIRE(c.ReadChunkedThrough("x\n") == "x\n");
  }
  CHECK(kite::testing::Eventually([&] { return f.agent.feed->cancelled.load(); }));
}

TEST_CASE("pods/exec over HTTPS: the agent's 101 comes back and bytes flow both ways") {
  Fixture f;
  auto client = std::make_unique<AdminClient>(f.api.port(), f.api.tls_dir());
  AdminClient& c = *client;
  REQUIRE(c.connected());
  REQUIRE(c.Write(std::string("POST ") + kExec +
                  "?command=sh&command=-c&command=echo+hi%26&stdin=true&stdout=true&tty=false HTTP/1.1\r\n"
                  "Host: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                  "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                  "X-Stream-Protocol-Version: v3.channel.k8s.io\r\nContent-Length: 0\r\n\r\n"));
  std::string head = c.ReadThrough("\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 101", 0) == 0);
  CHECK(head.find("X-Stream-Protocol-Version: v4.channel.k8s.io\r\n") != std::string::npos);
  CHECK(head.find("Upgrade: SPDY/3.1\r\n") != std::string::npos);
  CHECK(c.ReadThrough("agent\n") == "hello from the agent\n");
  REQUIRE(c.Write("ping"));
  CHECK(c.ReadThrough("ping") == "echo:ping");

  FakeAgent::Seen seen = f.agent.last();
  CHECK(seen.method == "POST");
  CHECK(seen.path == "/exec/default/web/app");
  CHECK(seen.query == "command=sh&command=-c&command=echo+hi%26&input=1&output=1&stdin=1&stdout=1");
  int versions = 0;
  for (const auto& [name, value] : seen.headers) {
    if (name == "x-stream-protocol-version") ++versions;
  }
  CHECK(versions == 2);
  CHECK(seen.peer.common_name == "kube-apiserver-kubelet-client");

  // The client leaves: the agent's side is closed too.
  client.reset();
  CHECK(kite::testing::Eventually([&] { return f.agent.sessions_ended == 1; }));
}

TEST_CASE("pods/attach and pods/portforward reach their agent paths; a GET upgrade needs create") {
  Fixture f;
  auto attach = f.Call("GET", "/api/v1/namespaces/default/pods/web/attach?stdin=1&stdout=1&tty=1",
                       "kite:test-admin", {"system:masters"}, Fixture::SpdyHeaders());
  REQUIRE(std::holds_alternative<http::UpgradeResponse>(attach));
  CHECK(f.agent.last().path == "/attach/default/web/app");
  CHECK(f.agent.last().query == "input=1&output=1&stdin=1&stdout=1&tty=1");

  auto forward = f.Call("POST", "/api/v1/namespaces/default/pods/web/portforward?ports=8080&ports=9090",
                        "kite:test-admin", {"system:masters"}, Fixture::SpdyHeaders());
  REQUIRE(std::holds_alternative<http::UpgradeResponse>(forward));
  CHECK(f.agent.last().path == "/portForward/default/web");
  CHECK(f.agent.last().query == "port=8080%2C9090");
  // Comma-separated lists too (the Python client's ?ports=80,8080), as Kubernetes converts them.
  auto listed = f.Call("POST", "/api/v1/namespaces/default/pods/web/portforward?ports=80%2C8080&ports=9090",
                       "kite:test-admin", {"system:masters"}, Fixture::SpdyHeaders());
  REQUIRE(std::holds_alternative<http::UpgradeResponse>(listed));
  CHECK(f.agent.last().query == "port=80%2C8080%2C9090");
  CHECK(Error(f.Call("POST", "/api/v1/namespaces/default/pods/web/portforward?ports=80,http", "kite:test-admin",
                     {"system:masters"}, Fixture::SpdyHeaders())) ==
        std::pair{400, std::string("cannot convert to []int32: strconv.ParseUint: parsing \"http\": invalid syntax")});
  // (The UpgradeResponses are dropped unused: their agent connections close.)
}

TEST_CASE("node proxy errors carry Kubernetes' messages") {
  Fixture f;
  f.CreatePod("multi", "node-a", R"([{"name":"a","image":"busybox"},{"name":"b","image":"busybox"}])",
              R"([{"name":"init","image":"busybox"}])");
  f.CreatePod("waiting", "node-a", R"([{"name":"app","image":"busybox"}])");
  f.SetStatus("waiting", R"({"phase":"Pending","containerStatuses":[{"name":"app","ready":false,"restartCount":0,
      "image":"busybox","imageID":"","state":{"waiting":{"reason":"ContainerCreating"}}}]})");
  f.CreatePod("pending", "", R"([{"name":"app","image":"busybox"}])");
  f.CreatePod("orphan", "ghost", R"([{"name":"app","image":"busybox"}])");
  f.SetStatus("orphan", R"({"phase":"Running","containerStatuses":[{"name":"app","ready":true,"restartCount":0,
      "image":"busybox","imageID":"","state":{"running":{}}}]})");

  const std::string pods = "/api/v1/namespaces/default/pods/";
  CHECK(Error(f.Call("GET", pods + "multi/log")) ==
        std::pair{400, std::string("a container name must be specified for pod multi, choose one of: [init a b]")});
  CHECK(Error(f.Call("GET", pods + "web/log?container=db")) ==
        std::pair{400, std::string("container db is not valid for pod web")});
  CHECK(Error(f.Call("GET", pods + "waiting/log")) ==
        std::pair{400, std::string("container \"app\" in pod \"waiting\" is waiting to start: ContainerCreating")});
  CHECK(Error(f.Call("GET", pods + "web/log?previous=true")) ==
        std::pair{400, std::string("previous terminated container \"app\" in pod \"web\" not found")});
  CHECK(Error(f.Call("GET", pods + "web/log?tailLines=-1")) ==
        std::pair{422, std::string("PodLogOptions \"web\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0")});
  CHECK(Error(f.Call("GET", pods + "web/log?limitBytes=0&sinceSeconds=0")).first == 422);
  CHECK(Error(f.Call("GET", pods + "web/log?tailLines=ten")) ==
        std::pair{400, std::string("strconv.ParseInt: parsing \"ten\": invalid syntax")});
  CHECK(Error(f.Call("GET", pods + "nope/log")) == std::pair{404, std::string("pods \"nope\" not found")});
  CHECK(Error(f.Call("GET", pods + "orphan/log")) == std::pair{404, std::string("nodes \"ghost\" not found")});

  // Not scheduled: an empty log, as Kubernetes answers; exec needs a host.
  http::Response empty = AsResponse(f.Call("GET", pods + "pending/log"));
  CHECK(empty.status == 200);
  CHECK(empty.body.empty());
  CHECK(Error(f.Call("POST", pods + "pending/exec?command=ls&stdout=1", "kite:test-admin", {"system:masters"},
                     Fixture::SpdyHeaders())) ==
        std::pair{400, std::string("pod pending does not have a host assigned")});
  CHECK(Error(f.Call("POST", pods + "multi/exec?command=ls&stdout=1", "kite:test-admin", {"system:masters"},
                     Fixture::SpdyHeaders())) ==
        std::pair{400, std::string("a container name must be specified for pod multi, choose one of: [init a b]")});
  CHECK(Error(f.Call("POST", pods + "web/exec?command=ls&stdout=1")) ==
        std::pair{400, std::string("Upgrade request required")});

  // The agent's own refusals.
  f.CreatePod("sick", "node-a", R"([{"name":"broken","image":"busybox"},{"name":"gone","image":"busybox"}])");
  f.SetStatus("sick", R"({"phase":"Running","containerStatuses":[
      {"name":"broken","ready":true,"restartCount":0,"image":"busybox","imageID":"","state":{"running":{}}},
      {"name":"gone","ready":true,"restartCount":0,"image":"busybox","imageID":"","state":{"running":{}}}]})");
  CHECK(Error(f.Call("GET", pods + "sick/log?container=broken")) ==
        std::pair{400, std::string("container \"broken\" is misbehaving")});
  CHECK(Error(f.Call("GET", pods + "sick/log?container=gone")) ==
        std::pair{404, std::string("the server could not find the requested resource (pods/log sick)")});
  http::Response refused = AsResponse(f.Call("POST", pods + "web/exec?command=fail&stdout=1", "kite:test-admin",
                                             {"system:masters"}, Fixture::SpdyHeaders()));
  CHECK(refused.status == 400);  // relayed as the agent sent it
  CHECK(refused.body == "the agent refuses");

  // An agent that cannot be reached.
  int closed_port = 0;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    closed_port = ntohs(addr.sin_port);
    close(fd);
  }
  f.AddNode("node-dead", closed_port);
  f.CreatePod("stranded", "node-dead", R"([{"name":"app","image":"busybox"}])");
  f.SetStatus("stranded", R"({"phase":"Running","containerStatuses":[{"name":"app","ready":true,"restartCount":0,
      "image":"busybox","imageID":"","state":{"running":{}}}]})");
  auto [code, message] = Error(f.Call("POST", pods + "stranded/exec?command=ls&stdout=1", "kite:test-admin",
                                      {"system:masters"}, Fixture::SpdyHeaders()));
  CHECK(code == 500);
  CHECK(message.rfind("error dialing backend: Post \"https://127.0.0.1:" + std::to_string(closed_port) +
                          "/exec/default/stranded/app?",
                      0) == 0);
  auto [log_code, log_message] = Error(f.Call("GET", pods + "stranded/log"));
  CHECK(log_code == 500);
  CHECK(log_message.find("Get \"https://127.0.0.1:") == 0);
}

TEST_CASE("NodeEndpointOf: InternalIP before Hostname, the kubelet port or 10250") {
  auto endpoint = [](const std::string& status) {
    auto node = json::ParseJson(R"({"metadata":{"name":"n"},"status":)" + status + "}");
    REQUIRE(node.ok());
    return NodeEndpointOf(*node);
  };
  auto both = endpoint(R"({"addresses":[{"type":"Hostname","address":"node-1"},{"type":"ExternalIP","address":"1.2.3.4"},
      {"type":"InternalIP","address":"10.0.0.5"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":12345}}})");
  REQUIRE(both.ok());
  CHECK(both->host == "10.0.0.5");
  CHECK(both->port == 12345);
  auto hostname = endpoint(R"({"addresses":[{"type":"Hostname","address":"node-1"}]})");
  REQUIRE(hostname.ok());
  CHECK(hostname->host == "node-1");
  CHECK(hostname->port == 10250);
  auto none = endpoint(R"({"addresses":[{"type":"ExternalIP","address":"1.2.3.4"}]})");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() == "no preferred addresses found; known addresses: [{ExternalIP 1.2.3.4}]");
}

TEST_CASE("discovery lists the proxied pod subresources") {
  Fixture f;
  http::Response r = AsResponse(f.Call("GET", "/api/v1"));
  REQUIRE(r.status == 200);
  auto doc = json::ParseJson(r.body);
  REQUIRE(doc.ok());
  std::map<std::string, std::vector<std::string>> verbs;
  for (const auto& resource : (*doc)["resources"].GetArray()) {
    std::vector<std::string>& v = verbs[std::string(json::StringMember(resource, "name"))];
    for (const auto& verb : resource["verbs"].GetArray()) v.emplace_back(verb.GetString());
  }
  CHECK(verbs["pods/log"] == std::vector<std::string>{"get"});
  CHECK(verbs["pods/exec"] == std::vector<std::string>{"create", "get"});
  CHECK(verbs["pods/attach"] == std::vector<std::string>{"create", "get"});
  CHECK(verbs["pods/portforward"] == std::vector<std::string>{"create", "get"});
}

TEST_CASE("RBAC: log needs get on pods/log; exec needs create on pods/exec, also for a GET") {
  Fixture f;
  CHECK(Error(f.Call("GET", std::string(kLog), "alice", {})) ==
        std::pair{403, std::string("pods \"web\" is forbidden: User \"alice\" cannot get resource \"pods/log\" in "
                                   "API group \"\" in the namespace \"default\"")});
  CHECK(Error(f.Call("GET", std::string(kExec) + "?command=ls&stdout=1", "alice", {}, Fixture::SpdyHeaders())) ==
        std::pair{403, std::string("pods \"web\" is forbidden: User \"alice\" cannot create resource \"pods/exec\" in "
                                   "API group \"\" in the namespace \"default\"")});

  // Granting get (not create) on pods/exec, and get on pods/log.
  f.api.Create({"rbac.authorization.k8s.io", "v1", "roles", true}, "default",
               R"({"metadata":{"name":"peek"},"rules":[{"apiGroups":[""],"resources":["pods/log","pods/exec"],"verbs":["get"]}]})");
  f.api.Create({"rbac.authorization.k8s.io", "v1", "rolebindings", true}, "default",
               R"({"metadata":{"name":"peek"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"peek"},
                  "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}]})");
  CHECK(kite::testing::Eventually([&] {
    return std::holds_alternative<http::StreamingResponse>(f.Call("GET", std::string(kLog), "alice", {}));
  }));
  CHECK(Error(f.Call("GET", std::string(kExec) + "?command=ls&stdout=1", "alice", {}, Fixture::SpdyHeaders())).first ==
        403);
}

}  // namespace
}  // namespace kite::apiserver
