// Taint-based plugins (Kubernetes' TaintToleration and NodeUnschedulable).
//
// TaintToleration
//   Filter: the first NoSchedule / NoExecute taint of the node that the pod does not
//   tolerate rejects it: "node(s) had untolerated taint {<key>: <value>}",
//   UnschedulableAndUnresolvable. Nodes that are not ready or unreachable carry the
//   node.kubernetes.io/not-ready / unreachable taints, so this covers them too.
//   Score: the number of PreferNoSchedule taints not tolerated (only tolerations with
//   effect "" or PreferNoSchedule count), reversed: fewer is better.
// NodeUnschedulable
//   Filter: a node with spec.unschedulable (cordoned) rejects pods that do not tolerate the
//   node.kubernetes.io/unschedulable:NoSchedule taint: "node(s) were unschedulable",
//   UnschedulableAndUnresolvable.
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

class TaintToleration final : public Plugin {
 public:
  std::string_view Name() const override { return "TaintToleration"; }
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  int64_t ScoreWeight() const override { return 3; }
  int64_t Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  void NormalizeScore(const CycleState& state, const std::vector<const NodeInfo*>& nodes,
                      std::vector<int64_t>& scores) const override;
};

class NodeUnschedulable final : public Plugin {
 public:
  static constexpr std::string_view kReason = "node(s) were unschedulable";
  std::string_view Name() const override { return "NodeUnschedulable"; }
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

}  // namespace kite::scheduler
