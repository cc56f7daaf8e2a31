#include <catch2/catch.hpp>

#include "src/server/scheduler/inter_pod_affinity.h"
#include "src/server/scheduler/node_affinity.h"
#include "src/server/scheduler/node_name.h"
#include "src/server/scheduler/node_ports.h"
#include "src/server/scheduler/node_resources.h"
#include "src/server/scheduler/pod_topology_spread.h"
#include "src/server/scheduler/taint_toleration.h"
#include "tests/server/scheduler/test_objects.h"

namespace kite::scheduler {
namespace {

using testing::Node;
using testing::NodeJson;
using testing::Place;
using testing::Pod;
using testing::PodJson;

// Runs PreFilter (when `snapshot` is given) and Filter of one plugin.
PluginStatus FilterOne(Plugin& plugin, const PodInfo& pod, const NodeInfo& node, const Snapshot* snapshot = nullptr) {
  CycleState state;
  Snapshot local;
  local.nodes = {&node};
  PreFilterResult pre = plugin.PreFilter(state, pod, snapshot ? *snapshot : local);
  if (!pre.status.ok()) return pre.status;
  return plugin.Filter(state, pod, node);
}

// Scores of one plugin over `nodes`, normalized.
std::vector<int64_t> Scores(Plugin& plugin, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) {
  CycleState state;
  Snapshot snapshot;
  snapshot.nodes = nodes;
  (void)plugin.PreFilter(state, pod, snapshot);
  plugin.PreScore(state, pod, snapshot, nodes);
  std::vector<int64_t> scores;
  for (const NodeInfo* n : nodes) scores.push_back(plugin.Score(state, pod, *n));
  plugin.NormalizeScore(state, nodes, scores);
  return scores;
}

TEST_CASE("NodeResourcesFit filters on free cpu, memory, pods and extended resources") {
  NodeResourcesFit fit;
  NodeInfo node = Node(NodeJson("n1", "2", "4Gi", "{}", "{}", 2));
  Place(node, PodJson("busy", "1500m", "1Gi"));

  CHECK(FilterOne(fit, *Pod(PodJson("small", "500m", "3Gi")), node).ok());
  PluginStatus cpu = FilterOne(fit, *Pod(PodJson("big", "600m", "1Gi")), node);
  CHECK(cpu.code == PluginStatus::Code::kUnschedulable);
  CHECK(cpu.reasons == std::vector<std::string>{"Insufficient cpu"});
  PluginStatus both = FilterOne(fit, *Pod(PodJson("huge", "1", "4Gi")), node);
  CHECK(both.reasons == std::vector<std::string>{"Insufficient cpu", "Insufficient memory"});

  Place(node, PodJson("second", "100m"));
  PluginStatus full = FilterOne(fit, *Pod(PodJson("third")), node);
  CHECK(full.reasons == std::vector<std::string>{"Too many pods"});

  NodeInfo plain = Node(NodeJson("n2"));
  auto gpu = Pod(R"({"metadata":{"name":"g","namespace":"default"},"spec":{"containers":[
      {"name":"c","resources":{"limits":{"example.com/gpu":"1"}}}]}})");
  CHECK(FilterOne(fit, *gpu, plain).reasons == std::vector<std::string>{"Insufficient example.com/gpu"});
}

TEST_CASE("LeastAllocated and BalancedAllocation scores") {
  NodeResourcesFit fit;
  NodeResourcesBalancedAllocation balanced;
  NodeInfo empty = Node(NodeJson("n1", "4", "8Gi"));
  NodeInfo loaded = Node(NodeJson("n2", "4", "8Gi"));
  Place(loaded, PodJson("busy", "2", "2Gi"));
  CycleState state;

  auto even = Pod(PodJson("p", "1", "2Gi"));
  CHECK(fit.Score(state, *even, empty) == 75);          // (4-1)/4 and (8-2)/8
  CHECK(fit.Score(state, *even, loaded) == 37);         // cpu 25, memory 50 → 37
  CHECK(balanced.Score(state, *even, empty) == 100);    // 0.25 and 0.25
  auto skewed = Pod(PodJson("q", "2", "1Gi"));
  CHECK(balanced.Score(state, *skewed, empty) == 81);   // |0.5 - 0.125| / 2 = 0.1875
  // A pod without requests still counts 100m / 200Mi when spreading by least allocation.
  auto none = Pod(PodJson("r"));
  CHECK(fit.Score(state, *none, empty) == (97 + 97) / 2);
}

