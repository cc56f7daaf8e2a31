// The kubelet's Events from the node agent (fake runtime): image and container lifecycle,
// restart back-off, failed liveness probes, stopping on delete — on the container
// (fieldPath spec.containers{name}), from source kubelet on the node.
#include <catch2/catch.hpp>

#include "src/agent/agent_runner.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::agent {
namespace {

using json::Member;
using json::StringMember;
using rapidjson::Value;
using testing::ApiFixture;
using testing::Eventually;
using namespace std::chrono_literals;

struct Harness {
  ApiFixture api;
  std::unique_ptr<runtime::FakeRuntime> rt;
  std::unique_ptr<AgentRunner> runner;

  explicit Harness(bool record_events = true) {
    auto made = runtime::FakeRuntime::Create({"10.42.5.0/24", nullptr});
    REQUIRE(made.ok());
    rt = std::move(made).value();
    NodeAgentOptions options;
    options.node.name = "node-a";
    options.node.internal_ip = "172.16.0.5";
    options.node.pod_cidr = "10.42.5.0/24";
    std::vector<std::unique_ptr<NodeAgent>> nodes;
    nodes.push_back(std::make_unique<NodeAgent>(options, api.transport(), rt.get()));
    AgentRunnerOptions runner_options;
    runner_options.tick = 100ms;
    runner_options.resync = 500ms;
    runner_options.record_events = record_events;
    runner = std::make_unique<AgentRunner>(api.transport(), std::move(nodes), runner_options);
    runner->Start();
  }
  ~Harness() { runner->Stop(); }

  // "reason|fieldPath|message" of every event about pod `name`.
  std::vector<std::string> EventsOf(std::string_view name) {
    std::vector<std::string> out;
    auto list = api.Client(client::kEvents).List("default");
    REQUIRE(list.ok());
    for (const Value& e : (*list)["items"].GetArray()) {
      const Value& o = *Member(e, "involvedObject");
      if (StringMember(o, "name") != name) continue;
      const Value& source = *Member(e, "source");
      if (StringMember(source, "component") != "kubelet" || StringMember(source, "host") != "node-a") continue;
      out.push_back(std::string(StringMember(e, "reason")) + "|" + std::string(StringMember(o, "fieldPath")) + "|" +
                    std::string(StringMember(e, "message")));
    }
    return out;
  }
  bool Has(std::string_view pod, std::string_view reason, std::string_view message_prefix) {
    for (const std::string& e : EventsOf(pod)) {
      std::string want = std::string(reason) + "|spec.containers{app}|" + std::string(message_prefix);
      if (e.starts_with(want)) return true;
    }
    return false;
  }
};

std::string PodJson(std::string_view name, std::string_view annotations, std::string_view extra_container = "") {
  return R"({"metadata":{"name":")" + std::string(name) + R"(","annotations":)" + std::string(annotations) +
         R"(},"spec":{"nodeName":"node-a","containers":[{"name":"app","image":"busybox")" +
         std::string(extra_container) + "}]}}";
}

TEST_CASE("the agent records the kubelet's events") {
  Harness h;
  h.api.Create(client::kPods, "default", PodJson("web", "{}"));
  CHECK(Eventually([&] { return h.Has("web", "Started", "Started container app"); }));
  CHECK(h.Has("web", "Created", "Created container app"));
  CHECK((h.Has("web", "Pulled", "Container image \"busybox\" already present on machine") ||
         h.Has("web", "Pulled", "Successfully pulled image \"busybox\"")));

  h.api.Create(client::kPods, "default", PodJson("crash", R"({"sim.kite.dev/exit-code":"3"})"));
  CHECK(Eventually([&] { return h.Has("crash", "BackOff", "Back-off restarting failed container app in pod crash_default("); }));

  // An exec liveness probe that fails (the fake runtime's exec exit code).
  h.api.Create(client::kPods, "default",
               PodJson("sick", R"({"sim.kite.dev/exec-exit-code":"1"})",
                       R"(,"livenessProbe":{"exec":{"command":["true"]},"periodSeconds":1,"failureThreshold":1})"));
  CHECK(Eventually([&] { return h.Has("sick", "Unhealthy", "Liveness probe failed"); }));
  CHECK(Eventually([&] { return h.Has("sick", "Killing", "Container app failed liveness probe, will be restarted"); }));

  REQUIRE(h.api.Client(client::kPods).Delete("default", "web").ok());
  CHECK(Eventually([&] { return h.Has("web", "Killing", "Stopping container app"); }));
}

TEST_CASE("without record_events the agent records nothing") {
  Harness h(false);
  h.api.Create(client::kPods, "default", PodJson("quiet", "{}"));
  REQUIRE(Eventually([&] {
    auto pod = h.api.Client(client::kPods).Get("default", "quiet");
    return pod.ok() && StringMember(*Member(*pod, "status"), "phase") == "Running";
  }));
  auto list = h.api.Client(client::kEvents).List("");
  REQUIRE(list.ok());
  CHECK(Member(*list, "items")->Size() == 0);
}

}  // namespace
}  // namespace kite::agent
