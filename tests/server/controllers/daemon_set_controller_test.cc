// The DaemonSet controller against a real API server; the test creates the Node objects and
// plays the kubelet (no scheduler runs: pods are found by the node their affinity names).
#include "src/server/controllers/daemon_set_controller.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "src/server/controllers/controller_revision.h"
#include "tests/server/controllers/workload_testing.h"

namespace kite::controllers {
namespace {

using testing::Eventually;
using namespace workload_testing;
using namespace std::chrono_literals;

// A DaemonSet "agent" (pods app=agent); `extra_spec` and `extra_pod_spec` are members
// followed by a comma.
std::string DaemonSetJson(std::string_view extra_spec = "", std::string_view extra_pod_spec = "",
                          std::string_view name = "agent", std::string_view image = "agent:1") {
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{"selector":{"matchLabels":{"app":")" +
         std::string(name) + R"("}},)" + std::string(extra_spec) + R"("template":{"metadata":{"labels":{"app":")" +
         std::string(name) + R"("}},"spec":{)" + std::string(extra_pod_spec) +
         R"("terminationGracePeriodSeconds":30,"containers":[{"name":"c","image":")" + std::string(image) +
         R"("}]}}}})";
}

std::string NodeJson(std::string_view name, std::string_view labels = "{}", std::string_view spec = "{}") {
  return R"({"metadata":{"name":")" + std::string(name) + R"(","labels":)" + std::string(labels) + R"(},"spec":)" +
         std::string(spec) + "}";
}

std::string Image(const rapidjson::Value& pod) {
  return std::string(json::StringMember((*json::Member(pod, "spec"))["containers"][0], "image"));
}

struct DaemonFixture {
  testing::ApiFixture api;
  ControllerManager manager{api.transport()};
  client::ResourceClient pods = api.Client(client::kPods);
  client::ResourceClient nodes = api.Client(client::kNodes);
  client::ResourceClient daemon_sets = api.Client(client::kDaemonSets);
  client::ResourceClient revisions = api.Client(client::kControllerRevisions);

  DaemonFixture() {
    manager.Add(std::make_unique<DaemonSetController>());
    REQUIRE(manager.Start().ok());
  }
  ~DaemonFixture() { manager.Stop(); }

