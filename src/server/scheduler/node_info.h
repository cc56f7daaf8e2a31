// NodeInfo: one node as the scheduler sees it — the Node object (labels, taints,
// allocatable) and the pods bound or assumed on it with their summed requests and host
// ports (Kubernetes' framework.NodeInfo).
//
// A NodeInfo may exist without a Node object while pods still name it (the node was deleted
// or has not been seen yet); such nodes are never offered to pods.
//
// Thread-safety: none; the SchedulerCache guards its NodeInfos, and a scheduling cycle
// reads them under that guard.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/server/scheduler/pod_info.h"
#include "src/server/scheduler/resources.h"
#include "src/server/scheduler/taints.h"

namespace kite::scheduler {

class NodeInfo {
 public:
  explicit NodeInfo(std::string name) : name_(std::move(name)) {}
  // A NodeInfo for `node` (a Node object) with no pods.
  static NodeInfo FromNode(ObjectPtr node);

  const std::string& name() const { return name_; }
  // nullptr when the Node object is unknown.
  const ObjectPtr& node() const { return node_; }
  void SetNode(ObjectPtr node);
  void ClearNode();

  // metadata.labels of the node, nullptr when it has none.
  const rapidjson::Value* labels() const { return labels_; }
  // The value of label `key`, or nullptr when absent.
  const std::string* Label(std::string_view key) const;
  const Resources& allocatable() const { return allocatable_; }
  const std::vector<Taint>& taints() const { return taints_; }
  bool unschedulable() const { return unschedulable_; }
  // Asks the CPU early for the fields every filter reads: a cycle visits hundreds of
  // NodeInfos scattered over the heap, and the first touch of each is a cache miss.
  void Prefetch() const {
    __builtin_prefetch(&allocatable_);
    __builtin_prefetch(&unschedulable_);
    __builtin_prefetch(&requested_);
    __builtin_prefetch(&requested_.scalar);  // the next line: the fit filter reads it too
  }

  // Pods on the node, by key.
  const std::map<std::string, PodInfoPtr, std::less<>>& pods() const { return pods_; }
  // Sum of the pods' requests, and the same with the scoring defaults for unset cpu/memory.
  const Resources& requested() const { return requested_; }
  const Resources& non_zero_requested() const { return non_zero_requested_; }
  // Number of pods with any pod (anti-)affinity term, and with required anti-affinity.
  int pods_with_affinity() const { return pods_with_affinity_; }
  int pods_with_required_anti_affinity() const { return pods_with_required_anti_affinity_; }

  // Adds or replaces (same key) a pod.
  void AddPod(PodInfoPtr pod);
  // Removes the pod with `key`; false when it was not there.
  bool RemovePod(std::string_view key);

  // Whether `port` collides with a host port in use: same protocol and port, and either side
  // binds every address (0.0.0.0) or both bind the same one.
  bool HostPortConflicts(const HostPort& port) const;

 private:
  void Account(const PodInfo& pod, int sign);

  std::string name_;
  ObjectPtr node_;
  const rapidjson::Value* labels_ = nullptr;
  std::map<std::string, std::string, std::less<>> label_map_;
  Resources allocatable_;
  std::vector<Taint> taints_;
  bool unschedulable_ = false;

  std::map<std::string, PodInfoPtr, std::less<>> pods_;
  Resources requested_;
  Resources non_zero_requested_;
  std::map<HostPort, int> used_ports_;
  int pods_with_affinity_ = 0;
  int pods_with_required_anti_affinity_ = 0;
};

}  // namespace kite::scheduler
