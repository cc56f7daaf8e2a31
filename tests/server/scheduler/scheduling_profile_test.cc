#include <catch2/catch.hpp>

#include "src/server/scheduler/scheduling_profile.h"
#include "tests/server/scheduler/test_objects.h"

namespace kite::scheduler {
namespace {

using testing::Node;
using testing::NodeJson;
using testing::Place;
using testing::Pod;
using testing::PodJson;

constexpr std::string_view kControlPlaneTaint =
    R"({"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]})";

struct Cluster {
  std::vector<std::unique_ptr<NodeInfo>> nodes;
  NodeInfo& Add(std::string_view json) {
    nodes.push_back(std::make_unique<NodeInfo>(Node(json)));
    return *nodes.back();
  }
  Snapshot snapshot() const {
    Snapshot s;
    for (const auto& n : nodes) s.nodes.push_back(n.get());
    std::sort(s.nodes.begin(), s.nodes.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
    return s;
  }
};

ScheduleOutcome ScheduleOn(const Cluster& cluster, const PodInfo& pod) {
  SchedulingProfile profile(SchedulingProfile::DefaultPlugins(), {.percentage_of_nodes_to_score = 0, .seed = 1});
  return profile.Schedule(pod, cluster.snapshot());
}

TEST_CASE("the unschedulable message counts reasons per node and reports preemption as Kubernetes does") {
  Cluster c;
  c.Add(NodeJson("worker", "1", "8Gi"));
  c.Add(NodeJson("cp-1", "8", "8Gi", "{}", kControlPlaneTaint));
  c.Add(NodeJson("cp-2", "8", "8Gi", "{}", kControlPlaneTaint));
  ScheduleOutcome out = ScheduleOn(c, *Pod(PodJson("big", "2")));
  CHECK(out.node.empty());
  CHECK(out.reason == "Unschedulable");
  CHECK(out.message ==
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: "
        "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
  REQUIRE(out.fit_error.has_value());
  CHECK(out.fit_error->node_statuses.size() == 3);

  // preemptionPolicy Never: preemption is not even tried.
  ScheduleOutcome never = ScheduleOn(c, *Pod(PodJson("big", "2", "", "{}", R"(,"preemptionPolicy":"Never")")));
  CHECK(never.message ==
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: not eligible due to preemptionPolicy=Never.");
}

TEST_CASE("reasons are sorted as strings, and one node may give several") {
  FitError f;
  f.num_all_nodes = 12;
  for (int i = 0; i < 10; ++i) f.node_statuses["a" + std::to_string(i)] = PluginStatus::Unschedulable({"Insufficient cpu"});
  f.node_statuses["b"] = PluginStatus::Unschedulable({"Insufficient cpu", "Insufficient memory"});
  f.node_statuses["c"] = PluginStatus::Unresolvable("node(s) were unschedulable");
  // "1 Insufficient memory" sorts before "11 Insufficient cpu" (' ' < '1'), as Go's sort.Strings.
  CHECK(f.Message() == "0/12 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable, 11 Insufficient cpu.");
}

TEST_CASE("lower-priority pods make preemption possible, and the message then has no preemption part") {
  Cluster c;
  NodeInfo& n = c.Add(NodeJson("n1", "1", "8Gi"));
  Place(n, PodJson("low", "800m", "", "{}", R"(,"priority":0)"));
  ScheduleOutcome high = ScheduleOn(c, *Pod(PodJson("high", "500m", "", "{}", R"(,"priority":1000)")));
  CHECK(high.message == "0/1 nodes are available: 1 Insufficient cpu.");
  // Evicting the only lower-priority pod would still not be enough.
  ScheduleOutcome huge = ScheduleOn(c, *Pod(PodJson("huge", "2", "", "{}", R"(,"priority":1000)")));
  CHECK(huge.message ==
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.");
}

TEST_CASE("no nodes, and nodes narrowed away by PreFilter") {
  Cluster empty;
  ScheduleOutcome none = ScheduleOn(empty, *Pod(PodJson("p")));
  CHECK(none.reason == "Unschedulable");
  CHECK(none.message == "no nodes available to schedule pods");

  Cluster c;
  c.Add(NodeJson("n1", "1"));
  c.Add(NodeJson("n2"));
  c.Add(NodeJson("n3"));
  auto pinned = Pod(PodJson("ds", "2", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}]}}})"));
  ScheduleOutcome out = ScheduleOn(c, *pinned);
  CHECK(out.message ==
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling.");
  auto fits = Pod(PodJson("ds", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n3"]}]}]}}})"));
  CHECK(ScheduleOn(c, *fits).node == "n3");
}

TEST_CASE("a pod rejected at PreFilter reports the PreFilter message") {
  Cluster c;
  c.Add(NodeJson("n1"));
  auto conflict = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["a"]},{"key":"metadata.name","operator":"In","values":["b"]}]}]}}})"));
  CHECK(ScheduleOn(c, *conflict).message ==
        "0/1 nodes are available: pod affinity terms conflict. preemption: 0/1 nodes are available: "
        "1 Preemption is not helpful for scheduling.");
}

TEST_CASE("scores pick the least allocated node, and ties are spread") {
  Cluster c;
  NodeInfo& busy = c.Add(NodeJson("busy", "2", "4Gi"));
  c.Add(NodeJson("idle", "2", "4Gi"));
  Place(busy, PodJson("x", "1500m", "3Gi"));
  for (int seed = 0; seed < 5; ++seed) {
    SchedulingProfile profile(SchedulingProfile::DefaultPlugins(), {.percentage_of_nodes_to_score = 0, .seed = uint64_t(seed)});
    CHECK(profile.Schedule(*Pod(PodJson("p", "100m", "100Mi")), c.snapshot()).node == "idle");
  }

  // Identical empty nodes: the choice varies with the random tie-break.
  Cluster same;
  for (int i = 0; i < 4; ++i) same.Add(NodeJson("n" + std::to_string(i)));
  SchedulingProfile profile(SchedulingProfile::DefaultPlugins(), {.percentage_of_nodes_to_score = 0, .seed = 7});
  std::set<std::string> chosen;
  for (int i = 0; i < 40; ++i) chosen.insert(profile.Schedule(*Pod(PodJson("p", "100m")), same.snapshot()).node);
  CHECK(chosen.size() > 1);
}

TEST_CASE("how many feasible nodes are looked for") {
  SchedulingProfile profile(SchedulingProfile::DefaultPlugins());
  CHECK(profile.NumFeasibleNodesToFind(50) == 50);
  CHECK(profile.NumFeasibleNodesToFind(100) == 100);
  CHECK(profile.NumFeasibleNodesToFind(1000) == 420);   // 50% - 8%
  CHECK(profile.NumFeasibleNodesToFind(5000) == 500);   // 10%
  CHECK(profile.NumFeasibleNodesToFind(6000) == 300);   // at least 5%... of 6000 = 300
  CHECK(profile.NumFeasibleNodesToFind(150) == 100);    // never fewer than 100
}

TEST_CASE("a malformed affinity selector is a scheduler error") {
  Cluster c;
  c.Add(NodeJson("n1"));
  auto bad = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
      {"labelSelector":{"matchExpressions":[{"key":"app","operator":"Bogus"}]},"topologyKey":"zone"}]}})"));
  ScheduleOutcome out = ScheduleOn(c, *bad);
  CHECK(out.node.empty());
  CHECK(out.reason == "SchedulerError");
  CHECK_THAT(out.message, Catch::Contains("InterPodAffinity"));
}

}  // namespace
}  // namespace kite::scheduler
