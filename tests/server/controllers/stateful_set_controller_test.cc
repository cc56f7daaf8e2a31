// The StatefulSet controller against a real API server; the test plays the kubelet (and,
// where claims must be cleaned up, runs the garbage collector too).
#include "src/server/controllers/stateful_set_controller.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "src/server/controllers/controller_revision.h"
#include "src/server/controllers/garbage_collector.h"
#include "tests/server/controllers/workload_testing.h"

namespace kite::controllers {
namespace {

using testing::Eventually;
using namespace workload_testing;
using namespace std::chrono_literals;

// A StatefulSet "web" of `replicas` pods labelled app=web with one claim template "data";
// `extra_spec` (members followed by a comma) is added to its spec.
std::string SetJson(int replicas, std::string_view extra_spec = "", std::string_view image = "nginx:1") {
  return R"({"metadata":{"name":"web"},"spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"serviceName":"web-svc","selector":{"matchLabels":{"app":"web"}},)" + std::string(extra_spec) +
         R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"terminationGracePeriodSeconds":30,)"
         R"("containers":[{"name":"c","image":")" +
         std::string(image) +
         R"("}]}},"volumeClaimTemplates":[{"metadata":{"name":"data","labels":{"tier":"db"}},)"
         R"("spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}})";
}

struct SetFixture {
  testing::ApiFixture api;
  ControllerManager manager{api.transport()};
  client::ResourceClient pods = api.Client(client::kPods);
  client::ResourceClient sets = api.Client(client::kStatefulSets);
  client::ResourceClient revisions = api.Client(client::kControllerRevisions);
  client::ResourceClient claims = api.Client(client::kPersistentVolumeClaims);

  explicit SetFixture(bool with_gc = false) {
    manager.Add(std::make_unique<StatefulSetController>());
    if (with_gc) manager.Add(std::make_unique<GarbageCollector>(BuiltinGcResources()));
    REQUIRE(manager.Start().ok());
  }
  ~SetFixture() { manager.Stop(); }

  std::optional<rapidjson::Document> Get(client::ResourceClient& client, std::string_view name) {
    auto got = client.Get("default", name);
    if (!got.ok()) return std::nullopt;
    return std::move(got).value();
  }
  rapidjson::Document Set() {
    auto s = Get(sets, "web");
    REQUIRE(s);
    return std::move(*s);
  }
  std::vector<rapidjson::Document> List(client::ResourceClient& client, std::string_view selector = "") {
    client::ListOptions options;
    options.label_selector = std::string(selector);
    auto list = client.List("default", options);
    REQUIRE(list.ok());
    std::vector<rapidjson::Document> out;
    for (const rapidjson::Value& item : (*list)["items"].GetArray()) {
      rapidjson::Document d;
      d.CopyFrom(item, d.GetAllocator());
      out.push_back(std::move(d));
    }
    return out;
  }
  std::set<std::string> PodNames() {
    std::set<std::string> names;
    for (const auto& p : List(pods, "app=web")) names.emplace(NameOf(p));
    return names;
  }
  // Marks pod `name` Running and Ready (retrying on conflicts).
  bool Ready(std::string_view name) {
    return Eventually([&] {
      auto p = Get(pods, name);
      return p && MarkReady(pods, *p).ok();
    });
  }
  Status Patch(std::string_view patch, std::string_view subresource = "") {
    auto patched = sets.Patch("default", "web", client::PatchType::kMerge, patch, subresource);
    return patched.ok() ? Status() : patched.status();
  }
  // What `kubectl rollout status sts/web` waits for.
  bool RolloutComplete() {
    auto s = Set();
    int64_t replicas = SpecInt(s, "replicas");
    return GenerationOf(s) <= StatusInt(s, "observedGeneration") && StatusInt(s, "readyReplicas") == replicas &&
           StatusInt(s, "updatedReplicas") == replicas &&
           StatusString(s, "currentRevision") == StatusString(s, "updateRevision");
  }
};

