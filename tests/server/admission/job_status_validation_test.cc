// A Job written through its status subresource (job_status_validation.h): each rule of
// Kubernetes 1.32's ValidateJobStatusUpdate (JobManagedBy on) rejects a bad write with
// kube-apiserver's reason, field path and message, and lets the neighbouring good write
// through; most rules only look at what the write changed.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "src/server/admission/admission.h"
#include "src/server/json/json_util.h"

using kite::admission::Validate;
using kite::validation::StatusCause;

namespace {

constexpr char kStart[] = "2024-05-01T10:00:00Z";
constexpr char kLater[] = "2024-05-01T10:05:00Z";
constexpr char kEarlier[] = "2024-05-01T09:00:00Z";

rapidjson::Document Json(const std::string& text) {
  auto parsed = kite::json::ParseJson(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

// A Job with the given spec and status members (JSON object bodies without braces). The
// spec defaults to a NonIndexed Job of one completion.
std::string Job(const std::string& status, const std::string& spec = R"("completions":1,"parallelism":1)") {
  return R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi","namespace":"default","uid":"u1"},)"
         R"("spec":{)" + spec + R"(,"template":{"spec":{"restartPolicy":"Never",)"
         R"("containers":[{"name":"pi","image":"perl"}]}}},"status":{)" + status + "}}";
}

constexpr char kIndexed[] = R"("completionMode":"Indexed","completions":3,"parallelism":2)";
constexpr char kPerIndex[] = R"("completionMode":"Indexed","completions":3,"parallelism":2,"backoffLimitPerIndex":1)";

// "conditions":[...] with each type True.
std::string Conditions(const std::vector<std::string>& types) {
  std::string out = R"("conditions":[)";
  for (size_t i = 0; i < types.size(); ++i) {
    out += (i ? "," : "") + std::string(R"({"type":")") + types[i] + R"(","status":"True"})";
  }
  return out + "]";
}

std::string Time(const char* field, const char* value) {
  return std::string("\"") + field + "\":\"" + value + "\"";
}

constexpr char kNoPods[] = R"("active":0,"ready":0,"terminating":0)";

// Fields of a Job that finished successfully as the Job controller leaves it, with other
// pod counts or completionTime when given.
std::string Completed(const std::string& pods = kNoPods, const char* completion_time = kLater) {
  return Conditions({"SuccessCriteriaMet", "Complete"}) + "," + Time("startTime", kStart) + "," +
         Time("completionTime", completion_time) + R"(,"succeeded":1,)" + pods;
}

std::string Failed() {
  return Conditions({"FailureTarget", "Failed"}) + "," + Time("startTime", kStart) +
         R"(,"failed":1,"active":0,"ready":0,"terminating":0)";
}

// A status write of `job` over the stored `old`.
std::vector<StatusCause> Update(const std::string& old, const std::string& job) {
  rapidjson::Document stored = Json(old);
  rapidjson::Document written = Json(job);
  return Validate("batch", "v1", "Job", written, &stored, "status");
}

std::string Dump(const std::vector<StatusCause>& causes) {
  std::string out;
  for (const StatusCause& c : causes) out += c.reason + " | " + c.field + " | " + c.message + "\n";
  return out;
}

bool Has(const std::vector<StatusCause>& causes, const std::string& reason, const std::string& field,
         const std::string& message) {
  return std::any_of(causes.begin(), causes.end(), [&](const StatusCause& c) {
    return c.reason == reason && c.field == field && c.message == message;
  });
}

#define CHECK_CAUSE(causes, reason, field, message) \
  do {                                              \
    auto found_ = (causes);                         \
    INFO(Dump(found_));                             \
    CHECK(Has(found_, reason, field, message));     \
  } while (0)

#define CHECK_VALID(causes) \
  do {                      \
    auto found_ = (causes); \
    INFO(Dump(found_));     \
    CHECK(found_.empty());  \
  } while (0)

const char kInvalid[] = "FieldValueInvalid";
const char kRequired[] = "FieldValueRequired";

const std::string kRunning = Time("startTime", kStart) + R"(,"active":1,"ready":0,"terminating":0)";

}  // namespace

TEST_CASE("Job status: the succeeded and failed counters do not decrease") {
  std::string old = Job(kRunning + R"(,"succeeded":2,"failed":2)");
  CHECK_CAUSE(Update(old, Job(kRunning + R"(,"succeeded":1,"failed":2)")), kInvalid, "status.succeeded",
              "Invalid value: 1: cannot decrease the succeeded counter");
  CHECK_CAUSE(Update(old, Job(kRunning + R"(,"succeeded":2,"failed":1)")), kInvalid, "status.failed",
              "Invalid value: 1: cannot decrease the failed counter");
  CHECK_VALID(Update(old, Job(kRunning + R"(,"succeeded":3,"failed":3)")));
  // An Indexed Job whose completions equal its parallelism can be scaled down.
  const std::string elastic = R"("completionMode":"Indexed","completions":2,"parallelism":2)";
  CHECK_VALID(Update(Job(kRunning + R"(,"succeeded":2,"completedIndexes":"0-1")", elastic),
                     Job(kRunning + R"(,"succeeded":1,"completedIndexes":"0")", elastic)));
  CHECK_CAUSE(Update(Job(kRunning + R"(,"succeeded":2,"completedIndexes":"0-1")", kIndexed),
                     Job(kRunning + R"(,"succeeded":1,"completedIndexes":"0")", kIndexed)),
              kInvalid, "status.succeeded", "Invalid value: 1: cannot decrease the succeeded counter");
}

TEST_CASE("Job status: terminal conditions stay True") {
  std::string failed = Job(Failed());
  CHECK_CAUSE(Update(failed, Job(Conditions({"FailureTarget"}) + "," + kRunning + R"(,"failed":1)")), kInvalid,
              "status.conditions", "Invalid value: cannot disable the terminal Failed=True condition");
  CHECK_CAUSE(Update(failed, Job(Conditions({"Failed"}) + "," + Time("startTime", kStart) + R"(,"failed":1)")),
              kInvalid, "status.conditions", "Invalid value: cannot disable the terminal FailureTarget=True condition");
  CHECK_CAUSE(Update(Job(Completed()), Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning + R"(,"succeeded":1)")),
              kInvalid, "status.conditions", "Invalid value: cannot disable the terminal Complete=True condition");
  CHECK_CAUSE(Update(Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning), Job(kRunning)), kInvalid,
              "status.conditions", "Invalid value: cannot disable the SuccessCriteriaMet=True condition");
  // A condition set to False is disabled too.
  CHECK_CAUSE(Update(failed, Job(R"("conditions":[{"type":"FailureTarget","status":"True"},)"
                                 R"({"type":"Failed","status":"False"}],)" + kRunning + R"(,"failed":1)")),
              kInvalid, "status.conditions", "Invalid value: cannot disable the terminal Failed=True condition");
  CHECK_VALID(Update(failed, Job(Failed())));
  CHECK_VALID(Update(Job(Completed()), Job(Completed())));
}

TEST_CASE("Job status: Failed comes after FailureTarget, Complete after SuccessCriteriaMet") {
  std::string running = Job(kRunning);
  CHECK_CAUSE(Update(running, Job(Conditions({"Failed"}) + "," + Time("startTime", kStart))), kInvalid,
              "status.conditions",
              "Invalid value: cannot set Failed=True condition without the FailureTarget=true condition");
  CHECK_VALID(Update(running, Job(Conditions({"FailureTarget"}) + "," + kRunning)));
  CHECK_VALID(Update(Job(Conditions({"FailureTarget"}) + "," + kRunning), Job(Failed())));

  CHECK_CAUSE(Update(running, Job(Conditions({"Complete"}) + "," + Time("startTime", kStart) + "," +
                                  Time("completionTime", kLater) + R"(,"succeeded":1)")),
              kInvalid, "status.conditions",
              "Invalid value: cannot set Complete=True condition without the SuccessCriteriaMet=true condition");
  CHECK_VALID(Update(running, Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning)));
  CHECK_VALID(Update(Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning), Job(Completed())));
}