TEST_CASE("NodeAffinity: nodeSelector and every required operator") {
  NodeAffinity affinity;
  NodeInfo node = Node(NodeJson("n1", "4", "8Gi", R"({"disk":"ssd","gen":"5","zone":"a"})"));

  auto with_selector = [](std::string_view selector) {
    return Pod(PodJson("p", "", "", "{}", std::string(",\"nodeSelector\":") + std::string(selector)));
  };
  CHECK(FilterOne(affinity, *with_selector(R"({"disk":"ssd"})"), node).ok());
  PluginStatus no = FilterOne(affinity, *with_selector(R"({"disk":"hdd"})"), node);
  CHECK(no.code == PluginStatus::Code::kUnschedulableAndUnresolvable);
  CHECK(no.Message() == "node(s) didn't match Pod's node affinity/selector");

  auto required = [](std::string_view expressions) {
    return Pod(PodJson("p", "", "", "{}",
                       std::string(R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
                                   R"({"nodeSelectorTerms":[{"matchExpressions":)") +
                           std::string(expressions) + "}]}}}"));
  };
  struct Case {
    std::string expressions;
    bool fits;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"key":"disk","operator":"In","values":["hdd","ssd"]}])", true},
           {R"([{"key":"disk","operator":"In","values":["hdd"]}])", false},
           {R"([{"key":"disk","operator":"NotIn","values":["hdd"]}])", true},
           {R"([{"key":"missing","operator":"NotIn","values":["x"]}])", true},
           {R"([{"key":"disk","operator":"NotIn","values":["ssd"]}])", false},
           {R"([{"key":"gen","operator":"Exists"}])", true},
           {R"([{"key":"missing","operator":"Exists"}])", false},
           {R"([{"key":"missing","operator":"DoesNotExist"}])", true},
           {R"([{"key":"disk","operator":"DoesNotExist"}])", false},
           {R"([{"key":"gen","operator":"Gt","values":["4"]}])", true},
           {R"([{"key":"gen","operator":"Gt","values":["5"]}])", false},
           {R"([{"key":"gen","operator":"Lt","values":["6"]}])", true},
           {R"([{"key":"disk","operator":"Lt","values":["6"]}])", false},  // not an integer
           {R"([{"key":"disk","operator":"In","values":["ssd"]},{"key":"zone","operator":"In","values":["b"]}])", false},
       }) {
    INFO(c.expressions);
    CHECK(FilterOne(affinity, *required(c.expressions), node).ok() == c.fits);
  }

  // Terms are ORed; an empty term matches nothing.
  auto ored = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchExpressions":[{"key":"disk","operator":"In","values":["hdd"]}]},
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}]}}})"));
  CHECK(FilterOne(affinity, *ored, node).ok());
  auto empty_term = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{}]}}})"));
  CHECK_FALSE(FilterOne(affinity, *empty_term, node).ok());
}

TEST_CASE("NodeAffinity PreFilter narrows to matchFields names, or rejects conflicting terms") {
  NodeAffinity affinity;
  auto pinned = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n1","n2"]}]},
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n3"]}]}]}}})"));
  CycleState state;
  Snapshot snapshot;
  PreFilterResult r = affinity.PreFilter(state, *pinned, snapshot);
  REQUIRE(r.node_names.has_value());
  CHECK(*r.node_names == std::set<std::string>{"n1", "n2", "n3"});

  auto conflict = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]},
                      {"key":"metadata.name","operator":"In","values":["n2"]}]}]}}})"));
  PreFilterResult c = affinity.PreFilter(state, *conflict, snapshot);
  CHECK(c.status.code == PluginStatus::Code::kUnschedulableAndUnresolvable);
  CHECK(c.status.Message() == "pod affinity terms conflict");
}

TEST_CASE("NodeAffinity scores preferred terms by weight, normalized to 100") {
  NodeAffinity affinity;
  NodeInfo ssd = Node(NodeJson("n1", "4", "8Gi", R"({"disk":"ssd"})"));
  NodeInfo fast = Node(NodeJson("n2", "4", "8Gi", R"({"disk":"ssd","net":"fast"})"));
  NodeInfo none = Node(NodeJson("n3"));
  auto pod = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[
      {"weight":20,"preference":{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]}]}},
      {"weight":60,"preference":{"matchExpressions":[{"key":"net","operator":"Exists"}]}}]}})"));
  CHECK(Scores(affinity, *pod, {&ssd, &fast, &none}) == std::vector<int64_t>{25, 100, 0});
}

