// Lifecycle hooks on their own: exec, httpGet (against a loopback server), sleep, invalid.
#include <catch2/catch.hpp>

#include "src/agent/prober/lifecycle_hooks.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/json/json_util.h"
#include "tests/agent/prober/test_http_server.h"

namespace kite::agent::prober {
namespace {

using namespace std::chrono_literals;

HookTarget Target(runtime::Runtime* rt = nullptr, std::string id = "") {
  HookTarget t;
  t.runtime = rt;
  t.container_id = std::move(id);
  t.container_name = "app";
  t.pod_label = "web_default(u1)";
  t.pod_ip = "127.0.0.1";
  return t;
}

Action Parse(std::string_view json) {
  auto doc = json::ParseJson(json);
  REQUIRE(doc.ok());
  return ParseAction(*doc);
}

TEST_CASE("exec hook: exit 0 is fine, another code fails with Kubernetes' message") {
  auto rt = std::move(runtime::FakeRuntime::Create({})).value();
  runtime::PodSandboxConfig sandbox;
  sandbox.metadata = {"web", "default", "u1", 0};
  std::string sb = *rt->RunPodSandbox(sandbox);
  runtime::ContainerConfig config;
  config.metadata = {"app", 0};
  config.image = "busybox";
  std::string id = *rt->CreateContainer(sb, config, sandbox);
  REQUIRE(rt->StartContainer(id).ok());
  Action hook = Parse(R"({"exec":{"command":["sh","-c","exit 3"]}})");
  CHECK(RunHook(hook, Target(rt.get(), id), 10s).ok());
  rt->SetExecHandler([](const runtime::Container&, const std::vector<std::string>&, int64_t) {
    runtime::ExecSyncResult r;
    r.exit_code = 3;
    r.stdout_data = "said \"no\"\n";
    r.stderr_data = "oops";
    return Result<runtime::ExecSyncResult>(r);
  });
  Status s = RunHook(hook, Target(rt.get(), id), 10s);
  CHECK(s.message() ==
        R"x(Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "web_default(u1)" failed - error: )x"
        R"x(command 'sh -c exit 3' exited with 3: oops, message: "said \"no\"\noops")x");
}

TEST_CASE("http hook: any HTTP answer is fine; no answer fails") {
  testing::TestHttpServer server;
  Action ok = Parse(R"({"httpGet":{"path":"/fail","port":)" + std::to_string(server.port()) + "}}");
  CHECK(RunHook(ok, Target(), 2s).ok());  // a 500 is still an answer
  REQUIRE(!server.requests().empty());
  CHECK(server.requests().back().headers["user-agent"] == "kube-lifecycle/1.32");

  Action named = Parse(R"({"httpGet":{"path":"/ok","port":"web"}})");
  HookTarget t = Target();
  t.named_ports = {{"web", server.port()}};
  CHECK(RunHook(named, t, 2s).ok());

  Action refused = Parse(R"({"httpGet":{"path":"/x","port":)" + std::to_string(testing::ClosedPort()) + "}}");
  Status s = RunHook(refused, Target(), 2s);
  CHECK_FALSE(s.ok());
  CHECK(s.message().rfind(R"x(HTTP lifecycle hook (/x) for Container "app" in Pod "web_default(u1)" failed - error: Get ")x",
                          0) == 0);
}

TEST_CASE("sleep hook waits; a timeout first fails it; tcpSocket is not a hook") {
  auto start = std::chrono::steady_clock::now();
  CHECK(RunHook(Parse(R"({"sleep":{"seconds":1}})"), Target(), 5s).ok());
  CHECK(std::chrono::steady_clock::now() - start >= 1s);
  Status cut = RunHook(Parse(R"({"sleep":{"seconds":30}})"), Target(), 100ms);
  CHECK(cut.message() ==
        R"x(Sleep lifecycle hook (30) for Container "app" in Pod "web_default(u1)" failed - error: )x"
        "container terminated before sleep hook finished");
  Status tcp = RunHook(Parse(R"({"tcpSocket":{"port":80}})"), Target(), 1s);
  CHECK(tcp.code() == StatusCode::kInvalidArgument);
  CHECK(tcp.message().rfind("Cannot run handler: invalid handler", 0) == 0);
}

TEST_CASE("pod grace period: default 30, the spec's value otherwise") {
  auto pod = json::ParseJson(R"({"spec":{}})");
  CHECK(PodGracePeriodSeconds(*pod) == 30);
  pod = json::ParseJson(R"({"spec":{"terminationGracePeriodSeconds":0}})");
  CHECK(PodGracePeriodSeconds(*pod) == 0);
  pod = json::ParseJson(R"({"spec":{"terminationGracePeriodSeconds":-4}})");
  CHECK(PodGracePeriodSeconds(*pod) == 0);
}

}  // namespace
}  // namespace kite::agent::prober
