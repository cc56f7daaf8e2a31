#include <catch2/catch.hpp>

#include "src/agent/pod_status.h"
#include "src/base/clock.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using Kind = ContainerStateView::Kind;

rapidjson::Document Json(std::string_view text) {
  auto d = json::ParseJson(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

std::string Qos(std::string_view containers, std::string_view init = "[]") {
  return QosClass(Json(R"({"spec":{"containers":)" + std::string(containers) + R"(,"initContainers":)" +
                       std::string(init) + "}}"));
}

TEST_CASE("QoS class follows Kubernetes' rule") {
  CHECK(Qos(R"([{"name":"a"}])") == "BestEffort");
  CHECK(Qos(R"([{"name":"a","resources":{"requests":{"cpu":"0"}}}])") == "BestEffort");  // zero counts as absent
  // Limits only: defaulting copies them into requests.
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}])") == "Guaranteed");
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1000m","memory":"1024Mi"}}}])") ==
        "Guaranteed");
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"500m"}}}])") == "Burstable");
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1"}}}])") == "Burstable");
  CHECK(Qos(R"([{"name":"a","resources":{"requests":{"memory":"10Mi"}}}])") == "Burstable");
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"0.5","memory":"1e9"},"requests":{"cpu":"500m","memory":"1G"}}}])") ==
        "Guaranteed");
  // Every container counts, init containers too.
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}},{"name":"b"}])") == "Burstable");
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}])", R"([{"name":"i"}])") == "Burstable");
  // Other resources do not matter; nonsense quantities count as absent.
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi","nvidia.com/gpu":"1"}}}])") == "Guaranteed");
  CHECK(Qos(R"([{"name":"a","resources":{"limits":{"cpu":"lots"}}}])") == "BestEffort");
}

ContainerReport Running(std::string name, bool ready) {
  ContainerReport c;
  c.name = std::move(name);
  c.image = "busybox";
  c.state.kind = Kind::kRunning;
  c.state.started_at = 1'700'000'000'000;
  c.ready = ready;
  c.started = true;
  return c;
}

ContainerReport Exited(std::string name, int code) {
  ContainerReport c;
  c.name = std::move(name);
  c.state.kind = Kind::kTerminated;
  c.state.exit_code = code;
  c.state.reason = code == 0 ? "Completed" : "Error";
  return c;
}

ContainerReport Waiting(std::string name, std::string reason, std::optional<int> last_exit = std::nullopt) {
  ContainerReport c;
  c.name = std::move(name);
  c.state.reason = std::move(reason);
  if (last_exit) {
    c.last_state.emplace();
    c.last_state->kind = Kind::kTerminated;
    c.last_state->exit_code = *last_exit;
  }
  return c;
}

rapidjson::Document Pod(std::string_view policy) {
  return Json(R"({"metadata":{"name":"p","namespace":"default","uid":"u1"},"spec":{"restartPolicy":")" +
              std::string(policy) + R"(","containers":[{"name":"a"},{"name":"b"}]}})");
}

TEST_CASE("pod phase as the kubelet's getPhase computes it") {
  PodReport r;
  auto phase = [&r](std::string_view policy) { return PodPhase(Pod(policy), r); };
  r.containers = {Waiting("a", "ContainerCreating"), Running("b", true)};
  CHECK(phase("Always") == "Pending");
  r.containers = {Running("a", false), Running("b", true)};
  CHECK(phase("Never") == "Running");
  r.containers = {Running("a", true), Exited("b", 1)};
  CHECK(phase("Never") == "Running");
  r.containers = {Exited("a", 0), Exited("b", 0)};
  CHECK(phase("Always") == "Running");
  CHECK(phase("OnFailure") == "Succeeded");
  CHECK(phase("Never") == "Succeeded");
  r.containers = {Exited("a", 0), Exited("b", 2)};
  CHECK(phase("Never") == "Failed");
  CHECK(phase("OnFailure") == "Running");
  r.containers = {Exited("a", 0), Waiting("b", "CrashLoopBackOff", 2)};
  CHECK(phase("Always") == "Running");
  r.terminal = true;  // deleted: whatever the policy, it is over
  r.containers = {Exited("a", 0), Exited("b", 0)};
  CHECK(phase("Always") == "Succeeded");
  r.containers = {Exited("a", 0), Exited("b", 137)};
  CHECK(phase("Always") == "Failed");
  r.terminal = false;

  r.containers = {Waiting("a", "PodInitializing"), Waiting("b", "PodInitializing")};
  r.init_containers = {Running("init", false)};
  CHECK(phase("Always") == "Pending");
  r.init_containers = {Exited("init", 1)};
  CHECK(phase("Never") == "Failed");
  CHECK(phase("Always") == "Pending");
  r.init_containers = {Waiting("init", "CrashLoopBackOff", 1)};
  CHECK(phase("OnFailure") == "Pending");
}

const rapidjson::Value* Condition(const rapidjson::Value& status, std::string_view type) {
  for (const auto& c : json::Member(status, "conditions")->GetArray()) {
    if (json::StringMember(c, "type") == type) return &c;
  }
  return nullptr;
}