  void Node(std::string_view name, std::string_view labels = "{}", std::string_view spec = "{}") {
    api.Create(client::kNodes, "", NodeJson(name, labels, spec));
  }
  std::vector<rapidjson::Document> List(client::ResourceClient& client, std::string_view selector) {
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
  // Active pods of app=`app` by the node they are for.
  std::map<std::string, std::vector<rapidjson::Document>> PodsByNode(std::string_view app = "agent") {
    std::map<std::string, std::vector<rapidjson::Document>> out;
    for (auto& pod : List(pods, "app=" + std::string(app))) {
      if (!IsPodActive(pod)) continue;
      std::optional<std::string> node = DaemonPodTargetNode(pod);
      REQUIRE(node);
      out[*node].push_back(std::move(pod));
    }
    return out;
  }
  std::set<std::string> NodesWithPods(std::string_view app = "agent") {
    std::set<std::string> out;
    for (const auto& [node, list] : PodsByNode(app)) {
      if (list.size() == 1) out.insert(node);
      if (list.size() > 1) out.insert(node + " (x" + std::to_string(list.size()) + ")");
    }
    return out;
  }
  rapidjson::Document Get(client::ResourceClient& client, std::string_view name, std::string_view ns = "default") {
    auto got = client.Get(ns, name);
    REQUIRE(got.ok());
    return std::move(got).value();
  }
  Status Patch(std::string_view patch, std::string_view name = "agent") {
    auto patched = daemon_sets.Patch("default", name, client::PatchType::kMerge, patch);
    return patched.ok() ? Status() : patched.status();
  }
  // What `kubectl rollout status ds/agent` waits for.
  bool RolloutComplete() {
    auto ds = Get(daemon_sets, "agent");
    int64_t desired = StatusInt(ds, "desiredNumberScheduled");
    return GenerationOf(ds) <= StatusInt(ds, "observedGeneration") &&
           StatusInt(ds, "updatedNumberScheduled") >= desired && StatusInt(ds, "numberAvailable") >= desired;
  }
};

const rapidjson::Value* FindToleration(const rapidjson::Value& pod, std::string_view key) {
  for (const auto& t : pod["spec"]["tolerations"].GetArray()) {
    if (json::StringMember(t, "key") == key) return &t;
  }
  return nullptr;
}

TEST_CASE("which nodes run a daemon pod") {
  auto ds = json::ParseJson(DaemonSetJson(
      "",
      R"("nodeSelector":{"disk":"ssd"},"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
      R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"cores","operator":"Gt","values":["4"]}]},)"
      R"({"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]}}},)"
      R"("tolerations":[{"key":"dedicated","operator":"Equal","value":"infra","effect":"NoSchedule"}],)"));
  REQUIRE(ds.ok());
  auto verdict = [&](std::string_view node_json) {
    auto node = json::ParseJson(node_json);
    REQUIRE(node.ok());
    return NodeShouldRunDaemonPod(*node, *ds);
  };
  const DaemonNodeVerdict run{true, true}, none{false, false}, stay{false, true};
  CHECK(verdict(NodeJson("a", R"({"disk":"ssd","cores":"8"})")) == run);
  CHECK(verdict(NodeJson("b", R"({"disk":"ssd","zone":"a"})")) == run);
  CHECK(verdict(NodeJson("c", R"({"disk":"ssd","cores":"2"})")) == none);  // no term matches
  CHECK(verdict(NodeJson("d", R"({"cores":"8"})")) == none);               // nodeSelector
  // Taints: tolerated, untolerated NoSchedule (a pod there may stay), untolerated NoExecute,
  // and the ones every daemon pod tolerates.
  CHECK(verdict(NodeJson("e", R"({"disk":"ssd","zone":"a"})",
                         R"({"taints":[{"key":"dedicated","value":"infra","effect":"NoSchedule"}]})")) == run);
  CHECK(verdict(NodeJson("f", R"({"disk":"ssd","zone":"a"})",
                         R"({"taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]})")) == stay);
  CHECK(verdict(NodeJson("g", R"({"disk":"ssd","zone":"a"})", R"({"taints":[{"key":"gone","effect":"NoExecute"}]})")) ==
        none);
  CHECK(verdict(NodeJson(
            "h", R"({"disk":"ssd","zone":"a"})",
            R"({"unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"},)"
            R"({"key":"node.kubernetes.io/not-ready","effect":"NoExecute"}]})")) == run);
  CHECK(verdict(NodeJson("i", R"({"disk":"ssd","zone":"a"})",
                         R"({"taints":[{"key":"node.kubernetes.io/network-unavailable","effect":"NoSchedule"}]})")) ==
        stay);  // only hostNetwork pods tolerate that one
  CHECK(verdict(NodeJson("j", R"({"disk":"ssd","zone":"a"})",
                         R"({"taints":[{"key":"x","effect":"PreferNoSchedule"}]})")) == run);

  // A template that names a node runs only there.
  auto pinned = json::ParseJson(DaemonSetJson("", R"("nodeName":"a",)"));
  REQUIRE(pinned.ok());
  auto a = json::ParseJson(NodeJson("a"));
  auto b = json::ParseJson(NodeJson("b"));
  CHECK(NodeShouldRunDaemonPod(*a, *pinned) == run);
  CHECK(NodeShouldRunDaemonPod(*b, *pinned) == none);
}

TEST_CASE("daemon pod templates carry the daemon tolerations and the revision") {
  auto ds = json::ParseJson(DaemonSetJson(
      "", R"("hostNetwork":true,"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists",)"
          R"("effect":"NoExecute","tolerationSeconds":300}],)"));
  REQUIRE(ds.ok());
  rapidjson::Document t = DaemonPodTemplate(*ds, "abc123");
  CHECK(Label(t, "controller-revision-hash") == "abc123");
  CHECK(Label(t, "app") == "agent");
  std::map<std::string, std::string> effects;
  for (const auto& tol : t["spec"]["tolerations"].GetArray()) {
    effects[std::string(json::StringMember(tol, "key"))] = json::StringMember(tol, "effect");
    CHECK(json::StringMember(tol, "operator") == "Exists");
    CHECK_FALSE(json::Member(tol, "tolerationSeconds"));  // the 300 s one was replaced
  }
  CHECK(effects == std::map<std::string, std::string>{{"node.kubernetes.io/not-ready", "NoExecute"},
                                                      {"node.kubernetes.io/unreachable", "NoExecute"},
                                                      {"node.kubernetes.io/disk-pressure", "NoSchedule"},
                                                      {"node.kubernetes.io/memory-pressure", "NoSchedule"},
                                                      {"node.kubernetes.io/pid-pressure", "NoSchedule"},
                                                      {"node.kubernetes.io/unschedulable", "NoSchedule"},
                                                      {"node.kubernetes.io/network-unavailable", "NoSchedule"}});

  auto pod = json::ParseJson(
      R"({"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":)"
      R"([{"matchFields":[{"key":"metadata.name","operator":"In","values":["n7"]}]}]}}}}})");
  REQUIRE(pod.ok());
  CHECK(DaemonPodTargetNode(*pod) == "n7");
  auto bound = json::ParseJson(R"({"spec":{"nodeName":"n8"}})");
  CHECK(DaemonPodTargetNode(*bound) == "n8");
  auto loose = json::ParseJson(R"({"spec":{}})");
  CHECK_FALSE(DaemonPodTargetNode(*loose));
}

