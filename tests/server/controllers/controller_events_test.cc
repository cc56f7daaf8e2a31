// The Events the workload and node controllers record, as kubectl describe shows them:
// ScalingReplicaSet on a Deployment, SuccessfulCreate / SuccessfulDelete on its ReplicaSet,
// NodeNotReady on a Node that went silent, TaintManagerEviction on the pod evicted;
// SuccessfulCreate and Completed / BackoffLimitExceeded on Jobs.
#include <catch2/catch.hpp>

#include <regex>

#include "src/server/client/event_broadcaster.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/deployment_controller.h"
#include "src/server/controllers/job_controller.h"
#include "src/server/controllers/node_lifecycle_controller.h"
#include "src/server/controllers/replica_set_controller.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using json::Member;
using json::StringMember;
using rapidjson::Value;
using testing::ApiFixture;
using testing::Eventually;

struct Seen {
  std::string kind, name, reason, message, type, component;
  int count = 0;
};

std::vector<Seen> Events(ApiFixture& api, std::string_view ns) {
  std::vector<Seen> out;
  auto list = api.Client(client::kEvents).List(ns);
  REQUIRE(list.ok());
  for (const Value& e : (*list)["items"].GetArray()) {
    const Value& o = *Member(e, "involvedObject");
    out.push_back({std::string(StringMember(o, "kind")), std::string(StringMember(o, "name")),
                   std::string(StringMember(e, "reason")), std::string(StringMember(e, "message")),
                   std::string(StringMember(e, "type")), std::string(StringMember(*Member(e, "source"), "component")),
                   Member(e, "count")->GetInt()});
  }
  return out;
}

// The events matching kind, reason and a message pattern.
std::vector<Seen> Matching(const std::vector<Seen>& all, std::string_view kind, std::string_view reason,
                           const std::string& pattern) {
  std::vector<Seen> out;
  std::regex re(pattern);
  for (const Seen& s : all) {
    if (s.kind == kind && s.reason == reason && std::regex_match(s.message, re)) out.push_back(s);
  }
  return out;
}

TEST_CASE("deployment and replica set events") {
  ApiFixture api;
  client::EventBroadcaster events(api.transport());
  events.Start();
  ControllerManager manager(api.transport());
  manager.Add(std::make_unique<DeploymentController>(SystemClock::Get(),
                                                     events.NewRecorder({"deployment-controller", ""})));
  manager.Add(std::make_unique<ReplicaSetController>(SystemClock::Get(),
                                                     events.NewRecorder({"replicaset-controller", ""})));
  REQUIRE(manager.Start().ok());
  api.Create(client::kDeployments, "default", R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
    "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");

  REQUIRE(Eventually([&] {
    return Matching(Events(api, "default"), "ReplicaSet", "SuccessfulCreate", "Created pod: web-[a-z0-9]+-[a-z0-9]+")
               .size() == 3;
  }));
  std::vector<Seen> all = Events(api, "default");
  std::vector<Seen> scaled = Matching(all, "Deployment", "ScalingReplicaSet", "Scaled up replica set web-[a-z0-9]+ from 0 to 3");
  REQUIRE(scaled.size() == 1);
  CHECK(scaled[0].name == "web");
  CHECK(scaled[0].type == "Normal");
  CHECK(scaled[0].component == "deployment-controller");
  std::vector<Seen> created = Matching(all, "ReplicaSet", "SuccessfulCreate", ".*");
  CHECK(created[0].component == "replicaset-controller");
  CHECK(created[0].name.starts_with("web-"));

  REQUIRE(api.Client(client::kDeployments).Patch("default", "web", client::PatchType::kMerge, R"({"spec":{"replicas":1}})").ok());
  CHECK(Eventually([&] {
    std::vector<Seen> now = Events(api, "default");
    return Matching(now, "Deployment", "ScalingReplicaSet", "Scaled down replica set web-[a-z0-9]+ from 3 to 1").size() == 1 &&
           Matching(now, "ReplicaSet", "SuccessfulDelete", "Deleted pod: web-[a-z0-9]+-[a-z0-9]+").size() == 2;
  }));
  manager.Stop();
  events.Stop();
  CHECK(events.stats().failed == 0);
}

