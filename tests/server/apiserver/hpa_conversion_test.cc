// HorizontalPodAutoscaler autoscaling/v1 <-> v2 conversion and the version conversion
// registry.
#include "src/server/apiserver/hpa_conversion.h"

#include <catch2/catch.hpp>

#include "src/server/apiserver/version_conversion.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Document Parse(std::string_view text) {
  auto d = json::ParseJsonObject(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

// Equal as JSON (object member order aside), with the difference shown on failure.
void RequireSameJson(const Value& got, const Value& want) {
  INFO("got:  " << json::ToJson(got));
  INFO("want: " << json::ToJson(want));
  REQUIRE(got == want);
}

std::string Annotation(const Document& d, std::string_view key) {
  const Value* md = json::Member(d, "metadata");
  const Value* a = md ? json::Member(*md, "annotations") : nullptr;
  return a ? std::string(json::StringMember(*a, key)) : std::string();
}

constexpr std::string_view kV1 = R"({
  "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
  "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
           "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50},
  "status": {"observedGeneration": 3, "currentReplicas": 2, "desiredReplicas": 3,
             "currentCPUUtilizationPercentage": 70}
})";

// Every metric type, behavior, current metrics and conditions; cpu utilization last, where
// a v1 round trip puts it.
constexpr std::string_view kV2Full = R"({
  "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "web", "namespace": "ns", "annotations": {"team": "a"}},
  "spec": {
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
    "minReplicas": 1, "maxReplicas": 10,
    "metrics": [
      {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
      {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 60}}},
      {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
        "target": {"type": "Utilization", "averageUtilization": 40}}},
      {"type": "Pods", "pods": {"metric": {"name": "qps", "selector": {"matchLabels": {"a": "b"}}},
        "target": {"type": "AverageValue", "averageValue": "1k"}}},
      {"type": "Object", "object": {"describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
        "metric": {"name": "requests"}, "target": {"type": "Value", "value": "10k"}}},
      {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s"},
        "metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "20"}}},
      {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
        "target": {"type": "Value", "value": "30"}}},
      {"type": "External", "external": {"metric": {"name": "lag"}, "target": {"type": "AverageValue", "averageValue": "5"}}},
      {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 75}}}
    ],
    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Min",
                               "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}}
  },
  "status": {
    "observedGeneration": 4, "lastScaleTime": "2024-01-01T00:00:00Z", "currentReplicas": 3, "desiredReplicas": 4,
    "currentMetrics": [
      {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 81, "averageValue": "810m"}}},
      {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "400Mi"}}},
      {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "900"}}},
      {"type": "External", "external": {"metric": {"name": "queue"}, "current": {"value": "25"}}},
      {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s"}, "metric": {"name": "rps"},
        "current": {"value": "15"}}},
      {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
        "current": {"averageUtilization": 30}}}
    ],
    "conditions": [{"type": "AbleToScale", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z",
                    "reason": "ReadyForNewScale", "message": "ok"}]
  }
})";

TEST_CASE("v1 -> v2 maps the cpu target and status to metrics", "[hpa_conversion]") {
  Document d = Parse(kV1);
  REQUIRE(HpaV1ToV2(d).ok());
  RequireSameJson(d, Parse(R"({
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
             "minReplicas": 2, "maxReplicas": 5,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                          "target": {"type": "Utilization", "averageUtilization": 50}}}]},
    "status": {"observedGeneration": 3, "currentReplicas": 2, "desiredReplicas": 3,
               "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                                   "current": {"averageUtilization": 70}}}]}
  })"));
}

TEST_CASE("v1 -> v2 -> v1 keeps everything", "[hpa_conversion]") {
  Document d = Parse(kV1);
  REQUIRE(HpaV1ToV2(d).ok());
  REQUIRE(HpaV2ToV1(d).ok());
  // The cpu status is also kept in the annotation (v1 has no place for its raw value).
  Document want = Parse(kV1);
  json::EnsureObjectMember(want["metadata"], "annotations", want.GetAllocator());
  json::SetStringMember(want["metadata"]["annotations"], kHpaCurrentMetricsAnnotation,
                        R"([{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":70}}])",
                        want.GetAllocator());
  RequireSameJson(d, want);
  REQUIRE(HpaV1ToV2(d).ok());
  REQUIRE(HpaV2ToV1(d).ok());
  RequireSameJson(d, want);
}