TEST_CASE("a DaemonSet puts one pod on every eligible node") {
  DaemonFixture f;
  f.Node("n1", R"({"disk":"ssd"})");
  f.Node("n2", R"({"disk":"ssd"})", R"({"taints":[{"key":"dedicated","value":"infra","effect":"NoSchedule"}]})");
  f.Node("n3");
  f.Node("n4", R"({"disk":"ssd"})",
         R"({"unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]})");
  f.Node("n5", R"({"disk":"ssd"})", R"({"taints":[{"key":"node.kubernetes.io/not-ready","effect":"NoExecute"}]})");
  rapidjson::Document ds =
      f.api.Create(client::kDaemonSets, "default", DaemonSetJson("", R"("nodeSelector":{"disk":"ssd"},)"));

  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n1", "n4", "n5"}; }));
  std::this_thread::sleep_for(200ms);
  CHECK(f.NodesWithPods() == std::set<std::string>{"n1", "n4", "n5"});  // no more than one each

  for (const auto& [node, list] : f.PodsByNode()) {
    const rapidjson::Value& pod = list[0];
    std::optional<OwnerReference> ref = ControllerOf(pod);
    REQUIRE(ref);
    CHECK(ref->kind == "DaemonSet");
    CHECK(ref->uid == UidOf(ds));
    CHECK(json::StringMember(pod["metadata"], "generateName") == "agent-");
    CHECK_FALSE(Label(pod, "controller-revision-hash").empty());
    // Pinned by affinity, for the scheduler to bind.
    const auto& fields = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                            ["nodeSelectorTerms"][0]["matchFields"][0];
    CHECK(json::StringMember(fields, "key") == "metadata.name");
    CHECK(std::string_view(fields["values"][0].GetString()) == node);
    const rapidjson::Value* not_ready = FindToleration(pod, "node.kubernetes.io/not-ready");
    REQUIRE(not_ready);
    CHECK(json::StringMember(*not_ready, "effect") == "NoExecute");
    CHECK_FALSE(json::Member(*not_ready, "tolerationSeconds"));  // forever, not the default 300 s
    CHECK(FindToleration(pod, "node.kubernetes.io/unschedulable"));
  }

  CHECK(Eventually([&] {
    auto got = f.Get(f.daemon_sets, "agent");
    return StatusInt(got, "desiredNumberScheduled") == 3 && StatusInt(got, "currentNumberScheduled") == 3 &&
           StatusInt(got, "numberMisscheduled") == 0 && StatusInt(got, "numberReady") == 0 &&
           StatusInt(got, "updatedNumberScheduled") == 3 && StatusInt(got, "numberUnavailable") == 3 &&
           StatusInt(got, "observedGeneration") == 1;
  }));
  for (const auto& [node, list] : f.PodsByNode()) REQUIRE(MarkReady(f.pods, list[0]).ok());
  CHECK(Eventually([&] {
    auto got = f.Get(f.daemon_sets, "agent");
    return StatusInt(got, "numberReady") == 3 && StatusInt(got, "numberAvailable") == 3 &&
           StatusInt(got, "numberUnavailable") == 0;
  }));
  CHECK(f.RolloutComplete());

  // One that tolerates the dedicated taint and selects every node.
  f.api.Create(client::kDaemonSets, "default",
               DaemonSetJson("", R"("tolerations":[{"key":"dedicated","operator":"Exists"}],)", "tolerant"));
  CHECK(Eventually([&] { return f.NodesWithPods("tolerant") == std::set<std::string>{"n1", "n2", "n3", "n4", "n5"}; }));

  // Its revision.
  auto revs = f.List(f.revisions, "app=agent");
  REQUIRE(revs.size() == 1);
  CHECK(RevisionNumber(revs[0]) == 1);
  CHECK(NameOf(revs[0]) == "agent-" + Label(revs[0], "controller-revision-hash"));
  CHECK(Label(revs[0], "controller-revision-hash") == Label(f.PodsByNode()["n1"][0], "controller-revision-hash"));
}

