// The ReplicaSet controller against a real API server; the test plays the kubelet.
#include "src/server/controllers/replica_set_controller.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/server/controllers/workload_testing.h"

namespace kite::controllers {
namespace {

using testing::Eventually;
using namespace workload_testing;

std::string ReplicaSetJson(std::string_view name, std::string_view app, int replicas, std::string_view extra_spec = "") {
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"selector":{"matchLabels":{"app":")" + std::string(app) + R"("}},)" + std::string(extra_spec) +
         R"("template":{"metadata":{"labels":{"app":")" + std::string(app) +
         R"(","tier":"web"}},"spec":{"terminationGracePeriodSeconds":0,"containers":[{"name":"c","image":"nginx"}]}}}})";
}

bool OwnedBy(const rapidjson::Value& pod, std::string_view uid) {
  std::optional<OwnerReference> ref = ControllerOf(pod);
  return ref && ref->uid == uid && ref->kind == "ReplicaSet" && ref->api_version == "apps/v1";
}

TEST_CASE("a ReplicaSet creates, counts and removes its pods") {
  WorkloadFixture f;
  rapidjson::Document rs = f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("web", "web", 3));
  std::string uid(UidOf(rs));

  REQUIRE(Eventually([&] { return f.Pods("app=web").size() == 3; }));
  for (const auto& pod : f.Pods("app=web")) {
    CHECK(OwnedBy(pod, uid));
    CHECK(NameOf(pod).size() == 9);  // "web-" and five random characters
    CHECK(NameOf(pod).substr(0, 4) == "web-");
    CHECK(json::Member(pod, "metadata")->operator[]("ownerReferences")[0]["blockOwnerDeletion"].GetBool());
  }
  CHECK(Eventually([&] {
    auto got = f.Get(f.replica_sets, "web");
    return StatusInt(got, "replicas") == 3 && StatusInt(got, "fullyLabeledReplicas") == 3 &&
           StatusInt(got, "observedGeneration") == 1 && StatusInt(got, "readyReplicas") == 0;
  }));

  for (const auto& pod : f.Pods("app=web")) REQUIRE(MarkReady(f.pods, pod).ok());
  CHECK(Eventually([&] {
    auto got = f.Get(f.replica_sets, "web");
    return StatusInt(got, "readyReplicas") == 3 && StatusInt(got, "availableReplicas") == 3;
  }));

  REQUIRE(f.MergePatch(f.replica_sets, "web", R"({"spec":{"replicas":1}})").ok());
  CHECK(Eventually([&] {
    auto got = f.Get(f.replica_sets, "web");
    return f.Pods("app=web", true).size() == 1 && StatusInt(got, "replicas") == 1 &&
           StatusInt(got, "observedGeneration") == 2;
  }));

  // A deleted pod is replaced.
  std::string victim(NameOf(f.Pods("app=web")[0]));
  REQUIRE(f.pods.Delete("default", victim).ok());
  CHECK(Eventually([&] {
    auto pods = f.Pods("app=web");
    return pods.size() == 1 && NameOf(pods[0]) != victim;
  }));
}

TEST_CASE("surplus pods go unscheduled first, then pending, then not ready, then ready") {
  WorkloadFixture f;
  f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("rank", "rank", 4));
  REQUIRE(Eventually([&] { return f.Pods("app=rank").size() == 4; }));
  auto pods = f.Pods("app=rank");
  std::string unscheduled(NameOf(pods[0])), pending(NameOf(pods[1])), not_ready(NameOf(pods[2])),
      ready(NameOf(pods[3]));
  auto bind = [&](const std::string& name) {
    auto body = json::ParseJson(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")" + name +
                                R"("},"target":{"kind":"Node","name":"node-1"}})");
    REQUIRE(body.ok());
    REQUIRE(f.pods.CreateSubresource("default", name, "binding", *body).ok());
  };
  bind(pending);
  bind(not_ready);
  bind(ready);
  REQUIRE(SetPhase(f.pods, f.Get(f.pods, pending), "Pending").ok());
  REQUIRE(SetPhase(f.pods, f.Get(f.pods, not_ready), "Running").ok());
  REQUIRE(MarkReady(f.pods, f.Get(f.pods, ready)).ok());
  // Let the controller's cache see the states before each scale-down.
  REQUIRE(Eventually([&] { return StatusInt(f.Get(f.replica_sets, "rank"), "readyReplicas") == 1; }));

  auto names = [&] {
    std::vector<std::string> out;
    for (const auto& p : f.Pods("app=rank", true)) out.emplace_back(NameOf(p));
    std::sort(out.begin(), out.end());
    return out;
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  REQUIRE(f.MergePatch(f.replica_sets, "rank", R"({"spec":{"replicas":3}})").ok());
  CHECK(Eventually([&] { return names() == sorted({pending, not_ready, ready}); }));
  REQUIRE(f.MergePatch(f.replica_sets, "rank", R"({"spec":{"replicas":2}})").ok());
  CHECK(Eventually([&] { return names() == sorted({not_ready, ready}); }));
  REQUIRE(f.MergePatch(f.replica_sets, "rank", R"({"spec":{"replicas":1}})").ok());
  CHECK(Eventually([&] { return names() == std::vector<std::string>{ready}; }));
}

