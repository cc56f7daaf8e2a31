// SchedulingProfile: one scheduling attempt for one pod over a Snapshot — Kubernetes'
// schedulePod with the default profile's plugins: PreFilter, Filter (stopping once enough
// feasible nodes are found), PreScore/Score/NormalizeScore with plugin weights, and the
// choice among the best-scored nodes at random. A pod that fits nowhere gets Kubernetes'
// FitError message, including the preemption part — Kite does not preempt, but reports
// what default preemption would have concluded (preemptionPolicy Never, "No preemption
// victims found for incoming pod", "Preemption is not helpful for scheduling"); when
// preemption would have found victims, the message has no preemption part, as Kubernetes'
// has when it nominates a node.
//
// Limitations: no preemption, no extenders, no volume plugins, no ImageLocality, no pod
// priority ordering of the queue (the caller's concern); the preemption dry run reuses the
// PreFilter state computed with every pod in place.
//
// Thread-safety: not thread-safe (it keeps the round-robin start node and a random
// generator); the caller runs one Schedule at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

// Why a pod fits no node, as Kubernetes' framework.FitError.
struct FitError {
  int num_all_nodes = 0;
  // The rejecting PreFilter plugin's message; "" when PreFilter passed.
  std::string pre_filter_message;
  // Nodes the filters rejected, with their status.
  std::map<std::string, PluginStatus> node_statuses;
  // The status of every node not in node_statuses (narrowed away by PreFilter).
  std::optional<PluginStatus> absent_nodes_status;
  // What PostFilter (preemption) said; "" for nothing.
  std::string post_filter_message;

  // "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {a: b}.
  // preemption: ..." — reasons counted over nodes, sorted as strings.
  std::string Message() const;
};

struct ScheduleOutcome {
  std::string node;  // the chosen node; "" when the pod was not placed
  // When not placed: the PodScheduled condition's reason ("Unschedulable" or
  // "SchedulerError") and message.
  std::string reason;
  std::string message;
  std::optional<FitError> fit_error;
  int evaluated_nodes = 0;
  int feasible_nodes = 0;
};

class SchedulingProfile {
 public:
  struct Options {
    // Kubernetes' percentageOfNodesToScore; 0 = adaptive (50% minus 1% per 125 nodes, at
    // least 5%, and never fewer than 100 nodes).
    int percentage_of_nodes_to_score = 0;
    std::optional<uint64_t> seed;  // for the tie-breaking choice; random when absent
  };

  explicit SchedulingProfile(std::vector<std::unique_ptr<Plugin>> plugins) : SchedulingProfile(std::move(plugins), Options{}) {}
  SchedulingProfile(std::vector<std::unique_ptr<Plugin>> plugins, Options options);

  // The default profile's plugins, in Kubernetes' order: NodeUnschedulable, NodeName,
  // TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread,
  // InterPodAffinity, NodeResourcesBalancedAllocation.
  static std::vector<std::unique_ptr<Plugin>> DefaultPlugins();

  ScheduleOutcome Schedule(const PodInfo& pod, const Snapshot& snapshot);

  // How many feasible nodes to look for among `all` before scoring.
  int NumFeasibleNodesToFind(int all) const;

 private:
  // The first failing plugin's status on `node` (success when all pass).
  PluginStatus RunFilters(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const;
  // Kubernetes' DefaultPreemption PostFilter, as a diagnosis only.
  std::string PreemptionMessage(const CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                                const FitError& fit) const;

  std::vector<std::unique_ptr<Plugin>> plugins_;
  Options options_;
  size_t next_start_node_index_ = 0;
  std::mt19937_64 random_;
};

}  // namespace kite::scheduler