TEST_CASE("Job status: Complete excludes Failed and FailureTarget, SuccessCriteriaMet too") {
  std::string running = Job(kRunning);
  std::string times = "," + Time("startTime", kStart) + "," + Time("completionTime", kLater);
  CHECK_CAUSE(Update(running, Job(Conditions({"SuccessCriteriaMet", "Complete", "FailureTarget", "Failed"}) + times)),
              kInvalid, "status.conditions", "Invalid value: cannot set Complete=True and Failed=true conditions");
  CHECK_CAUSE(Update(running, Job(Conditions({"SuccessCriteriaMet", "Complete", "FailureTarget"}) + times)),
              kInvalid, "status.conditions",
              "Invalid value: cannot set Complete=True and FailureTarget=true conditions");
  CHECK_CAUSE(Update(running, Job(Conditions({"SuccessCriteriaMet", "FailureTarget", "Failed"}) + "," +
                                  Time("startTime", kStart))),
              kInvalid, "status.conditions",
              "Invalid value: cannot set SuccessCriteriaMet=True and Failed=true conditions");
  CHECK_CAUSE(Update(running, Job(Conditions({"SuccessCriteriaMet", "FailureTarget"}) + "," + kRunning)), kInvalid,
              "status.conditions",
              "Invalid value: cannot set SuccessCriteriaMet=True and FailureTarget=true conditions");
  CHECK_VALID(Update(running, Job(Completed())));
}