TEST_CASE("TaintToleration filters NoSchedule/NoExecute taints and scores PreferNoSchedule") {
  TaintToleration taints;
  NodeInfo control = Node(NodeJson("cp", "4", "8Gi", "{}",
                                   R"({"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]})"));
  PluginStatus s = FilterOne(taints, *Pod(PodJson("p")), control);
  CHECK(s.code == PluginStatus::Code::kUnschedulableAndUnresolvable);
  CHECK(s.Message() == "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");

  auto exists = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists"}])"));
  CHECK(FilterOne(taints, *exists, control).ok());
  auto everything = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"operator":"Exists"}])"));
  CHECK(FilterOne(taints, *everything, control).ok());
  auto wrong_effect = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoExecute"}])"));
  CHECK_FALSE(FilterOne(taints, *wrong_effect, control).ok());

  NodeInfo gpu = Node(NodeJson("g", "4", "8Gi", "{}", R"({"taints":[{"key":"gpu","value":"true","effect":"NoExecute"}]})"));
  auto equal = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"key":"gpu","operator":"Equal","value":"true"}])"));
  CHECK(FilterOne(taints, *equal, gpu).ok());
  auto other_value = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"key":"gpu","value":"false"}])"));
  CHECK(FilterOne(taints, *other_value, gpu).Message() == "node(s) had untolerated taint {gpu: true}");

  NodeInfo not_ready = Node(NodeJson("nr", "4", "8Gi", "{}",
                                     R"({"taints":[{"key":"node.kubernetes.io/not-ready","effect":"NoSchedule"}]})"));
  CHECK(FilterOne(taints, *Pod(PodJson("p")), not_ready).Message() ==
        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }");

  NodeInfo clean = Node(NodeJson("a"));
  NodeInfo prefer = Node(NodeJson("b", "4", "8Gi", "{}", R"({"taints":[{"key":"x","effect":"PreferNoSchedule"},{"key":"y","effect":"PreferNoSchedule"}]})"));
  NodeInfo one = Node(NodeJson("c", "4", "8Gi", "{}", R"({"taints":[{"key":"x","effect":"PreferNoSchedule"}]})"));
  CHECK(Scores(taints, *Pod(PodJson("p")), {&clean, &prefer, &one}) == std::vector<int64_t>{100, 0, 50});
  auto tolerates_x = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"key":"x","operator":"Exists","effect":"PreferNoSchedule"}])"));
  CHECK(Scores(taints, *tolerates_x, {&clean, &prefer, &one}) == std::vector<int64_t>{100, 0, 100});
}

TEST_CASE("NodeUnschedulable keeps pods off cordoned nodes unless tolerated") {
  NodeUnschedulable cordon;
  NodeInfo node = Node(NodeJson("n1", "4", "8Gi", "{}", R"({"unschedulable":true})"));
  PluginStatus s = FilterOne(cordon, *Pod(PodJson("p")), node);
  CHECK(s.code == PluginStatus::Code::kUnschedulableAndUnresolvable);
  CHECK(s.Message() == "node(s) were unschedulable");
  auto tolerant = Pod(PodJson("p", "", "", "{}", R"(,"tolerations":[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}])"));
  CHECK(FilterOne(cordon, *tolerant, node).ok());
  CHECK(FilterOne(cordon, *Pod(PodJson("p")), Node(NodeJson("n2"))).ok());
}

TEST_CASE("NodeName and NeedsScheduling") {
  NodeName plugin;
  NodeInfo n1 = Node(NodeJson("n1"));
  CHECK(FilterOne(plugin, *Pod(PodJson("p")), n1).ok());
  CHECK(FilterOne(plugin, *Pod(PodJson("p", "", "", "{}", R"(,"nodeName":"n2")")), n1).Message() ==
        "node(s) didn't match the requested node name");

  CHECK(NeedsScheduling(*Pod(PodJson("p")), "default-scheduler"));
  CHECK(NeedsScheduling(*Pod(PodJson("p", "", "", "{}", R"(,"schedulerName":"default-scheduler")")), "default-scheduler"));
  CHECK_FALSE(NeedsScheduling(*Pod(PodJson("p", "", "", "{}", R"(,"schedulerName":"other")")), "default-scheduler"));
  CHECK_FALSE(NeedsScheduling(*Pod(PodJson("p", "", "", "{}", R"(,"nodeName":"n1")")), "default-scheduler"));
  CHECK_FALSE(NeedsScheduling(*Pod(R"({"metadata":{"name":"p","namespace":"d","deletionTimestamp":"2024-01-01T00:00:00Z"},"spec":{}})"), "default-scheduler"));
  CHECK_FALSE(NeedsScheduling(*Pod(R"({"metadata":{"name":"p","namespace":"d"},"spec":{},"status":{"phase":"Failed"}})"), "default-scheduler"));
}

