// The Deployment controller (with the ReplicaSet controller) against a real API server; a
// stand-in kubelet marks pods ready.
#include "src/server/controllers/deployment_controller.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "src/server/controllers/deployment_util.h"
#include "tests/server/controllers/workload_testing.h"

namespace kite::controllers {
namespace {

using testing::Eventually;
using namespace workload_testing;

std::string DeploymentJson(std::string_view name, int replicas, std::string_view image,
                           std::string_view strategy = "", std::string_view extra_spec = "") {
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"selector":{"matchLabels":{"app":")" + std::string(name) + R"("}},)" +
         (strategy.empty() ? std::string() : R"("strategy":)" + std::string(strategy) + ",") + std::string(extra_spec) +
         R"("template":{"metadata":{"labels":{"app":")" + std::string(name) +
         R"("}},"spec":{"containers":[{"name":"c","image":")" + std::string(image) + R"("}]}}}})";
}

std::string ImagePatch(std::string_view image) {
  return R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":")" + std::string(image) + R"("}]}}}})";
}

// What `kubectl rollout status` waits for.
bool RolledOut(WorkloadFixture& f, std::string_view name) {
  auto d = f.Get(f.deployments, name);
  int64_t replicas = SpecInt(d, "replicas");
  return StatusInt(d, "observedGeneration") >= GenerationOf(d) && StatusInt(d, "updatedReplicas") == replicas &&
         StatusInt(d, "replicas") == replicas && StatusInt(d, "availableReplicas") == replicas;
}

const rapidjson::Value* FindByName(const std::vector<rapidjson::Document>& objects, std::string_view name) {
  for (const auto& o : objects) {
    if (NameOf(o) == name) return &o;
  }
  return nullptr;
}

std::string HashOfOnlyReplicaSet(WorkloadFixture& f, std::string_view app) {
  auto rss = f.ReplicaSets("app=" + std::string(app));
  REQUIRE(rss.size() == 1);
  return Label(rss[0], "pod-template-hash");
}

TEST_CASE("a Deployment makes a ReplicaSet named by its template hash, whose pods carry the hash") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(50));
  rapidjson::Document d = f.api.Create(client::kDeployments, "default", DeploymentJson("web", 3, "nginx:1"));
  REQUIRE(Eventually([&] { return RolledOut(f, "web"); }));

  auto rss = f.ReplicaSets("app=web");
  REQUIRE(rss.size() == 1);
  const rapidjson::Value& rs = rss[0];
  std::string hash = Label(rs, "pod-template-hash");
  REQUIRE(!hash.empty());
  CHECK(NameOf(rs) == "web-" + hash);
  CHECK(json::StringMember(rs["spec"]["selector"]["matchLabels"], "pod-template-hash") == hash);
  CHECK(json::StringMember(rs["spec"]["template"]["metadata"]["labels"], "pod-template-hash") == hash);
  CHECK(SpecInt(rs, "replicas") == 3);
  CHECK(ControllerOf(rs)->uid == UidOf(d));
  CHECK(Annotation(rs, kRevisionAnnotation) == "1");
  CHECK(Annotation(rs, kDesiredReplicasAnnotation) == "3");
  CHECK(Annotation(rs, kMaxReplicasAnnotation) == "4");  // 25% of 3 rounded up
  for (const auto& pod : f.Pods("app=web")) CHECK(Label(pod, "pod-template-hash") == hash);

  auto got = f.Get(f.deployments, "web");
  CHECK(Annotation(got, kRevisionAnnotation) == "1");
  CHECK(StatusInt(got, "readyReplicas") == 3);
  CHECK(StatusInt(got, "unavailableReplicas") == 0);
  const rapidjson::Value* available = Condition(got, "Available");
  REQUIRE(available);
  CHECK(json::StringMember(*available, "status") == "True");
  CHECK(json::StringMember(*available, "reason") == "MinimumReplicasAvailable");
  CHECK(json::StringMember(*available, "message") == "Deployment has minimum availability.");
  CHECK(Eventually([&] {
    rapidjson::Document progressing_object = f.Get(f.deployments, "web");  // owns what progressing points into
    const rapidjson::Value* progressing = Condition(progressing_object, "Progressing");
    return progressing && json::StringMember(*progressing, "status") == "True" &&
           json::StringMember(*progressing, "reason") == "NewReplicaSetAvailable" &&
           json::StringMember(*progressing, "message") ==
               "ReplicaSet \"web-" + hash + "\" has successfully progressed.";
  }));
}

