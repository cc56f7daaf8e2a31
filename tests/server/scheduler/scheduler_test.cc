#include <catch2/catch.hpp>

#include <chrono>
#include <map>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/scheduler/quantity.h"
#include "src/server/scheduler/scheduler.h"
#include "tests/server/scheduler/test_objects.h"
#include "tests/testing/api_fixture.h"

namespace kite::scheduler {
namespace {

using kite::testing::ApiFixture;
using kite::testing::Eventually;
using testing::NodeJson;
using testing::PodJson;

constexpr std::string_view kControlPlaneTaint =
    R"({"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]})";

// An API server, a controller manager running only the scheduler, and helpers to create
// nodes and pods and read where pods went.
class Cluster {
 public:
  explicit Cluster(Scheduler::Options options = {}) : manager_(api_.transport()) {
    auto scheduler = std::make_unique<Scheduler>(std::move(options));
    scheduler_ = scheduler.get();
    manager_.Add(std::move(scheduler));
    REQUIRE(manager_.Start().ok());
  }
  ~Cluster() { manager_.Stop(); }

  // Creates a node and waits until the scheduler has seen it (the pod and node informers
  // are not in step: a pod created right after could otherwise meet a cluster without it).
  void AddNode(std::string_view json_text) {
    api_.Create(client::kNodes, "", json_text);
    ++nodes_;
    REQUIRE(Eventually([&] { return scheduler_->cache().NodeCount() == nodes_; }));
  }
  void AddPod(std::string_view json_text) { api_.Create(client::kPods, "default", json_text); }
  void DeletePod(std::string_view name) {
    REQUIRE(api_.Client(client::kPods).Delete("default", name, R"({"gracePeriodSeconds":0})").ok());
  }

  rapidjson::Document GetPod(std::string_view name) {
    auto pod = api_.Client(client::kPods).Get("default", name);
    REQUIRE(pod.ok());
    return std::move(pod).value();
  }
  std::string NodeOf(std::string_view name) {
    rapidjson::Document pod = GetPod(name);
    const rapidjson::Value* spec = json::Member(pod, "spec");
    return spec ? std::string(json::StringMember(*spec, "nodeName")) : std::string();
  }
  bool Bound(std::string_view name) { return !NodeOf(name).empty(); }
  // The PodScheduled condition's field, "" when absent.
  std::string Condition(std::string_view name, std::string_view field) {
    rapidjson::Document pod = GetPod(name);
    const rapidjson::Value* status = json::Member(pod, "status");
    const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
    if (!conditions || !conditions->IsArray()) return "";
    for (const auto& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == "PodScheduled") return std::string(json::StringMember(c, field));
    }
    return "";
  }
  // Waits until the pod has been found unschedulable, and returns the message.
  std::string UnschedulableMessage(std::string_view name) {
    bool marked = Eventually([&] { return Condition(name, "reason") == "Unschedulable"; });
    INFO("pod " << name);
    REQUIRE(marked);
    CHECK(Condition(name, "status") == "False");
    return Condition(name, "message");
  }
  // Every pod in the default namespace by node.
  std::map<std::string, std::vector<rapidjson::Document>> PodsByNode() {
    auto list = api_.Client(client::kPods).List("default");
    REQUIRE(list.ok());
    std::map<std::string, std::vector<rapidjson::Document>> out;
    for (const auto& item : (*list)["items"].GetArray()) {
      rapidjson::Document d;
      d.CopyFrom(item, d.GetAllocator());
      out[std::string(json::StringMember(*json::Member(item, "spec"), "nodeName"))].push_back(std::move(d));
    }
    return out;
  }

  ApiFixture& api() { return api_; }
  Scheduler& scheduler() { return *scheduler_; }

 private:
  ApiFixture api_;
  controllers::ControllerManager manager_;
  Scheduler* scheduler_ = nullptr;
  size_t nodes_ = 0;
};

