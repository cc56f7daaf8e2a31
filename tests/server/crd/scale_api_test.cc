// The scale subresource of custom resources through the API server: the Scale is read from
// and written to the paths the CRD names, writes are validated like any update of the
// object, and built-in kinds keep their own scale.
#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::crd {
namespace {

using rapidjson::Document;
using rapidjson::Value;

// v1 serves scale (with a selector) at a nested path, v2 does not.
constexpr char kCronTabCrd[] = R"({"metadata":{"name":"crontabs.stable.example.com"},
  "spec":{"group":"stable.example.com","scope":"Namespaced",
    "names":{"plural":"crontabs","singular":"crontab","kind":"CronTab"},
    "versions":[
      {"name":"v1","served":true,"storage":true,
       "subresources":{"status":{},"scale":{"specReplicasPath":".spec.scaling.replicas",
         "statusReplicasPath":".status.replicas","labelSelectorPath":".status.labelSelector"}},
       "schema":{"openAPIV3Schema":{"type":"object","properties":{
         "spec":{"type":"object","properties":{"cronSpec":{"type":"string"},
                                               "scaling":{"type":"object","properties":{
                                                 "replicas":{"type":"integer","maximum":10}}}}},
         "status":{"type":"object","properties":{"replicas":{"type":"integer"},
                                                 "labelSelector":{"type":"string"}}}}}}},
      {"name":"v2","served":true,"storage":false,
       "schema":{"openAPIV3Schema":{"type":"object","properties":{
         "spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}})";

// A JSON value from text, allocated in `a`.
Value Copy(std::string_view text, rapidjson::Document::AllocatorType& a) {
  Document d = json::ParseJson(text).value();
  return Value(d, a);
}

const client::ResourceRef kCronTabs{"stable.example.com", "v1", "crontabs", true};
const client::ResourceRef kCronTabsV2{"stable.example.com", "v2", "crontabs", true};

struct Cluster {
  testing::ApiFixture api;
  client::ResourceClient crontabs = api.Client(kCronTabs);

  Cluster() {
    api.Create(client::kNamespaces, "", R"({"metadata":{"name":"demo"}})");
    Document crd = api.Create(client::kCustomResourceDefinitions, "", kCronTabCrd);
    // Established by hand: no CRD controller runs here.
    auto& a = crd.GetAllocator();
    Value& status = json::EnsureObjectMember(crd, "status", a);
    json::SetMember(status, "conditions",
                    Copy(R"([{"type":"Established","status":"True","reason":"InitialNamesAccepted"}])", a), a);
    REQUIRE(api.Client(client::kCustomResourceDefinitions).UpdateStatus(crd).ok());
    REQUIRE(testing::Eventually([&] { return crontabs.List("demo").ok(); }));
  }

  client::ClientResponse Send(std::string method, const std::string& path, std::string body = "",
                              std::string content_type = "application/json") {
    client::ClientRequest request;
    request.method = std::move(method);
    request.path = path;
    request.body = std::move(body);
    request.content_type = std::move(content_type);
    return api.transport()->Do(request);
  }
  std::string ScalePath(const std::string& name, const client::ResourceRef& ref = kCronTabs) {
    return api.Client(ref).PathOf("demo", name, "scale");
  }
  Document CreateCronTab(std::string_view json) {
    return api.Create(kCronTabs, "demo", json);
  }
  Document Object(std::string_view name) { return crontabs.Get("demo", name).value(); }
};

Document Body(const client::ClientResponse& response) {
  auto d = json::ParseJson(response.body);
  REQUIRE(d.ok());
  return std::move(d).value();
}

TEST_CASE("GET scale reads the CRD's paths", "[crd_scale_api]") {
  Cluster c;
  Document created = c.CreateCronTab(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
    "metadata":{"name":"nightly"},"spec":{"cronSpec":"0 3 * * *","scaling":{"replicas":3}}})");
  Document with_status = c.Object("nightly");
  json::SetMember(with_status, "status",
                  Copy(R"({"replicas":2,"labelSelector":"app=cron"})", with_status.GetAllocator()),
                  with_status.GetAllocator());
  auto updated = c.crontabs.UpdateStatus(with_status);
  REQUIRE(updated.ok());

  client::ClientResponse r = c.Send("GET", c.ScalePath("nightly"));
  REQUIRE(r.status == 200);
  Document scale = Body(r);
  CHECK(json::StringMember(scale, "kind") == "Scale");
  CHECK(json::StringMember(scale, "apiVersion") == "autoscaling/v1");
  CHECK(scale["spec"]["replicas"].GetInt() == 3);
  CHECK(scale["status"]["replicas"].GetInt() == 2);
  CHECK(json::StringMember(scale["status"], "selector") == "app=cron");
  const Value& md = scale["metadata"];
  CHECK(json::StringMember(md, "name") == "nightly");
  CHECK(json::StringMember(md, "namespace") == "demo");
  CHECK(json::StringMember(md, "uid") == json::StringMember(created["metadata"], "uid"));
  CHECK(json::StringMember(md, "resourceVersion") == json::StringMember((*updated)["metadata"], "resourceVersion"));
  CHECK(json::StringMember(md, "creationTimestamp") == json::StringMember(created["metadata"], "creationTimestamp"));
  CHECK(json::Member(md, "labels") == nullptr);

  CHECK(c.Send("GET", c.ScalePath("missing")).status == 404);
}

TEST_CASE("PUT and PATCH of scale write the spec replicas path", "[crd_scale_api]") {
  Cluster c;
  c.CreateCronTab(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
    "metadata":{"name":"nightly","labels":{"keep":"me"}},"spec":{"cronSpec":"0 3 * * *","scaling":{"replicas":1}}})");

  Document scale = Body(c.Send("GET", c.ScalePath("nightly")));
  scale["spec"]["replicas"].SetInt(5);
  client::ClientResponse r = c.Send("PUT", c.ScalePath("nightly"), json::ToJson(scale));
  REQUIRE(r.status == 200);
  Document answer = Body(r);
  CHECK(json::StringMember(answer, "kind") == "Scale");
  CHECK(answer["spec"]["replicas"].GetInt() == 5);
  Document object = c.Object("nightly");
  CHECK(object["spec"]["scaling"]["replicas"].GetInt() == 5);
  CHECK(json::StringMember(object["spec"], "cronSpec") == "0 3 * * *");  // the rest is kept
  CHECK(json::StringMember(object["metadata"]["labels"], "keep") == "me");
  CHECK(json::StringMember(answer["metadata"], "resourceVersion") ==
        json::StringMember(object["metadata"], "resourceVersion"));

  // The Scale's resourceVersion is a precondition: the one read before the PUT is stale now.
  r = c.Send("PUT", c.ScalePath("nightly"), json::ToJson(scale));
  CHECK(r.status == 409);
  CHECK(c.Object("nightly")["spec"]["scaling"]["replicas"].GetInt() == 5);

  r = c.Send("PATCH", c.ScalePath("nightly"), R"({"spec":{"replicas":7}})", "application/merge-patch+json");
  REQUIRE(r.status == 200);
  CHECK(Body(r)["spec"]["replicas"].GetInt() == 7);
  CHECK(c.Object("nightly")["spec"]["scaling"]["replicas"].GetInt() == 7);

  r = c.Send("PATCH", c.ScalePath("nightly"), R"([{"op":"replace","path":"/spec/replicas","value":2}])",
             "application/json-patch+json");
  REQUIRE(r.status == 200);
  CHECK(c.Object("nightly")["spec"]["scaling"]["replicas"].GetInt() == 2);

  // Zero is a value: spec.replicas is left out of the Scale (omitempty) but written.
  r = c.Send("PATCH", c.ScalePath("nightly"), R"({"spec":{"replicas":0}})", "application/merge-patch+json");
  REQUIRE(r.status == 200);
  CHECK(json::Member(Body(r)["spec"], "replicas") == nullptr);
  CHECK(c.Object("nightly")["spec"]["scaling"]["replicas"].GetInt() == 0);
}

TEST_CASE("scale writes are validated like any update of the custom resource", "[crd_scale_api]") {
  Cluster c;
  c.CreateCronTab(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
    "metadata":{"name":"nightly"},"spec":{"cronSpec":"0 3 * * *","scaling":{"replicas":1}}})");

  client::ClientResponse r =
      c.Send("PATCH", c.ScalePath("nightly"), R"({"spec":{"replicas":50}})", "application/merge-patch+json");
  CHECK(r.status == 422);
  Document error = Body(r);
  CHECK(json::StringMember(error, "reason") == "Invalid");
  CHECK(json::StringMember(error, "message") ==
        "CronTab.stable.example.com \"nightly\" is invalid: spec.scaling.replicas: Invalid value: 50: "
        "spec.scaling.replicas in body should be less than or equal to 10");

  r = c.Send("PATCH", c.ScalePath("nightly"), R"({"spec":{"replicas":-1}})", "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(json::StringMember(Body(r), "message") ==
        "CronTab.stable.example.com \"nightly\" is invalid: .spec.scaling.replicas: Invalid value: -1: "
        "should be a non-negative integer");

  // A Scale whose replicas are not an int32 cannot be decoded.
  r = c.Send("PATCH", c.ScalePath("nightly"), R"({"spec":{"replicas":"3"}})", "application/merge-patch+json");
  CHECK(r.status == 400);
  CHECK(json::StringMember(Body(r), "message") ==
        "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal string into Go struct "
        "field ScaleSpec.spec.replicas of type int32");
  CHECK(c.Object("nightly")["spec"]["scaling"]["replicas"].GetInt() == 1);
}

TEST_CASE("every write of the object keeps its scale paths readable", "[crd_scale_api]") {
  Cluster c;
  client::ResourceClient crontabs = c.api.Client(kCronTabs);
  Result<Document> bad = crontabs.Create("demo", Document().Parse(R"({"apiVersion":"stable.example.com/v1",
    "kind":"CronTab","metadata":{"name":"neg"},"spec":{"scaling":{"replicas":-2}}})"));
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find(".spec.scaling.replicas: Invalid value: -2: should be a non-negative integer") !=
        std::string::npos);
  CHECK(!crontabs.Get("demo", "neg").ok());

  c.CreateCronTab(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
    "metadata":{"name":"ok"},"spec":{"scaling":{"replicas":1}}})");
  // A status write is checked at the status paths only.
  client::ClientResponse r = c.Send("PATCH", crontabs.PathOf("demo", "ok", "status"),
                                    R"({"status":{"replicas":-1}})", "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(json::StringMember(Body(r), "message").find(".status.replicas: Invalid value: -1: should be a non-negative integer") !=
        std::string::npos);
  CHECK(c.Send("GET", c.ScalePath("ok")).status == 200);
}

TEST_CASE("an object without spec replicas: GET fails, an update must set them", "[crd_scale_api]") {
  Cluster c;
  c.CreateCronTab(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"bare"}})");