bool IsReadyPod(const rapidjson::Value& pod) {
  return json::StringMember(*json::Member(pod, "status"), "phase") == "Running" && IsPodReady(pod);
}

std::string Image(const rapidjson::Value& pod) {
  return std::string(json::StringMember((*json::Member(pod, "spec"))["containers"][0], "image"));
}

TEST_CASE("pod names parse into their set and ordinal") {
  CHECK(StatefulPodParentAndOrdinal("web-0") == std::pair<std::string, int>("web", 0));
  CHECK(StatefulPodParentAndOrdinal("my-web-12") == std::pair<std::string, int>("my-web", 12));
  CHECK(StatefulPodParentAndOrdinal("web") == std::pair<std::string, int>("", -1));
  CHECK(StatefulPodParentAndOrdinal("web-x1") == std::pair<std::string, int>("", -1));
  CHECK(StatefulPodParentAndOrdinal("web-") == std::pair<std::string, int>("", -1));
  CHECK(StatefulPodParentAndOrdinal("web-99999999999") == std::pair<std::string, int>("web", -1));
}

TEST_CASE("OrderedReady creates each pod only once the ones before it are Ready") {
  SetFixture f;
  PodHistory history(f.pods, "app=web");
  rapidjson::Document set = f.api.Create(client::kStatefulSets, "default", SetJson(3));

  REQUIRE(Eventually([&] { return f.Get(f.pods, "web-0").has_value(); }));
  auto pod = *f.Get(f.pods, "web-0");
  std::optional<OwnerReference> ref = ControllerOf(pod);
  REQUIRE(ref);
  CHECK(ref->kind == "StatefulSet");
  CHECK(ref->uid == UidOf(set));
  CHECK(Label(pod, "statefulset.kubernetes.io/pod-name") == "web-0");
  CHECK(Label(pod, "apps.kubernetes.io/pod-index") == "0");
  CHECK(Label(pod, "app") == "web");
  CHECK_FALSE(Label(pod, "controller-revision-hash").empty());
  const rapidjson::Value& spec = pod["spec"];
  CHECK(json::StringMember(spec, "hostname") == "web-0");
  CHECK(json::StringMember(spec, "subdomain") == "web-svc");
  bool mounted = false;
  for (const auto& v : spec["volumes"].GetArray()) {
    if (json::StringMember(v, "name") == "data") {
      mounted = json::StringMember(v["persistentVolumeClaim"], "claimName") == "data-web-0";
    }
  }
  CHECK(mounted);
  auto claim = f.Get(f.claims, "data-web-0");
  REQUIRE(claim);
  CHECK(Label(*claim, "app") == "web");                                // the selector's labels
  CHECK(Label(*claim, "tier") == "db");                                // the template's own
  CHECK_FALSE(json::Member((*claim)["metadata"], "ownerReferences"));  // Retain: nobody owns it

  // Not Ready: nothing else happens.
  std::this_thread::sleep_for(300ms);
  CHECK(f.PodNames() == std::set<std::string>{"web-0"});

  REQUIRE(f.Ready("web-0"));
  REQUIRE(Eventually([&] { return f.Get(f.pods, "web-1").has_value(); }));
  std::this_thread::sleep_for(200ms);
  CHECK(f.PodNames() == std::set<std::string>{"web-0", "web-1"});
  REQUIRE(f.Ready("web-1"));
  REQUIRE(Eventually([&] { return f.Get(f.pods, "web-2").has_value(); }));
  REQUIRE(f.Ready("web-2"));

  CHECK(Eventually([&] {
    auto s = f.Set();
    return StatusInt(s, "replicas") == 3 && StatusInt(s, "readyReplicas") == 3 &&
           StatusInt(s, "availableReplicas") == 3 && StatusInt(s, "currentReplicas") == 3 &&
           StatusInt(s, "updatedReplicas") == 3 && StatusInt(s, "observedGeneration") == 1 &&
           !StatusString(s, "currentRevision").empty() &&
           StatusString(s, "currentRevision") == StatusString(s, "updateRevision");
  }));
  CHECK(f.RolloutComplete());
  auto s = f.Set();
  CHECK(StatusString(s, "currentRevision") == Label(*f.Get(f.pods, "web-2"), "controller-revision-hash"));
  for (const char* name : {"data-web-0", "data-web-1", "data-web-2"}) CHECK(f.Get(f.claims, name));

  // Every state the pods went through: a pod exists only when all below it are Ready.
  int checks = 0;
  for (int i = 0; i < 20; ++i) {
    history.Drain(30ms, [&](const std::vector<const rapidjson::Value*>& active) {
      ++checks;
      std::map<int, const rapidjson::Value*> by_ordinal;
      for (const auto* p : active) by_ordinal[StatefulPodParentAndOrdinal(NameOf(*p)).second] = p;
      for (const auto& [ordinal, p] : by_ordinal) {
        for (int lower = 0; lower < ordinal; ++lower) {
          INFO("pod " << ordinal << " exists while " << lower << " is missing or not ready");
          REQUIRE(by_ordinal.count(lower));
          REQUIRE(IsReadyPod(*by_ordinal[lower]));
        }
      }
    });
  }
  CHECK(checks > 6);
}