TEST_CASE("pods are bound where they fit; a pod that fits nowhere is marked Unschedulable and waits") {
  Cluster c;
  c.AddNode(NodeJson("n1", "2", "4Gi"));
  c.AddPod(PodJson("a", "1500m", "1Gi"));
  CHECK(Eventually([&] { return c.NodeOf("a") == "n1"; }));

  c.AddPod(PodJson("b", "1", "1Gi"));
  CHECK(c.UnschedulableMessage("b") ==
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod.");
  CHECK_FALSE(c.Bound("b"));

  // Deleting the pod in the way frees the room.
  c.DeletePod("a");
  CHECK(Eventually([&] { return c.NodeOf("b") == "n1"; }));
}

// Kubernetes' binding registry sets PodScheduled=True with the binding. Kite's Binding
// handler means to, but the status-subresource rule drops it (an API server matter, not the
// scheduler's): kept here as an expected failure until that is fixed.
TEST_CASE("a bound pod's PodScheduled condition becomes True", "[!mayfail]") {
  Cluster c;
  c.AddNode(NodeJson("n1", "1"));
  c.AddPod(PodJson("p", "2"));
  REQUIRE(c.UnschedulableMessage("p").starts_with("0/1 nodes are available: 1 Insufficient cpu."));
  c.AddNode(NodeJson("n2", "4"));
  REQUIRE(Eventually([&] { return c.NodeOf("p") == "n2"; }));
  CHECK(c.Condition("p", "status") == "True");
}

TEST_CASE("the unschedulable message for insufficient cpu on one node and a taint on two") {
  Cluster c;
  c.AddNode(NodeJson("worker", "1", "8Gi"));
  c.AddNode(NodeJson("cp-1", "8", "8Gi", "{}", kControlPlaneTaint));
  c.AddNode(NodeJson("cp-2", "8", "8Gi", "{}", kControlPlaneTaint));
  c.AddPod(PodJson("big", "2"));
  CHECK(c.UnschedulableMessage("big") ==
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: "
        "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
  // The condition is written once, not rewritten on every retry.
  std::string rv = std::string(json::StringMember(*json::Member(c.GetPod("big"), "metadata"), "resourceVersion"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(std::string(json::StringMember(*json::Member(c.GetPod("big"), "metadata"), "resourceVersion")) == rv);

  // A pod that tolerates the taint goes to a control-plane node.
  c.AddPod(PodJson("tolerant", "2", "", "{}", R"(,"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}])"));
  CHECK(Eventually([&] { return c.NodeOf("tolerant").starts_with("cp-"); }));
}

TEST_CASE("nodeSelector and required node affinity operators choose the node") {
  Cluster c;
  c.AddNode(NodeJson("ssd", "4", "8Gi", R"({"disk":"ssd","gen":"3"})"));
  c.AddNode(NodeJson("hdd", "4", "8Gi", R"({"disk":"hdd","gen":"5"})"));
  c.AddNode(NodeJson("bare"));
  c.AddPod(PodJson("sel", "", "", "{}", R"(,"nodeSelector":{"disk":"ssd"})"));
  auto required = [](std::string_view expressions) {
    return std::string(R"(,"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":)") +
           std::string(expressions) + "}]}}}";
  };
  c.AddPod(PodJson("in", "", "", "{}", required(R"([{"key":"disk","operator":"In","values":["hdd"]}])")));
  c.AddPod(PodJson("gt", "", "", "{}", required(R"([{"key":"gen","operator":"Gt","values":["4"]}])")));
  c.AddPod(PodJson("lt", "", "", "{}", required(R"([{"key":"gen","operator":"Lt","values":["4"]}])")));
  c.AddPod(PodJson("absent", "", "", "{}", required(R"([{"key":"disk","operator":"DoesNotExist"}])")));
  c.AddPod(PodJson("notin", "", "", "{}",
                   required(R"([{"key":"disk","operator":"Exists"},{"key":"disk","operator":"NotIn","values":["hdd"]}])")));
  c.AddPod(PodJson("nowhere", "", "", "{}", required(R"([{"key":"gen","operator":"Gt","values":["9"]}])")));
  CHECK(Eventually([&] { return c.NodeOf("sel") == "ssd"; }));
  CHECK(Eventually([&] { return c.NodeOf("in") == "hdd"; }));
  CHECK(Eventually([&] { return c.NodeOf("gt") == "hdd"; }));
  CHECK(Eventually([&] { return c.NodeOf("lt") == "ssd"; }));
  CHECK(Eventually([&] { return c.NodeOf("absent") == "bare"; }));
  CHECK(Eventually([&] { return c.NodeOf("notin") == "ssd"; }));
  CHECK(c.UnschedulableMessage("nowhere") ==
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: "
        "0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
}

TEST_CASE("required anti-affinity spreads replicas over hostnames") {
  Cluster c;
  for (const char* n : {"n1", "n2", "n3"}) c.AddNode(NodeJson(n));
  std::string anti = R"(,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web"}},"topologyKey":"kubernetes.io/hostname"}]}})";
  for (int i = 0; i < 4; ++i) c.AddPod(PodJson("web-" + std::to_string(i), "100m", "", R"({"app":"web"})", anti));
  CHECK(Eventually([&] {
    int bound = 0;
    for (int i = 0; i < 4; ++i) bound += c.Bound("web-" + std::to_string(i)) ? 1 : 0;
    return bound == 3;
  }));
  std::set<std::string> nodes;
  std::string left;
  for (int i = 0; i < 4; ++i) {
    std::string name = "web-" + std::to_string(i);
    std::string node = c.NodeOf(name);
    if (node.empty()) left = name;
    else nodes.insert(node);
  }
  CHECK(nodes == std::set<std::string>{"n1", "n2", "n3"});
  REQUIRE_FALSE(left.empty());
  CHECK(c.UnschedulableMessage(left) ==
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: "
        "0/3 nodes are available: 3 No preemption victims found for incoming pod.");
}

