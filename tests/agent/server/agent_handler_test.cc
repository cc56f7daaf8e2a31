// The agent's handler with a stand-in for containerd's streaming server: authorization,
// routes and their errors, exec/attach over WebSocket (v5, v4, base64) and SPDY, and
// port-forward over SPDY and over SPDY-in-WebSocket.
#include "src/agent/server/agent_handler.h"

#include <catch2/catch.hpp>

#include <variant>

#include "src/agent/server/remote_command.h"
#include "tests/agent/server/fake_stream_runtime.h"
#include "tests/agent/server/stream_clients.h"

namespace kite::agent::server {
namespace {

using testing::FakeStreamRuntime;
using testing::MakeRequest;
using testing::SpdyRequest;
using testing::WebSocketRequest;

constexpr char kSuccess[] = R"({"metadata":{},"status":"Success"})";

class FakePods final : public PodLookup {
 public:
  Result<PodTarget> FindPod(const std::string& ns, const std::string& name) override {
    if (ns == "default" && name == "web") return PodTarget{"uid-1", "sandbox-1"};
    return NotFoundError("pod \"" + name + "\" not found in namespace \"" + ns +
                         "\" on this node");
  }
  Result<std::string> FindRunningContainer(const PodTarget& pod,
                                           const std::string& container) override {
    if (pod.sandbox_id == "sandbox-1" && container == "app") return std::string("cid-app");
    return NotFoundError("container \"" + container + "\" is not running in the pod");
  }
};

struct Fixture {
  FakeStreamRuntime runtime;
  FakePods pods;
  AgentHandler handler{&runtime, &pods, AgentHandlerOptions{}};

