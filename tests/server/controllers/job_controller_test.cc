// The Job controller against a real API server; the test plays the kubelet by setting pod
// phases.
#include "src/server/controllers/job_controller.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "src/server/controllers/garbage_collector.h"
#include "tests/server/controllers/workload_testing.h"

namespace kite::controllers {
namespace {

using testing::Eventually;
using namespace workload_testing;

// The API server with the Job controller (pod-failure back-off `backoff`) and the garbage
// collector running.
struct JobFixture {
  testing::ApiFixture api;
  ControllerManager manager{api.transport()};
  client::ResourceClient pods = api.Client(client::kPods);
  client::ResourceClient jobs = api.Client(client::kJobs);

  explicit JobFixture(std::chrono::milliseconds backoff = std::chrono::milliseconds(10)) {
    JobController::Options options;
    options.pod_failure_backoff = backoff;
    manager.Add(std::make_unique<JobController>(options));
    manager.Add(std::make_unique<GarbageCollector>(BuiltinGcResources()));
    REQUIRE(manager.Start().ok());
  }
  ~JobFixture() { manager.Stop(); }

  // Every pod of Job `name` (terminal ones too).
  std::vector<rapidjson::Document> PodsOf(std::string_view name) {
    client::ListOptions options;
    options.label_selector = "batch.kubernetes.io/job-name=" + std::string(name);
    auto list = pods.List("default", options);
    REQUIRE(list.ok());
    std::vector<rapidjson::Document> out;
    for (const rapidjson::Value& item : (*list)["items"].GetArray()) {
      rapidjson::Document d;
      d.CopyFrom(item, d.GetAllocator());
      out.push_back(std::move(d));
    }
    return out;
  }
  std::vector<rapidjson::Document> ActivePodsOf(std::string_view name) {
    std::vector<rapidjson::Document> out;
    for (auto& p : PodsOf(name)) {
      if (IsPodActive(p)) out.push_back(std::move(p));
    }
    return out;
  }
  rapidjson::Document Job(std::string_view name) {
    auto got = jobs.Get("default", name);
    REQUIRE(got.ok());
    return std::move(got).value();
  }
  // The Job's status and its pods' phases and finalizers, for failure messages.
  std::string Describe(std::string_view name) {
    rapidjson::Document job = Job(name);
    std::string out = "job " + std::string(json::StringMember(job["metadata"], "resourceVersion")) + " status " +
                      (job.HasMember("status") ? json::ToJson(job["status"]) : std::string("{}"));
    for (const auto& pod : PodsOf(name)) {
      out += "\npod " + std::string(json::StringMember(pod["metadata"], "name")) + " " +
             std::string(StatusString(pod, "phase")) + " finalizers " +
             (pod["metadata"].HasMember("finalizers") ? json::ToJson(pod["metadata"]["finalizers"]) : "[]");
    }
    return out;
  }
};

std::string JobJson(std::string_view name, std::string_view extra_spec) {
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{)" + std::string(extra_spec) +
         R"("template":{"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":0,)"
         R"("containers":[{"name":"c","image":"busybox"}]}}}})";
}

// What a kubelet reports when the pod's container exited (0: Succeeded, else Failed), with
// the pod conditions `conditions` (a JSON array).
Status Finish(client::ResourceClient& pods, const rapidjson::Value& pod, int exit_code,
              std::string_view conditions = "[]") {
  rapidjson::Document d;
  d.CopyFrom(pod, d.GetAllocator());
  auto& a = d.GetAllocator();
  std::string now = FormatRfc3339Seconds(SystemClock::Get()->NowMillis());
  auto status = json::ParseJson(std::string(R"({"phase":")") + (exit_code == 0 ? "Succeeded" : "Failed") +
                                R"(","conditions":)" + std::string(conditions) + R"(,"containerStatuses":[{"name":"c","ready":false,"restartCount":0,)"
                                R"("state":{"terminated":{"exitCode":)" + std::to_string(exit_code) +
                                R"(,"startedAt":")" + now + R"(","finishedAt":")" + now + R"("}}}]})");
  if (!status.ok()) return status.status();
  json::SetMember(d, "status", rapidjson::Value(*status, a), a);
  auto updated = pods.UpdateStatus(d);
  return updated.ok() ? Status() : updated.status();
}

// The types of status.conditions, in order.
std::vector<std::string> ConditionTypes(const rapidjson::Value& job) {
  std::vector<std::string> out;
  const rapidjson::Value* status = json::Member(job, "status");
  const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (conditions && conditions->IsArray()) {
    for (const auto& c : conditions->GetArray()) out.emplace_back(json::StringMember(c, "type"));
  }
  return out;
}

TEST_CASE("a Job runs its completions, never more than parallelism pods at once") {
  JobFixture f;
  rapidjson::Document job = f.api.Create(client::kJobs, "default", JobJson("pi", R"("completions":4,"parallelism":2,)"));
  std::string uid(UidOf(job));
  PodHistory history(f.pods, "batch.kubernetes.io/job-name=pi");
  size_t most_active = 0;
  auto check = [&](const std::vector<const rapidjson::Value*>& active) { most_active = std::max(most_active, active.size()); };

  REQUIRE(Eventually([&] { return f.ActivePodsOf("pi").size() == 2; }));
  for (const auto& pod : f.PodsOf("pi")) {
    CHECK(NameOf(pod).substr(0, 3) == "pi-");
    CHECK(NameOf(pod).size() == 8);
    CHECK(Label(pod, "batch.kubernetes.io/controller-uid") == uid);
    CHECK(Label(pod, "controller-uid") == uid);
    CHECK(Label(pod, "batch.kubernetes.io/job-name") == "pi");
    CHECK(Label(pod, "job-name") == "pi");
    std::optional<OwnerReference> ref = ControllerOf(pod);
    REQUIRE(ref);
    CHECK(ref->uid == uid);
    CHECK(ref->kind == "Job");
    CHECK(HasFinalizer(pod, kJobTrackingFinalizer));
  }
  CHECK(Eventually([&] {
    auto j = f.Job("pi");
    return StatusInt(j, "active") == 2 && !StatusString(j, "startTime").empty();
  }));

  // Succeed pods one by one until four have.
  int succeeded = 0;
  while (succeeded < 4) {
    std::vector<rapidjson::Document> active;
    REQUIRE(Eventually([&] {
      active = f.ActivePodsOf("pi");
      return !active.empty();
    }));
    REQUIRE(Finish(f.pods, active[0], 0).ok());
    ++succeeded;
    history.Drain(std::chrono::milliseconds(50), check);
  }
  REQUIRE(Eventually([&] { return Condition(f.Job("pi"), "Complete") != nullptr; }));
  history.Drain(std::chrono::milliseconds(100), check);
  CHECK(most_active <= 2);

  auto done = f.Job("pi");
  CHECK(StatusInt(done, "succeeded") == 4);
  CHECK(StatusInt(done, "failed") == 0);
  CHECK(StatusInt(done, "active") == 0);
  CHECK(!StatusString(done, "completionTime").empty());
  CHECK(ConditionTypes(done) == std::vector<std::string>{"SuccessCriteriaMet", "Complete"});
  CHECK(json::StringMember(*Condition(done, "Complete"), "reason") == "CompletionsReached");
  CHECK(json::StringMember(*Condition(done, "Complete"), "message") == "Reached expected number of succeeded pods");
  CHECK(json::ToJson(done["status"]["uncountedTerminatedPods"]) == "{}");
  // Finished pods stay (the garbage collector takes them with the Job), without the finalizer.
  auto pods = f.PodsOf("pi");
  CHECK(pods.size() == 4);
  for (const auto& pod : pods) {
    CHECK(StatusString(pod, "phase") == "Succeeded");
    CHECK_FALSE(HasFinalizer(pod, kJobTrackingFinalizer));
  }
}

TEST_CASE("failed pods are retried until backoffLimit, then the Job fails") {
  JobFixture f;
  f.api.Create(client::kJobs, "default", JobJson("flaky", R"("backoffLimit":2,)"));
  for (int failures = 1; failures <= 3; ++failures) {
    std::vector<rapidjson::Document> active;
    bool one_active = Eventually([&] {
      active = f.ActivePodsOf("flaky");
      return active.size() == 1;
    });
    INFO(f.Describe("flaky"));
    REQUIRE(one_active);
    REQUIRE(Finish(f.pods, active[0], 1).ok());
    if (failures < 3) {
      bool counted = Eventually([&] { return StatusInt(f.Job("flaky"), "failed") == failures; });
      INFO(f.Describe("flaky"));
      CHECK(counted);
    }
  }
  REQUIRE(Eventually([&] { return Condition(f.Job("flaky"), "Failed") != nullptr; }));
  auto failed = f.Job("flaky");
  CHECK(StatusInt(failed, "failed") == 3);
  CHECK(StatusInt(failed, "succeeded") == 0);
  CHECK(ConditionTypes(failed) == std::vector<std::string>{"FailureTarget", "Failed"});
  CHECK(json::StringMember(*Condition(failed, "Failed"), "reason") == "BackoffLimitExceeded");
  CHECK(json::StringMember(*Condition(failed, "Failed"), "message") == "Job has reached the specified backoff limit");
  CHECK(StatusString(failed, "completionTime").empty());
  CHECK(f.PodsOf("flaky").size() == 3);
  CHECK(f.ActivePodsOf("flaky").empty());
}

TEST_CASE("a replacement for a failed pod waits for the pod-failure back-off") {
  JobFixture f(std::chrono::milliseconds(4000));
  f.api.Create(client::kJobs, "default", JobJson("slow", ""));
  std::vector<rapidjson::Document> active;
  REQUIRE(Eventually([&] {
    active = f.ActivePodsOf("slow");
    return active.size() == 1;
  }));
  REQUIRE(Finish(f.pods, active[0], 1).ok());
  REQUIRE(Eventually([&] { return StatusInt(f.Job("slow"), "failed") == 1; }));
  // The finish time is recorded to the second: most of the 4 s are still left now.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.ActivePodsOf("slow").empty());
  CHECK(Eventually([&] { return f.ActivePodsOf("slow").size() == 1; }));
}

TEST_CASE("activeDeadlineSeconds fails the Job and stops its pods") {
  JobFixture f;
  f.api.Create(client::kJobs, "default", JobJson("late", R"("parallelism":2,"completions":5,"activeDeadlineSeconds":2,)"));
  REQUIRE(Eventually([&] { return Condition(f.Job("late"), "Failed") != nullptr; }, std::chrono::seconds(20)));
  auto failed = f.Job("late");
  CHECK(json::StringMember(*Condition(failed, "Failed"), "reason") == "DeadlineExceeded");
  CHECK(json::StringMember(*Condition(failed, "Failed"), "message") == "Job was active longer than specified deadline");
  CHECK(Condition(failed, "FailureTarget") != nullptr);
  // The two running pods were deleted, and count as failed.
  CHECK(StatusInt(failed, "failed") == 2);
  CHECK(StatusInt(failed, "active") == 0);
  CHECK(Eventually([&] { return f.PodsOf("late").empty(); }));
}

TEST_CASE("ttlSecondsAfterFinished deletes a finished Job with its pods") {
  JobFixture f;
  f.api.Create(client::kJobs, "default", JobJson("short", R"("ttlSecondsAfterFinished":1,)"));
  std::vector<rapidjson::Document> active;
  REQUIRE(Eventually([&] {
    active = f.ActivePodsOf("short");
    return active.size() == 1;
  }));
  REQUIRE(Finish(f.pods, active[0], 0).ok());
  // Complete, then gone: on a loaded machine the second may pass before a poll sees the first.
  REQUIRE(Eventually([&] {
    auto job = f.jobs.Get("default", "short");
    if (!job.ok()) return job.status().code() == StatusCode::kNotFound;
    return Condition(*job, "Complete") != nullptr;
  }));
  CHECK(Eventually([&] { return f.jobs.Get("default", "short").status().code() == StatusCode::kNotFound; }));
  CHECK(Eventually([&] { return f.PodsOf("short").empty(); }));
}

TEST_CASE("a suspended Job runs no pods; resuming starts them, suspending again stops them") {
  JobFixture f;
  f.api.Create(client::kJobs, "default", JobJson("later", R"("parallelism":2,"completions":4,"suspend":true,)"));
  REQUIRE(Eventually([&] {
    rapidjson::Document j = f.Job("later");
    const rapidjson::Value* c = Condition(j, "Suspended");
    return c && json::StringMember(*c, "status") == "True";
  }));
  auto suspended = f.Job("later");
  CHECK(json::StringMember(*Condition(suspended, "Suspended"), "reason") == "JobSuspended");
  CHECK(StatusString(suspended, "startTime").empty());
  CHECK(f.PodsOf("later").empty());

  REQUIRE(f.jobs.Patch("default", "later", client::PatchType::kMerge, R"({"spec":{"suspend":false}})").ok());
  REQUIRE(Eventually([&] { return f.ActivePodsOf("later").size() == 2; }));
  CHECK(Eventually([&] {
    auto j = f.Job("later");
    const rapidjson::Value* c = Condition(j, "Suspended");
    return c && json::StringMember(*c, "status") == "False" && json::StringMember(*c, "reason") == "JobResumed" &&
           !StatusString(j, "startTime").empty();
  }));

  REQUIRE(f.jobs.Patch("default", "later", client::PatchType::kMerge, R"({"spec":{"suspend":true}})").ok());
  CHECK(Eventually([&] { return f.PodsOf("later").empty(); }));
  CHECK(Eventually([&] {
    auto j = f.Job("later");
    const rapidjson::Value* c = Condition(j, "Suspended");
    return c && json::StringMember(*c, "status") == "True" && StatusInt(j, "active") == 0;
  }));
  // Pods the controller removed for suspension are not failures.
  CHECK(StatusInt(f.Job("later"), "failed") == 0);

  // Resumed again, the Job that ran before restarts its clock: the status write that moves
  // startTime is one the API accepts (Kubernetes 1.32.10 and later).
  auto stopped = f.Job("later");
  const std::string first_start(StatusString(stopped, "startTime"));
  REQUIRE(Eventually([&] { return FormatRfc3339Seconds(SystemClock::Get()->NowMillis()) != first_start; }));
  REQUIRE(f.jobs.Patch("default", "later", client::PatchType::kMerge, R"({"spec":{"suspend":false}})").ok());
  CHECK(Eventually([&] {
    auto j = f.Job("later");
    const rapidjson::Value* c = Condition(j, "Suspended");
    return c && json::StringMember(*c, "status") == "False" && StatusString(j, "startTime") != first_start &&
           StatusInt(j, "active") == 2;
  }));
}

TEST_CASE("deleting a Job releases its pods' tracking finalizers so they can go") {
  JobFixture f;
  f.api.Create(client::kJobs, "default", JobJson("gone", R"("parallelism":2,"completions":2,)"));
  REQUIRE(Eventually([&] { return f.ActivePodsOf("gone").size() == 2; }));
  REQUIRE(f.jobs.Delete("default", "gone", R"({"propagationPolicy":"Background"})").ok());
  CHECK(Eventually([&] { return f.PodsOf("gone").empty(); }));
}

// --- completionMode Indexed ---------------------------------------------------------------

constexpr char kIndexKey[] = "batch.kubernetes.io/job-completion-index";

// The active pod of index `ix` of Job `name` (REQUIREs there is exactly one, eventually).
rapidjson::Document ActivePodOfIndex(JobFixture& f, std::string_view name, int ix) {
  rapidjson::Document found;
  bool one = Eventually([&] {
    int n = 0;
    for (auto& p : f.ActivePodsOf(name)) {
      if (Annotation(p, kIndexKey) == std::to_string(ix)) {
        ++n;
        found = std::move(p);
      }
    }
    return n == 1;
  });
  INFO(f.Describe(name));
  REQUIRE(one);
  return found;
}

std::set<std::string> ActiveIndexes(JobFixture& f, std::string_view name) {
  std::set<std::string> out;
  for (const auto& p : f.ActivePodsOf(name)) out.insert(Annotation(p, kIndexKey));
  return out;
}

TEST_CASE("an Indexed Job runs one pod per index and records completed indexes") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("idx", R"("completionMode":"Indexed","completions":5,"parallelism":3,)"));
  PodHistory history(f.pods, "batch.kubernetes.io/job-name=idx");
  size_t most_active = 0;
  bool duplicate_index = false;
  auto check = [&](const std::vector<const rapidjson::Value*>& active) {
    most_active = std::max(most_active, active.size());
    std::set<std::string> seen;
    for (const rapidjson::Value* p : active) {
      if (!seen.insert(Annotation(*p, kIndexKey)).second) duplicate_index = true;
    }
  };