TEST_CASE("topology spread keeps zones within maxSkew") {
  Cluster c;
  c.AddNode(NodeJson("a1", "4", "8Gi", R"({"topology.kubernetes.io/zone":"a"})"));
  c.AddNode(NodeJson("a2", "4", "8Gi", R"({"topology.kubernetes.io/zone":"a"})"));
  c.AddNode(NodeJson("a3", "4", "8Gi", R"({"topology.kubernetes.io/zone":"a"})"));
  c.AddNode(NodeJson("b1", "4", "8Gi", R"({"topology.kubernetes.io/zone":"b"})"));
  std::string spread = R"(,"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}])";
  for (int i = 0; i < 6; ++i) {
    std::string name = "web-" + std::to_string(i);
    c.AddPod(PodJson(name, "100m", "", R"({"app":"web"})", spread));
    // One at a time, so each sees the ones before it.
    REQUIRE(Eventually([&] { return c.Bound(name); }));
  }
  std::map<std::string, int> per_zone;
  for (int i = 0; i < 6; ++i) per_zone[c.NodeOf("web-" + std::to_string(i))[0] == 'a' ? "a" : "b"]++;
  CHECK(per_zone["a"] == 3);
  CHECK(per_zone["b"] == 3);
}

TEST_CASE("host ports conflict") {
  Cluster c;
  c.AddNode(NodeJson("n1"));
  c.AddNode(NodeJson("n2"));
  auto pod = [](std::string_view name) {
    return std::string(R"({"metadata":{"name":")") + std::string(name) +
           R"("},"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80,"hostPort":8080}]}]}})";
  };
  c.AddPod(pod("p1"));
  REQUIRE(Eventually([&] { return c.Bound("p1"); }));
  c.AddPod(pod("p2"));
  REQUIRE(Eventually([&] { return c.Bound("p2"); }));
  CHECK(c.NodeOf("p1") != c.NodeOf("p2"));
  c.AddPod(pod("p3"));
  CHECK(c.UnschedulableMessage("p3") ==
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: "
        "0/2 nodes are available: 2 No preemption victims found for incoming pod.");
}

