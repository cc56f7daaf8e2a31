#include "src/server/controllers/cron_job_controller.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <set>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/cron/cron_schedule.h"
#include "src/server/cron/time_zone.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using cron::CronSchedule;
using cron::TimeZone;
using rapidjson::Document;
using rapidjson::Value;

namespace {

constexpr std::string_view kApiVersion = "batch/v1";
constexpr std::string_view kKind = "CronJob";
// Kubernetes requeues this long after the next schedule time, so the schedule has passed.
constexpr int64_t kNextScheduleDeltaMs = 100;
// More missed schedules than this are reported as "too many".
constexpr int64_t kManyMissed = 100;

const Value* Spec(const Value& object) { return json::Member(object, "spec"); }

std::optional<int64_t> SpecInt(const Value& object, std::string_view field) {
  const Value* spec = Spec(object);
  const Value* v = spec ? json::Member(*spec, field) : nullptr;
  if (!v || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

bool SpecBool(const Value& object, std::string_view field) {
  const Value* spec = Spec(object);
  const Value* v = spec ? json::Member(*spec, field) : nullptr;
  return v && v->IsBool() && v->GetBool();
}

std::optional<std::string> TimeZoneOf(const Value& cron_job) {
  const Value* spec = Spec(cron_job);
  const Value* tz = spec ? json::Member(*spec, "timeZone") : nullptr;
  if (!tz || !tz->IsString()) return std::nullopt;
  return std::string(tz->GetString(), tz->GetStringLength());
}

std::optional<int64_t> StatusTime(const Value& object, std::string_view field) {
  const Value* status = json::Member(object, "status");
  return status ? ParseTimeMillis(json::StringMember(*status, field)) : std::nullopt;
}

std::optional<int64_t> CreationTime(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  return md ? ParseTimeMillis(json::StringMember(*md, "creationTimestamp")) : std::nullopt;
}

// The type of the Job's Complete or Failed condition with status True, or "".
std::string_view FinishedType(const Value& job) {
  const Value* status = json::Member(job, "status");
  const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return {};
  for (const Value& c : conditions->GetArray()) {
    std::string_view type = json::StringMember(c, "type");
    if ((type == "Complete" || type == "Failed") && json::StringMember(c, "status") == "True") return type;
  }
  return {};
}

Value& ActiveList(Document& cron_job) {
  auto& a = cron_job.GetAllocator();
  Value& status = json::EnsureObjectMember(cron_job, "status", a);
  Value* active = json::MutableMember(status, "active");
  if (!active || !active->IsArray()) {
    json::SetMember(status, "active", Value(rapidjson::kArrayType), a);
    active = json::MutableMember(status, "active");
  }
  return *active;
}

const Value* ActiveListOf(const Value& cron_job) {
  const Value* status = json::Member(cron_job, "status");
  const Value* active = status ? json::Member(*status, "active") : nullptr;
  return active && active->IsArray() ? active : nullptr;
}

bool InActiveList(const Value& cron_job, std::string_view uid) {
  if (const Value* active = ActiveListOf(cron_job)) {
    for (const Value& ref : active->GetArray()) {
      if (json::StringMember(ref, "uid") == uid) return true;
    }
  }
  return false;
}

bool InActiveListByName(const Value& cron_job, std::string_view name) {
  if (const Value* active = ActiveListOf(cron_job)) {
    for (const Value& ref : active->GetArray()) {
      if (json::StringMember(ref, "name") == name && json::StringMember(ref, "namespace") == NamespaceOf(cron_job)) {
        return true;
      }
    }
  }
  return false;
}

void DeleteFromActiveList(Document& cron_job, std::string_view uid) {
  Value& active = ActiveList(cron_job);
  for (auto it = active.Begin(); it != active.End();) {
    it = json::StringMember(*it, "uid") == uid ? active.Erase(it) : it + 1;
  }
}

size_t ActiveCount(const Value& cron_job) {
  const Value* active = ActiveListOf(cron_job);
  return active ? active->Size() : 0;
}

void SetStatusTime(Document& cron_job, std::string_view field, int64_t ms) {
  auto& a = cron_job.GetAllocator();
  json::SetStringMember(json::EnsureObjectMember(cron_job, "status", a), field, FormatRfc3339Seconds(ms), a);
}

// An ObjectReference to `job`, as status.active lists them.
Value JobRef(const Value& job, Document::AllocatorType& a) {
  Value ref(rapidjson::kObjectType);
  json::SetStringMember(ref, "kind", "Job", a);
  json::SetStringMember(ref, "namespace", NamespaceOf(job), a);
  json::SetStringMember(ref, "name", NameOf(job), a);
  json::SetStringMember(ref, "uid", UidOf(job), a);
  json::SetStringMember(ref, "apiVersion", "batch/v1", a);
  const Value* md = json::Member(job, "metadata");
  if (std::string_view rv = md ? json::StringMember(*md, "resourceVersion") : ""; !rv.empty()) {
    json::SetStringMember(ref, "resourceVersion", rv, a);
  }
  return ref;
}

enum class Missed { kNone, kFew, kMany };

struct RecentSchedule {
  int64_t earliest = 0;
  std::optional<int64_t> most_recent;
  Missed missed = Missed::kNone;
  bool invalid = false;  // two schedule times less than a second apart (e.g. Feb 31)
};

// Kubernetes' mostRecentScheduleTime: the latest schedule time in (earliest, now], where
// earliest is the last schedule time or the creation time (or now - startingDeadlineSeconds
// when later and `with_deadline`), and how many were missed.
RecentSchedule MostRecentScheduleTime(const Value& cron_job, int64_t now, const CronSchedule& schedule,
                                      bool with_deadline) {
  RecentSchedule r;
  r.earliest = StatusTime(cron_job, "lastScheduleTime").value_or(CreationTime(cron_job).value_or(now));
  std::optional<int64_t> deadline = SpecInt(cron_job, "startingDeadlineSeconds");
  if (with_deadline && deadline) r.earliest = std::max(r.earliest, now - *deadline * 1000);
  std::optional<int64_t> t1 = schedule.Next(r.earliest);
  if (!t1 || now < *t1) return r;
  std::optional<int64_t> t2 = schedule.Next(*t1);
  if (!t2 || now < *t2) {
    r.most_recent = t1;
    return r;
  }
  int64_t between = (*t2 - *t1 + 500) / 1000;  // seconds, rounded
  if (between < 1) {
    r.invalid = true;
    return r;
  }
  int64_t elapsed = (now - *t1) / 1000;
  int64_t missed = elapsed / between + 1;
  // Step from just before the estimated latest time rather than walking every one (a CronJob
  // that missed years of minutes would otherwise take a long time).
  int64_t from = *t1 + (missed - 2) * between * 1000;
  for (std::optional<int64_t> t = schedule.Next(from); t && *t <= now; t = schedule.Next(*t)) r.most_recent = t;
  r.missed = missed > kManyMissed ? Missed::kMany : missed > 0 ? Missed::kFew : Missed::kNone;
  return r;
}

// How long until the next schedule time after the most recent one (Kubernetes'
// nextScheduleTimeDuration).
std::optional<std::chrono::milliseconds> NextScheduleDelay(const Value& cron_job, int64_t now,
                                                           const CronSchedule& schedule) {
  RecentSchedule r = MostRecentScheduleTime(cron_job, now, schedule, false);
  int64_t from = r.invalid ? now : r.most_recent ? *r.most_recent : r.missed == Missed::kNone ? r.earliest : now;
  std::optional<int64_t> next = schedule.Next(from);
  if (!next) return std::nullopt;
  return std::chrono::milliseconds(std::max<int64_t>(0, *next + kNextScheduleDeltaMs - now));
}

// The Job a CronJob runs at `scheduled` (Kubernetes' getJobFromTemplate2).
Document JobFromTemplate(const Value& cron_job, int64_t scheduled, const TimeZone& annotation_zone) {
  Document job(rapidjson::kObjectType);
  auto& a = job.GetAllocator();
  json::SetStringMember(job, "apiVersion", "batch/v1", a);
  json::SetStringMember(job, "kind", "Job", a);
  const Value* spec = Spec(cron_job);
  const Value* tmpl = spec ? json::Member(*spec, "jobTemplate") : nullptr;
  const Value* tmd = tmpl ? json::Member(*tmpl, "metadata") : nullptr;
  Value md(rapidjson::kObjectType);
  // Deterministic per scheduled time, so a retry cannot start it twice.
  json::SetStringMember(md, "name", std::string(NameOf(cron_job)) + "-" + std::to_string(scheduled / 60000), a);
  json::SetStringMember(md, "namespace", NamespaceOf(cron_job), a);
  if (const Value* labels = tmd ? json::Member(*tmd, "labels") : nullptr; labels && labels->IsObject()) {
    json::SetMember(md, "labels", Value(*labels, a), a);
  }
  Value annotations(rapidjson::kObjectType);
  if (const Value* from = tmd ? json::Member(*tmd, "annotations") : nullptr; from && from->IsObject()) {
    annotations.CopyFrom(*from, a);
  }
  json::SetStringMember(annotations, kCronJobScheduledTimestampAnnotation, cron::FormatRfc3339InZone(scheduled, annotation_zone), a);
  json::SetMember(md, "annotations", std::move(annotations), a);
  Value refs(rapidjson::kArrayType);
  refs.PushBack(NewControllerRef(cron_job, kApiVersion, kKind, a), a);
  json::SetMember(md, "ownerReferences", std::move(refs), a);
  json::SetMember(job, "metadata", std::move(md), a);
  const Value* job_spec = tmpl ? json::Member(*tmpl, "spec") : nullptr;
  json::SetMember(job, "spec", job_spec ? Value(*job_spec, a) : Value(rapidjson::kObjectType), a);
  return job;
}

}  // namespace

struct CronJobController::SyncState {
  Document cron_job;  // a copy; status edits are made here
  bool update_status = false;
  int64_t now = 0;
};

void CronJobController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  cron_jobs_ = &informers.For(client::kCronJobs);
  jobs_ = &informers.For(client::kJobs);
  cron_job_client_.emplace(informers.ClientFor(client::kCronJobs));
  job_client_.emplace(informers.ClientFor(client::kJobs));
  cron_jobs_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& cj) { queue_->Add(client::ObjectKey(*cj)); },
      // A changed schedule is looked at now; the sync computes the next time.
      .on_update = [this](const client::ObjectPtr&, const client::ObjectPtr& cj) { queue_->Add(client::ObjectKey(*cj)); },
      .on_delete = nullptr,
  });
  jobs_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& job) { EnqueueOwner(*job); },
      .on_update =
          [this](const client::ObjectPtr& old_job, const client::ObjectPtr& job) {
            std::optional<OwnerReference> old_ref = ControllerOf(*old_job);
            std::optional<OwnerReference> ref = ControllerOf(*job);
            if (old_ref && (!ref || old_ref->uid != ref->uid)) EnqueueOwner(*old_job);
            EnqueueOwner(*job);
          },
      .on_delete = [this](const client::ObjectPtr& job) { EnqueueOwner(*job); },
  });
}