  // The lowest indexes start first.
  REQUIRE(Eventually([&] { return ActiveIndexes(f, "idx") == std::set<std::string>{"0", "1", "2"}; }));
  for (const auto& pod : f.ActivePodsOf("idx")) {
    std::string ix = Annotation(pod, kIndexKey);
    std::string name(NameOf(pod));
    CHECK(name.substr(0, 6) == "idx-" + ix + "-");
    CHECK(name.size() == 11);
    CHECK(Label(pod, kIndexKey) == ix);
    CHECK(json::StringMember(pod["spec"], "hostname") == "idx-" + ix);
    const rapidjson::Value& env = pod["spec"]["containers"][0]["env"];
    REQUIRE(env.Size() == 1);
    CHECK(json::StringMember(env[0], "name") == "JOB_COMPLETION_INDEX");
    CHECK(json::StringMember(env[0]["valueFrom"]["fieldRef"], "fieldPath") ==
          "metadata.labels['batch.kubernetes.io/job-completion-index']");
    CHECK(HasFinalizer(pod, kJobTrackingFinalizer));
  }

  // Index 1 succeeds: index 3 starts.
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "idx", 1), 0).ok());
  REQUIRE(Eventually([&] { return ActiveIndexes(f, "idx") == std::set<std::string>{"0", "2", "3"}; }));
  CHECK(Eventually([&] { return StatusString(f.Job("idx"), "completedIndexes") == "1"; }));
  // Index 3 succeeds: a gap in completedIndexes.
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "idx", 3), 0).ok());
  REQUIRE(Eventually([&] { return ActiveIndexes(f, "idx") == std::set<std::string>{"0", "2", "4"}; }));
  CHECK(Eventually([&] {
    auto j = f.Job("idx");
    return StatusString(j, "completedIndexes") == "1,3" && StatusInt(j, "succeeded") == 2;
  }));
  history.Drain(std::chrono::milliseconds(50), check);

  // Index 0 fails: it is retried with a new pod.
  rapidjson::Document first_zero = ActivePodOfIndex(f, "idx", 0);
  REQUIRE(Finish(f.pods, first_zero, 1).ok());
  rapidjson::Document second_zero;
  REQUIRE(Eventually([&] {
    second_zero = ActivePodOfIndex(f, "idx", 0);
    return NameOf(second_zero) != NameOf(first_zero);
  }));
  CHECK(Eventually([&] { return StatusInt(f.Job("idx"), "failed") == 1; }));

  for (int ix : {4, 0, 2}) {
    REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "idx", ix), 0).ok());
    history.Drain(std::chrono::milliseconds(50), check);
  }
  REQUIRE(Eventually([&] { return Condition(f.Job("idx"), "Complete") != nullptr; }));
  history.Drain(std::chrono::milliseconds(100), check);
  CHECK(most_active <= 3);
  CHECK_FALSE(duplicate_index);
  auto done = f.Job("idx");
  INFO(f.Describe("idx"));
  CHECK(StatusString(done, "completedIndexes") == "0-4");
  CHECK(StatusInt(done, "succeeded") == 5);
  CHECK(StatusInt(done, "failed") == 1);
  CHECK(StatusInt(done, "active") == 0);
  CHECK(ConditionTypes(done) == std::vector<std::string>{"SuccessCriteriaMet", "Complete"});
  CHECK(json::ToJson(done["status"]["uncountedTerminatedPods"]) == "{}");
  CHECK(f.PodsOf("idx").size() == 6);
}

