#include "src/server/controllers/job_controller.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <limits>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/indexed_job.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/controllers/pod_failure_policy.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Document;
using rapidjson::Value;

namespace {

constexpr std::string_view kApiVersion = "batch/v1";
constexpr std::string_view kKind = "Job";
constexpr std::string_view kOrphanPodPrefix = "pod:";
// spec.managedBy naming this controller (Kubernetes' batch.JobControllerName).
constexpr std::string_view kJobControllerName = "kubernetes.io/job-controller";

const std::string kRemoveFinalizerPatch =
    std::string(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":[")") + kJobTrackingFinalizer + R"("]}})";
const std::string kAddFinalizerPatch =
    std::string(R"({"metadata":{"finalizers":[")") + kJobTrackingFinalizer + R"("]}})";

struct JobCondition {
  std::string type, status, reason, message, last_probe_time, last_transition_time;
};

JobCondition NewCondition(std::string type, std::string status, std::string reason, std::string message,
                          int64_t now_ms) {
  std::string now = FormatRfc3339Seconds(now_ms);
  return {std::move(type), std::move(status), std::move(reason), std::move(message), now, now};
}

// The fields of spec the controller reads, with Kubernetes' defaults for absent ones.
struct JobSpec {
  std::optional<int64_t> completions;
  int64_t parallelism = 1;
  int64_t backoff_limit = 6;
  // Indexed Jobs only: spec.backoffLimitPerIndex and spec.maxFailedIndexes.
  std::optional<int64_t> backoff_limit_per_index;
  std::optional<int64_t> max_failed_indexes;
  std::optional<int64_t> active_deadline_seconds;
  std::optional<int64_t> ttl_seconds_after_finished;
  bool suspend = false;
  // podReplacementPolicy Failed (or a podFailurePolicy): terminating pods are not replaced
  // and do not count as failed until they are.
  bool only_replace_failed = false;
  std::string restart_policy;
  std::string completion_mode;
  bool indexed = false;  // completionMode Indexed
  // spec.podFailurePolicy (a copy: the spec outlives writes that replace the Job document).
  std::shared_ptr<const Document> pod_failure_policy;
  std::shared_ptr<const Document> success_policy;  // spec.successPolicy (Indexed only)
};

std::optional<int64_t> IntField(const Value* object, std::string_view field) {
  const Value* v = object ? json::Member(*object, field) : nullptr;
  if (!v || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

JobSpec ParseSpec(const Value& job) {
  JobSpec s;
  const Value* spec = json::Member(job, "spec");
  s.completions = IntField(spec, "completions");
  std::optional<int64_t> parallelism = IntField(spec, "parallelism");
  if (!s.completions && !parallelism) s.completions = 1;  // SetDefaults_Job
  s.parallelism = std::max<int64_t>(0, parallelism.value_or(1));
  std::optional<int64_t> per_index = IntField(spec, "backoffLimitPerIndex");
  // SetDefaults_Job: with a limit per index, the global one is out of the way.
  s.backoff_limit = IntField(spec, "backoffLimit").value_or(per_index ? std::numeric_limits<int32_t>::max() : 6);
  s.active_deadline_seconds = IntField(spec, "activeDeadlineSeconds");
  s.ttl_seconds_after_finished = IntField(spec, "ttlSecondsAfterFinished");
  const Value* suspend = spec ? json::Member(*spec, "suspend") : nullptr;
  s.suspend = suspend && suspend->IsBool() && suspend->GetBool();
  s.only_replace_failed = (spec && json::StringMember(*spec, "podReplacementPolicy") == "Failed") ||
                          (spec && json::Member(*spec, "podFailurePolicy") &&
                           !json::Member(*spec, "podFailurePolicy")->IsNull());
  const Value* tmpl = spec ? json::Member(*spec, "template") : nullptr;
  const Value* pod_spec = tmpl ? json::Member(*tmpl, "spec") : nullptr;
  s.restart_policy = pod_spec ? std::string(json::StringMember(*pod_spec, "restartPolicy")) : "";
  s.completion_mode = spec ? std::string(json::StringMember(*spec, "completionMode")) : "";
  s.indexed = s.completion_mode == "Indexed";
  if (s.indexed && s.completions) {
    s.backoff_limit_per_index = per_index;
    s.max_failed_indexes = IntField(spec, "maxFailedIndexes");
  }
  if (const Value* policy = spec ? json::Member(*spec, "podFailurePolicy") : nullptr; policy && policy->IsObject()) {
    auto copy = std::make_shared<Document>();
    copy->CopyFrom(*policy, copy->GetAllocator());
    s.pod_failure_policy = std::move(copy);
  }
  if (const Value* policy = spec ? json::Member(*spec, "successPolicy") : nullptr; policy && policy->IsObject()) {
    auto copy = std::make_shared<Document>();
    copy->CopyFrom(*policy, copy->GetAllocator());
    s.success_policy = std::move(copy);
  }
  return s;
}

// Whether spec.managedBy hands the Job to another controller (Kubernetes'
// managedByExternalController): set to anything but kJobControllerName.
bool ManagedExternally(const Value& job) {
  const Value* spec = json::Member(job, "spec");
  const Value* managed_by = spec ? json::Member(*spec, "managedBy") : nullptr;
  return managed_by && managed_by->IsString() &&
         std::string_view(managed_by->GetString(), managed_by->GetStringLength()) != kJobControllerName;
}

// The status fields the controller owns.
struct JobStatus {
  int64_t active = 0, succeeded = 0, failed = 0;
  std::string completed_indexes;  // Indexed Jobs only
  // Indexed Jobs: set ("" when none) with backoffLimitPerIndex, absent without.
  std::optional<std::string> failed_indexes;
  std::optional<int64_t> ready, terminating;
  std::optional<std::string> start_time, completion_time;
  std::vector<JobCondition> conditions;
  std::vector<std::string> uncounted_succeeded, uncounted_failed;
};

std::vector<std::string> StringList(const Value* list) {
  std::vector<std::string> out;
  if (!list || !list->IsArray()) return out;
  for (const Value& v : list->GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

JobStatus ParseStatus(const Value& job) {
  JobStatus s;
  const Value* status = json::Member(job, "status");
  if (!status || !status->IsObject()) return s;
  s.active = IntField(status, "active").value_or(0);
  s.succeeded = IntField(status, "succeeded").value_or(0);
  s.failed = IntField(status, "failed").value_or(0);
  s.ready = IntField(status, "ready");
  s.terminating = IntField(status, "terminating");
  s.completed_indexes = std::string(json::StringMember(*status, "completedIndexes"));
  if (const Value* f = json::Member(*status, "failedIndexes"); f && f->IsString()) {
    s.failed_indexes = std::string(f->GetString(), f->GetStringLength());
  }
  if (std::string_view t = json::StringMember(*status, "startTime"); !t.empty()) s.start_time = std::string(t);
  if (std::string_view t = json::StringMember(*status, "completionTime"); !t.empty()) s.completion_time = std::string(t);
  if (const Value* conditions = json::Member(*status, "conditions"); conditions && conditions->IsArray()) {
    for (const Value& c : conditions->GetArray()) {
      if (!c.IsObject()) continue;
      s.conditions.push_back({std::string(json::StringMember(c, "type")), std::string(json::StringMember(c, "status")),
                              std::string(json::StringMember(c, "reason")),
                              std::string(json::StringMember(c, "message")),
                              std::string(json::StringMember(c, "lastProbeTime")),
                              std::string(json::StringMember(c, "lastTransitionTime"))});
    }
  }
  if (const Value* u = json::Member(*status, "uncountedTerminatedPods")) {
    s.uncounted_succeeded = StringList(json::Member(*u, "succeeded"));
    s.uncounted_failed = StringList(json::Member(*u, "failed"));
  }
  return s;
}

// Writes `s` into the status object `out` (Go's omitempty for the counters).
void ApplyStatus(const JobStatus& s, Value& out, Document::AllocatorType& a) {
  if (!out.IsObject()) out.SetObject();
  auto counter = [&](std::string_view field, int64_t n) {
    if (n != 0) {
      json::SetMember(out, field, Value(n), a);
    } else {
      json::RemoveMember(out, field);
    }
  };
  auto optional_int = [&](std::string_view field, const std::optional<int64_t>& n) {
    if (n) {
      json::SetMember(out, field, Value(*n), a);
    } else {
      json::RemoveMember(out, field);
    }
  };
  auto optional_string = [&](std::string_view field, const std::optional<std::string>& v) {
    if (v) {
      json::SetStringMember(out, field, *v, a);
    } else {
      json::RemoveMember(out, field);
    }
  };
  counter("active", s.active);
  counter("succeeded", s.succeeded);
  counter("failed", s.failed);
  optional_int("ready", s.ready);
  optional_int("terminating", s.terminating);
  optional_string("startTime", s.start_time);
  optional_string("completionTime", s.completion_time);
  optional_string("completedIndexes",
                  s.completed_indexes.empty() ? std::nullopt : std::optional<std::string>(s.completed_indexes));
  optional_string("failedIndexes", s.failed_indexes);
  if (s.conditions.empty()) {
    json::RemoveMember(out, "conditions");
  } else {
    Value list(rapidjson::kArrayType);
    for (const JobCondition& c : s.conditions) {
      Value v(rapidjson::kObjectType);
      json::SetStringMember(v, "type", c.type, a);
      json::SetStringMember(v, "status", c.status, a);
      if (!c.last_probe_time.empty()) json::SetStringMember(v, "lastProbeTime", c.last_probe_time, a);
      if (!c.last_transition_time.empty()) json::SetStringMember(v, "lastTransitionTime", c.last_transition_time, a);
      if (!c.reason.empty()) json::SetStringMember(v, "reason", c.reason, a);
      if (!c.message.empty()) json::SetStringMember(v, "message", c.message, a);
      list.PushBack(std::move(v), a);
    }
    json::SetMember(out, "conditions", std::move(list), a);
  }
  Value uncounted(rapidjson::kObjectType);
  auto uids = [&](std::string_view field, const std::vector<std::string>& list) {
    if (list.empty()) return;
    Value arr(rapidjson::kArrayType);
    for (const std::string& uid : list) arr.PushBack(Value(uid.c_str(), static_cast<rapidjson::SizeType>(uid.size()), a), a);
    json::SetMember(uncounted, field, std::move(arr), a);
  };
  uids("succeeded", s.uncounted_succeeded);
  uids("failed", s.uncounted_failed);
  json::SetMember(out, "uncountedTerminatedPods", std::move(uncounted), a);
}

JobCondition* FindCondition(std::vector<JobCondition>& list, std::string_view type) {
  for (JobCondition& c : list) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

// Kubernetes' ensureJobConditionStatus: sets (or adds, unless it would add a False one) the
// condition of `type`; true when the list changed.
bool EnsureCondition(std::vector<JobCondition>& list, const std::string& type, const std::string& status,
                     const std::string& reason, const std::string& message, int64_t now_ms) {
  if (JobCondition* c = FindCondition(list, type)) {
    if (c->status != status || c->reason != reason || c->message != message) {
      *c = NewCondition(type, status, reason, message, now_ms);
      return true;
    }
    return false;
  }
  if (status == "False") return false;
  list.push_back(NewCondition(type, status, reason, message, now_ms));
  return true;
}

// The Complete or Failed condition with status True, if the Job has finished.
std::optional<JobCondition> FinishedCondition(const Value& job) {
  JobStatus status = ParseStatus(job);
  for (JobCondition& c : status.conditions) {
    if ((c.type == "Complete" || c.type == "Failed") && c.status == "True") return c;
  }
  return std::nullopt;
}

bool IsJobFinished(const Value& job) { return FinishedCondition(job).has_value(); }

std::string_view PhaseOf(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  return status ? json::StringMember(*status, "phase") : std::string_view();
}

bool IsTerminal(const Value& pod) {
  std::string_view phase = PhaseOf(pod);
  return phase == "Succeeded" || phase == "Failed";
}

bool IsTerminating(const Value& pod) { return IsBeingDeleted(pod) && !IsTerminal(pod); }

bool IsPodFailed(const Value& pod, const JobSpec& spec) {
  if (PhaseOf(pod) == "Failed") return true;
  if (spec.only_replace_failed) return false;
  // A deleted pod may never reach Failed (orphaned, or its node is gone): it counts as one.
  return IsBeingDeleted(pod) && PhaseOf(pod) != "Succeeded";
}

// Whether a failed pod counts toward status.failed (and so backoffLimit): not when a
// podFailurePolicy rule Ignores it, nor, for an Indexed Job, without a valid index.
bool CountsAsFailure(const Value& pod, const JobSpec& spec) {
  if (spec.indexed) {
    int64_t ix = CompletionIndexOf(pod);
    if (ix < 0 || !spec.completions || ix >= *spec.completions) return false;
  }
  return MatchPodFailurePolicy(spec.pod_failure_policy.get(), pod).count_failed;
}

// The message of the first failed pod that a podFailurePolicy FailJob rule matches.
std::optional<std::string> FailJobMessage(const JobSpec& spec, const std::vector<client::ObjectPtr>& pods) {
  if (!spec.pod_failure_policy) return std::nullopt;
  for (const client::ObjectPtr& pod : pods) {
    if (!IsPodFailed(*pod, spec)) continue;
    PodFailurePolicyMatch m = MatchPodFailurePolicy(spec.pod_failure_policy.get(), *pod);
    if (m.fail_job_message) return m.fail_job_message;
  }
  return std::nullopt;
}

int64_t MetaTimeMillis(const Value& object, std::string_view field) {
  const Value* md = json::Member(object, "metadata");
  std::optional<int64_t> t = md ? ParseTimeMillis(json::StringMember(*md, field)) : std::nullopt;
  return t.value_or(0);
}

// When a pod finished (Kubernetes' getFinishedTime): its containers' latest finishedAt,
// else its Ready=False transition, else its deletion time less the grace period, else its
// creation time.
int64_t FinishedTimeMillis(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  const Value* containers = status ? json::Member(*status, "containerStatuses") : nullptr;
  if (containers && containers->IsArray() && !containers->Empty()) {
    std::optional<int64_t> latest;
    bool all = true;
    for (const Value& c : containers->GetArray()) {
      const Value* state = json::Member(c, "state");
      const Value* terminated = state ? json::Member(*state, "terminated") : nullptr;
      std::optional<int64_t> at = terminated ? ParseTimeMillis(json::StringMember(*terminated, "finishedAt")) : std::nullopt;
      if (!at) {
        all = false;
        break;
      }
      latest = std::max(latest.value_or(*at), *at);
    }
    if (all && latest) return *latest;
  }
  if (const Value* conditions = status ? json::Member(*status, "conditions") : nullptr; conditions && conditions->IsArray()) {
    for (const Value& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == "Ready" && json::StringMember(c, "status") == "False") {
        if (std::optional<int64_t> t = ParseTimeMillis(json::StringMember(c, "lastTransitionTime"))) return *t;
      }
    }
  }
  if (IsBeingDeleted(pod)) {
    const Value* md = json::Member(pod, "metadata");
    std::optional<int64_t> grace = IntField(md, "deletionGracePeriodSeconds");
    return MetaTimeMillis(pod, "deletionTimestamp") - grace.value_or(0) * 1000;
  }
  return MetaTimeMillis(pod, "creationTimestamp");
}

// restartPolicy OnFailure: container restarts of running and pending pods count against
// backoffLimit (Kubernetes' pastBackoffLimitOnFailure).
bool PastBackoffLimitOnFailure(const JobSpec& spec, const std::vector<client::ObjectPtr>& pods) {
  if (spec.restart_policy != "OnFailure") return false;
  int64_t restarts = 0;
  for (const client::ObjectPtr& pod : pods) {
    std::string_view phase = PhaseOf(*pod);
    if (phase != "Running" && phase != "Pending") continue;
    const Value* status = json::Member(*pod, "status");
    for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
      const Value* list = status ? json::Member(*status, field) : nullptr;
      if (!list || !list->IsArray()) continue;
      for (const Value& c : list->GetArray()) restarts += IntField(&c, "restartCount").value_or(0);
    }
  }
  if (spec.backoff_limit == 0) return restarts > 0;
  return restarts >= spec.backoff_limit;
}

bool NamespaceTerminating(const Status& s) {
  return s.message().find("because it is being terminated") != std::string::npos;
}

// metadata.resourceVersion as a store revision; nullopt when absent or not a number.
std::optional<uint64_t> RevisionOf(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  std::string_view rv = md ? json::StringMember(*md, "resourceVersion") : std::string_view();
  uint64_t revision = 0;
  auto [end, error] = std::from_chars(rv.data(), rv.data() + rv.size(), revision);
  if (rv.empty() || error != std::errc() || end != rv.data() + rv.size()) return std::nullopt;
  return revision;
}

std::string UidPrecondition(const Value& object) {
  return R"({"preconditions":{"uid":")" + std::string(UidOf(object)) + R"("}})";
}

// The sum of a pod's index failure counts, both kinds (Kubernetes'
// getIndexAbsoluteFailureCount).
int64_t AbsoluteFailureCount(const Value& pod) {
  IndexFailureCounts counts = IndexFailureCountsOf(pod);
  return int64_t{counts.failed} + counts.ignored;
}

// An Event to record once the status that announces it is written.
struct PendingEvent {
  client::EventType type;
  std::string reason;
  std::string message;
};

}  // namespace

struct JobController::SyncContext {
  std::string key;
  Document job;  // the Job as last read or written; its status is rewritten from `status`
  JobSpec spec;
  JobStatus status;
  int64_t now = 0;
  std::vector<client::ObjectPtr> pods;
  std::vector<client::ObjectPtr> active_pods;
  int64_t active = 0, ready = 0, terminating = 0;
  int64_t succeeded = 0, failed = 0;  // including pods not yet in the counters
  std::set<std::string> uncounted_succeeded, uncounted_failed;  // as read
  std::set<std::string> expected_removals;
  // Indexed Jobs: status.completedIndexes as read, and with the indexes of pods that
  // succeeded since (ctx.succeeded is its total).
  IndexIntervals prev_succeeded_indexes, succeeded_indexes;
  // backoffLimitPerIndex: status.failedIndexes with the indexes failed since, and per index
  // that is neither done nor running, its last failed pod, which keeps its tracking
  // finalizer (and so stays uncounted) until its replacement is made from its failure
  // counts (Kubernetes' podsWithDelayedDeletionPerIndex).
  std::optional<IndexIntervals> failed_indexes;
  std::map<int64_t, client::ObjectPtr> last_failed_pod;
  std::optional<JobCondition> finished;
  BackoffRecord new_backoff;
  std::optional<PendingEvent> pending_event;
};

JobController::JobController(Options options) : options_(std::move(options)), expectations_(options_.clock) {}

void JobController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  jobs_ = &informers.For(client::kJobs);
  pods_ = &informers.For(client::kPods);
  job_client_.emplace(informers.ClientFor(client::kJobs));
  pod_client_.emplace(informers.ClientFor(client::kPods));
  jobs_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& job) { queue_->Add(client::ObjectKey(*job)); },
      .on_update =
          [this](const client::ObjectPtr&, const client::ObjectPtr& job) {
            queue_->Add(client::ObjectKey(*job));
            // Finalizers are gone before a Job finishes; this is a backstop.
            if (IsJobFinished(*job)) CleanupPodFinalizers(*job);
          },
      .on_delete =
          [this](const client::ObjectPtr& job) {
            queue_->Add(client::ObjectKey(*job));
            CleanupPodFinalizers(*job);
          },
  });
  pods_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& pod) { OnPodAdd(pod); },
      .on_update = [this](const client::ObjectPtr& old_pod,
                          const client::ObjectPtr& pod) { OnPodUpdate(old_pod, pod); },
      .on_delete = [this](const client::ObjectPtr& pod) { OnPodDelete(pod, true); },
  });
}