client::ObjectPtr CronJobController::ResolveRef(std::string_view ns, const OwnerReference& ref) const {
  if (ref.kind != kKind) return nullptr;
  client::ObjectPtr cj = cron_jobs_->Get(ns, ref.name);
  if (!cj || UidOf(*cj) != ref.uid) return nullptr;
  return cj;
}

void CronJobController::EnqueueOwner(const Value& job) {
  std::optional<OwnerReference> ref = ControllerOf(job);
  if (!ref) return;
  if (client::ObjectPtr cj = ResolveRef(NamespaceOf(job), *ref)) queue_->Add(client::ObjectKey(*cj));
}

std::vector<client::ObjectPtr> CronJobController::JobsOf(const Value& cron_job) const {
  std::vector<client::ObjectPtr> out;
  for (const client::ObjectPtr& job : jobs_->List(NamespaceOf(cron_job))) {
    std::optional<OwnerReference> ref = ControllerOf(*job);
    if (ref && ref->uid == UidOf(cron_job)) out.push_back(job);
  }
  return out;
}

void CronJobController::RecordEvent(const Value& cron_job, std::string_view type, std::string_view reason,
                                    const std::string& message) {
  options_.recorder.Event(cron_job, type == "Warning" ? client::EventType::kWarning : client::EventType::kNormal,
                          reason, message);
}