TEST_CASE("v1 without a target gets the implicit 80% cpu", "[hpa_conversion]") {
  Document d = Parse(R"({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                         "metadata": {"name": "x"}, "spec": {"maxReplicas": 3}})");
  REQUIRE(HpaV1ToV2(d).ok());
  RequireSameJson(d["spec"]["metrics"], Parse(R"({"m": [{"type": "Resource", "resource": {"name": "cpu",
                                         "target": {"type": "Utilization", "averageUtilization": 80}}}]})")["m"]);
  REQUIRE(json::Member(d, "status") == nullptr);
}

TEST_CASE("v2 -> v1 -> v2 keeps every metric, behavior, status and condition", "[hpa_conversion]") {
  Document d = Parse(kV2Full);
  REQUIRE(HpaV2ToV1(d).ok());
  CHECK(json::StringMember(d, "apiVersion") == "autoscaling/v1");
  CHECK(d["spec"]["targetCPUUtilizationPercentage"].GetInt() == 75);
  CHECK(json::Member(d["spec"], "metrics") == nullptr);
  CHECK(json::Member(d["spec"], "behavior") == nullptr);
  CHECK(d["status"]["currentCPUUtilizationPercentage"].GetInt() == 81);
  CHECK(json::Member(d["status"], "conditions") == nullptr);
  // v1 MetricSpec form in the annotation, without the cpu utilization metric.
  Document metrics = Parse("{\"m\":" + Annotation(d, kHpaMetricsAnnotation) + "}");
  REQUIRE(metrics["m"].Size() == 8);
  RequireSameJson(metrics["m"][0], Parse(R"({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}})"));
  RequireSameJson(metrics["m"][3], Parse(R"({"type": "Pods", "pods": {"metricName": "qps",
                                             "targetAverageValue": "1k", "selector": {"matchLabels": {"a": "b"}}}})"));
  RequireSameJson(metrics["m"][6], Parse(R"({"type": "External", "external": {"metricName": "queue",
                                             "metricSelector": {"matchLabels": {"q": "jobs"}}, "targetValue": "30"}})"));
  CHECK(Annotation(d, kHpaBehaviorAnnotation).find("\"stabilizationWindowSeconds\":60") != std::string::npos);
  CHECK(Annotation(d, kHpaConditionsAnnotation).find("ReadyForNewScale") != std::string::npos);
  CHECK(Annotation(d, kHpaCurrentMetricsAnnotation).find("\"currentAverageValue\":\"810m\"") != std::string::npos);
  CHECK(Annotation(d, "team") == "a");

  REQUIRE(HpaV1ToV2(d).ok());
  RequireSameJson(d, Parse(kV2Full));
}

TEST_CASE("v2 -> v1 -> v2 of a minimal object adds nothing", "[hpa_conversion]") {
  constexpr std::string_view kMinimal = R"({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "m"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "m"}, "maxReplicas": 2,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}})";
  Document d = Parse(kMinimal);
  REQUIRE(HpaV2ToV1(d).ok());
  CHECK(json::Member(d["metadata"], "annotations") == nullptr);
  CHECK(json::Member(d, "status") == nullptr);
  REQUIRE(HpaV1ToV2(d).ok());
  RequireSameJson(d, Parse(kMinimal));
}