TEST_CASE("scale-down goes from the highest ordinal, waits for termination and keeps the claims") {
  SetFixture f;
  FakeKubelet kubelet(f.pods, 0ms);
  f.api.Create(client::kStatefulSets, "default", SetJson(3));
  REQUIRE(Eventually([&] { return f.RolloutComplete() && StatusInt(f.Set(), "replicas") == 3; }));
  // Bound pods are deleted gracefully: they stay, terminating, until "the kubelet" is done.
  for (const char* name : {"web-0", "web-1", "web-2"}) {
    auto body = json::ParseJson(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")" + std::string(name) +
                                R"("},"target":{"kind":"Node","name":"node-1"}})");
    REQUIRE(f.pods.CreateSubresource("default", name, "binding", *body).ok());
  }

  // Through the scale subresource, as kubectl scale does.
  REQUIRE(f.Patch(R"({"spec":{"replicas":1}})", "scale").ok());
  REQUIRE(Eventually([&] {
    auto p = f.Get(f.pods, "web-2");
    return p && IsBeingDeleted(*p);
  }));
  std::this_thread::sleep_for(300ms);
  auto web1 = f.Get(f.pods, "web-1");
  REQUIRE(web1);
  CHECK_FALSE(IsBeingDeleted(*web1));  // waits for web-2 to be gone

  REQUIRE(f.pods.Delete("default", "web-2", R"({"gracePeriodSeconds":0})").ok());
  REQUIRE(Eventually([&] {
    auto p = f.Get(f.pods, "web-1");
    return p && IsBeingDeleted(*p);
  }));
  REQUIRE(f.pods.Delete("default", "web-1", R"({"gracePeriodSeconds":0})").ok());
  CHECK(Eventually([&] {
    auto s = f.Set();
    return f.PodNames() == std::set<std::string>{"web-0"} && StatusInt(s, "replicas") == 1 &&
           StatusInt(s, "observedGeneration") == 2;
  }));
  auto web0 = f.Get(f.pods, "web-0");
  REQUIRE(web0);
  CHECK_FALSE(IsBeingDeleted(*web0));
  // Retain: the claims outlive their pods.
  for (const char* name : {"data-web-0", "data-web-1", "data-web-2"}) CHECK(f.Get(f.claims, name));

  // Scaling up again reuses the claims.
  REQUIRE(f.Patch(R"({"spec":{"replicas":2}})").ok());
  REQUIRE(Eventually([&] { return f.Get(f.pods, "web-1").has_value(); }));
  CHECK(f.List(f.claims).size() == 3);
}

