#include "src/server/scheduler/inter_pod_affinity.h"

#include <algorithm>
#include <limits>

namespace kite::scheduler {

namespace {

using TopologyPair = std::pair<std::string, std::string>;
using PairCounts = std::map<TopologyPair, int64_t>;

struct FilterState : CycleState::Data {
  PairCounts existing_anti_affinity;  // domains where an existing pod's anti-affinity matches us
  PairCounts affinity;                // domains holding pods that match all our affinity terms
  PairCounts anti_affinity;           // domains holding pods that match one of our anti terms
  bool matches_own_affinity = false;  // the pod matches all its own required affinity terms
};

// key → value → score.
struct ScoreState : CycleState::Data {
  std::map<std::string, std::map<std::string, int64_t>, std::less<>> topology_score;
};

bool MatchesAll(const std::vector<AffinityTerm>& terms, const PodInfo& pod, const NamespaceLookup& ns) {
  if (terms.empty()) return false;
  for (const AffinityTerm& t : terms) {
    if (!t.Matches(pod, ns)) return false;
  }
  return true;
}

void Count(PairCounts& counts, const NodeInfo& node, const std::string& key) {
  if (const std::string* value = node.Label(key)) ++counts[{key, *value}];
}

}  // namespace

PreFilterResult InterPodAffinity::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot) {
  if (!pod.parse_error.empty()) {
    return {PluginStatus::Error("running PreFilter plugin \"InterPodAffinity\": parsing pod: " + pod.parse_error),
            std::nullopt};
  }
  auto s = std::make_unique<FilterState>();
  bool own_terms = !pod.required_affinity.empty() || !pod.required_anti_affinity.empty();
  s->matches_own_affinity = MatchesAll(pod.required_affinity, pod, snapshot.namespaces);
  for (const NodeInfo* node : snapshot.NodesWithRequiredAntiAffinity()) {
    if (node->pods_with_required_anti_affinity() == 0) continue;
    for (const auto& [key, existing] : node->pods()) {
      for (const AffinityTerm& term : existing->required_anti_affinity) {
        if (term.Matches(pod, snapshot.namespaces)) Count(s->existing_anti_affinity, *node, term.topology_key);
      }
    }
  }
  if (own_terms) {
    for (const NodeInfo* node : snapshot.nodes) {
      for (const auto& [key, existing] : node->pods()) {
        if (MatchesAll(pod.required_affinity, *existing, snapshot.namespaces)) {
          for (const AffinityTerm& term : pod.required_affinity) Count(s->affinity, *node, term.topology_key);
        }
        for (const AffinityTerm& term : pod.required_anti_affinity) {
          if (term.Matches(*existing, snapshot.namespaces)) Count(s->anti_affinity, *node, term.topology_key);
        }
      }
    }
  }
  state.Write(this, std::move(s));
  return {};
}

PluginStatus InterPodAffinity::Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  const FilterState* s = state.Read<FilterState>(this);
  if (!s) return PluginStatus::Error("InterPodAffinity: PreFilter did not run");

  // Required affinity.
  bool pods_exist = true;
  for (const AffinityTerm& term : pod.required_affinity) {
    const std::string* value = node.Label(term.topology_key);
    if (!value) return PluginStatus::Unresolvable(std::string(kReasonAffinity));
    auto it = s->affinity.find({term.topology_key, *value});
    if (it == s->affinity.end() || it->second <= 0) pods_exist = false;
  }
  if (!pods_exist) {
    // The first of a group of pods with affinity to each other may start anywhere.
    bool first_of_group = s->affinity.empty() && s->matches_own_affinity;
    if (!first_of_group) return PluginStatus::Unresolvable(std::string(kReasonAffinity));
  }

  // Required anti-affinity of the incoming pod.
  if (!s->anti_affinity.empty()) {
    for (const AffinityTerm& term : pod.required_anti_affinity) {
      const std::string* value = node.Label(term.topology_key);
      if (!value) continue;
      auto it = s->anti_affinity.find({term.topology_key, *value});
      if (it != s->anti_affinity.end() && it->second > 0) {
        return PluginStatus::Unschedulable({std::string(kReasonAntiAffinity)});
      }
    }
  }

  // Required anti-affinity of the existing pods.
  if (!s->existing_anti_affinity.empty() && node.labels()) {
    for (const auto& m : node.labels()->GetObject()) {
      if (!m.value.IsString()) continue;
      auto it = s->existing_anti_affinity.find(
          {std::string(m.name.GetString(), m.name.GetStringLength()),
           std::string(m.value.GetString(), m.value.GetStringLength())});
      if (it != s->existing_anti_affinity.end() && it->second > 0) {
        return PluginStatus::Unschedulable({std::string(kReasonExistingAntiAffinity)});
      }
    }
  }
  return PluginStatus::Success();
}

void InterPodAffinity::PreScore(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                                const std::vector<const NodeInfo*>&) {
  auto s = std::make_unique<ScoreState>();
  bool has_preferences = !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
  auto add = [&](const AffinityTerm& term, int64_t weight, const PodInfo& matched, const NodeInfo& node) {
    if (!term.Matches(matched, snapshot.namespaces)) return;
    if (const std::string* value = node.Label(term.topology_key)) {
      s->topology_score[term.topology_key][*value] += weight;
    }
  };
  // Without preferences of its own, only pods with affinity terms can add to the score.
  for (const NodeInfo* node : has_preferences ? snapshot.nodes : snapshot.NodesWithAffinity()) {
    if (!has_preferences && node->pods_with_affinity() == 0) continue;
    if (!node->labels() || node->labels()->ObjectEmpty()) continue;
    for (const auto& [key, existing] : node->pods()) {
      if (!has_preferences && !existing->HasAffinity()) continue;
      for (const WeightedAffinityTerm& t : pod.preferred_affinity) add(t.term, t.weight, *existing, *node);
      for (const WeightedAffinityTerm& t : pod.preferred_anti_affinity) add(t.term, -t.weight, *existing, *node);
      for (const AffinityTerm& t : existing->required_affinity) add(t, kHardPodAffinityWeight, pod, *node);
      for (const WeightedAffinityTerm& t : existing->preferred_affinity) add(t.term, t.weight, pod, *node);
      for (const WeightedAffinityTerm& t : existing->preferred_anti_affinity) add(t.term, -t.weight, pod, *node);
    }
  }
  state.Write(&score_key_, std::move(s));
}

int64_t InterPodAffinity::Score(const CycleState& state, const PodInfo&, const NodeInfo& node) const {
  const ScoreState* s = state.Read<ScoreState>(&score_key_);
  if (!s) return 0;
  int64_t score = 0;
  for (const auto& [key, values] : s->topology_score) {
    const std::string* value = node.Label(key);
    if (!value) continue;
    auto it = values.find(*value);
    if (it != values.end()) score += it->second;
  }
  return score;
}

void InterPodAffinity::NormalizeScore(const CycleState& state, const std::vector<const NodeInfo*>&,
                                      std::vector<int64_t>& scores) const {
  const ScoreState* s = state.Read<ScoreState>(&score_key_);
  if (!s || s->topology_score.empty() || scores.empty()) return;
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (int64_t v : scores) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (int64_t& v : scores) {
    double f = 0;
    if (hi - lo > 0) f = static_cast<double>(kMaxNodeScore) * (static_cast<double>(v - lo) / static_cast<double>(hi - lo));
    v = static_cast<int64_t>(f);
  }
}

}  // namespace kite::scheduler
