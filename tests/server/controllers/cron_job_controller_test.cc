// The CronJob controller against a real API server with a FakeClock; the test plays the Job
// controller by setting Jobs' conditions.
#include "src/server/controllers/cron_job_controller.h"

#include <catch2/catch.hpp>

#include <thread>

#include "src/server/client/event_broadcaster.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using testing::Eventually;

// The API server with the CronJob controller on a FakeClock that starts at the real time
// (CronJobs get their creationTimestamp from the API server's real clock).
struct CronFixture {
  testing::ApiFixture api;
  FakeClock clock{SystemClock::Get()->NowMillis()};
  client::EventBroadcaster broadcaster{api.transport()};
  ControllerManager manager{api.transport()};
  client::ResourceClient cron_jobs = api.Client(client::kCronJobs);
  client::ResourceClient jobs = api.Client(client::kJobs);
  client::ResourceClient events = api.Client(client::kEvents);

  CronFixture() {
    CronJobController::Options options;
    options.clock = &clock;
    options.max_requeue = std::chrono::milliseconds(20);
    options.recorder = broadcaster.NewRecorder({"cronjob-controller", ""});
    broadcaster.Start();
    manager.Add(std::make_unique<CronJobController>(options));
    REQUIRE(manager.Start().ok());
  }
  ~CronFixture() {
    manager.Stop();
    broadcaster.Stop();
  }

  // Moves the fake clock (in one step) to `seconds` past the first whole minute after
  // `skip_minutes` from now, and returns that minute.
  int64_t AdvanceToNextMinute(int64_t seconds = 1, int64_t skip_minutes = 0) {
    int64_t minute = ((clock.NowMillis() + skip_minutes * 60000) / 60000 + 1) * 60000;
    clock.Advance(std::chrono::milliseconds(minute + seconds * 1000 - clock.NowMillis()));
    return minute;
  }

  std::vector<Document> Jobs() {
    auto list = jobs.List("default");
    REQUIRE(list.ok());
    std::vector<Document> out;
    for (const Value& item : (*list)["items"].GetArray()) {
      Document d;
      d.CopyFrom(item, d.GetAllocator());
      out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(), [](const Document& a, const Document& b) { return NameOf(a) < NameOf(b); });
    return out;
  }
  std::vector<std::string> JobNames() {
    std::vector<std::string> out;
    for (const Document& j : Jobs()) out.emplace_back(NameOf(j));
    return out;
  }
  Document CronJob(std::string_view name) {
    auto got = cron_jobs.Get("default", name);
    REQUIRE(got.ok());
    return std::move(got).value();
  }
  // Events are written in the background: wait for them.
  bool HasEvent(std::string_view reason) {
    return Eventually([&] { return HasEventNow(reason); });
  }
  bool HasEventNow(std::string_view reason) {
    auto list = events.List("default");
    REQUIRE(list.ok());
    for (const Value& e : (*list)["items"].GetArray()) {
      if (json::StringMember(e, "reason") == reason) return true;
    }
    return false;
  }
  // Marks Job `name` finished as the Job controller would: SuccessCriteriaMet then Complete,
  // or FailureTarget then Failed (the API rejects the final condition alone).
  void Finish(std::string_view name, bool success, int64_t started_ms) {
    auto job = jobs.Get("default", name);
    REQUIRE(job.ok());
    auto& a = job->GetAllocator();
    std::string start = FormatRfc3339Seconds(started_ms);
    std::string end = FormatRfc3339Seconds(clock.NowMillis());
    auto condition = [&](const char* type) {
      return R"({"type":")" + std::string(type) + R"(","status":"True","lastTransitionTime":")" + end + R"("})";
    };
    std::string status = R"({"startTime":")" + start + R"(",)" +
                         (success ? R"("succeeded":1,"completionTime":")" + end + R"(",)" : std::string(R"("failed":1,)")) +
                         R"("conditions":[)" + condition(success ? "SuccessCriteriaMet" : "FailureTarget") + "," +
                         condition(success ? "Complete" : "Failed") + "]}";
    auto parsed = json::ParseJson(status);
    REQUIRE(parsed.ok());
    json::SetMember(*job, "status", Value(*parsed, a), a);
    REQUIRE(jobs.UpdateStatus(*job).ok());
  }
};

