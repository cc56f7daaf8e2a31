// Pod, PodTemplate and ReplicationController: the core/v1 kinds built around a pod spec.
#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_defaults.h"
#include "src/server/admission/pod_validation.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"

namespace kite::admission {

void DefaultPodKind(Value& object, Allocator& a) { DefaultPod(object, a); }

void ValidatePodKind(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  ValidatePodObject(c, object, old, sub);
}

void DefaultPodTemplate(Value& object, Allocator& a) {
  if (Value* tmpl = DefaultObject(object, "template", a)) DefaultPodTemplateSpec(*tmpl, a);
}

void ValidatePodTemplate(Causes& c, const Value& object, const Value*, std::string_view) {
  ValidatePodTemplateSpec(c, GetObject(&c, &object, "template", "template"), "template");
}

void DefaultReplicationController(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultInt(*spec, "replicas", 1, a);
  Value* tmpl = MutableObject(*spec, "template");
  if (tmpl == nullptr) return;
  const Value* labels = Get(Get(tmpl, "metadata"), "labels");
  if (labels != nullptr && labels->IsObject()) {
    const Value* selector = Get(spec, "selector");
    if (selector == nullptr || (selector->IsObject() && selector->MemberCount() == 0)) {
      json::SetMember(*spec, "selector", Value(*labels, a), a);
    }
    if (Value* md = DefaultObject(object, "metadata", a)) {
      const Value* own = Get(md, "labels");
      if (own == nullptr || (own->IsObject() && own->MemberCount() == 0)) {
        json::SetMember(*md, "labels", Value(*labels, a), a);
      }
    }
  }
  // Setting the selector and labels may have moved spec and template: look them up again.
  Value* fresh_spec = MutableObject(object, "spec");
  if (Value* t = fresh_spec ? MutableObject(*fresh_spec, "template") : nullptr) DefaultPodTemplateSpec(*t, a);
}

void ValidateReplicationController(Causes& c, const Value& object, const Value*, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    for (const char* f : {"replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                          "observedGeneration"}) {
      CheckNonNegative(c, Child("status", f), GetInt(&c, status, f, Child("status", f)));
    }
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckNonNegative(c, "spec.minReadySeconds", GetInt32(&c, spec, "minReadySeconds", "spec.minReadySeconds"));
  StringMap selector = GetStringMap(&c, spec, "selector", "spec.selector");
  if (selector.entries.empty()) c.Required("spec.selector");
  CheckNonNegative(c, "spec.replicas", GetInt32(&c, spec, "replicas", "spec.replicas"));
  const Value* tmpl = GetObject(&c, spec, "template", "spec.template");
  if (tmpl == nullptr) {
    c.Required("spec.template");
    return;
  }
  const Value* labels = Get(Get(tmpl, "metadata"), "labels");
  if (!selector.entries.empty()) {
    bool matches = true;
    for (const auto& [k, v] : selector.entries) {
      const Value* have = Get(labels, k);
      matches &= have != nullptr && have->IsString() &&
                 std::string_view(have->GetString(), have->GetStringLength()) == v;
    }
    if (!matches) {
      c.InvalidRaw("spec.template.metadata.labels", GoStringMap(labels),
                   "`selector` does not match template `labels`");
    }
  }
  ValidatePodTemplateSpec(c, tmpl, "spec.template");
  const Value* pod_spec = Get(tmpl, "spec");
  std::string_view restart = pod_spec ? json::StringMember(*pod_spec, "restartPolicy") : "";
  if (restart != "Always") c.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
  if (Get(pod_spec, "activeDeadlineSeconds") != nullptr) {
    c.Forbidden("spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicationController is not Supported");
  }
}

}  // namespace kite::admission
