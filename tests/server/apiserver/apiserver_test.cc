// Unit tests of the API server's request plumbing: paths, query strings, content
// negotiation, the stored-object codec and Kubernetes error objects.
#include <catch2/catch.hpp>

#include <algorithm>

#include "src/server/apiserver/api_error.h"
#include "src/server/apiserver/content_types.h"
#include "src/server/apiserver/field_validation.h"
#include "src/server/json/json_util.h"
#include "src/server/apiserver/object_codec.h"
#include "src/server/validation/object_meta_validation.h"
#include "src/server/apiserver/request_info.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
using namespace kite::validation;  // NOLINT
namespace {

RequestInfo Parse(const char* method, const char* target) {
  std::string_view t(target);
  size_t q = t.find('?');
  QueryParams query = QueryParams::Parse(q == std::string_view::npos ? "" : t.substr(q + 1));
  return ParseRequestInfo(method, t.substr(0, q), query);
}

TEST_CASE("request paths decode like Kubernetes' RequestInfoFactory") {
  RequestInfo i = Parse("GET", "/api/v1/namespaces/ns/pods/web-1/log");
  CHECK(i.is_resource_request);
  CHECK(i.group.empty());
  CHECK(i.version == "v1");
  CHECK(i.namespace_name == "ns");
  CHECK(i.resource == "pods");
  CHECK(i.name == "web-1");
  CHECK(i.subresource == "log");
  CHECK(i.verb == "get");

  i = Parse("GET", "/apis/apps/v1/deployments");
  CHECK(i.group == "apps");
  CHECK(i.namespace_name.empty());
  CHECK(i.verb == "list");

  i = Parse("GET", "/apis/apps/v1/namespaces/a/deployments?watch=true");
  CHECK(i.verb == "watch");
  i = Parse("GET", "/api/v1/watch/namespaces/a/configmaps");
  CHECK(i.verb == "watch");
  CHECK(i.resource == "configmaps");

  i = Parse("GET", "/api/v1/namespaces/demo");
  CHECK(i.resource == "namespaces");
  CHECK(i.name == "demo");
  CHECK(i.namespace_name == "demo");
  i = Parse("PUT", "/api/v1/namespaces/demo/status");
  CHECK(i.resource == "namespaces");
  CHECK(i.subresource == "status");
  CHECK(i.verb == "update");

  CHECK(Parse("DELETE", "/api/v1/namespaces/a/pods").verb == "deletecollection");
  CHECK(Parse("DELETE", "/api/v1/namespaces/a/pods/p").verb == "delete");
  CHECK(Parse("PATCH", "/api/v1/nodes/n1").verb == "patch");
  CHECK(Parse("POST", "/api/v1/namespaces").verb == "create");
  CHECK_FALSE(Parse("GET", "/api/v1").is_resource_request);
  CHECK_FALSE(Parse("GET", "/apis/apps").is_resource_request);
  CHECK_FALSE(Parse("GET", "/version").is_resource_request);
}

TEST_CASE("query strings are percent-decoded, first value wins") {
  QueryParams q = QueryParams::Parse("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5&limit=7&watch=1&bad=%zz");
  CHECK(q.Get("labelSelector") == "app=web,tier in (a)");
  CHECK(q.Get("limit") == "5");
  CHECK(q.GetBool("watch"));
  CHECK_FALSE(q.GetBool("missing"));
  QueryParams b = QueryParams::Parse("a=True&b=FALSE&c=&d=0&e=yes");
  CHECK(b.GetBool("a"));
  CHECK_FALSE(b.GetBool("b"));
  CHECK(b.GetBool("c"));
  CHECK_FALSE(b.GetBool("d"));
  CHECK(b.GetBool("e"));
  CHECK_FALSE(q.Has("bad"));  // malformed escape: dropped, not crashed on
  std::string out;
  CHECK_FALSE(PercentDecode("%4", false, out));
  CHECK(PercentDecode("a%2Fb", false, out));
  CHECK(out == "a/b");
}

TEST_CASE("content negotiation follows the client's order") {
  CHECK(NegotiateObjectOutput("") == OutputKind::kJson);
  CHECK(NegotiateObjectOutput("application/json") == OutputKind::kJson);
  CHECK(NegotiateObjectOutput("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json") ==
        OutputKind::kTable);
  CHECK(NegotiateObjectOutput("application/vnd.kubernetes.protobuf, application/json") == OutputKind::kJson);
  CHECK(NegotiateObjectOutput("application/vnd.kubernetes.protobuf") == OutputKind::kNotAcceptable);
  CHECK(NegotiateObjectOutput("*/*") == OutputKind::kJson);
  std::string version;
  CHECK(WantsAggregatedDiscovery(
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
      &version));
  CHECK(version == "v2");
  CHECK_FALSE(WantsAggregatedDiscovery("application/json, */*", &version));
  CHECK(MediaTypeOf("Application/JSON; charset=utf-8") == "application/json");
}

TEST_CASE("stored objects carry no resourceVersion; reads splice it in") {
  Result<rapidjson::Document> doc = ParseJsonObject(
      R"({"data":{"a":"b"},"metadata":{"resourceVersion":"7","name":"x"},"kind":"ConfigMap","apiVersion":"v1"})");
  REQUIRE(doc.ok());
  std::string stored = EncodeForStorage(*doc);
  CHECK(stored == R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"}})");
  std::string read = WithResourceVersion(stored, 42);
  CHECK(read == R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"42","name":"x"},"data":{"a":"b"}})");
  Result<rapidjson::Document> reparsed = ParseJsonObject(read);
  REQUIRE(reparsed.ok());
  CHECK(WithResourceVersion(R"({"apiVersion":"v1","kind":"X","metadata":{}})", 3) ==
        R"({"apiVersion":"v1","kind":"X","metadata":{"resourceVersion":"3"}})");
  CHECK(ObjectKey("", "configmaps", "ns", "x") == "/registry/core/configmaps/ns/x");
  CHECK(ObjectKey("apps", "deployments", "ns", "d") == "/registry/apps/deployments/ns/d");
  CHECK(ObjectKey("", "nodes", "", "n") == "/registry/core/nodes/n");
  CHECK(CollectionPrefix("", "pods", "") == "/registry/core/pods/");
}

