// batch/v1 validation (pkg/apis/batch/validation): Jobs, their generated selectors and
// update rules, and CronJobs with their schedules and time zones.
#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "src/server/admission/job_status_validation.h"
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
// Upstream's maxParallelismForIndexedJob and maxFailedIndexesForIndexedJob.
constexpr int64_t kMaxIndexedParallelism = 100000;
constexpr int64_t kMaxFailedIndexes = 100000;
// Above this many completions a Job with backoffLimitPerIndex needs maxFailedIndexes, and
// both it and parallelism are held to kLimitForHighCompletions.
constexpr int64_t kCompletionsSoftLimit = 100000;
constexpr int64_t kLimitForHighCompletions = 10000;
constexpr size_t kMaxPodFailurePolicyRules = 20;
constexpr size_t kMaxOnExitCodesValues = 255;
constexpr size_t kMaxOnPodConditionsPatterns = 20;
constexpr size_t kMaxManagedByLength = 63;

std::string_view Str(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

// An Invalid cause whose value Kubernetes leaves out (field.OmitValueType).
void InvalidOmitValue(Causes& c, std::string path, const std::string& detail) {
  c.Add({"FieldValueInvalid", "Invalid value: " + detail, std::move(path)});
}

// apimachinery's IsDomainPrefixedPath ("acme.io/foo").
void CheckDomainPrefixedPath(Causes& c, const std::string& path, std::string_view value) {
  if (value.empty()) {
    c.Required(path);
    return;
  }
  size_t slash = value.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == value.size()) {
    c.Invalid(path, value, "must be a domain-prefixed path (such as \"acme.io/foo\")");
    return;
  }
  std::string_view host = value.substr(0, slash);
  c.InvalidEach(path, host, Dns1123SubdomainErrors(host));
  std::string_view rest = value.substr(slash + 1);
  constexpr std::string_view kPathPunctuation = "/-._~%!$&'()*+,;=:";
  for (char ch : rest) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && kPathPunctuation.find(ch) == std::string_view::npos) {
      c.Invalid(path, rest, R"(Invalid path (regex used for validation is '[A-Za-z0-9/\-._~%!$&'()*+,;=:]+'))");
      return;
    }
  }
}

// Go's %#v of a []int32.
std::string GoInt32Slice(const std::vector<int64_t>& values, bool nil) {
  if (nil) return "[]int32(nil)";
  std::string out = "[]int32{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "}";
}

void CheckOnExitCodes(Causes& c, const Value& req, const std::string& path,
                      const std::set<std::string_view>& containers) {
  std::string op_path = Child(path, "operator");
  std::string_view op = Str(c, &req, "operator", op_path);
  if (op.empty()) {
    c.Required(op_path, R"(valid values: ["In" "NotIn"])");
  } else if (op != "In" && op != "NotIn") {
    c.NotSupported(op_path, op, {"In", "NotIn"});
  }
  std::string name_path = Child(path, "containerName");
  if (std::optional<std::string_view> name = GetString(&c, &req, "containerName", name_path);
      name && !containers.count(*name)) {
    c.Invalid(name_path, *name, "must be one of the container or initContainer names in the pod template");
  }
  std::string values_path = Child(path, "values");
  const Value* list = GetArray(&c, &req, "values", values_path);
  std::vector<int64_t> values;
  if (list) {
    for (const Value& v : list->GetArray()) {
      if (v.IsInt64()) values.push_back(v.GetInt64());
    }
  }
  if (values.empty()) {
    c.InvalidRaw(values_path, GoInt32Slice(values, list == nullptr), "at least one value is required");
  } else if (values.size() > kMaxOnExitCodesValues) {
    c.Add(validation::TooManyCause(values_path, values.size(), kMaxOnExitCodesValues));
  }
  std::set<int64_t> seen;
  bool ordered = true;
  for (size_t j = 0; j < values.size(); ++j) {
    std::string value_path = Index(values_path, j);
    if (op == "In" && values[j] == 0) c.InvalidInt(value_path, 0, "must not be 0 for the In operator");
    if (!seen.insert(values[j]).second) c.DuplicateRaw(value_path, std::to_string(values[j]));
    if (j > 0 && values[j - 1] > values[j]) ordered = false;
  }
  if (!ordered) c.InvalidRaw(values_path, GoInt32Slice(values, false), "must be ordered");
}