TEST_CASE("a second pod of an index is deleted; an index succeeding twice counts once") {
  JobFixture f;
  rapidjson::Document job = f.api.Create(
      client::kJobs, "default", JobJson("dup", R"("completionMode":"Indexed","completions":2,"parallelism":1,)"));
  std::string uid(UidOf(job));
  rapidjson::Document original = ActivePodOfIndex(f, "dup", 0);
  // An orphan that matches the selector and claims index 0 too (as after a race): adopted,
  // then one of the two goes.
  f.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"dup-0-extra","labels":{"batch.kubernetes.io/controller-uid":")" + uid +
                   R"(","batch.kubernetes.io/job-name":"dup","controller-uid":")" + uid +
                   R"(","job-name":"dup"},"annotations":{"batch.kubernetes.io/job-completion-index":"0"}},)"
                   R"("spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":0,)"
                   R"("containers":[{"name":"c","image":"busybox"}]}})");
  CHECK(Eventually([&] {
    auto active = f.ActivePodsOf("dup");
    return active.size() == 1 && Annotation(active[0], kIndexKey) == "0";
  }));
  rapidjson::Document kept = ActivePodOfIndex(f, "dup", 0);
  REQUIRE(Finish(f.pods, kept, 0).ok());
  rapidjson::Document one = ActivePodOfIndex(f, "dup", 1);
  REQUIRE(Finish(f.pods, one, 0).ok());
  REQUIRE(Eventually([&] { return Condition(f.Job("dup"), "Complete") != nullptr; }));
  auto done = f.Job("dup");
  CHECK(StatusString(done, "completedIndexes") == "0,1");
  CHECK(StatusInt(done, "succeeded") == 2);
  // The deleted duplicate is not a failure.
  CHECK(StatusInt(done, "failed") == 0);
}

