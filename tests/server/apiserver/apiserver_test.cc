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

}  // namespace
}  // namespace kite::apiserver