TEST_CASE("NodePorts rejects host port conflicts") {
  NodePorts ports;
  auto pod = [](std::string_view name, std::string_view port) {
    return std::string(R"({"metadata":{"name":")") + std::string(name) +
           R"(","namespace":"default"},"spec":{"containers":[{"name":"c","ports":[)" + std::string(port) + "]}]}}";
  };
  NodeInfo node = Node(NodeJson("n1"));
  Place(node, pod("web", R"({"containerPort":80,"hostPort":8080})"));
  Place(node, pod("dns", R"({"containerPort":53,"hostPort":53,"protocol":"UDP","hostIP":"10.0.0.1"})"));

  PluginStatus s = FilterOne(ports, *Pod(pod("a", R"({"containerPort":80,"hostPort":8080})")), node);
  CHECK(s.code == PluginStatus::Code::kUnschedulable);
  CHECK(s.Message() == "node(s) didn't have free ports for the requested pod ports");
  CHECK_FALSE(FilterOne(ports, *Pod(pod("b", R"({"containerPort":80,"hostPort":8080,"hostIP":"10.0.0.2"})")), node).ok());
  CHECK(FilterOne(ports, *Pod(pod("c", R"({"containerPort":80,"hostPort":8080,"protocol":"UDP"})")), node).ok());
  CHECK(FilterOne(ports, *Pod(pod("d", R"({"containerPort":53,"hostPort":53,"protocol":"UDP","hostIP":"10.0.0.2"})")), node).ok());
  CHECK_FALSE(FilterOne(ports, *Pod(pod("e", R"({"containerPort":53,"hostPort":53,"protocol":"UDP"})")), node).ok());
  CHECK(FilterOne(ports, *Pod(pod("f", R"({"containerPort":8080})")), node).ok());  // no host port
  // Once the pod using 8080 is gone, the port is free again.
  node.RemovePod("default/web");
  CHECK(FilterOne(ports, *Pod(pod("a", R"({"containerPort":80,"hostPort":8080})")), node).ok());
}

std::string AntiAffinity(std::string_view app, std::string_view key) {
  return std::string(R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[)"
                     R"({"labelSelector":{"matchLabels":{"app":")") +
         std::string(app) + R"("}},"topologyKey":")" + std::string(key) + R"("}]}})";
}

std::string Affinity(std::string_view app, std::string_view key) {
  return std::string(R"(,"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[)"
                     R"({"labelSelector":{"matchLabels":{"app":")") +
         std::string(app) + R"("}},"topologyKey":")" + std::string(key) + R"("}]}})";
}

