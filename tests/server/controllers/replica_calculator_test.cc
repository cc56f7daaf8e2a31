// The HPA's replica calculation on hand-made pods and metrics (no API server), and the
// parsing of metrics.k8s.io PodMetrics lists.
#include "src/server/controllers/replica_calculator.h"

#include <catch2/catch.hpp>

#include "src/base/clock.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;

struct PodSpec {
  std::string name;
  std::string cpu_request = "100m";  // "" = no request
  std::string phase = "Running";
  std::string ready = "True";           // the Ready condition's status; "" = no condition
  int64_t start_ms = kNow - 10 * kMinute;
  int64_t ready_since_ms = kNow - 10 * kMinute;
  bool deleting = false;
};

client::ObjectPtr Pod(const PodSpec& p) {
  std::string resources = p.cpu_request.empty() ? "{}" : R"({"requests":{"cpu":")" + p.cpu_request + R"("}})";
  std::string conditions = p.ready.empty() ? "[]"
                                           : R"([{"type":"Ready","status":")" + p.ready +
                                                 R"(","lastTransitionTime":")" + FormatRfc3339Seconds(p.ready_since_ms) +
                                                 R"("}])";
  std::string json = R"({"metadata":{"name":")" + p.name + R"(")" +
                     (p.deleting ? R"(,"deletionTimestamp":"2023-01-01T00:00:00Z")" : "") +
                     R"(},"spec":{"containers":[{"name":"app","resources":)" + resources +
                     R"(}]},"status":{"phase":")" + p.phase + R"(","startTime":")" + FormatRfc3339Seconds(p.start_ms) +
                     R"(","conditions":)" + conditions + "}}";
  auto doc = json::ParseJson(json);
  REQUIRE(doc.ok());
  return std::make_shared<const rapidjson::Document>(std::move(doc).value());
}

PodMetricsInfo Cpu(std::initializer_list<std::pair<std::string, int64_t>> usage, int64_t at = kNow) {
  PodMetricsInfo out;
  for (const auto& [pod, milli] : usage) out[pod] = PodMetric{milli, at, 15'000};
  return out;
}

TEST_CASE("replica calculator: utilization scales with the usage ratio", "[hpa]") {
  ReplicaCalculator calc;
  std::vector<client::ObjectPtr> pods = {Pod({.name = "a"}), Pod({.name = "b"})};

  // 90% of requests against a 50% target: ratio 1.8, ceil(1.8 * 2) = 4.
  auto up = calc.ResourceReplicas(2, 50, "cpu", Cpu({{"a", 90}, {"b", 90}}), pods, kNow);
  REQUIRE(up.ok());
  CHECK(up->replicas == 4);
  CHECK(up->utilization == 90);
  CHECK(up->raw_average == 90);

  // 53% against 50%: inside the 10% tolerance, nothing changes.
  auto same = calc.ResourceReplicas(2, 50, "cpu", Cpu({{"a", 53}, {"b", 53}}), pods, kNow);
  REQUIRE(same.ok());
  CHECK(same->replicas == 2);
  CHECK(same->utilization == 53);

  // 10% against 50%: ceil(0.2 * 2) = 1.
  auto down = calc.ResourceReplicas(2, 50, "cpu", Cpu({{"a", 10}, {"b", 10}}), pods, kNow);
  REQUIRE(down.ok());
  CHECK(down->replicas == 1);
}

TEST_CASE("replica calculator: errors carry Kubernetes' messages", "[hpa]") {
  ReplicaCalculator calc;
  auto none = calc.ResourceReplicas(1, 50, "cpu", Cpu({}), {}, kNow);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() == "no pods returned by selector while calculating replica count");

  auto missing = calc.ResourceReplicas(1, 50, "cpu", Cpu({{"a", 10}}), {Pod({.name = "a", .cpu_request = ""})}, kNow);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "missing request for cpu in container app of Pod a");

  auto unready = calc.ResourceReplicas(1, 50, "cpu", Cpu({{"a", 10}}), {Pod({.name = "a", .phase = "Pending"})}, kNow);
  REQUIRE_FALSE(unready.ok());
  CHECK(unready.status().message() == "did not receive metrics for targeted pods (pods might be unready)");
}

