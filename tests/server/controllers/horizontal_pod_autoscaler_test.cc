// The HorizontalPodAutoscaler controller against a real API server, with the ReplicaSet and
// Deployment controllers running, a FakeClock, a fake metrics source and a stand-in kubelet
// that reports pods Running and Ready.
#include "src/server/controllers/horizontal_pod_autoscaler.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/deployment_controller.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/controllers/replica_set_controller.h"
#include "src/server/json/json_util.h"
#include "src/server/tables/table_printer.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using testing::Eventually;

constexpr int64_t kTenMinutes = 10 * 60 * 1000;

// Every pod of the namespace uses `cpu_millicores` (the same for all); `fail` makes the
// metrics source unreachable.
class FakePodMetrics final : public PodMetricsLister {
 public:
  FakePodMetrics(client::ResourceClient pods, const Clock* clock) : pods_(std::move(pods)), clock_(clock) {}
  std::atomic<int64_t> cpu_millicores{0};
  std::atomic<bool> fail{false};

  Result<std::vector<PodUsage>> List(std::string_view ns, std::string_view label_selector) override {
    if (fail) return Status(StatusCode::kUnavailable, "the server is currently unable to handle the request");
    client::ListOptions options;
    options.label_selector = std::string(label_selector);
    Result<Document> list = pods_.List(ns, options);
    if (!list.ok()) return list.status();
    std::vector<PodUsage> out;
    for (const Value& pod : (*list)["items"].GetArray()) {
      if (!IsPodActive(pod)) continue;
      out.push_back({std::string(NameOf(pod)), cpu_millicores.load(), 64 * 1024 * 1024, clock_->NowMillis(), 15'000});
    }
    return out;
  }

 private:
  const client::ResourceClient pods_;
  const Clock* clock_;
};

// Reports every pod of "default" Running and Ready, started ten minutes (of the fake clock)
// ago, so the HPA trusts their CPU samples.
class FakeKubelet {
 public:
  FakeKubelet(client::ResourceClient pods, const Clock* clock)
      : pods_(std::move(pods)), clock_(clock), thread_([this] { Run(); }) {}
  ~FakeKubelet() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Run() {
    while (!stop_) {
      if (auto list = pods_.List("default"); list.ok()) {
        for (const Value& pod : (*list)["items"].GetArray()) {
          if (!IsPodActive(pod) || IsPodReady(pod)) continue;
          std::string since = FormatRfc3339Seconds(clock_->NowMillis() - kTenMinutes);
          Document d;
          d.CopyFrom(pod, d.GetAllocator());
          auto status = json::ParseJson(R"({"phase":"Running","startTime":")" + since +
                                        R"(","conditions":[{"type":"Ready","status":"True","lastTransitionTime":")" +
                                        since + R"("}]})");
          if (!status.ok()) continue;
          json::SetMember(d, "status", Value(*status, d.GetAllocator()), d.GetAllocator());
          (void)pods_.UpdateStatus(d);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  client::ResourceClient pods_;
  const Clock* clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct HpaFixture {
  testing::ApiFixture api;
  FakeClock clock{SystemClock::Get()->NowMillis()};
  client::ResourceClient pods = api.Client(client::kPods);
  client::ResourceClient deployments = api.Client(client::kDeployments);
  client::ResourceClient hpas = api.Client(kHorizontalPodAutoscalers);
  FakePodMetrics metrics{api.Client(client::kPods), &clock};
  FakeKubelet kubelet{api.Client(client::kPods), &clock};
  ControllerManager manager{api.transport()};

  HpaFixture() {
    manager.Add(std::make_unique<ReplicaSetController>());
    manager.Add(std::make_unique<DeploymentController>());
    HorizontalPodAutoscalerController::Options options;
    options.clock = &clock;
    options.metrics = &metrics;
    options.resync_period = std::chrono::milliseconds(50);
    manager.Add(std::make_unique<HorizontalPodAutoscalerController>(options));
    REQUIRE(manager.Start().ok());
  }
  ~HpaFixture() { manager.Stop(); }

  // A Deployment "web" whose pods request `cpu` ("" = no request).
  void CreateDeployment(int replicas, std::string_view cpu = "100m") {
    std::string resources = cpu.empty() ? "{}" : R"({"requests":{"cpu":")" + std::string(cpu) + R"("}})";
    api.Create(client::kDeployments, "default",
               R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                   "spec":{"replicas":)" + std::to_string(replicas) +
                   R"(,"selector":{"matchLabels":{"app":"web"}},
                   "template":{"metadata":{"labels":{"app":"web"}},
                               "spec":{"containers":[{"name":"app","image":"nginx","resources":)" +
                   resources + "}]}}}}");
  }
  void CreateHpa(int min, int max, int target_utilization, std::string_view extra_spec = "",
                 std::string_view target = "web") {
    api.Create(kHorizontalPodAutoscalers, "default",
               R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},
                   "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":")" +
                   std::string(target) + R"("},"minReplicas":)" + std::to_string(min) +
                   R"(,"maxReplicas":)" + std::to_string(max) +
                   R"(,"metrics":[{"type":"Resource","resource":{"name":"cpu",
                       "target":{"type":"Utilization","averageUtilization":)" +
                   std::to_string(target_utilization) + "}}}]" + std::string(extra_spec) + "}}");
  }

  int64_t DeploymentReplicas() {
    auto d = deployments.Get("default", "web");
    REQUIRE(d.ok());
    return (*d)["spec"]["replicas"].GetInt64();
  }
  int ReadyPods() {
    auto list = pods.List("default");
    REQUIRE(list.ok());
    int n = 0;
    for (const Value& pod : (*list)["items"].GetArray()) n += IsPodActive(pod) && IsPodReady(pod);
    return n;
  }
  Document Hpa() {
    auto h = hpas.Get("default", "web");
    REQUIRE(h.ok());
    return std::move(h).value();
  }
  // The HPA's condition of `type` as "Status/Reason", or "".
  std::string ConditionOf(std::string_view type) {
    Document hpa = Hpa();
    const Value* status = json::Member(hpa, "status");
    const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
    if (!conditions || !conditions->IsArray()) return "";
    for (const Value& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == type) {
        return std::string(json::StringMember(c, "status")) + "/" + std::string(json::StringMember(c, "reason"));
      }
    }
    return "";
  }
  std::string ConditionMessage(std::string_view type) {
    Document hpa = Hpa();
    for (const Value& c : hpa["status"]["conditions"].GetArray()) {
      if (json::StringMember(c, "type") == type) return std::string(json::StringMember(c, "message"));
    }
    return "";
  }
  int64_t StatusInt(std::string_view field) {
    Document hpa = Hpa();
    const Value* status = json::Member(hpa, "status");
    const Value* v = status ? json::Member(*status, field) : nullptr;
    return v && v->IsInt64() ? v->GetInt64() : -1;
  }
  // What `kubectl get hpa` prints for it: the server-side Table's cells.
  std::vector<std::string> TableRow() {
    Document hpa = Hpa();
    Document table;
    tables::TableOptions options;
    options.now = std::chrono::system_clock::now();
    tables::BuildTable("autoscaling", "HorizontalPodAutoscaler", {&hpa}, nullptr, options, table);
    std::vector<std::string> out;
    for (const Value& cell : table["rows"][0]["cells"].GetArray()) {
      out.push_back(cell.IsString() ? std::string(cell.GetString()) : json::ToJson(cell));
    }
    return out;
  }
  // Waits until `n` pods are ready and the deployment wants `n`.
  void WaitForPods(int n) {
    REQUIRE(Eventually([&] { return DeploymentReplicas() == n && ReadyPods() == n; }));
  }
};

TEST_CASE("HPA scales a Deployment up on high CPU and stops at maxReplicas", "[hpa]") {
  HpaFixture f;
  f.CreateDeployment(2);
  f.WaitForPods(2);
  f.metrics.cpu_millicores = 90;  // 90% of the 100m request
  f.CreateHpa(1, 5, 50);

  // 90% against 50%: ceil(1.8 * 2) = 4 first; then ceil(1.8 * 4) = 8, clamped at 5.
  REQUIRE(Eventually([&] { return f.DeploymentReplicas() >= 4; }));
  REQUIRE(Eventually([&] { return f.DeploymentReplicas() == 5 && f.ReadyPods() == 5; }));
  REQUIRE(Eventually([&] { return f.StatusInt("currentReplicas") == 5; }));
  CHECK(f.StatusInt("desiredReplicas") == 5);
  CHECK(f.ConditionOf("AbleToScale") == "True/ReadyForNewScale");
  CHECK(f.ConditionOf("ScalingActive") == "True/ValidMetricFound");
  CHECK(f.ConditionMessage("ScalingActive") ==
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of "
        "request)");
  CHECK(f.ConditionOf("ScalingLimited") == "True/TooManyReplicas");
  CHECK(f.ConditionMessage("ScalingLimited") == "the desired replica count is more than the maximum replica count");

  Document hpa = f.Hpa();
  const Value& metric = hpa["status"]["currentMetrics"][0];
  CHECK(json::StringMember(metric, "type") == "Resource");
  CHECK(metric["resource"]["current"]["averageUtilization"].GetInt() == 90);
  CHECK(json::StringMember(metric["resource"]["current"], "averageValue") == "90m");
  CHECK(json::StringMember(hpa["status"], "lastScaleTime") == FormatRfc3339Seconds(f.clock.NowMillis()));
  CHECK(hpa["status"]["observedGeneration"].GetInt64() == GenerationOf(hpa));

  // kubectl get hpa: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE.
  std::vector<std::string> row = f.TableRow();
  REQUIRE(row.size() == 7);
  CHECK(row[0] == "web");
  CHECK(row[1] == "Deployment/web");
  CHECK(row[2] == "cpu: 90%/50%");
  CHECK(row[3] == "1");
  CHECK(row[4] == "5");
  CHECK(row[5] == "5");
}

TEST_CASE("HPA leaves the replicas alone within the tolerance", "[hpa]") {
  HpaFixture f;
  f.CreateDeployment(3);
  f.WaitForPods(3);
  f.metrics.cpu_millicores = 53;  // 53% against 50%: inside 10%
  f.CreateHpa(1, 10, 50);

  REQUIRE(Eventually([&] { return f.ConditionOf("ScalingLimited") == "False/DesiredWithinRange"; }));
  // Several resyncs (50 ms each) later, still 3, never rescaled.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.DeploymentReplicas() == 3);
  CHECK(f.StatusInt("currentReplicas") == 3);
  CHECK(f.StatusInt("desiredReplicas") == 3);
  CHECK(f.ConditionOf("AbleToScale") == "True/ReadyForNewScale");
  Document hpa = f.Hpa();
  CHECK(json::Member(hpa["status"], "lastScaleTime") == nullptr);
  CHECK(f.TableRow()[2] == "cpu: 53%/50%");
}

TEST_CASE("HPA scales down only after the stabilization window", "[hpa]") {
  HpaFixture f;
  f.CreateDeployment(4);
  f.WaitForPods(4);
  f.metrics.cpu_millicores = 10;  // 10% against 50%: the metrics alone say 1
  f.CreateHpa(1, 10, 50);

  REQUIRE(Eventually([&] { return f.ConditionOf("AbleToScale") == "True/ScaleDownStabilized"; }));
  CHECK(f.ConditionMessage("AbleToScale") ==
        "recent recommendations were higher than current one, applying the highest recent recommendation");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.DeploymentReplicas() == 4);
  CHECK(f.StatusInt("desiredReplicas") == 4);

  // Four minutes on: still inside the 5 minute window.
  f.clock.Advance(std::chrono::minutes(4));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.DeploymentReplicas() == 4);

  // Past the window: the recommendation of 4 (made when the HPA started) has expired, but
  // those of the last minute still say 1 - so the scale-down happens.
  f.clock.Advance(std::chrono::seconds(61));
  REQUIRE(Eventually([&] { return f.DeploymentReplicas() == 1; }));
  REQUIRE(Eventually([&] { return f.StatusInt("desiredReplicas") == 1; }));
  CHECK(f.ConditionOf("ScalingLimited") == "False/DesiredWithinRange");
  Document hpa = f.Hpa();
  CHECK(json::StringMember(hpa["status"], "lastScaleTime") == FormatRfc3339Seconds(f.clock.NowMillis()));
}

TEST_CASE("HPA behavior policies limit the rate of scaling", "[hpa]") {
  HpaFixture f;
  f.CreateDeployment(2);
  f.WaitForPods(2);
  f.metrics.cpu_millicores = 90;
  // At most one pod more per minute.
  f.CreateHpa(1, 10, 50, R"(,"behavior":{"scaleUp":{"policies":[{"type":"Pods","value":1,"periodSeconds":60}]}})");

  REQUIRE(Eventually([&] { return f.DeploymentReplicas() == 3; }));
  REQUIRE(Eventually([&] { return f.ConditionOf("ScalingLimited") == "True/ScaleUpLimit"; }));
  CHECK(f.ConditionMessage("ScalingLimited") ==
        "the desired replica count is increasing faster than the maximum scale rate");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.DeploymentReplicas() == 3);

  // The API filled in the rest of the behavior.
  Document hpa = f.Hpa();
  const Value& behavior = hpa["spec"]["behavior"];
  CHECK(json::StringMember(behavior["scaleUp"], "selectPolicy") == "Max");
  CHECK(behavior["scaleUp"]["stabilizationWindowSeconds"].GetInt() == 0);
  CHECK(json::StringMember(behavior["scaleDown"], "selectPolicy") == "Max");
  CHECK(json::StringMember(behavior["scaleDown"]["policies"][0], "type") == "Percent");

  f.clock.Advance(std::chrono::seconds(61));
  REQUIRE(Eventually([&] { return f.DeploymentReplicas() == 4; }));
}

TEST_CASE("HPA reports missing cpu requests, metrics and targets in its conditions", "[hpa]") {
  HpaFixture f;
  SECTION("pods without a cpu request") {
    f.CreateDeployment(2, "");
    f.WaitForPods(2);
    f.metrics.cpu_millicores = 90;
    f.CreateHpa(1, 5, 50);
    REQUIRE(Eventually([&] { return f.ConditionOf("ScalingActive") == "False/FailedGetResourceMetric"; }));
    std::string message = f.ConditionMessage("ScalingActive");
    CHECK(message.starts_with("the HPA was unable to compute the replica count: failed to get cpu utilization: "
                              "missing request for cpu in container app of Pod web-"));
    CHECK(f.ConditionOf("AbleToScale") == "True/SucceededGetScale");
    REQUIRE(Eventually([&] { return f.StatusInt("currentReplicas") == 2; }));
    CHECK(f.DeploymentReplicas() == 2);
    CHECK(f.TableRow()[2] == "cpu: <unknown>/50%");
  }
  SECTION("an unreachable metrics API") {
    f.CreateDeployment(2);
    f.WaitForPods(2);
    f.metrics.fail = true;
    f.CreateHpa(1, 5, 50);
    REQUIRE(Eventually([&] { return f.ConditionOf("ScalingActive") == "False/FailedGetResourceMetric"; }));
    CHECK(f.ConditionMessage("ScalingActive") ==
          "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics "
          "for resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to "
          "handle the request");
    // Back again: the HPA recovers on its next resync.
    f.metrics.fail = false;
    f.metrics.cpu_millicores = 50;
    REQUIRE(Eventually([&] { return f.ConditionOf("ScalingActive") == "True/ValidMetricFound"; }));
    CHECK(f.DeploymentReplicas() == 2);
  }
  SECTION("a target that does not exist") {
    f.CreateHpa(1, 5, 50, "", "nope");
    REQUIRE(Eventually([&] { return f.ConditionOf("AbleToScale") == "False/FailedGetScale"; }));
    std::string message = f.ConditionMessage("AbleToScale");
    CHECK(message.starts_with("the HPA controller was unable to get the target's current scale: "));
    CHECK(message.find("not found") != std::string::npos);
  }
}

TEST_CASE("HPA created through autoscaling/v1 scales too", "[hpa]") {
  HpaFixture f;
  f.CreateDeployment(2);
  f.WaitForPods(2);
  f.metrics.cpu_millicores = 90;
  f.api.Create({"autoscaling", "v1", "horizontalpodautoscalers", true}, "default",
               R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},
                   "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
                           "maxReplicas":3,"targetCPUUtilizationPercentage":50}})");
  REQUIRE(Eventually([&] { return f.DeploymentReplicas() == 3; }));
  REQUIRE(Eventually([&] { return f.StatusInt("desiredReplicas") == 3 && f.StatusInt("currentReplicas") == 3; }));
  // Stored as v2; read through v1 the utilization is the v1 field again.
  Result<Document> v1 = f.api.Client({"autoscaling", "v1", "horizontalpodautoscalers", true}).Get("default", "web");
  REQUIRE(v1.ok());
  CHECK(json::StringMember(*v1, "apiVersion") == "autoscaling/v1");
  const Value* v1_status = json::Member(*v1, "status");
  REQUIRE(v1_status);
  const Value* utilization = json::Member(*v1_status, "currentCPUUtilizationPercentage");
  REQUIRE(utilization);
  CHECK(utilization->GetInt64() == 90);
  CHECK(f.TableRow()[2] == "cpu: 90%/50%");
}