TEST_CASE("Parallel creates and deletes all at once; lost and failed pods come back with their name") {
  SetFixture f;
  f.api.Create(client::kStatefulSets, "default", SetJson(3, R"("podManagementPolicy":"Parallel",)"));
  // Nobody marks them Ready, and all three come anyway.
  REQUIRE(Eventually([&] { return f.PodNames() == std::set<std::string>{"web-0", "web-1", "web-2"}; }));
  for (const char* name : {"data-web-0", "data-web-1", "data-web-2"}) CHECK(f.Get(f.claims, name));

  std::string uid(UidOf(*f.Get(f.pods, "web-1")));
  REQUIRE(f.pods.Delete("default", "web-1").ok());
  CHECK(Eventually([&] {
    auto p = f.Get(f.pods, "web-1");
    return p && UidOf(*p) != uid && !IsBeingDeleted(*p);
  }));

  auto web2 = f.Get(f.pods, "web-2");
  REQUIRE(web2);
  std::string uid2(UidOf(*web2));
  REQUIRE(SetPhase(f.pods, *web2, "Failed").ok());
  CHECK(Eventually([&] {
    auto p = f.Get(f.pods, "web-2");
    return p && UidOf(*p) != uid2 && StatusString(*p, "phase") != "Failed";
  }));

  REQUIRE(f.Patch(R"({"spec":{"replicas":0}})").ok());
  CHECK(Eventually([&] { return f.PodNames().empty() && StatusInt(f.Set(), "replicas") == 0; }));
  CHECK(f.List(f.claims).size() == 3);
}

TEST_CASE("a rolling update replaces pods from the highest ordinal down and honours the partition") {
  SetFixture f;
  FakeKubelet kubelet(f.pods, 50ms);
  f.api.Create(client::kStatefulSets, "default", SetJson(3));
  REQUIRE(Eventually([&] { return f.RolloutComplete() && StatusInt(f.Set(), "replicas") == 3; }));
  std::string rev1(StatusString(f.Set(), "currentRevision"));

  PodHistory history(f.pods, "app=web");
  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}},)"
                  R"("updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":1}}}})")
              .ok());
  std::string rev2;
  REQUIRE(Eventually(
      [&] {
        auto s = f.Set();
        rev2 = std::string(StatusString(s, "updateRevision"));
        return rev2 != rev1 && StatusInt(s, "updatedReplicas") == 2 && StatusInt(s, "currentReplicas") == 1 &&
               StatusInt(s, "readyReplicas") == 3 && StatusString(s, "currentRevision") == rev1;
      },
      15s));
  CHECK(Label(*f.Get(f.pods, "web-2"), "controller-revision-hash") == rev2);
  CHECK(Image(*f.Get(f.pods, "web-2")) == "nginx:2");
  CHECK(Label(*f.Get(f.pods, "web-1"), "controller-revision-hash") == rev2);
  CHECK(Label(*f.Get(f.pods, "web-0"), "controller-revision-hash") == rev1);  // below the partition
  CHECK(Image(*f.Get(f.pods, "web-0")) == "nginx:1");
  CHECK_FALSE(f.RolloutComplete());

  // One pod at a time, web-2 before web-1.
  std::vector<std::string> update_order;
  for (int i = 0; i < 20; ++i) {
    history.Drain(30ms, [&](const std::vector<const rapidjson::Value*>& active) {
      int healthy = 0;
      for (const auto* p : active) {
        if (IsReadyPod(*p)) ++healthy;
        if (Label(*p, "controller-revision-hash") == rev2 &&
            std::find(update_order.begin(), update_order.end(), std::string(NameOf(*p))) == update_order.end()) {
          update_order.emplace_back(NameOf(*p));
        }
      }
      REQUIRE(healthy >= 2);
    });
  }
  CHECK(update_order == std::vector<std::string>{"web-2", "web-1"});

  // Partition 0 finishes the update: the update revision becomes current.
  REQUIRE(f.Patch(R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}})").ok());
  REQUIRE(Eventually(
      [&] {
        auto s = f.Set();
        return StatusString(s, "currentRevision") == rev2 && StatusInt(s, "currentReplicas") == 3 &&
               StatusInt(s, "updatedReplicas") == 3 && f.RolloutComplete();
      },
      15s));
  CHECK(Image(*f.Get(f.pods, "web-0")) == "nginx:2");

  // The history: two revisions owned by the set, holding the two templates.
  auto revs = f.List(f.revisions);
  REQUIRE(revs.size() == 2);
  std::map<std::string, int64_t> numbers;
  for (const auto& r : revs) {
    numbers[std::string(NameOf(r))] = RevisionNumber(r);
    std::optional<OwnerReference> ref = ControllerOf(r);
    REQUIRE(ref);
    CHECK(ref->kind == "StatefulSet");
    CHECK(ref->name == "web");
    CHECK(Label(r, "app") == "web");
    CHECK(NameOf(r).substr(0, 4) == "web-");
    CHECK(json::StringMember(r["data"]["spec"]["template"], "$patch") == "replace");
    std::string image = Image(r["data"]["spec"]["template"]);
    CHECK(image == (NameOf(r) == rev1 ? "nginx:1" : "nginx:2"));
  }
  CHECK(numbers[rev1] == 1);
  CHECK(numbers[rev2] == 2);

  // Going back to the first template reuses its revision (renumbered) instead of a new one.
  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1"}]}}}})").ok());
  REQUIRE(Eventually(
      [&] {
        auto s = f.Set();
        return StatusString(s, "updateRevision") == rev1 && StatusString(s, "currentRevision") == rev1 &&
               f.RolloutComplete();
      },
      15s));
  revs = f.List(f.revisions);
  CHECK(revs.size() == 2);
  for (const auto& r : revs) CHECK(RevisionNumber(r) == (NameOf(r) == rev1 ? 3 : 2));
  for (const char* name : {"web-0", "web-1", "web-2"}) CHECK(Image(*f.Get(f.pods, name)) == "nginx:1");
}

