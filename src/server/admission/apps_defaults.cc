// apps/v1 defaults (pkg/apis/apps/v1/defaults.go), plus the pod template defaults.
#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_defaults.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

Value* TemplateSpec(Value& spec, Allocator& a) { return DefaultObject(spec, "template", a); }

void DefaultTemplate(Value& spec, Allocator& a) {
  if (Value* tmpl = TemplateSpec(spec, a)) DefaultPodTemplateSpec(*tmpl, a);
}

}  // namespace

void DefaultDeployment(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultInt(*spec, "replicas", 1, a);
  if (Value* strategy = DefaultObject(*spec, "strategy", a)) {
    DefaultString(*strategy, "type", "RollingUpdate", a);
    if (json::StringMember(*strategy, "type") == "RollingUpdate") {
      if (Value* rolling = DefaultObject(*strategy, "rollingUpdate", a)) {
        if (Get(rolling, "maxUnavailable") == nullptr) SetStringField(*rolling, "maxUnavailable", "25%", a);
        if (Get(rolling, "maxSurge") == nullptr) SetStringField(*rolling, "maxSurge", "25%", a);
      }
    }
  }
  DefaultInt(*spec, "revisionHistoryLimit", 10, a);
  DefaultInt(*spec, "progressDeadlineSeconds", 600, a);
  DefaultTemplate(*spec, a);
}

void DefaultReplicaSet(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultInt(*spec, "replicas", 1, a);
  DefaultTemplate(*spec, a);
}

void DefaultStatefulSet(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultString(*spec, "podManagementPolicy", "OrderedReady", a);
  if (Value* strategy = DefaultObject(*spec, "updateStrategy", a)) {
    const Value* type = Get(strategy, "type");
    if (type == nullptr || (type->IsString() && type->GetStringLength() == 0)) {
      SetStringField(*strategy, "type", "RollingUpdate", a);
      DefaultObject(*strategy, "rollingUpdate", a);
    }
    if (json::StringMember(*strategy, "type") == "RollingUpdate") {
      if (Value* rolling = MutableObject(*strategy, "rollingUpdate")) DefaultInt(*rolling, "partition", 0, a);
    }
  }
  if (Value* retention = DefaultObject(*spec, "persistentVolumeClaimRetentionPolicy", a)) {
    DefaultString(*retention, "whenDeleted", "Retain", a);
    DefaultString(*retention, "whenScaled", "Retain", a);
  }
  DefaultInt(*spec, "replicas", 1, a);
  DefaultInt(*spec, "revisionHistoryLimit", 10, a);
  DefaultTemplate(*spec, a);
  // Claim templates get the PersistentVolumeClaim defaults, status included, as Kubernetes
  // stores them.
  if (Value* claims = MutableArray(*spec, "volumeClaimTemplates")) {
    for (Value& claim : claims->GetArray()) {
      if (!claim.IsObject()) continue;
      DefaultPersistentVolumeClaim(claim, a);
      if (Value* md = DefaultObject(claim, "metadata", a)) {
        if (json::Member(*md, "creationTimestamp") == nullptr) {
          json::SetMember(*md, "creationTimestamp", Value(rapidjson::kNullType), a);
        }
      }
    }
  }
}

void DefaultDaemonSet(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  if (Value* strategy = DefaultObject(*spec, "updateStrategy", a)) {
    DefaultString(*strategy, "type", "RollingUpdate", a);
    if (json::StringMember(*strategy, "type") == "RollingUpdate") {
      if (Value* rolling = DefaultObject(*strategy, "rollingUpdate", a)) {
        if (Get(rolling, "maxUnavailable") == nullptr) json::SetMember(*rolling, "maxUnavailable", Value(1), a);
        if (Get(rolling, "maxSurge") == nullptr) json::SetMember(*rolling, "maxSurge", Value(0), a);
      }
    }
  }
  DefaultInt(*spec, "revisionHistoryLimit", 10, a);
  DefaultTemplate(*spec, a);
}

}  // namespace kite::admission