// --- event handlers ------------------------------------------------------------------------

client::ObjectPtr JobController::ResolveRef(std::string_view ns, const OwnerReference& ref) const {
  if (ref.kind != kKind || ref.api_version.substr(0, ref.api_version.find('/')) != "batch") return nullptr;
  client::ObjectPtr job = jobs_->Get(ns, ref.name);
  if (!job || UidOf(*job) != ref.uid) return nullptr;
  return job;
}

void JobController::EnqueueMatchingJobs(const Value& pod) {
  for (const client::ObjectPtr& job : jobs_->List(NamespaceOf(pod))) {
    Result<selection::LabelSelector> selector = SpecSelector(*job);
    if (!selector.ok() || selector->Empty() || !selector->MatchesObject(pod)) continue;
    queue_->Add(client::ObjectKey(*job));
  }
}

void JobController::EnqueueOrphanPod(const Value& pod) {
  queue_->Add(std::string(kOrphanPodPrefix) + client::ObjectKey(pod));
}

void JobController::CleanupPodFinalizers(const Value& job) {
  for (const client::ObjectPtr& pod : pods_->List(NamespaceOf(job))) {
    std::optional<OwnerReference> ref = ControllerOf(*pod);
    if (ref && ref->uid == UidOf(job) && HasFinalizer(*pod, kJobTrackingFinalizer)) EnqueueOrphanPod(*pod);
  }
}