TEST_CASE("rollingUpdate.maxUnavailable replaces that many pods at once") {
  SetFixture f;
  FakeKubelet kubelet(f.pods, 200ms);
  f.api.Create(client::kStatefulSets, "default",
               SetJson(4, R"("podManagementPolicy":"Parallel",)"
                          R"("updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":2}},)"));
  REQUIRE(Eventually([&] { return f.RolloutComplete() && StatusInt(f.Set(), "replicas") == 4; }));

  PodHistory history(f.pods, "app=web");
  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}}})").ok());
  REQUIRE(Eventually(
      [&] {
        if (!f.RolloutComplete() || StatusInt(f.Set(), "observedGeneration") != 2) return false;
        for (const auto& p : f.List(f.pods, "app=web")) {
          if (Image(p) != "nginx:2") return false;
        }
        return true;
      },
      20s));
  int most_unhealthy = 0;
  for (int i = 0; i < 30; ++i) {
    history.Drain(30ms, [&](const std::vector<const rapidjson::Value*>& active) {
      int healthy = 0;
      for (const auto* p : active) healthy += IsReadyPod(*p) ? 1 : 0;
      most_unhealthy = std::max(most_unhealthy, 4 - healthy);
      REQUIRE(healthy >= 2);
    });
  }
  CHECK(most_unhealthy == 2);  // two at a time, not one
}

