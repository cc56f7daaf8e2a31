// The scale subresource's JSON paths on custom objects: reading (with apimachinery's accessor
// errors), writing, the Scale built from them and the validation every write gets.
#include "src/server/crd/scale_paths.h"
#include "src/server/crd/value_format.h"

#include <catch2/catch.hpp>

#include "src/server/json/json_util.h"

namespace kite::crd {
namespace {

using rapidjson::Document;

Document Parse(std::string_view text) {
  Result<Document> d = json::ParseJson(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

const ScaleSubresource kPaths{".spec.replicas", ".status.replicas", ".status.labelSelector"};

TEST_CASE("nested integers and strings are read as apimachinery's accessors read them", "[scale_paths]") {
  Document o = Parse(R"({"spec":{"replicas":3,"text":"abc","half":1.5,"big":1e6,"list":[1,"a"],
    "map":{"b":2,"a":null},"nothing":null,"flag":true}})");
  auto r = NestedInt64(o, ".spec.replicas");
  REQUIRE(r.ok());
  CHECK(r->value() == 3);
  r = NestedInt64(o, "spec.replicas");  // the leading '.' is optional
  REQUIRE(r.ok());
  CHECK(r->value() == 3);
  r = NestedInt64(o, ".spec.missing");
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
  r = NestedInt64(o, ".status.replicas");
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
  r = NestedInt64(o, ".spec.nothing.deeper");  // null on the way: absent
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());

  CHECK(NestedInt64(o, ".spec.text").status().message() ==
        ".spec.text accessor error: abc is of the type string, expected int64");
  CHECK(NestedInt64(o, ".spec.half").status().message() ==
        ".spec.half accessor error: 1.5 is of the type float64, expected int64");
  CHECK(NestedInt64(o, ".spec.big").status().message() ==
        ".spec.big accessor error: 1e+06 is of the type float64, expected int64");
  CHECK(NestedInt64(o, ".spec.nothing").status().message() ==
        ".spec.nothing accessor error: <nil> is of the type <nil>, expected int64");
  CHECK(NestedInt64(o, ".spec.map").status().message() ==
        ".spec.map accessor error: map[a:<nil> b:2] is of the type map[string]interface {}, expected int64");
  // A value on the way that is not an object: the path named is the one being looked up.
  CHECK(NestedInt64(o, ".spec.text.replicas").status().message() ==
        ".spec.text.replicas accessor error: abc is of the type string, expected map[string]interface{}");
  CHECK(NestedInt64(o, ".spec.list.x").status().message() ==
        ".spec.list.x accessor error: [1 a] is of the type []interface {}, expected map[string]interface{}");

  auto s = NestedString(o, ".spec.text");
  REQUIRE(s.ok());
  CHECK(s->value() == "abc");
  CHECK(NestedString(o, ".spec.flag").status().message() ==
        ".spec.flag accessor error: true is of the type bool, expected string");
  CHECK(NestedString(o, ".spec.replicas").status().message() ==
        ".spec.replicas accessor error: 3 is of the type int64, expected string");
}

TEST_CASE("floats print as Go's %v prints them", "[scale_paths]") {
  auto go = [](const char* json) { return GoValueString(Parse(json)); };
  CHECK(go("0.0") == "0");
  CHECK(go("2.0") == "2");
  CHECK(go("123456.0") == "123456");
  CHECK(go("1234567.0") == "1.234567e+06");
  CHECK(go("0.0001") == "0.0001");
  CHECK(go("0.00001") == "1e-05");
  CHECK(go("-2.5") == "-2.5");
  CHECK(go("0.1") == "0.1");
  CHECK(go("18446744073709551615") == "1.8446744073709552e+19");  // beyond int64: a float64
  CHECK(GoTypeName(Parse("18446744073709551615")) == "float64");
}

TEST_CASE("setting a nested integer creates the objects on the way", "[scale_paths]") {
  Document o = Parse(R"({"metadata":{"name":"a"}})");
  REQUIRE(SetNestedInt64(o, ".spec.scaling.replicas", 4, o.GetAllocator()).ok());
  CHECK(json::ToJson(o) == R"({"metadata":{"name":"a"},"spec":{"scaling":{"replicas":4}}})");
  REQUIRE(SetNestedInt64(o, "spec.scaling.replicas", 5, o.GetAllocator()).ok());
  CHECK(json::ToJson(o["spec"]) == R"({"scaling":{"replicas":5}})");

  Document nulls = Parse(R"({"spec":null})");
  REQUIRE(SetNestedInt64(nulls, ".spec.replicas", 1, nulls.GetAllocator()).ok());
  CHECK(json::ToJson(nulls) == R"({"spec":{"replicas":1}})");

  Document bad = Parse(R"({"spec":{"scaling":"fast"}})");
  Status s = SetNestedInt64(bad, ".spec.scaling.replicas", 1, bad.GetAllocator());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "value cannot be set because .spec.scaling is not a map[string]interface{}");
  CHECK(json::ToJson(bad) == R"({"spec":{"scaling":"fast"}})");  // unchanged
}

