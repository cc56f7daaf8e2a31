#include <catch2/catch.hpp>

#include "src/agent/node_status.h"
#include "src/agent/sim_cluster.h"
#include "src/base/clock.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

NodeDescription Node() {
  NodeDescription n;
  n.name = "worker-1";
  n.internal_ip = "172.16.0.9";
  n.pod_cidr = "10.42.9.0/24";
  n.resources = {"8", "16Gi", "110", "100Gi"};
  n.machine_id = "m";
  n.system_uuid = "s";
  n.boot_id = "b";
  n.extra_labels = {{"kite.dev/simulated", "true"}, {"kubernetes.io/os", "windows"}};
  return n;
}

TEST_CASE("the Node object: labels, annotation, podCIDRs") {
  rapidjson::Document node = NodeObject(Node());
  CHECK(json::StringMember(node, "kind") == "Node");
  CHECK(json::ToJson(*json::Member(*json::Member(node, "metadata"), "labels")) ==
        R"({"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/arch":"amd64",)"
        R"("kubernetes.io/hostname":"worker-1","kubernetes.io/os":"linux","kite.dev/simulated":"true"})");
  CHECK(json::ToJson(*json::Member(node, "spec")) == R"({"podCIDR":"10.42.9.0/24","podCIDRs":["10.42.9.0/24"]})");
  NodeDescription no_cidr = Node();
  no_cidr.pod_cidr.clear();
  CHECK(json::ToJson(*json::Member(NodeObject(no_cidr), "spec")) == "{}");
}

TEST_CASE("a node that keeps local-path volumes says where") {
  rapidjson::Document plain = NodeObject(Node());
  const rapidjson::Value* md = json::Member(plain, "metadata");
  CHECK(json::ToJson(*json::Member(*md, "annotations")) ==
        R"({"volumes.kubernetes.io/controller-managed-attach-detach":"true"})");
  NodeDescription with_root = Node();
  with_root.local_path_root = "/var/lib/kite/storage";
  rapidjson::Document node = NodeObject(with_root);
  CHECK(json::StringMember(*json::Member(*json::Member(node, "metadata"), "annotations"), "kite.dev/local-path-root") ==
        "/var/lib/kite/storage");
}