TEST_CASE("nodes that come get a daemon pod, nodes that go or stop matching lose it") {
  DaemonFixture f;
  f.Node("n1", R"({"role":"worker"})");
  f.Node("n2", R"({"role":"worker"})");
  f.api.Create(client::kDaemonSets, "default", DaemonSetJson("", R"("nodeSelector":{"role":"worker"},)"));
  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n1", "n2"}; }));

  f.Node("n3", R"({"role":"worker"})");
  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n1", "n2", "n3"}; }));

  REQUIRE(f.nodes.Delete("", "n2").ok());
  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n1", "n3"}; }));

  auto relabeled = f.nodes.Patch("", "n1", client::PatchType::kMerge, R"({"metadata":{"labels":{"role":null}}})");
  REQUIRE(relabeled.ok());
  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n3"}; }));

  // A pod already bound to a node that disappears is removed outright (no kubelet is left to
  // finish a graceful deletion).
  std::string pod_name(NameOf(f.PodsByNode()["n3"][0]));
  auto body = json::ParseJson(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")" + pod_name +
                              R"("},"target":{"kind":"Node","name":"n3"}})");
  REQUIRE(f.pods.CreateSubresource("default", pod_name, "binding", *body).ok());
  REQUIRE(f.nodes.Delete("", "n3").ok());
  CHECK(Eventually([&] { return f.List(f.pods, "app=agent").empty(); }));
  CHECK(Eventually([&] {
    auto got = f.Get(f.daemon_sets, "agent");
    return StatusInt(got, "desiredNumberScheduled") == 0 && StatusInt(got, "currentNumberScheduled") == 0;
  }));
}

TEST_CASE("surplus pods on a node go, the oldest stays; a failed pod is replaced") {
  DaemonFixture f;
  f.Node("n1");
  f.api.Create(client::kDaemonSets, "default", DaemonSetJson());
  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n1"}; }));
  std::string first(NameOf(f.PodsByNode()["n1"][0]));

  // An orphan for the same node, created later: adopted, then deleted as the surplus.
  std::this_thread::sleep_for(1100ms);  // creation times have one-second resolution
  f.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"extra","labels":{"app":"agent"}},"spec":{"affinity":{"nodeAffinity":)"
               R"({"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":)"
               R"([{"key":"metadata.name","operator":"In","values":["n1"]}]}]}}},)"
               R"("containers":[{"name":"c","image":"agent:1"}]}})");
  REQUIRE(Eventually([&] {
    auto pods = f.List(f.pods, "app=agent");
    return pods.size() == 1 && NameOf(pods[0]) == first;
  }));

  auto pod = f.Get(f.pods, first);
  REQUIRE(SetPhase(f.pods, pod, "Failed").ok());
  CHECK(Eventually([&] {
    auto by_node = f.PodsByNode();
    return by_node["n1"].size() == 1 && NameOf(by_node["n1"][0]) != first;
  }));
}

TEST_CASE("a rolling update replaces one node's pod at a time") {
  DaemonFixture f;
  FakeKubelet kubelet(f.pods, 50ms);
  for (const char* n : {"n1", "n2", "n3"}) f.Node(n);
  f.api.Create(client::kDaemonSets, "default", DaemonSetJson());
  REQUIRE(Eventually([&] {
    auto got = f.Get(f.daemon_sets, "agent");
    return StatusInt(got, "numberAvailable") == 3 && f.RolloutComplete();
  }));
  std::string old_hash = Label(f.PodsByNode()["n1"][0], "controller-revision-hash");

  PodHistory history(f.pods, "app=agent");
  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"agent:2"}]}}}})").ok());
  REQUIRE(Eventually(
      [&] {
        auto by_node = f.PodsByNode();
        if (by_node.size() != 3) return false;
        for (const auto& [node, list] : by_node) {
          if (list.size() != 1 || Image(list[0]) != "agent:2" || !IsPodReady(list[0])) return false;
        }
        auto got = f.Get(f.daemon_sets, "agent");
        return StatusInt(got, "updatedNumberScheduled") == 3 && StatusInt(got, "numberAvailable") == 3 &&
               StatusInt(got, "observedGeneration") == 2 && f.RolloutComplete();
      },
      15s));
  std::string new_hash = Label(f.PodsByNode()["n1"][0], "controller-revision-hash");
  CHECK(new_hash != old_hash);

  // maxUnavailable 1: at every moment at least two nodes have a ready pod, none has two.
  int checks = 0;
  for (int i = 0; i < 20; ++i) {
    history.Drain(30ms, [&](const std::vector<const rapidjson::Value*>& active) {
      ++checks;
      std::map<std::string, int> per_node;
      int ready = 0;
      for (const auto* p : active) {
        ++per_node[DaemonPodTargetNode(*p).value_or("?")];
        if (IsPodReady(*p)) ++ready;
      }
      REQUIRE(ready >= 2);
      for (const auto& [node, count] : per_node) REQUIRE(count == 1);
    });
  }
  CHECK(checks > 6);

  auto revs = f.List(f.revisions, "app=agent");
  REQUIRE(revs.size() == 2);
  for (const auto& r : revs) {
    std::string hash = Label(r, "controller-revision-hash");
    CHECK(RevisionNumber(r) == (hash == new_hash ? 2 : 1));
    CHECK(NameOf(r) == "agent-" + hash);
    CHECK(Image(r["data"]["spec"]["template"]) == (hash == new_hash ? "agent:2" : "agent:1"));
  }
}