TEST_CASE("an Indexed Job whose successPolicy is met completes and stops its other pods") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("leader", R"("completionMode":"Indexed","completions":3,"parallelism":3,)"
                                 R"("successPolicy":{"rules":[{"succeededIndexes":"0"}]},)"));
  REQUIRE(Eventually([&] { return f.ActivePodsOf("leader").size() == 3; }));
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "leader", 0), 0).ok());
  bool complete = Eventually([&] { return Condition(f.Job("leader"), "Complete") != nullptr; });
  INFO(f.Describe("leader"));
  REQUIRE(complete);
  auto done = f.Job("leader");
  CHECK(ConditionTypes(done) == std::vector<std::string>{"SuccessCriteriaMet", "Complete"});
  CHECK(json::StringMember(*Condition(done, "Complete"), "reason") == "SuccessPolicy");
  CHECK(json::StringMember(*Condition(done, "Complete"), "message") == "Matched rules at index 0");
  CHECK(json::StringMember(*Condition(done, "SuccessCriteriaMet"), "reason") == "SuccessPolicy");
  CHECK(StatusString(done, "completedIndexes") == "0");
  CHECK(StatusInt(done, "succeeded") == 1);
  CHECK(StatusInt(done, "active") == 0);
  CHECK(f.ActivePodsOf("leader").empty());
}