TEST_CASE("InterPodAffinity: required anti-affinity, affinity, and existing pods' anti-affinity") {
  InterPodAffinity plugin;
  NodeInfo a1 = Node(NodeJson("a1", "4", "8Gi", R"({"zone":"a"})"));
  NodeInfo a2 = Node(NodeJson("a2", "4", "8Gi", R"({"zone":"a"})"));
  NodeInfo b1 = Node(NodeJson("b1", "4", "8Gi", R"({"zone":"b"})"));
  Place(a1, PodJson("web-0", "", "", R"({"app":"web"})", AntiAffinity("web", "kubernetes.io/hostname")));
  Snapshot snapshot;
  snapshot.nodes = {&a1, &a2, &b1};

  auto web = Pod(PodJson("web-1", "", "", R"({"app":"web"})", AntiAffinity("web", "kubernetes.io/hostname")));
  PluginStatus s = FilterOne(plugin, *web, a1, &snapshot);
  CHECK(s.code == PluginStatus::Code::kUnschedulable);
  CHECK(s.Message() == "node(s) didn't match pod anti-affinity rules");
  CHECK(FilterOne(plugin, *web, a2, &snapshot).ok());

  // A pod without terms of its own is kept away by web-0's anti-affinity, if web-0 selects it.
  auto plain_web = Pod(PodJson("web-x", "", "", R"({"app":"web"})"));
  CHECK(FilterOne(plugin, *plain_web, a1, &snapshot).Message() ==
        "node(s) didn't satisfy existing pods anti-affinity rules");
  CHECK(FilterOne(plugin, *Pod(PodJson("other", "", "", R"({"app":"db"})")), a1, &snapshot).ok());
  // Another namespace is outside web-0's term.
  auto elsewhere = Pod(PodJson("web-y", "", "", R"({"app":"web"})", "", "team-b"));
  CHECK(FilterOne(plugin, *elsewhere, a1, &snapshot).ok());

  // Affinity to web pods by zone: zone a only.
  auto cache = Pod(PodJson("cache", "", "", R"({"app":"cache"})", Affinity("web", "zone")));
  CHECK(FilterOne(plugin, *cache, a2, &snapshot).ok());
  PluginStatus b = FilterOne(plugin, *cache, b1, &snapshot);
  CHECK(b.code == PluginStatus::Code::kUnschedulableAndUnresolvable);
  CHECK(b.Message() == "node(s) didn't match pod affinity rules");

  // The first pod of a group with affinity to itself may go anywhere with the label.
  NodeInfo empty = Node(NodeJson("e1", "4", "8Gi", R"({"zone":"c"})"));
  NodeInfo unlabelled = Node(NodeJson("e2"));
  Snapshot fresh;
  fresh.nodes = {&empty, &unlabelled};
  auto first = Pod(PodJson("g-0", "", "", R"({"app":"group"})", Affinity("group", "zone")));
  CHECK(FilterOne(plugin, *first, empty, &fresh).ok());
  CHECK_FALSE(FilterOne(plugin, *first, unlabelled, &fresh).ok());
  auto stranger = Pod(PodJson("s-0", "", "", R"({"app":"stranger"})", Affinity("group", "zone")));
  CHECK_FALSE(FilterOne(plugin, *stranger, empty, &fresh).ok());
}

TEST_CASE("InterPodAffinity namespaceSelector reads namespace labels") {
  InterPodAffinity plugin;
  NodeInfo n1 = Node(NodeJson("n1"));
  Place(n1, PodJson("web-0", "", "", R"({"app":"web"})", "", "prod"));
  Snapshot snapshot;
  snapshot.nodes = {&n1};
  auto prod = testing::Object(R"({"metadata":{"name":"prod","labels":{"env":"prod"}}})");
  snapshot.namespaces = [&](std::string_view ns) -> ObjectPtr { return ns == "prod" ? prod : nullptr; };
  auto pod = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
      {"labelSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{"matchLabels":{"env":"prod"}},"topologyKey":"kubernetes.io/hostname"}]}})"));
  CHECK_FALSE(FilterOne(plugin, *pod, n1, &snapshot).ok());
  auto other = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
      {"labelSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{"matchLabels":{"env":"dev"}},"topologyKey":"kubernetes.io/hostname"}]}})"));
  CHECK(FilterOne(plugin, *other, n1, &snapshot).ok());
}

TEST_CASE("InterPodAffinity scores preferred terms by domain") {
  InterPodAffinity plugin;
  NodeInfo a = Node(NodeJson("a", "4", "8Gi", R"({"zone":"a"})"));
  NodeInfo b = Node(NodeJson("b", "4", "8Gi", R"({"zone":"b"})"));
  NodeInfo c = Node(NodeJson("c", "4", "8Gi", R"({"zone":"c"})"));
  Place(a, PodJson("web-0", "", "", R"({"app":"web"})"));
  Place(b, PodJson("db-0", "", "", R"({"app":"db"})"));
  auto pod = Pod(PodJson("p", "", "", "{}", R"(,"affinity":{
      "podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[
        {"weight":10,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":"web"}},"topologyKey":"zone"}}]},
      "podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[
        {"weight":10,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"zone"}}]}})"));
  // a: +10, b: -10, c: 0 → normalized min..max.
  CHECK(Scores(plugin, *pod, {&a, &b, &c}) == std::vector<int64_t>{100, 0, 50});
}

std::string Spread(std::string_view key, int skew, std::string_view when = "DoNotSchedule") {
  return std::string(R"(,"topologySpreadConstraints":[{"maxSkew":)") + std::to_string(skew) +
         R"(,"topologyKey":")" + std::string(key) + R"(","whenUnsatisfiable":")" + std::string(when) +
         R"(","labelSelector":{"matchLabels":{"app":"web"}}}])";
}