bool CronJobController::DeleteJob(SyncState& state, const Value& job) {
  Status s = job_client_->Delete(NamespaceOf(job), NameOf(job), R"({"propagationPolicy":"Background"})");
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    RecordEvent(state.cron_job, "Warning", "FailedDelete", "Deleted job: " + s.message());
    return false;
  }
  DeleteFromActiveList(state.cron_job, UidOf(job));
  RecordEvent(state.cron_job, "Normal", "SuccessfulDelete", "Deleted job " + std::string(NameOf(job)));
  return true;
}

bool CronJobController::CleanupFinishedJobs(SyncState& state, const std::vector<client::ObjectPtr>& jobs) {
  std::vector<client::ObjectPtr> succeeded, failed;
  for (const client::ObjectPtr& job : jobs) {
    std::string_view type = FinishedType(*job);
    if (type == "Complete") succeeded.push_back(job);
    if (type == "Failed") failed.push_back(job);
  }
  // Oldest start first; never-started ones last; names break ties.
  auto by_start = [](const client::ObjectPtr& x, const client::ObjectPtr& y) {
    std::optional<int64_t> a = StatusTime(*x, "startTime");
    std::optional<int64_t> b = StatusTime(*y, "startTime");
    if (!b) return a.has_value() || NameOf(*x) < NameOf(*y);
    if (!a) return false;
    if (*a == *b) return NameOf(*x) < NameOf(*y);
    return *a < *b;
  };
  bool changed = false;
  auto remove_oldest = [&](std::vector<client::ObjectPtr>& list, int64_t limit) {
    int64_t surplus = static_cast<int64_t>(list.size()) - std::max<int64_t>(limit, 0);
    if (surplus <= 0) return;
    std::sort(list.begin(), list.end(), by_start);
    for (int64_t i = 0; i < surplus; ++i) {
      if (DeleteJob(state, *list[i])) changed = true;
    }
  };
  remove_oldest(succeeded, SpecInt(state.cron_job, "successfulJobsHistoryLimit").value_or(3));
  remove_oldest(failed, SpecInt(state.cron_job, "failedJobsHistoryLimit").value_or(1));
  return changed;
}