TEST_CASE("a rolling update keeps within maxSurge and maxUnavailable at every moment") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(150));
  // 5 replicas with the defaults: maxSurge 25% rounds up to 2, maxUnavailable down to 1.
  f.api.Create(client::kDeployments, "default", DeploymentJson("roll", 5, "nginx:1"));
  REQUIRE(Eventually([&] { return RolledOut(f, "roll"); }));
  std::string old_hash = HashOfOnlyReplicaSet(f, "roll");

  PodHistory history(f.pods, "app=roll");
  REQUIRE(f.MergePatch(f.deployments, "roll", ImagePatch("nginx:2")).ok());
  size_t max_total = 0, min_ready = 5;
  std::set<std::string> new_pods_seen;
  auto check = [&](const std::vector<const rapidjson::Value*>& pods) {
    size_t ready = std::count_if(pods.begin(), pods.end(), [](const auto* p) { return IsPodReady(*p); });
    max_total = std::max(max_total, pods.size());
    min_ready = std::min(min_ready, ready);
    for (const auto* p : pods) {
      if (Label(*p, "pod-template-hash") != old_hash) new_pods_seen.insert(std::string(NameOf(*p)));
    }
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    history.Drain(std::chrono::milliseconds(20), check);
    done = RolledOut(f, "roll");
  }
  history.Drain(std::chrono::milliseconds(100), check);  // the events up to "done"
  REQUIRE(done);
  CHECK(max_total <= 7);
  CHECK(min_ready >= 4);
  CHECK(max_total > 5);  // it did surge
  CHECK(new_pods_seen.size() == 5);

  auto rss = f.ReplicaSets("app=roll");
  REQUIRE(rss.size() == 2);
  const rapidjson::Value* old_rs = FindByName(rss, "roll-" + old_hash);
  REQUIRE(old_rs);
  CHECK(SpecInt(*old_rs, "replicas") == 0);
  const rapidjson::Value* new_rs = &rss[0] == old_rs ? &rss[1] : &rss[0];
  CHECK(Annotation(*new_rs, kRevisionAnnotation) == "2");
  CHECK(SpecInt(*new_rs, "replicas") == 5);
  for (const auto& pod : f.Pods("app=roll")) CHECK(Label(pod, "pod-template-hash") == Label(*new_rs, "pod-template-hash"));

  auto d = f.Get(f.deployments, "roll");
  CHECK(Annotation(d, kRevisionAnnotation) == "2");
  CHECK(StatusInt(d, "replicas") == 5);
  CHECK(StatusInt(d, "updatedReplicas") == 5);
  CHECK(StatusInt(d, "readyReplicas") == 5);
  CHECK(StatusInt(d, "availableReplicas") == 5);
  CHECK(StatusInt(d, "unavailableReplicas") == 0);
  CHECK(StatusInt(d, "observedGeneration") == 2);
  CHECK(Eventually([&] {
    rapidjson::Document p_object = f.Get(f.deployments, "roll");  // owns what p points into
    const rapidjson::Value* p = Condition(p_object, "Progressing");
    return p && json::StringMember(*p, "reason") == "NewReplicaSetAvailable" &&
           json::StringMember(*p, "message") == "ReplicaSet \"" + std::string(NameOf(*new_rs)) + "\" has successfully progressed.";
  }));
}

TEST_CASE("Recreate: every old pod is gone before a new one exists") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(50));
  f.api.Create(client::kDeployments, "default", DeploymentJson("rec", 3, "nginx:1", R"({"type":"Recreate"})"));
  REQUIRE(Eventually([&] { return RolledOut(f, "rec"); }));
  std::string old_hash = HashOfOnlyReplicaSet(f, "rec");

  PodHistory history(f.pods, "app=rec");
  REQUIRE(f.MergePatch(f.deployments, "rec", ImagePatch("nginx:2")).ok());
  bool overlap = false, saw_old = false, saw_new = false;
  auto check = [&](const std::vector<const rapidjson::Value*>& pods) {
    size_t old_pods = 0, new_pods = 0;
    for (const auto* p : pods) (Label(*p, "pod-template-hash") == old_hash ? old_pods : new_pods)++;
    overlap |= old_pods > 0 && new_pods > 0;
    saw_old |= old_pods > 0;
    saw_new |= new_pods > 0;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    history.Drain(std::chrono::milliseconds(20), check);
    done = RolledOut(f, "rec") && f.ReplicaSets("app=rec").size() == 2;
  }
  history.Drain(std::chrono::milliseconds(100), check);
  REQUIRE(done);
  CHECK_FALSE(overlap);
  CHECK(saw_old);  // the watch saw both sides of the switch
  CHECK(saw_new);
  for (const auto& pod : f.Pods("app=rec")) CHECK(Label(pod, "pod-template-hash") != old_hash);
  CHECK(f.Pods("app=rec").size() == 3);
}

