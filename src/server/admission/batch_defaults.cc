// batch/v1 defaults (pkg/apis/batch/v1/defaults.go) and the Job strategy's generated
// selector (pkg/registry/batch/job/strategy.go generateSelector).
#include <limits>

#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_defaults.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

constexpr const char* kControllerUid = "batch.kubernetes.io/controller-uid";
constexpr const char* kLegacyControllerUid = "controller-uid";
constexpr const char* kJobName = "batch.kubernetes.io/job-name";
constexpr const char* kLegacyJobName = "job-name";

void SetIfMissing(Value& map, const char* key, std::string_view value, Allocator& a) {
  if (json::Member(map, key) == nullptr) SetStringField(map, key, value, a);
}

// Labels that tie the Job's pods to it, and a selector on the controller uid.
void GenerateSelector(Value& job, Value& spec, Allocator& a) {
  const Value* manual = Get(&spec, "manualSelector");
  if (manual != nullptr && manual->IsTrue()) return;
  const Value* md = Get(&job, "metadata");
  std::string_view uid = md ? json::StringMember(*md, "uid") : "";
  std::string_view name = md ? json::StringMember(*md, "name") : "";
  if (uid.empty()) return;  // the caller sets the uid first; without it nothing can be generated
  Value* tmpl = DefaultObject(spec, "template", a);
  Value* tmpl_md = tmpl ? DefaultObject(*tmpl, "metadata", a) : nullptr;
  Value* labels = tmpl_md ? DefaultObject(*tmpl_md, "labels", a) : nullptr;
  if (labels != nullptr) {
    SetIfMissing(*labels, kLegacyJobName, name, a);
    SetIfMissing(*labels, kJobName, name, a);
    SetIfMissing(*labels, kLegacyControllerUid, uid, a);
    SetIfMissing(*labels, kControllerUid, uid, a);
  }
  Value* selector = DefaultObject(spec, "selector", a);
  Value* match = selector ? DefaultObject(*selector, "matchLabels", a) : nullptr;
  if (match != nullptr) SetIfMissing(*match, kControllerUid, uid, a);
}

void DefaultJobSpec(Value& spec, Allocator& a) {
  if (Get(&spec, "completions") == nullptr && Get(&spec, "parallelism") == nullptr) {
    json::SetMember(spec, "completions", Value(1), a);
    json::SetMember(spec, "parallelism", Value(1), a);
  }
  DefaultInt(spec, "parallelism", 1, a);
  DefaultInt(spec, "backoffLimit",
             Get(&spec, "backoffLimitPerIndex") != nullptr ? std::numeric_limits<int32_t>::max() : 6, a);
  DefaultString(spec, "completionMode", "NonIndexed", a);
  DefaultBool(spec, "suspend", false, a);
  bool has_failure_policy = Get(&spec, "podFailurePolicy") != nullptr;
  DefaultString(spec, "podReplacementPolicy", has_failure_policy ? "Failed" : "TerminatingOrFailed", a);
  if (Value* policy = MutableObject(spec, "podFailurePolicy")) {
    if (Value* rules = MutableArray(*policy, "rules")) {
      for (Value& rule : rules->GetArray()) {
        Value* conditions = rule.IsObject() ? MutableArray(rule, "onPodConditions") : nullptr;
        if (conditions == nullptr) continue;
        for (Value& c : conditions->GetArray()) DefaultString(c, "status", "True", a);
      }
    }
  }
  if (Value* tmpl = DefaultObject(spec, "template", a)) DefaultPodTemplateSpec(*tmpl, a);
}

}  // namespace

void DefaultJob(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  GenerateSelector(object, *spec, a);
  DefaultJobSpec(*spec, a);
  // An unlabeled Job takes its template's labels (generated ones included, as Kubernetes
  // shows them once the object is read back).
  const Value* tmpl_labels = Get(Get(Get(spec, "template"), "metadata"), "labels");
  if (tmpl_labels != nullptr && tmpl_labels->IsObject()) {
    if (Value* md = DefaultObject(object, "metadata", a)) {
      const Value* labels = Get(md, "labels");
      if (labels == nullptr || (labels->IsObject() && labels->MemberCount() == 0)) {
        json::SetMember(*md, "labels", Value(*tmpl_labels, a), a);
      }
    }
  }
}

void DefaultCronJob(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultString(*spec, "concurrencyPolicy", "Allow", a);
  DefaultBool(*spec, "suspend", false, a);
  DefaultInt(*spec, "successfulJobsHistoryLimit", 3, a);
  DefaultInt(*spec, "failedJobsHistoryLimit", 1, a);
  Value* job_template = DefaultObject(*spec, "jobTemplate", a);
  if (job_template == nullptr) return;
  if (Value* md = DefaultObject(*job_template, "metadata", a)) {
    if (json::Member(*md, "creationTimestamp") == nullptr) {
      json::SetMember(*md, "creationTimestamp", Value(rapidjson::kNullType), a);
    }
  }
  Value* job_spec = DefaultObject(*job_template, "spec", a);
  if (job_spec == nullptr) return;
  // A job template gets the pod template defaults only; SetDefaults_Job runs when the
  // CronJob controller creates the Job.
  if (Value* tmpl = DefaultObject(*job_spec, "template", a)) DefaultPodTemplateSpec(*tmpl, a);
}

void PrepareJobForUpdate(Value& object, const Value& old, Allocator& a) {
  const Value* old_spec = Get(&old, "spec");
  Value* spec = MutableObject(object, "spec");
  if (spec == nullptr || old_spec == nullptr) return;
  if (Get(spec, "selector") == nullptr) {
    if (const Value* s = Get(old_spec, "selector")) json::SetMember(*spec, "selector", Value(*s, a), a);
  }
  const Value* old_labels = Get(Get(Get(old_spec, "template"), "metadata"), "labels");
  Value* tmpl = MutableObject(*spec, "template");
  if (old_labels == nullptr || !old_labels->IsObject() || tmpl == nullptr) return;
  Value* md = DefaultObject(*tmpl, "metadata", a);
  Value* labels = md ? DefaultObject(*md, "labels", a) : nullptr;
  if (labels == nullptr) return;
  for (const char* key : {kControllerUid, kLegacyControllerUid, kJobName, kLegacyJobName}) {
    const Value* v = Get(old_labels, key);
    if (v != nullptr && v->IsString()) SetIfMissing(*labels, key, std::string_view(v->GetString(), v->GetStringLength()), a);
  }
}

}  // namespace kite::admission
