#include "src/server/scheduler/pod_topology_spread.h"

#include <cmath>
#include <limits>

#include "src/server/json/json_util.h"
#include "src/server/scheduler/node_affinity.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;
using rapidjson::Value;

bool SpreadConstraint::Counts(const PodInfo& pod, std::string_view ns) const {
  if (pod.terminating || pod.ns != ns) return false;
  if (!controller_uid.empty()) return pod.controller_uid == controller_uid;
  return selector.Matches(pod.labels);
}

Result<std::vector<SpreadConstraint>> SpreadConstraints(const PodInfo& pod, bool do_not_schedule) {
  std::vector<SpreadConstraint> out;
  const Value* spec = Member(*pod.object, "spec");
  const Value* list = spec ? Member(*spec, "topologySpreadConstraints") : nullptr;
  if (list && list->IsArray() && !list->Empty()) {
    for (const Value& c : list->GetArray()) {
      bool dns = StringMember(c, "whenUnsatisfiable") != "ScheduleAnyway";
      if (dns != do_not_schedule) continue;
      SpreadConstraint sc;
      sc.do_not_schedule = dns;
      sc.topology_key = std::string(StringMember(c, "topologyKey"));
      if (const Value* skew = Member(c, "maxSkew"); skew && skew->IsInt()) sc.max_skew = skew->GetInt();
      if (const Value* min = Member(c, "minDomains"); min && min->IsInt()) sc.min_domains = min->GetInt();
      sc.honor_node_affinity = StringMember(c, "nodeAffinityPolicy") != "Ignore";
      sc.honor_node_taints = StringMember(c, "nodeTaintsPolicy") == "Honor";
      Result<selection::LabelSelector> selector =
          SelectorWithLabelKeys(Member(c, "labelSelector"), Member(c, "matchLabelKeys"), nullptr, pod.labels);
      if (!selector.ok()) return selector.status();
      sc.selector = std::move(selector).value();
      out.push_back(std::move(sc));
    }
    return out;
  }
  if (do_not_schedule || pod.controller_uid.empty()) return out;
  for (auto [key, skew] : {std::pair{kLabelHostname, 3}, std::pair{kLabelTopologyZone, 5}}) {
    SpreadConstraint sc;
    sc.do_not_schedule = false;
    sc.topology_key = std::string(key);
    sc.max_skew = skew;
    sc.controller_uid = pod.controller_uid;
    out.push_back(std::move(sc));
  }
  return out;
}

namespace {

bool HasAllKeys(const NodeInfo& node, const std::vector<SpreadConstraint>& constraints) {
  for (const SpreadConstraint& c : constraints) {
    if (!node.Label(c.topology_key)) return false;
  }
  return true;
}

bool Included(const SpreadConstraint& c, const PodInfo& pod, const NodeInfo& node,
              const RequiredNodeAffinity& affinity) {
  if (c.honor_node_affinity && !affinity.Matches(node)) return false;
  if (c.honor_node_taints && FindUntoleratedTaint(node.taints(), pod.tolerations, IsDoNotScheduleTaint)) {
    return false;
  }
  return true;
}

int64_t CountOnNode(const SpreadConstraint& c, const NodeInfo& node, std::string_view ns) {
  int64_t n = 0;
  for (const auto& [key, pod] : node.pods()) {
    if (c.Counts(*pod, ns)) ++n;
  }
  return n;
}

struct FilterState : CycleState::Data {
  std::vector<SpreadConstraint> constraints;
  std::vector<std::map<std::string, int64_t, std::less<>>> counts;  // per constraint: domain → pods
  std::vector<int64_t> min_match;                                   // per constraint
  std::map<std::string, int64_t, std::less<>> domains;              // per topology key
};

struct ScoreState : CycleState::Data {
  std::vector<SpreadConstraint> constraints;
  std::vector<std::map<std::string, int64_t, std::less<>>> counts;  // per constraint (not hostname)
  std::vector<double> weights;
  std::set<std::string, std::less<>> ignored_nodes;
};

}  // namespace

