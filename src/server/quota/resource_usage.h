// What objects charge to a ResourceQuota, as Kubernetes' quota evaluators measure it
// (pkg/quota/v1/evaluator/core and k8s.io/apiserver/pkg/quota/v1, as of 1.32), and the
// resource-list arithmetic the quota admission plugin and the quota controller share.
//
// Usage by kind (group "" is core):
//  - pods: count/pods always (every stored pod); the rest only while the pod is not
//    terminal (phase Succeeded or Failed) and not past its deletion grace
//    (now > deletionTimestamp + deletionGracePeriodSeconds): pods = 1; the pod's effective
//    requests (containers summed, the max with each init container, sidecar init
//    containers added, plus spec.overhead; a container's request defaults to its limit, as
//    API defaulting does) as cpu / requests.cpu, memory / requests.memory,
//    ephemeral-storage / requests.ephemeral-storage, hugepages-<size> /
//    requests.hugepages-<size>, requests.<extended resource>; the effective limits (overhead
//    added only to resources already limited) as limits.cpu, limits.memory,
//    limits.ephemeral-storage.
//  - services: count/services and services = 1; services.nodeports = the ports of a
//    NodePort or LoadBalancer service (of a LoadBalancer with allocateLoadBalancerNodePorts
//    false: the ports naming a nodePort); services.loadbalancers = 1 for a LoadBalancer.
//  - persistentvolumeclaims: count/persistentvolumeclaims and persistentvolumeclaims = 1;
//    requests.storage = spec.resources.requests.storage, or status.allocatedResources.storage
//    when larger, rounded up to whole bytes; with a storage class (the beta annotation
//    volume.beta.kubernetes.io/storage-class, else spec.storageClassName) also
//    <class>.storageclass.storage.k8s.io/persistentvolumeclaims and .../requests.storage.
//  - configmaps, secrets, replicationcontrollers, resourcequotas: count/<resource> and the
//    legacy name <resource> = 1.
//  - anything else: count/<resource>.<group> (count/<resource> for core) = 1.
//
// Scopes (spec.scopes, each as the Exists operator, plus spec.scopeSelector's
// matchExpressions) apply to pods only: Terminating / NotTerminating (activeDeadlineSeconds
// set), BestEffort / NotBestEffort (QoS class: no cpu or memory request or limit anywhere),
// PriorityClass (operators In, NotIn, Exists, DoesNotExist on spec.priorityClassName) and
// CrossNamespacePodAffinity. A quota with any scope matches no object of another kind, as
// upstream's MatchesNoScopeFunc.
//
// Quantities that do not parse are skipped: the API server validated them on write.
// Pure functions; thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/admission/quantity.h"

namespace kite::quota {

// A v1 ResourceList: resource name -> quantity, in name order.
using ResourceList = std::map<std::string, admission::Quantity, std::less<>>;
using ResourceNames = std::set<std::string, std::less<>>;

// ---- Resource lists (k8s.io/apiserver/pkg/quota/v1/resources.go) ----

// A JSON ResourceList ({"cpu": "500m"}); nullptr or a non-object gives {}.
ResourceList ParseResourceList(const rapidjson::Value* list);
// The JSON object of canonical quantity strings.
rapidjson::Value ResourceListToJson(const ResourceList& list,
                                    rapidjson::Document::AllocatorType& allocator);

ResourceNames Names(const ResourceList& list);
// a + b per name; names in only one operand are copied.
ResourceList Add(const ResourceList& a, const ResourceList& b);
// a - b per name of `a`, negative results becoming zero.
ResourceList SubtractNonNegative(const ResourceList& a, const ResourceList& b);
// The entries of `list` whose name is in `names`.
ResourceList Mask(const ResourceList& list, const ResourceNames& names);
ResourceList RemoveZeros(const ResourceList& list);
// Same names with equal values (compared as quantities: "1000m" equals "1").
bool Equals(const ResourceList& a, const ResourceList& b);
// The names whose value in `a` exceeds the value in `limits` (names without a limit pass).
std::vector<std::string> Exceeding(const ResourceList& a, const ResourceList& limits);
// The names with a negative value.
std::vector<std::string> NegativeNames(const ResourceList& list);
// "cpu=500m,pods=2": Kubernetes' prettyPrint of quota errors (names in order).
std::string PrettyPrint(const ResourceList& list);
// "a,b": names sorted and joined with commas.
std::string JoinNames(const std::vector<std::string>& names);

// ---- Evaluators (pkg/quota/v1/evaluator/core, generic/evaluator.go) ----

// "count/<resource>.<group>", or "count/<resource>" for the core group.
std::string ObjectCountName(std::string_view group, std::string_view resource);

// The names among `names` that objects of group/resource charge (MatchingResources).
ResourceNames MatchingResources(std::string_view group, std::string_view resource,
                                const ResourceNames& names);

// What one object of group/resource charges (see the header comment). `now_ms` decides
// whether a deleted pod is past its grace period.
ResourceList Usage(std::string_view group, std::string_view resource,
                   const rapidjson::Value& object, int64_t now_ms);

// One ScopedResourceSelectorRequirement.
struct ScopeSelector {
  std::string scope_name;  // "BestEffort", "PriorityClass", ...
  std::string op;          // "In", "NotIn", "Exists", "DoesNotExist"
  std::vector<std::string> values;
};

// spec.scopes (as Exists) followed by spec.scopeSelector.matchExpressions.
std::vector<ScopeSelector> QuotaScopes(const rapidjson::Value& quota);
bool MatchesScope(std::string_view group, std::string_view resource, const ScopeSelector& scope,
                  const rapidjson::Value& object);
// True when `object` matches every scope (no scopes: every object).
bool MatchesScopes(std::string_view group, std::string_view resource,
                   const std::vector<ScopeSelector>& scopes, const rapidjson::Value& object);

// The limits a quota enforces: status.hard as the quota controller last wrote it, or
// spec.hard while the quota has no status.hard yet.
ResourceList EffectiveHard(const rapidjson::Value& quota);

// generic.Matches: the quota limits at least one resource objects of this kind charge
// (among the names of `hard`) and `object` is in every one of its scopes.
bool QuotaMatches(const rapidjson::Value& quota, const ResourceList& hard, std::string_view group,
                  std::string_view resource, const rapidjson::Value& object);

// The pod evaluator's Constraints: when the quota limits cpu or memory (cpu, memory,
// requests.*, limits.*) among `required`, every container and init container must set it.
// Returns Kubernetes' "must specify limits.cpu for: a,b; requests.memory for: a", or
// nullopt when satisfied.
std::optional<std::string> PodConstraintViolation(const ResourceNames& required,
                                                  const rapidjson::Value& pod);

// The usage a quota with `scopes` sees from `objects` (all of group/resource, one
// namespace): every name of `resources` that this kind charges starts at zero, then each
// object in the scopes adds its Usage; the result holds only those names.
ResourceList CalculateUsage(std::string_view group, std::string_view resource,
                            const std::vector<ScopeSelector>& scopes, const ResourceNames& resources,
                            const std::vector<const rapidjson::Value*>& objects, int64_t now_ms);

// Whether a pod is charged for compute resources (QuotaV1Pod): not terminal and not past
// its deletion grace period at `now_ms`.
bool PodChargesCompute(const rapidjson::Value& pod, int64_t now_ms);

}  // namespace kite::quota
