#include "src/server/scheduler/node_ports.h"

namespace kite::scheduler {

PluginStatus NodePorts::Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  for (const HostPort& port : pod.host_ports) {
    if (node.HostPortConflicts(port)) return PluginStatus::Unschedulable({std::string(kReason)});
  }
  return PluginStatus::Success();
}

}  // namespace kite::scheduler