TEST_CASE("bad round-trip annotations are invalid arguments", "[hpa_conversion]") {
  for (std::string_view bad : {R"("not json")", R"("{\"a\":1}")", R"("[1]")", R"(7)"}) {
    INFO(bad);
    Document d = Parse(std::string(R"({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
      "metadata": {"name": "x", "annotations": {"autoscaling.alpha.kubernetes.io/metrics": )") +
                       std::string(bad) + "}}, \"spec\": {\"maxReplicas\": 1}}");
    Status s = HpaV1ToV2(d);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find("autoscaling.alpha.kubernetes.io/metrics") != std::string::npos);
  }
  Document d = Parse(R"({"apiVersion": "autoscaling/v1", "metadata": {"annotations":
      {"autoscaling.alpha.kubernetes.io/behavior": "[]"}}})");
  CHECK(HpaV1ToV2(d).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("garbage shapes convert without crashing", "[hpa_conversion]") {
  for (std::string_view text : {R"({"apiVersion": "autoscaling/v2", "metadata": 1, "spec": {"metrics": [1, {"type": 2},
                                   {"type": "Resource", "resource": 3}, {"type": "Resource", "resource": {"name": "cpu", "target": 4}}],
                                   "behavior": null}, "status": {"currentMetrics": "x", "conditions": 5}})",
                                R"({"apiVersion": "autoscaling/v2", "spec": 1, "status": []})"}) {
    Document d = Parse(text);
    CHECK(HpaV2ToV1(d).ok());
    CHECK(HpaV1ToV2(d).ok());
  }
  Document d = Parse(R"({"apiVersion": "autoscaling/v1", "metadata": {"annotations": 3},
                        "spec": {"targetCPUUtilizationPercentage": "x"}, "status": 2})");
  CHECK(HpaV1ToV2(d).ok());
}

TEST_CASE("the registry converts registered kinds by apiVersion only", "[version_conversion]") {
  const VersionConversions& c = VersionConversions::Builtin();
  CHECK(c.StorageVersion("autoscaling", "HorizontalPodAutoscaler") == "v2");
  CHECK(c.StorageVersion("apps", "Deployment").empty());

  Document d = Parse(kV1);
  REQUIRE(c.ConvertTo("autoscaling", "HorizontalPodAutoscaler", "v1", d).ok());  // already v1
  CHECK(json::StringMember(d, "apiVersion") == "autoscaling/v1");
  REQUIRE(c.ConvertTo("autoscaling", "HorizontalPodAutoscaler", "v2", d).ok());
  CHECK(json::StringMember(d, "apiVersion") == "autoscaling/v2");

  Document wrong = Parse(R"({"apiVersion": "apps/v1"})");
  CHECK(c.ConvertTo("autoscaling", "HorizontalPodAutoscaler", "v2", wrong).code() == StatusCode::kInvalidArgument);
  Document v3 = Parse(R"({"apiVersion": "autoscaling/v3"})");
  CHECK(c.ConvertTo("autoscaling", "HorizontalPodAutoscaler", "v2", v3).code() == StatusCode::kInvalidArgument);

  std::string text = "{\"not\": json";  // untouched (never parsed) for kinds without a converter
  Result<std::string> same = c.ConvertJsonTo("apps", "Deployment", "v1", text);
  REQUIRE(same.ok());
  CHECK(*same == text);
  Result<std::string> v2 = c.ConvertJsonTo("autoscaling", "HorizontalPodAutoscaler", "v2", std::string(kV1));
  REQUIRE(v2.ok());
  CHECK(v2->find("\"averageUtilization\":50") != std::string::npos);

  VersionConversions custom;
  int calls = 0;
  custom.Register("example.com", "Thing", "v2", [&](Document& o, std::string_view from, std::string_view to) {
    ++calls;
    CHECK(from == "v1");
    json::SetStringMember(o, "apiVersion", "example.com/" + std::string(to), o.GetAllocator());
    return Status::Ok();
  });
  Document thing = Parse(R"({"apiVersion": "example.com/v1"})");
  REQUIRE(custom.ConvertTo("example.com", "Thing", "v2", thing).ok());
  CHECK(calls == 1);
  CHECK(json::StringMember(thing, "apiVersion") == "example.com/v2");
}

}  // namespace
}  // namespace kite::apiserver