std::optional<std::chrono::milliseconds> CronJobController::SyncCronJob(SyncState& state,
                                                                         const std::vector<client::ObjectPtr>& jobs,
                                                                         Status* error) {
  const int64_t now = state.now;
  std::set<std::string> children;
  for (const client::ObjectPtr& job : jobs) {
    std::string uid(UidOf(*job));
    children.insert(uid);
    bool found = InActiveList(state.cron_job, uid);
    std::string_view finished = FinishedType(*job);
    if (!found && finished.empty()) {
      // Our cached CronJob may predate the status that lists it.
      Result<Document> fresh = cron_job_client_->Get(NamespaceOf(state.cron_job), NameOf(state.cron_job));
      if (!fresh.ok()) {
        *error = fresh.status();
        return std::nullopt;
      }
      if (InActiveList(*fresh, uid)) {
        state.cron_job.CopyFrom(*fresh, state.cron_job.GetAllocator());
        continue;
      }
      RecordEvent(state.cron_job, "Warning", "UnexpectedJob",
                  "Saw a job that the controller did not create or forgot: " + std::string(NameOf(*job)));
    } else if (found && !finished.empty()) {
      DeleteFromActiveList(state.cron_job, uid);
      RecordEvent(state.cron_job, "Normal", "SawCompletedJob",
                  "Saw completed job: " + std::string(NameOf(*job)) + ", status: " + std::string(finished));
      state.update_status = true;
    }
    if (finished == "Complete") {
      // Finished Jobs need not be active for their completion time to count.
      std::optional<int64_t> completed = StatusTime(*job, "completionTime");
      std::optional<int64_t> last = StatusTime(state.cron_job, "lastSuccessfulTime");
      if (completed && (!last || *completed > *last)) {
        SetStatusTime(state.cron_job, "lastSuccessfulTime", *completed);
        state.update_status = true;
      }
    }
  }

  // Active Jobs that are gone (checked live: the Job cache may lag behind).
  std::vector<std::pair<std::string, std::string>> missing;
  if (const Value* active = ActiveListOf(state.cron_job)) {
    for (const Value& ref : active->GetArray()) {
      std::string uid(json::StringMember(ref, "uid"));
      if (children.count(uid)) continue;
      missing.emplace_back(uid, std::string(json::StringMember(ref, "name")));
    }
  }
  for (const auto& [uid, name] : missing) {
    Result<Document> job = job_client_->Get(NamespaceOf(state.cron_job), name);
    if (job.ok()) continue;
    if (job.status().code() != StatusCode::kNotFound) {
      *error = job.status();
      return std::nullopt;
    }
    RecordEvent(state.cron_job, "Normal", "MissingJob", "Active job went missing: " + name);
    DeleteFromActiveList(state.cron_job, uid);
    state.update_status = true;
  }

  if (IsBeingDeleted(state.cron_job)) return std::nullopt;  // only status while being deleted

  std::optional<std::string> time_zone = TimeZoneOf(state.cron_job);
  std::shared_ptr<const TimeZone> annotation_zone = TimeZone::Utc();
  if (time_zone) {
    Result<std::shared_ptr<const TimeZone>> zone = TimeZone::Load(*time_zone);
    if (!zone.ok()) {
      RecordEvent(state.cron_job, "Warning", "UnknownTimeZone",
                  "invalid timeZone: \"" + *time_zone + "\": " + zone.status().message());
      return std::nullopt;
    }
    annotation_zone = *zone;
  }
  if (SpecBool(state.cron_job, "suspend")) return std::nullopt;

  const Value* spec = Spec(state.cron_job);
  std::string schedule_text(spec ? json::StringMember(*spec, "schedule") : "");
  std::optional<std::string_view> zone_override;
  if (schedule_text.find("TZ") != std::string::npos) {
    RecordEvent(state.cron_job, "Warning", "UnsupportedSchedule",
                "CRON_TZ or TZ used in schedule \"" + schedule_text +
                    "\" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details");
  } else if (time_zone) {
    zone_override = *time_zone;
  }
  Result<CronSchedule> schedule = CronSchedule::Parse(schedule_text, zone_override);
  if (!schedule.ok()) {
    // A user error: nothing to do until the spec changes.
    RecordEvent(state.cron_job, "Warning", "UnparseableSchedule",
                "unparseable schedule: \"" + schedule_text + "\" : " + schedule.status().message());
    return std::nullopt;
  }

  RecentSchedule recent = MostRecentScheduleTime(state.cron_job, now, *schedule, true);
  if (recent.invalid) {
    RecordEvent(state.cron_job, "Warning", "InvalidSchedule",
                "invalid schedule: " + schedule_text + " : time difference between two schedules is less than 1 second");
    return std::nullopt;
  }
  if (!recent.most_recent || *recent.most_recent > now) {
    // Nothing unmet: look again at the next time.
    return NextScheduleDelay(state.cron_job, now, *schedule);
  }
  if (recent.missed == Missed::kMany) {
    RecordEvent(state.cron_job, "Warning", "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
  }
  int64_t scheduled = *recent.most_recent;

  std::optional<int64_t> deadline = SpecInt(state.cron_job, "startingDeadlineSeconds");
  if (deadline && scheduled + *deadline * 1000 < now) {
    RecordEvent(state.cron_job, "Warning", "MissSchedule",
                "Missed scheduled time to start a job: " + cron::FormatRfc1123Z(scheduled));
    return NextScheduleDelay(state.cron_job, now, *schedule);
  }
  std::string job_name = std::string(NameOf(state.cron_job)) + "-" + std::to_string(scheduled / 60000);
  if (InActiveListByName(state.cron_job, job_name) || StatusTime(state.cron_job, "lastScheduleTime") == scheduled) {
    return NextScheduleDelay(state.cron_job, now, *schedule);  // already done
  }
  std::string_view policy = spec ? json::StringMember(*spec, "concurrencyPolicy") : "";
  if (policy == "Forbid" && ActiveCount(state.cron_job) > 0) {
    RecordEvent(state.cron_job, "Normal", "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid");
    return NextScheduleDelay(state.cron_job, now, *schedule);
  }
  if (policy == "Replace") {
    std::vector<std::string> names;
    if (const Value* active = ActiveListOf(state.cron_job)) {
      for (const Value& ref : active->GetArray()) names.emplace_back(json::StringMember(ref, "name"));
    }
    for (const std::string& name : names) {
      Result<Document> job = job_client_->Get(NamespaceOf(state.cron_job), name);
      if (!job.ok()) {
        RecordEvent(state.cron_job, "Warning", "FailedGet", "Get job: " + job.status().message());
        *error = job.status();
        return std::nullopt;
      }
      if (!DeleteJob(state, *job)) {
        *error = Status(StatusCode::kUnavailable, "could not replace job " + std::string(NamespaceOf(*job)) + "/" + name);
        return std::nullopt;
      }
      state.update_status = true;
    }
  }

  Document request = JobFromTemplate(state.cron_job, scheduled, *annotation_zone);
  Result<Document> created = job_client_->Create(NamespaceOf(state.cron_job), request);
  Document job;
  if (created.ok()) {
    job = std::move(created).value();
    RecordEvent(state.cron_job, "Normal", "SuccessfulCreate", "Created job " + job_name);
  } else if (created.status().code() == StatusCode::kAlreadyExists) {
    // Created by an earlier sync whose status update was lost, or by someone else.
    Result<Document> existing = job_client_->Get(NamespaceOf(state.cron_job), job_name);
    if (!existing.ok()) {
      *error = existing.status();
      return std::nullopt;
    }
    std::optional<OwnerReference> ref = ControllerOf(*existing);
    if (!ref || ref->uid != UidOf(state.cron_job)) return std::nullopt;
    if (InActiveList(state.cron_job, UidOf(*existing))) return std::nullopt;
    job = std::move(existing).value();
  } else {
    if (created.status().message().find("because it is being terminated") == std::string::npos) {
      RecordEvent(state.cron_job, "Warning", "FailedCreate", "Error creating job: " + created.status().message());
    }
    *error = created.status();
    return std::nullopt;
  }
  ActiveList(state.cron_job).PushBack(JobRef(job, state.cron_job.GetAllocator()), state.cron_job.GetAllocator());
  SetStatusTime(state.cron_job, "lastScheduleTime", scheduled);
  state.update_status = true;
  return NextScheduleDelay(state.cron_job, now, *schedule);
}

Status CronJobController::Reconcile(const std::string& key) {
  client::ObjectPtr cached = cron_jobs_->Get(key);
  if (!cached) return Status();
  std::vector<client::ObjectPtr> jobs = JobsOf(*cached);
  SyncState state;
  state.now = options_.clock->NowMillis();
  state.cron_job.CopyFrom(*cached, state.cron_job.GetAllocator());
  bool cleaned = CleanupFinishedJobs(state, jobs);
  Status sync_error;
  std::optional<std::chrono::milliseconds> requeue = SyncCronJob(state, jobs, &sync_error);
  if (cleaned || state.update_status) {
    Result<Document> written = cron_job_client_->UpdateStatus(state.cron_job);
    if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  }
  if (options_.max_requeue.count() > 0) requeue = std::min(requeue.value_or(options_.max_requeue), options_.max_requeue);
  if (requeue) {
    queue_->AddAfter(key, *requeue);
    return Status();
  }
  return sync_error;
}

}  // namespace kite::controllers