void JobController::OnPodAdd(const client::ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) {
    // Seen for the first time already terminating (e.g. after a restart): not a creation.
    OnPodDelete(pod, false);
    return;
  }
  if (std::optional<OwnerReference> ref = ControllerOf(*pod)) {
    if (client::ObjectPtr job = ResolveRef(NamespaceOf(*pod), *ref)) {
      std::string key = client::ObjectKey(*job);
      expectations_.CreationObserved(key);
      queue_->Add(key);
    }
    return;
  }
  if (HasFinalizer(*pod, kJobTrackingFinalizer)) EnqueueOrphanPod(*pod);
  EnqueueMatchingJobs(*pod);
}

void JobController::OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) {
    // Graceful deletion shows as an update first: a replacement may be created now.
    OnPodDelete(pod, false);
    return;
  }
  bool finalizer_removed = !HasFinalizer(*pod, kJobTrackingFinalizer);
  std::string uid(UidOf(*pod));
  std::optional<OwnerReference> old_ref = ControllerOf(*old_pod);
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  bool ref_changed = old_ref.has_value() != ref.has_value() || (old_ref && ref && old_ref->uid != ref->uid);
  std::string_view ns = NamespaceOf(*pod);
  if (ref_changed && old_ref) {
    if (client::ObjectPtr job = ResolveRef(ns, *old_ref)) {
      std::string key = client::ObjectKey(*job);
      if (finalizer_removed) FinalizerRemovalObserved(key, uid);
      queue_->Add(key);
    }
  }
  if (ref) {
    client::ObjectPtr job = ResolveRef(ns, *ref);
    if (!job) return;
    std::string key = client::ObjectKey(*job);
    if (finalizer_removed) FinalizerRemovalObserved(key, uid);
    queue_->Add(key);
    return;
  }
  if (!finalizer_removed) EnqueueOrphanPod(*pod);
  const Value* old_labels = LabelsOf(*old_pod);
  const Value* labels = LabelsOf(*pod);
  bool labels_changed = (old_labels == nullptr) != (labels == nullptr) || (old_labels && labels && *old_labels != *labels);
  if (labels_changed || ref_changed) EnqueueMatchingJobs(*pod);
}