TEST_CASE("with maxSurge the new pod starts beside the old one, which goes once it is available") {
  DaemonFixture f;
  FakeKubelet kubelet(f.pods, 100ms);
  for (const char* n : {"n1", "n2", "n3"}) f.Node(n);
  f.api.Create(
      client::kDaemonSets, "default",
      DaemonSetJson(R"("updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},)"));
  REQUIRE(Eventually([&] { return StatusInt(f.Get(f.daemon_sets, "agent"), "numberAvailable") == 3; }));

  PodHistory history(f.pods, "app=agent");
  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"agent:2"}]}}}})").ok());
  REQUIRE(Eventually(
      [&] {
        auto by_node = f.PodsByNode();
        if (by_node.size() != 3) return false;
        for (const auto& [node, list] : by_node) {
          if (list.size() != 1 || Image(list[0]) != "agent:2" || !IsPodReady(list[0])) return false;
        }
        return f.RolloutComplete() && StatusInt(f.Get(f.daemon_sets, "agent"), "observedGeneration") == 2;
      },
      15s));
  // Every node always has a ready pod; at most one node has two pods.
  bool surged = false;
  for (int i = 0; i < 20; ++i) {
    history.Drain(30ms, [&](const std::vector<const rapidjson::Value*>& active) {
      std::map<std::string, int> pods, ready;
      for (const auto* p : active) {
        std::string node = DaemonPodTargetNode(*p).value_or("?");
        ++pods[node];
        if (IsPodReady(*p)) ++ready[node];
      }
      int doubled = 0;
      for (const auto& [node, count] : pods) doubled += count > 1 ? 1 : 0;
      for (const char* n : {"n1", "n2", "n3"}) REQUIRE(ready[n] >= 1);
      REQUIRE(doubled <= 1);
      surged = surged || doubled == 1;
    });
  }
  CHECK(surged);
}

TEST_CASE("OnDelete: pods keep their template until they are deleted") {
  DaemonFixture f;
  for (const char* n : {"n1", "n2"}) f.Node(n);
  f.api.Create(client::kDaemonSets, "default", DaemonSetJson(R"("updateStrategy":{"type":"OnDelete"},)"));
  REQUIRE(Eventually([&] { return f.NodesWithPods() == std::set<std::string>{"n1", "n2"}; }));
  auto before = f.PodsByNode();
  std::string n1_pod(NameOf(before["n1"][0])), n2_pod(NameOf(before["n2"][0]));

  REQUIRE(f.Patch(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"agent:2"}]}}}})").ok());
  REQUIRE(Eventually([&] {
    auto got = f.Get(f.daemon_sets, "agent");
    return StatusInt(got, "observedGeneration") == 2 && StatusInt(got, "updatedNumberScheduled") == 0;
  }));
  std::this_thread::sleep_for(300ms);
  auto after = f.PodsByNode();
  CHECK(NameOf(after["n1"][0]) == n1_pod);
  CHECK(NameOf(after["n2"][0]) == n2_pod);

  REQUIRE(f.pods.Delete("default", n1_pod).ok());
  CHECK(Eventually([&] {
    auto by_node = f.PodsByNode();
    return by_node["n1"].size() == 1 && Image(by_node["n1"][0]) == "agent:2" && by_node["n2"].size() == 1 &&
           NameOf(by_node["n2"][0]) == n2_pod;
  }));
  CHECK(Eventually([&] { return StatusInt(f.Get(f.daemon_sets, "agent"), "updatedNumberScheduled") == 1; }));
}

}  // namespace
}  // namespace kite::controllers
