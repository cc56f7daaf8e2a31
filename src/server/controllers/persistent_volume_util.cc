#include "src/server/controllers/persistent_volume_util.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_selector.h"

namespace kite::controllers {

using json::Member;
using json::StringMember;
using rapidjson::Value;

namespace {

const Value* Spec(const Value& object) { return Member(object, "spec"); }

std::string_view SpecString(const Value& object, std::string_view field) {
  const Value* spec = Spec(object);
  return spec ? StringMember(*spec, field) : std::string_view();
}

admission::Quantity QuantityAt(const Value* list, std::string_view name) {
  const Value* v = list ? Member(*list, name) : nullptr;
  if (!v) return {};
  if (v->IsString()) {
    Result<admission::Quantity> q = admission::Quantity::Parse(std::string_view(v->GetString(), v->GetStringLength()));
    return q.ok() ? *q : admission::Quantity();
  }
  if (v->IsInt64()) return admission::Quantity::FromInt(v->GetInt64());
  return {};
}

std::set<std::string> AccessModes(const Value& object) {
  std::set<std::string> out;
  const Value* spec = Spec(object);
  const Value* modes = spec ? Member(*spec, "accessModes") : nullptr;
  if (!modes || !modes->IsArray()) return out;
  for (const Value& m : modes->GetArray()) {
    if (m.IsString()) out.emplace(m.GetString(), m.GetStringLength());
  }
  return out;
}

std::string_view VolumeModeOf(const Value& object) {
  std::string_view mode = SpecString(object, "volumeMode");
  return mode.empty() ? std::string_view("Filesystem") : mode;
}

bool ContainsString(const Value* values, std::string_view s) {
  if (!values || !values->IsArray()) return false;
  for (const Value& v : values->GetArray()) {
    if (v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == s) return true;
  }
  return false;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One NodeSelectorRequirement against a value (nullopt: the label or field is absent).
bool RequirementMatches(const Value& requirement, std::optional<std::string_view> actual) {
  std::string_view op = StringMember(requirement, "operator");
  const Value* values = Member(requirement, "values");
  if (op == "In") return actual && ContainsString(values, *actual);
  if (op == "NotIn") return !actual || !ContainsString(values, *actual);
  if (op == "Exists") return actual.has_value();
  if (op == "DoesNotExist") return !actual.has_value();
  if (op == "Gt" || op == "Lt") {
    if (!actual || !values || !values->IsArray() || values->Size() != 1 || !(*values)[0].IsString()) return false;
    std::optional<int64_t> have = ParseInt(*actual);
    std::optional<int64_t> bound = ParseInt((*values)[0].GetString());
    if (!have || !bound) return false;
    return op == "Gt" ? *have > *bound : *have < *bound;
  }
  return false;
}

std::optional<std::string_view> LabelOf(const Value& node, std::string_view key) {
  const Value* labels = LabelsOf(node);
  const Value* v = labels ? Member(*labels, key) : nullptr;
  if (!v || !v->IsString()) return std::nullopt;
  return std::string_view(v->GetString(), v->GetStringLength());
}

// A NodeSelectorTerm: all its requirements hold; a term with none matches nothing.
bool TermMatches(const Value& term, const Value& node) {
  const Value* expressions = Member(term, "matchExpressions");
  const Value* fields = Member(term, "matchFields");
  bool has_expressions = expressions && expressions->IsArray() && !expressions->Empty();
  bool has_fields = fields && fields->IsArray() && !fields->Empty();
  if (!has_expressions && !has_fields) return false;
  if (has_expressions) {
    for (const Value& r : expressions->GetArray()) {
      if (!RequirementMatches(r, LabelOf(node, StringMember(r, "key")))) return false;
    }
  }
  if (has_fields) {
    for (const Value& r : fields->GetArray()) {
      std::optional<std::string_view> actual;
      if (StringMember(r, "key") == "metadata.name") actual = NameOf(node);
      if (!RequirementMatches(r, actual)) return false;
    }
  }
  return true;
}

const Value* RequiredTerms(const Value& volume) {
  const Value* spec = Spec(volume);
  const Value* affinity = spec ? Member(*spec, "nodeAffinity") : nullptr;
  const Value* required = affinity ? Member(*affinity, "required") : nullptr;
  if (!required || !required->IsObject()) return nullptr;
  return Member(*required, "nodeSelectorTerms");
}

}  // namespace

std::string LocalPathDeleteKey(std::string_view volume_name) {
  std::string_view prefix = kLocalPathDeletePrefix;
  size_t slash = prefix.find('/');
  // The name part of an annotation key is at most 63 characters.
  if (volume_name.empty() || prefix.size() - slash - 1 + volume_name.size() > 63) return "";
  return std::string(prefix) + std::string(volume_name);
}

std::string_view ClaimClass(const Value& claim) {
  const Value* spec = Spec(claim);
  if (const Value* cls = spec ? Member(*spec, "storageClassName") : nullptr; cls && cls->IsString()) {
    return std::string_view(cls->GetString(), cls->GetStringLength());
  }
  return AnnotationOf(claim, kAnnBetaStorageClass).value_or("");
}

bool ClaimHasClass(const Value& claim) {
  const Value* spec = Spec(claim);
  const Value* cls = spec ? Member(*spec, "storageClassName") : nullptr;
  return (cls && cls->IsString()) || AnnotationOf(claim, kAnnBetaStorageClass).has_value();
}

std::string_view VolumeClass(const Value& volume) {
  const Value* spec = Spec(volume);
  if (const Value* cls = spec ? Member(*spec, "storageClassName") : nullptr; cls && cls->IsString()) {
    return std::string_view(cls->GetString(), cls->GetStringLength());
  }
  return AnnotationOf(volume, kAnnBetaStorageClass).value_or("");
}

std::string_view PhaseOf(const Value& object) {
  const Value* status = Member(object, "status");
  return status ? StringMember(*status, "phase") : std::string_view();
}

std::string_view VolumeNameOf(const Value& claim) { return SpecString(claim, "volumeName"); }

bool IsVolumeBoundToClaim(const Value& volume, const Value& claim) {
  const Value* spec = Spec(volume);
  const Value* ref = spec ? Member(*spec, "claimRef") : nullptr;
  if (!ref || !ref->IsObject()) return false;
  if (StringMember(*ref, "name") != NameOf(claim) || StringMember(*ref, "namespace") != NamespaceOf(claim)) return false;
  std::string_view uid = StringMember(*ref, "uid");
  return uid.empty() || uid == UidOf(claim);
}

bool IsClaimFullyBound(const Value& claim) {
  return !VolumeNameOf(claim).empty() && AnnotationOf(claim, kAnnBindCompleted).has_value();
}

admission::Quantity ClaimRequest(const Value& claim) {
  const Value* spec = Spec(claim);
  const Value* resources = spec ? Member(*spec, "resources") : nullptr;
  return QuantityAt(resources ? Member(*resources, "requests") : nullptr, "storage");
}

admission::Quantity VolumeCapacity(const Value& volume) {
  const Value* spec = Spec(volume);
  return QuantityAt(spec ? Member(*spec, "capacity") : nullptr, "storage");
}

bool VolumeModeMismatch(const Value& claim, const Value& volume) { return VolumeModeOf(claim) != VolumeModeOf(volume); }

bool AccessModesSatisfied(const Value& claim, const Value& volume) {
  std::set<std::string> have = AccessModes(volume);
  for (const std::string& mode : AccessModes(claim)) {
    if (!have.count(mode)) return false;
  }
  return true;
}

Status CheckVolumeSatisfiesClaim(const Value& volume, const Value& claim) {
  if (VolumeCapacity(volume).Compare(ClaimRequest(claim)) < 0) {
    return InvalidArgumentError("requested PV is too small");
  }
  if (VolumeClass(volume) != ClaimClass(claim)) {
    return InvalidArgumentError("storageClassName does not match");
  }
  if (VolumeModeMismatch(claim, volume)) return InvalidArgumentError("incompatible volumeMode");
  if (!AccessModesSatisfied(claim, volume)) return InvalidArgumentError("incompatible accessMode");
  return Status();
}

bool VolumeNodeAffinityAllows(const Value& volume, const Value& node) {
  const Value* spec = Spec(volume);
  const Value* affinity = spec ? Member(*spec, "nodeAffinity") : nullptr;
  const Value* required = affinity ? Member(*affinity, "required") : nullptr;
  if (!required || !required->IsObject()) return true;
  const Value* terms = Member(*required, "nodeSelectorTerms");
  if (!terms || !terms->IsArray()) return false;
  for (const Value& term : terms->GetArray()) {
    if (TermMatches(term, node)) return true;
  }
  return false;
}

std::string LocalPathNodeOf(const Value& volume) {
  const Value* terms = RequiredTerms(volume);
  if (!terms || !terms->IsArray()) return "";
  for (const Value& term : terms->GetArray()) {
    const Value* expressions = Member(term, "matchExpressions");
    if (!expressions || !expressions->IsArray()) continue;
    for (const Value& r : expressions->GetArray()) {
      if (StringMember(r, "key") != kHostnameLabel || StringMember(r, "operator") != "In") continue;
      const Value* values = Member(r, "values");
      if (values && values->IsArray() && values->Size() == 1 && (*values)[0].IsString()) {
        return (*values)[0].GetString();
      }
    }
  }
  return "";
}

client::ObjectPtr FindMatchingVolume(const Value& claim, const std::vector<client::ObjectPtr>& volumes,
                                     const VolumeMatchOptions& options) {
  admission::Quantity requested = ClaimRequest(claim);
  std::string_view requested_class = ClaimClass(claim);
  std::optional<selection::LabelSelector> selector;
  const Value* claim_spec = Spec(claim);
  if (const Value* s = claim_spec ? Member(*claim_spec, "selector") : nullptr; s && !s->IsNull()) {
    Result<selection::LabelSelector> parsed = selection::LabelSelector::FromJson(*s);
    if (!parsed.ok()) return nullptr;
    selector = std::move(parsed).value();
  }

  client::ObjectPtr smallest;
  admission::Quantity smallest_size;
  for (const client::ObjectPtr& volume : volumes) {
    if (options.excluded && options.excluded->count(NameOf(*volume))) continue;
    const Value* spec = Spec(*volume);
    const Value* ref = spec ? Member(*spec, "claimRef") : nullptr;
    bool has_ref = ref && ref->IsObject();
    bool bound_to_claim = IsVolumeBoundToClaim(*volume, claim);
    if (has_ref && !bound_to_claim) continue;
    admission::Quantity size = VolumeCapacity(*volume);
    if (size.Compare(requested) < 0) continue;
    if (VolumeModeMismatch(claim, *volume)) continue;
    if (IsBeingDeleted(*volume)) continue;
    bool node_ok = !options.node || VolumeNodeAffinityAllows(*volume, *options.node);
    if (bound_to_claim) return node_ok ? volume : nullptr;  // pre-bound: this one or none
    if (!options.node && options.delay_binding) continue;   // waits for the first consumer
    if (PhaseOf(*volume) != "Available") continue;
    if (selector && !selector->Matches(LabelsOf(*volume))) continue;
    if (VolumeClass(*volume) != requested_class) continue;
    if (!node_ok) continue;
    if (options.node && !AccessModesSatisfied(claim, *volume)) continue;
    if (!smallest || smallest_size.Compare(size) > 0) {
      smallest = volume;
      smallest_size = size;
    }
  }
  return smallest;
}

client::ObjectPtr FindBestMatchForClaim(const Value& claim, const std::vector<client::ObjectPtr>& volumes,
                                        const VolumeMatchOptions& options) {
  std::map<std::set<std::string>, std::vector<client::ObjectPtr>> by_modes;
  for (const client::ObjectPtr& volume : volumes) by_modes[AccessModes(*volume)].push_back(volume);
  std::set<std::string> wanted = AccessModes(claim);
  std::vector<const std::set<std::string>*> candidates;
  for (const auto& [modes, list] : by_modes) {
    if (std::includes(modes.begin(), modes.end(), wanted.begin(), wanted.end())) candidates.push_back(&modes);
  }
  // Fewest modes first (ties in the map's order, so the choice is deterministic).
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto* a, const auto* b) { return a->size() < b->size(); });
  for (const std::set<std::string>* modes : candidates) {
    if (client::ObjectPtr v = FindMatchingVolume(claim, by_modes[*modes], options)) return v;
  }
  return nullptr;
}

