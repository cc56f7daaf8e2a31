#include "src/server/scheduler/node_resources.h"

#include <algorithm>
#include <cmath>

namespace kite::scheduler {

std::vector<std::string> InsufficientResources(const PodInfo& pod, const NodeInfo& node) {
  std::vector<std::string> reasons;
  const Resources& want = pod.requests;
  const Resources& have = node.allocatable();
  const Resources& used = node.requested();
  if (static_cast<int64_t>(node.pods().size()) + 1 > have.pods) reasons.push_back("Too many pods");
  if (want.milli_cpu == 0 && want.memory == 0 && want.ephemeral_storage == 0 && want.scalar.empty()) {
    return reasons;
  }
  if (want.milli_cpu > 0 && want.milli_cpu > have.milli_cpu - used.milli_cpu) {
    reasons.push_back("Insufficient cpu");
  }
  if (want.memory > 0 && want.memory > have.memory - used.memory) reasons.push_back("Insufficient memory");
  if (want.ephemeral_storage > 0 && want.ephemeral_storage > have.ephemeral_storage - used.ephemeral_storage) {
    reasons.push_back("Insufficient ephemeral-storage");
  }
  for (const auto& [name, amount] : want.scalar) {
    if (amount == 0) continue;
    auto a = have.scalar.find(name);
    auto u = used.scalar.find(name);
    int64_t free = (a == have.scalar.end() ? 0 : a->second) - (u == used.scalar.end() ? 0 : u->second);
    if (amount > free) reasons.push_back("Insufficient " + name);
  }
  return reasons;
}

PluginStatus NodeResourcesFit::Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  std::vector<std::string> reasons = InsufficientResources(pod, node);
  if (reasons.empty()) return PluginStatus::Success();
  return PluginStatus::Unschedulable(std::move(reasons));
}

namespace {

// (requested, allocatable) of cpu and memory after adding the pod; allocatable 0 means the
// resource is left out.
struct Usage {
  int64_t requested[2];
  int64_t allocatable[2];
};

Usage UsageWith(const Resources& pod, const Resources& node_requested, const NodeInfo& node) {
  return {{node_requested.milli_cpu + pod.milli_cpu, node_requested.memory + pod.memory},
          {node.allocatable().milli_cpu, node.allocatable().memory}};
}

}  // namespace

int64_t NodeResourcesFit::Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  Usage u = UsageWith(pod.non_zero_requests, node.non_zero_requested(), node);
  int64_t total = 0, weights = 0;
  for (int i = 0; i < 2; ++i) {
    if (u.allocatable[i] == 0) continue;
    int64_t score = u.requested[i] > u.allocatable[i]
                        ? 0
                        : (u.allocatable[i] - u.requested[i]) * kMaxNodeScore / u.allocatable[i];
    total += score;  // weight 1 each
    ++weights;
  }
  return weights == 0 ? 0 : total / weights;
}

int64_t NodeResourcesBalancedAllocation::Score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const {
  // Balanced allocation looks at the actual requests, not the non-zero defaults.
  Usage u = UsageWith(pod.requests, node.requested(), node);
  // Both resources (cpu, memory) must be allocatable for a spread to exist.
  if (u.allocatable[0] == 0 || u.allocatable[1] == 0) return kMaxNodeScore;
  double fractions[2];
  for (int i = 0; i < 2; ++i) {
    fractions[i] = std::min(1.0, static_cast<double>(u.requested[i]) / static_cast<double>(u.allocatable[i]));
  }
  double std_dev = std::abs((fractions[0] - fractions[1]) / 2);
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
}

}  // namespace kite::scheduler
