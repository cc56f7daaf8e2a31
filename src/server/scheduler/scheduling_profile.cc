#include "src/server/scheduler/scheduling_profile.h"

#include <algorithm>

#include "src/server/scheduler/inter_pod_affinity.h"
#include "src/server/scheduler/node_affinity.h"
#include "src/server/scheduler/node_name.h"
#include "src/server/scheduler/node_ports.h"
#include "src/server/scheduler/node_resources.h"
#include "src/server/scheduler/pod_topology_spread.h"
#include "src/server/scheduler/taint_toleration.h"

namespace kite::scheduler {

namespace {

constexpr int kMinFeasibleNodesToFind = 100;
constexpr int kMinFeasibleNodesPercentageToFind = 5;
constexpr std::string_view kPreemptionNotHelpful = "Preemption is not helpful for scheduling";
constexpr std::string_view kNoPreemptionVictims = "No preemption victims found for incoming pod";

}  // namespace

std::string FitError::Message() const {
  std::string message = "0/" + std::to_string(num_all_nodes) + " nodes are available:";
  if (!pre_filter_message.empty()) {
    message += " " + pre_filter_message + ".";
  } else {
    std::map<std::string, int> histogram;
    for (const auto& [node, status] : node_statuses) {
      for (const std::string& reason : status.reasons) ++histogram[reason];
    }
    int absent = num_all_nodes - static_cast<int>(node_statuses.size());
    if (absent > 0 && absent_nodes_status) {
      for (const std::string& reason : absent_nodes_status->reasons) histogram[reason] += absent;
    }
    std::vector<std::string> parts;
    for (const auto& [reason, count] : histogram) parts.push_back(std::to_string(count) + " " + reason);
    std::sort(parts.begin(), parts.end());  // Go's sort.Strings: plain byte order
    if (!parts.empty()) {
      message += " ";
      for (size_t i = 0; i < parts.size(); ++i) message += (i ? ", " : "") + parts[i];
      message += ".";
    }
  }
  if (!post_filter_message.empty()) message += " " + post_filter_message;
  return message;
}

SchedulingProfile::SchedulingProfile(std::vector<std::unique_ptr<Plugin>> plugins, Options options)
    : plugins_(std::move(plugins)), options_(options), random_(options.seed ? *options.seed : std::random_device{}()) {}

std::vector<std::unique_ptr<Plugin>> SchedulingProfile::DefaultPlugins() {
  std::vector<std::unique_ptr<Plugin>> p;
  p.push_back(std::make_unique<NodeUnschedulable>());
  p.push_back(std::make_unique<NodeName>());
  p.push_back(std::make_unique<TaintToleration>());
  p.push_back(std::make_unique<NodeAffinity>());
  p.push_back(std::make_unique<NodePorts>());
  p.push_back(std::make_unique<NodeResourcesFit>());
  p.push_back(std::make_unique<PodTopologySpread>());
  p.push_back(std::make_unique<InterPodAffinity>());
  p.push_back(std::make_unique<NodeResourcesBalancedAllocation>());
  return p;
}

int SchedulingProfile::NumFeasibleNodesToFind(int all) const {
  if (all < kMinFeasibleNodesToFind) return all;
  int percentage = options_.percentage_of_nodes_to_score;
  if (percentage <= 0) percentage = std::max(50 - all / 125, kMinFeasibleNodesPercentageToFind);
  if (percentage >= 100) return all;
  int n = static_cast<int>(static_cast<int64_t>(all) * percentage / 100);
  return std::max(n, kMinFeasibleNodesToFind);
}

PluginStatus SchedulingProfile::RunFilters(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  for (const auto& plugin : plugins_) {
    PluginStatus s = plugin->Filter(state, pod, node);
    if (!s.ok()) return s;
  }
  return PluginStatus::Success();
}

std::string SchedulingProfile::PreemptionMessage(const CycleState& state, const PodInfo& pod,
                                                 const Snapshot& snapshot, const FitError& fit) const {
  if (pod.preemption_never) return "preemption: not eligible due to preemptionPolicy=Never.";
  FitError dry_run;
  dry_run.num_all_nodes = static_cast<int>(snapshot.nodes.size());
  dry_run.absent_nodes_status = PluginStatus::Unresolvable(std::string(kPreemptionNotHelpful));
  // Only nodes rejected as Unschedulable (not Unresolvable) might fit once pods are evicted.
  for (const auto& [name, status] : fit.node_statuses) {
    if (status.code != PluginStatus::Code::kUnschedulable) continue;
    const NodeInfo* node = snapshot.Find(name);
    if (!node) continue;
    NodeInfo without_victims = *node;
    bool any_victim = false;
    for (const auto& [key, other] : node->pods()) {
      if (other->priority < pod.priority) {
        without_victims.RemovePod(key);
        any_victim = true;
      }
    }
    if (!any_victim) {
      dry_run.node_statuses[name] = PluginStatus::Unresolvable(std::string(kNoPreemptionVictims));
      continue;
    }
    PluginStatus s = RunFilters(state, pod, without_victims);
    // Evicting lower-priority pods would make room: Kubernetes would nominate this node.
    if (s.ok()) return "";
    dry_run.node_statuses[name] = std::move(s);
  }
  return "preemption: " + dry_run.Message();
}

ScheduleOutcome SchedulingProfile::Schedule(const PodInfo& pod, const Snapshot& snapshot) {
  ScheduleOutcome out;
  if (snapshot.nodes.empty()) {
    out.reason = "Unschedulable";
    out.message = "no nodes available to schedule pods";
    return out;
  }
  FitError fit;
  fit.num_all_nodes = static_cast<int>(snapshot.nodes.size());
  auto unschedulable = [&](FitError f) {
    out.reason = "Unschedulable";
    out.message = f.Message();
    out.fit_error = std::move(f);
    return out;
  };

  CycleState state;
  std::optional<std::set<std::string>> allowed;
  std::vector<std::string> narrowing_plugins;
  for (const auto& plugin : plugins_) {
    PreFilterResult r = plugin->PreFilter(state, pod, snapshot);
    if (r.status.code == PluginStatus::Code::kError) {
      out.reason = "SchedulerError";
      out.message = r.status.Message();
      return out;
    }
    if (!r.status.ok()) {
      fit.pre_filter_message = r.status.Message();
      fit.absent_nodes_status = r.status;
      fit.post_filter_message = PreemptionMessage(state, pod, snapshot, fit);
      return unschedulable(std::move(fit));
    }
    if (r.node_names) {
      narrowing_plugins.emplace_back(plugin->Name());
      if (!allowed) {
        allowed = std::move(r.node_names);
      } else {
        std::set<std::string> both;
        for (const std::string& n : *r.node_names) {
          if (allowed->count(n)) both.insert(n);
        }
        allowed = std::move(both);
      }
    }
  }

  std::vector<const NodeInfo*> narrowed;
  if (allowed) {
    for (const std::string& name : *allowed) {
      if (const NodeInfo* n = snapshot.Find(name)) narrowed.push_back(n);
    }
    std::sort(narrowing_plugins.begin(), narrowing_plugins.end());
    std::string list;
    for (const std::string& p : narrowing_plugins) list += (list.empty() ? "" : " ") + p;
    fit.absent_nodes_status = PluginStatus::Unresolvable("node(s) didn't satisfy plugin(s) [" + list + "]");
  }
  // Not a copy of every node per cycle.
  const std::vector<const NodeInfo*>& candidates = allowed ? narrowed : snapshot.nodes;

  // Filter, round-robin from where the last attempt stopped, until enough nodes fit.
  std::vector<const NodeInfo*> feasible;
  int want = NumFeasibleNodesToFind(static_cast<int>(candidates.size()));
  size_t start = candidates.empty() ? 0 : next_start_node_index_ % candidates.size();
  size_t processed = 0;
  constexpr size_t kPrefetchAhead = 4;
  for (size_t i = 0; i < kPrefetchAhead && i < candidates.size(); ++i) {
    candidates[(start + i) % candidates.size()]->Prefetch();
  }
  for (; processed < candidates.size() && static_cast<int>(feasible.size()) < want; ++processed) {
    const NodeInfo* node = candidates[(start + processed) % candidates.size()];
    candidates[(start + processed + kPrefetchAhead) % candidates.size()]->Prefetch();
    PluginStatus s = RunFilters(state, pod, *node);
    if (s.ok()) {
      feasible.push_back(node);
    } else if (s.code == PluginStatus::Code::kError) {
      out.reason = "SchedulerError";
      out.message = s.Message();
      return out;
    } else {
      fit.node_statuses[node->name()] = std::move(s);
    }
  }
  if (!candidates.empty()) next_start_node_index_ = (start + processed) % candidates.size();
  out.evaluated_nodes = static_cast<int>(processed);
  out.feasible_nodes = static_cast<int>(feasible.size());

  if (feasible.empty()) {
    fit.post_filter_message = PreemptionMessage(state, pod, snapshot, fit);
    return unschedulable(std::move(fit));
  }
  if (feasible.size() == 1) {
    out.node = feasible[0]->name();
    return out;
  }

  std::vector<int64_t> total(feasible.size(), 0);
  for (const auto& plugin : plugins_) {
    int64_t weight = plugin->ScoreWeight();
    if (weight == 0) continue;
    plugin->PreScore(state, pod, snapshot, feasible);
    std::vector<int64_t> scores(feasible.size());
    for (size_t i = 0; i < feasible.size(); ++i) scores[i] = plugin->Score(state, pod, *feasible[i]);
    plugin->NormalizeScore(state, feasible, scores);
    for (size_t i = 0; i < feasible.size(); ++i) total[i] += scores[i] * weight;
  }
  // The best score; ties broken uniformly at random (reservoir sampling, as selectHost).
  size_t best = 0;
  int ties = 1;
  for (size_t i = 1; i < feasible.size(); ++i) {
    if (total[i] > total[best]) {
      best = i;
      ties = 1;
    } else if (total[i] == total[best]) {
      ++ties;
      if (std::uniform_int_distribution<int>(0, ties - 1)(random_) == 0) best = i;
    }
  }
  out.node = feasible[best]->name();
  return out;
}

}  // namespace kite::scheduler