TEST_CASE("HPA objects are defaulted and validated by the API", "[hpa]") {
  testing::ApiFixture api;
  client::ResourceClient hpas = api.Client(kHorizontalPodAutoscalers);
  Document created = api.Create(kHorizontalPodAutoscalers, "default", R"({"apiVersion":"autoscaling/v2",
      "kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},
      "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"maxReplicas":3}})");
  CHECK(created["spec"]["minReplicas"].GetInt() == 1);
  const Value& metric = created["spec"]["metrics"][0];
  CHECK(json::StringMember(metric, "type") == "Resource");
  CHECK(json::StringMember(metric["resource"], "name") == "cpu");
  CHECK(metric["resource"]["target"]["averageUtilization"].GetInt() == 80);
  CHECK(json::Member(created["spec"], "behavior") == nullptr);

  auto bad = json::ParseJson(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
      "metadata":{"name":"bad"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":""},"minReplicas":2,
      "maxReplicas":1,"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization"}}}],
      "behavior":{"scaleDown":{"stabilizationWindowSeconds":4000,"policies":[]}}}})");
  REQUIRE(bad.ok());
  auto rejected = hpas.Create("default", *bad);
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.status().code() == StatusCode::kInvalidArgument);
  const std::string& message = rejected.status().message();
  INFO(message);
  CHECK(message.find("spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`") !=
        std::string::npos);
  CHECK(message.find("spec.scaleTargetRef.name: Required value") != std::string::npos);
  CHECK(message.find("spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target "
                     "raw value or a target utilization") != std::string::npos);
  CHECK(message.find("spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or "
                     "equal to 3600") != std::string::npos);
  CHECK(message.find("spec.behavior.scaleDown.policies: Required value: must specify at least one Policy") !=
        std::string::npos);
}

}  // namespace
}  // namespace kite::controllers
