// The CronJob controller (Kubernetes' pkg/controller/cronjob, ControllerV2, as of 1.32):
// creates a Job from spec.jobTemplate at every time spec.schedule names.
//
// Operation, per CronJob key ("namespace/name"):
//  - its Jobs are those whose controller reference is the CronJob; finished ones leave
//    status.active (event SawCompletedJob), Jobs gone from the API too (MissingJob), and
//    the latest completionTime of a Complete one becomes status.lastSuccessfulTime;
//  - finished Jobs beyond successfulJobsHistoryLimit (default 3) / failedJobsHistoryLimit
//    (default 1) are deleted, oldest start first (propagationPolicy Background);
//  - unless suspended or being deleted: the most recent unmet schedule time since
//    status.lastScheduleTime (or the creation time) — or since now - startingDeadlineSeconds
//    when that is later — is run: skipped when older than startingDeadlineSeconds
//    (MissSchedule), when a Job for it already exists, or, with concurrencyPolicy Forbid,
//    while a Job is active (JobAlreadyActive); with Replace the active Jobs are deleted
//    first. More than 100 missed times still start only the latest, with the event
//    TooManyMissedTimes "too many missed start times. Set or decrease
//    .spec.startingDeadlineSeconds or check clock skew".
//  - the Job is "<cronjob>-<scheduled time in minutes since the epoch>", with the
//    template's labels and annotations plus batch.kubernetes.io/cronjob-scheduled-timestamp
//    (RFC 3339 in spec.timeZone, UTC without one) and a controller reference; it joins
//    status.active and status.lastScheduleTime is set (event SuccessfulCreate);
//  - the key is queued again for the next schedule time (plus 100 ms, as Kubernetes).
// Schedules are evaluated by cron::CronSchedule (src/server/cron/cron_schedule.h), in
// spec.timeZone, the schedule's CRON_TZ=/TZ= prefix, or the server's local zone.
// Events (SuccessfulCreate, SawCompletedJob, SuccessfulDelete, MissSchedule, ...) go to
// Options::recorder.
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (the work queue never hands one key to two workers).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "src/base/clock.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/controllers/controller_ref.h"

namespace kite::controllers {

inline constexpr char kCronJobScheduledTimestampAnnotation[] = "batch.kubernetes.io/cronjob-scheduled-timestamp";

class CronJobController final : public Controller {
 public:
  struct Options {
    // "Now" for schedules; must outlive the controller.
    const Clock* clock = SystemClock::Get();
    // When positive, a CronJob is looked at again at least this often (real time), so that a
    // test moving a FakeClock sees its schedule fire; 0: exactly at the next schedule time.
    std::chrono::milliseconds max_requeue{0};
    // Where the Events go (component "cronjob-controller"); default: none are recorded.
    client::EventRecorder recorder;
  };
  CronJobController() : CronJobController(Options{}) {}
  explicit CronJobController(Options options) : options_(std::move(options)) {}

  std::string_view Name() const override { return "cronjob"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& key) override;

 private:
  struct SyncState;

  std::vector<client::ObjectPtr> JobsOf(const rapidjson::Value& cron_job) const;
  // Deletes finished Jobs beyond the history limits; true when status.active changed.
  bool CleanupFinishedJobs(SyncState& state, const std::vector<client::ObjectPtr>& jobs);
  // Kubernetes' syncCronJob: returns when to look again (nullopt: not before an event).
  std::optional<std::chrono::milliseconds> SyncCronJob(SyncState& state, const std::vector<client::ObjectPtr>& jobs,
                                                       Status* error);
  bool DeleteJob(SyncState& state, const rapidjson::Value& job);
  void RecordEvent(const rapidjson::Value& cron_job, std::string_view type, std::string_view reason,
                   const std::string& message);
  client::ObjectPtr ResolveRef(std::string_view ns, const OwnerReference& ref) const;
  void EnqueueOwner(const rapidjson::Value& job);

  const Options options_;
  WorkQueue* queue_ = nullptr;
  client::Informer* cron_jobs_ = nullptr;
  client::Informer* jobs_ = nullptr;
  std::optional<client::ResourceClient> cron_job_client_;
  std::optional<client::ResourceClient> job_client_;
};

}  // namespace kite::controllers