TEST_CASE("Job status: SuccessCriteriaMet and Complete with a successPolicy") {
  const std::string policy = std::string(kIndexed) + R"(,"successPolicy":{"rules":[{"succeededCount":1}]})";
  std::string complete = Conditions({"Complete"}) + "," + Time("startTime", kStart) + "," +
                         Time("completionTime", kLater) + R"(,"succeeded":1,"completedIndexes":"0")";
  CHECK_CAUSE(Update(Job(kRunning, policy), Job(complete, policy)), kInvalid, "status.conditions",
              "Invalid value: cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True");
  std::string met = Conditions({"SuccessCriteriaMet", "Complete"}) + "," + Time("startTime", kStart) + "," +
                    Time("completionTime", kLater) + R"(,"succeeded":1,"completedIndexes":"0")";
  CHECK_VALID(Update(Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning, policy), Job(met, policy)));
}

TEST_CASE("Job status: SuccessCriteriaMet is not added to a Job already Complete") {
  // A Job completed before SuccessCriteriaMet existed.
  std::string legacy = Conditions({"Complete"}) + "," + Time("startTime", kStart) + "," +
                       Time("completionTime", kLater) + R"(,"succeeded":1)";
  CHECK_CAUSE(Update(Job(legacy), Job(Completed())), kInvalid, "status.conditions",
              "Invalid value: cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions");
  // Writes that leave its conditions alone still go through.
  CHECK_VALID(Update(Job(legacy), Job(legacy + R"(,"ready":0)")));
}

