#include "src/server/quota/resource_usage.h"

#include <algorithm>
#include <chrono>

#include "src/server/json/json_util.h"
#include "src/server/tables/timestamp.h"

namespace kite::quota {
namespace {

using admission::Quantity;
using json::Member;
using json::StringMember;
using rapidjson::Value;

constexpr std::string_view kRequestsPrefix = "requests.";
constexpr std::string_view kHugePagesPrefix = "hugepages-";
constexpr std::string_view kStorageClassSuffix = ".storageclass.storage.k8s.io/";
constexpr std::string_view kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

const Quantity& One() {
  static const Quantity one = Quantity::FromInt(1);
  return one;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const Value* Dig(const Value* v, std::string_view a, std::string_view b = {}) {
  if (!v) return nullptr;
  v = Member(*v, a);
  if (!v || b.empty()) return v;
  return Member(*v, b);
}

std::string_view Str(const Value* v) { return v && v->IsString() ? std::string_view(v->GetString(), v->GetStringLength()) : ""; }

// ---- Pods ----

// The pod resources quota knows by name (podResources in pods.go).
const ResourceNames& PodResourceNames() {
  static const ResourceNames names = {
      "count/pods",      "cpu",           "memory",        "ephemeral-storage",          "requests.cpu",
      "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
      "limits.ephemeral-storage", "pods"};
  return names;
}

// The resources whose absence from a container fails a quota limiting them (pods.go's
// validationSet: a backward-compatibility rule upstream keeps to cpu and memory).
const ResourceNames& ValidationSet() {
  static const ResourceNames names = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu",
                                      "limits.memory"};
  return names;
}

// helper.IsNativeResource: no domain, or a kubernetes.io one.
bool IsNativeResource(std::string_view name) {
  return name.find('/') == std::string_view::npos || name.find("kubernetes.io/") != std::string_view::npos;
}

// helper.IsExtendedResourceName (without its qualified-name syntax check: the API server
// validated resource names).
bool IsExtendedResourceName(std::string_view name) {
  return !IsNativeResource(name) && !StartsWith(name, kRequestsPrefix);
}

// isExtendedResourceNameForQuota: "requests.<extended>".
bool IsExtendedResourceNameForQuota(std::string_view name) {
  return !IsNativeResource(name) && StartsWith(name, kRequestsPrefix);
}

struct ContainerResources {
  ResourceList requests;
  ResourceList limits;
};

// A container's requests and limits, a missing request defaulting to the limit (the v1
// defaulting of ResourceRequirements; a no-op once defaults have been applied).
ContainerResources ContainerResourcesOf(const Value& container) {
  ContainerResources r;
  const Value* resources = Member(container, "resources");
  r.requests = ParseResourceList(resources ? Member(*resources, "requests") : nullptr);
  r.limits = ParseResourceList(resources ? Member(*resources, "limits") : nullptr);
  for (const auto& [name, limit] : r.limits) r.requests.emplace(name, limit);
  return r;
}

// maxResourceList: each name becomes the larger of the two.
void MaxInto(ResourceList& into, const ResourceList& other) {
  for (const auto& [name, q] : other) {
    auto it = into.find(name);
    if (it == into.end()) {
      into.emplace(name, q);
    } else if (q.Compare(it->second) > 0) {
      it->second = q;
    }
  }
}

std::vector<const Value*> ContainersOf(const Value& pod, std::string_view field) {
  std::vector<const Value*> out;
  const Value* list = Dig(&pod, "spec", field);
  if (list && list->IsArray()) {
    for (const Value& c : list->GetArray()) {
      if (c.IsObject()) out.push_back(&c);
    }
  }
  return out;
}

// The pod's effective requests or limits (component-helpers' aggregate of container
// resources): the regular containers summed; each init container needs itself plus the
// sidecars started before it; sidecars (restartPolicy Always) keep running and add up.
ResourceList AggregateContainers(const Value& pod, bool limits) {
  ResourceList result;
  for (const Value* c : ContainersOf(pod, "containers")) {
    ContainerResources r = ContainerResourcesOf(*c);
    result = Add(result, limits ? r.limits : r.requests);
  }
  ResourceList sidecars;
  ResourceList init_peak;
  for (const Value* c : ContainersOf(pod, "initContainers")) {
    ContainerResources r = ContainerResourcesOf(*c);
    const ResourceList& own = limits ? r.limits : r.requests;
    if (StringMember(*c, "restartPolicy") == "Always") {
      result = Add(result, own);
      sidecars = Add(sidecars, own);
      MaxInto(init_peak, sidecars);
    } else {
      MaxInto(init_peak, Add(own, sidecars));
    }
  }
  MaxInto(result, init_peak);
  return result;
}

ResourceList PodRequests(const Value& pod) {
  ResourceList requests = AggregateContainers(pod, false);
  return Add(requests, ParseResourceList(Dig(&pod, "spec", "overhead")));
}

ResourceList PodLimits(const Value& pod) {
  ResourceList limits = AggregateContainers(pod, true);
  // Overhead counts only towards resources the pod limits.
  for (const auto& [name, q] : ParseResourceList(Dig(&pod, "spec", "overhead"))) {
    auto it = limits.find(name);
    if (it != limits.end() && !it->second.IsZero()) it->second = it->second.Add(q);
  }
  return limits;
}

// podComputeUsageHelper: the quota names a set of requests and limits charges.
ResourceList PodComputeUsage(const ResourceList& requests, const ResourceList& limits) {
  ResourceList result;
  result["pods"] = One();
  auto request = [&](std::string_view name, std::string_view plain, std::string_view requests_name) {
    if (auto it = requests.find(name); it != requests.end()) {
      result[std::string(plain)] = it->second;
      result[std::string(requests_name)] = it->second;
    }
  };
  auto limit = [&](std::string_view name, std::string_view limits_name) {
    if (auto it = limits.find(name); it != limits.end()) result[std::string(limits_name)] = it->second;
  };
  request("cpu", "cpu", "requests.cpu");
  limit("cpu", "limits.cpu");
  request("memory", "memory", "requests.memory");
  limit("memory", "limits.memory");
  request("ephemeral-storage", "ephemeral-storage", "requests.ephemeral-storage");
  limit("ephemeral-storage", "limits.ephemeral-storage");
  for (const auto& [name, q] : requests) {
    if (StartsWith(name, kHugePagesPrefix)) {
      result[name] = q;
      result[std::string(kRequestsPrefix) + name] = q;
    }
    if (IsExtendedResourceName(name)) result[std::string(kRequestsPrefix) + name] = q;
  }
  return result;
}

ResourceList PodUsage(const Value& pod, int64_t now_ms) {
  ResourceList result;
  result["count/pods"] = One();
  if (!PodChargesCompute(pod, now_ms)) return result;
  return Add(result, PodComputeUsage(PodRequests(pod), PodLimits(pod)));
}

// qos.GetPodQOS == BestEffort: no container asks for or limits cpu or memory (zero
// values do not count).
bool IsBestEffort(const Value& pod) {
  for (std::string_view field : {"containers", "initContainers"}) {
    for (const Value* c : ContainersOf(pod, field)) {
      const Value* resources = Member(*c, "resources");
      for (std::string_view kind : {"requests", "limits"}) {
        ResourceList list = ParseResourceList(resources ? Member(*resources, kind) : nullptr);
        for (std::string_view name : {"cpu", "memory"}) {
          auto it = list.find(name);
          if (it != list.end() && it->second.Sign() > 0) return false;
        }
      }
    }
  }
  return true;
}

bool IsTerminating(const Value& pod) {
  const Value* deadline = Dig(&pod, "spec", "activeDeadlineSeconds");
  return deadline && deadline->IsNumber() && deadline->GetDouble() >= 0;
}

bool HasCrossNamespaceTerm(const Value* terms, bool weighted) {
  if (!terms || !terms->IsArray()) return false;
  for (const Value& t : terms->GetArray()) {
    const Value* term = weighted ? Member(t, "podAffinityTerm") : &t;
    if (!term) continue;
    const Value* namespaces = Member(*term, "namespaces");
    if (namespaces && namespaces->IsArray() && !namespaces->Empty()) return true;
    const Value* selector = Member(*term, "namespaceSelector");
    if (selector && !selector->IsNull()) return true;
  }
  return false;
}

bool UsesCrossNamespacePodAffinity(const Value& pod) {
  const Value* affinity = Dig(&pod, "spec", "affinity");
  if (!affinity) return false;
  for (std::string_view kind : {"podAffinity", "podAntiAffinity"}) {
    const Value* a = Member(*affinity, kind);
    if (!a) continue;
    if (HasCrossNamespaceTerm(Member(*a, "requiredDuringSchedulingIgnoredDuringExecution"), false) ||
        HasCrossNamespaceTerm(Member(*a, "preferredDuringSchedulingIgnoredDuringExecution"), true)) {
      return true;
    }
  }
  return false;
}

bool PodMatchesScope(const ScopeSelector& scope, const Value& pod) {
  const std::string& name = scope.scope_name;
  if (name == "Terminating") return IsTerminating(pod);
  if (name == "NotTerminating") return !IsTerminating(pod);
  if (name == "BestEffort") return IsBestEffort(pod);
  if (name == "NotBestEffort") return !IsBestEffort(pod);
  if (name == "CrossNamespacePodAffinity") return UsesCrossNamespacePodAffinity(pod);
  if (name == "PriorityClass") {
    // A label selector over the one-label set {PriorityClass: <priorityClassName>}.
    std::string_view priority_class = Str(Dig(&pod, "spec", "priorityClassName"));
    bool present = !priority_class.empty();
    bool listed = std::find(scope.values.begin(), scope.values.end(), priority_class) != scope.values.end();
    if (scope.op == "Exists") return present;
    if (scope.op == "DoesNotExist") return !present;
    if (scope.op == "In") return present && listed;
    if (scope.op == "NotIn") return !present || !listed;
    return false;
  }
  return false;
}

// ---- Services and claims ----

ResourceList ServiceUsage(const Value& service) {
  ResourceList result;
  result["count/services"] = One();
  result["services"] = One();
  result["services.loadbalancers"] = Quantity();
  result["services.nodeports"] = Quantity();
  const Value* spec = Member(service, "spec");
  std::string_view type = spec ? StringMember(*spec, "type") : "";
  const Value* ports = spec ? Member(*spec, "ports") : nullptr;
  int64_t port_count = ports && ports->IsArray() ? static_cast<int64_t>(ports->Size()) : 0;
  if (type == "NodePort") {
    result["services.nodeports"] = Quantity::FromInt(port_count);
  } else if (type == "LoadBalancer") {
    const Value* allocate = Member(*spec, "allocateLoadBalancerNodePorts");
    if (allocate && allocate->IsBool() && !allocate->GetBool()) {
      int64_t with_node_port = 0;
      for (int64_t i = 0; i < port_count; ++i) {
        const Value* node_port = Member((*ports)[static_cast<rapidjson::SizeType>(i)], "nodePort");
        if (node_port && node_port->IsNumber() && node_port->GetDouble() != 0) ++with_node_port;
      }
      result["services.nodeports"] = Quantity::FromInt(with_node_port);
    } else {
      result["services.nodeports"] = Quantity::FromInt(port_count);
    }
    result["services.loadbalancers"] = One();
  }
  return result;
}

// storagehelpers.GetPersistentVolumeClaimClass: the beta annotation wins over the field.
std::string ClaimClass(const Value& claim) {
  const Value* annotations = Dig(&claim, "metadata", "annotations");
  if (annotations) {
    if (const Value* v = Member(*annotations, kBetaStorageClassAnnotation); v && v->IsString()) {
      return std::string(Str(v));
    }
  }
  return std::string(Str(Dig(&claim, "spec", "storageClassName")));
}

// Storage charged to quota is counted in whole bytes (upstream issue 94313).
Quantity WholeBytes(Quantity q) {
  q.RoundUp(0);
  return q;
}

std::optional<Quantity> ClaimStorage(const Value& claim) {
  const Value* spec = Member(claim, "spec");
  ResourceList requests = ParseResourceList(spec ? Dig(spec, "resources", "requests") : nullptr);
  auto it = requests.find("storage");
  if (it == requests.end()) return std::nullopt;
  Quantity result = WholeBytes(it->second);
  ResourceList allocated = ParseResourceList(Dig(&claim, "status", "allocatedResources"));
  if (auto a = allocated.find("storage"); a != allocated.end() && a->second.Compare(result) > 0) {
    result = WholeBytes(a->second);
  }
  return result;
}

ResourceList ClaimUsage(const Value& claim) {
  ResourceList result;
  result["persistentvolumeclaims"] = One();
  result["count/persistentvolumeclaims"] = One();
  std::string storage_class = ClaimClass(claim);
  std::string by_class = storage_class.empty() ? "" : storage_class + std::string(kStorageClassSuffix);
  if (!by_class.empty()) result[by_class + "persistentvolumeclaims"] = One();
  if (std::optional<Quantity> storage = ClaimStorage(claim)) {
    result["requests.storage"] = *storage;
    if (!by_class.empty()) result[by_class + "requests.storage"] = *storage;
  }
  return result;
}

// The kinds counted under a legacy name as well as count/<resource>.
bool HasLegacyCountName(std::string_view group, std::string_view resource) {
  return group.empty() && (resource == "configmaps" || resource == "secrets" ||
                           resource == "replicationcontrollers" || resource == "resourcequotas");
}

bool IsCore(std::string_view group, std::string_view resource, std::string_view want) {
  return group.empty() && resource == want;
}

}  // namespace

// ---- Resource lists ----

ResourceList ParseResourceList(const Value* list) {
  ResourceList out;
  if (!list || !list->IsObject()) return out;
  for (const auto& m : list->GetObject()) {
    if (!m.value.IsString()) continue;
    Result<Quantity> q = Quantity::Parse(std::string_view(m.value.GetString(), m.value.GetStringLength()));
    if (q.ok()) out[std::string(m.name.GetString(), m.name.GetStringLength())] = *q;
  }
  return out;
}

Value ResourceListToJson(const ResourceList& list, rapidjson::Document::AllocatorType& allocator) {
  Value out(rapidjson::kObjectType);
  for (const auto& [name, q] : list) {
    out.AddMember(Value(name, allocator), Value(q.String(), allocator), allocator);
  }
  return out;
}

ResourceNames Names(const ResourceList& list) {
  ResourceNames names;
  for (const auto& [name, q] : list) names.insert(name);
  return names;
}

ResourceList Add(const ResourceList& a, const ResourceList& b) {
  ResourceList out = a;
  for (const auto& [name, q] : b) {
    auto it = out.find(name);
    if (it == out.end()) {
      out.emplace(name, q);
    } else {
      it->second = it->second.Add(q);
    }
  }
  return out;
}

ResourceList SubtractNonNegative(const ResourceList& a, const ResourceList& b) {
  ResourceList out;
  for (const auto& [name, q] : a) {
    Quantity v = q;
    if (auto it = b.find(name); it != b.end()) v = v.Sub(it->second);
    out[name] = v.Sign() > 0 ? v : Quantity();
  }
  return out;
}

ResourceList Mask(const ResourceList& list, const ResourceNames& names) {
  ResourceList out;
  for (const auto& [name, q] : list) {
    if (names.count(name)) out.emplace(name, q);
  }
  return out;
}

ResourceList RemoveZeros(const ResourceList& list) {
  ResourceList out;
  for (const auto& [name, q] : list) {
    if (!q.IsZero()) out.emplace(name, q);
  }
  return out;
}

bool Equals(const ResourceList& a, const ResourceList& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, q] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.Compare(q) != 0) return false;
  }
  return true;
}