// --- podFailurePolicy ----------------------------------------------------------------------

TEST_CASE("podFailurePolicy FailJob fails the Job at once with the rule's message") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("fatal", R"("parallelism":2,"completions":4,"backoffLimit":6,"podFailurePolicy":{"rules":[)"
                                R"({"action":"FailJob","onExitCodes":{"containerName":"c","operator":"In","values":[42]}}]},)"));
  std::vector<rapidjson::Document> active;
  REQUIRE(Eventually([&] {
    active = f.ActivePodsOf("fatal");
    return active.size() == 2;
  }));
  std::string pod_name(NameOf(active[0]));
  REQUIRE(Finish(f.pods, active[0], 42).ok());
  bool failed_job = Eventually([&] { return Condition(f.Job("fatal"), "Failed") != nullptr; });
  INFO(f.Describe("fatal"));
  REQUIRE(failed_job);
  auto failed = f.Job("fatal");
  std::string message = "Container c for pod default/" + pod_name + " failed with exit code 42 matching FailJob rule at index 0";
  CHECK(ConditionTypes(failed) == std::vector<std::string>{"FailureTarget", "Failed"});
  CHECK(json::StringMember(*Condition(failed, "FailureTarget"), "reason") == "PodFailurePolicy");
  CHECK(json::StringMember(*Condition(failed, "FailureTarget"), "message") == message);
  CHECK(json::StringMember(*Condition(failed, "Failed"), "reason") == "PodFailurePolicy");
  CHECK(json::StringMember(*Condition(failed, "Failed"), "message") == message);
  // The other pod was stopped and counts as failed too.
  CHECK(StatusInt(failed, "failed") == 2);
  CHECK(StatusInt(failed, "active") == 0);
  CHECK(f.ActivePodsOf("fatal").empty());
}