TEST_CASE("replica calculator: missing and unready pods dampen the change", "[hpa]") {
  ReplicaCalculator calc;
  SECTION("scale-down counts pods without metrics at their full request") {
    std::vector<client::ObjectPtr> pods = {Pod({.name = "a"}), Pod({.name = "b"}), Pod({.name = "c"}),
                                           Pod({.name = "d"})};
    // Ready pods at 10%: the plain answer would be ceil(0.2 * 3) = 1; with d at 100%:
    // (10+10+10+100)/400 = 32% -> ratio 0.64 -> ceil(0.64 * 4) = 3.
    auto r = calc.ResourceReplicas(4, 50, "cpu", Cpu({{"a", 10}, {"b", 10}, {"c", 10}}), pods, kNow);
    REQUIRE(r.ok());
    CHECK(r->replicas == 3);
    CHECK(r->utilization == 10);
  }
  SECTION("scale-up counts unready pods at zero") {
    std::vector<client::ObjectPtr> pods = {Pod({.name = "a"}), Pod({.name = "b"}),
                                           Pod({.name = "c", .ready = "False", .start_ms = kNow - kMinute,
                                                .ready_since_ms = kNow - kMinute})};
    // Ready pods at 100% of a 50% target: ratio 2. With c at 0: 200/300 = 66% -> ratio 1.32
    // -> ceil(1.32 * 3) = 4 (instead of ceil(2 * 2) = 4 + the unready one).
    auto r = calc.ResourceReplicas(3, 50, "cpu", Cpu({{"a", 100}, {"b", 100}, {"c", 100}}), pods, kNow);
    REQUIRE(r.ok());
    CHECK(r->utilization == 100);
    CHECK(r->replicas == 4);
  }
  SECTION("a sample taken before one window of readiness is not trusted during initialization") {
    // Started 2 minutes ago (inside the 5 minute cpu initialization period), ready 5 s ago:
    // a sample ending now covers only 5 s of readiness of its 15 s window.
    std::vector<client::ObjectPtr> pods = {Pod({.name = "a"}),
                                           Pod({.name = "b", .start_ms = kNow - 2 * kMinute,
                                                .ready_since_ms = kNow - 5'000})};
    auto r = calc.ResourceReplicas(2, 50, "cpu", Cpu({{"a", 100}, {"b", 400}}), pods, kNow);
    REQUIRE(r.ok());
    CHECK(r->utilization == 100);  // b's 400% left out
    // Pods being deleted are ignored altogether.
    std::vector<client::ObjectPtr> with_deleted = {Pod({.name = "a"}), Pod({.name = "x", .deleting = true})};
    auto d = calc.ResourceReplicas(2, 50, "cpu", Cpu({{"a", 50}, {"x", 1000}}), with_deleted, kNow);
    REQUIRE(d.ok());
    CHECK(d->utilization == 50);
    CHECK(d->replicas == 2);
  }
}

TEST_CASE("replica calculator: average value targets", "[hpa]") {
  ReplicaCalculator calc;
  std::vector<client::ObjectPtr> pods = {Pod({.name = "a"}), Pod({.name = "b"})};
  // Memory, 300Mi per pod against 100Mi: ratio 3 -> 6 replicas; values in millibytes.
  PodMetricsInfo memory;
  memory["a"] = PodMetric{300LL * 1024 * 1024 * 1000, kNow, 15'000};
  memory["b"] = PodMetric{300LL * 1024 * 1024 * 1000, kNow, 15'000};
  auto r = calc.RawResourceReplicas(2, 100LL * 1024 * 1024 * 1000, "memory", memory, pods, kNow);
  REQUIRE(r.ok());
  CHECK(r->replicas == 6);
  CHECK(r->average == 300LL * 1024 * 1024 * 1000);
}

TEST_CASE("pod requests include sidecars", "[hpa]") {
  auto pod = json::ParseJson(R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"init","resources":{}},
                        {"name":"side","restartPolicy":"Always","resources":{"requests":{"cpu":"0.25"}}}],
      "containers":[{"name":"app","resources":{"requests":{"cpu":"1"}}}]}})");
  REQUIRE(pod.ok());
  auto milli = PodRequestMilli(*pod, "cpu");
  REQUIRE(milli.ok());
  CHECK(*milli == 1250);
  auto memory = PodRequestMilli(*pod, "memory");
  REQUIRE_FALSE(memory.ok());
  CHECK(memory.status().message() == "missing request for memory in container app of Pod p");
}

TEST_CASE("PodMetrics lists become per-pod usage", "[hpa]") {
  auto list = json::ParseJson(R"({"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
      {"metadata":{"name":"web-1","namespace":"default"},"timestamp":"2024-05-01T12:00:00Z","window":"15.5s",
       "containers":[{"name":"app","usage":{"cpu":"123456n","memory":"1Ki"}},
                     {"name":"side","usage":{"cpu":"250m","memory":"2Mi"}}]},
      {"metadata":{"name":"web-2"},"timestamp":"2024-05-01T12:00:00Z","window":"15s",
       "containers":[{"name":"app","usage":{"memory":"100"}}]},
      {"metadata":{"name":"web-3"},"containers":[]},
      {"metadata":{}}]})");
  REQUIRE(list.ok());
  std::vector<PodUsage> usage = PodUsageFromList(*list);
  REQUIRE(usage.size() == 3);
  CHECK(usage[0].pod == "web-1");
  CHECK(usage[0].cpu_millicores == 251);  // 0.123456m rounds up to 1m
  CHECK(usage[0].memory_bytes == 1024 + 2 * 1024 * 1024);
  CHECK(usage[0].window_ms == 15'500);
  CHECK(usage[0].timestamp_ms == 1'714'564'800'000);
  CHECK_FALSE(usage[1].cpu_millicores.has_value());  // a container without cpu
  CHECK(usage[1].memory_bytes == 100);
  CHECK_FALSE(usage[2].cpu_millicores.has_value());  // no containers at all

  PodMetricsInfo cpu = ResourceMetrics(usage, "cpu");
  CHECK(cpu.size() == 1);
  CHECK(cpu["web-1"].value == 251);
  PodMetricsInfo memory = ResourceMetrics(usage, "memory");
  CHECK(memory.size() == 2);
  CHECK(memory["web-2"].value == 100'000);
}

}  // namespace
}  // namespace kite::controllers