TEST_CASE("malformed bodies give errors, never crashes") {
  CHECK_FALSE(ParseJsonObject("{").ok());
  CHECK_FALSE(ParseJsonObject("[1]").ok());
  CHECK_FALSE(ParseJsonObject("{} trailing").ok());
  std::string deep(100000, '[');
  CHECK_FALSE(ParseJson(deep).ok());  // iterative parser: no stack overflow
  CHECK_FALSE(YamlToJson("a: [1, 2").ok());
  Result<rapidjson::Document> y = YamlToJson("a: 1\nb: 'true'\nc: true\nd: 1.5\ne: ~\nf: \"010\"\ng: 010x\n");
  REQUIRE(y.ok());
  CHECK(ToJson(*y) == R"({"a":1,"b":"true","c":true,"d":1.5,"e":null,"f":"010","g":"010x"})");
}

TEST_CASE("Status objects carry reason, code and causes") {
  ApiError nf = NotFoundError({"apps", "deployments"}, "web");
  CHECK(nf.code == 404);
  CHECK(nf.message == "deployments.apps \"web\" not found");
  CHECK(nf.ToJson().find("\"reason\":\"NotFound\"") != std::string::npos);
  ApiError invalid = InvalidError("", "ConfigMap", "Bad", {InvalidCause("metadata.name", "Bad", "nope")});
  CHECK(invalid.code == 422);
  CHECK(invalid.message == "ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": nope");
  std::string json = invalid.ToJson();
  CHECK(json.find("\"causes\":[{\"reason\":\"FieldValueInvalid\"") != std::string::npos);
  CHECK(ModifiedConflictError({"", "configmaps"}, "x").message.find("the object has been modified") !=
        std::string::npos);
}

TEST_CASE("names are validated with each resource's rule") {
  CHECK(ValidateName("web-1.example", NameRule::kDns1123Subdomain).empty());
  CHECK_FALSE(ValidateName("Web", NameRule::kDns1123Subdomain).empty());
  CHECK_FALSE(ValidateName("a.b", NameRule::kDns1123Label).empty());
  CHECK_FALSE(ValidateName("1abc", NameRule::kDns1035Label).empty());
  CHECK(ValidateName("system:controller:x", NameRule::kPathSegment).empty());
  CHECK_FALSE(ValidateName("a/b", NameRule::kPathSegment).empty());
  Result<rapidjson::Document> obj = ParseJsonObject(R"({"metadata":{"labels":{"ok":"v","bad key!":"v","k":"bad value!"}}})");
  REQUIRE(obj.ok());
  std::vector<StatusCause> causes = ValidateObjectMeta(*obj, NameRule::kDns1123Subdomain);
  CHECK(causes.size() == 3);  // no name, a bad key, a bad value
}

TEST_CASE("unknown fields are found against the schema and pruned") {
  const schema::MessageSchema* deployment = schema::SchemaRegistry::Builtin().FindKind("apps", "v1", "Deployment");
  REQUIRE(deployment != nullptr);
  Result<rapidjson::Document> obj = ParseJsonObject(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"d","bogus":1},"spec":{"replicas":1,"template":{"spec":{"containers":[
    {"name":"a","image":"x","imagePullPolcy":"Always","ports":[{"containerPort":80,"nope":true}]}]}}},
    "extra":{}})");
  REQUIRE(obj.ok());
  std::vector<std::string> unknown = PruneUnknownFields(*obj, *deployment);
  std::sort(unknown.begin(), unknown.end());
  CHECK(unknown == std::vector<std::string>{"extra", "metadata.bogus",
                                            "spec.template.spec.containers[0].imagePullPolcy",
                                            "spec.template.spec.containers[0].ports[0].nope"});
  std::string json = ToJson(*obj);
  CHECK(json.find("bogus") == std::string::npos);
  CHECK(json.find("\"containerPort\":80") != std::string::npos);
  CHECK(PruneUnknownFields(*obj, *deployment).empty());  // nothing left to prune
}