// Ends the only active pod of Job `name` as a kubelet would report it.
void FinishJobPod(ApiFixture& api, std::string_view name, bool succeeded) {
  client::ResourceClient pods = api.Client(client::kPods);
  rapidjson::Document pod;
  REQUIRE(Eventually([&] {
    client::ListOptions options;
    options.label_selector = "batch.kubernetes.io/job-name=" + std::string(name);
    auto list = pods.List("default", options);
    if (!list.ok() || (*list)["items"].Size() != 1) return false;
    pod.CopyFrom((*list)["items"][0], pod.GetAllocator());
    return true;
  }));
  auto status = json::ParseJson(std::string(R"({"phase":")") + (succeeded ? "Succeeded" : "Failed") + R"("})");
  REQUIRE(status.ok());
  json::SetMember(pod, "status", Value(*status, pod.GetAllocator()), pod.GetAllocator());
  REQUIRE(pods.UpdateStatus(pod).ok());
}

TEST_CASE("job events") {
  ApiFixture api;
  client::EventBroadcaster events(api.transport());
  events.Start();
  ControllerManager manager(api.transport());
  JobController::Options options;
  options.recorder = events.NewRecorder({"job-controller", ""});
  manager.Add(std::make_unique<JobController>(std::move(options)));
  REQUIRE(manager.Start().ok());
  for (const char* name : {"ok", "bad"}) {
    api.Create(client::kJobs, "default", std::string(R"({"metadata":{"name":")") + name +
               R"("},"spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never",)"
               R"("containers":[{"name":"c","image":"busybox"}]}}}})");
  }
  REQUIRE(Eventually([&] {
    return Matching(Events(api, "default"), "Job", "SuccessfulCreate", "Created pod: (ok|bad)-[a-z0-9]{5}").size() == 2;
  }));
  FinishJobPod(api, "ok", true);
  FinishJobPod(api, "bad", false);
  REQUIRE(Eventually([&] {
    std::vector<Seen> now = Events(api, "default");
    return Matching(now, "Job", "Completed", "Job completed").size() == 1 &&
           Matching(now, "Job", "BackoffLimitExceeded", "Job has reached the specified backoff limit").size() == 1;
  }));
  std::vector<Seen> all = Events(api, "default");
  std::vector<Seen> completed = Matching(all, "Job", "Completed", ".*");
  CHECK(completed[0].name == "ok");
  CHECK(completed[0].type == "Normal");
  CHECK(completed[0].component == "job-controller");
  std::vector<Seen> failed = Matching(all, "Job", "BackoffLimitExceeded", ".*");
  CHECK(failed[0].name == "bad");
  CHECK(failed[0].type == "Warning");
  CHECK(Matching(all, "Job", "Completed", ".*").size() == 1);
  manager.Stop();
  events.Stop();
  CHECK(events.stats().failed == 0);
}

TEST_CASE("node lifecycle events") {
  ApiFixture api;
  FakeClock clock(1'800'000'000'000);
  std::string start = FormatRfc3339Seconds(clock.NowMillis());
  api.Create(client::kNodes, "",
             R"({"metadata":{"name":"n1"},"status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":")" +
                 start + R"("}]}})");
  api.Create(client::kPods, "default",
             R"({"metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}],
               "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":0}]}})");
  client::EventBroadcaster events(api.transport());
  events.Start();
  ControllerManager manager(api.transport());
  NodeLifecycleOptions options;
  options.clock = &clock;
  options.monitor_period = std::chrono::milliseconds(50);
  options.recorder = events.NewRecorder({"node-controller", ""});
  manager.Add(std::make_unique<NodeLifecycleController>(options));
  REQUIRE(manager.Start().ok());
  // The grace period runs from when the controller first sees the node: let it (it taints
  // an unschedulable node) before time moves.
  auto nodes = api.Client(client::kNodes);
  REQUIRE(nodes.Patch("", "n1", client::PatchType::kMerge, R"({"spec":{"unschedulable":true}})").ok());
  REQUIRE(Eventually([&] {
    auto n = nodes.Get("", "n1");
    return n.ok() && json::ToJson(*n).find("node.kubernetes.io/unschedulable") != std::string::npos;
  }));
  clock.Advance(std::chrono::seconds(41));

  REQUIRE(Eventually([&] {
    return Matching(Events(api, "default"), "Node", "NodeNotReady", "Node n1 status is now: NodeNotReady").size() == 1;
  }));
  CHECK(Eventually([&] {
    return Matching(Events(api, "default"), "Pod", "TaintManagerEviction", "Marking for deletion Pod default/p").size() == 1;
  }));
  manager.Stop();
  events.Stop();
  CHECK(Matching(Events(api, "default"), "Node", "NodeNotReady", ".*")[0].component == "node-controller");
}

}  // namespace
}  // namespace kite::controllers