TEST_CASE("a paused Deployment scales but does not roll out until resumed") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(50));
  f.api.Create(client::kDeployments, "default", DeploymentJson("pause", 2, "nginx:1"));
  REQUIRE(Eventually([&] { return RolledOut(f, "pause"); }));
  std::string old_hash = HashOfOnlyReplicaSet(f, "pause");

  REQUIRE(f.MergePatch(f.deployments, "pause", R"({"spec":{"paused":true}})").ok());
  CHECK(Eventually([&] {
    rapidjson::Document p_object = f.Get(f.deployments, "pause");  // owns what p points into
    const rapidjson::Value* p = Condition(p_object, "Progressing");
    return p && json::StringMember(*p, "status") == "Unknown" && json::StringMember(*p, "reason") == "DeploymentPaused" &&
           json::StringMember(*p, "message") == "Deployment is paused";
  }));
  REQUIRE(f.MergePatch(f.deployments, "pause", ImagePatch("nginx:2")).ok());
  REQUIRE(f.MergePatch(f.deployments, "pause", R"({"spec":{"replicas":4}})").ok());
  // Once the controller has seen the last generation, it has done what it will do.
  REQUIRE(Eventually([&] {
    auto d = f.Get(f.deployments, "pause");
    return StatusInt(d, "observedGeneration") == GenerationOf(d) && StatusInt(d, "availableReplicas") == 4;
  }));
  CHECK(f.ReplicaSets("app=pause").size() == 1);
  CHECK(HashOfOnlyReplicaSet(f, "pause") == old_hash);
  CHECK(SpecInt(f.Get(f.replica_sets, "pause-" + old_hash), "replicas") == 4);

  REQUIRE(f.MergePatch(f.deployments, "pause", R"({"spec":{"paused":false}})").ok());
  CHECK(Eventually([&] { return RolledOut(f, "pause") && f.ReplicaSets("app=pause").size() == 2; }));
  auto pods = f.Pods("app=pause");
  CHECK(pods.size() == 4);
  for (const auto& pod : pods) CHECK(Label(pod, "pod-template-hash") != old_hash);
}

TEST_CASE("rolling back to the first template reuses the first ReplicaSet under a new revision") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(30));
  f.api.Create(client::kDeployments, "default", DeploymentJson("undo", 2, "nginx:1"));
  REQUIRE(Eventually([&] { return RolledOut(f, "undo"); }));
  std::string first = "undo-" + HashOfOnlyReplicaSet(f, "undo");
  REQUIRE(f.MergePatch(f.deployments, "undo", ImagePatch("nginx:2")).ok());
  REQUIRE(Eventually([&] { return RolledOut(f, "undo") && SpecInt(f.Get(f.replica_sets, first), "replicas") == 0; }));

  // What `kubectl rollout undo` does: write revision 1's template back.
  REQUIRE(f.MergePatch(f.deployments, "undo", ImagePatch("nginx:1")).ok());
  REQUIRE(Eventually([&] { return RolledOut(f, "undo") && SpecInt(f.Get(f.replica_sets, first), "replicas") == 2; }));
  CHECK(f.ReplicaSets("app=undo").size() == 2);
  auto rs = f.Get(f.replica_sets, first);
  CHECK(Annotation(rs, kRevisionAnnotation) == "3");
  CHECK(Annotation(rs, kRevisionHistoryAnnotation) == "1");
  CHECK(Eventually([&] { return Annotation(f.Get(f.deployments, "undo"), kRevisionAnnotation) == "3"; }));
  for (const auto& pod : f.Pods("app=undo")) CHECK(ControllerOf(pod)->uid == UidOf(rs));
}

