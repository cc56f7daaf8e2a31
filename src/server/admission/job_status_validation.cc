#include "src/server/admission/job_status_validation.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/server/schema/well_known_types.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {
namespace {

using selection::GoQuote;

// A metav1.Time field: absent (or null), or its text and, when it parses, the instant.
struct Time {
  bool present = false;
  std::string_view text;
  bool parsed = false;
  int64_t seconds = 0;
  int32_t nanos = 0;
};

// The JobStatus fields the rules read.
struct StatusFields {
  int64_t active = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::optional<int64_t> ready;
  std::optional<int64_t> terminating;
  std::string_view completed_indexes;
  std::optional<std::string_view> failed_indexes;
  Time start_time;
  Time completion_time;
  const Value* uncounted = nullptr;  // status.uncountedTerminatedPods, nullptr when nil
  // Conditions with status True.
  bool complete = false;
  bool failed_condition = false;
  bool failure_target = false;
  bool success_criteria_met = false;
  bool suspended = false;

  bool Finished() const { return complete || failed_condition; }
};

// The JobSpec fields the rules read.
struct SpecFields {
  bool indexed = false;
  std::optional<int64_t> completions;
  std::optional<int64_t> parallelism;
  bool backoff_limit_per_index = false;
  bool success_policy = false;
  bool suspend = false;
};

// JobStatusValidationOptions: which rules apply to this write. All off without an old Job.
struct Rules {
  bool decreasing_succeeded = false;
  bool decreasing_failed = false;
  bool disabling_terminal_condition = false;
  bool invalid_completed_indexes = false;
  bool invalid_failed_indexes = false;
  bool completed_indexes_for_non_indexed = false;
  bool failed_indexes_without_backoff_limit_per_index = false;
  bool failed_indexes_overlapping_completed = false;
  bool failed_without_failure_target = false;
  bool complete_without_success_criteria_met = false;
  bool finished_with_active = false;
  bool finished_without_start_time = false;
  bool finished_with_uncounted = false;
  bool start_time_update_unsuspended = false;
  bool completion_time_before_start_time = false;
  bool mutating_completion_time = false;
  bool not_complete_with_completion_time = false;
  bool complete_without_completion_time = false;
  bool complete_with_failed = false;
  bool complete_with_failure_target = false;
  bool more_ready_than_active = false;
  bool finished_with_terminating = false;
};

Time ReadTime(Causes* c, const Value* status, std::string_view name, const std::string& path) {
  Time t;
  std::optional<std::string_view> text = GetString(c, status, name, path);
  if (!text) return t;
  t.present = true;
  t.text = *text;
  t.parsed = schema::ParseRfc3339(*text, &t.seconds, &t.nanos);
  return t;
}

// ptr.Equal of two *metav1.Time: both nil, or the same instant.
bool SameTime(const Time& a, const Time& b) {
  if (a.present != b.present) return false;
  if (!a.present) return true;
  if (a.parsed && b.parsed) return a.seconds == b.seconds && a.nanos == b.nanos;
  return a.text == b.text;
}

bool Before(const Time& a, const Time& b) {
  return a.parsed && b.parsed && std::make_pair(a.seconds, a.nanos) < std::make_pair(b.seconds, b.nanos);
}

StatusFields ReadStatus(Causes* c, const Value& job) {
  StatusFields s;
  // The types of status and of the counters are reported by ValidateJob.
  const Value* status = GetObject(nullptr, &job, "status", "status");
  s.active = GetInt32(nullptr, status, "active", "").value_or(0);
  s.succeeded = GetInt32(nullptr, status, "succeeded", "").value_or(0);
  s.failed = GetInt32(nullptr, status, "failed", "").value_or(0);
  s.ready = GetInt32(nullptr, status, "ready", "");
  s.terminating = GetInt32(nullptr, status, "terminating", "");
  s.completed_indexes = GetString(c, status, "completedIndexes", "status.completedIndexes").value_or("");
  s.failed_indexes = GetString(c, status, "failedIndexes", "status.failedIndexes");
  s.start_time = ReadTime(c, status, "startTime", "status.startTime");
  s.completion_time = ReadTime(c, status, "completionTime", "status.completionTime");
  s.uncounted = GetObject(c, status, "uncountedTerminatedPods", "status.uncountedTerminatedPods");
  const Value* conditions = GetArray(c, status, "conditions", "status.conditions");
  if (conditions == nullptr) return s;
  for (rapidjson::SizeType i = 0; i < conditions->Size(); ++i) {
    std::string path = Index("status.conditions", i);
    const Value* condition = ElementObject(c, (*conditions)[i], path);
    std::string_view type = GetString(c, condition, "type", Child(path, "type")).value_or("");
    std::string_view value = GetString(c, condition, "status", Child(path, "status")).value_or("");
    if (value != "True") continue;
    if (type == "Complete") s.complete = true;
    if (type == "Failed") s.failed_condition = true;
    if (type == "FailureTarget") s.failure_target = true;
    if (type == "SuccessCriteriaMet") s.success_criteria_met = true;
    if (type == "Suspended") s.suspended = true;
  }
  return s;
}

SpecFields ReadSpec(const Value& job) {
  SpecFields s;
  const Value* spec = Get(&job, "spec");
  s.indexed = GetString(nullptr, spec, "completionMode", "").value_or("") == "Indexed";
  s.completions = GetInt32(nullptr, spec, "completions", "");
  s.parallelism = GetInt32(nullptr, spec, "parallelism", "");
  s.backoff_limit_per_index = Get(spec, "backoffLimitPerIndex") != nullptr;
  s.success_policy = Get(spec, "successPolicy") != nullptr;
  s.suspend = GetBool(nullptr, spec, "suspend", "").value_or(false);
  return s;
}

// getStatusValidationOptions with JobManagedBy on: most rules only when what they read changed.
Rules RulesFor(const StatusFields& s, const StatusFields& old, const SpecFields& spec) {
  bool finished_changed = s.Finished() != old.Finished();
  bool complete_changed = s.complete != old.complete;
  bool failed_changed = s.failed_condition != old.failed_condition;
  bool failure_target_changed = s.failure_target != old.failure_target;
  bool success_criteria_met_changed = s.success_criteria_met != old.success_criteria_met;
  bool completed_indexes_changed = s.completed_indexes != old.completed_indexes;
  bool failed_indexes_changed = s.failed_indexes != old.failed_indexes;
  bool active_changed = s.active != old.active;
  bool ready_changed = s.ready != old.ready;
  bool terminating_changed = s.terminating != old.terminating;
  bool start_time_changed = !SameTime(s.start_time, old.start_time);
  bool completion_time_changed = !SameTime(s.completion_time, old.completion_time);
  bool uncounted_changed = !SemanticEqual(s.uncounted, old.uncounted);

  Rules r;
  // Indexed Jobs with completions == parallelism can be scaled down, losing succeeded pods.
  r.decreasing_succeeded = !spec.indexed || spec.completions != spec.parallelism;
  r.decreasing_failed = true;
  r.disabling_terminal_condition = true;
  r.invalid_completed_indexes = completed_indexes_changed;
  r.invalid_failed_indexes = failed_indexes_changed;
  r.completed_indexes_for_non_indexed = completed_indexes_changed;
  r.failed_indexes_without_backoff_limit_per_index = failed_indexes_changed;
  r.failed_indexes_overlapping_completed = failed_indexes_changed || completed_indexes_changed;
  r.failed_without_failure_target = failed_changed || failed_indexes_changed;
  r.complete_without_success_criteria_met = complete_changed || success_criteria_met_changed;
  r.finished_with_active = finished_changed || active_changed;
  r.finished_without_start_time = finished_changed || start_time_changed;
  r.finished_with_uncounted = finished_changed || uncounted_changed;
  r.start_time_update_unsuspended = start_time_changed;
  r.completion_time_before_start_time = start_time_changed || completion_time_changed;
  r.mutating_completion_time = true;
  r.not_complete_with_completion_time = complete_changed || completion_time_changed;
  r.complete_without_completion_time = complete_changed || completion_time_changed;
  r.complete_with_failed = complete_changed || failed_changed;
  r.complete_with_failure_target = complete_changed || failure_target_changed;
  r.more_ready_than_active = ready_changed || active_changed;
  r.finished_with_terminating = finished_changed || terminating_changed;
  return r;
}

// An Invalid cause whose value Kubernetes leaves out (field.OmitValueType).
void InvalidOmitValue(Causes& c, std::string path, const std::string& detail) {
  c.Add({"FieldValueInvalid", "Invalid value: " + detail, std::move(path)});
}

void ConditionsInvalid(Causes& c, const std::string& detail) { InvalidOmitValue(c, "status.conditions", detail); }

// ---- Index lists ("1,3-5,7") ---------------------------------------------------------------

// strings.Split: every separator splits, empty pieces kept.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

// strconv.Atoi: an optional sign and decimal digits, within int64.
std::optional<int64_t> Atoi(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (value > (limit - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
}

std::string NonIncreasing(int64_t previous, int64_t current) {
  return "non-increasing order, previous: " + std::to_string(previous) + ", current: " + std::to_string(current);
}

struct Interval {
  int64_t first = 0;
  int64_t last = 0;
};

// parseIndexInterval: "x" or "x-y" with x < y < completions; the error text otherwise.
std::pair<std::optional<Interval>, std::string> ParseInterval(std::string_view text, int64_t completions) {
  std::vector<std::string_view> limits = Split(text, '-');
  if (limits.size() > 2) {
    return {std::nullopt, "the fragment " + GoQuote(text) +
                              " violates the requirement that an index interval can have at most two parts "
                              "separated by '-'"};
  }
  Interval interval;
  for (size_t i = 0; i < limits.size(); ++i) {
    std::optional<int64_t> value = Atoi(limits[i]);
    if (!value) return {std::nullopt, "cannot convert string to integer for index: " + GoQuote(limits[i])};
    if (*value >= completions) return {std::nullopt, "too large index: " + GoQuote(limits[i])};
    (i == 0 ? interval.first : interval.last) = *value;
  }
  if (limits.size() == 1) {
    interval.last = interval.first;
  } else if (interval.first >= interval.last) {
    return {std::nullopt, NonIncreasing(interval.first, interval.last)};
  }
  return {interval, ""};
}

// validateIndexesFormat: the error text, or "" when `indexes` is well formed.
std::string IndexesFormatError(std::string_view indexes, int64_t completions) {
  if (indexes.empty()) return "";
  std::optional<int64_t> last;
  for (std::string_view text : Split(indexes, ',')) {
    auto [interval, error] = ParseInterval(text, completions);
    if (!interval) return error;
    if (last && *last >= interval->first) return NonIncreasing(*last, interval->first);
    last = interval->last;
  }
  return "";
}

// validateFailedIndexesNotOverlapCompleted: walks both interval lists in order (intervals
// that do not parse are skipped: the format check reports them).
std::string OverlapError(std::string_view completed, std::string_view failed, int64_t completions) {
  if (completed.empty() || failed.empty()) return "";
  std::vector<std::string_view> c = Split(completed, ',');
  std::vector<std::string_view> f = Split(failed, ',');
  size_t ci = 0, fi = 0;
  std::optional<Interval> cv = ParseInterval(c[0], completions).first;
  std::optional<Interval> fv = ParseInterval(f[0], completions).first;
  while (ci < c.size() && fi < f.size()) {
    bool next_completed;
    if (!cv) {
      next_completed = true;
    } else if (!fv) {
      next_completed = false;
    } else {
      if (cv->first <= fv->last && fv->first <= cv->last) {
        return "failedIndexes and completedIndexes overlap at index: " + std::to_string(std::max(cv->first, fv->first));
      }
      next_completed = cv->first <= fv->first;
    }
    if (next_completed) {
      if (++ci < c.size()) cv = ParseInterval(c[ci], completions).first;
    } else {
      if (++fi < f.size()) fv = ParseInterval(f[fi], completions).first;
    }
  }
  return "";
}

// ---- uncountedTerminatedPods -----------------------------------------------------------------

// Go's %#v of a []types.UID.
std::string GoUidSlice(const Value* list) {
  if (list == nullptr || !list->IsArray()) return "[]types.UID(nil)";
  std::string out = "[]types.UID{";
  bool first = true;
  for (const Value& uid : list->GetArray()) {
    if (!uid.IsString()) continue;
    out += (first ? "" : ", ") + GoQuote(std::string_view(uid.GetString(), uid.GetStringLength()));
    first = false;
  }
  return out + "}";
}

// Go's %#v of a batch.UncountedTerminatedPods.
std::string GoUncounted(const Value* uncounted) {
  return "batch.UncountedTerminatedPods{Succeeded:" + GoUidSlice(Get(uncounted, "succeeded")) +
         ", Failed:" + GoUidSlice(Get(uncounted, "failed")) + "}";
}

size_t CountUncounted(const Value* uncounted) {
  size_t n = 0;
  for (const char* name : {"succeeded", "failed"}) {
    if (const Value* list = Get(uncounted, name); list && list->IsArray()) n += list->Size();
  }
  return n;
}

// Every uid listed once, none empty.
void CheckUncountedUids(Causes& c, const Value* uncounted) {
  if (uncounted == nullptr) return;
  const std::string path = "status.uncountedTerminatedPods";
  std::set<std::string_view> seen;
  for (const char* name : {"succeeded", "failed"}) {
    std::string list_path = Child(path, name);
    const Value* list = GetArray(&c, uncounted, name, list_path);
    if (list == nullptr) continue;
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      const Value& e = (*list)[i];
      if (!e.IsString()) {
        c.TypeInvalid(Index(list_path, i), e, "string");
        continue;
      }
      std::string_view uid(e.GetString(), e.GetStringLength());
      if (uid.empty()) {
        c.Invalid(Index(list_path, i), uid, "must not be empty");
      } else if (!seen.insert(uid).second) {
        c.Duplicate(Index(list_path, i), uid);
      }
    }
  }
}

// ---- The rules ---------------------------------------------------------------------------------

// validateJobStatus.
void CheckStatus(Causes& c, const StatusFields& s, const SpecFields& spec, const Rules& r) {
  CheckUncountedUids(c, s.uncounted);
  if (r.complete_with_failed && s.complete && s.failed_condition) {
    ConditionsInvalid(c, "cannot set Complete=True and Failed=true conditions");
  }
  if (r.complete_with_failure_target && s.complete && s.failure_target) {
    ConditionsInvalid(c, "cannot set Complete=True and FailureTarget=true conditions");
  }
  if (r.not_complete_with_completion_time && s.completion_time.present && !s.complete) {
    c.InvalidRaw("status.completionTime", GoTime(s.completion_time.text),
                 "cannot set completionTime when there is no Complete=True condition");
  }
  if (r.complete_without_completion_time && !s.completion_time.present && s.complete) {
    c.Required("status.completionTime", "completionTime is required for Complete jobs");
  }
  if (r.completion_time_before_start_time && Before(s.completion_time, s.start_time)) {
    c.InvalidRaw("status.completionTime", GoTime(s.completion_time.text), "completionTime cannot be set before startTime");
  }
  if (r.failed_without_failure_target && s.failed_condition && !s.failure_target) {
    ConditionsInvalid(c, "cannot set Failed=True condition without the FailureTarget=true condition");
  }
  if (r.complete_without_success_criteria_met && s.complete && !s.success_criteria_met) {
    ConditionsInvalid(c, "cannot set Complete=True condition without the SuccessCriteriaMet=true condition");
  }
  bool finished = s.Finished();
  if (r.finished_with_active && s.active > 0 && finished) {
    c.InvalidInt("status.active", s.active, "active>0 is invalid for finished job");
  }
  if (r.finished_without_start_time && !s.start_time.present && finished) {
    c.Required("status.startTime", "startTime is required for finished job");
  }
  if (r.finished_with_uncounted && finished && s.uncounted != nullptr && CountUncounted(s.uncounted) > 0) {
    c.InvalidRaw("status.uncountedTerminatedPods", GoUncounted(s.uncounted),
                 "uncountedTerminatedPods needs to be empty for finished job");
  }
  if (r.invalid_completed_indexes && spec.completions) {
    if (std::string error = IndexesFormatError(s.completed_indexes, *spec.completions); !error.empty()) {
      c.Invalid("status.completedIndexes", s.completed_indexes, "error parsing completedIndexes: " + error);
    }
  }
  if (r.invalid_failed_indexes && spec.completions && spec.backoff_limit_per_index && s.failed_indexes) {
    if (std::string error = IndexesFormatError(*s.failed_indexes, *spec.completions); !error.empty()) {
      c.Invalid("status.failedIndexes", *s.failed_indexes, "error parsing failedIndexes: " + error);
    }
  }
  if (r.completed_indexes_for_non_indexed && !s.completed_indexes.empty() && !spec.indexed) {
    c.Invalid("status.completedIndexes", s.completed_indexes,
              "cannot set non-empty completedIndexes when non-indexed completion mode");
  }
  // Non-indexed Jobs have no backoffLimitPerIndex, so this keeps failedIndexes off them too.
  if (r.failed_indexes_without_backoff_limit_per_index && !spec.backoff_limit_per_index && s.failed_indexes) {
    c.Invalid("status.failedIndexes", *s.failed_indexes,
              "cannot set non-null failedIndexes when backoffLimitPerIndex is null");
  }
  if (r.failed_indexes_overlapping_completed && spec.completions && s.failed_indexes) {
    if (std::string error = OverlapError(s.completed_indexes, *s.failed_indexes, *spec.completions);
        !error.empty()) {
      c.Invalid("status.failedIndexes", *s.failed_indexes, error);
    }
  }
  if (r.finished_with_terminating && s.terminating.value_or(0) > 0 && finished) {
    c.InvalidInt("status.terminating", *s.terminating, "terminating>0 is invalid for finished job");
  }
  if (r.more_ready_than_active && s.ready && *s.ready > s.active) {
    c.InvalidInt("status.ready", *s.ready, "cannot set more ready pods than active");
  }
  // With JobManagedBy on, SuccessCriteriaMet is allowed on NonIndexed Jobs and Jobs without
  // a successPolicy (AllowForSuccessCriteriaMetInExtendedScope): the Job controller sets it
  // before Complete on every Job.
  if (s.success_criteria_met && s.failed_condition) {
    ConditionsInvalid(c, "cannot set SuccessCriteriaMet=True and Failed=true conditions");
  }
  if (s.success_criteria_met && s.failure_target) {
    ConditionsInvalid(c, "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions");
  }
  if (spec.success_policy && !s.success_criteria_met && s.complete) {
    ConditionsInvalid(c, "cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True");
  }
}

// ValidateJobStatusUpdate's own rules: how the status may move on from the stored one.
void CheckTransition(Causes& c, const StatusFields& s, const StatusFields& old, const SpecFields& spec,
                     const Rules& r) {
  if (r.disabling_terminal_condition) {
    const std::pair<const char*, bool> kTerminal[] = {
        {"Failed", old.failed_condition && !s.failed_condition},
        {"Complete", old.complete && !s.complete},
        {"FailureTarget", old.failure_target && !s.failure_target}};
    for (const auto& [type, disabled] : kTerminal) {
      if (disabled) ConditionsInvalid(c, "cannot disable the terminal " + std::string(type) + "=True condition");
    }
  }
  if (r.decreasing_failed && s.failed < old.failed) {
    c.InvalidInt("status.failed", s.failed, "cannot decrease the failed counter");
  }
  if (r.decreasing_succeeded && s.succeeded < old.succeeded) {
    c.InvalidInt("status.succeeded", s.succeeded, "cannot decrease the succeeded counter");
  }
  // Removing completionTime is Complete's business (complete_without_completion_time).
  if (r.mutating_completion_time && s.completion_time.present && old.completion_time.present &&
      !SameTime(s.completion_time, old.completion_time)) {
    c.InvalidRaw("status.completionTime", GoTime(s.completion_time.text), "completionTime cannot be mutated");
  }
  // Setting the first startTime of a running Job is what the controller does, and so is
  // restarting the clock when it resumes one (Suspended goes from True to not True; allowed
  // since Kubernetes 1.32.10, before which a resumed Job's status writes all failed).
  bool resuming = old.suspended && !s.suspended;
  if (r.start_time_update_unsuspended && old.start_time.present && !SameTime(old.start_time, s.start_time) &&
      !spec.suspend && !resuming) {
    c.Required("status.startTime", "startTime cannot be removed for unsuspended job");
  }
  if (old.success_criteria_met && !s.success_criteria_met) {
    ConditionsInvalid(c, "cannot disable the SuccessCriteriaMet=True condition");
  }
  if (old.complete && !old.success_criteria_met && s.success_criteria_met) {
    ConditionsInvalid(c, "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions");
  }
}

}  // namespace

void ValidateJobStatusUpdate(Causes& c, const Value& job, const Value* old) {
  StatusFields status = ReadStatus(&c, job);
  SpecFields spec = ReadSpec(old != nullptr ? *old : job);
  if (old == nullptr) {
    CheckStatus(c, status, spec, Rules{});
    return;
  }
  StatusFields old_status = ReadStatus(nullptr, *old);
  Rules rules = RulesFor(status, old_status, spec);
  CheckStatus(c, status, spec, rules);
  CheckTransition(c, status, old_status, spec, rules);
}

}  // namespace kite::admission