TEST_CASE("Job status: completedIndexes are increasing intervals below completions") {
  std::string old = Job(kRunning + R"(,"completedIndexes":"0")", kIndexed);
  auto with = [](const std::string& indexes) {
    return Job(kRunning + R"(,"completedIndexes":")" + indexes + "\"", kIndexed);
  };
  const std::string error = "error parsing completedIndexes: ";
  CHECK_CAUSE(Update(old, with("0,2-1")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "0,2-1": )" + error + "non-increasing order, previous: 2, current: 1");
  CHECK_CAUSE(Update(old, with("1,0")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "1,0": )" + error + "non-increasing order, previous: 1, current: 0");
  CHECK_CAUSE(Update(old, with("0-1,1")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "0-1,1": )" + error + "non-increasing order, previous: 1, current: 1");
  CHECK_CAUSE(Update(old, with("0,3")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "0,3": error parsing completedIndexes: too large index: "3")");
  CHECK_CAUSE(Update(old, with("0,x")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "0,x": )" + error + R"(cannot convert string to integer for index: "x")");
  CHECK_CAUSE(Update(old, with("0,")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "0,": error parsing completedIndexes: cannot convert string to integer for index: "")");
  CHECK_CAUSE(Update(old, with("0-1-2")), kInvalid, "status.completedIndexes",
              "Invalid value: \"0-1-2\": error parsing completedIndexes: the fragment \"0-1-2\" violates the "
              "requirement that an index interval can have at most two parts separated by '-'");
  CHECK_VALID(Update(old, with("0-2")));
  CHECK_VALID(Update(old, with("0,2")));
  // strconv.Atoi takes a sign.
  CHECK_VALID(Update(old, with("+0,+2")));
  // Checked only when they change: a scale-down may leave them beyond completions for a while.
  CHECK_VALID(Update(Job(kRunning + R"(,"completedIndexes":"0,5")", kIndexed),
                     Job(kRunning + R"(,"completedIndexes":"0,5","ready":1)", kIndexed)));
}

TEST_CASE("Job status: completedIndexes only for Indexed Jobs") {
  std::string old = Job(kRunning);
  CHECK_CAUSE(Update(old, Job(kRunning + R"(,"completedIndexes":"0")")), kInvalid, "status.completedIndexes",
              R"(Invalid value: "0": cannot set non-empty completedIndexes when non-indexed completion mode)");
  CHECK_VALID(Update(old, Job(kRunning + R"(,"completedIndexes":"")")));
}

TEST_CASE("Job status: failedIndexes only with backoffLimitPerIndex, well formed, apart from completedIndexes") {
  CHECK_CAUSE(Update(Job(kRunning, kIndexed), Job(kRunning + R"(,"failedIndexes":"1")", kIndexed)), kInvalid,
              "status.failedIndexes",
              R"(Invalid value: "1": cannot set non-null failedIndexes when backoffLimitPerIndex is null)");
  CHECK_CAUSE(Update(Job(kRunning), Job(kRunning + R"(,"failedIndexes":"")")), kInvalid, "status.failedIndexes",
              R"(Invalid value: "": cannot set non-null failedIndexes when backoffLimitPerIndex is null)");
  CHECK_VALID(Update(Job(kRunning, kPerIndex), Job(kRunning + R"(,"failedIndexes":"1")", kPerIndex)));

  CHECK_CAUSE(Update(Job(kRunning, kPerIndex), Job(kRunning + R"(,"failedIndexes":"3")", kPerIndex)), kInvalid,
              "status.failedIndexes", R"(Invalid value: "3": error parsing failedIndexes: too large index: "3")");

  std::string old = Job(kRunning + R"(,"completedIndexes":"0-1")", kPerIndex);
  CHECK_CAUSE(Update(old, Job(kRunning + R"(,"completedIndexes":"0-1","failedIndexes":"1")", kPerIndex)), kInvalid,
              "status.failedIndexes", R"(Invalid value: "1": failedIndexes and completedIndexes overlap at index: 1)");
  CHECK_CAUSE(Update(Job(kRunning + R"(,"failedIndexes":"0")", kPerIndex),
                     Job(kRunning + R"(,"completedIndexes":"0","failedIndexes":"0")", kPerIndex)),
              kInvalid, "status.failedIndexes",
              R"(Invalid value: "0": failedIndexes and completedIndexes overlap at index: 0)");
  CHECK_VALID(Update(old, Job(kRunning + R"(,"completedIndexes":"0-1","failedIndexes":"2")", kPerIndex)));
  CHECK_VALID(Update(Job(kRunning + R"(,"completedIndexes":"0,2")", kPerIndex),
                     Job(kRunning + R"(,"completedIndexes":"0,2","failedIndexes":"1")", kPerIndex)));
}

TEST_CASE("Job status: ready pods do not exceed active ones") {
  std::string old = Job(kRunning);
  CHECK_CAUSE(Update(old, Job(Time("startTime", kStart) + R"(,"active":1,"ready":2)")), kInvalid, "status.ready",
              "Invalid value: 2: cannot set more ready pods than active");
  CHECK_VALID(Update(old, Job(Time("startTime", kStart) + R"(,"active":1,"ready":1)")));
}

TEST_CASE("Job status: a finished Job has no active, terminating or uncounted pods, and a startTime") {
  std::string running = Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning);
  CHECK_CAUSE(Update(running, Job(Completed(R"("active":1,"ready":0,"terminating":0)"))), kInvalid, "status.active",
              "Invalid value: 1: active>0 is invalid for finished job");
  CHECK_CAUSE(Update(running, Job(Completed(R"("active":0,"ready":0,"terminating":1)"))), kInvalid,
              "status.terminating", "Invalid value: 1: terminating>0 is invalid for finished job");
  CHECK_CAUSE(Update(running, Job(Completed() + R"(,"uncountedTerminatedPods":{"succeeded":["a","b"]})")), kInvalid,
              "status.uncountedTerminatedPods",
              R"(Invalid value: batch.UncountedTerminatedPods{Succeeded:[]types.UID{"a", "b"}, )"
              R"(Failed:[]types.UID(nil)}: uncountedTerminatedPods needs to be empty for finished job)");
  CHECK_CAUSE(Update(Job(Conditions({"FailureTarget"})), Job(Conditions({"FailureTarget", "Failed"}))), kRequired,
              "status.startTime", "Required value: startTime is required for finished job");
  CHECK_VALID(Update(running, Job(Completed() + R"(,"uncountedTerminatedPods":{"succeeded":[],"failed":[]})")));
  CHECK_VALID(Update(Job(Conditions({"FailureTarget"}) + "," + kRunning), Job(Failed())));
}

TEST_CASE("Job status: uncountedTerminatedPods lists each uid once") {
  std::string old = Job(kRunning);
  CHECK_CAUSE(Update(old, Job(kRunning + R"(,"uncountedTerminatedPods":{"succeeded":[""]})")), kInvalid,
              "status.uncountedTerminatedPods.succeeded[0]", R"(Invalid value: "": must not be empty)");
  CHECK_CAUSE(Update(old, Job(kRunning + R"(,"uncountedTerminatedPods":{"succeeded":["a"],"failed":["b","a"]})")),
              "FieldValueDuplicate", "status.uncountedTerminatedPods.failed[1]", R"(Duplicate value: "a")");
  CHECK_VALID(Update(old, Job(kRunning + R"(,"uncountedTerminatedPods":{"succeeded":["a"],"failed":["b"]})")));
}

TEST_CASE("Job status: startTime of a running Job does not change") {
  std::string old = Job(kRunning);
  CHECK_CAUSE(Update(old, Job(Time("startTime", kLater) + R"(,"active":1)")), kRequired, "status.startTime",
              "Required value: startTime cannot be removed for unsuspended job");
  CHECK_CAUSE(Update(old, Job(R"("active":1)")), kRequired, "status.startTime",
              "Required value: startTime cannot be removed for unsuspended job");
  // The same instant written another way is no change.
  CHECK_VALID(Update(old, Job(R"("startTime":"2024-05-01T12:00:00+02:00","active":1,"ready":0,"terminating":0)")));
  // The first startTime, and any change while suspended, are fine.
  CHECK_VALID(Update(Job(R"("active":0)"), Job(Time("startTime", kStart) + R"(,"active":0)")));
  const std::string suspended = R"("completions":1,"parallelism":1,"suspend":true)";
  CHECK_VALID(Update(Job(kRunning, suspended), Job(Time("startTime", kLater) + R"(,"active":1)", suspended)));
  // Resuming restarts the clock: Suspended=True goes, startTime moves (Kubernetes 1.32.10).
  const std::string resumed = R"("conditions":[{"type":"Suspended","status":"False"}],)";
  CHECK_VALID(Update(Job(Conditions({"Suspended"}) + "," + kRunning), Job(resumed + Time("startTime", kLater) +
                                                                          R"(,"active":1)")));
  // After that, startTime stays.
  CHECK_CAUSE(Update(Job(resumed + kRunning), Job(resumed + Time("startTime", kLater) + R"(,"active":1)")),
              kRequired, "status.startTime", "Required value: startTime cannot be removed for unsuspended job");
}

TEST_CASE("Job status: completionTime is set once, on Complete Jobs, not before startTime") {
  std::string running = Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning);
  std::string complete = Conditions({"SuccessCriteriaMet", "Complete"}) + "," + Time("startTime", kStart) +
                         R"(,"succeeded":1)";
  CHECK_CAUSE(Update(running, Job(complete + "," + Time("completionTime", kEarlier))), kInvalid,
              "status.completionTime",
              "Invalid value: 2024-05-01 09:00:00 +0000 UTC: completionTime cannot be set before startTime");
  CHECK_CAUSE(Update(running, Job(complete)), kRequired, "status.completionTime",
              "Required value: completionTime is required for Complete jobs");
  CHECK_CAUSE(Update(running, Job(Conditions({"SuccessCriteriaMet"}) + "," + kRunning + "," +
                                  Time("completionTime", "2024-05-01T10:05:00.25Z"))), kInvalid,
              "status.completionTime",
              "Invalid value: 2024-05-01 10:05:00.25 +0000 UTC: "
              "cannot set completionTime when there is no Complete=True condition");
  CHECK_CAUSE(Update(Job(Completed()), Job(Completed(kNoPods, "2024-05-01T10:06:00Z"))),
              kInvalid, "status.completionTime",
              "Invalid value: 2024-05-01 10:06:00 +0000 UTC: completionTime cannot be mutated");
  CHECK_VALID(Update(running, Job(complete + "," + Time("completionTime", kStart))));
  CHECK_VALID(Update(Job(Completed()), Job(Completed(kNoPods, "2024-05-01T11:05:00+01:00"))));
}

TEST_CASE("Job status: rules that fire on a change leave an unchanged bad status alone") {
  // Stored by an older server: Failed without FailureTarget, active pods, no startTime.
  std::string legacy = Conditions({"Failed"}) + R"(,"active":2,"failed":1)";
  CHECK_VALID(Update(Job(legacy), Job(legacy + R"(,"ready":0)")));
  std::string uncounted = Completed() + R"(,"uncountedTerminatedPods":{"failed":["p1"]})";
  CHECK_VALID(Update(Job(uncounted), Job(uncounted)));
  // Changing one of the fields a rule reads brings it back.
  CHECK_CAUSE(Update(Job(legacy), Job(Conditions({"Failed"}) + R"(,"active":1,"failed":1)")), kInvalid,
              "status.active", "Invalid value: 1: active>0 is invalid for finished job");
}

TEST_CASE("Job status without a stored Job: only the rules that need none") {
  auto create = [](const std::string& status) {
    rapidjson::Document job = Json(Job(status));
    return Validate("batch", "v1", "Job", job, nullptr, "status");
  };
  CHECK_VALID(create(Conditions({"Complete"})));
  CHECK_VALID(create(R"("active":1,"ready":5)"));
  CHECK_CAUSE(create(Conditions({"SuccessCriteriaMet", "FailureTarget"})), kInvalid, "status.conditions",
              "Invalid value: cannot set SuccessCriteriaMet=True and FailureTarget=true conditions");
  CHECK_CAUSE(create(R"("uncountedTerminatedPods":{"failed":["a","a"]})"), "FieldValueDuplicate",
              "status.uncountedTerminatedPods.failed[1]", R"(Duplicate value: "a")");
  // The non-negative counters stay.
  CHECK_CAUSE(create(R"("active":-1)"), kInvalid, "status.active",
              "Invalid value: -1: must be greater than or equal to 0");
}

TEST_CASE("Job status: the writes of the Job controller's usual lifecycle pass") {
  std::string created = Job("");
  std::string started = Job(kRunning + R"(,"uncountedTerminatedPods":{})");
  std::string counted = Job(Time("startTime", kStart) +
                            R"(,"active":0,"ready":0,"terminating":0,"uncountedTerminatedPods":{"succeeded":["p1"]})");
  std::string met = Job(Conditions({"SuccessCriteriaMet"}) + "," + Time("startTime", kStart) +
                        R"(,"active":0,"ready":0,"terminating":0,"succeeded":1,"uncountedTerminatedPods":{})");
  std::string done = Job(Completed() + R"(,"uncountedTerminatedPods":{})");
  CHECK_VALID(Update(created, started));
  CHECK_VALID(Update(started, counted));
  CHECK_VALID(Update(counted, met));
  CHECK_VALID(Update(met, done));
}