// ---- events.k8s.io/v1 Events: stored as core v1 Events, served in each request's shape ----

const client::ResourceRef kCoreEvents{"", "v1", "events", true};
const client::ResourceRef kEventsV1{"events.k8s.io", "v1", "events", true};

TEST_CASE("delete preconditions on uid and resourceVersion fail with Kubernetes' Conflict") {
  testing::ApiFixture api;
  const client::ResourceRef namespaces{"", "v1", "namespaces", false};
  rapidjson::Document ns = api.Create(namespaces, "", R"({"metadata": {"name": "pre"}})");
  rapidjson::Document cm = api.Create(client::kConfigMaps, "pre", R"({"metadata": {"name": "cfg"}})");
  const std::string uid(StringMember(cm["metadata"], "uid"));
  const std::string rv(StringMember(cm["metadata"], "resourceVersion"));
  client::ResourceClient maps = api.Client(client::kConfigMaps);
  auto conflict = [](const Status& s, const std::string& message) {
    INFO(s.ToString());
    return s.code() == StatusCode::kConflict && s.message().find(message) != std::string::npos;
  };

  CHECK(conflict(maps.Delete("pre", "cfg", R"({"preconditions": {"uid": "other"}})"),
                 "Precondition failed: UID in precondition: other, UID in object meta: " + uid));
  CHECK(conflict(maps.Delete("pre", "cfg", R"({"preconditions": {"resourceVersion": "1"}})"),
                 "Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: " + rv));
  CHECK(maps.Get("pre", "cfg").ok());  // nothing deleted
  CHECK(maps.Delete("pre", "cfg", R"({"preconditions": {"uid": ")" + uid + R"(", "resourceVersion": ")" + rv +
                                      R"("}})").ok());
  CHECK(maps.Get("pre", "cfg").status().code() == StatusCode::kNotFound);

  // Namespaces take the same preconditions.
  const std::string ns_uid(StringMember(ns["metadata"], "uid"));
  CHECK(conflict(api.Client(namespaces).Delete("", "pre", R"({"preconditions": {"uid": "other"}})"),
                 "Precondition failed: UID in precondition: other, UID in object meta: " + ns_uid));
}

struct EventsCluster {
  testing::ApiFixture api;
  EventsCluster() { api.Create({"", "v1", "namespaces", false}, "", R"({"metadata": {"name": "ev"}})"); }
  client::ClientResponse Post(const std::string& path, const std::string& body) {
    client::ClientRequest request;
    request.method = "POST";
    request.path = path;
    request.body = body;
    return api.transport()->Do(request);
  }
};