TEST_CASE("pod status has the kubelet's shape") {
  PodReport r;
  r.sandbox_ready = true;
  r.pod_ip = "10.42.1.5";
  r.host_ip = "172.16.0.1";
  r.start_time = 1'700'000'000'000;
  ContainerReport a = Running("a", true);
  a.container_id = "fake://abc";
  a.image_id = "sha256:123";
  a.restart_count = 2;
  a.last_state.emplace();
  a.last_state->kind = Kind::kTerminated;
  a.last_state->exit_code = 1;
  a.last_state->reason = "Error";
  a.last_state->started_at = 1'699'999'990'000;
  a.last_state->finished_at = 1'699'999'999'000;
  a.last_state->container_id = "fake://old";
  r.containers = {a, Running("b", false)};
  rapidjson::Document pod = Pod("Always");
  int64_t now = 1'700'000'100'000;
  rapidjson::Document s = PodStatus(pod, r, now);

  CHECK(json::StringMember(s, "phase") == "Running");
  CHECK(json::StringMember(s, "podIP") == "10.42.1.5");
  CHECK(json::ToJson(*json::Member(s, "podIPs")) == R"([{"ip":"10.42.1.5"}])");
  CHECK(json::StringMember(s, "hostIP") == "172.16.0.1");
  CHECK(json::ToJson(*json::Member(s, "hostIPs")) == R"([{"ip":"172.16.0.1"}])");
  CHECK(json::StringMember(s, "startTime") == "2023-11-14T22:13:20Z");
  CHECK(json::StringMember(s, "qosClass") == "BestEffort");
  CHECK(json::Member(s, "initContainerStatuses") == nullptr);

  std::vector<std::string> types;
  for (const auto& c : json::Member(s, "conditions")->GetArray()) types.emplace_back(json::StringMember(c, "type"));
  CHECK(types == std::vector<std::string>{"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"});
  const rapidjson::Value* ready = Condition(s, "Ready");
  CHECK(json::StringMember(*ready, "status") == "False");
  CHECK(json::StringMember(*ready, "reason") == "ContainersNotReady");
  CHECK(json::StringMember(*ready, "message") == "containers with unready status: [b]");
  CHECK(json::Member(*ready, "lastProbeTime")->IsNull());
  CHECK(json::StringMember(*ready, "lastTransitionTime") == FormatRfc3339Seconds(now));
  CHECK(json::StringMember(*Condition(s, "PodScheduled"), "status") == "True");

  const rapidjson::Value& status_a = (*json::Member(s, "containerStatuses"))[0];
  CHECK(json::ToJson(status_a) ==
        R"({"name":"a","state":{"running":{"startedAt":"2023-11-14T22:13:20Z"}},)"
        R"("lastState":{"terminated":{"exitCode":1,"reason":"Error","startedAt":"2023-11-14T22:13:10Z",)"
        R"("finishedAt":"2023-11-14T22:13:19Z","containerID":"fake://old"}},"ready":true,"restartCount":2,)"
        R"("image":"busybox","imageID":"sha256:123","containerID":"fake://abc","started":true})");
  const rapidjson::Value& status_b = (*json::Member(s, "containerStatuses"))[1];
  CHECK(json::ToJson(*json::Member(status_b, "lastState")) == "{}");

  SECTION("a condition keeps its transition time while its status holds, and others stay") {
    rapidjson::Document old = Pod("Always");
    auto& a_ = old.GetAllocator();
    rapidjson::Value status(s, a_);
    rapidjson::Value extra(rapidjson::kObjectType);
    json::SetStringMember(extra, "type", "DisruptionTarget", a_);
    json::SetStringMember(extra, "status", "True", a_);
    json::Member(status, "conditions");
    json::MutableMember(status, "conditions")->PushBack(extra, a_);
    json::SetMember(old, "status", std::move(status), a_);

    r.containers[1].ready = true;
    int64_t later = now + 60'000;
    rapidjson::Document next = PodStatus(old, r, later);
    CHECK(json::StringMember((*json::Member(next, "conditions"))[0], "type") == "DisruptionTarget");
    CHECK(json::StringMember(*Condition(next, "Ready"), "status") == "True");
    CHECK(json::Member(*Condition(next, "Ready"), "reason") == nullptr);
    CHECK(json::StringMember(*Condition(next, "Ready"), "lastTransitionTime") == FormatRfc3339Seconds(later));
    CHECK(json::StringMember(*Condition(next, "PodScheduled"), "lastTransitionTime") == FormatRfc3339Seconds(now));
  }
}

TEST_CASE("pod status of init containers and finished pods") {
  rapidjson::Document pod = Json(
      R"({"metadata":{"name":"p","uid":"u"},"spec":{"restartPolicy":"Never",)"
      R"("initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"a"}]}})");
  PodReport r;
  r.init_containers = {Exited("i1", 0), Running("i2", false)};
  r.containers = {Waiting("a", "PodInitializing")};
  rapidjson::Document s = PodStatus(pod, r, 1'700'000'000'000);
  CHECK(json::StringMember(s, "phase") == "Pending");
  const rapidjson::Value* init = Condition(s, "Initialized");
  CHECK(json::StringMember(*init, "status") == "False");
  CHECK(json::StringMember(*init, "reason") == "ContainersNotInitialized");
  CHECK(json::StringMember(*init, "message") == "containers with incomplete status: [i2]");
  CHECK(json::Member(s, "initContainerStatuses")->Size() == 2);
  CHECK(json::StringMember(*Condition(s, "PodReadyToStartContainers"), "status") == "False");

  r.init_containers = {Exited("i1", 0), Exited("i2", 0)};
  r.containers = {Exited("a", 0)};
  s = PodStatus(pod, r, 1'700'000'000'000);
  CHECK(json::StringMember(s, "phase") == "Succeeded");
  CHECK(json::StringMember(*Condition(s, "Initialized"), "reason") == "PodCompleted");
  CHECK(json::StringMember(*Condition(s, "Ready"), "reason") == "PodCompleted");
  CHECK(json::StringMember(*Condition(s, "ContainersReady"), "status") == "False");

  r.containers = {Exited("a", 1)};
  s = PodStatus(pod, r, 1'700'000'000'000);
  CHECK(json::StringMember(s, "phase") == "Failed");
  CHECK(json::StringMember(*Condition(s, "Ready"), "reason") == "PodFailed");
}

}  // namespace
}  // namespace kite::agent