std::string CronJobJson(std::string_view name, std::string_view schedule, std::string_view extra_spec = "") {
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{"schedule":")" + std::string(schedule) +
         R"(",)" + std::string(extra_spec) +
         R"("jobTemplate":{"metadata":{"labels":{"app":"report"},"annotations":{"team":"ops"}},)"
         R"("spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}})";
}

std::string JobName(std::string_view cron_job, int64_t minute_ms) {
  return std::string(cron_job) + "-" + std::to_string(minute_ms / 60000);
}

std::string StatusField(const Value& object, std::string_view field) {
  const Value* status = json::Member(object, "status");
  return status ? std::string(json::StringMember(*status, field)) : std::string();
}

std::vector<std::string> ActiveNames(const Value& cron_job) {
  std::vector<std::string> out;
  const Value* status = json::Member(cron_job, "status");
  const Value* active = status ? json::Member(*status, "active") : nullptr;
  if (active && active->IsArray()) {
    for (const Value& ref : active->GetArray()) out.emplace_back(json::StringMember(ref, "name"));
  }
  return out;
}

// Gives the controller time to act on the clock it was shown (it polls every 20 ms).
void Settle() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

TEST_CASE("a CronJob creates its Job at the scheduled time") {
  CronFixture f;
  Document cj = f.api.Create(client::kCronJobs, "default", CronJobJson("report", "* * * * *"));
  Settle();
  CHECK(f.Jobs().empty());

  int64_t minute = f.AdvanceToNextMinute();
  std::string name = JobName("report", minute);
  REQUIRE(Eventually([&] { return f.JobNames() == std::vector<std::string>{name}; }));
  std::vector<Document> all_jobs = f.Jobs();
  const Document& job = all_jobs[0];
  std::optional<OwnerReference> ref = ControllerOf(job);
  REQUIRE(ref);
  CHECK(ref->kind == "CronJob");
  CHECK(ref->uid == UidOf(cj));
  CHECK(AnnotationOf(job, kCronJobScheduledTimestampAnnotation).value_or("") == FormatRfc3339Seconds(minute));
  CHECK(AnnotationOf(job, "team").value_or("") == "ops");
  CHECK(json::StringMember(*LabelsOf(job), "app") == "report");
  CHECK(Eventually([&] {
    Document c = f.CronJob("report");
    return ActiveNames(c) == std::vector<std::string>{name} &&
           StatusField(c, "lastScheduleTime") == FormatRfc3339Seconds(minute);
  }));
  CHECK(f.HasEvent("SuccessfulCreate"));

  // The Job finishes: it leaves the active list and sets lastSuccessfulTime.
  f.Finish(name, true, minute);
  CHECK(Eventually([&] {
    Document c = f.CronJob("report");
    return ActiveNames(c).empty() && !StatusField(c, "lastSuccessfulTime").empty();
  }));
  // Nothing more before the next minute.
  Settle();
  CHECK(f.Jobs().size() == 1);
}

TEST_CASE("concurrencyPolicy Forbid skips a run while the previous Job is active") {
  CronFixture f;
  f.api.Create(client::kCronJobs, "default", CronJobJson("single", "* * * * *", R"("concurrencyPolicy":"Forbid",)"));
  int64_t first = f.AdvanceToNextMinute();
  REQUIRE(Eventually([&] { return f.Jobs().size() == 1; }));
  REQUIRE(Eventually([&] { return ActiveNames(f.CronJob("single")).size() == 1; }));

  int64_t second = f.AdvanceToNextMinute();
  Settle();
  CHECK(f.JobNames() == std::vector<std::string>{JobName("single", first)});
  CHECK(f.HasEvent("JobAlreadyActive"));

  // Once the first is done, the skipped run is still the most recent unmet one: it starts late
  // (there is no startingDeadlineSeconds), as in Kubernetes.
  f.Finish(JobName("single", first), true, first);
  CHECK(Eventually([&] {
    return f.JobNames() == std::vector<std::string>{JobName("single", first), JobName("single", second)};
  }));
}

