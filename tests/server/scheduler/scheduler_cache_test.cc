// SchedulerCache's snapshots: the lists of nodes holding pods with affinity terms follow pods
// as they are placed, moved and removed, and a cycle over the cache still sees existing
// pods' anti-affinity on the nodes it indexes.
#include <catch2/catch.hpp>

#include "src/server/scheduler/scheduler_cache.h"
#include "src/server/scheduler/scheduling_profile.h"
#include "tests/server/scheduler/test_objects.h"

namespace kite::scheduler {
namespace {

using testing::NodeJson;
using testing::Object;
using testing::Pod;
using testing::PodJson;

std::string AntiAffinityTo(std::string_view app) {
  return std::string(R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[)"
                     R"({"labelSelector":{"matchLabels":{"app":")") +
         std::string(app) + R"("}},"topologyKey":"kubernetes.io/hostname"}]}})";
}

std::string PreferredAffinityTo(std::string_view app) {
  return std::string(R"(,"affinity":{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[)"
                     R"({"weight":10,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":")") +
         std::string(app) + R"("}},"topologyKey":"kubernetes.io/hostname"}}]}})";
}

PodInfoPtr On(const std::string& node, const std::string& json) { return Pod(json)->OnNode(node); }

// The names in the snapshot's two lists, as "with_affinity|with_required_anti_affinity".
std::string Lists(SchedulerCache& cache) {
  std::string out;
  cache.WithSnapshot({}, [&](const Snapshot& s) {
    REQUIRE(s.with_affinity);
    REQUIRE(s.with_required_anti_affinity);
    for (const NodeInfo* n : s.NodesWithAffinity()) out += n->name() + ",";
    out += "|";
    for (const NodeInfo* n : s.NodesWithRequiredAntiAffinity()) out += n->name() + ",";
    return PodInfoPtr();
  });
  return out;
}

TEST_CASE("the cache's snapshot lists the nodes holding pods with affinity terms") {
  SchedulerCache cache;
  for (const char* name : {"n1", "n2", "n3"}) cache.UpdateNode(Object(NodeJson(name)));
  CHECK(Lists(cache) == "|");

  cache.UpdatePod(On("n1", PodJson("plain", "", "", R"({"app":"db"})")));
  CHECK(Lists(cache) == "|");
  cache.UpdatePod(On("n2", PodJson("anti", "", "", R"({"app":"web"})", AntiAffinityTo("web"))));
  cache.UpdatePod(On("n3", PodJson("pref", "", "", R"({"app":"cache"})", PreferredAffinityTo("web"))));
  CHECK(Lists(cache) == "n2,n3,|n2,");

  // Moving the anti-affinity pod (assumed elsewhere, then seen there) moves its node.
  cache.UpdatePod(On("n1", PodJson("anti", "", "", R"({"app":"web"})", AntiAffinityTo("web"))));
  CHECK(Lists(cache) == "n1,n3,|n1,");
  cache.RemovePod("default/pref");
  CHECK(Lists(cache) == "n1,|n1,");
  // A node that goes takes its entry with it; its pod no longer counts.
  cache.RemoveNode("n1");
  CHECK(Lists(cache) == "|");
  cache.UpdateNode(Object(NodeJson("n1")));
  CHECK(Lists(cache) == "n1,|n1,");
  cache.RemovePod("default/anti");
  CHECK(Lists(cache) == "|");
}

TEST_CASE("a cycle over the cache keeps a pod off the node whose pod's anti-affinity selects it") {
  SchedulerCache cache;
  for (int i = 0; i < 300; ++i) cache.UpdateNode(Object(NodeJson("n" + std::to_string(1000 + i))));
  SchedulingProfile profile(SchedulingProfile::DefaultPlugins(), {.percentage_of_nodes_to_score = 100, .seed = 7});
  // One web pod that wants no other web pod beside it, on every node but the last.
  for (int i = 0; i < 299; ++i) {
    std::string name = "guard-" + std::to_string(i);
    cache.UpdatePod(On("n" + std::to_string(1000 + i), PodJson(name, "", "", R"({"app":"web"})", AntiAffinityTo("web"))));
  }
  // A plain web pod has no terms of its own: only the index finds the guards' terms.
  cache.WithSnapshot({}, [&](const Snapshot& s) {
    CHECK(s.NodesWithRequiredAntiAffinity().size() == 299);
    ScheduleOutcome web = profile.Schedule(*Pod(PodJson("web", "", "", R"({"app":"web"})")), s);
    CHECK(web.node == "n1299");
    CHECK(web.feasible_nodes == 1);
    // A pod the guards do not select fits everywhere.
    ScheduleOutcome db = profile.Schedule(*Pod(PodJson("db", "", "", R"({"app":"db"})")), s);
    CHECK(db.feasible_nodes == 300);
    return PodInfoPtr();
  });
}

}  // namespace
}  // namespace kite::scheduler