  http::HandlerResult Handle(http::Request request) { return handler.Handle(request); }
  http::Response Expect(http::Request request, int status) {
    http::HandlerResult result = Handle(std::move(request));
    REQUIRE(std::holds_alternative<http::Response>(result));
    http::Response response = std::get<http::Response>(std::move(result));
    CHECK(response.status == status);
    return response;
  }
  http::UpgradeResponse Upgrade(http::Request request) {
    http::HandlerResult result = Handle(std::move(request));
    if (auto* response = std::get_if<http::Response>(&result)) {
      FAIL("expected an upgrade, got " << response->status << ": " << response->body);
    }
    REQUIRE(std::holds_alternative<http::UpgradeResponse>(result));
    return std::get<http::UpgradeResponse>(std::move(result));
  }
};

std::string HeaderOf(const http::HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

TEST_CASE("only the API server's identity or system:masters may call the agent") {
  Fixture f;
  http::Request anonymous = MakeRequest("GET", "/healthz", "", {});
  anonymous.peer = http::PeerIdentity{};
  f.Expect(anonymous, 401);

  http::Request stranger = MakeRequest("GET", "/healthz", "", {});
  stranger.peer.common_name = "system:node:other";
  stranger.peer.organizations = {"system:nodes"};
  http::Response forbidden = f.Expect(stranger, 403);
  CHECK(forbidden.body.find("system:node:other") != std::string::npos);

  http::Request apiserver = MakeRequest("GET", "/healthz", "", {});
  apiserver.peer.organizations = {};
  CHECK(f.Expect(apiserver, 200).body == "ok\n");

  http::Request admin = MakeRequest("GET", "/healthz", "", {});
  admin.peer.common_name = "system:admin";
  admin.peer.organizations = {"system:masters"};
  f.Expect(admin, 200);
  CHECK(AgentHandler::Authorized(admin.peer));
  CHECK_FALSE(AgentHandler::Authorized(stranger.peer));
}

TEST_CASE("routes answer plain-text errors for what they cannot serve") {
  Fixture f;
  f.Expect(MakeRequest("GET", "/nothing/here", "", {}), 404);
  f.Expect(MakeRequest("POST", "/healthz", "", {}), 405);
  f.Expect(MakeRequest("DELETE", "/exec/default/web/app", "command=ls&stdout=1", {}), 405);
  // No upgrade headers.
  http::Response plain = f.Expect(MakeRequest("POST", "/exec/default/web/app",
                                               "command=ls&stdout=1", {}), 400);
  CHECK(plain.body.find("Upgrade request required") != std::string::npos);
  CHECK(plain.content_type.rfind("text/plain", 0) == 0);
  // No command; no stream at all.
  f.Expect(WebSocketRequest("/exec/default/web/app", "stdout=true"), 400);
  f.Expect(WebSocketRequest("/exec/default/web/app", "command=ls"), 400);
  // Unknown pod, container not running, wrong uid.
  http::Response no_pod = f.Expect(WebSocketRequest("/exec/default/db/app",
                                                    "command=ls&stdout=true"), 404);
  CHECK(no_pod.body.find("pod \"db\" not found") != std::string::npos);
  http::Response no_container = f.Expect(
      WebSocketRequest("/exec/default/web/sidecar", "command=ls&stdout=true"), 404);
  CHECK(no_container.body.find("sidecar") != std::string::npos);
  f.Expect(WebSocketRequest("/exec/default/web/uid-2/app", "command=ls&stdout=true"), 404);
  // Only subprotocols it does not speak; a WebSocket upgrade without a key.
  f.Expect(WebSocketRequest("/exec/default/web/app", "command=ls&stdout=true",
                            "channel.k8s.io"),
           400);
  http::Request keyless = WebSocketRequest("/exec/default/web/app", "command=ls&stdout=true");
  keyless.headers.erase(keyless.headers.begin() + 3);
  f.Expect(keyless, 400);
  // port-forward over WebSocket channels needs ?port= (more in websocket_port_forward_test).
  f.Expect(WebSocketRequest("/portForward/default/web", "", "v4.channel.k8s.io"), 400);
  f.Expect(SpdyRequest("/portForward/default/web", "", "v9.nothing"), 400);
  CHECK(f.runtime.requests().empty());  // none of these reached the runtime
}

TEST_CASE("exec over WebSocket v5: output, then the Status, then a normal close") {
  Fixture f;
  http::UpgradeResponse upgrade = f.Upgrade(
      WebSocketRequest("/exec/default/web/app",
                       "command=echo&command=hi&stdout=true&stderr=true&container=app"));
  CHECK(HeaderOf(upgrade.headers, "Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(HeaderOf(upgrade.headers, "Sec-WebSocket-Protocol") == "v5.channel.k8s.io");
  CHECK(HeaderOf(upgrade.headers, "Upgrade") == "websocket");

  testing::ExecResult result = testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "", false);
  CHECK(result.stdout_data == "hi\n");
  CHECK(result.stderr_data.empty());
  CHECK(result.status == kSuccess);
  CHECK(result.closed_normally);
  REQUIRE(result.channels_seen.size() >= 3);
  CHECK(result.channels_seen.front() == kStdoutChannel);  // the empty opening message
  CHECK(result.channels_seen.back() == kErrorChannel);    // the Status comes last

  auto requests = f.runtime.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].container_id == "cid-app");
  CHECK(requests[0].command == std::vector<std::string>{"echo", "hi"});
  CHECK(requests[0].stdout_open);
  CHECK(requests[0].stderr_open);
  CHECK_FALSE(requests[0].stdin_open);
  CHECK_FALSE(requests[0].tty);
  CHECK(f.runtime.protocols() == std::vector<std::string>{"v4.channel.k8s.io"});
}

TEST_CASE("a non-zero exit code arrives as NonZeroExitCode with the code") {
  Fixture f;
  http::UpgradeResponse upgrade =
      f.Upgrade(WebSocketRequest("/exec/default/web/app",
                                 "command=sh&command=-c&command=exit%203&stdout=1&stderr=1"));
  testing::ExecResult result = testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "", false);
  CHECK(result.status.find(R"("reason":"NonZeroExitCode")") != std::string::npos);
  CHECK(result.status.find(R"({"reason":"ExitCode","message":"3"})") != std::string::npos);
  CHECK(f.runtime.requests().at(0).command ==
        std::vector<std::string>{"sh", "-c", "exit 3"});
}

TEST_CASE("stdin reaches the command and v5's close signal ends it") {
  Fixture f;
  http::UpgradeResponse upgrade = f.Upgrade(WebSocketRequest(
      "/exec/default/web/app", "command=cat&stdin=true&stdout=true&stderr=true"));
  std::string input = "line one\nline two\n" + std::string(200000, 'x');
  testing::ExecResult result = testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, input, true);
  CHECK(result.stdout_data == input);
  CHECK(result.status == kSuccess);
  CHECK(f.runtime.requests().at(0).stdin_open);
}

