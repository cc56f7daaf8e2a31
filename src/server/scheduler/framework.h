// The scheduling framework's plugin interface, after Kubernetes' (pkg/scheduler/framework):
// a pod is placed by running, for each plugin in profile order,
//   PreFilter  once per pod: precompute state, optionally narrow the candidate nodes, or
//              reject the pod outright;
//   Filter     once per node: can the pod run there? (the first failing plugin decides the
//              node's status and its reasons);
//   PreScore / Score / NormalizeScore over the feasible nodes, each plugin's normalized score
//              (0..kMaxNodeScore) multiplied by its weight and summed.
// Plugins are stateless between pods; per-pod data lives in the CycleState.
//
// Thread-safety: plugins are called from one scheduling cycle at a time (the caller
// serializes cycles); their const methods must not mutate shared state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/scheduler/node_info.h"
#include "src/server/scheduler/pod_info.h"

namespace kite::scheduler {

inline constexpr int64_t kMaxNodeScore = 100;

// The outcome of PreFilter or Filter, as framework.Status: a code and the reasons shown in
// the unschedulable message.
struct PluginStatus {
  enum class Code {
    kSuccess,
    kUnschedulable,                 // the node might fit after preemption
    kUnschedulableAndUnresolvable,  // preemption cannot help on this node
    kError,                         // an internal failure; the pod is retried
  };
  Code code = Code::kSuccess;
  std::vector<std::string> reasons;

  static PluginStatus Success() { return {}; }
  static PluginStatus Unschedulable(std::vector<std::string> reasons) {
    return {Code::kUnschedulable, std::move(reasons)};
  }
  static PluginStatus Unresolvable(std::string reason) {
    return {Code::kUnschedulableAndUnresolvable, {std::move(reason)}};
  }
  static PluginStatus Error(std::string reason) { return {Code::kError, {std::move(reason)}}; }
  bool ok() const { return code == Code::kSuccess; }
  // Reasons joined by ", " (framework.Status.Message()).
  std::string Message() const;
};

// Per-cycle data of the plugins, one slot per plugin (keyed by the plugin's address).
class CycleState {
 public:
  struct Data {
    virtual ~Data() = default;
  };
  void Write(const void* owner, std::unique_ptr<Data> data) { data_[owner] = std::move(data); }
  template <class T>
  const T* Read(const void* owner) const {
    auto it = data_.find(owner);
    return it == data_.end() ? nullptr : static_cast<const T*>(it->second.get());
  }
  template <class T>
  T* Mutable(const void* owner) {
    auto it = data_.find(owner);
    return it == data_.end() ? nullptr : static_cast<T*>(it->second.get());
  }

 private:
  std::map<const void*, std::unique_ptr<Data>> data_;
};

// The cluster as one cycle sees it: every node with a Node object, in name order, and
// the namespaces (for namespace selectors). NodeInfos are owned elsewhere (the cache).
struct Snapshot {
  std::vector<const NodeInfo*> nodes;
  NamespaceLookup namespaces;
  // The nodes holding a pod with any pod (anti-)affinity term, and with a required
  // anti-affinity term (Kubernetes' HavePodsWithAffinityNodeInfoList and
  // HavePodsWithRequiredAntiAffinityNodeInfoList), so that inter-pod affinity does not visit
  // every node for every pod. Null when not indexed: then every node is a candidate.
  const std::vector<const NodeInfo*>* with_affinity = nullptr;
  const std::vector<const NodeInfo*>* with_required_anti_affinity = nullptr;

  // Every node, found by name (nullptr when unknown).
  const NodeInfo* Find(std::string_view name) const;
  const std::vector<const NodeInfo*>& NodesWithAffinity() const { return with_affinity ? *with_affinity : nodes; }
  const std::vector<const NodeInfo*>& NodesWithRequiredAntiAffinity() const {
    return with_required_anti_affinity ? *with_required_anti_affinity : nodes;
  }
};

struct PreFilterResult {
  PluginStatus status;
  // When set, only these nodes can fit (Kubernetes' PreFilterResult.NodeNames).
  std::optional<std::set<std::string>> node_names;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view Name() const = 0;

  virtual PreFilterResult PreFilter(CycleState& /*state*/, const PodInfo& /*pod*/, const Snapshot& /*snapshot*/) {
    return {};
  }
  virtual PluginStatus Filter(const CycleState& /*state*/, const PodInfo& /*pod*/, const NodeInfo& /*node*/) const {
    return PluginStatus::Success();
  }

  // The weight of this plugin's scores; 0 for plugins that do not score.
  virtual int64_t ScoreWeight() const { return 0; }
  // Called once with the nodes that passed the filters, before Score.
  virtual void PreScore(CycleState& /*state*/, const PodInfo& /*pod*/, const Snapshot& /*snapshot*/,
                        const std::vector<const NodeInfo*>& /*feasible*/) {}
  virtual int64_t Score(const CycleState& /*state*/, const PodInfo& /*pod*/, const NodeInfo& /*node*/) const {
    return 0;
  }
  // Rescales `scores` (one per node of `nodes`) into 0..kMaxNodeScore.
  virtual void NormalizeScore(const CycleState& /*state*/, const std::vector<const NodeInfo*>& /*nodes*/,
                              std::vector<int64_t>& /*scores*/) const {}
};

// Kubernetes' helper.DefaultNormalizeScore: scales scores so the highest becomes
// `max_priority` (all zero stays zero), then with `reverse` turns s into max_priority - s.
void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<int64_t>& scores);

}  // namespace kite::scheduler