TEST_CASE("revisionHistoryLimit keeps only that many old ReplicaSets") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(30));
  f.api.Create(client::kDeployments, "default", DeploymentJson("hist", 1, "nginx:1", "", R"("revisionHistoryLimit":1,)"));
  REQUIRE(Eventually([&] { return RolledOut(f, "hist"); }));
  std::string first = "hist-" + HashOfOnlyReplicaSet(f, "hist");
  for (std::string image : {"nginx:2", "nginx:3"}) {
    REQUIRE(f.MergePatch(f.deployments, "hist", ImagePatch(image)).ok());
    REQUIRE(Eventually([&] { return RolledOut(f, "hist"); }));
  }
  CHECK(Eventually([&] { return f.ReplicaSets("app=hist").size() == 2; }));
  CHECK(f.replica_sets.Get("default", first).status().code() == StatusCode::kNotFound);
  std::set<std::string> revisions;
  for (const auto& rs : f.ReplicaSets("app=hist")) revisions.insert(Annotation(rs, kRevisionAnnotation));
  CHECK(revisions == std::set<std::string>{"2", "3"});
}

TEST_CASE("scaling in the middle of a rollout is shared in proportion") {
  WorkloadFixture f;
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(10));
  f.api.Create(client::kDeployments, "default",
               DeploymentJson("prop", 10, "nginx:1", R"({"rollingUpdate":{"maxSurge":3,"maxUnavailable":2}})"));
  REQUIRE(Eventually([&] { return RolledOut(f, "prop"); }));
  std::string old_name = "prop-" + HashOfOnlyReplicaSet(f, "prop");
  kubelet.enabled = false;  // new pods never become ready: the rollout stalls
  REQUIRE(f.MergePatch(f.deployments, "prop", ImagePatch("nginx:2")).ok());
  std::string new_name;
  REQUIRE(Eventually([&] {
    for (const auto& rs : f.ReplicaSets("app=prop")) {
      if (NameOf(rs) != old_name) new_name = std::string(NameOf(rs));
    }
    return !new_name.empty() && SpecInt(f.Get(f.replica_sets, old_name), "replicas") == 8 &&
           SpecInt(f.Get(f.replica_sets, new_name), "replicas") == 5;
  }));

  // 10 → 20: 10 more replicas (23 allowed, 13 there), shared 8:5 of the old maximum 13.
  REQUIRE(f.MergePatch(f.deployments, "prop", R"({"spec":{"replicas":20}})").ok());
  CHECK(Eventually([&] {
    return SpecInt(f.Get(f.replica_sets, old_name), "replicas") == 14 &&
           SpecInt(f.Get(f.replica_sets, new_name), "replicas") == 9;
  }));
  for (const std::string& name : {old_name, new_name}) {
    CHECK(Eventually([&] {
      auto rs = f.Get(f.replica_sets, name);
      return Annotation(rs, kDesiredReplicasAnnotation) == "20" && Annotation(rs, kMaxReplicasAnnotation) == "23";
    }));
  }
  kubelet.enabled = true;
  CHECK(Eventually([&] { return RolledOut(f, "prop"); }, std::chrono::seconds(30)));
  CHECK(SpecInt(f.Get(f.replica_sets, new_name), "replicas") == 20);
}

TEST_CASE("no progress within progressDeadlineSeconds is reported, and recovers") {
  WorkloadFixture f;
  f.api.Create(client::kDeployments, "default", DeploymentJson("stuck", 1, "nginx:1", "", R"("progressDeadlineSeconds":1,)"));
  REQUIRE(Eventually([&] { return f.ReplicaSets("app=stuck").size() == 1; }));
  std::string rs_name = "stuck-" + HashOfOnlyReplicaSet(f, "stuck");
  CHECK(Eventually([&] {
    auto d = f.Get(f.deployments, "stuck");
    const rapidjson::Value* p = Condition(d, "Progressing");
    const rapidjson::Value* a = Condition(d, "Available");
    return p && json::StringMember(*p, "status") == "False" &&
           json::StringMember(*p, "reason") == "ProgressDeadlineExceeded" &&
           json::StringMember(*p, "message") ==
               "ReplicaSet \"" + rs_name + "\" has timed out progressing." &&
           a && json::StringMember(*a, "status") == "False" &&
           json::StringMember(*a, "reason") == "MinimumReplicasUnavailable" &&
           json::StringMember(*a, "message") == "Deployment does not have minimum availability.";
  }));
  CHECK(StatusInt(f.Get(f.deployments, "stuck"), "unavailableReplicas") == 1);
  FakeKubelet kubelet(f.pods, std::chrono::milliseconds(10));
  CHECK(Eventually([&] {
    rapidjson::Document p_object = f.Get(f.deployments, "stuck");  // owns what p points into
    const rapidjson::Value* p = Condition(p_object, "Progressing");
    return RolledOut(f, "stuck") && p && json::StringMember(*p, "reason") == "NewReplicaSetAvailable";
  }));
}

}  // namespace
}  // namespace kite::controllers