std::vector<std::string> Exceeding(const ResourceList& a, const ResourceList& limits) {
  std::vector<std::string> out;
  for (const auto& [name, q] : a) {
    auto it = limits.find(name);
    if (it != limits.end() && q.Compare(it->second) > 0) out.push_back(name);
  }
  return out;
}

std::vector<std::string> NegativeNames(const ResourceList& list) {
  std::vector<std::string> out;
  for (const auto& [name, q] : list) {
    if (q.Sign() < 0) out.push_back(name);
  }
  return out;
}

std::string PrettyPrint(const ResourceList& list) {
  std::string out;
  for (const auto& [name, q] : list) {
    if (!out.empty()) out += ",";
    out += name + "=" + q.String();
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const std::string& n : sorted) {
    if (!out.empty()) out += ",";
    out += n;
  }
  return out;
}

// ---- Evaluators ----

std::string ObjectCountName(std::string_view group, std::string_view resource) {
  std::string name = "count/" + std::string(resource);
  if (!group.empty()) name += "." + std::string(group);
  return name;
}

ResourceNames MatchingResources(std::string_view group, std::string_view resource, const ResourceNames& names) {
  ResourceNames out;
  if (IsCore(group, resource, "pods")) {
    for (const std::string& n : names) {
      if (PodResourceNames().count(n) || StartsWith(n, kHugePagesPrefix) ||
          StartsWith(n, std::string(kRequestsPrefix) + std::string(kHugePagesPrefix)) ||
          IsExtendedResourceNameForQuota(n)) {
        out.insert(n);
      }
    }
    return out;
  }
  if (IsCore(group, resource, "services")) {
    for (const char* n : {"count/services", "services", "services.nodeports", "services.loadbalancers"}) {
      if (names.count(n)) out.insert(n);
    }
    return out;
  }
  if (IsCore(group, resource, "persistentvolumeclaims")) {
    for (const std::string& n : names) {
      if (n == "count/persistentvolumeclaims" || n == "persistentvolumeclaims" || n == "requests.storage" ||
          EndsWith(n, std::string(kStorageClassSuffix) + "persistentvolumeclaims") ||
          EndsWith(n, std::string(kStorageClassSuffix) + "requests.storage")) {
        out.insert(n);
      }
    }
    return out;
  }
  std::string count = ObjectCountName(group, resource);
  if (names.count(count)) out.insert(count);
  if (HasLegacyCountName(group, resource) && names.count(resource)) out.insert(std::string(resource));
  return out;
}

