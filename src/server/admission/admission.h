// Defaults and validation of built-in kinds, as Kubernetes' v1 defaulting functions, its
// registry strategies and pkg/apis/*/validation apply them: a Deployment created from
// `kubectl create deployment` comes back with the same defaults Kubernetes 1.32 stores, and
// an invalid object is rejected with the same causes (field paths and messages) that
// kube-apiserver puts in its 422 Invalid answer.
//
// Covered kinds (group/version/kind):
//   v1: Pod, PodTemplate, ReplicationController, Service, ConfigMap, Secret, Namespace,
//       PersistentVolumeClaim, PersistentVolume, Node, Endpoints
//   apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet
//   batch/v1: Job, CronJob
//   networking.k8s.io/v1: Ingress, NetworkPolicy
//   policy/v1: PodDisruptionBudget
//   scheduling.k8s.io/v1: PriorityClass
//   coordination.k8s.io/v1: Lease
//   v1 LimitRange: defaults only (SetDefaults_LimitRangeItem, limit_ranger.h)
// Other kinds pass through untouched (no defaults, no causes).
//
// Objects are untrusted JSON: any field may be missing or of the wrong type. Nothing here
// crashes or throws on such input; wrong types become FieldValueTypeInvalid causes.
// metadata is the caller's business (ValidateObjectMeta and name rules are not repeated).
//
// Thread-safety: all functions are pure (no shared state) and may run concurrently.
#pragma once

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

#include "src/server/validation/field_causes.h"

namespace kite::admission {

// Fills in the defaults Kubernetes' v1 defaulting functions set for this kind and for
// everything it embeds (a Deployment's pod template gets the Pod defaults), plus the few
// values Kubernetes' create strategies and built-in admission plugins always set:
//   - Pod: status {phase: Pending, qosClass} when it has no phase; priority 0 and
//     preemptionPolicy PreemptLowerPriority when no priorityClassName is given.
//   - Job: unless spec.manualSelector is true, the generated selector and the
//     batch.kubernetes.io/controller-uid, controller-uid, batch.kubernetes.io/job-name and
//     job-name template labels; they need metadata.uid and metadata.name, which the caller
//     sets before calling (labels already present are kept, so this is idempotent).
//   - Namespace: the kubernetes.io/metadata.name label, spec.finalizers ["kubernetes"]
//     and status.phase Active.
// Quantities in resource lists are rewritten in canonical form ("0.5" -> "500m") as
// Kubernetes' decoding does. The service-account and default-toleration admission plugins
// are not applied here. Unknown kinds: no-op. Never fails: wrong-typed fields are left for
// Validate to report.
void ApplyDefaults(std::string_view group, std::string_view version, std::string_view kind,
                   rapidjson::Value& object, rapidjson::Document::AllocatorType& allocator);

// On update, copies from `old` what the server allocated and a client may legitimately omit
// when it replaces the object (Kubernetes' PrepareForUpdate): a Service's clusterIP(s),
// ipFamilies, ipFamilyPolicy, node ports and healthCheckNodePort; a Job's generated selector
// and template labels. Call before ApplyDefaults and Validate. Unknown kinds: no-op.
void PrepareForUpdate(std::string_view group, std::string_view version, std::string_view kind,
                      rapidjson::Value& object, const rapidjson::Value& old,
                      rapidjson::Document::AllocatorType& allocator);

// Problems with `object`, as the kind's validation reports them (empty when valid). `old` is
// the stored object on update (nullptr on create): immutable fields (Pod spec except image,
// activeDeadlineSeconds, tolerations additions and terminationGracePeriodSeconds; workload
// selectors; the Job template; a Service's clusterIP(s) once set; ConfigMap/Secret data when
// immutable; a PVC's spec except resources.requests growth; ...) are checked then.
// `subresource` is "" or "status": a status write validates status only, where Kubernetes
// does; any other value is treated as "" (so pods/binding, which changes the otherwise
// immutable spec.nodeName, must not be routed through here). Objects are expected to have
// been through ApplyDefaults (Kubernetes' required-but-defaulted fields are reported
// otherwise).
std::vector<validation::StatusCause> Validate(std::string_view group, std::string_view version,
                                              std::string_view kind,
                                              const rapidjson::Value& object,
                                              const rapidjson::Value* old,
                                              std::string_view subresource);

}  // namespace kite::admission
