// Host ports (Kubernetes' NodePorts plugin): a pod whose containers (and sidecar init
// containers) ask for a hostPort cannot go where a pod already uses the same protocol and
// port on the same address, or where either side binds every address (hostIP empty or
// 0.0.0.0). Failure: "node(s) didn't have free ports for the requested pod ports",
// Unschedulable.
#pragma once

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

class NodePorts final : public Plugin {
 public:
  static constexpr std::string_view kReason = "node(s) didn't have free ports for the requested pod ports";
  std::string_view Name() const override { return "NodePorts"; }
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

}  // namespace kite::scheduler
