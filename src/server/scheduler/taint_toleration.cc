#include "src/server/scheduler/taint_toleration.h"

#include <optional>

namespace kite::scheduler {

PluginStatus TaintToleration::Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  std::optional<Taint> taint = FindUntoleratedTaint(node.taints(), pod.tolerations, IsDoNotScheduleTaint);
  if (!taint) return PluginStatus::Success();
  return PluginStatus::Unresolvable("node(s) had untolerated taint {" + taint->key + ": " + taint->value + "}");
}

int64_t TaintToleration::Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  // Gathered only for a node with such taints: most have none, and this runs per node.
  std::optional<std::vector<Toleration>> prefer;
  int64_t count = 0;
  for (const Taint& taint : node.taints()) {
    if (taint.effect != "PreferNoSchedule") continue;
    if (!prefer) {
      prefer.emplace();
      for (const Toleration& t : pod.tolerations) {
        if (t.effect.empty() || t.effect == "PreferNoSchedule") prefer->push_back(t);
      }
    }
    if (!TolerationsTolerate(*prefer, taint)) ++count;
  }
  return count;
}

void TaintToleration::NormalizeScore(const CycleState&, const std::vector<const NodeInfo*>&,
                                     std::vector<int64_t>& scores) const {
  DefaultNormalizeScore(kMaxNodeScore, true, scores);
}

PluginStatus NodeUnschedulable::Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  if (!node.unschedulable()) return PluginStatus::Success();
  Taint cordon{std::string(kTaintNodeUnschedulable), "", "NoSchedule"};
  if (TolerationsTolerate(pod.tolerations, cordon)) return PluginStatus::Success();
  return PluginStatus::Unresolvable(std::string(kReason));
}

}  // namespace kite::scheduler