constexpr std::string_view kModernEvent = R"({"apiVersion": "events.k8s.io/v1", "kind": "Event",
  "metadata": {"name": "web.1"},
  "regarding": {"kind": "Pod", "namespace": "ev", "name": "web", "uid": "u-1"},
  "related": {"kind": "Node", "name": "node-1"},
  "note": "Scaled up to 3", "reason": "Scaled", "type": "Normal", "action": "Scale",
  "eventTime": "2024-05-01T10:00:00.000000Z",
  "series": {"count": 2, "lastObservedTime": "2024-05-01T10:01:00.000000Z"},
  "reportingController": "example.com/scaler", "reportingInstance": "scaler-1"})";

std::vector<std::string> NamesOf(const rapidjson::Value& list) {
  std::vector<std::string> names;
  for (const rapidjson::Value& item : list["items"].GetArray()) names.push_back(std::string(StringMember(item["metadata"], "name")));
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("an Event created through events.k8s.io/v1 reads through core v1 and back", "[events_api]") {
  EventsCluster c;
  rapidjson::Document created = c.api.Create(kEventsV1, "ev", kModernEvent);
  CHECK(StringMember(created, "apiVersion") == "events.k8s.io/v1");
  CHECK(StringMember(created, "note") == "Scaled up to 3");
  CHECK(Member(created, "message") == nullptr);
  CHECK(StringMember(created["regarding"], "name") == "web");

  auto core = c.api.Client(kCoreEvents).Get("ev", "web.1");
  REQUIRE(core.ok());
  CHECK(StringMember(*core, "apiVersion") == "v1");
  CHECK(StringMember(*core, "message") == "Scaled up to 3");
  CHECK(StringMember((*core)["involvedObject"], "uid") == "u-1");
  CHECK(StringMember(*core, "reportingComponent") == "example.com/scaler");
  CHECK(StringMember(*core, "reportingInstance") == "scaler-1");
  CHECK((*core)["series"]["count"].GetInt() == 2);
  CHECK(StringMember((*core)["related"], "name") == "node-1");
  for (const char* modern : {"note", "regarding", "reportingController"}) CHECK(Member(*core, modern) == nullptr);
  CHECK(StringMember((*core)["metadata"], "resourceVersion") == StringMember(created["metadata"], "resourceVersion"));

  auto modern = c.api.Client(kEventsV1).Get("ev", "web.1");
  REQUIRE(modern.ok());
  CHECK(StringMember(*modern, "apiVersion") == "events.k8s.io/v1");
  CHECK(StringMember(*modern, "reportingController") == "example.com/scaler");
  CHECK(Member(*modern, "involvedObject") == nullptr);

  // A legacy Event written through core reads through events.k8s.io with the deprecated names.
  c.api.Create(kCoreEvents, "ev", R"({"metadata": {"name": "old.1"},
    "involvedObject": {"kind": "Pod", "namespace": "ev", "name": "db"}, "reason": "Pulled",
    "message": "pulled image", "source": {"component": "kubelet", "host": "node-1"},
    "firstTimestamp": "2024-05-01T09:00:00Z", "lastTimestamp": "2024-05-01T09:30:00Z", "count": 4,
    "type": "Normal"})");
  auto old = c.api.Client(kEventsV1).Get("ev", "old.1");
  REQUIRE(old.ok());
  CHECK(StringMember(*old, "note") == "pulled image");
  CHECK(StringMember((*old)["regarding"], "name") == "db");
  CHECK(StringMember((*old)["deprecatedSource"], "component") == "kubelet");
  CHECK(StringMember(*old, "deprecatedFirstTimestamp") == "2024-05-01T09:00:00Z");
  CHECK((*old)["deprecatedCount"].GetInt() == 4);

  // Both lists hold both Events, each in its own shape; field selectors read either shape.
  auto core_list = c.api.Client(kCoreEvents).List("ev");
  auto modern_list = c.api.Client(kEventsV1).List("ev");
  REQUIRE(core_list.ok());
  REQUIRE(modern_list.ok());
  CHECK(NamesOf(*core_list) == std::vector<std::string>{"old.1", "web.1"});
  CHECK(NamesOf(*modern_list) == std::vector<std::string>{"old.1", "web.1"});
  for (const rapidjson::Value& item : (*modern_list)["items"].GetArray()) {
    CHECK(Member(item, "note") != nullptr);
    CHECK(Member(item, "message") == nullptr);
  }
  for (const rapidjson::Value& item : (*core_list)["items"].GetArray()) CHECK(Member(item, "message") != nullptr);
  client::ListOptions by_regarding;
  by_regarding.field_selector = "regarding.name=web";
  auto selected = c.api.Client(kEventsV1).List("ev", by_regarding);
  REQUIRE(selected.ok());
  CHECK(NamesOf(*selected) == std::vector<std::string>{"web.1"});
  client::ListOptions by_controller;
  by_controller.field_selector = "reportingComponent=example.com/scaler";
  selected = c.api.Client(kCoreEvents).List("ev", by_controller);
  REQUIRE(selected.ok());
  CHECK(NamesOf(*selected) == std::vector<std::string>{"web.1"});

  // Updates through events.k8s.io: metadata may change, what the Event says may not.
  auto labelled = c.api.Client(kEventsV1).Patch("ev", "web.1", client::PatchType::kMerge,
                                                R"({"metadata": {"labels": {"team": "a"}}})");
  REQUIRE(labelled.ok());
  CHECK(StringMember(*labelled, "apiVersion") == "events.k8s.io/v1");
  CHECK(StringMember((*labelled)["metadata"]["labels"], "team") == "a");
  auto renoted = c.api.Client(kEventsV1).Patch("ev", "web.1", client::PatchType::kMerge, R"({"note": "other"})");
  REQUIRE_FALSE(renoted.ok());
  CHECK(renoted.status().code() == StatusCode::kInvalidArgument);
  CHECK(renoted.status().message().find("message: Invalid value: \"other\": field is immutable") != std::string::npos);
  // Core keeps the legacy rules: the message may change there.
  auto core_patch = c.api.Client(kCoreEvents).Patch("ev", "web.1", client::PatchType::kMerge, R"({"message": "other"})");
  REQUIRE(core_patch.ok());
  modern = c.api.Client(kEventsV1).Get("ev", "web.1");
  REQUIRE(modern.ok());
  CHECK(StringMember(*modern, "note") == "other");
  CHECK(StringMember((*modern)["metadata"]["labels"], "team") == "a");

  // A delete through events.k8s.io deletes the one stored object.
  REQUIRE(c.api.Client(kEventsV1).Delete("ev", "web.1").ok());
  CHECK(c.api.Client(kCoreEvents).Get("ev", "web.1").status().code() == StatusCode::kNotFound);
  REQUIRE(c.api.Client(kEventsV1).DeleteCollection("ev").ok());
  core_list = c.api.Client(kCoreEvents).List("ev");
  REQUIRE(core_list.ok());
  CHECK((*core_list)["items"].Empty());
}

