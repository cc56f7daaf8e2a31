#include "src/server/admission/admission.h"

#include "src/server/admission/kinds.h"
#include "src/server/admission/limit_ranger.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

struct KindHandlers {
  std::string_view group;
  std::string_view version;
  std::string_view kind;
  DefaultFn defaults;
  ValidateFn validate;
};

// The dispatch table: one row per kind this library knows.
constexpr KindHandlers kKinds[] = {
    {"", "v1", "Pod", DefaultPodKind, ValidatePodKind},
    {"", "v1", "PodTemplate", DefaultPodTemplate, ValidatePodTemplate},
    {"", "v1", "ReplicationController", DefaultReplicationController, ValidateReplicationController},
    {"", "v1", "Service", DefaultService, ValidateService},
    {"", "v1", "ConfigMap", DefaultConfigMap, ValidateConfigMap},
    {"", "v1", "Secret", DefaultSecret, ValidateSecret},
    {"", "v1", "Namespace", DefaultNamespace, ValidateNamespace},
    {"", "v1", "PersistentVolumeClaim", DefaultPersistentVolumeClaim, ValidatePersistentVolumeClaim},
    {"", "v1", "PersistentVolume", DefaultPersistentVolume, ValidatePersistentVolume},
    {"", "v1", "Node", DefaultNode, ValidateNode},
    {"", "v1", "Endpoints", DefaultEndpoints, ValidateEndpoints},
    {"apps", "v1", "Deployment", DefaultDeployment, ValidateDeployment},
    {"apps", "v1", "ReplicaSet", DefaultReplicaSet, ValidateReplicaSet},
    {"apps", "v1", "StatefulSet", DefaultStatefulSet, ValidateStatefulSet},
    {"apps", "v1", "DaemonSet", DefaultDaemonSet, ValidateDaemonSet},
    {"batch", "v1", "Job", DefaultJob, ValidateJob},
    {"batch", "v1", "CronJob", DefaultCronJob, ValidateCronJob},
    {"autoscaling", "v2", "HorizontalPodAutoscaler", DefaultHorizontalPodAutoscaler, ValidateHorizontalPodAutoscaler},
    {"autoscaling", "v1", "HorizontalPodAutoscaler", DefaultHorizontalPodAutoscalerV1, ValidateHorizontalPodAutoscalerV1},
    {"networking.k8s.io", "v1", "Ingress", DefaultIngress, ValidateIngress},
    {"networking.k8s.io", "v1", "NetworkPolicy", DefaultNetworkPolicy, ValidateNetworkPolicy},
    {"policy", "v1", "PodDisruptionBudget", DefaultPodDisruptionBudget, ValidatePodDisruptionBudget},
    {"scheduling.k8s.io", "v1", "PriorityClass", DefaultPriorityClass, ValidatePriorityClass},
    {"coordination.k8s.io", "v1", "Lease", DefaultLease, ValidateLease},
};

const KindHandlers* Find(std::string_view group, std::string_view version, std::string_view kind) {
  for (const KindHandlers& k : kKinds) {
    if (k.group == group && k.version == version && k.kind == kind) return &k;
  }
  return nullptr;
}

}  // namespace

void ApplyDefaults(std::string_view group, std::string_view version, std::string_view kind,
                   rapidjson::Value& object, rapidjson::Document::AllocatorType& allocator) {
  if (group.empty() && version == "v1" && kind == "LimitRange" && object.IsObject()) {
    DefaultLimitRangeItems(object, allocator);
    return;
  }
  const KindHandlers* k = Find(group, version, kind);
  if (k == nullptr || !object.IsObject()) return;
  k->defaults(object, allocator);
}

void PrepareForUpdate(std::string_view group, std::string_view version, std::string_view kind,
                      rapidjson::Value& object, const rapidjson::Value& old,
                      rapidjson::Document::AllocatorType& allocator) {
  if (!object.IsObject() || !old.IsObject() || version != "v1") return;
  if (group.empty() && kind == "Service") PrepareServiceForUpdate(object, old, allocator);
  if (group == "batch" && kind == "Job") PrepareJobForUpdate(object, old, allocator);
  if (group.empty() && kind == "Pod") {
    // The QoS class is the server's, set once at creation: a status writer that leaves it
    // out keeps it (it is immutable).
    const rapidjson::Value* old_status = json::Member(old, "status");
    const rapidjson::Value* old_qos = old_status ? json::Member(*old_status, "qosClass") : nullptr;
    rapidjson::Value* status = json::MutableMember(object, "status");
    if (old_qos && status && status->IsObject() && !json::Member(*status, "qosClass")) {
      json::SetMember(*status, "qosClass", rapidjson::Value(*old_qos, allocator), allocator);
    }
  }
}

std::vector<validation::StatusCause> Validate(std::string_view group, std::string_view version,
                                              std::string_view kind,
                                              const rapidjson::Value& object,
                                              const rapidjson::Value* old,
                                              std::string_view subresource) {
  const KindHandlers* k = Find(group, version, kind);
  if (k == nullptr) return {};
  Causes causes;
  if (!object.IsObject()) {
    causes.TypeInvalid("", object, "object");
    return std::move(causes.list());
  }
  const rapidjson::Value* previous = old != nullptr && old->IsObject() ? old : nullptr;
  k->validate(causes, object, previous, subresource);
  return std::move(causes.list());
}

}  // namespace kite::admission
