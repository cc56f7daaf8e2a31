// Kubernetes' LimitRanger admission plugin (plugin/pkg/admission/limitranger, 1.32) over
// JSON: the LimitRanges of an object's namespace give a new Pod's containers default
// resources (mutating step), and bound the resources of Pods and PersistentVolumeClaims
// (validating step).
//
// Operation, as upstream:
// - Kinds: "Pod" and "PersistentVolumeClaim"; anything else is a no-op. Upstream runs on
//   creates of both and on PVC updates (never on Pod updates or subresources); these
//   functions do not look at the operation, the caller decides.
// - LimitRange items are read with SetDefaults_LimitRangeItem applied (for type Container:
//   a missing `default` comes from `max`, a missing `defaultRequest` from `default`, then
//   from `min`). It is idempotent, so stored objects that were already defaulted read the
//   same. DefaultLimitRangeItems writes the same defaults into a LimitRange being stored.
// - Defaulting is done LimitRange by LimitRange, in the order given: a later one only fills
//   what earlier ones left unset, and its annotation (when it set anything) replaces the
//   earlier one's, as upstream's per-LimitRange loop does.
// - Validation stops at the first LimitRange (in the order given; upstream's is the
//   informer's, unspecified) that has violations, and returns all of that one's.
// - Within one LimitRange, messages come item by item, container by container (containers,
//   then init containers), then resource by resource in the order the item's map is
//   written (upstream iterates a Go map, so its order among resources is random).
// - Pod-type items compare against the pod's totals: containers and restartable (sidecar)
//   init containers summed, and the largest init container, as upstream's podRequests /
//   podLimits do with InPlacePodVerticalScaling off (its 1.32 default). Pod overhead is
//   not counted (upstream does not either).
// - Comparisons use Value()/MilliValue() exactly as upstream's requestLimitEnforcedValues,
//   and quantities print in Kubernetes' canonical form ("1Gi", "500m").
//
// The lead's Forbidden error: `<resource> "<name>" is forbidden: <LimitRangeForbiddenMessage>`
// with resource "pods" or "persistentvolumeclaims" and name metadata.name, else
// metadata.generateName, else "Unknown" (admission.NewForbidden). Example:
//   pods "x" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m,
//   maximum memory usage per Pod is 1Gi, but limit is 2Gi]
//
// Untrusted input: objects and LimitRanges may hold anything. Members of the wrong type
// and unparsable quantities are ignored (treated as absent); nothing throws or aborts.
// Pure functions; thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

namespace kite::admission {

inline constexpr char kLimitRangerAnnotation[] = "kubernetes.io/limit-ranger";

// Mutating step. For a Pod: every container and init container (not ephemeral ones)
// without a resources.limits / resources.requests entry for a resource that a
// Container-type item has a `default` / `defaultRequest` for gets it (upstream's
// defaultContainerResourceRequirements + mergeContainerResources; with several Container
// items in one LimitRange the later item's value wins). When anything was set,
// metadata.annotations["kubernetes.io/limit-ranger"] becomes e.g.
//   "LimitRanger plugin set: cpu, memory request for container c; cpu limit for container c;
//    cpu request for init container i"
// (resources sorted; per container its request part, then its limit part). An entry that is
// present (any value, even null) is kept. PVCs: nothing is defaulted, as upstream.
void ApplyLimitRangeDefaults(std::string_view kind, rapidjson::Value& object,
                             const std::vector<const rapidjson::Value*>& limit_ranges,
                             rapidjson::Document::AllocatorType& allocator);

// Validating step: the violations, worded as upstream (no trailing period), for item types
// Container and Pod (kind Pod) and PersistentVolumeClaim (kind PersistentVolumeClaim, against
// spec.resources.requests only). Empty = admitted. Messages:
//   minimum <r> usage per <T> is <min>.  No request is specified      (two spaces)
//   minimum <r> usage per <T> is <min>, but request is <q>   / but limit is <q>
//   maximum <r> usage per <T> is <max>.  No limit is specified        (PVC: No request)
//   maximum <r> usage per <T> is <max>, but limit is <q>     / but request is <q>
//   <r> max limit to request ratio per <T> is <ratio>, but no request is specified or request is 0
//   <r> max limit to request ratio per <T> is <ratio>, but no limit is specified or limit is 0
//   <r> max limit to request ratio per <T> is <ratio>, but provided ratio is 4.000000
std::vector<std::string> LimitRangeViolations(std::string_view kind, const rapidjson::Value& object,
                                              const std::vector<const rapidjson::Value*>& limit_ranges);

// The text after "is forbidden: ", as utilerrors.NewAggregate(...).Error() prints it: one
// message as it is; several deduplicated (first occurrence kept) and joined with ", " inside
// "[...]", without brackets when only one distinct message remains; "" for none.
std::string LimitRangeForbiddenMessage(const std::vector<std::string>& violations);

// SetDefaults_LimitRangeItem on a LimitRange object (for storing it, so that `kubectl get
// -o yaml` / `describe` show what upstream shows): for each item of type Container, missing
// `default` entries from `max`, then missing `defaultRequest` entries from `default`, then
// from `min`; values written in canonical form (unparsable ones copied as they are).
// Leaves anything it cannot read alone.
void DefaultLimitRangeItems(rapidjson::Value& limit_range,
                            rapidjson::Document::AllocatorType& allocator);

}  // namespace kite::admission
