// Node selection by the pod (Kubernetes' NodeAffinity plugin).
//
// Required: every spec.nodeSelector label must match, and — when
// affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution is given — at least
// one of its nodeSelectorTerms must match (a term matches when all its matchExpressions and
// matchFields do; an empty term matches nothing). Operators: In, NotIn, Exists,
// DoesNotExist, Gt, Lt (integer comparison of the label value); matchFields supports
// metadata.name with In / NotIn. Failure: "node(s) didn't match Pod's node affinity/selector",
// UnschedulableAndUnresolvable. When every term pins metadata.name with In, PreFilter narrows
// the candidates to those names (the others report "node(s) didn't satisfy plugin(s)
// [NodeAffinity]"), and terms whose names cannot intersect fail the pod with
// "pod affinity terms conflict".
//
// Preferred: the score is the sum of the weights of the matching preferred terms,
// normalized so the best node gets 100.
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

// The pod's required node selector and affinity, matchable against nodes; also used by
// PodTopologySpread (nodeAffinityPolicy Honor).
class RequiredNodeAffinity {
 public:
  explicit RequiredNodeAffinity(const rapidjson::Value& pod);
  bool Matches(const NodeInfo& node) const;
  // True when the pod constrains nodes at all.
  bool Any() const { return node_selector_ != nullptr || terms_ != nullptr; }

 private:
  const rapidjson::Value* node_selector_ = nullptr;  // spec.nodeSelector
  const rapidjson::Value* terms_ = nullptr;          // nodeSelectorTerms
};

// One NodeSelectorTerm against a node. A term with neither expressions nor fields matches
// nothing; unknown operators match nothing.
bool NodeSelectorTermMatches(const rapidjson::Value& term, const NodeInfo& node);

class NodeAffinity final : public Plugin {
 public:
  static constexpr std::string_view kReasonPod = "node(s) didn't match Pod's node affinity/selector";
  static constexpr std::string_view kReasonConflict = "pod affinity terms conflict";

  std::string_view Name() const override { return "NodeAffinity"; }
  PreFilterResult PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot) override;
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  int64_t ScoreWeight() const override { return 2; }
  int64_t Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  void NormalizeScore(const CycleState& state, const std::vector<const NodeInfo*>& nodes,
                      std::vector<int64_t>& scores) const override;
};

}  // namespace kite::scheduler