TEST_CASE("concurrencyPolicy Replace deletes the active Job and starts the new one") {
  CronFixture f;
  f.api.Create(client::kCronJobs, "default", CronJobJson("latest", "* * * * *", R"("concurrencyPolicy":"Replace",)"));
  int64_t first = f.AdvanceToNextMinute();
  REQUIRE(Eventually([&] { return ActiveNames(f.CronJob("latest")) == std::vector<std::string>{JobName("latest", first)}; }));
  int64_t second = f.AdvanceToNextMinute();
  CHECK(Eventually([&] { return f.JobNames() == std::vector<std::string>{JobName("latest", second)}; }));
  CHECK(Eventually([&] { return ActiveNames(f.CronJob("latest")) == std::vector<std::string>{JobName("latest", second)}; }));
  CHECK(f.HasEvent("SuccessfulDelete"));
}

TEST_CASE("finished Jobs beyond the history limits are deleted, oldest first") {
  CronFixture f;
  f.api.Create(client::kCronJobs, "default",
               CronJobJson("hist", "* * * * *", R"("successfulJobsHistoryLimit":1,"failedJobsHistoryLimit":1,)"));
  std::vector<int64_t> minutes;
  for (int i = 0; i < 4; ++i) {
    int64_t minute = f.AdvanceToNextMinute();
    minutes.push_back(minute);
    REQUIRE(Eventually([&] {
      auto names = f.JobNames();
      return std::find(names.begin(), names.end(), JobName("hist", minute)) != names.end();
    }));
    // Two successes, then two failures.
    f.Finish(JobName("hist", minute), i < 2, minute);
    REQUIRE(Eventually([&] { return ActiveNames(f.CronJob("hist")).empty(); }));
  }
  CHECK(Eventually([&] {
    return f.JobNames() == std::vector<std::string>{JobName("hist", minutes[1]), JobName("hist", minutes[3])};
  }));
}

TEST_CASE("a suspended CronJob starts nothing until resumed") {
  CronFixture f;
  f.api.Create(client::kCronJobs, "default", CronJobJson("paused", "* * * * *", R"("suspend":true,)"));
  f.AdvanceToNextMinute();
  Settle();
  CHECK(f.Jobs().empty());
  int64_t minute = f.AdvanceToNextMinute();
  REQUIRE(f.cron_jobs.Patch("default", "paused", client::PatchType::kMerge, R"({"spec":{"suspend":false}})").ok());
  // The most recent missed time runs on resume (no startingDeadlineSeconds).
  CHECK(Eventually([&] { return f.JobNames() == std::vector<std::string>{JobName("paused", minute)}; }));
}

TEST_CASE("a run missed by more than startingDeadlineSeconds is skipped") {
  CronFixture f;
  f.api.Create(client::kCronJobs, "default", CronJobJson("strict", "* * * * *", R"("startingDeadlineSeconds":10,)"));
  f.AdvanceToNextMinute(30);  // 30 s late for that minute's run
  Settle();
  CHECK(f.Jobs().empty());
  int64_t minute = f.AdvanceToNextMinute(5);  // 5 s late: within the deadline
  CHECK(Eventually([&] { return f.JobNames() == std::vector<std::string>{JobName("strict", minute)}; }));
}

TEST_CASE("after more than 100 missed runs only the latest starts, with Kubernetes' warning") {
  CronFixture f;
  f.api.Create(client::kCronJobs, "default", CronJobJson("behind", "* * * * *"));
  int64_t minute = f.AdvanceToNextMinute(1, 200);
  CHECK(Eventually([&] { return f.JobNames() == std::vector<std::string>{JobName("behind", minute)}; }));
  CHECK(f.HasEvent("TooManyMissedTimes"));
  auto list = f.events.List("default");
  REQUIRE(list.ok());
  bool message = false;
  for (const Value& e : (*list)["items"].GetArray()) {
    if (json::StringMember(e, "reason") == "TooManyMissedTimes") {
      message = json::StringMember(e, "message") ==
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";
      CHECK(json::StringMember(e, "type") == "Warning");
    }
  }
  CHECK(message);
}

}  // namespace
}  // namespace kite::controllers