// Reads watch lines until `count` have arrived (or 10 s pass).
std::vector<rapidjson::Document> WatchEvents(client::WatchReader& watch, size_t count) {
  std::vector<rapidjson::Document> events;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
    Result<std::vector<std::string>> lines = watch.Next(std::chrono::milliseconds(200));
    if (!lines.ok()) break;
    for (const std::string& line : *lines) {
      Result<rapidjson::Document> event = ParseJsonObject(line);
      REQUIRE(event.ok());
      if (StringMember(*event, "type") == "BOOKMARK") continue;
      events.push_back(std::move(event).value());
    }
  }
  return events;
}

TEST_CASE("a watch through events.k8s.io/v1 sees core Events converted", "[events_api]") {
  EventsCluster c;
  c.api.Create(kCoreEvents, "ev", R"({"metadata": {"name": "before"}, "involvedObject": {"namespace": "ev"},
    "message": "already there"})");
  client::ListOptions options;
  auto watch = c.api.Client(kEventsV1).Watch("ev", options);
  REQUIRE(watch.ok());
  std::vector<rapidjson::Document> initial = WatchEvents(**watch, 1);
  REQUIRE(initial.size() == 1);
  CHECK(StringMember(initial[0], "type") == "ADDED");
  CHECK(StringMember(initial[0]["object"], "apiVersion") == "events.k8s.io/v1");
  CHECK(StringMember(initial[0]["object"], "note") == "already there");

  c.api.Create(kCoreEvents, "ev", R"({"metadata": {"name": "later"},
    "involvedObject": {"kind": "Pod", "namespace": "ev", "name": "p"}, "message": "hello", "count": 1})");
  REQUIRE(c.api.Client(kCoreEvents).Delete("ev", "later").ok());
  std::vector<rapidjson::Document> changes = WatchEvents(**watch, 2);
  REQUIRE(changes.size() == 2);
  CHECK(StringMember(changes[0], "type") == "ADDED");
  CHECK(StringMember(changes[1], "type") == "DELETED");
  for (const rapidjson::Document& e : changes) {
    const rapidjson::Value& object = e["object"];
    CHECK(StringMember(object, "apiVersion") == "events.k8s.io/v1");
    CHECK(StringMember(object, "note") == "hello");
    CHECK(StringMember(object["regarding"], "name") == "p");
    CHECK(object["deprecatedCount"].GetInt() == 1);
    CHECK(Member(object, "message") == nullptr);
  }

  // And the other way: a core watch sees an events.k8s.io create in the core shape.
  auto core_watch = c.api.Client(kCoreEvents).Watch("ev", options);
  REQUIRE(core_watch.ok());
  REQUIRE(WatchEvents(**core_watch, 1).size() == 1);  // "before"
  c.api.Create(kEventsV1, "ev", kModernEvent);
  std::vector<rapidjson::Document> added = WatchEvents(**core_watch, 1);
  REQUIRE(added.size() == 1);
  CHECK(StringMember(added[0]["object"], "apiVersion") == "v1");
  CHECK(StringMember(added[0]["object"], "message") == "Scaled up to 3");
}