TEST_CASE("the Scale of a custom resource reads the CRD's paths", "[scale_paths]") {
  Document o = Parse(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
    "metadata":{"name":"nightly","namespace":"demo","uid":"u-1","resourceVersion":"42",
                "creationTimestamp":"2024-01-02T03:04:05Z","labels":{"a":"b"}},
    "spec":{"replicas":3,"cronSpec":"* * * * *"},
    "status":{"replicas":2,"labelSelector":"app=cron"}})");
  auto scale = ScaleOfCustomResource(o, kPaths);
  REQUIRE(scale.ok());
  CHECK(scale->spec_replicas_found);
  CHECK(json::ToJson(scale->scale) ==
        R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"nightly","namespace":"demo",)"
        R"("uid":"u-1","resourceVersion":"42","creationTimestamp":"2024-01-02T03:04:05Z"},)"
        R"("spec":{"replicas":3},"status":{"replicas":2,"selector":"app=cron"}})");

  // Absent values: spec.replicas 0 (left out, as omitempty), status.replicas 0, no selector.
  Document bare = Parse(R"({"metadata":{"name":"bare"}})");
  scale = ScaleOfCustomResource(bare, kPaths);
  REQUIRE(scale.ok());
  CHECK_FALSE(scale->spec_replicas_found);
  CHECK(json::ToJson(scale->scale) ==
        R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"bare"},"spec":{},"status":{"replicas":0}})");

  // Other paths; no labelSelectorPath means no selector even if .status.selector exists.
  Document other = Parse(R"({"metadata":{"name":"x"},"spec":{"size":{"count":7}},
    "status":{"observed":{"count":6},"selector":"ignored"}})");
  scale = ScaleOfCustomResource(other, {".spec.size.count", ".status.observed.count", ""});
  REQUIRE(scale.ok());
  CHECK(scale->scale["spec"]["replicas"].GetInt() == 7);
  CHECK(scale->scale["status"]["replicas"].GetInt() == 6);
  CHECK(json::Member(scale->scale["status"], "selector") == nullptr);

  // A wrong type at any path is an error.
  Document typed = Parse(R"({"spec":{"replicas":"three"}})");
  CHECK(ScaleOfCustomResource(typed, kPaths).status().message() ==
        ".spec.replicas accessor error: three is of the type string, expected int64");
  Document selector = Parse(R"({"spec":{"replicas":1},"status":{"labelSelector":{"matchLabels":{"a":"b"}}}})");
  CHECK(ScaleOfCustomResource(selector, kPaths).status().message() ==
        ".status.labelSelector accessor error: map[matchLabels:map[a:b]] is of the type "
        "map[string]interface {}, expected string");
  Document spec_string = Parse(R"({"spec":"none"})");
  CHECK(ScaleOfCustomResource(spec_string, kPaths).status().message() ==
        ".spec.replicas accessor error: none is of the type string, expected map[string]interface{}");
}

TEST_CASE("every write checks the replicas and the selector at the scale paths", "[scale_paths]") {
  CHECK(ValidateScaleSpec(Parse(R"({"spec":{"replicas":0}})"), kPaths).empty());
  CHECK(ValidateScaleSpec(Parse(R"({"spec":{}})"), kPaths).empty());  // absent is fine
  auto causes = ValidateScaleSpec(Parse(R"({"spec":{"replicas":-1}})"), kPaths);
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].field == ".spec.replicas");
  CHECK(causes[0].reason == "FieldValueInvalid");
  CHECK(causes[0].message == "Invalid value: -1: should be a non-negative integer");
  causes = ValidateScaleSpec(Parse(R"({"spec":{"replicas":2147483648}})"), kPaths);
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].message == "Invalid value: 2147483648: should be less than or equal to 2147483647");
  causes = ValidateScaleSpec(Parse(R"({"spec":{"replicas":"2"}})"), kPaths);
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].message ==
        "Invalid value: 0: .spec.replicas accessor error: 2 is of the type string, expected int64");

  CHECK(ValidateScaleStatus(Parse(R"({"status":{"replicas":1,"labelSelector":"a=b"}})"), kPaths).empty());
  causes = ValidateScaleStatus(Parse(R"({"status":{"replicas":-3,"labelSelector":5}})"), kPaths);
  REQUIRE(causes.size() == 2);
  CHECK(causes[0].field == ".status.replicas");
  CHECK(causes[0].message == "Invalid value: -3: should be a non-negative integer");
  CHECK(causes[1].field == ".status.labelSelector");
  CHECK(causes[1].message ==
        "Invalid value: \"\": .status.labelSelector accessor error: 5 is of the type int64, expected string");
}

}  // namespace
}  // namespace kite::crd