void CheckOnPodConditions(Causes& c, const Value& patterns, const std::string& path) {
  if (patterns.Size() > kMaxOnPodConditionsPatterns) {
    c.Add(validation::TooManyCause(path, patterns.Size(), kMaxOnPodConditionsPatterns));
  }
  for (rapidjson::SizeType j = 0; j < patterns.Size(); ++j) {
    std::string pattern_path = Index(path, j);
    const Value* pattern = ElementObject(&c, patterns[j], pattern_path);
    if (!pattern) continue;
    std::string type_path = Child(pattern_path, "type");
    std::string_view type = Str(c, pattern, "type", type_path);
    c.InvalidEach(type_path, type, QualifiedNameErrors(type));
    std::string status_path = Child(pattern_path, "status");
    std::string_view status = Str(c, pattern, "status", status_path);
    if (status.empty()) {
      c.Required(status_path, R"(valid values: ["False" "True" "Unknown"])");
    } else if (status != "False" && status != "True" && status != "Unknown") {
      c.NotSupported(status_path, status, {"False", "True", "Unknown"});
    }
  }
}

// validatePodFailurePolicy.
void CheckPodFailurePolicy(Causes& c, const Value* spec, const Value& policy, bool has_backoff_limit_per_index,
                           const std::string& path) {
  std::string rules_path = Child(path, "rules");
  const Value* rules = GetArray(&c, &policy, "rules", rules_path);
  if (!rules) return;
  if (rules->Size() > kMaxPodFailurePolicyRules) {
    c.Add(validation::TooManyCause(rules_path, rules->Size(), kMaxPodFailurePolicyRules));
  }
  std::set<std::string_view> containers;
  const Value* pod_spec = Get(Get(spec, "template"), "spec");
  for (const char* field : {"containers", "initContainers"}) {
    const Value* list = Get(pod_spec, field);
    if (!list || !list->IsArray()) continue;
    for (const Value& container : list->GetArray()) {
      if (const Value* name = Get(&container, "name"); name && name->IsString()) {
        containers.insert(std::string_view(name->GetString(), name->GetStringLength()));
      }
    }
  }
  for (rapidjson::SizeType i = 0; i < rules->Size(); ++i) {
    std::string rule_path = Index(rules_path, i);
    const Value* rule = ElementObject(&c, (*rules)[i], rule_path);
    if (!rule) continue;
    std::string action_path = Child(rule_path, "action");
    std::string_view action = Str(c, rule, "action", action_path);
    if (action.empty()) {
      c.Required(action_path, R"(valid values: ["Count" "FailIndex" "FailJob" "Ignore"])");
    } else if (action == "FailIndex") {
      if (!has_backoff_limit_per_index) c.Invalid(action_path, action, "requires the backoffLimitPerIndex to be set");
    } else if (action != "Count" && action != "FailJob" && action != "Ignore") {
      c.NotSupported(action_path, action, {"Count", "FailIndex", "FailJob", "Ignore"});
    }
    const Value* on_exit = GetObject(&c, rule, "onExitCodes", Child(rule_path, "onExitCodes"));
    const Value* on_conditions = GetArray(&c, rule, "onPodConditions", Child(rule_path, "onPodConditions"));
    bool has_conditions = on_conditions && !on_conditions->Empty();
    if (on_exit) CheckOnExitCodes(c, *on_exit, Child(rule_path, "onExitCodes"), containers);
    if (has_conditions) CheckOnPodConditions(c, *on_conditions, Child(rule_path, "onPodConditions"));
    if (on_exit && has_conditions) {
      InvalidOmitValue(c, rule_path, "specifying both OnExitCodes and OnPodConditions is not supported");
    }
    if (!on_exit && !has_conditions) {
      InvalidOmitValue(c, rule_path, "specifying one of OnExitCodes and OnPodConditions is required");
    }
  }
}