void JobController::OnPodDelete(const client::ObjectPtr& pod, bool final_state) {
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  bool has_finalizer = HasFinalizer(*pod, kJobTrackingFinalizer);
  if (!ref) {
    // This pod may have belonged to a Job and lost its reference to the garbage collector.
    if (has_finalizer) EnqueueOrphanPod(*pod);
    return;
  }
  client::ObjectPtr job = ResolveRef(NamespaceOf(*pod), *ref);
  if (!job || IsJobFinished(*job)) {
    // No sync of a Job will remove this finalizer.
    if (has_finalizer) EnqueueOrphanPod(*pod);
    return;
  }
  std::string key = client::ObjectKey(*job);
  expectations_.DeletionObserved(key, client::ObjectKey(*pod));
  if (final_state || !has_finalizer) FinalizerRemovalObserved(key, std::string(UidOf(*pod)));
  queue_->Add(key);
}

// --- finalizer expectations and back-off records ----------------------------------------

void JobController::ExpectFinalizersRemoved(const std::string& key, const std::vector<std::string>& uids) {
  MutexLock lock(mu_);
  finalizer_removals_[key].insert(uids.begin(), uids.end());
}

void JobController::FinalizerRemovalObserved(const std::string& key, const std::string& uid) {
  MutexLock lock(mu_);
  auto it = finalizer_removals_.find(key);
  if (it == finalizer_removals_.end()) return;
  it->second.erase(uid);
  if (it->second.empty()) finalizer_removals_.erase(it);
}

std::set<std::string> JobController::ExpectedFinalizerRemovals(const std::string& key) const {
  MutexLock lock(mu_);
  auto it = finalizer_removals_.find(key);
  return it == finalizer_removals_.end() ? std::set<std::string>() : it->second;
}

void JobController::StatusWritten(const std::string& key, const Value& job) {
  std::optional<uint64_t> revision = RevisionOf(job);
  MutexLock lock(mu_);
  if (revision) {
    written_revision_[key] = *revision;
  } else {
    written_revision_.erase(key);
  }
}

bool JobController::CachedJobBehindWrites(const std::string& key, const Value& cached) const {
  std::optional<uint64_t> revision = RevisionOf(cached);
  MutexLock lock(mu_);
  auto it = written_revision_.find(key);
  return it != written_revision_.end() && revision && *revision < it->second;
}

JobController::BackoffRecord JobController::NewBackoffRecord(const std::string& key,
                                                             const std::vector<client::ObjectPtr>& succeeded,
                                                             const std::vector<client::ObjectPtr>& failed) const {
  BackoffRecord record;
  {
    MutexLock lock(mu_);
    if (auto it = backoff_.find(key); it != backoff_.end()) record = it->second;
  }
  std::vector<int64_t> failed_times, succeeded_times;
  for (const client::ObjectPtr& p : failed) failed_times.push_back(FinishedTimeMillis(*p));
  for (const client::ObjectPtr& p : succeeded) succeeded_times.push_back(FinishedTimeMillis(*p));
  std::sort(failed_times.begin(), failed_times.end());
  std::sort(succeeded_times.begin(), succeeded_times.end());
  if (succeeded_times.empty()) {
    if (failed_times.empty()) return record;
    record.failures_after_last_success += static_cast<int>(failed_times.size());
    record.last_failure_ms = failed_times.back();
    return record;
  }
  // A success resets the count; only failures after the last success remain.
  record.failures_after_last_success = 0;
  record.last_failure_ms.reset();
  int64_t last_success = succeeded_times.back();
  for (auto it = failed_times.rbegin(); it != failed_times.rend() && *it > last_success; ++it) {
    if (!record.last_failure_ms) record.last_failure_ms = *it;
    ++record.failures_after_last_success;
  }
  return record;
}

int64_t JobController::IndexBackoffMs(const Value& last_failed, int64_t now_ms) const {
  // The back-off grows with every failure of the index (counted or not) before this one;
  // past a few dozen failures it is capped anyway.
  BackoffRecord record;
  record.failures_after_last_success = static_cast<int>(std::min<int64_t>(AbsoluteFailureCount(last_failed) + 1, 64));
  record.last_failure_ms = FinishedTimeMillis(last_failed);
  return RemainingBackoffMs(record, now_ms);
}

int64_t JobController::RemainingBackoffMs(const BackoffRecord& record, int64_t now_ms) const {
  if (record.failures_after_last_success == 0 || !record.last_failure_ms) return 0;
  int64_t backoff = options_.pod_failure_backoff.count();
  int64_t cap = options_.max_pod_failure_backoff.count();
  for (int i = 1; i < record.failures_after_last_success; ++i) {
    backoff *= 2;
    if (backoff >= cap) {
      backoff = cap;
      break;
    }
  }
  int64_t elapsed = now_ms - *record.last_failure_ms;
  return backoff < elapsed ? 0 : backoff - elapsed;
}

// --- sync ---------------------------------------------------------------------------------

Status JobController::Reconcile(const std::string& key) {
  if (key.starts_with(kOrphanPodPrefix)) return SyncOrphanPod(key.substr(kOrphanPodPrefix.size()));
  client::ObjectPtr job = jobs_->Get(key);
  if (!job) {
    expectations_.Delete(key);
    MutexLock lock(mu_);
    finalizer_removals_.erase(key);
    backoff_.erase(key);
    written_revision_.erase(key);
    return Status();
  }
  // A finished Job's TTL applies whoever managed it (upstream the TTL-after-finished
  // controller, which does not look at managedBy, deletes it).
  if (IsJobFinished(*job)) return HandleFinished(key, *job);
  // Another controller runs this Job's pods and writes its status.
  if (ManagedExternally(*job)) return Status();
  // Unknown completion modes are left alone (validation rejects them).
  std::string mode = ParseSpec(*job).completion_mode;
  if (!mode.empty() && mode != "NonIndexed" && mode != "Indexed") return Status();
  return SyncJob(key, *job);
}

Status JobController::SyncOrphanPod(const std::string& pod_key) {
  client::ObjectPtr pod = pods_->Get(pod_key);
  if (!pod || !HasFinalizer(*pod, kJobTrackingFinalizer)) return Status();
  if (std::optional<OwnerReference> ref = ControllerOf(*pod)) {
    // Another controller's pod, or adopted by a running Job: not ours to touch.
    if (ref->kind != kKind || ref->api_version != kApiVersion) return Status();
    client::ObjectPtr job = ResolveRef(NamespaceOf(*pod), *ref);
    // The finalizers of an externally managed Job's pods are that controller's business.
    if (job && (ManagedExternally(*job) || !IsJobFinished(*job))) return Status();
  }
  Result<Document> patched = pod_client_->Patch(NamespaceOf(*pod), NameOf(*pod), client::PatchType::kStrategic,
                                                kRemoveFinalizerPatch);
  if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return patched.status();
  return Status();
}

Status JobController::HandleFinished(const std::string& key, const Value& job) {
  {
    MutexLock lock(mu_);
    backoff_.erase(key);
    written_revision_.erase(key);
  }
  // ttlSecondsAfterFinished (Kubernetes' TTL-after-finished controller).
  std::optional<int64_t> ttl = ParseSpec(job).ttl_seconds_after_finished;
  if (!ttl || IsBeingDeleted(job)) return Status();
  std::optional<JobCondition> finished = FinishedCondition(job);
  std::optional<int64_t> finished_at = finished ? ParseTimeMillis(finished->last_transition_time) : std::nullopt;
  if (!finished_at) return Status();
  int64_t now = options_.clock->NowMillis();
  int64_t expire_at = *finished_at + *ttl * 1000;
  if (now < expire_at) {
    queue_->AddAfter(key, std::chrono::milliseconds(expire_at - now));
    return Status();
  }
  // Check a fresh copy: the TTL may have been changed or the Job replaced meanwhile.
  Result<Document> fresh = job_client_->Get(NamespaceOf(job), NameOf(job));
  if (!fresh.ok()) return fresh.status().code() == StatusCode::kNotFound ? Status() : fresh.status();
  if (UidOf(*fresh) != UidOf(job) || IsBeingDeleted(*fresh)) return Status();
  std::optional<int64_t> fresh_ttl = ParseSpec(*fresh).ttl_seconds_after_finished;
  std::optional<JobCondition> fresh_finished = FinishedCondition(*fresh);
  std::optional<int64_t> fresh_at = fresh_finished ? ParseTimeMillis(fresh_finished->last_transition_time) : std::nullopt;
  if (!fresh_ttl || !fresh_at) return Status();
  if (now < *fresh_at + *fresh_ttl * 1000) {
    queue_->AddAfter(key, std::chrono::milliseconds(*fresh_at + *fresh_ttl * 1000 - now));
    return Status();
  }
  std::string options = R"({"propagationPolicy":"Foreground","preconditions":{"uid":")" + std::string(UidOf(job)) + R"("}})";
  Status deleted = job_client_->Delete(NamespaceOf(job), NameOf(job), options);
  if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  return Status();
}

