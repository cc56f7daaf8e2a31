// Event validation by request version (event_validation.h): the legacy rules every write
// passes, and the strict create and update rules of events.k8s.io/v1, with Kubernetes'
// field paths and messages.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "src/server/admission/event_validation.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

using rapidjson::Document;
using validation::StatusCause;

constexpr std::string_view kCoreVersion = "v1";
constexpr std::string_view kEventsV1 = "events.k8s.io/v1";

Document Parse(std::string_view text) {
  Result<Document> d = json::ParseJson(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

// A valid events.k8s.io/v1 Event, in the core shape validation sees.
constexpr std::string_view kValid = R"({"apiVersion": "v1", "kind": "Event",
  "metadata": {"name": "web.1", "namespace": "demo"},
  "involvedObject": {"kind": "Pod", "namespace": "demo", "name": "web"},
  "eventTime": "2024-05-01T10:00:00.000000Z", "reportingComponent": "example.com/scaler",
  "reportingInstance": "scaler-1", "action": "Scale", "reason": "Scaled", "type": "Normal",
  "message": "scaled up"})";

// kValid with `patch` merged in (null removes a field).
Document Valid(std::string_view patch = "{}") {
  Document d = Parse(kValid);
  Document p = Parse(patch);
  for (auto& m : p.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (m.value.IsNull()) {
      json::RemoveMember(d, name);
    } else {
      json::SetMember(d, name, rapidjson::Value(m.value, d.GetAllocator()), d.GetAllocator());
    }
  }
  return d;
}

std::vector<std::string> Fields(const std::vector<StatusCause>& causes) {
  std::vector<std::string> out;
  for (const StatusCause& c : causes) out.push_back(c.field);
  return out;
}

using Strings = std::vector<std::string>;

TEST_CASE("a complete events.k8s.io/v1 Event is valid at either version", "[event_validation]") {
  CHECK(ValidateEvent(Valid(), nullptr, kEventsV1).empty());
  CHECK(ValidateEvent(Valid(), nullptr, kCoreVersion).empty());
  // A Node's event may live in default or kube-system.
  Document node = Valid(R"({"metadata": {"name": "n.1", "namespace": "kube-system"},
                            "involvedObject": {"kind": "Node", "name": "n"}})");
  CHECK(ValidateEvent(node, nullptr, kEventsV1).empty());
}

TEST_CASE("legacy Events only need their namespaces to agree", "[event_validation]") {
  Document legacy = Parse(R"({"metadata": {"name": "x", "namespace": "demo"},
    "involvedObject": {"kind": "Pod", "namespace": "demo", "name": "p"}, "reason": "R", "message": "m",
    "firstTimestamp": "2024-05-01T10:00:00Z", "count": 1, "source": {"component": "kubelet"}})");
  CHECK(ValidateEvent(legacy, nullptr, kCoreVersion).empty());

  Document other = Parse(R"({"metadata": {"name": "x", "namespace": "demo"},
    "involvedObject": {"namespace": "elsewhere"}})");
  std::vector<StatusCause> causes = ValidateEvent(other, nullptr, kCoreVersion);
  REQUIRE(causes.size() == 1);
  CHECK(causes[0] == StatusCause{"FieldValueInvalid", R"(Invalid value: "elsewhere": does not match event.namespace)",
                                 "involvedObject.namespace"});
  // A cluster-scoped object's event: only in "default" for legacy events.
  Document cluster = Parse(R"({"metadata": {"name": "x", "namespace": "demo"}, "involvedObject": {"kind": "Node"}})");
  CHECK(Fields(ValidateEvent(cluster, nullptr, kCoreVersion)) == Strings{"involvedObject.namespace"});
  Document in_default = Parse(R"({"metadata": {"name": "x", "namespace": "default"}, "involvedObject": {"kind": "Node"}})");
  CHECK(ValidateEvent(in_default, nullptr, kCoreVersion).empty());
}

TEST_CASE("an Event with eventTime needs its reporting fields, whatever the version", "[event_validation]") {
  Document d = Valid(R"({"reportingComponent": null, "reportingInstance": "", "action": null, "reason": null})");
  for (std::string_view version : {kCoreVersion, kEventsV1}) {
    INFO(version);
    std::vector<StatusCause> causes = ValidateEvent(d, nullptr, version);
    REQUIRE(causes.size() == 6);
    CHECK(causes[0] == StatusCause{"FieldValueRequired", "Required value", "reportingController"});
    // The empty name also fails IsQualifiedName, twice.
    CHECK(causes[1] == StatusCause{"FieldValueInvalid", R"(Invalid value: "": name part must be non-empty)",
                                   "reportingController"});
    CHECK(causes[2].field == "reportingController");
    CHECK(Fields({causes.begin() + 3, causes.end()}) == Strings{"reportingInstance", "action", "reason"});
  }
  Document bad_name = Valid(R"({"reportingComponent": "bad name!"})");
  std::vector<StatusCause> causes = ValidateEvent(bad_name, nullptr, kEventsV1);
  REQUIRE(causes.size() == 1);
  CHECK(causes[0].field == "reportingController");
  CHECK(causes[0].message.starts_with(R"(Invalid value: "bad name!": name part must consist of)"));
}