TEST_CASE("podFailurePolicy Ignore does not count toward backoffLimit; Count does") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("disrupted", R"("backoffLimit":0,"podFailurePolicy":{"rules":[)"
                                    R"({"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]},)"
                                    R"({"action":"Count","onExitCodes":{"operator":"In","values":[1]}}]},)"));
  std::vector<rapidjson::Document> active;
  REQUIRE(Eventually([&] {
    active = f.ActivePodsOf("disrupted");
    return active.size() == 1;
  }));
  std::string first(NameOf(active[0]));
  REQUIRE(Finish(f.pods, active[0], 1, R"([{"type":"DisruptionTarget","status":"True","reason":"PreemptionByScheduler"}])").ok());
  // Replaced, not counted: with backoffLimit 0 one counted failure would fail the Job.
  bool replaced = Eventually([&] {
    active = f.ActivePodsOf("disrupted");
    return active.size() == 1 && NameOf(active[0]) != first;
  });
  INFO(f.Describe("disrupted"));
  REQUIRE(replaced);
  // The ignored pod's finalizer goes without it being counted.
  CHECK(Eventually([&] {
    for (const auto& p : f.PodsOf("disrupted")) {
      if (NameOf(p) == first) return !HasFinalizer(p, kJobTrackingFinalizer);
    }
    return false;
  }));
  auto job = f.Job("disrupted");
  CHECK(StatusInt(job, "failed") == 0);
  CHECK(Condition(job, "Failed") == nullptr);

  // Exit code 1 without the condition: Count, and backoffLimit 0 is exceeded.
  REQUIRE(Finish(f.pods, active[0], 1).ok());
  REQUIRE(Eventually([&] { return Condition(f.Job("disrupted"), "Failed") != nullptr; }));
  auto failed = f.Job("disrupted");
  CHECK(StatusInt(failed, "failed") == 1);
  CHECK(json::StringMember(*Condition(failed, "Failed"), "reason") == "BackoffLimitExceeded");
  CHECK(f.PodsOf("disrupted").size() == 2);
}

// --- backoffLimitPerIndex ------------------------------------------------------------------

constexpr char kFailureCountKey[] = "batch.kubernetes.io/job-index-failure-count";
constexpr char kIgnoredCountKey[] = "batch.kubernetes.io/job-index-ignored-failure-count";

// Whether status.failedIndexes is present and equals `want`.
bool FailedIndexesAre(const rapidjson::Value& job, std::string_view want) {
  const rapidjson::Value* status = json::Member(job, "status");
  const rapidjson::Value* v = status ? json::Member(*status, "failedIndexes") : nullptr;
  return v && v->IsString() && std::string_view(v->GetString(), v->GetStringLength()) == want;
}

// The active pod of index `ix` once it is another than `previous` (REQUIREs one appears).
rapidjson::Document ReplacementOfIndex(JobFixture& f, std::string_view name, int ix, const rapidjson::Value& previous) {
  rapidjson::Document found;
  bool replaced = Eventually([&] {
    found = ActivePodOfIndex(f, name, ix);
    return NameOf(found) != NameOf(previous);
  });
  INFO(f.Describe(name));
  REQUIRE(replaced);
  return found;
}

TEST_CASE("backoffLimitPerIndex: an index is retried up to its own limit, then fails while the others go on") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("per", R"("completionMode":"Indexed","completions":3,"parallelism":3,"backoffLimitPerIndex":1,)"));
  // backoffLimit is out of the way (defaulted to MaxInt32).
  CHECK(SpecInt(f.Job("per"), "backoffLimit") == 2147483647);
  REQUIRE(Eventually([&] { return ActiveIndexes(f, "per") == std::set<std::string>{"0", "1", "2"}; }));
  for (const auto& pod : f.ActivePodsOf("per")) {
    CHECK(Annotation(pod, kFailureCountKey) == "0");
    CHECK(Annotation(pod, kIgnoredCountKey).empty());
  }
  // No index failed yet: failedIndexes is there, empty.
  CHECK(Eventually([&] { return FailedIndexesAre(f.Job("per"), ""); }));

  // Index 0 fails once: retried, the replacement counting that failure.
  rapidjson::Document first = ActivePodOfIndex(f, "per", 0);
  REQUIRE(Finish(f.pods, first, 1).ok());
  rapidjson::Document second = ReplacementOfIndex(f, "per", 0, first);
  CHECK(Annotation(second, kFailureCountKey) == "1");
  CHECK(Annotation(second, kIndexKey) == "0");
  // Once replaced, the failed pod is counted and released.
  CHECK(Eventually([&] {
    auto j = f.Job("per");
    return StatusInt(j, "failed") == 1 && FailedIndexesAre(j, "");
  }));
  CHECK(Eventually([&] {
    for (const auto& p : f.PodsOf("per")) {
      if (NameOf(p) == NameOf(first)) return !HasFinalizer(p, kJobTrackingFinalizer);
    }
    return false;
  }));

  // Index 0 fails again, beyond its limit: it is failed, not retried, and the Job goes on.
  REQUIRE(Finish(f.pods, second, 1).ok());
  bool index_failed = Eventually([&] {
    auto j = f.Job("per");
    return FailedIndexesAre(j, "0") && StatusInt(j, "failed") == 2;
  });
  INFO(f.Describe("per"));
  REQUIRE(index_failed);
  CHECK(ActiveIndexes(f, "per") == std::set<std::string>{"1", "2"});
  CHECK(Condition(f.Job("per"), "FailureTarget") == nullptr);
  CHECK(Condition(f.Job("per"), "Failed") == nullptr);

  // The other indexes succeed: then the Job fails, for its failed index.
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "per", 1), 0).ok());
  REQUIRE(Eventually([&] { return StatusString(f.Job("per"), "completedIndexes") == "1"; }));
  CHECK(Condition(f.Job("per"), "Failed") == nullptr);
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "per", 2), 0).ok());
  bool failed_job = Eventually([&] { return Condition(f.Job("per"), "Failed") != nullptr; });
  INFO(f.Describe("per"));
  REQUIRE(failed_job);
  auto done = f.Job("per");
  CHECK(ConditionTypes(done) == std::vector<std::string>{"FailureTarget", "Failed"});
  CHECK(json::StringMember(*Condition(done, "FailureTarget"), "reason") == "FailedIndexes");
  CHECK(json::StringMember(*Condition(done, "Failed"), "reason") == "FailedIndexes");
  CHECK(json::StringMember(*Condition(done, "Failed"), "message") == "Job has failed indexes");
  CHECK(FailedIndexesAre(done, "0"));
  CHECK(StatusString(done, "completedIndexes") == "1,2");
  CHECK(StatusInt(done, "succeeded") == 2);
  CHECK(StatusInt(done, "failed") == 2);
  CHECK(StatusInt(done, "active") == 0);
  CHECK(StatusString(done, "completionTime").empty());
  CHECK(json::ToJson(done["status"]["uncountedTerminatedPods"]) == "{}");
  CHECK(f.PodsOf("per").size() == 4);
}

