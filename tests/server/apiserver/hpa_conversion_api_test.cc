// HorizontalPodAutoscalers through the API server at autoscaling/v1 and autoscaling/v2:
// one stored object (v2), served in the version of each request.
#include <catch2/catch.hpp>

#include "src/server/apiserver/hpa_conversion.h"
#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::apiserver {
namespace {

using rapidjson::Document;
using rapidjson::Value;

const client::ResourceRef kV1Ref{"autoscaling", "v1", "horizontalpodautoscalers", true};
const client::ResourceRef kV2Ref{"autoscaling", "v2", "horizontalpodautoscalers", true};

std::string AnnotationOf(const Value& object, std::string_view key) {
  const Value* md = json::Member(object, "metadata");
  const Value* a = md ? json::Member(*md, "annotations") : nullptr;
  return a ? std::string(json::StringMember(*a, key)) : std::string();
}

// The metric of `type` naming resource `name`, or null.
const Value* ResourceMetric(const Value& hpa, std::string_view name) {
  const Value* metrics = json::Member(hpa["spec"], "metrics");
  if (!metrics || !metrics->IsArray()) return nullptr;
  for (const Value& m : metrics->GetArray()) {
    if (json::StringMember(m, "type") != "Resource") continue;
    if (json::StringMember(m["resource"], "name") == name) return &m;
  }
  return nullptr;
}

struct Cluster {
  testing::ApiFixture api;
  Cluster() { api.Create({"", "v1", "namespaces", false}, "", R"({"metadata": {"name": "conv"}})"); }
};

TEST_CASE("HPA created through v1 reads as v2 and v1", "[hpa_conversion_api]") {
  Cluster c;
  c.api.Create(kV1Ref, "conv", R"({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
             "minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": 50}})");

  auto v2 = c.api.Client(kV2Ref).Get("conv", "web");
  REQUIRE(v2.ok());
  CHECK(json::StringMember(*v2, "apiVersion") == "autoscaling/v2");
  CHECK(json::Member((*v2)["spec"], "targetCPUUtilizationPercentage") == nullptr);
  const Value* cpu = ResourceMetric(*v2, "cpu");
  REQUIRE(cpu != nullptr);
  CHECK(json::StringMember((*cpu)["resource"]["target"], "type") == "Utilization");
  CHECK((*cpu)["resource"]["target"]["averageUtilization"].GetInt() == 50);

  auto v1 = c.api.Client(kV1Ref).Get("conv", "web");
  REQUIRE(v1.ok());
  CHECK(json::StringMember(*v1, "apiVersion") == "autoscaling/v1");
  CHECK((*v1)["spec"]["targetCPUUtilizationPercentage"].GetInt() == 50);
  CHECK(json::Member((*v1)["spec"], "metrics") == nullptr);
  CHECK(AnnotationOf(*v1, kHpaMetricsAnnotation).empty());
}

TEST_CASE("a v2-only metric survives a v1 read-modify-write", "[hpa_conversion_api]") {
  Cluster c;
  Document created = c.api.Create(kV2Ref, "conv", R"({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "mem"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "mem"},
             "minReplicas": 1, "maxReplicas": 4,
             "metrics": [{"type": "Resource", "resource": {"name": "memory",
                          "target": {"type": "AverageValue", "averageValue": "500Mi"}}}],
             "behavior": {"scaleDown": {"stabilizationWindowSeconds": 120}}}})");
  CHECK(json::StringMember(created, "apiVersion") == "autoscaling/v2");

  auto v1 = c.api.Client(kV1Ref).Get("conv", "mem");
  REQUIRE(v1.ok());
  CHECK(json::StringMember(*v1, "apiVersion") == "autoscaling/v1");
  std::string note = AnnotationOf(*v1, kHpaMetricsAnnotation);
  CHECK(note.find("\"name\":\"memory\"") != std::string::npos);
  CHECK(note.find("\"targetAverageValue\":\"500Mi\"") != std::string::npos);
  CHECK(AnnotationOf(*v1, kHpaBehaviorAnnotation).find("120") != std::string::npos);
  CHECK(json::Member((*v1)["spec"], "targetCPUUtilizationPercentage") == nullptr);

  // Update through v1: maxReplicas changes, the annotation goes back as it came.
  Document desired;
  desired.CopyFrom(*v1, desired.GetAllocator());
  desired["spec"]["maxReplicas"].SetInt(9);
  auto updated = c.api.Client(kV1Ref).Update(desired);
  REQUIRE(updated.ok());
  CHECK(json::StringMember(*updated, "apiVersion") == "autoscaling/v1");
  CHECK((*updated)["spec"]["maxReplicas"].GetInt() == 9);
  CHECK(!AnnotationOf(*updated, kHpaMetricsAnnotation).empty());

  auto v2 = c.api.Client(kV2Ref).Get("conv", "mem");
  REQUIRE(v2.ok());
  CHECK((*v2)["spec"]["maxReplicas"].GetInt() == 9);
  const Value* memory = ResourceMetric(*v2, "memory");
  REQUIRE(memory != nullptr);
  CHECK(json::StringMember((*memory)["resource"]["target"], "averageValue") == "500Mi");
  CHECK(ResourceMetric(*v2, "cpu") == nullptr);
  CHECK((*v2)["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"].GetInt() == 120);
  // The round-trip annotations are not stored.
  CHECK(AnnotationOf(*v2, kHpaMetricsAnnotation).empty());
  CHECK(AnnotationOf(*v2, kHpaBehaviorAnnotation).empty());

  // A merge patch through v1 applies to the v1 form.
  auto patched = c.api.Client(kV1Ref).Patch("conv", "mem", client::PatchType::kMerge,
                                           R"({"spec": {"targetCPUUtilizationPercentage": 65}})");
  REQUIRE(patched.ok());
  CHECK((*patched)["spec"]["targetCPUUtilizationPercentage"].GetInt() == 65);
  v2 = c.api.Client(kV2Ref).Get("conv", "mem");
  REQUIRE(v2.ok());
  REQUIRE(ResourceMetric(*v2, "memory") != nullptr);
  const Value* cpu = ResourceMetric(*v2, "cpu");
  REQUIRE(cpu != nullptr);
  CHECK((*cpu)["resource"]["target"]["averageUtilization"].GetInt() == 65);

  // A bad round-trip annotation is the client's error.
  auto bad = c.api.Client(kV1Ref).Patch(
      "conv", "mem", client::PatchType::kMerge,
      R"({"metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/metrics": "nope"}}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("autoscaling.alpha.kubernetes.io/metrics") != std::string::npos);
}

