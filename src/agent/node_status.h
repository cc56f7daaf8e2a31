// What a node agent writes about its node, as a kubelet writes it: the Node object it
// registers (labels, podCIDR), the Node's status (capacity, conditions, addresses, nodeInfo,
// daemon endpoints) and the heartbeat Lease in kube-node-lease.
// (kubernetes pkg/kubelet/kubelet_node_status.go, pkg/kubelet/nodestatus/setters.go,
// pkg/kubelet/nodelease.)
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>

#include "src/agent/node_pressure.h"

namespace kite::agent {

inline constexpr char kKubeletVersion[] = "v1.32.0+kite";
inline constexpr char kNodeLeaseNamespace[] = "kube-node-lease";
// The Node annotation naming the node's local-path root (the same name as in
// src/server/controllers/persistent_volume_util.h).
inline constexpr char kLocalPathRootAnnotation[] = "kite.dev/local-path-root";

// Quantities as Kubernetes prints them ("4", "8Gi"); allocatable equals capacity.
struct NodeResources {
  std::string cpu = "4";
  std::string memory = "8Gi";
  std::string pods = "110";
  std::string ephemeral_storage = "50Gi";
};

// Everything the Node object says about one node.
struct NodeDescription {
  std::string name;
  std::string internal_ip;
  std::string pod_cidr;  // "10.42.3.0/24"; "" = the node has none
  NodeResources resources;
  std::string architecture = "amd64";  // Go's GOARCH names
  std::string os_image = "Kite Simulated Node";
  std::string kernel_version = "6.1.0-kite";
  std::string container_runtime_version = "fake://1.0";
  std::string machine_id;   // 32 hex digits
  std::string system_uuid;  // UUID text
  std::string boot_id;      // UUID text
  int kubelet_port = 10250;
  std::map<std::string, std::string> extra_labels;
  // Where this node keeps local-path volumes (<data-dir>/storage), published as the Node
  // annotation kite.dev/local-path-root; "" (simulated nodes) = none.
  std::string local_path_root;
};

// The Node to create: metadata (name, the well-known labels kubernetes.io/hostname, os,
// arch and their beta.kubernetes.io forms, extra labels, the attach-detach annotation and
// kite.dev/local-path-root when the node has a local-path root) and
// spec.podCIDR(s) when the description has one. No status.
rapidjson::Document NodeObject(const NodeDescription& node);

// The Ready condition's message while the node's pod network is not set up (no pod CIDR
// yet, so no CNI network list): what a kubelet 1.32 on containerd reports then
// ("container runtime network not ready: " and the CRI NetworkReady condition).
inline constexpr char kNetworkNotReadyMessage[] =
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized";

// The node's status at `now_millis`: capacity, allocatable, conditions MemoryPressure and
// DiskPressure (True as `pressure` says), PIDPressure (False) and Ready with the kubelet's
// reasons and messages, addresses, daemonEndpoints and nodeInfo. Ready is True
// ("KubeletReady") when `network_ready`, else False with reason "KubeletNotReady" and
// kNetworkNotReadyMessage. Every condition's lastHeartbeatTime is now; lastTransitionTime
// is kept from `previous_status` (the status the API has, may be null) when that
// condition's status is unchanged, else now.
rapidjson::Document NodeStatus(const NodeDescription& node, int64_t now_millis,
                               const rapidjson::Value* previous_status, NodePressure pressure = {},
                               bool network_ready = true);

// The node's Lease: kube-node-lease/<node>, holderIdentity and name the node,
// leaseDurationSeconds, renewTime (MicroTime) and an ownerReference to the Node (by uid)
// so the Lease goes when the Node does.
rapidjson::Document LeaseObject(const std::string& node_name, const std::string& node_uid,
                                int lease_duration_seconds, int64_t renew_millis);

// metav1.MicroTime as Kubernetes writes it: "2024-05-01T10:00:00.123000Z".
std::string FormatMicroTime(int64_t unix_millis);

}  // namespace kite::agent