ResourceList Usage(std::string_view group, std::string_view resource, const Value& object, int64_t now_ms) {
  if (IsCore(group, resource, "pods")) return PodUsage(object, now_ms);
  if (IsCore(group, resource, "services")) return ServiceUsage(object);
  if (IsCore(group, resource, "persistentvolumeclaims")) return ClaimUsage(object);
  ResourceList result;
  result[ObjectCountName(group, resource)] = One();
  if (HasLegacyCountName(group, resource)) result[std::string(resource)] = One();
  return result;
}

std::vector<ScopeSelector> QuotaScopes(const Value& quota) {
  std::vector<ScopeSelector> out;
  const Value* spec = Member(quota, "spec");
  if (!spec) return out;
  if (const Value* scopes = Member(*spec, "scopes"); scopes && scopes->IsArray()) {
    for (const Value& s : scopes->GetArray()) {
      if (s.IsString()) out.push_back({std::string(Str(&s)), "Exists", {}});
    }
  }
  const Value* expressions = Dig(spec, "scopeSelector", "matchExpressions");
  if (expressions && expressions->IsArray()) {
    for (const Value& e : expressions->GetArray()) {
      ScopeSelector s{std::string(StringMember(e, "scopeName")), std::string(StringMember(e, "operator")), {}};
      if (const Value* values = Member(e, "values"); values && values->IsArray()) {
        for (const Value& v : values->GetArray()) {
          if (v.IsString()) s.values.emplace_back(Str(&v));
        }
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

bool MatchesScope(std::string_view group, std::string_view resource, const ScopeSelector& scope,
                  const Value& object) {
  // Only pods have scopes (upstream's other evaluators use MatchesNoScopeFunc).
  return IsCore(group, resource, "pods") && PodMatchesScope(scope, object);
}

bool MatchesScopes(std::string_view group, std::string_view resource, const std::vector<ScopeSelector>& scopes,
                   const Value& object) {
  for (const ScopeSelector& s : scopes) {
    if (!MatchesScope(group, resource, s, object)) return false;
  }
  return true;
}

ResourceList EffectiveHard(const Value& quota) {
  const Value* status_hard = Dig(&quota, "status", "hard");
  if (status_hard && status_hard->IsObject()) return ParseResourceList(status_hard);
  return ParseResourceList(Dig(&quota, "spec", "hard"));
}

bool QuotaMatches(const Value& quota, const ResourceList& hard, std::string_view group, std::string_view resource,
                  const Value& object) {
  if (MatchingResources(group, resource, Names(hard)).empty()) return false;
  return MatchesScopes(group, resource, QuotaScopes(quota), object);
}

std::optional<std::string> PodConstraintViolation(const ResourceNames& required, const Value& pod) {
  ResourceNames wanted;
  for (const std::string& n : required) {
    if (ValidationSet().count(n)) wanted.insert(n);
  }
  if (wanted.empty()) return std::nullopt;
  // resource -> the containers missing it, both in name order.
  std::map<std::string, std::set<std::string>> missing;
  for (std::string_view field : {"containers", "initContainers"}) {
    for (const Value* c : ContainersOf(pod, field)) {
      ContainerResources r = ContainerResourcesOf(*c);
      ResourceList usage = PodComputeUsage(r.requests, r.limits);
      for (const std::string& n : wanted) {
        if (!usage.count(n)) missing[n].insert(std::string(StringMember(*c, "name")));
      }
    }
  }
  if (missing.empty()) return std::nullopt;
  std::string message = "must specify ";
  bool first = true;
  for (const auto& [resource, containers] : missing) {
    if (!first) message += "; ";
    first = false;
    message += resource + " for: ";
    bool first_container = true;
    for (const std::string& c : containers) {
      if (!first_container) message += ",";
      first_container = false;
      message += c;
    }
  }
  return message;
}

ResourceList CalculateUsage(std::string_view group, std::string_view resource,
                            const std::vector<ScopeSelector>& scopes, const ResourceNames& resources,
                            const std::vector<const Value*>& objects, int64_t now_ms) {
  ResourceNames charged = MatchingResources(group, resource, resources);
  ResourceList used;
  if (charged.empty()) return used;
  for (const std::string& n : charged) used[n] = Quantity();
  for (const Value* object : objects) {
    if (!object || !MatchesScopes(group, resource, scopes, *object)) continue;
    used = Add(used, Mask(Usage(group, resource, *object, now_ms), charged));
  }
  return used;
}

bool PodChargesCompute(const Value& pod, int64_t now_ms) {
  std::string_view phase = Str(Dig(&pod, "status", "phase"));
  if (phase == "Succeeded" || phase == "Failed") return false;
  // Pods stuck terminating (a lost node, say) stop counting once their grace has passed,
  // so they do not keep an application from scaling up.
  const Value* deleted = Dig(&pod, "metadata", "deletionTimestamp");
  const Value* grace = Dig(&pod, "metadata", "deletionGracePeriodSeconds");
  if (deleted && deleted->IsString() && grace && grace->IsNumber()) {
    std::optional<tables::Timestamp> at = tables::ParseTimestamp(Str(deleted));
    if (at) {
      int64_t deleted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(at->time_since_epoch()).count();
      int64_t grace_ms = static_cast<int64_t>(grace->GetDouble() * 1000);
      if (now_ms > deleted_ms + grace_ms) return false;
    }
  }
  return true;
}

}  // namespace kite::quota