TEST_CASE("stderr, v4 and base64 clients") {
  Fixture f;
  SECTION("stderr has its own channel") {
    http::UpgradeResponse upgrade = f.Upgrade(WebSocketRequest(
        "/exec/default/web/app", "command=warn&command=careful&stdout=1&stderr=1"));
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "", false);
    CHECK(result.stderr_data == "careful");
    CHECK(result.stdout_data.empty());
  }
  SECTION("v4 is chosen when v5 is not offered") {
    http::UpgradeResponse upgrade = f.Upgrade(
        WebSocketRequest("/exec/default/web/app", "command=echo&command=v4&stdout=1",
                         "v4.channel.k8s.io,channel.k8s.io"));
    CHECK(HeaderOf(upgrade.headers, "Sec-WebSocket-Protocol") == "v4.channel.k8s.io");
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV4ChannelProtocol, "", false);
    CHECK(result.stdout_data == "v4\n");
    CHECK(result.status == kSuccess);
  }
  SECTION("base64 text messages") {
    http::UpgradeResponse upgrade =
        f.Upgrade(WebSocketRequest("/exec/default/web/app", "command=echo&command=b64&stdout=1",
                                   "v4.base64.channel.k8s.io"));
    testing::ExecResult result =
        testing::RunWebSocketExec(upgrade, kV4Base64ChannelProtocol, "", false);
    CHECK(result.stdout_data == "b64\n");
    CHECK(result.status == kSuccess);
  }
}

TEST_CASE("a TTY turns stderr off and attach reaches the runtime's attach") {
  Fixture f;
  http::UpgradeResponse upgrade = f.Upgrade(WebSocketRequest(
      "/attach/default/web/app", "stdin=1&stdout=1&stderr=1&tty=1"));
  testing::ExecResult result = testing::RunWebSocketExec(upgrade, kV5ChannelProtocol, "typed\n", true);
  CHECK(result.stdout_data == "typed\n");
  CHECK(result.status == kSuccess);
  auto requests = f.runtime.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].tty);
  CHECK_FALSE(requests[0].stderr_open);
  CHECK(requests[0].command.empty());
}

TEST_CASE("exec over SPDY (kubectl's fallback) is relayed stream for stream") {
  Fixture f;
  http::UpgradeResponse upgrade = f.Upgrade(SpdyRequest(
      "/exec/default/web/app", "command=cat&stdin=true&stdout=true&stderr=true",
      "v4.channel.k8s.io"));
  CHECK(HeaderOf(upgrade.headers, "X-Stream-Protocol-Version") == "v4.channel.k8s.io");
  CHECK(HeaderOf(upgrade.headers, "Upgrade") == "SPDY/3.1");
  RemoteCommandOptions options;
  options.stdin_open = true;
  std::string input = "through spdy\n";
  testing::ExecResult result = testing::RunSpdyExec(upgrade, options, &input);
  CHECK(result.stdout_data == input);
  CHECK(result.status == kSuccess);
  CHECK(f.runtime.protocols() == std::vector<std::string>{"v4.channel.k8s.io"});
}

TEST_CASE("port-forward relays each connection's streams to the runtime") {
  Fixture f;
  SECTION("plain SPDY upgrade") {
    http::UpgradeResponse upgrade =
        f.Upgrade(SpdyRequest("/portForward/default/web", "", "portforward.k8s.io"));
    CHECK(HeaderOf(upgrade.headers, "X-Stream-Protocol-Version") == "portforward.k8s.io");
    auto results = testing::RunPortForward(upgrade, false, 8080, {"GET / HTTP/1.0\r\n\r\n",
                                                                  "second"});
    REQUIRE(results.size() == 2);
    CHECK(results[0].data == "echo:8080:GET / HTTP/1.0\r\n\r\n");
    CHECK(results[0].error.empty());
    CHECK(results[1].data == "echo:8080:second");
  }
  SECTION("SPDY inside WebSocket") {
    http::UpgradeResponse upgrade = f.Upgrade(
        WebSocketRequest("/portForward/default/web", "", "SPDY/3.1+portforward.k8s.io"));
    CHECK(HeaderOf(upgrade.headers, "Sec-WebSocket-Protocol") == "SPDY/3.1+portforward.k8s.io");
    std::string big(100000, 'p');
    auto results = testing::RunPortForward(upgrade, true, 9090, {big});
    REQUIRE(results.size() == 1);
    CHECK(results[0].data == "echo:9090:" + big);
  }
  auto requests = f.runtime.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].sandbox_id == "sandbox-1");
  CHECK(f.runtime.protocols() == std::vector<std::string>{"portforward.k8s.io"});
}