TEST_CASE("an unschedulable pod is scheduled once a fitting node is added") {
  Cluster c;
  c.AddNode(NodeJson("small", "1", "1Gi"));
  c.AddPod(PodJson("p", "2", "2Gi"));
  CHECK(c.UnschedulableMessage("p") ==
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod.");
  c.AddNode(NodeJson("large", "4", "8Gi"));
  CHECK(Eventually([&] { return c.NodeOf("p") == "large"; }));
}

TEST_CASE("a pod waits with no nodes at all, and for its scheduling gates") {
  Cluster c;
  c.AddPod(PodJson("p"));
  CHECK(c.UnschedulableMessage("p") == "no nodes available to schedule pods");
  c.AddPod(PodJson("gated", "", "", "{}", R"(,"schedulingGates":[{"name":"example.com/wait"}])"));
  CHECK(Eventually([&] { return c.Condition("gated", "reason") == "SchedulingGated"; }));
  CHECK(c.Condition("gated", "message") == "Scheduling is blocked due to non-empty scheduling gates");
  c.AddNode(NodeJson("n1"));
  CHECK(Eventually([&] { return c.NodeOf("p") == "n1"; }));
  CHECK_FALSE(c.Bound("gated"));
  // Lifting the gates lets it through.
  REQUIRE(c.api().Client(client::kPods).Patch("default", "gated", client::PatchType::kJson,
                                               R"([{"op":"remove","path":"/spec/schedulingGates"}])").ok());
  CHECK(Eventually([&] { return c.NodeOf("gated") == "n1"; }));
}

TEST_CASE("a burst of pods never overcommits a node") {
  Cluster c;
  for (const char* n : {"n1", "n2", "n3"}) c.AddNode(NodeJson(n, "1", "8Gi"));
  for (int i = 0; i < 50; ++i) c.AddPod(PodJson("p-" + std::to_string(i), "100m", "64Mi"));
  // 10 pods of 100m fit on each 1-cpu node.
  CHECK(Eventually([&] { return c.scheduler().stats().bound == 30; }));
  CHECK(Eventually([&] {
    auto by_node = c.PodsByNode();
    return by_node[""].size() == 20;
  }));
  auto by_node = c.PodsByNode();
  for (const char* n : {"n1", "n2", "n3"}) {
    int64_t cpu = 0;
    for (const auto& pod : by_node[n]) cpu += PodRequests(pod).milli_cpu;
    INFO(n);
    CHECK(cpu <= 1000);
    CHECK(by_node[n].size() == 10);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(c.scheduler().stats().bound == 30);
}

TEST_CASE("least-allocated nodes are preferred") {
  Cluster c;
  c.AddNode(NodeJson("busy", "2", "4Gi"));
  c.AddNode(NodeJson("idle", "2", "4Gi"));
  c.AddPod(PodJson("heavy", "1500m", "3Gi", "{}", R"(,"nodeName":"busy")"));
  for (int i = 0; i < 3; ++i) {
    std::string name = "light-" + std::to_string(i);
    c.AddPod(PodJson(name, "100m", "100Mi"));
    CHECK(Eventually([&] { return c.NodeOf(name) == "idle"; }));
  }
}

TEST_CASE("throughput: 1000 pods on 100 nodes") {
  Cluster c;
  for (int i = 0; i < 100; ++i) c.AddNode(NodeJson("node-" + std::to_string(i), "32", "64Gi"));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) c.AddPod(PodJson("p-" + std::to_string(i), "100m", "128Mi"));
  auto created = std::chrono::steady_clock::now();
  REQUIRE(Eventually([&] { return c.scheduler().stats().bound == 1000; }, std::chrono::seconds(120)));
  auto done = std::chrono::steady_clock::now();
  double total = std::chrono::duration<double>(done - start).count();
  double create = std::chrono::duration<double>(created - start).count();
  WARN("scheduler throughput: 1000 pods on 100 nodes bound in " << total << " s (creating them took " << create
                                                              << " s): " << 1000 / total << " pods/s; "
                                                              << c.scheduler().stats().attempts << " cycles");
  auto by_node = c.PodsByNode();
  CHECK(by_node.count("") == 0);
  size_t most = 0;
  for (const auto& [node, pods] : by_node) most = std::max(most, pods.size());
  CHECK(most <= 15);  // spread by least allocation: 10 per node on average
}

}  // namespace
}  // namespace kite::scheduler