Result<std::vector<client::ObjectPtr>> JobController::ClaimPods(const Value& job) {
  Result<selection::LabelSelector> selector = SpecSelector(job);
  // A malformed selector is for validation to reject; retrying cannot fix it.
  if (!selector.ok()) return std::vector<client::ObjectPtr>();
  // Every pod of the namespace: also those that no longer match but still name the Job.
  std::vector<client::ObjectPtr> candidates = pods_->List(NamespaceOf(job));
  ControllerRefManager refs(job, std::string(kApiVersion), std::string(kKind), *selector, &*job_client_,
                            &*pod_client_);
  Result<std::vector<client::ObjectPtr>> claimed = refs.Claim(candidates);
  if (!claimed.ok()) return claimed.status();
  // Adopted pods get the tracking finalizer too, as Kubernetes adds it with the reference.
  std::set<std::string> owned_before;
  for (const client::ObjectPtr& p : candidates) {
    std::optional<OwnerReference> ref = ControllerOf(*p);
    if (ref && ref->uid == UidOf(job)) owned_before.insert(std::string(UidOf(*p)));
  }
  for (client::ObjectPtr& p : *claimed) {
    if (owned_before.count(std::string(UidOf(*p))) || HasFinalizer(*p, kJobTrackingFinalizer)) continue;
    Result<Document> patched = pod_client_->Patch(NamespaceOf(*p), NameOf(*p), client::PatchType::kStrategic,
                                                  kAddFinalizerPatch);
    if (!patched.ok()) return patched.status();
    p = std::make_shared<const Document>(std::move(patched).value());
  }
  return claimed;
}