TEST_CASE("the Node status: capacity, conditions, addresses, nodeInfo") {
  int64_t t0 = 1'700'000'000'000;
  rapidjson::Document s = NodeStatus(Node(), t0, nullptr);
  CHECK(json::ToJson(*json::Member(s, "capacity")) ==
        R"({"cpu":"8","ephemeral-storage":"100Gi","memory":"16Gi","pods":"110"})");
  CHECK(json::ToJson(*json::Member(s, "allocatable")) == json::ToJson(*json::Member(s, "capacity")));
  const rapidjson::Value& conditions = *json::Member(s, "conditions");
  REQUIRE(conditions.Size() == 4);
  CHECK(json::ToJson(conditions[3]) ==
        R"({"type":"Ready","status":"True","lastHeartbeatTime":"2023-11-14T22:13:20Z",)"
        R"("lastTransitionTime":"2023-11-14T22:13:20Z","reason":"KubeletReady","message":"kubelet is posting ready status"})");
  CHECK(json::StringMember(conditions[0], "type") == "MemoryPressure");
  CHECK(json::StringMember(conditions[0], "reason") == "KubeletHasSufficientMemory");
  CHECK(json::StringMember(conditions[1], "reason") == "KubeletHasNoDiskPressure");
  CHECK(json::StringMember(conditions[2], "message") == "kubelet has sufficient PID available");
  CHECK(json::StringMember(conditions[2], "status") == "False");
  CHECK(json::ToJson(*json::Member(s, "addresses")) ==
        R"([{"type":"InternalIP","address":"172.16.0.9"},{"type":"Hostname","address":"worker-1"}])");
  CHECK(json::ToJson(*json::Member(s, "daemonEndpoints")) == R"({"kubeletEndpoint":{"Port":10250}})");
  const rapidjson::Value& info = *json::Member(s, "nodeInfo");
  CHECK(json::StringMember(info, "kubeletVersion") == "v1.32.0+kite");
  CHECK(json::StringMember(info, "containerRuntimeVersion") == "fake://1.0");
  CHECK(json::StringMember(info, "operatingSystem") == "linux");
  CHECK(json::StringMember(info, "architecture") == "amd64");
  CHECK(json::StringMember(info, "machineID") == "m");

  // Later: heartbeats move, transitions stay.
  rapidjson::Document later = NodeStatus(Node(), t0 + 300'000, &s);
  const rapidjson::Value& ready = (*json::Member(later, "conditions"))[3];
  CHECK(json::StringMember(ready, "lastHeartbeatTime") == "2023-11-14T22:18:20Z");
  CHECK(json::StringMember(ready, "lastTransitionTime") == "2023-11-14T22:13:20Z");
  // A condition that was different (Unknown, set by a controller) transitions now.
  json::SetStringMember((*json::MutableMember(s, "conditions"))[3], "status", "Unknown", s.GetAllocator());
  rapidjson::Document back = NodeStatus(Node(), t0 + 400'000, &s);
  CHECK(json::StringMember((*json::Member(back, "conditions"))[3], "lastTransitionTime") == "2023-11-14T22:20:00Z");
}

TEST_CASE("pressure turns MemoryPressure and DiskPressure True with the kubelet's reasons") {
  int64_t t0 = 1'700'000'000'000;
  rapidjson::Document calm = NodeStatus(Node(), t0, nullptr);
  rapidjson::Document s = NodeStatus(Node(), t0 + 60'000, &calm, NodePressure{.memory = true, .disk = true});
  const rapidjson::Value& conditions = *json::Member(s, "conditions");
  CHECK(json::StringMember(conditions[0], "status") == "True");
  CHECK(json::StringMember(conditions[0], "reason") == "KubeletHasInsufficientMemory");
  CHECK(json::StringMember(conditions[0], "message") == "kubelet has insufficient memory available");
  CHECK(json::StringMember(conditions[0], "lastTransitionTime") == "2023-11-14T22:14:20Z");
  CHECK(json::StringMember(conditions[1], "status") == "True");
  CHECK(json::StringMember(conditions[1], "reason") == "KubeletHasDiskPressure");
  CHECK(json::StringMember(conditions[2], "status") == "False");  // PIDPressure
  CHECK(json::StringMember(conditions[3], "status") == "True");   // still Ready, as the kubelet
}

TEST_CASE("without its pod network the node is NotReady as the kubelet words it; Ready once it has one") {
  int64_t t0 = 1'700'000'000'000;
  rapidjson::Document waiting = NodeStatus(Node(), t0, nullptr, {}, false);
  const rapidjson::Value& ready = (*json::Member(waiting, "conditions"))[3];
  CHECK(json::StringMember(ready, "type") == "Ready");
  CHECK(json::StringMember(ready, "status") == "False");
  CHECK(json::StringMember(ready, "reason") == "KubeletNotReady");
  CHECK(json::StringMember(ready, "message") ==
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
        "message:Network plugin returns error: cni plugin not initialized");
  rapidjson::Document later = NodeStatus(Node(), t0 + 5'000, &waiting, {}, true);
  const rapidjson::Value& now_ready = (*json::Member(later, "conditions"))[3];
  CHECK(json::StringMember(now_ready, "status") == "True");
  CHECK(json::StringMember(now_ready, "reason") == "KubeletReady");
  CHECK(json::StringMember(now_ready, "lastTransitionTime") == "2023-11-14T22:13:25Z");
}

TEST_CASE("the node Lease and MicroTime") {
  CHECK(FormatMicroTime(1'700'000'000'123) == "2023-11-14T22:13:20.123000Z");
  CHECK(FormatMicroTime(1'700'000'000'000) == "2023-11-14T22:13:20.000000Z");
  rapidjson::Document lease = LeaseObject("worker-1", "uid-1", 40, 1'700'000'000'005);
  CHECK(json::ToJson(lease) ==
        R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"worker-1",)"
        R"("namespace":"kube-node-lease","ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"worker-1",)"
        R"("uid":"uid-1"}]},"spec":{"holderIdentity":"worker-1","leaseDurationSeconds":40,)"
        R"("renewTime":"2023-11-14T22:13:20.005000Z"}})");
}

TEST_CASE("simulated nodes: names, addresses and CIDRs are distinct") {
  SimClusterOptions options;
  CHECK(SimCluster::NodeName("sim-node-", 1) == "sim-node-00001");
  CHECK(SimCluster::NodeName("sim-node-", 123456) == "sim-node-123456");
  NodeDescription one = SimCluster::SimNode(options, 1);
  NodeDescription two = SimCluster::SimNode(options, 2);
  NodeDescription far = SimCluster::SimNode(options, 300);
  CHECK(one.name == "sim-node-00001");
  CHECK(one.internal_ip == "172.16.0.1");
  CHECK(one.pod_cidr == "10.42.1.0/24");
  CHECK(two.pod_cidr == "10.42.2.0/24");
  CHECK(far.pod_cidr == "10.43.44.0/24");
  CHECK(far.internal_ip == "172.16.1.44");
  CHECK(one.machine_id.size() == 32);
  CHECK(one.machine_id != two.machine_id);
  CHECK(one.system_uuid.size() == 36);
  CHECK(one.extra_labels.at("kite.dev/simulated") == "true");
  CHECK_FALSE(SimCluster::Create(nullptr, SimClusterOptions{.nodes = 0}).ok());
  CHECK_FALSE(SimCluster::Create(nullptr, SimClusterOptions{.nodes = 1, .name_prefix = "Bad_"}).ok());
}

}  // namespace
}  // namespace kite::agent