TEST_CASE("backoffLimitPerIndex: more failed indexes than maxFailedIndexes fail the Job at once") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("most", R"("completionMode":"Indexed","completions":4,"parallelism":4,)"
                               R"("backoffLimitPerIndex":0,"maxFailedIndexes":1,"podReplacementPolicy":"Failed",)"));
  REQUIRE(Eventually([&] { return f.ActivePodsOf("most").size() == 4; }));
  // One failed index is tolerated.
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "most", 0), 1).ok());
  REQUIRE(Eventually([&] { return FailedIndexesAre(f.Job("most"), "0"); }));
  CHECK(ActiveIndexes(f, "most") == std::set<std::string>{"1", "2", "3"});
  CHECK(Condition(f.Job("most"), "FailureTarget") == nullptr);
  // The second is one too many: the running indexes are stopped and the Job fails.
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "most", 1), 1).ok());
  bool failed_job = Eventually([&] { return Condition(f.Job("most"), "Failed") != nullptr; });
  INFO(f.Describe("most"));
  REQUIRE(failed_job);
  auto done = f.Job("most");
  CHECK(ConditionTypes(done) == std::vector<std::string>{"FailureTarget", "Failed"});
  CHECK(json::StringMember(*Condition(done, "Failed"), "reason") == "MaxFailedIndexesExceeded");
  CHECK(json::StringMember(*Condition(done, "Failed"), "message") ==
        "Job has exceeded the specified maximal number of failed indexes");
  // With podReplacementPolicy Failed the stopped pods are not failures of their indexes
  // (with TerminatingOrFailed they may be, as in Kubernetes, depending on when the deletions
  // are seen), but they count as failed pods once the Job failed.
  CHECK(FailedIndexesAre(done, "0,1"));
  CHECK(StatusInt(done, "active") == 0);
  CHECK(StatusInt(done, "failed") == 4);
  CHECK(f.ActivePodsOf("most").empty());
}

TEST_CASE("backoffLimitPerIndex: FailIndex fails the index at once; Ignore'd failures are counted apart") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("rules", R"("completionMode":"Indexed","completions":2,"parallelism":2,"backoffLimitPerIndex":1,)"
                                R"("podFailurePolicy":{"rules":[)"
                                R"({"action":"FailIndex","onExitCodes":{"operator":"In","values":[42]}},)"
                                R"({"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]},)"));
  REQUIRE(Eventually([&] { return f.ActivePodsOf("rules").size() == 2; }));
  // Exit code 42 on index 0: failed on the first failure, below its limit of 1.
  REQUIRE(Finish(f.pods, ActivePodOfIndex(f, "rules", 0), 42).ok());
  bool index_failed = Eventually([&] {
    auto j = f.Job("rules");
    return FailedIndexesAre(j, "0") && StatusInt(j, "failed") == 1;
  });
  INFO(f.Describe("rules"));
  REQUIRE(index_failed);
  CHECK(ActiveIndexes(f, "rules") == std::set<std::string>{"1"});

  // Index 1 disrupted: ignored (not counted), but remembered on the replacement.
  rapidjson::Document one = ActivePodOfIndex(f, "rules", 1);
  REQUIRE(Finish(f.pods, one, 1, R"([{"type":"DisruptionTarget","status":"True","reason":"EvictionByEvictionAPI"}])").ok());
  rapidjson::Document two = ReplacementOfIndex(f, "rules", 1, one);
  CHECK(Annotation(two, kFailureCountKey) == "0");
  CHECK(Annotation(two, kIgnoredCountKey) == "1");
  // A counted failure next: still within the limit of 1, so retried once more.
  REQUIRE(Finish(f.pods, two, 1).ok());
  rapidjson::Document three = ReplacementOfIndex(f, "rules", 1, two);
  CHECK(Annotation(three, kFailureCountKey) == "1");
  CHECK(Annotation(three, kIgnoredCountKey) == "1");
  CHECK(Eventually([&] { return StatusInt(f.Job("rules"), "failed") == 2; }));
  CHECK(FailedIndexesAre(f.Job("rules"), "0"));

  REQUIRE(Finish(f.pods, three, 0).ok());
  REQUIRE(Eventually([&] { return Condition(f.Job("rules"), "Failed") != nullptr; }));
  auto done = f.Job("rules");
  CHECK(json::StringMember(*Condition(done, "Failed"), "reason") == "FailedIndexes");
  CHECK(StatusString(done, "completedIndexes") == "1");
  CHECK(FailedIndexesAre(done, "0"));
  CHECK(StatusInt(done, "failed") == 2);
}