TEST_CASE("reportingInstance, action and reason are at most 128 characters, the note 1024", "[event_validation]") {
  std::string at_limit(128, 'a');
  std::string long_note(1024, 'n');
  Document ok = Valid("{}");
  json::SetStringMember(ok, "reportingInstance", at_limit, ok.GetAllocator());
  json::SetStringMember(ok, "action", at_limit, ok.GetAllocator());
  json::SetStringMember(ok, "reason", at_limit, ok.GetAllocator());
  json::SetStringMember(ok, "message", long_note, ok.GetAllocator());
  CHECK(ValidateEvent(ok, nullptr, kEventsV1).empty());

  Document over = Valid("{}");
  json::SetStringMember(over, "reportingInstance", at_limit + "a", over.GetAllocator());
  json::SetStringMember(over, "action", at_limit + "a", over.GetAllocator());
  json::SetStringMember(over, "reason", at_limit + "a", over.GetAllocator());
  json::SetStringMember(over, "message", long_note + "n", over.GetAllocator());
  std::vector<StatusCause> causes = ValidateEvent(over, nullptr, kEventsV1);
  CHECK(causes == std::vector<StatusCause>{
                      {"FieldValueInvalid", R"(Invalid value: "": can have at most 128 characters)", "reportingInstance"},
                      {"FieldValueInvalid", R"(Invalid value: "": can have at most 128 characters)", "action"},
                      {"FieldValueInvalid", R"(Invalid value: "": can have at most 128 characters)", "reason"},
                      {"FieldValueInvalid", R"(Invalid value: "": can have at most 1024 characters)", "message"}});
}

TEST_CASE("an events.k8s.io/v1 create needs eventTime and a known type, without the deprecated fields",
          "[event_validation]") {
  Document d = Parse(R"({"metadata": {"name": "x", "namespace": "demo"},
    "involvedObject": {"namespace": "demo"}, "type": "Info",
    "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": "2024-05-01T10:00:00Z", "count": 2,
    "source": {"host": "node-1"}})");
  std::vector<StatusCause> causes = ValidateEvent(d, nullptr, kEventsV1);
  CHECK(causes == std::vector<StatusCause>{
                      {"FieldValueRequired", "Required value", "eventTime"},
                      {"FieldValueInvalid", R"(Invalid value: "": has invalid value: Info)", "type"},
                      {"FieldValueInvalid", R"(Invalid value: "": needs to be unset)", "firstTimestamp"},
                      {"FieldValueInvalid", R"(Invalid value: "": needs to be unset)", "lastTimestamp"},
                      {"FieldValueInvalid", R"(Invalid value: "": needs to be unset)", "count"},
                      {"FieldValueInvalid", R"(Invalid value: "": needs to be unset)", "source"}});
  // The same object through core v1 passes (legacy rules only).
  CHECK(ValidateEvent(d, nullptr, kCoreVersion).empty());
  // Go's zero time is no eventTime; an empty type is not a known one.
  Document zero = Valid(R"({"eventTime": "0001-01-01T00:00:00Z", "type": null})");
  CHECK(Fields(ValidateEvent(zero, nullptr, kEventsV1)) == Strings{"eventTime", "type"});
}

TEST_CASE("a series needs a count of at least 2 and lastObservedTime", "[event_validation]") {
  CHECK(ValidateEvent(Valid(R"({"series": {"count": 2, "lastObservedTime": "2024-05-01T10:00:00.000000Z"}})"),
                      nullptr, kEventsV1)
            .empty());
  std::vector<StatusCause> causes = ValidateEvent(Valid(R"({"series": {"count": 1}})"), nullptr, kEventsV1);
  CHECK(causes == std::vector<StatusCause>{
                      {"FieldValueInvalid", R"(Invalid value: "": should be at least 2)", "series.count"},
                      {"FieldValueRequired", "Required value", "series.lastObservedTime"}});
  CHECK(Fields(ValidateEvent(Valid(R"({"series": {}})"), nullptr, kEventsV1)) ==
        Strings{"series.count", "series.lastObservedTime"});
  CHECK(ValidateEvent(Valid(R"({"series": {"count": 1}})"), nullptr, kCoreVersion).empty());
}

