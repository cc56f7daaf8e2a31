// batch/v1 validation (pkg/apis/batch/validation): Jobs, their generated selectors and
// update rules, and CronJobs with their schedules and time zones.
#include <cctype>
#include <memory>
#include <string>

#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_validation.h"
#include "src/server/admission/value_checks.h"
#include "src/server/cron/cron_schedule.h"
#include "src/server/cron/time_zone.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

constexpr const char* kControllerUid = "batch.kubernetes.io/controller-uid";
constexpr const char* kJobName = "batch.kubernetes.io/job-name";
constexpr int64_t kMaxIndexedCompletions = 100000;

std::string_view Str(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

// validateJobSpec: what Jobs and job templates share.
void CheckJobSpec(Causes& c, const Value* spec, const std::string& path) {
  for (const char* f : {"parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"}) {
    CheckNonNegative(c, Child(path, f), GetInt32(&c, spec, f, Child(path, f)));
  }
  CheckNonNegative(c, Child(path, "activeDeadlineSeconds"),
                   GetInt(&c, spec, "activeDeadlineSeconds", Child(path, "activeDeadlineSeconds")));
  std::optional<std::string_view> mode = GetString(&c, spec, "completionMode", Child(path, "completionMode"));
  if (mode && *mode != "NonIndexed" && *mode != "Indexed") {
    c.NotSupported(Child(path, "completionMode"), *mode, {"NonIndexed", "Indexed"});
  }
  if (mode && *mode == "Indexed") {
    std::optional<int64_t> completions = GetInt32(nullptr, spec, "completions", "");
    if (!completions) {
      c.Required(Child(path, "completions"), "when completion mode is Indexed");
    } else if (*completions > kMaxIndexedCompletions) {
      c.InvalidInt(Child(path, "completions"), *completions,
                   "must be less than or equal to 100000 when completion mode is Indexed");
    }
    std::optional<int64_t> parallelism = GetInt32(nullptr, spec, "parallelism", "");
    if (parallelism && *parallelism > kMaxIndexedCompletions) {
      c.InvalidInt(Child(path, "parallelism"), *parallelism,
                   "must be less than or equal to 100000 when completion mode is Indexed");
    }
  }
  if (std::optional<int64_t> per_index = GetInt32(&c, spec, "backoffLimitPerIndex", Child(path, "backoffLimitPerIndex"))) {
    CheckNonNegative(c, Child(path, "backoffLimitPerIndex"), per_index);
    if (!mode || *mode != "Indexed") {
      c.InvalidInt(Child(path, "backoffLimitPerIndex"), *per_index, "requires indexed completion mode");
    }
  }
  if (std::optional<std::string_view> policy = GetString(&c, spec, "podReplacementPolicy", Child(path, "podReplacementPolicy"))) {
    if (*policy != "Failed" && *policy != "TerminatingOrFailed") {
      c.NotSupported(Child(path, "podReplacementPolicy"), *policy, {"Failed", "TerminatingOrFailed"});
    }
  }
  const Value* tmpl = GetObject(&c, spec, "template", Child(path, "template"));
  ValidatePodTemplateSpec(c, tmpl, Child(path, "template"));
  const Value* pod_spec = Get(tmpl, "spec");
  std::string_view restart = pod_spec ? json::StringMember(*pod_spec, "restartPolicy") : "";
  if (restart != "OnFailure" && restart != "Never") {
    c.NotSupported(Child(Child(Child(path, "template"), "spec"), "restartPolicy"), restart, {"OnFailure", "Never"});
  }
}

// ValidateHasLabel.
void CheckHasLabel(Causes& c, const Value* labels, const char* key, std::string_view expected) {
  std::string path = Key("spec.template.metadata.labels", key);
  const Value* v = Get(labels, key);
  std::string must = "must be '" + std::string(expected) + "'";
  if (v == nullptr) {
    c.Required(path, must);
  } else if (!v->IsString() || std::string_view(v->GetString(), v->GetStringLength()) != expected) {
    c.InvalidRaw(path, GoStringMap(labels), must);
  }
}

// ValidateGeneratedSelector.
void CheckGeneratedSelector(Causes& c, const Value& job, const Value* spec) {
  const Value* manual = Get(spec, "manualSelector");
  if (manual != nullptr && manual->IsTrue()) return;
  const Value* selector = Get(spec, "selector");
  if (selector == nullptr || !selector->IsObject()) return;
  const Value* md = Get(&job, "metadata");
  std::string_view uid = md ? json::StringMember(*md, "uid") : "";
  std::string_view name = md ? json::StringMember(*md, "name") : "";
  if (uid.empty()) c.Required("metadata.uid");
  const Value* labels = Get(Get(Get(spec, "template"), "metadata"), "labels");
  CheckHasLabel(c, labels, kControllerUid, uid);
  CheckHasLabel(c, labels, kJobName, name);
  rapidjson::Document expected(rapidjson::kObjectType);
  SetStringField(expected, kControllerUid, uid, expected.GetAllocator());
  SetStringField(expected, kJobName, name, expected.GetAllocator());
  if (SelectorConvertible(selector) && !SelectorMatches(selector, &expected)) {
    c.InvalidRaw("spec.selector", GoLabelSelector(selector), "`selector` not auto-generated");
  }
}

// What a suspended Job that never started may change in its template.
bool MutableSchedulingDirectives(const Value* spec, const Value* old_spec, const Value& old) {
  auto suspended = [](const Value* s) {
    const Value* v = Get(s, "suspend");
    return v != nullptr && v->IsTrue();
  };
  return suspended(spec) && suspended(old_spec) && Get(Get(&old, "status"), "startTime") == nullptr;
}

void CheckJobUpdate(Causes& c, const Value& job, const Value& old) {
  const Value* spec = Get(&job, "spec");
  const Value* old_spec = Get(&old, "spec");
  const Value* completions = Get(spec, "completions");
  if (!SemanticEqual(completions, Get(old_spec, "completions"))) {
    // Elastic indexed Jobs may change completions together with parallelism.
    bool elastic = json::StringMember(spec ? *spec : old, "completionMode") == "Indexed" &&
                   SemanticEqual(completions, Get(spec, "parallelism")) && completions != nullptr;
    if (!elastic) {
      c.InvalidRaw("spec.completions", completions ? NumberText(*completions) : "null", kFieldImmutableErrorMsg);
    }
  }
  const Value* selector = Get(spec, "selector");
  if (!SemanticEqual(selector, Get(old_spec, "selector"))) {
    c.InvalidRaw("spec.selector", selector ? GoLabelSelector(selector) : "null", kFieldImmutableErrorMsg);
  }
  const Value* tmpl = Get(spec, "template");
  const Value* old_tmpl = Get(old_spec, "template");
  bool same_template;
  if (MutableSchedulingDirectives(spec, old_spec, old) && tmpl != nullptr && old_tmpl != nullptr) {
    rapidjson::Document a, b;
    a.CopyFrom(*tmpl, a.GetAllocator());
    b.CopyFrom(*old_tmpl, b.GetAllocator());
    for (rapidjson::Document* d : {&a, &b}) {
      if (Value* md = MutableObject(*d, "metadata")) {
        json::RemoveMember(*md, "labels");
        json::RemoveMember(*md, "annotations");
      }
      if (Value* s = MutableObject(*d, "spec")) {
        for (const char* f : {"nodeSelector", "affinity", "tolerations", "schedulingGates"}) json::RemoveMember(*s, f);
      }
    }
    same_template = SemanticEqual(&a, &b);
  } else {
    same_template = SemanticEqual(tmpl, old_tmpl);
  }
  if (!same_template) c.InvalidRaw("spec.template", "core.PodTemplateSpec{...}", kFieldImmutableErrorMsg);
  for (const char* f : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy"}) {
    const Value* v = Get(spec, f);
    if (!SemanticEqual(v, Get(old_spec, f))) {
      std::string shown = v == nullptr ? "null" : CompactJson(v);
      c.InvalidRaw(Child("spec", f), shown, kFieldImmutableErrorMsg);
    }
  }
}

void CheckTimeZone(Causes& c, const Value* spec) {
  std::optional<std::string_view> zone = GetString(&c, spec, "timeZone", "spec.timeZone");
  if (!zone) return;
  if (zone->empty()) {
    c.Invalid("spec.timeZone", *zone, "timeZone must be nil or non-empty string");
    return;
  }
  std::string_view rest = *zone;
  size_t start = 0;
  while (true) {
    size_t slash = rest.find('/', start);
    std::string_view part = rest.substr(start, slash == std::string_view::npos ? slash : slash - start);
    bool ok = !part.empty() && part.size() <= 14 && part != "." && part != ".." && part[0] != '-';
    for (char ch : part) {
      ok &= std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' || ch == '+';
    }
    if (!ok) {
      c.Invalid("spec.timeZone", *zone, "unknown time zone " + std::string(*zone));
      return;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (*zone == "Local" || *zone == "local" || *zone == "LOCAL") {
    c.Invalid("spec.timeZone", *zone,
              "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones");
  }
  // time.LoadLocation's error, as Kubernetes reports it.
  if (Result<std::shared_ptr<const cron::TimeZone>> loaded = cron::TimeZone::Load(*zone); !loaded.ok()) {
    c.Invalid("spec.timeZone", *zone, loaded.status().message());
  }
}

}  // namespace

void ValidateJob(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    for (const char* f : {"active", "succeeded", "failed", "ready", "terminating"}) {
      CheckNonNegative(c, Child("status", f), GetInt32(&c, status, f, Child("status", f)));
    }
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckGeneratedSelector(c, object, spec);
  CheckJobSpec(c, spec, "spec");
  const Value* selector = GetObject(&c, spec, "selector", "spec.selector");
  if (Get(spec, "selector") == nullptr) {
    c.Required("spec.selector");
  } else {
    CheckLabelSelector(c, selector, "spec.selector");
  }
  if (selector == nullptr || SelectorConvertible(selector)) {
    const Value* labels = Get(Get(Get(spec, "template"), "metadata"), "labels");
    bool matches = selector != nullptr && (SelectorIsEmpty(selector) || SelectorMatches(selector, labels));
    if (!matches) {
      c.InvalidRaw("spec.template.metadata.labels", GoStringMap(labels), "`selector` does not match template `labels`");
    }
  }
  if (old != nullptr) CheckJobUpdate(c, object, *old);
}

void ValidateCronJob(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") return;  // Kubernetes validates nothing but metadata there
  const Value* md = Get(&object, "metadata");
  std::string_view name = md ? json::StringMember(*md, "name") : "";
  if (old == nullptr && name.size() > 52) c.Invalid("metadata.name", name, "must be no more than 52 characters");
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  std::string_view schedule = Str(c, spec, "schedule", "spec.schedule");
  if (schedule.empty()) {
    c.Required("spec.schedule");
  } else {
    if (Result<cron::CronSchedule> parsed = cron::CronSchedule::Parse(schedule); !parsed.ok()) {
      c.Invalid("spec.schedule", schedule, parsed.status().message());
    }
    // TZ in the schedule stays allowed only where the stored object already used it.
    const Value* old_spec = old ? Get(old, "spec") : nullptr;
    bool allow_tz = old_spec != nullptr && json::StringMember(*old_spec, "schedule").find("TZ") != std::string_view::npos;
    bool has_tz = schedule.find("TZ") != std::string_view::npos;
    if (allow_tz && has_tz && Get(spec, "timeZone") != nullptr) {
      c.Invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule");
    } else if (!allow_tz && has_tz) {
      c.Invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    }
  }
  CheckNonNegative(c, "spec.startingDeadlineSeconds",
                   GetInt(&c, spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds"));
  std::string_view policy = Str(c, spec, "concurrencyPolicy", "spec.concurrencyPolicy");
  if (policy.empty()) {
    c.Required("spec.concurrencyPolicy");
  } else if (policy != "Allow" && policy != "Forbid" && policy != "Replace") {
    c.NotSupported("spec.concurrencyPolicy", policy, {"Allow", "Forbid", "Replace"});
  }
  const Value* job_template = GetObject(&c, spec, "jobTemplate", "spec.jobTemplate");
  const Value* job_spec = GetObject(&c, job_template, "spec", "spec.jobTemplate.spec");
  CheckJobSpec(c, job_spec, "spec.jobTemplate.spec");
  if (const Value* selector = Get(job_spec, "selector")) {
    c.InvalidRaw("spec.jobTemplate.spec.selector", GoLabelSelector(selector), "`selector` will be auto-generated");
  }
  const Value* manual = Get(job_spec, "manualSelector");
  if (manual != nullptr && manual->IsTrue()) {
    c.NotSupportedRaw("spec.jobTemplate.spec.manualSelector", "true", {"nil", "false"});
  }
  for (const char* f : {"successfulJobsHistoryLimit", "failedJobsHistoryLimit"}) {
    CheckNonNegative(c, Child("spec", f), GetInt32(&c, spec, f, Child("spec", f)));
  }
  CheckTimeZone(c, spec);
}

}  // namespace kite::admission