// --- spec.managedBy ------------------------------------------------------------------------

TEST_CASE("a Job managed by another controller gets no pods and no status") {
  JobFixture f;
  f.api.Create(client::kJobs, "default",
               JobJson("theirs", R"("managedBy":"example.com/other","parallelism":2,"completions":2,)"));
  // Naming the built-in controller is the same as not setting the field.
  f.api.Create(client::kJobs, "default", JobJson("ours", R"("managedBy":"kubernetes.io/job-controller",)"));
  // Once the Job created after it runs, the other one has been seen and left alone.
  REQUIRE(Eventually([&] {
    auto j = f.Job("ours");
    return f.ActivePodsOf("ours").size() == 1 && !StatusString(j, "startTime").empty();
  }));
  REQUIRE(Finish(f.pods, f.ActivePodsOf("ours")[0], 0).ok());
  REQUIRE(Eventually([&] { return Condition(f.Job("ours"), "Complete") != nullptr; }));
  auto theirs = f.Job("theirs");
  INFO(json::ToJson(theirs));
  CHECK(f.PodsOf("theirs").empty());
  const rapidjson::Value* status = json::Member(theirs, "status");
  CHECK((status == nullptr || (status->IsObject() && status->ObjectEmpty())));
}

// The message of a rejected Job create or update.
std::string Rejection(const Status& s) {
  INFO(s.message());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  return s.message();
}

TEST_CASE("managedBy, maxFailedIndexes and FailIndex are validated; managedBy is immutable") {
  JobFixture f;
  auto create = [&](std::string_view name, std::string_view spec) {
    auto doc = json::ParseJson(JobJson(name, spec));
    REQUIRE(doc.ok());
    auto created = f.jobs.Create("default", *doc);
    return created.ok() ? Status() : created.status();
  };
  auto has = [](const std::string& message, const std::string& part) {
    INFO(message);
    return message.find(part) != std::string::npos;
  };
  CHECK(has(Rejection(create("a", R"("managedBy":"no-domain",)")),
            R"(spec.managedBy: Invalid value: "no-domain": must be a domain-prefixed path (such as "acme.io/foo"))"));
  CHECK(has(Rejection(create("b", R"("managedBy":"Example.com/x",)")), R"(spec.managedBy: Invalid value: "Example.com": )"));
  CHECK(has(Rejection(create("c", R"("managedBy":"example.com/a b",)")),
            R"(spec.managedBy: Invalid value: "a b": Invalid path (regex used for validation is '[A-Za-z0-9/\-._~%!$&'()*+,;=:]+'))"));
  CHECK(has(Rejection(create("d", R"("managedBy":"example.com/)" + std::string(60, 'x') + R"(",)")),
            "spec.managedBy: Too long: may not be more than 63 bytes"));
  CHECK(has(Rejection(create("e", R"("maxFailedIndexes":1,)")),
            "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified"));
  CHECK(has(Rejection(create("e", R"("maxFailedIndexes":1,)")),
            "spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode"));
  CHECK(has(Rejection(create("g", R"("completionMode":"Indexed","completions":2,"backoffLimitPerIndex":1,"maxFailedIndexes":3,)")),
            "spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions"));
  CHECK(has(Rejection(create("h", R"("completionMode":"Indexed","completions":2,"podFailurePolicy":{"rules":[)"
                                  R"({"action":"FailIndex","onExitCodes":{"operator":"In","values":[3]}}]},)")),
            R"(spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set)"));
  CHECK(has(Rejection(create("i", R"("podFailurePolicy":{"rules":[{"action":"Count","onExitCodes":{"operator":"In","values":[0,2,1]}}]},)")),
            "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator"));
  CHECK(has(Rejection(create("i", R"("podFailurePolicy":{"rules":[{"action":"Count","onExitCodes":{"operator":"In","values":[3,2]}}]},)")),
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 2}: must be ordered"));
  CHECK(has(Rejection(create("j", R"("podFailurePolicy":{"rules":[{"action":"Count"}]},)")),
            "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required"));
  // Accepted: a domain-prefixed path, and FailIndex with a limit per index.
  REQUIRE(create("k", R"("managedBy":"example.com/batch-runner_v2",)").ok());
  REQUIRE(create("l", R"("completionMode":"Indexed","completions":2,"backoffLimitPerIndex":1,"maxFailedIndexes":2,)"
                      R"("podFailurePolicy":{"rules":[{"action":"FailIndex","onExitCodes":{"operator":"In","values":[3]}}]},)")
              .ok());

  // managedBy never changes, neither set later nor changed.
  auto patch = [&](std::string_view name, std::string_view body) {
    auto patched = f.jobs.Patch("default", name, client::PatchType::kMerge, body);
    return patched.ok() ? Status() : patched.status();
  };
  CHECK(has(Rejection(patch("k", R"({"spec":{"managedBy":"example.com/other"}})")),
            R"(spec.managedBy: Invalid value: "example.com/other": field is immutable)"));
  CHECK(has(Rejection(patch("l", R"({"spec":{"managedBy":"example.com/other"}})")),
            R"(spec.managedBy: Invalid value: "example.com/other": field is immutable)"));
}

}  // namespace
}  // namespace kite::controllers