TEST_CASE("among ready pods the most recently ready goes first, then the most restarted") {
  WorkloadFixture f;
  f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("ready", "ready", 3));
  REQUIRE(Eventually([&] { return f.Pods("app=ready").size() == 3; }));
  auto pods = f.Pods("app=ready");
  int64_t now = SystemClock::Get()->NowMillis();
  std::string steady(NameOf(pods[0])), restarted(NameOf(pods[1])), fresh(NameOf(pods[2]));
  REQUIRE(MarkReady(f.pods, pods[0], now - 7'200'000).ok());
  REQUIRE(MarkReady(f.pods, pods[1], now - 7'200'000, 4).ok());
  REQUIRE(MarkReady(f.pods, pods[2], now - 2'000).ok());
  REQUIRE(Eventually([&] { return StatusInt(f.Get(f.replica_sets, "ready"), "readyReplicas") == 3; }));

  auto has = [&](const std::string& name) { return f.pods.Get("default", name).ok(); };
  REQUIRE(f.MergePatch(f.replica_sets, "ready", R"({"spec":{"replicas":2}})").ok());
  CHECK(Eventually([&] { return !has(fresh) && f.Pods("app=ready", true).size() == 2; }));
  REQUIRE(f.MergePatch(f.replica_sets, "ready", R"({"spec":{"replicas":1}})").ok());
  CHECK(Eventually([&] { return !has(restarted) && f.Pods("app=ready", true).size() == 1; }));
  CHECK(has(steady));
}

TEST_CASE("orphans that match are adopted; owned pods that stop matching are released") {
  WorkloadFixture f;
  f.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"stray","labels":{"app":"adopt","tier":"web"}},
                   "spec":{"containers":[{"name":"c","image":"nginx"}]}})");
  rapidjson::Document rs = f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("adopt", "adopt", 2));
  std::string uid(UidOf(rs));
  CHECK(Eventually([&] { return OwnedBy(f.Get(f.pods, "stray"), uid) && f.Pods("app=adopt").size() == 2; }));
  // Adoption stands in for one create: exactly one other pod.
  CHECK(f.Pods("app=adopt").size() == 2);

  REQUIRE(f.MergePatch(f.pods, "stray", R"({"metadata":{"labels":{"app":"gone"}}})").ok());
  CHECK(Eventually([&] {
    auto stray = f.Get(f.pods, "stray");
    return !ControllerOf(stray) && f.Pods("app=adopt").size() == 2;
  }));
  for (const auto& pod : f.Pods("app=adopt")) CHECK(OwnedBy(pod, uid));
}

TEST_CASE("terminal pods are not replicas: a failed pod is replaced and left alone") {
  WorkloadFixture f;
  f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("jobby", "jobby", 2));
  REQUIRE(Eventually([&] { return f.Pods("app=jobby").size() == 2; }));
  std::string failed(NameOf(f.Pods("app=jobby")[0]));
  REQUIRE(SetPhase(f.pods, f.Get(f.pods, failed), "Failed").ok());
  CHECK(Eventually([&] { return f.Pods("app=jobby").size() == 2 && f.Pods("app=jobby", true).size() == 3; }));
  CHECK(f.pods.Get("default", failed).ok());
  CHECK(Eventually([&] { return StatusInt(f.Get(f.replica_sets, "jobby"), "replicas") == 2; }));
}

TEST_CASE("failing creates show as ReplicaFailure until creates work again") {
  WorkloadFixture f;
  f.transport.fail_pod_creates = true;
  f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("quota", "quota", 2));
  CHECK(Eventually([&] {
    rapidjson::Document c_object = f.Get(f.replica_sets, "quota");  // owns what c points into
    const rapidjson::Value* c = Condition(c_object, "ReplicaFailure");
    return c && json::StringMember(*c, "status") == "True" && json::StringMember(*c, "reason") == "FailedCreate" &&
           json::StringMember(*c, "message").find("exceeded quota") != std::string_view::npos;
  }));
  CHECK(f.Pods("app=quota").empty());
  f.transport.fail_pod_creates = false;
  // The retry back-off may have grown; allow it time.
  CHECK(Eventually([&] {
    auto rs = f.Get(f.replica_sets, "quota");
    return f.Pods("app=quota").size() == 2 && !Condition(rs, "ReplicaFailure");
  }, std::chrono::seconds(20)));
}

TEST_CASE("minReadySeconds: ready pods become available only after it") {
  WorkloadFixture f;
  f.api.Create(client::kReplicaSets, "default", ReplicaSetJson("slow", "slow", 1, R"("minReadySeconds":2,)"));
  REQUIRE(Eventually([&] { return f.Pods("app=slow").size() == 1; }));
  REQUIRE(MarkReady(f.pods, f.Pods("app=slow")[0]).ok());
  REQUIRE(Eventually([&] { return StatusInt(f.Get(f.replica_sets, "slow"), "readyReplicas") == 1; }));
  CHECK(StatusInt(f.Get(f.replica_sets, "slow"), "availableReplicas") == 0);
  CHECK(Eventually([&] { return StatusInt(f.Get(f.replica_sets, "slow"), "availableReplicas") == 1; }));
}

}  // namespace
}  // namespace kite::controllers
