// Internal to kite_admission: the per-kind entry points the dispatch table in admission.cc
// routes to. Default* mutate the object (never fail); Validate* append causes for the
// object, with `old` the stored object on update (nullptr on create) and `subresource`
// "" or "status".
#pragma once

#include <string>
#include <string_view>

#include "src/server/admission/json_fields.h"

namespace kite::admission {

using DefaultFn = void (*)(Value& object, Allocator& a);
using ValidateFn = void (*)(Causes& causes, const Value& object, const Value* old,
                            std::string_view subresource);

// core/v1 (Pod itself: pod_defaults.h, pod_validation.h)
void DefaultPodKind(Value& object, Allocator& a);
void ValidatePodKind(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultPodTemplate(Value& object, Allocator& a);
void ValidatePodTemplate(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultReplicationController(Value& object, Allocator& a);
void ValidateReplicationController(Causes& c, const Value& object, const Value* old,
                                   std::string_view sub);
void DefaultService(Value& object, Allocator& a);
void ValidateService(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultConfigMap(Value& object, Allocator& a);
void ValidateConfigMap(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultSecret(Value& object, Allocator& a);
void ValidateSecret(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultNamespace(Value& object, Allocator& a);
void ValidateNamespace(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultPersistentVolumeClaim(Value& object, Allocator& a);
void ValidatePersistentVolumeClaim(Causes& c, const Value& object, const Value* old,
                                   std::string_view sub);
void DefaultPersistentVolume(Value& object, Allocator& a);
void ValidatePersistentVolume(Causes& c, const Value& object, const Value* old,
                              std::string_view sub);
void DefaultNode(Value& object, Allocator& a);
void ValidateNode(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultEndpoints(Value& object, Allocator& a);
void ValidateEndpoints(Causes& c, const Value& object, const Value* old, std::string_view sub);

// apps/v1
void DefaultDeployment(Value& object, Allocator& a);
void ValidateDeployment(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultReplicaSet(Value& object, Allocator& a);
void ValidateReplicaSet(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultStatefulSet(Value& object, Allocator& a);
void ValidateStatefulSet(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultDaemonSet(Value& object, Allocator& a);
void ValidateDaemonSet(Causes& c, const Value& object, const Value* old, std::string_view sub);

// batch/v1
void DefaultJob(Value& object, Allocator& a);
void ValidateJob(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultCronJob(Value& object, Allocator& a);
void ValidateCronJob(Causes& c, const Value& object, const Value* old, std::string_view sub);

// autoscaling/v2 and autoscaling/v1
void DefaultHorizontalPodAutoscaler(Value& object, Allocator& a);
void ValidateHorizontalPodAutoscaler(Causes& c, const Value& object, const Value* old,
                                     std::string_view sub);
void DefaultHorizontalPodAutoscalerV1(Value& object, Allocator& a);
void ValidateHorizontalPodAutoscalerV1(Causes& c, const Value& object, const Value* old,
                                       std::string_view sub);

// networking.k8s.io/v1, policy/v1, scheduling.k8s.io/v1, coordination.k8s.io/v1
void DefaultIngress(Value& object, Allocator& a);
void ValidateIngress(Causes& c, const Value& object, const Value* old, std::string_view sub);
void DefaultNetworkPolicy(Value& object, Allocator& a);
void ValidateNetworkPolicy(Causes& c, const Value& object, const Value* old,
                           std::string_view sub);
void DefaultPodDisruptionBudget(Value& object, Allocator& a);
void ValidatePodDisruptionBudget(Causes& c, const Value& object, const Value* old,
                                 std::string_view sub);
void DefaultPriorityClass(Value& object, Allocator& a);
void ValidatePriorityClass(Causes& c, const Value& object, const Value* old,
                           std::string_view sub);
void DefaultLease(Value& object, Allocator& a);
void ValidateLease(Causes& c, const Value& object, const Value* old, std::string_view sub);

// Shared pieces.
// ValidatePersistentVolumeClaimSpec (PVCs, StatefulSet claim templates, ephemeral volumes).
void ValidatePersistentVolumeClaimSpec(Causes& c, const Value* spec, const std::string& path);
// Carry-over on update of what the server allocated (see admission.h PrepareForUpdate).
void PrepareServiceForUpdate(Value& object, const Value& old, Allocator& a);
void PrepareJobForUpdate(Value& object, const Value& old, Allocator& a);

}  // namespace kite::admission
