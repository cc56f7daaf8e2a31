#include "src/server/scheduler/node_affinity.h"

#include <charconv>

#include "src/server/json/json_util.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;
using rapidjson::Value;

namespace {

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool ContainsString(const Value* values, std::string_view s) {
  if (!values || !values->IsArray()) return false;
  for (const Value& v : values->GetArray()) {
    if (v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == s) return true;
  }
  return false;
}

// One NodeSelectorRequirement against a value (nullptr = the label or field is absent).
bool RequirementMatches(const Value& requirement, const std::string* actual) {
  std::string_view op = StringMember(requirement, "operator");
  const Value* values = Member(requirement, "values");
  if (op == "In") return actual && ContainsString(values, *actual);
  if (op == "NotIn") return !actual || !ContainsString(values, *actual);
  if (op == "Exists") return actual != nullptr;
  if (op == "DoesNotExist") return actual == nullptr;
  if (op == "Gt" || op == "Lt") {
    if (!actual || !values || !values->IsArray() || values->Size() != 1 || !(*values)[0].IsString()) return false;
    std::optional<int64_t> have = ParseInt(*actual);
    std::optional<int64_t> bound = ParseInt((*values)[0].GetString());
    if (!have || !bound) return false;
    return op == "Gt" ? *have > *bound : *have < *bound;
  }
  return false;
}

const Value* RequiredTerms(const Value& pod) {
  const Value* spec = Member(pod, "spec");
  const Value* affinity = spec ? Member(*spec, "affinity") : nullptr;
  const Value* node_affinity = affinity ? Member(*affinity, "nodeAffinity") : nullptr;
  const Value* required = node_affinity ? Member(*node_affinity, "requiredDuringSchedulingIgnoredDuringExecution")
                                        : nullptr;
  if (!required || required->IsNull()) return nullptr;
  const Value* terms = Member(*required, "nodeSelectorTerms");
  // A required section with no terms is rejected by validation; treat it as no constraint.
  return terms && terms->IsArray() ? terms : nullptr;
}

const Value* PreferredTerms(const Value& pod) {
  const Value* spec = Member(pod, "spec");
  const Value* affinity = spec ? Member(*spec, "affinity") : nullptr;
  const Value* node_affinity = affinity ? Member(*affinity, "nodeAffinity") : nullptr;
  const Value* preferred =
      node_affinity ? Member(*node_affinity, "preferredDuringSchedulingIgnoredDuringExecution") : nullptr;
  return preferred && preferred->IsArray() ? preferred : nullptr;
}

}  // namespace

bool NodeSelectorTermMatches(const Value& term, const NodeInfo& node) {
  const Value* expressions = Member(term, "matchExpressions");
  const Value* fields = Member(term, "matchFields");
  bool has_expressions = expressions && expressions->IsArray() && !expressions->Empty();
  bool has_fields = fields && fields->IsArray() && !fields->Empty();
  if (!has_expressions && !has_fields) return false;
  if (has_expressions) {
    for (const Value& r : expressions->GetArray()) {
      if (!RequirementMatches(r, node.Label(StringMember(r, "key")))) return false;
    }
  }
  if (has_fields) {
    for (const Value& r : fields->GetArray()) {
      if (StringMember(r, "key") != "metadata.name") return false;
      std::string_view op = StringMember(r, "operator");
      if (op != "In" && op != "NotIn") return false;
      if (!RequirementMatches(r, &node.name())) return false;
    }
  }
  return true;
}

RequiredNodeAffinity::RequiredNodeAffinity(const Value& pod) {
  const Value* spec = Member(pod, "spec");
  const Value* selector = spec ? Member(*spec, "nodeSelector") : nullptr;
  if (selector && selector->IsObject() && !selector->ObjectEmpty()) node_selector_ = selector;
  terms_ = RequiredTerms(pod);
}

bool RequiredNodeAffinity::Matches(const NodeInfo& node) const {
  if (node_selector_) {
    for (const auto& m : node_selector_->GetObject()) {
      const std::string* v = node.Label(std::string_view(m.name.GetString(), m.name.GetStringLength()));
      if (!v || !m.value.IsString() || *v != std::string_view(m.value.GetString(), m.value.GetStringLength())) {
        return false;
      }
    }
  }
  if (!terms_) return true;
  for (const Value& term : terms_->GetArray()) {
    if (NodeSelectorTermMatches(term, node)) return true;
  }
  return false;
}

namespace {

struct AffinityState : CycleState::Data {
  explicit AffinityState(const Value& pod) : required(pod), preferred(PreferredTerms(pod)) {}
  RequiredNodeAffinity required;
  const Value* preferred;  // found once per cycle, not once per scored node
};

}  // namespace

PreFilterResult NodeAffinity::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot&) {
  state.Write(this, std::make_unique<AffinityState>(*pod.object));
  const Value* terms = RequiredTerms(*pod.object);
  if (!terms || terms->Empty()) return {};
  // Terms are ORed: only when every term names nodes can the candidates be narrowed.
  std::set<std::string> names;
  for (const Value& term : terms->GetArray()) {
    std::optional<std::set<std::string>> term_names;
    if (const Value* fields = Member(term, "matchFields"); fields && fields->IsArray()) {
      for (const Value& r : fields->GetArray()) {
        if (StringMember(r, "key") != "metadata.name" || StringMember(r, "operator") != "In") continue;
        std::set<std::string> these;
        if (const Value* values = Member(r, "values"); values && values->IsArray()) {
          for (const Value& v : values->GetArray()) {
            if (v.IsString()) these.emplace(v.GetString(), v.GetStringLength());
          }
        }
        if (!term_names) {
          term_names = std::move(these);
        } else {
          std::set<std::string> both;
          for (const std::string& n : these) {
            if (term_names->count(n)) both.insert(n);
          }
          term_names = std::move(both);
        }
      }
    }
    if (!term_names) return {};
    names.insert(term_names->begin(), term_names->end());
  }
  if (names.empty()) return {PluginStatus::Unresolvable(std::string(kReasonConflict)), std::nullopt};
  return {PluginStatus::Success(), std::move(names)};
}

PluginStatus NodeAffinity::Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  const AffinityState* s = state.Read<AffinityState>(this);
  bool matches = s ? s->required.Matches(node) : RequiredNodeAffinity(*pod.object).Matches(node);
  return matches ? PluginStatus::Success() : PluginStatus::Unresolvable(std::string(kReasonPod));
}

int64_t NodeAffinity::Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  const AffinityState* s = state.Read<AffinityState>(this);
  const Value* preferred = s ? s->preferred : PreferredTerms(*pod.object);
  if (!preferred) return 0;
  int64_t total = 0;
  for (const Value& weighted : preferred->GetArray()) {
    const Value* weight = Member(weighted, "weight");
    const Value* preference = Member(weighted, "preference");
    if (!weight || !weight->IsInt64() || weight->GetInt64() == 0 || !preference) continue;
    if (NodeSelectorTermMatches(*preference, node)) total += weight->GetInt64();
  }
  return total;
}

void NodeAffinity::NormalizeScore(const CycleState&, const std::vector<const NodeInfo*>&,
                                  std::vector<int64_t>& scores) const {
  DefaultNormalizeScore(kMaxNodeScore, false, scores);
}

}  // namespace kite::scheduler