Status JobController::SyncJob(const std::string& key, const Value& cached) {
  // Not before the cache shows this controller's last status write (see StatusWritten).
  if (CachedJobBehindWrites(key, cached)) return Status();
  SyncContext ctx;
  ctx.key = key;
  ctx.now = options_.clock->NowMillis();
  ctx.job.CopyFrom(cached, ctx.job.GetAllocator());
  ctx.spec = ParseSpec(cached);
  ctx.status = ParseStatus(cached);

  // Read before listing pods: a pod observed after these checks is then also in the list
  // (the cache is updated before handlers run). A finalizer removal observed after the
  // list was taken must not drop the pod from expected_removals: it would be counted twice.
  bool satisfied = expectations_.Satisfied(key);
  ctx.expected_removals = ExpectedFinalizerRemovals(key);
  Result<std::vector<client::ObjectPtr>> pods = ClaimPods(cached);
  if (!pods.ok()) return pods.status();
  ctx.pods = std::move(pods).value();
  for (const client::ObjectPtr& pod : ctx.pods) {
    if (IsPodActive(*pod)) {
      ctx.active_pods.push_back(pod);
      if (IsPodReady(*pod)) ++ctx.ready;
    }
    if (IsTerminating(*pod)) ++ctx.terminating;
  }
  ctx.active = static_cast<int64_t>(ctx.active_pods.size());
  ctx.uncounted_succeeded.insert(ctx.status.uncounted_succeeded.begin(), ctx.status.uncounted_succeeded.end());
  ctx.uncounted_failed.insert(ctx.status.uncounted_failed.begin(), ctx.status.uncounted_failed.end());

  // Finished pods not yet in the counters nor in uncountedTerminatedPods.
  std::vector<client::ObjectPtr> new_succeeded, new_failed;
  for (const client::ObjectPtr& pod : ctx.pods) {
    std::string uid(UidOf(*pod));
    if (!HasFinalizer(*pod, kJobTrackingFinalizer) || ctx.expected_removals.count(uid)) continue;
    if (PhaseOf(*pod) == "Succeeded" && !ctx.uncounted_succeeded.count(uid)) new_succeeded.push_back(pod);
    if (IsPodFailed(*pod, ctx.spec) && !ctx.uncounted_failed.count(uid)) new_failed.push_back(pod);
  }
  int64_t new_counted_failed = std::count_if(new_failed.begin(), new_failed.end(), [&](const client::ObjectPtr& p) {
    return CountsAsFailure(*p, ctx.spec);
  });
  ctx.succeeded = ctx.status.succeeded + static_cast<int64_t>(new_succeeded.size() + ctx.uncounted_succeeded.size());
  ctx.failed = ctx.status.failed + new_counted_failed + static_cast<int64_t>(ctx.uncounted_failed.size());
  if (ctx.spec.indexed) {
    // An Indexed Job counts succeeded indexes, not pods: each index once.
    int64_t completions = ctx.spec.completions.value_or(0);
    ctx.prev_succeeded_indexes = IndexIntervals::Parse(ctx.status.completed_indexes, completions);
    std::vector<int64_t> indexes;
    for (const client::ObjectPtr& pod : ctx.pods) {
      int64_t ix = CompletionIndexOf(*pod);
      if (PhaseOf(*pod) == "Succeeded" && ix >= 0 && ix < completions && HasFinalizer(*pod, kJobTrackingFinalizer)) {
        indexes.push_back(ix);
      }
    }
    ctx.succeeded_indexes = ctx.prev_succeeded_indexes.With(std::move(indexes));
    ctx.succeeded = ctx.succeeded_indexes.Total();
  }

  // The Job's first start; a Job created suspended starts when resumed.
  if (!ctx.status.start_time && !ctx.spec.suspend) ctx.status.start_time = FormatRfc3339Seconds(ctx.now);
  ctx.new_backoff = NewBackoffRecord(key, new_succeeded, new_failed);

  if (JobCondition* c = FindCondition(ctx.status.conditions, "SuccessCriteriaMet"); c && c->status == "True") {
    ctx.finished = *c;
  }
  if (!ctx.finished) {
    if (JobCondition* c = FindCondition(ctx.status.conditions, "FailureTarget"); c && c->status == "True") {
      ctx.finished = NewCondition("Failed", "True", c->reason, c->message, ctx.now);
    } else if (std::optional<std::string> message = FailJobMessage(ctx.spec, ctx.pods)) {
      // Written as the interim FailureTarget before any finalizer goes, like the others.
      ctx.finished = NewCondition("FailureTarget", "True", "PodFailurePolicy", *message, ctx.now);
    }
  }
  std::optional<int64_t> started = ctx.status.start_time ? ParseTimeMillis(*ctx.status.start_time) : std::nullopt;
  if (!ctx.finished) {
    if (ctx.failed > ctx.spec.backoff_limit || PastBackoffLimitOnFailure(ctx.spec, ctx.pods)) {
      ctx.finished = NewCondition("FailureTarget", "True", "BackoffLimitExceeded",
                                  "Job has reached the specified backoff limit", ctx.now);
    } else if (ctx.spec.active_deadline_seconds && started && !ctx.spec.suspend &&
               ctx.now - *started >= *ctx.spec.active_deadline_seconds * 1000) {
      ctx.finished = NewCondition("FailureTarget", "True", "DeadlineExceeded",
                                  "Job was active longer than specified deadline", ctx.now);
    } else if (ctx.spec.active_deadline_seconds && started && !ctx.spec.suspend) {
      int64_t left = *ctx.spec.active_deadline_seconds * 1000 - (ctx.now - *started);
      queue_->AddAfter(key, std::chrono::milliseconds(std::max<int64_t>(left, 0)));
    }
  }
  if (ctx.spec.backoff_limit_per_index) {
    // Indexes that failed for good, counted once each like the succeeded ones.
    int64_t completions = *ctx.spec.completions;
    std::vector<int64_t> failed;
    for (const client::ObjectPtr& pod : ctx.pods) {
      int64_t ix = CompletionIndexOf(*pod);
      if (ix < 0 || ix >= completions || !HasFinalizer(*pod, kJobTrackingFinalizer)) continue;
      if (IsPodFailed(*pod, ctx.spec) &&
          FailsIndex(ctx.spec.pod_failure_policy.get(), *pod, *ctx.spec.backoff_limit_per_index)) {
        failed.push_back(ix);
      }
    }
    ctx.failed_indexes =
        IndexIntervals::Parse(ctx.status.failed_indexes.value_or(""), completions).With(std::move(failed));
    int64_t failed_total = ctx.failed_indexes->Total();
    if (!ctx.finished) {
      if (ctx.spec.max_failed_indexes && failed_total > *ctx.spec.max_failed_indexes) {
        ctx.finished = NewCondition("FailureTarget", "True", "MaxFailedIndexesExceeded",
                                    "Job has exceeded the specified maximal number of failed indexes", ctx.now);
      } else if (failed_total > 0 && failed_total + ctx.succeeded_indexes.Total() >= completions) {
        // Every index is done and some failed: the Job fails (it never completes with a
        // failed index).
        ctx.finished = NewCondition("FailureTarget", "True", "FailedIndexes", "Job has failed indexes", ctx.now);
      }
    }
    // Per index neither done nor running: its last failed pod still uncounted (the one with
    // the highest failure count, the latest to finish among equals).
    std::set<int64_t> active_indexes;
    for (const client::ObjectPtr& pod : ctx.active_pods) active_indexes.insert(CompletionIndexOf(*pod));
    for (const client::ObjectPtr& pod : ctx.pods) {
      int64_t ix = CompletionIndexOf(*pod);
      if (ix < 0 || ix >= completions || !HasFinalizer(*pod, kJobTrackingFinalizer) ||
          ctx.expected_removals.count(std::string(UidOf(*pod))) || !IsPodFailed(*pod, ctx.spec)) {
        continue;
      }
      if (ctx.succeeded_indexes.Has(ix) || ctx.failed_indexes->Has(ix) || active_indexes.count(ix)) continue;
      auto [it, inserted] = ctx.last_failed_pod.emplace(ix, pod);
      if (!inserted && AbsoluteFailureCount(*it->second) <= AbsoluteFailureCount(*pod) &&
          FinishedTimeMillis(*pod) >= FinishedTimeMillis(*it->second)) {
        it->second = pod;
      }
    }
  }
  if (!ctx.finished && ctx.spec.indexed && ctx.spec.completions) {
    // Met: what still runs is stopped, then Complete (see below), with reason SuccessPolicy.
    if (std::optional<std::string> message =
            MatchSuccessPolicy(ctx.spec.success_policy.get(), *ctx.spec.completions, ctx.succeeded_indexes)) {
      ctx.finished = NewCondition("SuccessCriteriaMet", "True", "SuccessPolicy", *message, ctx.now);
    }
  }

  Status manage_error;
  bool suspend_changed = false;
  if (ctx.finished) {
    // The Job failed or succeeded: what still runs is stopped (finalizers stay, so the
    // pods are counted).
    int deleted = 0, deleted_ready = 0;
    manage_error = DeleteJobPods(key, ctx.job, ctx.active_pods, false, &deleted, &deleted_ready);
    // Not finished while pods may be left or the cache has not seen all of them yet.
    if (deleted != ctx.active || !satisfied) ctx.finished.reset();
    ctx.active -= deleted;
    ctx.terminating += deleted;
    ctx.ready -= deleted_ready;
  } else {
    bool managed = false;
    if (satisfied && !IsBeingDeleted(ctx.job)) {
      manage_error = ManageJob(key, ctx);
      managed = true;
    }
    bool complete = ctx.spec.completions ? ctx.succeeded >= *ctx.spec.completions && ctx.active == 0
                                         : ctx.succeeded > 0 && ctx.active == 0;
    if (complete) {
      ctx.finished = NewCondition("SuccessCriteriaMet", "True", "CompletionsReached",
                                  "Reached expected number of succeeded pods", ctx.now);
    } else if (managed) {
      if (ctx.spec.suspend) {
        suspend_changed = EnsureCondition(ctx.status.conditions, "Suspended", "True", "JobSuspended", "Job suspended", ctx.now);
        if (suspend_changed) ctx.pending_event = {client::EventType::kNormal, "Suspended", "Job suspended"};
      } else if (EnsureCondition(ctx.status.conditions, "Suspended", "False", "JobResumed", "Job resumed", ctx.now)) {
        suspend_changed = true;
        ctx.pending_event = {client::EventType::kNormal, "Resumed", "Job resumed"};
        // Resuming restarts the clock of activeDeadlineSeconds.
        ctx.status.start_time = FormatRfc3339Seconds(ctx.now);
      }
    }
  }

  bool needs_update = suspend_changed || ctx.active != ctx.status.active || ctx.status.ready != ctx.ready ||
                      ctx.status.terminating != ctx.terminating;
  ctx.status.active = ctx.active;
  ctx.status.ready = ctx.ready;
  ctx.status.terminating = ctx.terminating;
  KITE_RETURN_IF_ERROR(TrackStatusAndRemoveFinalizers(key, ctx, needs_update));
  return manage_error;
}

