// Resource plugins (Kubernetes' noderesources package).
//
// NodeResourcesFit
//   Filter: the pod fits when, for every resource it requests, its request plus what the
//   node's pods already request is within the node's allocatable; and one more pod stays
//   within allocatable "pods". Reasons: "Too many pods", "Insufficient cpu",
//   "Insufficient memory", "Insufficient ephemeral-storage", "Insufficient <scalar>" — all
//   of them, Unschedulable (preemption could free room).
//   Score: LeastAllocated over cpu and memory (weight 1 each) with the non-zero requests:
//   sum of (allocatable - requested) * 100 / allocatable, weighted and averaged.
// NodeResourcesBalancedAllocation
//   Score: 100 * (1 - standard deviation of the requested/allocatable fractions of cpu and
//   memory, each capped at 1): nodes whose resources stay evenly used score higher.
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

class NodeResourcesFit final : public Plugin {
 public:
  std::string_view Name() const override { return "NodeResourcesFit"; }
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  int64_t ScoreWeight() const override { return 1; }
  int64_t Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

class NodeResourcesBalancedAllocation final : public Plugin {
 public:
  std::string_view Name() const override { return "NodeResourcesBalancedAllocation"; }
  int64_t ScoreWeight() const override { return 1; }
  int64_t Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

// The reasons `pod` does not fit `node`'s free resources (empty when it fits), in Kubernetes'
// order: pods, cpu, memory, ephemeral-storage, then scalar resources by name.
std::vector<std::string> InsufficientResources(const PodInfo& pod, const NodeInfo& node);

}  // namespace kite::scheduler