std::vector<std::string> PodClaimNames(const Value& pod) {
  std::vector<std::string> out;
  const Value* spec = Spec(pod);
  const Value* volumes = spec ? Member(*spec, "volumes") : nullptr;
  if (!volumes || !volumes->IsArray()) return out;
  for (const Value& v : volumes->GetArray()) {
    if (const Value* pvc = Member(v, "persistentVolumeClaim")) {
      std::string_view name = StringMember(*pvc, "claimName");
      if (!name.empty()) out.emplace_back(name);
    } else if (Member(v, "ephemeral")) {
      out.push_back(std::string(NameOf(pod)) + "-" + std::string(StringMember(v, "name")));
    }
  }
  return out;
}

bool PodUsesClaims(const Value& pod) {
  std::string_view phase = PhaseOf(pod);
  return !SpecString(pod, "nodeName").empty() && phase != "Succeeded" && phase != "Failed";
}

std::string_view ProvisionerOf(const Value& storage_class) { return StringMember(storage_class, "provisioner"); }

std::string_view ClassReclaimPolicy(const Value& storage_class) {
  std::string_view policy = StringMember(storage_class, "reclaimPolicy");
  return policy.empty() ? std::string_view("Delete") : policy;
}

bool IsWaitForFirstConsumer(const Value& storage_class) {
  return StringMember(storage_class, "volumeBindingMode") == "WaitForFirstConsumer";
}

bool ClassCanProvision(const Value& storage_class, const Value* node) {
  std::string_view provisioner = ProvisionerOf(storage_class);
  if (provisioner.empty() || provisioner == kNoProvisioner) return false;
  const Value* topologies = Member(storage_class, "allowedTopologies");
  if (!node || !topologies || !topologies->IsArray() || topologies->Empty()) return true;
  // Kubernetes' MatchTopologySelectorTerms: any term whose every expression holds.
  for (const Value& term : topologies->GetArray()) {
    const Value* expressions = Member(term, "matchLabelExpressions");
    if (!expressions || !expressions->IsArray()) continue;
    bool all = true;
    for (const Value& e : expressions->GetArray()) {
      std::optional<std::string_view> label = LabelOf(*node, StringMember(e, "key"));
      if (!label || !ContainsString(Member(e, "values"), *label)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace kite::controllers