// validateJobSpec: what Jobs and job templates share.
void CheckJobSpec(Causes& c, const Value* spec, const std::string& path) {
  for (const char* f : {"parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"}) {
    CheckNonNegative(c, Child(path, f), GetInt32(&c, spec, f, Child(path, f)));
  }
  CheckNonNegative(c, Child(path, "activeDeadlineSeconds"),
                   GetInt(&c, spec, "activeDeadlineSeconds", Child(path, "activeDeadlineSeconds")));
  std::string per_index_path = Child(path, "backoffLimitPerIndex");
  std::optional<int64_t> per_index = GetInt32(&c, spec, "backoffLimitPerIndex", per_index_path);
  CheckNonNegative(c, per_index_path, per_index);
  std::string max_failed_path = Child(path, "maxFailedIndexes");
  std::optional<int64_t> max_failed = GetInt32(&c, spec, "maxFailedIndexes", max_failed_path);
  if (max_failed) {
    CheckNonNegative(c, max_failed_path, max_failed);
    if (!per_index) c.Required(per_index_path, "when maxFailedIndexes is specified");
  }
  std::string managed_by_path = Child(path, "managedBy");
  if (std::optional<std::string_view> managed_by = GetString(&c, spec, "managedBy", managed_by_path)) {
    CheckDomainPrefixedPath(c, managed_by_path, *managed_by);
    if (managed_by->size() > kMaxManagedByLength) c.TooLong(managed_by_path, kMaxManagedByLength);
  }
  std::optional<std::string_view> mode = GetString(&c, spec, "completionMode", Child(path, "completionMode"));
  if (mode && *mode != "NonIndexed" && *mode != "Indexed") {
    c.NotSupported(Child(path, "completionMode"), *mode, {"NonIndexed", "Indexed"});
  }
  if (mode && *mode == "Indexed") {
    std::optional<int64_t> completions = GetInt32(nullptr, spec, "completions", "");
    if (!completions) c.Required(Child(path, "completions"), "when completion mode is Indexed");
    std::optional<int64_t> parallelism = GetInt32(nullptr, spec, "parallelism", "");
    if (parallelism && *parallelism > kMaxIndexedParallelism) {
      c.InvalidInt(Child(path, "parallelism"), *parallelism,
                   "must be less than or equal to 100000 when completion mode is Indexed");
    }
    if (completions && max_failed && *max_failed > *completions) {
      c.InvalidInt(max_failed_path, *max_failed, "must be less than or equal to completions");
    }
    if (max_failed && *max_failed > kMaxFailedIndexes) {
      c.InvalidInt(max_failed_path, *max_failed, "must be less than or equal to 100000");
    }
    if (completions && *completions > kCompletionsSoftLimit && per_index) {
      const std::string high = " when completions are above 100000 and used with backoff limit per index";
      if (!max_failed) c.Required(max_failed_path, "must be specified when completions is above 100000");
      if (parallelism && *parallelism > kLimitForHighCompletions) {
        c.InvalidInt(Child(path, "parallelism"), *parallelism, "must be less than or equal to 10000" + high);
      }
      if (max_failed && *max_failed > kLimitForHighCompletions) {
        c.InvalidInt(max_failed_path, *max_failed, "must be less than or equal to 10000" + high);
      }
    }
  }
  if (!mode || *mode == "NonIndexed") {
    if (per_index) c.InvalidInt(per_index_path, *per_index, "requires indexed completion mode");
    if (max_failed) c.InvalidInt(max_failed_path, *max_failed, "requires indexed completion mode");
  }
  std::string failure_policy_path = Child(path, "podFailurePolicy");
  const Value* failure_policy = GetObject(&c, spec, "podFailurePolicy", failure_policy_path);
  if (failure_policy) CheckPodFailurePolicy(c, spec, *failure_policy, per_index.has_value(), failure_policy_path);
  if (std::optional<std::string_view> policy = GetString(&c, spec, "podReplacementPolicy", Child(path, "podReplacementPolicy"))) {
    if (failure_policy) {
      // With a podFailurePolicy only failed pods are replaced.
      if (*policy != "Failed") c.NotSupported(Child(path, "podReplacementPolicy"), *policy, {"Failed"});
    } else if (*policy != "Failed" && *policy != "TerminatingOrFailed") {
      c.NotSupported(Child(path, "podReplacementPolicy"), *policy, {"Failed", "TerminatingOrFailed"});
    }
  }
  const Value* tmpl = GetObject(&c, spec, "template", Child(path, "template"));
  ValidatePodTemplateSpec(c, tmpl, Child(path, "template"));
  const Value* pod_spec = Get(tmpl, "spec");
  std::string_view restart = pod_spec ? json::StringMember(*pod_spec, "restartPolicy") : "";
  std::string restart_path = Child(Child(Child(path, "template"), "spec"), "restartPolicy");
  if (restart != "OnFailure" && restart != "Never") {
    c.NotSupported(restart_path, restart, {"OnFailure", "Never"});
  } else if (failure_policy && restart != "Never") {
    c.Invalid(restart_path, restart, "only \"Never\" is supported when podFailurePolicy is specified");
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
    ValidateJobStatusUpdate(c, object, old);
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
