// Pod affinity and anti-affinity (Kubernetes' InterPodAffinity plugin).
//
// A term selects pods by labels within namespaces (its own list, a namespace selector, or
// the pod's namespace) and names a topology key: the domains are the values of that node
// label.
// Filter, in this order:
//   - required affinity: for every term, the node must have the topology label, and its
//     domain must hold a pod that matches all the terms — except that the first pod of a
//     group that matches its own terms may go anywhere with the labels when no such pod
//     exists yet. "node(s) didn't match pod affinity rules", UnschedulableAndUnresolvable.
//   - required anti-affinity: no pod matching a term in the node's domain of that term.
//     "node(s) didn't match pod anti-affinity rules", Unschedulable.
//   - existing pods' required anti-affinity: no pod whose anti-affinity term matches the
//     incoming pod in a domain the node belongs to. "node(s) didn't satisfy existing pods
//     anti-affinity rules", Unschedulable.
// Score: per domain, + weight for each preferred affinity term of the pod matched by an
// existing pod there, - weight for preferred anti-affinity; symmetric contributions from
// existing pods' preferred terms (and their required affinity, weight 1) that match the
// incoming pod; normalized min..max to 0..100.
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

class InterPodAffinity final : public Plugin {
 public:
  static constexpr std::string_view kReasonAffinity = "node(s) didn't match pod affinity rules";
  static constexpr std::string_view kReasonAntiAffinity = "node(s) didn't match pod anti-affinity rules";
  static constexpr std::string_view kReasonExistingAntiAffinity =
      "node(s) didn't satisfy existing pods anti-affinity rules";
  // Weight of an existing pod's required affinity term in the score (Kubernetes'
  // hardPodAffinityWeight default).
  static constexpr int64_t kHardPodAffinityWeight = 1;

  std::string_view Name() const override { return "InterPodAffinity"; }
  PreFilterResult PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot) override;
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  int64_t ScoreWeight() const override { return 2; }
  void PreScore(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                const std::vector<const NodeInfo*>& feasible) override;
  int64_t Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  void NormalizeScore(const CycleState& state, const std::vector<const NodeInfo*>& nodes,
                      std::vector<int64_t>& scores) const override;

 private:
  // Its address keys the score data in the CycleState, apart from the filter data.
  const char score_key_ = 0;
};

}  // namespace kite::scheduler