TEST_CASE("container logs go to the logs handler with the pod's uid") {
  FakeStreamRuntime runtime;
  FakePods pods;
  ContainerLogsRequest seen;
  AgentHandlerOptions options;
  options.container_logs = [&](const ContainerLogsRequest& request) -> http::HandlerResult {
    seen = request;
    return http::Response{200, "text/plain", {}, "log line\n"};
  };
  AgentHandler handler(&runtime, &pods, options);
  http::Request request = MakeRequest("GET", "/containerLogs/default/web/app", "tailLines=5", {});
  http::HandlerResult result = handler.Handle(request);
  REQUIRE(std::holds_alternative<http::Response>(result));
  CHECK(std::get<http::Response>(result).body == "log line\n");
  CHECK(seen.pod_uid == "uid-1");
  CHECK(seen.container == "app");
  CHECK(seen.query == "tailLines=5");
  http::Request missing = MakeRequest("GET", "/containerLogs/default/db/app", "", {});
  http::HandlerResult not_found = handler.Handle(missing);
  REQUIRE(std::holds_alternative<http::Response>(not_found));
  CHECK(std::get<http::Response>(not_found).status == 404);
}

TEST_CASE("a runtime stream URL that cannot be reached is a 500 before any upgrade") {
  class DeadUrlRuntime final : public runtime::Runtime {
   public:
    runtime::VersionInfo Version() const override { return {"dead", "1"}; }
    Result<std::string> PullImage(const std::string&) override { return No(); }
    Result<std::string> RunPodSandbox(const runtime::PodSandboxConfig&) override { return No(); }
    Status StopPodSandbox(const std::string&) override { return No(); }
    Status RemovePodSandbox(const std::string&) override { return No(); }
    Result<runtime::PodSandbox> PodSandboxStatus(const std::string&) override { return No(); }
    Result<std::vector<runtime::PodSandbox>> ListPodSandbox() override { return No(); }
    Result<std::string> CreateContainer(const std::string&, const runtime::ContainerConfig&,
                                        const runtime::PodSandboxConfig&) override {
      return No();
    }
    Status StartContainer(const std::string&) override { return No(); }
    Status StopContainer(const std::string&, int64_t) override { return No(); }
    Status RemoveContainer(const std::string&) override { return No(); }
    Result<runtime::Container> ContainerStatus(const std::string&) override { return No(); }
    Result<std::vector<runtime::Container>> ListContainers(const std::string&) override {
      return No();
    }
    Result<std::string> Exec(const runtime::StreamRequest&) override {
      return std::string("http://127.0.0.1:1/exec/token");
    }

   private:
    static Status No() { return InvalidArgumentError("no"); }
  };
  DeadUrlRuntime runtime;
  FakePods pods;
  AgentHandler handler(&runtime, &pods, AgentHandlerOptions{});
  http::Request request = WebSocketRequest("/exec/default/web/app", "command=ls&stdout=1");
  http::HandlerResult result = handler.Handle(request);
  REQUIRE(std::holds_alternative<http::Response>(result));
  CHECK(std::get<http::Response>(result).status == 500);
  CHECK(std::get<http::Response>(result).body.find("streaming server") != std::string::npos);
  // The fake runtime has no port-forward at all: its error comes back as is.
  http::Request forward = SpdyRequest("/portForward/default/web", "", "portforward.k8s.io");
  http::HandlerResult refused = handler.Handle(forward);
  REQUIRE(std::holds_alternative<http::Response>(refused));
  CHECK(std::get<http::Response>(refused).status == 400);
}

}  // namespace
}  // namespace kite::agent::server
