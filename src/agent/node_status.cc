#include "src/agent/node_status.h"

#include <cstdio>
#include <ctime>

#include "src/agent/json_build.h"
#include "src/base/clock.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using namespace jb;  // NOLINT: the builder's few names

struct ConditionSpec {
  const char* type;
  const char* status;
  const char* reason;
  const char* message;
};

// The kubelet's conditions when all is well (nodestatus/setters.go), in its order.
constexpr ConditionSpec kConditions[] = {
    {"MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"},
    {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
    {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
    {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
};
// The same conditions when the node is short of memory or disk (node_pressure.h).
constexpr ConditionSpec kMemoryPressure = {"MemoryPressure", "True", "KubeletHasInsufficientMemory",
                                           "kubelet has insufficient memory available"};
constexpr ConditionSpec kDiskPressure = {"DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure"};
// Ready while the pod network is not set up (setters.go ReadyCondition: the runtime's and
// the network's errors, joined).
constexpr ConditionSpec kNetworkNotReady = {"Ready", "False", "KubeletNotReady", kNetworkNotReadyMessage};

// The previous lastTransitionTime of condition `type` when its status was `status`.
std::string_view PreviousTransition(const rapidjson::Value* previous_status, std::string_view type,
                                    std::string_view status) {
  const rapidjson::Value* conditions = previous_status ? json::Member(*previous_status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return {};
  for (const auto& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == type) {
      return json::StringMember(c, "status") == status ? json::StringMember(c, "lastTransitionTime")
                                                       : std::string_view();
    }
  }
  return {};
}

Value Resources(const NodeResources& r, Alloc& a) {
  Value out = Object();
  PutStr(out, "cpu", r.cpu, a);
  PutStr(out, "ephemeral-storage", r.ephemeral_storage, a);
  PutStr(out, "memory", r.memory, a);
  PutStr(out, "pods", r.pods, a);
  return out;
}

}  // namespace

std::string FormatMicroTime(int64_t unix_millis) {
  std::string seconds = FormatRfc3339Seconds(unix_millis);  // "...:05Z"
  int64_t millis = unix_millis % 1000;
  if (millis < 0) millis += 1000;
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%03lld000Z", static_cast<long long>(millis));
  return seconds.substr(0, seconds.size() - 1) + frac;
}

rapidjson::Document NodeObject(const NodeDescription& node) {
  rapidjson::Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  PutStr(d, "apiVersion", "v1", a);
  PutStr(d, "kind", "Node", a);
  Value metadata = Object();
  PutStr(metadata, "name", node.name, a);
  Value labels = Object();
  PutStr(labels, "beta.kubernetes.io/arch", node.architecture, a);
  PutStr(labels, "beta.kubernetes.io/os", "linux", a);
  PutStr(labels, "kubernetes.io/arch", node.architecture, a);
  PutStr(labels, "kubernetes.io/hostname", node.name, a);
  PutStr(labels, "kubernetes.io/os", "linux", a);
  for (const auto& [key, value] : node.extra_labels) {
    if (!labels.HasMember(key)) PutStr(labels, key, value, a);
  }
  Put(metadata, "labels", std::move(labels), a);
  Value annotations = Object();
  PutStr(annotations, "volumes.kubernetes.io/controller-managed-attach-detach", "true", a);
  if (!node.local_path_root.empty()) PutStr(annotations, kLocalPathRootAnnotation, node.local_path_root, a);
  Put(metadata, "annotations", std::move(annotations), a);
  Put(d, "metadata", std::move(metadata), a);
  Value spec = Object();
  if (!node.pod_cidr.empty()) {
    PutStr(spec, "podCIDR", node.pod_cidr, a);
    Value cidrs = Array();
    cidrs.PushBack(Str(node.pod_cidr, a), a);
    Put(spec, "podCIDRs", std::move(cidrs), a);
  }
  Put(d, "spec", std::move(spec), a);
  return d;
}

rapidjson::Document NodeStatus(const NodeDescription& node, int64_t now_millis,
                               const rapidjson::Value* previous_status, NodePressure pressure,
                               bool network_ready) {
  rapidjson::Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  std::string now = FormatRfc3339Seconds(now_millis);
  Put(d, "capacity", Resources(node.resources, a), a);
  Put(d, "allocatable", Resources(node.resources, a), a);
  Value conditions = Array();
  for (ConditionSpec spec : kConditions) {
    if (spec.type == std::string_view("MemoryPressure") && pressure.memory) spec = kMemoryPressure;
    if (spec.type == std::string_view("DiskPressure") && pressure.disk) spec = kDiskPressure;
    if (spec.type == std::string_view("Ready") && !network_ready) spec = kNetworkNotReady;
    Value c = Object();
    PutStr(c, "type", spec.type, a);
    PutStr(c, "status", spec.status, a);
    PutStr(c, "lastHeartbeatTime", now, a);
    std::string_view since = PreviousTransition(previous_status, spec.type, spec.status);
    PutStr(c, "lastTransitionTime", since.empty() ? std::string_view(now) : since, a);
    PutStr(c, "reason", spec.reason, a);
    PutStr(c, "message", spec.message, a);
    conditions.PushBack(std::move(c), a);
  }
  Put(d, "conditions", std::move(conditions), a);
  Value addresses = Array();
  if (!node.internal_ip.empty()) {
    Value ip = Object();
    PutStr(ip, "type", "InternalIP", a);
    PutStr(ip, "address", node.internal_ip, a);
    addresses.PushBack(std::move(ip), a);
  }
  Value host = Object();
  PutStr(host, "type", "Hostname", a);
  PutStr(host, "address", node.name, a);
  addresses.PushBack(std::move(host), a);
  Put(d, "addresses", std::move(addresses), a);
  Value endpoint = Object();
  PutInt(endpoint, "Port", node.kubelet_port, a);  // DaemonEndpoint's field is "Port"
  Value endpoints = Object();
  Put(endpoints, "kubeletEndpoint", std::move(endpoint), a);
  Put(d, "daemonEndpoints", std::move(endpoints), a);
  Value info = Object();
  PutStr(info, "machineID", node.machine_id, a);
  PutStr(info, "systemUUID", node.system_uuid, a);
  PutStr(info, "bootID", node.boot_id, a);
  PutStr(info, "kernelVersion", node.kernel_version, a);
  PutStr(info, "osImage", node.os_image, a);
  PutStr(info, "containerRuntimeVersion", node.container_runtime_version, a);
  PutStr(info, "kubeletVersion", kKubeletVersion, a);
  PutStr(info, "kubeProxyVersion", "", a);
  PutStr(info, "operatingSystem", "linux", a);
  PutStr(info, "architecture", node.architecture, a);
  Put(d, "nodeInfo", std::move(info), a);
  return d;
}

rapidjson::Document LeaseObject(const std::string& node_name, const std::string& node_uid,
                                int lease_duration_seconds, int64_t renew_millis) {
  rapidjson::Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  PutStr(d, "apiVersion", "coordination.k8s.io/v1", a);
  PutStr(d, "kind", "Lease", a);
  Value metadata = Object();
  PutStr(metadata, "name", node_name, a);
  PutStr(metadata, "namespace", kNodeLeaseNamespace, a);
  if (!node_uid.empty()) {
    Value owner = Object();
    PutStr(owner, "apiVersion", "v1", a);
    PutStr(owner, "kind", "Node", a);
    PutStr(owner, "name", node_name, a);
    PutStr(owner, "uid", node_uid, a);
    Value owners = Array();
    owners.PushBack(std::move(owner), a);
    Put(metadata, "ownerReferences", std::move(owners), a);
  }
  Put(d, "metadata", std::move(metadata), a);
  Value spec = Object();
  PutStr(spec, "holderIdentity", node_name, a);
  PutInt(spec, "leaseDurationSeconds", lease_duration_seconds, a);
  PutStr(spec, "renewTime", FormatMicroTime(renew_millis), a);
  Put(d, "spec", std::move(spec), a);
  return d;
}

}  // namespace kite::agent