TEST_CASE("OnDelete changes a pod's revision only when it is deleted") {
  SetFixture f;
  FakeKubelet kubelet(f.pods, 0ms);
  f.api.Create(client::kStatefulSets, "default", SetJson(2, R"("updateStrategy":{"type":"OnDelete"},)"));
  REQUIRE(Eventually([&] { return f.RolloutComplete() && StatusInt(f.Set(), "replicas") == 2; }));
  std::string uid0(UidOf(*f.Get(f.pods, "web-0")));
  std::string uid1(UidOf(*f.Get(f.pods, "web-1")));

  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}}})").ok());
  REQUIRE(Eventually([&] {
    auto s = f.Set();
    return StatusInt(s, "observedGeneration") == 2 &&
           StatusString(s, "updateRevision") != StatusString(s, "currentRevision");
  }));
  std::this_thread::sleep_for(300ms);
  CHECK(UidOf(*f.Get(f.pods, "web-0")) == uid0);
  CHECK(UidOf(*f.Get(f.pods, "web-1")) == uid1);
  CHECK(StatusInt(f.Set(), "updatedReplicas") == 0);

  REQUIRE(f.pods.Delete("default", "web-0").ok());
  REQUIRE(Eventually([&] {
    auto p = f.Get(f.pods, "web-0");
    return p && UidOf(*p) != uid0 && Image(*p) == "nginx:2";
  }));
  CHECK(Label(*f.Get(f.pods, "web-0"), "controller-revision-hash") == StatusString(f.Set(), "updateRevision"));
  CHECK(UidOf(*f.Get(f.pods, "web-1")) == uid1);
  CHECK(Eventually([&] { return StatusInt(f.Set(), "updatedReplicas") == 1; }));
}

TEST_CASE("retention policy Delete: claims follow the set, and the pods scaled away") {
  SetFixture f(/*with_gc=*/true);
  FakeKubelet kubelet(f.pods, 0ms);
  rapidjson::Document set = f.api.Create(
      client::kStatefulSets, "default",
      SetJson(2, R"("persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete","whenScaled":"Delete"},)"));
  REQUIRE(Eventually([&] { return f.RolloutComplete() && StatusInt(f.Set(), "replicas") == 2; }));
  for (const char* name : {"data-web-0", "data-web-1"}) {
    auto claim = f.Get(f.claims, name);
    REQUIRE(claim);
    std::optional<OwnerReference> ref = ControllerOf(*claim);
    REQUIRE(ref);
    CHECK(ref->kind == "StatefulSet");
    CHECK(ref->uid == UidOf(set));
  }

  REQUIRE(f.Patch(R"({"spec":{"replicas":1}})").ok());
  CHECK(Eventually([&] { return !f.Get(f.claims, "data-web-1") && !f.Get(f.pods, "web-1"); }));
  CHECK(f.Get(f.claims, "data-web-0"));

  REQUIRE(f.sets.Delete("default", "web", R"({"propagationPolicy":"Background"})").ok());
  CHECK(Eventually([&] { return !f.Get(f.claims, "data-web-0") && f.PodNames().empty(); }));
}

TEST_CASE("revisionHistoryLimit bounds the revisions no pod uses") {
  SetFixture f;
  FakeKubelet kubelet(f.pods, 0ms);
  f.api.Create(client::kStatefulSets, "default", SetJson(1, R"("revisionHistoryLimit":1,)"));
  REQUIRE(Eventually([&] { return f.RolloutComplete() && StatusInt(f.Set(), "replicas") == 1; }));
  for (int image = 2; image <= 4; ++image) {
    REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:)" +
                    std::to_string(image) + R"("}]}}}})")
                .ok());
    REQUIRE(Eventually(
        [&] {
          auto p = f.Get(f.pods, "web-0");
          return p && Image(*p) == "nginx:" + std::to_string(image) && f.RolloutComplete() &&
                 StatusInt(f.Set(), "observedGeneration") == image;
        },
        15s));
  }
  CHECK(Eventually([&] {
    std::set<int64_t> numbers;
    for (const auto& r : f.List(f.revisions)) numbers.insert(RevisionNumber(r));
    return numbers == std::set<int64_t>{3, 4};
  }));
}

}  // namespace
}  // namespace kite::controllers