TEST_CASE("a bad events.k8s.io/v1 create is 422 with causes and stores nothing", "[events_api]") {
  EventsCluster c;
  client::ClientResponse response = c.Post("/apis/events.k8s.io/v1/namespaces/ev/events",
                                           R"({"apiVersion": "events.k8s.io/v1", "kind": "Event",
    "metadata": {"name": "bad"}, "regarding": {"kind": "Pod", "namespace": "ev", "name": "web"},
    "note": "no time", "type": "Info", "deprecatedCount": 3,
    "series": {"count": 1, "lastObservedTime": "2024-05-01T10:01:00.000000Z"}})");
  CHECK(response.status == 422);
  Result<rapidjson::Document> status = ParseJsonObject(response.body);
  REQUIRE(status.ok());
  CHECK(StringMember(*status, "reason") == "Invalid");
  CHECK(StringMember(*status, "message").starts_with("Event \"bad\" is invalid: "));
  std::vector<std::pair<std::string, std::string>> causes;
  for (const rapidjson::Value& cause : (*status)["details"]["causes"].GetArray()) {
    causes.emplace_back(StringMember(cause, "field"), StringMember(cause, "message"));
  }
  CHECK(causes == std::vector<std::pair<std::string, std::string>>{
                      {"series.count", "Invalid value: \"\": should be at least 2"},
                      {"eventTime", "Required value"},
                      {"type", "Invalid value: \"\": has invalid value: Info"},
                      {"count", "Invalid value: \"\": needs to be unset"}});

  // The same body with eventTime: now the reporting fields are missing.
  response = c.Post("/apis/events.k8s.io/v1/namespaces/ev/events", R"({"metadata": {"name": "bad2"},
    "regarding": {"namespace": "ev"}, "eventTime": "2024-05-01T10:00:00.000000Z", "type": "Normal",
    "reportingController": "ctl", "note": ")" + std::string(1025, 'x') + R"("})");
  CHECK(response.status == 422);
  for (const char* field : {"\"reportingInstance\"", "\"action\"", "\"reason\"", "\"message\""}) {
    CHECK(response.body.find(std::string("\"field\":") + field) != std::string::npos);
  }

  auto core_list = c.api.Client(kCoreEvents).List("ev");
  REQUIRE(core_list.ok());
  CHECK((*core_list)["items"].Empty());
  // A body in the core shape is not an events.k8s.io/v1 Event.
  response = c.Post("/apis/events.k8s.io/v1/namespaces/ev/events", R"({"apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "core"}})");
  CHECK(response.status == 400);
}

}  // namespace
}  // namespace kite::apiserver