  client::ClientResponse r = c.Send("GET", c.ScalePath("bare"));
  CHECK(r.status == 500);
  CHECK(json::StringMember(Body(r), "message") ==
        "Internal error occurred: the spec replicas field \".spec.scaling.replicas\" does not exist");

  r = c.Send("PATCH", c.ScalePath("bare"), R"({"metadata":{"labels":{"a":"b"}}})", "application/merge-patch+json");
  CHECK(r.status == 400);
  CHECK(json::StringMember(Body(r), "message") == "the spec replicas field \".spec.scaling.replicas\" cannot be empty");

  // Setting them creates spec and spec.scaling.
  r = c.Send("PATCH", c.ScalePath("bare"), R"({"spec":{"replicas":4}})", "application/merge-patch+json");
  REQUIRE(r.status == 200);
  Document object = c.Object("bare");
  CHECK(json::ToJson(object["spec"]) == R"({"scaling":{"replicas":4}})");
  CHECK(c.Send("GET", c.ScalePath("bare")).status == 200);
}

TEST_CASE("a version without a scale subresource does not serve it", "[crd_scale_api]") {
  Cluster c;
  c.CreateCronTab(R"({"apiVersion":"stable.example.com/v1","kind":"CronTab",
    "metadata":{"name":"nightly"},"spec":{"scaling":{"replicas":1}}})");
  client::ClientResponse r = c.Send("GET", c.ScalePath("nightly", kCronTabsV2));
  CHECK(r.status == 404);
  CHECK(json::StringMember(Body(r), "message") == "crontabs.stable.example.com \"nightly\" not found");
  CHECK(c.Send("PATCH", c.ScalePath("nightly", kCronTabsV2), R"({"spec":{"replicas":2}})",
               "application/merge-patch+json").status == 404);
  CHECK(c.Object("nightly")["spec"]["scaling"]["replicas"].GetInt() == 1);
}

TEST_CASE("built-in kinds keep their scale", "[crd_scale_api]") {
  Cluster c;
  c.api.Create(client::kDeployments, "demo",
               R"({"metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},)"
               R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  std::string path = c.api.Client(client::kDeployments).PathOf("demo", "web", "scale");
  client::ClientResponse r = c.Send("GET", path);
  REQUIRE(r.status == 200);
  Document scale = Body(r);
  CHECK(scale["spec"]["replicas"].GetInt() == 2);
  CHECK(json::StringMember(scale["status"], "selector") == "app=web");
  r = c.Send("PATCH", path, R"({"spec":{"replicas":-1}})", "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(json::StringMember(Body(r), "message").find("must be greater than or equal to 0") != std::string::npos);
}

}  // namespace
}  // namespace kite::crd