TEST_CASE("v1 status writes land in v2 currentMetrics", "[hpa_conversion_api]") {
  Cluster c;
  Document created = c.api.Create(kV1Ref, "conv", R"({"metadata": {"name": "st"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "st"}, "maxReplicas": 3}})");
  Document status =
      json::ParseJson(R"({"currentReplicas": 2, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 42})").value();
  json::SetMember(created, "status", Value(status, created.GetAllocator()), created.GetAllocator());
  auto updated = c.api.Client(kV1Ref).UpdateStatus(created);
  REQUIRE(updated.ok());
  CHECK((*updated)["status"]["currentCPUUtilizationPercentage"].GetInt() == 42);
  auto v2 = c.api.Client(kV2Ref).Get("conv", "st");
  REQUIRE(v2.ok());
  const Value* v2_status = json::Member(*v2, "status");
  const Value* current = v2_status ? json::Member(*v2_status, "currentMetrics") : nullptr;
  REQUIRE((current && current->IsArray() && current->Size() == 1));
  CHECK((*current)[0]["resource"]["current"]["averageUtilization"].GetInt() == 42);
  // No target named in v1: Kubernetes' implicit 80% cpu.
  const Value* cpu = ResourceMetric(*v2, "cpu");
  REQUIRE(cpu != nullptr);
  CHECK((*cpu)["resource"]["target"]["averageUtilization"].GetInt() == 80);
}

TEST_CASE("list and watch at v1 serve v1 objects", "[hpa_conversion_api]") {
  Cluster c;
  c.api.Create(kV2Ref, "conv", R"({"metadata": {"name": "a"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "maxReplicas": 3,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 30}}}]}})");

  auto list = c.api.Client(kV1Ref).List("conv");
  REQUIRE(list.ok());
  CHECK(json::StringMember(*list, "apiVersion") == "autoscaling/v1");
  REQUIRE((*list)["items"].Size() == 1);
  const Value& item = (*list)["items"][0];
  CHECK(json::StringMember(item, "apiVersion") == "autoscaling/v1");
  CHECK(item["spec"]["targetCPUUtilizationPercentage"].GetInt() == 30);
  CHECK(json::Member(item["spec"], "metrics") == nullptr);

  auto list2 = c.api.Client(kV2Ref).List("conv");
  REQUIRE(list2.ok());
  CHECK(json::StringMember((*list2)["items"][0], "apiVersion") == "autoscaling/v2");

  client::ListOptions options;
  options.resource_version = std::string(json::StringMember((*list)["metadata"], "resourceVersion"));
  options.timeout_seconds = 5;
  auto watch = c.api.Client(kV1Ref).Watch("conv", options);
  REQUIRE(watch.ok());
  c.api.Create(kV2Ref, "conv", R"({"metadata": {"name": "b"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "b"}, "maxReplicas": 3,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 45}}}]}})");
  std::vector<Document> events;
  REQUIRE(testing::Eventually([&] {
    auto lines = (*watch)->Next(std::chrono::milliseconds(100));
    if (lines.ok()) {
      for (const std::string& line : *lines) {
        auto e = json::ParseJsonObject(line);
        if (e.ok() && json::StringMember(*e, "type") == "ADDED") events.push_back(std::move(e).value());
      }
    }
    return !events.empty();
  }));
  const Value& object = events[0]["object"];
  CHECK(json::StringMember(object, "apiVersion") == "autoscaling/v1");
  CHECK(object["spec"]["targetCPUUtilizationPercentage"].GetInt() == 45);
  CHECK(json::Member(object["spec"], "metrics") == nullptr);
}

}  // namespace
}  // namespace kite::apiserver