TEST_CASE("PodTopologySpread filters on maxSkew and the topology label") {
  PodTopologySpread plugin;
  NodeInfo a1 = Node(NodeJson("a1", "4", "8Gi", R"({"zone":"a"})"));
  NodeInfo a2 = Node(NodeJson("a2", "4", "8Gi", R"({"zone":"a"})"));
  NodeInfo b1 = Node(NodeJson("b1", "4", "8Gi", R"({"zone":"b"})"));
  NodeInfo bare = Node(NodeJson("x"));
  Place(a1, PodJson("web-0", "", "", R"({"app":"web"})"));
  Place(a2, PodJson("web-1", "", "", R"({"app":"web"})"));
  Place(b1, PodJson("web-2", "", "", R"({"app":"web"})"));
  Place(b1, PodJson("other", "", "", R"({"app":"db"})"));
  Snapshot snapshot;
  snapshot.nodes = {&a1, &a2, &b1, &bare};

  // zone a has 2, zone b has 1: with maxSkew 1 a third in zone a would make 3 - 1 = 2.
  auto pod = Pod(PodJson("web-3", "", "", R"({"app":"web"})", Spread("zone", 1)));
  PluginStatus s = FilterOne(plugin, *pod, a1, &snapshot);
  CHECK(s.code == PluginStatus::Code::kUnschedulable);
  CHECK(s.Message() == "node(s) didn't match pod topology spread constraints");
  CHECK(FilterOne(plugin, *pod, b1, &snapshot).ok());
  PluginStatus missing = FilterOne(plugin, *pod, bare, &snapshot);
  CHECK(missing.code == PluginStatus::Code::kUnschedulableAndUnresolvable);
  CHECK(missing.Message() == "node(s) didn't match pod topology spread constraints (missing required label)");

  auto loose = Pod(PodJson("web-3", "", "", R"({"app":"web"})", Spread("zone", 2)));
  CHECK(FilterOne(plugin, *loose, a1, &snapshot).ok());

  // minDomains 3 with two zones: the global minimum counts as 0.
  auto min_domains = Pod(PodJson("web-3", "", "", R"({"app":"web"})",
                                 R"(,"topologySpreadConstraints":[{"maxSkew":1,"minDomains":3,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}])"));
  CHECK_FALSE(FilterOne(plugin, *min_domains, b1, &snapshot).ok());  // 1 + 1 - 0 > 1
}

TEST_CASE("PodTopologySpread scores emptier domains higher, with system defaults by controller") {
  PodTopologySpread plugin;
  NodeInfo n1 = Node(NodeJson("n1"));
  NodeInfo n2 = Node(NodeJson("n2"));
  NodeInfo n3 = Node(NodeJson("n3"));
  auto owned = [](std::string_view name) {
    return std::string(R"({"metadata":{"name":")") + std::string(name) +
           R"(","namespace":"default","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"rs-1","controller":true}]},"spec":{"containers":[{"name":"c"}]}})";
  };
  Place(n1, owned("a"));
  Place(n1, owned("b"));
  Place(n2, owned("c"));
  std::vector<int64_t> s = Scores(plugin, *Pod(owned("d")), {&n1, &n2, &n3});
  CHECK(s[2] == 100);
  CHECK(s[0] < s[1]);
  CHECK(s[1] < s[2]);
  // A pod with no controller and no constraints is not spread.
  std::vector<int64_t> none = Scores(plugin, *Pod(PodJson("e")), {&n1, &n2, &n3});
  CHECK(none == std::vector<int64_t>{0, 0, 0});
}

TEST_CASE("DefaultNormalizeScore scales to the maximum, optionally reversed") {
  std::vector<int64_t> s{0, 5, 10};
  DefaultNormalizeScore(100, false, s);
  CHECK(s == std::vector<int64_t>{0, 50, 100});
  std::vector<int64_t> r{0, 5, 10};
  DefaultNormalizeScore(100, true, r);
  CHECK(r == std::vector<int64_t>{100, 50, 0});
  std::vector<int64_t> zero{0, 0};
  DefaultNormalizeScore(100, true, zero);
  CHECK(zero == std::vector<int64_t>{100, 100});
}

}  // namespace
}  // namespace kite::scheduler