Status JobController::ManageJob(const std::string& key, SyncContext& ctx) {
  const Value& job = ctx.job;
  if (ctx.spec.suspend) {
    std::vector<std::string> keys;
    for (const client::ObjectPtr& p : ctx.active_pods) keys.push_back(client::ObjectKey(*p));
    expectations_.ExpectDeletions(key, keys);
    int removed = 0, removed_ready = 0;
    Status s = DeleteJobPods(key, job, ctx.active_pods, true, &removed, &removed_ready);
    ctx.active -= removed;
    ctx.terminating += removed;
    ctx.ready -= removed_ready;
    return s;
  }

  // An Indexed Job needs completions (validation requires it): nothing to run without.
  if (ctx.spec.indexed && !ctx.spec.completions) return Status();
  int64_t want = 0;
  if (!ctx.spec.completions) {
    // Without completions any success ends the Job: leave what runs, start nothing new.
    want = ctx.succeeded > 0 ? ctx.active : ctx.spec.parallelism;
  } else {
    want = std::clamp<int64_t>(*ctx.spec.completions - ctx.succeeded, 0, ctx.spec.parallelism);
  }

  int64_t surplus = std::max<int64_t>(ctx.active - want, 0);
  std::vector<client::ObjectPtr> doomed;
  if (ctx.spec.indexed) {
    // Pods of one index beyond the first, and pods without a valid index, go first.
    doomed = PodsWithDuplicateIndexes(ctx.active_pods, *ctx.spec.completions, ctx.now);
    if (static_cast<int64_t>(doomed.size()) < surplus) {
      std::set<const Value*> chosen;
      for (const client::ObjectPtr& p : doomed) chosen.insert(p.get());
      std::vector<client::ObjectPtr> left;
      for (const client::ObjectPtr& p : ctx.active_pods) {
        if (!chosen.count(p.get())) left.push_back(p);
      }
      std::vector<client::ObjectPtr> more =
          PodsToDelete(left, ctx.active_pods, static_cast<size_t>(surplus) - doomed.size(), ctx.now);
      doomed.insert(doomed.end(), more.begin(), more.end());
    }
  } else if (surplus > 0) {
    doomed = PodsToDelete(ctx.active_pods, ctx.active_pods, static_cast<size_t>(surplus), ctx.now);
  }
  if (doomed.size() > static_cast<size_t>(kMaxPodChangesPerSync)) doomed.resize(kMaxPodChangesPerSync);
  if (!doomed.empty()) {
    // Deletions only this sync; creations (e.g. of an index whose duplicates go) next time.
    std::vector<std::string> keys;
    for (const client::ObjectPtr& p : doomed) keys.push_back(client::ObjectKey(*p));
    expectations_.ExpectDeletions(key, keys);
    int removed = 0, removed_ready = 0;
    Status s = DeleteJobPods(key, job, doomed, true, &removed, &removed_ready);
    ctx.active -= removed;
    ctx.terminating += removed;
    ctx.ready -= removed_ready;
    return s;
  }

  // With podReplacementPolicy Failed, pods still terminating hold their place.
  int64_t terminating = ctx.spec.only_replace_failed ? ctx.terminating : 0;
  int64_t diff = want - terminating - ctx.active;
  if (diff <= 0) return Status();
  // With backoffLimitPerIndex each index has its own back-off (below).
  if (int64_t wait = ctx.spec.backoff_limit_per_index ? 0 : RemainingBackoffMs(ctx.new_backoff, ctx.now); wait > 0) {
    queue_->AddAfter(key, std::chrono::milliseconds(wait));
    return Status();
  }
  const Value* spec = json::Member(job, "spec");
  const Value* tmpl = spec ? json::Member(*spec, "template") : nullptr;
  if (!tmpl || !tmpl->IsObject()) return Status();  // nothing to create from (validation's job)

  int count = static_cast<int>(std::min<int64_t>(diff, kMaxPodChangesPerSync));
  std::vector<int64_t> indexes;
  if (ctx.spec.indexed) {
    // One pod per index: indexes that succeeded, run, or (podReplacementPolicy Failed)
    // still terminate are not started again.
    std::vector<client::ObjectPtr> busy = ctx.active_pods;
    if (ctx.spec.only_replace_failed) {
      for (const client::ObjectPtr& p : ctx.pods) {
        if (IsTerminating(*p)) busy.push_back(p);
      }
    }
    // Failed indexes are not retried either.
    IndexIntervals done = ctx.failed_indexes ? ctx.succeeded_indexes.Union(*ctx.failed_indexes) : ctx.succeeded_indexes;
    indexes = FirstPendingIndexes(busy, done, count, *ctx.spec.completions);
    if (ctx.spec.backoff_limit_per_index) {
      // Only indexes whose back-off is over; when none is, the sync comes back for the first.
      std::vector<int64_t> now;
      std::optional<int64_t> soonest;
      for (int64_t ix : indexes) {
        auto it = ctx.last_failed_pod.find(ix);
        int64_t wait = it == ctx.last_failed_pod.end() ? 0 : IndexBackoffMs(*it->second, ctx.now);
        if (wait == 0) {
          now.push_back(ix);
        } else {
          soonest = std::min(soonest.value_or(wait), wait);
        }
      }
      if (now.empty() && soonest) {
        queue_->AddAfter(key, std::chrono::milliseconds(*soonest));
        return Status();
      }
      indexes = std::move(now);
    }
    count = static_cast<int>(indexes.size());
    if (count == 0) return Status();
  }
  expectations_.ExpectCreations(key, count);
  Document ref_doc;
  Value ref = NewControllerRef(job, kApiVersion, kKind, ref_doc.GetAllocator());
  Document pod = PodFromTemplate(*tmpl, NameOf(job), ref);
  Value& md = json::EnsureObjectMember(pod, "metadata", pod.GetAllocator());
  if (!HasFinalizer(pod, kJobTrackingFinalizer)) {
    Value* finalizers = json::MutableMember(md, "finalizers");
    if (!finalizers || !finalizers->IsArray()) {
      json::SetMember(md, "finalizers", Value(rapidjson::kArrayType), pod.GetAllocator());
      finalizers = json::MutableMember(md, "finalizers");
    }
    finalizers->PushBack(Value(kJobTrackingFinalizer, pod.GetAllocator()), pod.GetAllocator());
  }
  if (ctx.spec.indexed) AddCompletionIndexEnv(pod, pod.GetAllocator());
  std::string_view ns = NamespaceOf(job);
  std::atomic<int> created{0};
  std::atomic<size_t> next_index{0};
  BatchResult result = SlowStartBatch(count, 1, [&]() -> Status {
    Document indexed_pod;
    if (ctx.spec.indexed) {
      // Calls run concurrently: each takes the next index.
      indexed_pod.CopyFrom(pod, indexed_pod.GetAllocator());
      int64_t ix = indexes[next_index++];
      SetCompletionIndex(indexed_pod, NameOf(job), ix, indexed_pod.GetAllocator());
      if (ctx.spec.backoff_limit_per_index) {
        auto it = ctx.last_failed_pod.find(ix);
        const Value* replaced = it == ctx.last_failed_pod.end() ? nullptr : it->second.get();
        SetIndexFailureCounts(indexed_pod, ReplacementIndexFailureCounts(ctx.spec.pod_failure_policy.get(), replaced),
                              indexed_pod.GetAllocator());
      }
    }
    Result<Document> made = pod_client_->Create(ns, ctx.spec.indexed ? indexed_pod : pod);
    if (made.ok()) {
      ++created;
      options_.recorder.Event(job, client::EventType::kNormal, "SuccessfulCreate",
                              "Created pod: " + std::string(NameOf(*made)));
      return Status();
    }
    // Every create fails in a terminating namespace; nothing to report.
    if (NamespaceTerminating(made.status())) return Status();
    options_.recorder.Event(job, client::EventType::kWarning, "FailedCreate", "Error creating: " + made.status().message());
    return made.status();
  });
  // Creates never sent or refused will never show up in the cache.
  for (int i = created.load(); i < count; ++i) expectations_.CreationObserved(key);
  ctx.active += created.load();
  return result.error;
}

Status JobController::DeleteJobPods(const std::string& key, const Value& job,
                                    const std::vector<client::ObjectPtr>& pods, bool remove_finalizer,
                                    int* deleted, int* deleted_ready) {
  Status first_error;
  for (const client::ObjectPtr& p : pods) {
    Status s;
    if (remove_finalizer && HasFinalizer(*p, kJobTrackingFinalizer)) {
      // Removed first, so the pod is not counted as a failure.
      Result<Document> patched =
          pod_client_->Patch(NamespaceOf(*p), NameOf(*p), client::PatchType::kStrategic, kRemoveFinalizerPatch);
      if (!patched.ok()) s = patched.status();
    }
    if (s.ok()) s = pod_client_->Delete(NamespaceOf(job), NameOf(*p), UidPrecondition(*p));
    if (!s.ok()) {
      if (remove_finalizer) expectations_.DeletionObserved(key, client::ObjectKey(*p));
      if (s.code() != StatusCode::kNotFound) {
        options_.recorder.Event(job, client::EventType::kWarning, "FailedDelete", "Error deleting: " + s.message());
        if (first_error.ok()) first_error = s;
        continue;
      }
    } else {
      options_.recorder.Event(job, client::EventType::kNormal, "SuccessfulDelete", "Deleted pod: " + std::string(NameOf(*p)));
    }
    ++*deleted;
    if (IsPodReady(*p)) ++*deleted_ready;
  }
  return first_error;
}

namespace {

// Moves the uids of `list` whose pods no longer carry the finalizer into `counter`.
bool MoveCounted(std::vector<std::string>& list, int64_t& counter, const std::set<std::string>& with_finalizer) {
  size_t before = list.size();
  std::erase_if(list, [&](const std::string& uid) { return !with_finalizer.count(uid); });
  counter += static_cast<int64_t>(before - list.size());
  return before != list.size();
}

bool CleanUncounted(JobStatus& status, const std::set<std::string>& with_finalizer) {
  bool a = MoveCounted(status.uncounted_succeeded, status.succeeded, with_finalizer);
  bool b = MoveCounted(status.uncounted_failed, status.failed, with_finalizer);
  return a || b;
}

}  // namespace