TEST_CASE("an events.k8s.io/v1 update may not change what the Event says", "[event_validation]") {
  Document old = Valid(R"({"related": {"kind": "Node", "name": "n"}})");
  Document same = Valid(R"({"related": {"kind": "Node", "name": "n"}, "metadata": {"name": "web.1",
                             "namespace": "demo", "labels": {"a": "b"}}})");
  CHECK(ValidateEvent(same, &old, kEventsV1).empty());

  Document changed = Valid(R"({"message": "scaled down", "reason": "Shrunk", "count": 4,
    "involvedObject": {"kind": "Pod", "namespace": "demo", "name": "api", "uid": "u-2"},
    "source": {"component": "c"}, "firstTimestamp": "2024-05-01T12:00:00.25+02:00",
    "eventTime": "2024-05-01T10:00:01.500000Z", "related": null, "reportingInstance": "scaler-2"})");
  std::vector<StatusCause> causes = ValidateEvent(changed, &old, kEventsV1);
  std::vector<StatusCause> legacy_and_immutable = {
      {"FieldValueInvalid",
       R"(Invalid value: core.ObjectReference{Kind:"Pod", Namespace:"demo", Name:"api", UID:"u-2", APIVersion:"", ResourceVersion:"", FieldPath:""}: field is immutable)",
       "involvedObject"},
      {"FieldValueInvalid", R"(Invalid value: "Shrunk": field is immutable)", "reason"},
      {"FieldValueInvalid", R"(Invalid value: "scaled down": field is immutable)", "message"},
      {"FieldValueInvalid", R"(Invalid value: core.EventSource{Component:"c", Host:""}: field is immutable)", "source"},
      {"FieldValueInvalid", "Invalid value: 2024-05-01 10:00:00.25 +0000 UTC: field is immutable", "firstTimestamp"},
      {"FieldValueInvalid", "Invalid value: 4: field is immutable", "count"},
      {"FieldValueInvalid", R"(Invalid value: "Shrunk": field is immutable)", "reason"},  // Kubernetes checks it twice
      {"FieldValueInvalid", "Invalid value: 2024-05-01 10:00:01.5 +0000 UTC: field is immutable", "eventTime"},
      {"FieldValueInvalid", R"(Invalid value: "null": field is immutable)", "related"},
      {"FieldValueInvalid", R"(Invalid value: "scaler-2": field is immutable)", "reportingInstance"},
  };
  CHECK(causes == legacy_and_immutable);
  // Core v1 updates keep the legacy rules only.
  CHECK(ValidateEvent(changed, &old, kCoreVersion).empty());
}

TEST_CASE("an update re-checks a changed series only", "[event_validation]") {
  Document old = Valid(R"({"series": {"count": 1}})");  // stored before the rule, say
  CHECK(ValidateEvent(Valid(R"({"series": {"count": 1}})"), &old, kEventsV1).empty());
  CHECK(Fields(ValidateEvent(Valid(R"({"series": {"count": 5}})"), &old, kEventsV1)) ==
        Strings{"series.lastObservedTime"});
  Document without = Valid();
  CHECK(Fields(ValidateEvent(Valid(R"({"series": {}})"), &without, kEventsV1)) ==
        Strings{"series.count", "series.lastObservedTime"});
}

TEST_CASE("wrong JSON types are causes, not crashes", "[event_validation]") {
  Document d = Valid(R"({"eventTime": 5, "count": "many", "involvedObject": [], "series": "often"})");
  std::vector<StatusCause> causes = ValidateEvent(d, nullptr, kEventsV1);
  Strings fields = Fields(causes);
  for (const char* f : {"involvedObject", "eventTime", "count", "series"}) {
    INFO(f);
    CHECK(std::count(fields.begin(), fields.end(), f) >= 1);
  }
  CHECK(causes[0].reason == "FieldValueTypeInvalid");
  std::vector<StatusCause> not_object = ValidateEvent(Parse("[1]"), nullptr, kEventsV1);
  REQUIRE(not_object.size() == 1);
  CHECK(not_object[0].reason == "FieldValueTypeInvalid");
  Document old = Parse("7");  // an unusable stored object: judged as a create
  CHECK(ValidateEvent(Valid(R"({"count": 1})"), &old, kEventsV1) ==
        ValidateEvent(Valid(R"({"count": 1})"), nullptr, kEventsV1));
}

}  // namespace
}  // namespace kite::admission
