// Spreading pods over topology domains (Kubernetes' PodTopologySpread plugin).
//
// A constraint counts the pods its label selector matches (same namespace, not being
// deleted) per value of a node label (the topology key). Only nodes that carry every key
// of the pod's constraints take part, and — nodeAffinityPolicy Honor, the default — only
// nodes matching the pod's required node selector/affinity; nodeTaintsPolicy Honor also
// leaves out nodes with taints the pod does not tolerate. matchLabelKeys add the pod's own
// label values to the selector.
//
// Filter (whenUnsatisfiable DoNotSchedule): a node without the topology label fails with
// "node(s) didn't match pod topology spread constraints (missing required label)"
// (UnschedulableAndUnresolvable); otherwise the pod fits when
//     pods in the node's domain + (1 if the pod matches its own selector) - global minimum
// is at most maxSkew ("node(s) didn't match pod topology spread constraints",
// Unschedulable). With minDomains set and fewer domains than that, the minimum is 0.
//
// Score (ScheduleAnyway): each node scores, per constraint, the matching pods of its domain
// times log(number of domains + 2), plus maxSkew - 1; fewer is better after normalizing.
// A pod without constraints gets the system defaults — kubernetes.io/hostname maxSkew 3 and
// topology.kubernetes.io/zone maxSkew 5, ScheduleAnyway — over the pods of the same
// controller (Kubernetes derives that selector from the Services, ReplicaSets and
// StatefulSets selecting the pod; Kite uses the controller ownerReference).
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

inline constexpr std::string_view kLabelHostname = "kubernetes.io/hostname";
inline constexpr std::string_view kLabelTopologyZone = "topology.kubernetes.io/zone";

struct SpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  bool do_not_schedule = true;  // whenUnsatisfiable
  int32_t min_domains = 1;
  selection::LabelSelector selector = selection::LabelSelector::Nothing();
  std::string controller_uid;  // system default constraints: select by controller instead
  bool honor_node_affinity = true;
  bool honor_node_taints = false;

  // Whether `pod` counts for this constraint of a pod in namespace `ns`.
  bool Counts(const PodInfo& pod, std::string_view ns) const;
};

// The pod's constraints with the given whenUnsatisfiable (system defaults when it has none
// and `do_not_schedule` is false). kInvalidArgument for a malformed selector.
Result<std::vector<SpreadConstraint>> SpreadConstraints(const PodInfo& pod, bool do_not_schedule);

class PodTopologySpread final : public Plugin {
 public:
  static constexpr std::string_view kReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
  static constexpr std::string_view kReasonNodeLabelNotMatch =
      "node(s) didn't match pod topology spread constraints (missing required label)";

  std::string_view Name() const override { return "PodTopologySpread"; }
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
