// Probes wired through the AgentRunner: the runner's ProbeManager probes exec probes on the
// fake runtime and its callback syncs the pod, so the API sees restarts and readiness
// changes without waiting for a resync.
#include <catch2/catch.hpp>

#include <atomic>

#include "src/agent/agent_runner.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::agent {
namespace {

using namespace std::chrono_literals;
using testing::ApiFixture;
using testing::Eventually;

struct Harness {
  ApiFixture api;
  std::unique_ptr<runtime::FakeRuntime> rt;
  std::unique_ptr<AgentRunner> runner;

  Harness() {
    rt = std::move(runtime::FakeRuntime::Create({"10.42.6.0/24", nullptr})).value();
    NodeAgentOptions options;
    options.node.name = "node-p";
    options.node.internal_ip = "172.16.0.6";
    options.node.pod_cidr = "10.42.6.0/24";
    std::vector<std::unique_ptr<NodeAgent>> nodes;
    nodes.push_back(std::make_unique<NodeAgent>(options, api.transport(), rt.get()));
    AgentRunnerOptions runner_options;
    runner_options.tick = 100ms;
    runner_options.resync = 600'000ms;  // changes must come from the probes' callback
    runner = std::make_unique<AgentRunner>(api.transport(), std::move(nodes), runner_options);
    runner->Start();
  }
  ~Harness() { runner->Stop(); }

  // containerStatuses[0].<field> as JSON text.
  std::string Status(std::string_view pod_name, std::string_view field) {
    auto pod = api.Client(client::kPods).Get("default", pod_name);
    if (!pod.ok()) return "";
    const rapidjson::Value* status = json::Member(*pod, "status");
    const rapidjson::Value* list = status ? json::Member(*status, "containerStatuses") : nullptr;
    if (!list || !list->IsArray() || list->Empty()) return "";
    const rapidjson::Value* v = json::Member((*list)[0], field);
    return v ? json::ToJson(*v) : "";
  }
};

TEST_CASE("agent: a failing exec liveness probe restarts the container, seen in the API") {
  Harness h;
  h.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"sick","annotations":{"sim.kite.dev/exec-exit-code":"1"}},)"
               R"("spec":{"nodeName":"node-p","containers":[{"name":"app","image":"busybox",)"
               R"("livenessProbe":{"exec":{"command":["check"]},"periodSeconds":1,"failureThreshold":1}}]}})");
  CHECK(Eventually([&] { return std::atoi(h.Status("sick", "restartCount").c_str()) >= 2; }, 15s));
  INFO(h.Status("sick", "restartCount"));
  CHECK(h.Status("sick", "lastState").find("failed liveness probe, will be restarted") != std::string::npos);
}

TEST_CASE("agent: exec readiness flips the Ready condition both ways") {
  Harness h;
  std::atomic<int> exit_code{1};
  h.rt->SetExecHandler([&](const runtime::Container&, const std::vector<std::string>&, int64_t) {
    runtime::ExecSyncResult r;
    r.exit_code = exit_code.load();
    return Result<runtime::ExecSyncResult>(r);
  });
  h.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"web"},"spec":{"nodeName":"node-p","containers":[{"name":"app","image":"x",)"
               R"("readinessProbe":{"exec":{"command":["ready"]},"periodSeconds":1,"failureThreshold":1}}]}})");
  REQUIRE(Eventually([&] { return h.Status("web", "started") == "true"; }));
  std::this_thread::sleep_for(1500ms);
  CHECK(h.Status("web", "ready") == "false");
  exit_code = 0;
  CHECK(Eventually([&] { return h.Status("web", "ready") == "true"; }, 5s));
  exit_code = 1;
  CHECK(Eventually([&] { return h.Status("web", "ready") == "false"; }, 5s));
}

}  // namespace
}  // namespace kite::agent
