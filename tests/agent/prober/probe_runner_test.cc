// Running single probes: HTTP(S) against a loopback server, TCP against open and closed
// loopback ports, exec through the fake runtime.
#include <catch2/catch.hpp>

#include "src/agent/prober/http_get.h"
#include "src/agent/prober/probe_runner.h"
#include "src/runtime/fake_runtime.h"
#include "tests/agent/prober/test_http_server.h"

namespace kite::agent::prober {
namespace {

using namespace std::chrono_literals;
using testing::ClosedPort;
using testing::TestHttpServer;

TEST_CASE("http probe: 2xx succeeds, 5xx fails, with the kubelet's headers") {
  TestHttpServer server;
  ProbeOutcome ok = HttpProbe(server.url("/ok"), {{"X-Custom", "yes"}}, 1000ms);
  CHECK(ok.result == ProbeResult::kSuccess);
  CHECK(ok.output == "fine");
  REQUIRE(server.requests().size() == 1);
  auto headers = server.requests()[0].headers;
  CHECK(headers["user-agent"] == "kube-probe/1.32");
  CHECK(headers["accept"] == "*/*");
  CHECK(headers["x-custom"] == "yes");
  CHECK(headers["connection"] == "close");

  ProbeOutcome bad = HttpProbe(server.url("/fail"), {}, 1000ms);
  CHECK(bad.result == ProbeResult::kFailure);
  CHECK(bad.output == "HTTP probe failed with statuscode: 500");
  CHECK(HttpProbe(server.url("/missing"), {}, 1000ms).result == ProbeResult::kFailure);
}

TEST_CASE("http probe: given User-Agent, Host and an empty Accept replace the defaults") {
  TestHttpServer server;
  REQUIRE(HttpProbe(server.url("/ok"), {{"user-agent", "mine"}, {"Host", "example.test"}, {"Accept", ""}}, 1000ms)
              .result == ProbeResult::kSuccess);
  auto headers = server.requests().at(0).headers;
  CHECK(headers["user-agent"] == "mine");
  CHECK(headers["host"] == "example.test");
  CHECK(headers.count("accept") == 0);
}

TEST_CASE("http probe: a slow answer times out as a failure") {
  TestHttpServer server;
  auto start = std::chrono::steady_clock::now();
  ProbeOutcome slow = HttpProbe(server.url("/slow"), {}, 300ms);
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
  CHECK(slow.result == ProbeResult::kFailure);
  CHECK(slow.output.rfind("Get \"" + server.url("/slow") + "\": ", 0) == 0);
}

TEST_CASE("http probe: nothing listening is a failure") {
  ProbeOutcome refused = HttpProbe("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/", {}, 1000ms);
  CHECK(refused.result == ProbeResult::kFailure);
  CHECK(refused.output.find("Get \"http://127.0.0.1:") == 0);
}

TEST_CASE("http probe: redirects to the same host are followed, to another host are a warning") {
  TestHttpServer server;
  ProbeOutcome same = HttpProbe(server.url("/redirect-same"), {}, 1000ms);
  CHECK(same.result == ProbeResult::kSuccess);
  CHECK(same.output == "fine");
  CHECK(server.requests().back().path == "/ok");

  size_t before = server.requests().size();
  ProbeOutcome other = HttpProbe(server.url("/redirect-other"), {}, 1000ms);
  CHECK(other.result == ProbeResult::kWarning);
  CHECK(other.output == "Probe terminated redirects, Response body: moved");
  CHECK(server.requests().size() == before + 1);  // not followed

  ProbeOutcome loop = HttpProbe(server.url("/loop"), {}, 3000ms);
  CHECK(loop.result == ProbeResult::kFailure);
  CHECK(loop.output.find("stopped after 10 redirects") != std::string::npos);
}

TEST_CASE("http probe: only the first 10 KiB of a body are read") {
  TestHttpServer server;
  ProbeOutcome big = HttpProbe(server.url("/big"), {}, 1000ms);
  CHECK(big.result == ProbeResult::kSuccess);
  CHECK(big.output.size() == 10 * 1024);
}

TEST_CASE("https probe: no certificate verification") {
  TestHttpServer server(/*tls=*/true);
  ProbeOutcome ok = HttpProbe(server.url("/ok"), {}, 2000ms);
  CHECK(ok.result == ProbeResult::kSuccess);
  CHECK(ok.output == "fine");
  CHECK(HttpProbe(server.url("/fail"), {}, 2000ms).result == ProbeResult::kFailure);
}

TEST_CASE("RunProbe builds the URL from the action: pod IP, named port, scheme, path") {
  TestHttpServer server;
  Action action;
  action.kind = ActionKind::kHttpGet;
  action.http.port.name = "web";
  action.http.path = "ok";  // Kubernetes adds the leading slash
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  target.container_name = "app";
  target.named_ports = {{"web", server.port()}};
  CHECK(RunProbe(action, target, 1000ms).result == ProbeResult::kSuccess);
  CHECK(server.requests().back().path == "/ok");

  action.http.port.name = "nope";
  ProbeOutcome unknown = RunProbe(action, target, 1000ms);
  CHECK(unknown.result == ProbeResult::kUnknown);
  CHECK(unknown.output == "couldn't find port: nope in app");

  CHECK(FormatUrl("HTTPS", "fd00::1", 8443, "/x?y=1") == "https://[fd00::1]:8443/x?y=1");
  CHECK(FormatUrl("", "10.0.0.1", 80, "") == "http://10.0.0.1:80");
}

TEST_CASE("tcp probe: an open port succeeds, a closed one fails") {
  TestHttpServer server;
  CHECK(TcpProbe("127.0.0.1", server.port(), 1000ms).result == ProbeResult::kSuccess);
  int closed = ClosedPort();
  ProbeOutcome refused = TcpProbe("127.0.0.1", closed, 1000ms);
  CHECK(refused.result == ProbeResult::kFailure);
  CHECK(refused.output == "dial tcp 127.0.0.1:" + std::to_string(closed) + ": connect: connection refused");

  Action action;
  action.kind = ActionKind::kTcpSocket;
  action.port.number = server.port();
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  CHECK(RunProbe(action, target, 1000ms).result == ProbeResult::kSuccess);
  action.port.number = 70000;
  CHECK(RunProbe(action, target, 1000ms).result == ProbeResult::kUnknown);
}

struct ExecFixture {
  std::unique_ptr<runtime::FakeRuntime> rt;
  std::string container;