Status JobController::TrackStatusAndRemoveFinalizers(const std::string& key, SyncContext& ctx, bool needs_flush) {
  std::set<std::string> with_finalizer;
  for (const client::ObjectPtr& p : ctx.pods) {
    std::string uid(UidOf(*p));
    if (HasFinalizer(*p, kJobTrackingFinalizer) && !ctx.expected_removals.count(uid)) with_finalizer.insert(uid);
  }
  if (CleanUncounted(ctx.status, with_finalizer)) needs_flush = true;

  // 1. Finished pods go into uncountedTerminatedPods (written before their finalizers go).
  std::vector<client::ObjectPtr> to_remove;
  std::vector<int64_t> new_succeeded_indexes;
  bool reached_max = false;
  bool job_deleting = IsBeingDeleted(ctx.job);
  for (const client::ObjectPtr& pod : ctx.pods) {
    std::string uid(UidOf(*pod));
    if (!HasFinalizer(*pod, kJobTrackingFinalizer) || ctx.expected_removals.count(uid)) continue;
    bool failed = IsPodFailed(*pod, ctx.spec);
    bool succeeded = PhaseOf(*pod) == "Succeeded";
    if (!job_deleting && !ctx.finished && !succeeded && !failed) continue;
    if (!job_deleting && !ctx.finished && !succeeded && !ctx.last_failed_pod.empty()) {
      // Kept until its replacement carries its failure counts on.
      auto it = ctx.last_failed_pod.find(CompletionIndexOf(*pod));
      if (it != ctx.last_failed_pod.end() && UidOf(*it->second) == UidOf(*pod)) continue;
    }
    to_remove.push_back(pod);
    if (succeeded && !ctx.uncounted_failed.count(uid)) {
      if (ctx.spec.indexed) {
        // The index is enough not to count a pod twice: no uid is tracked.
        int64_t ix = CompletionIndexOf(*pod);
        if (ix >= 0 && ix < ctx.spec.completions.value_or(0) && !ctx.prev_succeeded_indexes.Has(ix)) {
          new_succeeded_indexes.push_back(ix);
        }
      } else if (!ctx.uncounted_succeeded.count(uid)) {
        needs_flush = true;
        ctx.status.uncounted_succeeded.push_back(uid);
      }
    } else if (failed || (ctx.finished && ctx.finished->type != "SuccessCriteriaMet")) {
      // Once the Job has failed, every pod that did not succeed counts as failed, unless a
      // podFailurePolicy rule ignores it (or, Indexed, it has no valid index).
      if (!ctx.uncounted_failed.count(uid) && CountsAsFailure(*pod, ctx.spec)) {
        needs_flush = true;
        ctx.status.uncounted_failed.push_back(uid);
      }
    }
    if (ctx.status.uncounted_succeeded.size() + ctx.status.uncounted_failed.size() >= kMaxPodChangesPerSync) {
      reached_max = true;  // the rest next time: status stays small, other Jobs get their turn
      break;
    }
  }
  if (ctx.spec.indexed) {
    IndexIntervals done = ctx.prev_succeeded_indexes.With(std::move(new_succeeded_indexes));
    std::string text = done.ToString();
    if (text != ctx.status.completed_indexes || ctx.status.succeeded != done.Total()) needs_flush = true;
    ctx.status.completed_indexes = std::move(text);
    ctx.status.succeeded = done.Total();
    std::optional<std::string> failed_text;
    if (ctx.failed_indexes) failed_text = ctx.failed_indexes->ToString();
    if (failed_text != ctx.status.failed_indexes) {
      ctx.status.failed_indexes = std::move(failed_text);
      needs_flush = true;
    }
  }
  // The interim condition is written before finalizers go; the terminal one after.
  if (ctx.finished && ctx.finished->type == "FailureTarget") {
    ctx.status.conditions.push_back(*ctx.finished);
    needs_flush = true;
    ctx.finished = NewCondition("Failed", "True", ctx.finished->reason, ctx.finished->message, ctx.now);
  }
  if (ctx.finished && ctx.finished->type == "SuccessCriteriaMet") {
    if (!FindCondition(ctx.status.conditions, "SuccessCriteriaMet")) {
      ctx.status.conditions.push_back(*ctx.finished);
      needs_flush = true;
    }
    ctx.finished = NewCondition("Complete", "True", ctx.finished->reason, ctx.finished->message, ctx.now);
  }

  if (needs_flush) {
    KITE_RETURN_IF_ERROR(WriteStatus(ctx));
    MutexLock lock(mu_);
    backoff_[key] = ctx.new_backoff;
    needs_flush = false;
  }

  // 2. Finalizers of those pods go; 3. what went is counted.
  Status remove_error;
  if (!to_remove.empty()) {
    std::vector<std::string> uids;
    for (const client::ObjectPtr& p : to_remove) uids.emplace_back(UidOf(*p));
    ExpectFinalizersRemoved(key, uids);
    for (const client::ObjectPtr& p : to_remove) {
      std::string uid(UidOf(*p));
      Result<Document> patched =
          pod_client_->Patch(NamespaceOf(*p), NameOf(*p), client::PatchType::kStrategic, kRemoveFinalizerPatch);
      if (!patched.ok()) {
        // No update will show this removal.
        FinalizerRemovalObserved(key, uid);
        if (patched.status().code() != StatusCode::kNotFound) {
          if (remove_error.ok()) remove_error = patched.status();
          continue;
        }
      }
      with_finalizer.erase(uid);
    }
  }
  if (CleanUncounted(ctx.status, with_finalizer)) needs_flush = true;
  if (!remove_error.ok()) {
    if (needs_flush) KITE_RETURN_IF_ERROR(WriteStatus(ctx));
    return remove_error;
  }

  // 4. The terminal condition, once every pod is counted and none is terminating.
  bool finished = false;
  if (!reached_max && ctx.finished && ctx.status.uncounted_succeeded.empty() && ctx.status.uncounted_failed.empty() &&
      ctx.terminating == 0) {
    if (EnsureCondition(ctx.status.conditions, ctx.finished->type, ctx.finished->status, ctx.finished->reason,
                        ctx.finished->message, ctx.now)) {
      ctx.pending_event = ctx.finished->type == "Complete"
                              ? PendingEvent{client::EventType::kNormal, "Completed", "Job completed"}
                              : PendingEvent{client::EventType::kWarning, ctx.finished->reason, ctx.finished->message};
    }
    if (ctx.finished->type == "Complete") {
      ctx.status.completion_time = FindCondition(ctx.status.conditions, "Complete")->last_transition_time;
    }
    finished = true;
  }
  if (finished) needs_flush = true;
  if (needs_flush) KITE_RETURN_IF_ERROR(WriteStatus(ctx));
  return Status();
}

Status JobController::WriteStatus(SyncContext& ctx) {
  Document updated;
  updated.CopyFrom(ctx.job, updated.GetAllocator());
  auto& a = updated.GetAllocator();
  Value& status = json::EnsureObjectMember(updated, "status", a);
  ApplyStatus(ctx.status, status, a);
  const Value* before = json::Member(ctx.job, "status");
  if (before && *before == status) return Status();
  Result<Document> written = job_client_->UpdateStatus(updated);
  if (!written.ok()) return written.status();
  ctx.job = std::move(written).value();
  StatusWritten(ctx.key, ctx.job);
  // What the written status announces, once it is stored.
  if (ctx.pending_event) {
    options_.recorder.Event(ctx.job, ctx.pending_event->type, ctx.pending_event->reason, ctx.pending_event->message);
    ctx.pending_event.reset();
  }
  return Status();
}

}  // namespace kite::controllers
