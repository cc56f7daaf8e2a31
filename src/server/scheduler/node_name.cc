#include "src/server/scheduler/node_name.h"

namespace kite::scheduler {

bool NeedsScheduling(const PodInfo& pod, std::string_view scheduler_name) {
  if (!pod.node_name.empty() || pod.terminating || pod.Terminal()) return false;
  std::string_view wanted = pod.scheduler_name.empty() ? kDefaultSchedulerName : pod.scheduler_name;
  return wanted == scheduler_name;
}

PluginStatus NodeName::Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  if (pod.node_name.empty() || pod.node_name == node.name()) return PluginStatus::Success();
  return PluginStatus::Unresolvable(std::string(kReason));
}

}  // namespace kite::scheduler