PreFilterResult PodTopologySpread::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot) {
  Result<std::vector<SpreadConstraint>> constraints = SpreadConstraints(pod, true);
  if (!constraints.ok()) {
    return {PluginStatus::Error("running PreFilter plugin \"PodTopologySpread\": " + constraints.status().message()),
            std::nullopt};
  }
  auto s = std::make_unique<FilterState>();
  s->constraints = std::move(constraints).value();
  if (!s->constraints.empty()) {
    size_t n = s->constraints.size();
    s->counts.resize(n);
    RequiredNodeAffinity affinity(*pod.object);
    for (const NodeInfo* node : snapshot.nodes) {
      if (!HasAllKeys(*node, s->constraints)) continue;
      for (size_t i = 0; i < n; ++i) {
        const SpreadConstraint& c = s->constraints[i];
        if (!Included(c, pod, *node, affinity)) continue;
        s->counts[i][*node->Label(c.topology_key)] += CountOnNode(c, *node, pod.ns);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      int64_t min = std::numeric_limits<int32_t>::max();
      for (const auto& [value, count] : s->counts[i]) min = std::min(min, count);
      s->min_match.push_back(min);
      s->domains[s->constraints[i].topology_key] = static_cast<int64_t>(s->counts[i].size());
    }
  }
  state.Write(this, std::move(s));
  return {};
}

PluginStatus PodTopologySpread::Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  const FilterState* s = state.Read<FilterState>(this);
  if (!s) return PluginStatus::Error("PodTopologySpread: PreFilter did not run");
  for (size_t i = 0; i < s->constraints.size(); ++i) {
    const SpreadConstraint& c = s->constraints[i];
    const std::string* value = node.Label(c.topology_key);
    if (!value) return PluginStatus::Unresolvable(std::string(kReasonNodeLabelNotMatch));
    int64_t min = s->min_match[i];
    auto domains = s->domains.find(c.topology_key);
    if (domains != s->domains.end() && domains->second < c.min_domains) min = 0;
    int64_t self = c.Counts(pod, pod.ns) ? 1 : 0;
    auto it = s->counts[i].find(*value);
    int64_t match = it == s->counts[i].end() ? 0 : it->second;
    if (match + self - min > c.max_skew) {
      return PluginStatus::Unschedulable({std::string(kReasonConstraintsNotMatch)});
    }
  }
  return PluginStatus::Success();
}

void PodTopologySpread::PreScore(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                                 const std::vector<const NodeInfo*>& feasible) {
  auto s = std::make_unique<ScoreState>();
  Result<std::vector<SpreadConstraint>> constraints = SpreadConstraints(pod, false);
  if (constraints.ok()) s->constraints = std::move(constraints).value();
  if (s->constraints.empty()) {
    state.Write(&score_key_, std::move(s));
    return;
  }
  const Value* spec = Member(*pod.object, "spec");
  const Value* own = spec ? Member(*spec, "topologySpreadConstraints") : nullptr;
  // Nodes without a zone label still get hostname spreading under the system defaults.
  bool require_all = own && own->IsArray() && !own->Empty();
  size_t n = s->constraints.size();
  s->counts.resize(n);
  std::vector<int64_t> domains(n, 0);
  for (const NodeInfo* node : feasible) {
    if (require_all && !HasAllKeys(*node, s->constraints)) {
      s->ignored_nodes.insert(node->name());
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      const SpreadConstraint& c = s->constraints[i];
      if (c.topology_key == kLabelHostname) continue;  // counted per node in Score
      const std::string* value = node->Label(c.topology_key);
      if (value && s->counts[i].emplace(*value, 0).second) ++domains[i];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t size = s->constraints[i].topology_key == kLabelHostname
                       ? static_cast<int64_t>(feasible.size() - s->ignored_nodes.size())
                       : domains[i];
    s->weights.push_back(std::log(static_cast<double>(size + 2)));
  }
  RequiredNodeAffinity affinity(*pod.object);
  for (const NodeInfo* node : snapshot.nodes) {
    if (require_all && !HasAllKeys(*node, s->constraints)) continue;
    for (size_t i = 0; i < n; ++i) {
      const SpreadConstraint& c = s->constraints[i];
      if (c.topology_key == kLabelHostname || !Included(c, pod, *node, affinity)) continue;
      const std::string* value = node->Label(c.topology_key);
      if (!value) continue;
      auto it = s->counts[i].find(*value);
      if (it == s->counts[i].end()) continue;  // no feasible node in that domain
      it->second += CountOnNode(c, *node, pod.ns);
    }
  }
  state.Write(&score_key_, std::move(s));
}

int64_t PodTopologySpread::Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  const ScoreState* s = state.Read<ScoreState>(&score_key_);
  if (!s || s->constraints.empty() || s->ignored_nodes.count(node.name())) return 0;
  double score = 0;
  for (size_t i = 0; i < s->constraints.size(); ++i) {
    const SpreadConstraint& c = s->constraints[i];
    const std::string* value = node.Label(c.topology_key);
    if (!value) continue;
    int64_t count = 0;
    if (c.topology_key == kLabelHostname) {
      count = CountOnNode(c, node, pod.ns);
    } else if (auto it = s->counts[i].find(*value); it != s->counts[i].end()) {
      count = it->second;
    }
    score += static_cast<double>(count) * s->weights[i] + static_cast<double>(c.max_skew - 1);
  }
  return static_cast<int64_t>(std::round(score));
}

void PodTopologySpread::NormalizeScore(const CycleState& state, const std::vector<const NodeInfo*>& nodes,
                                       std::vector<int64_t>& scores) const {
  const ScoreState* s = state.Read<ScoreState>(&score_key_);
  if (!s || s->constraints.empty()) return;
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (s->ignored_nodes.count(nodes[i]->name())) continue;
    lo = std::min(lo, scores[i]);
    hi = std::max(hi, scores[i]);
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (s->ignored_nodes.count(nodes[i]->name())) {
      scores[i] = 0;
    } else if (hi == 0) {
      scores[i] = kMaxNodeScore;
    } else {
      scores[i] = kMaxNodeScore * (hi + lo - scores[i]) / hi;
    }
  }
}

}  // namespace kite::scheduler
