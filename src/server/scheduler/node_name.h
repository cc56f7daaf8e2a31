// Which pods this scheduler places, and the NodeName filter.
//
// A pod is ours while it is pending: spec.nodeName empty, spec.schedulerName empty or ours,
// not being deleted, not Succeeded/Failed. A pod created with spec.nodeName already set
// never reaches the scheduler; the NodeName filter (Kubernetes' NodeName plugin) only
// matters to callers that run the filters for such a pod.
//
// Thread-safety: stateless.
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

inline constexpr std::string_view kDefaultSchedulerName = "default-scheduler";

// Whether a scheduler named `scheduler_name` should place `pod` now.
bool NeedsScheduling(const PodInfo& pod, std::string_view scheduler_name);

class NodeName final : public Plugin {
 public:
  static constexpr std::string_view kReason = "node(s) didn't match the requested node name";
  std::string_view Name() const override { return "NodeName"; }
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

}  // namespace kite::scheduler