  explicit ExecFixture(runtime::Labels annotations = {}) {
    rt = std::move(runtime::FakeRuntime::Create({})).value();
    runtime::PodSandboxConfig sandbox;
    sandbox.metadata = {"p", "ns", "uid", 0};
    sandbox.annotations = std::move(annotations);
    std::string sandbox_id = *rt->RunPodSandbox(sandbox);
    runtime::ContainerConfig config;
    config.metadata = {"app", 0};
    config.image = "busybox";
    container = *rt->CreateContainer(sandbox_id, config, sandbox);
    REQUIRE(rt->StartContainer(container).ok());
  }
};

TEST_CASE("exec probe: exit code 0 succeeds, another fails, a timeout fails") {
  ExecFixture f;
  CHECK(ExecProbe(*f.rt, f.container, {"true"}, 1000ms).result == ProbeResult::kSuccess);
  std::vector<std::string> seen;
  int64_t timeout_seen = 0;
  f.rt->SetExecHandler([&](const runtime::Container& c, const std::vector<std::string>& command, int64_t timeout) {
    CHECK(c.metadata.name == "app");
    seen = command;
    timeout_seen = timeout;
    runtime::ExecSyncResult r;
    r.exit_code = command.back() == "fail" ? 1 : 0;
    r.stdout_data = "out;";
    r.stderr_data = "err";
    return Result<runtime::ExecSyncResult>(r);
  });
  ProbeOutcome failed = ExecProbe(*f.rt, f.container, {"sh", "-c", "fail"}, 2000ms);
  CHECK(failed.result == ProbeResult::kFailure);
  CHECK(failed.output == "out;err");
  CHECK(seen == std::vector<std::string>{"sh", "-c", "fail"});
  CHECK(timeout_seen == 2);

  f.rt->SetExecHandler([](const runtime::Container&, const std::vector<std::string>&, int64_t) {
    return Result<runtime::ExecSyncResult>(UnavailableError("timeout 1s exceeded: context deadline exceeded"));
  });
  ProbeOutcome timed_out = ExecProbe(*f.rt, f.container, {"sleep", "9"}, 1000ms);
  CHECK(timed_out.result == ProbeResult::kFailure);
  CHECK(timed_out.output == R"x(command ["sleep" "9"] timed out)x");

  f.rt->SetExecHandler([](const runtime::Container&, const std::vector<std::string>&, int64_t) {
    return Result<runtime::ExecSyncResult>(UnavailableError("runtime went away"));
  });
  CHECK(ExecProbe(*f.rt, f.container, {"true"}, 1000ms).result == ProbeResult::kUnknown);

  f.rt->SetExecHandler(nullptr);
  REQUIRE(f.rt->StopContainer(f.container, 0).ok());
  CHECK(ExecProbe(*f.rt, f.container, {"true"}, 1000ms).result == ProbeResult::kUnknown);  // not running
}

TEST_CASE("fake runtime: the exec-exit-code annotation answers every exec") {
  ExecFixture f({{runtime::kExecExitCodeAnnotation, "3"}});
  auto r = f.rt->ExecSync(f.container, {"anything"}, 1);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(f.rt->ExecSync("nope", {"x"}, 1).status().code() == StatusCode::kNotFound);
  ExecFixture typo({{runtime::kExecExitCodeAnnotation, "three"}});
  CHECK(typo.rt->ExecSync(typo.container, {"x"}, 1)->exit_code == 0);
}

}  // namespace
}  // namespace kite::agent::prober
