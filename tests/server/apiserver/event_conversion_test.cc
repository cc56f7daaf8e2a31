// Event conversion between core v1 and events.k8s.io/v1 (event_conversion.h), and the
// registry's kinds stored under another group (version_conversion.h).
#include <catch2/catch.hpp>

#include "src/server/apiserver/event_conversion.h"
#include "src/server/apiserver/version_conversion.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

using rapidjson::Document;

Document Parse(std::string_view text) {
  Result<Document> d = json::ParseJsonObject(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

// Every field of a core v1 Event, compact, in the order Kubernetes writes them.
constexpr std::string_view kCore =
    R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1","namespace":"demo"},)"
    R"("involvedObject":{"kind":"Pod","namespace":"demo","name":"web","uid":"u-1"},)"
    R"("reason":"Started","message":"Started container web",)"
    R"("source":{"component":"kubelet","host":"node-1"},)"
    R"("firstTimestamp":"2024-05-01T10:00:00Z","lastTimestamp":"2024-05-01T10:05:00Z","count":3,)"
    R"("type":"Normal","eventTime":"2024-05-01T10:00:00.000001Z",)"
    R"("series":{"count":3,"lastObservedTime":"2024-05-01T10:05:00.000000Z"},)"
    R"("action":"Start","related":{"kind":"Node","name":"node-1"},)"
    R"("reportingComponent":"kubelet","reportingInstance":"node-1"})";

// The same Event as events.k8s.io/v1 serves it.
constexpr std::string_view kEventsV1 =
    R"({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"web.1","namespace":"demo"},)"
    R"("regarding":{"kind":"Pod","namespace":"demo","name":"web","uid":"u-1"},)"
    R"("reason":"Started","note":"Started container web",)"
    R"("deprecatedSource":{"component":"kubelet","host":"node-1"},)"
    R"("deprecatedFirstTimestamp":"2024-05-01T10:00:00Z","deprecatedLastTimestamp":"2024-05-01T10:05:00Z",)"
    R"("deprecatedCount":3,)"
    R"("type":"Normal","eventTime":"2024-05-01T10:00:00.000001Z",)"
    R"("series":{"count":3,"lastObservedTime":"2024-05-01T10:05:00.000000Z"},)"
    R"("action":"Start","related":{"kind":"Node","name":"node-1"},)"
    R"("reportingController":"kubelet","reportingInstance":"node-1"})";

TEST_CASE("a core Event converts to events.k8s.io/v1 field by field and back", "[event_conversion]") {
  Document d = Parse(kCore);
  CoreEventToEventsV1(d);
  CHECK(json::ToJson(d) == kEventsV1);  // names change in place, order kept
  EventsV1EventToCore(d);
  CHECK(json::ToJson(d) == kCore);
}

TEST_CASE("an events.k8s.io/v1 Event converts to core and back exactly", "[event_conversion]") {
  Document d = Parse(kEventsV1);
  REQUIRE(ConvertEvent(d, "events.k8s.io/v1", "v1").ok());
  CHECK(json::ToJson(d) == kCore);
  REQUIRE(ConvertEvent(d, "v1", "events.k8s.io/v1").ok());
  CHECK(json::ToJson(d) == kEventsV1);
}

TEST_CASE("missing Event fields stay missing; nothing is defaulted", "[event_conversion]") {
  Document d = Parse(R"({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"e"},"note":"hi"})");
  EventsV1EventToCore(d);
  CHECK(json::ToJson(d) == R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"message":"hi"})");
  CoreEventToEventsV1(d);
  CHECK(json::ToJson(d) == R"({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"e"},"note":"hi"})");

  Document bare = Parse(R"({"kind":"Event"})");  // no apiVersion at all: one is set
  CoreEventToEventsV1(bare);
  CHECK(json::ToJson(bare) == R"({"kind":"Event","apiVersion":"events.k8s.io/v1"})");
}

TEST_CASE("the other version's field names are dropped, values move as they are", "[event_conversion]") {
  // "note" is not a core field, "message" not an events.k8s.io/v1 one.
  Document d = Parse(R"({"apiVersion":"v1","note":"stale","message":"kept","count":"three","regarding":1})");
  CoreEventToEventsV1(d);
  CHECK(json::ToJson(d) == R"({"apiVersion":"events.k8s.io/v1","note":"kept","deprecatedCount":"three"})");
  Document back = Parse(R"({"apiVersion":"events.k8s.io/v1","message":"x","message":"y","involvedObject":{}})");
  EventsV1EventToCore(back);
  CHECK(json::ToJson(back) == R"({"apiVersion":"v1"})");
}

TEST_CASE("ConvertEvent knows only v1 and events.k8s.io/v1", "[event_conversion]") {
  Document d = Parse(kCore);
  CHECK(ConvertEvent(d, "v1", "v1").ok());
  CHECK(json::ToJson(d) == kCore);
  Status bad = ConvertEvent(d, "v1", "events.k8s.io/v1beta1");
  CHECK(bad.code() == StatusCode::kInvalidArgument);
  CHECK(bad.message() == "cannot convert an Event from \"v1\" to \"events.k8s.io/v1beta1\"");
}

TEST_CASE("events.k8s.io Events are stored as core v1 Events", "[version_conversion]") {
  const VersionConversions& c = VersionConversions::Builtin();
  CHECK(c.StorageGroup("events.k8s.io", "Event") == "");
  CHECK(c.StorageVersion("events.k8s.io", "Event") == "v1");
  CHECK(c.StorageGroup("autoscaling", "HorizontalPodAutoscaler") == "autoscaling");
  CHECK(c.StorageGroup("apps", "Deployment") == "apps");  // no converter: its own group
  CHECK(c.StorageVersion("", "Event").empty());           // core Events are stored as sent

  Document d = Parse(kEventsV1);
  REQUIRE(c.ConvertToStorage("events.k8s.io", "Event", d).ok());
  CHECK(json::ToJson(d) == kCore);
  REQUIRE(c.ConvertToStorage("events.k8s.io", "Event", d).ok());  // already stored form
  CHECK(json::ToJson(d) == kCore);
  REQUIRE(c.ConvertTo("events.k8s.io", "Event", "v1", d).ok());  // version "v1" of events.k8s.io
  CHECK(json::ToJson(d) == kEventsV1);

  Result<std::string> served = c.ConvertJsonTo("events.k8s.io", "Event", "v1", std::string(kCore));
  REQUIRE(served.ok());
  CHECK(*served == kEventsV1);
  Result<std::string> same = c.ConvertJsonTo("events.k8s.io", "Event", "v1", std::string(kEventsV1));
  REQUIRE(same.ok());
  CHECK(*same == kEventsV1);

  Document apps = Parse(R"({"apiVersion":"apps/v1","kind":"Event"})");
  Status wrong = c.ConvertTo("events.k8s.io", "Event", "v1", apps);
  CHECK(wrong.code() == StatusCode::kInvalidArgument);
  CHECK(wrong.message() == "apiVersion \"apps/v1\" is not a version of group \"events.k8s.io\"");
  Document beta = Parse(R"({"apiVersion":"events.k8s.io/v1beta1","kind":"Event"})");
  CHECK(c.ConvertToStorage("events.k8s.io", "Event", beta).code() == StatusCode::kInvalidArgument);
  Document not_core = Parse(R"({"apiVersion":"events.k8s.io","kind":"Event"})");  // group without version
  CHECK(c.ConvertTo("events.k8s.io", "Event", "v1", not_core).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a converter registered under another group sees full apiVersions", "[version_conversion]") {
  VersionConversions custom;
  std::vector<std::pair<std::string, std::string>> calls;
  custom.RegisterStoredIn("new.example.com", "Thing", "old.example.com", "v3",
                          [&](Document& o, std::string_view from, std::string_view to) {
                            calls.emplace_back(from, to);
                            json::SetStringMember(o, "apiVersion", to, o.GetAllocator());
                            return Status::Ok();
                          });
  CHECK(custom.StorageGroup("new.example.com", "Thing") == "old.example.com");
  Document thing = Parse(R"({"apiVersion":"new.example.com/v1"})");
  REQUIRE(custom.ConvertToStorage("new.example.com", "Thing", thing).ok());
  CHECK(json::StringMember(thing, "apiVersion") == "old.example.com/v3");
  REQUIRE(custom.ConvertTo("new.example.com", "Thing", "v2", thing).ok());
  CHECK(json::StringMember(thing, "apiVersion") == "new.example.com/v2");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0] == std::pair<std::string, std::string>{"new.example.com/v1", "old.example.com/v3"});
  CHECK(calls[1] == std::pair<std::string, std::string>{"old.example.com/v3", "new.example.com/v2"});
  // Another version of the storage group is not the storage version.
  Document other = Parse(R"({"apiVersion":"old.example.com/v1"})");
  CHECK(custom.ConvertTo("new.example.com", "Thing", "v2", other).code() == StatusCode::kInvalidArgument);
  CHECK(calls.size() == 2);
}

}  // namespace
}  // namespace kite::apiserver
