// The protobuf form of /openapi/v2 (openapi_v2_proto.h, yaml_text.h, and the negotiation in
// openapi_service.h), decoded here with a generic field walk over the wire format.
#include <rapidjson/document.h>

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/openapi/openapi_service.h"
#include "src/server/openapi/openapi_v2.h"
#include "src/server/openapi/openapi_v2_proto.h"
#include "src/server/openapi/yaml_text.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/protobuf_wire.h"
#include "src/server/schema/schema_registry.h"
#include "tests/server/openapi/document_checks.h"

namespace kite::openapi {
namespace {

using schema::WireType;

constexpr std::string_view kClientGoAccept =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
constexpr std::string_view kProtoType =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

// --- a minimal protobuf reader ---------------------------------------------------------------

struct Field {
  int number = 0;
  WireType type = WireType::kVarint;
  uint64_t value = 0;      // varint and fixed64 fields
  std::string_view bytes;  // length-delimited fields
};

std::vector<Field> Fields(std::string_view message) {
  std::vector<Field> out;
  schema::WireReader reader(message);
  while (!reader.AtEnd()) {
    Field f;
    REQUIRE(reader.ReadTag(&f.number, &f.type));
    switch (f.type) {
      case WireType::kVarint: REQUIRE(reader.ReadVarint(&f.value)); break;
      case WireType::kFixed64: REQUIRE(reader.ReadFixed64(&f.value)); break;
      case WireType::kLengthDelimited: REQUIRE(reader.ReadLengthDelimited(&f.bytes)); break;
      default: FAIL("unexpected wire type " << static_cast<int>(f.type));
    }
    out.push_back(f);
  }
  return out;
}

// Every length-delimited value of field `number`.
std::vector<std::string_view> All(std::string_view message, int number) {
  std::vector<std::string_view> out;
  for (const Field& f : Fields(message)) {
    if (f.number == number) {
      REQUIRE(f.type == WireType::kLengthDelimited);
      out.push_back(f.bytes);
    }
  }
  return out;
}

bool Has(std::string_view message, int number) {
  for (const Field& f : Fields(message)) {
    if (f.number == number) return true;
  }
  return false;
}

// The one value of a singular length-delimited field.
std::string_view One(std::string_view message, int number) {
  std::vector<std::string_view> all = All(message, number);
  INFO("field " << number);
  REQUIRE(all.size() == 1);
  return all[0];
}

uint64_t Varint(std::string_view message, int number) {
  for (const Field& f : Fields(message)) {
    if (f.number == number) {
      REQUIRE(f.type == WireType::kVarint);
      return f.value;
    }
  }
  return 0;  // proto3 default
}

std::string Str(std::string_view message, int number) {
  std::vector<std::string_view> all = All(message, number);
  return all.empty() ? "" : std::string(all.back());
}

// The value (field 2) of the Named* pair in repeated field `number` called `name`.
std::string_view Named(std::string_view message, int number, std::string_view name) {
  for (std::string_view pair : All(message, number)) {
    if (Str(pair, 1) == name) return One(pair, 2);
  }
  FAIL("no entry " << std::string(name) << " in field " << number);
  return {};
}

std::vector<std::string> Names(std::string_view message, int number) {
  std::vector<std::string> out;
  for (std::string_view pair : All(message, number)) out.push_back(Str(pair, 1));
  return out;
}

// The yaml of the vendor extension `name` in repeated NamedAny field `number`.
std::string Extension(std::string_view message, int number, std::string_view name) {
  return Str(Named(message, number, name), 2);
}

// --- fixtures --------------------------------------------------------------------------------

using testing::Registry;
const resources::ResourceTable& Table() { return testing::BuiltinTable(); }
const OpenApiService& Service() { return testing::BuiltinService(); }

OpenApiResponse Get(const OpenApiService& service, std::string_view accept,
                    std::string_view if_none_match = "") {
  std::optional<OpenApiResponse> r = service.Serve({"/openapi/v2", "", accept, if_none_match});
  REQUIRE(r.has_value());
  return *r;
}

std::string Header(const OpenApiResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string Proto(std::string_view json) {
  Result<std::string> bytes = SwaggerJsonToProto(json);
  REQUIRE(bytes.ok());
  return bytes.value();
}

std::string Yaml(const char* json) {
  rapidjson::Document doc;
  doc.Parse(json);
  REQUIRE_FALSE(doc.HasParseError());
  return ToYamlText(doc);
}

// --- YAML text -------------------------------------------------------------------------------

TEST_CASE("yaml text of extension values, as gnostic writes them") {
  CHECK(Yaml(R"("merge")") == "merge\n");
  CHECK(Yaml("true") == "true\n");
  CHECK(Yaml("42") == "42\n");
  CHECK(Yaml("null") == "null\n");
  CHECK(Yaml("[]") == "[]\n");
  CHECK(Yaml("{}") == "{}\n");
  CHECK(Yaml(R"([{"group":"apps","kind":"Deployment","version":"v1"}])") ==
        "- group: apps\n  kind: Deployment\n  version: v1\n");
  CHECK(Yaml(R"({"group":"","kind":"Pod","version":"v1"})") ==
        "group: \"\"\nkind: Pod\nversion: v1\n");
  CHECK(Yaml(R"(["type","name"])") == "- type\n- name\n");
  CHECK(Yaml(R"({"a":{"b":["x",{"c":1,"d":[]}]},"e":[["f"]]})") ==
        "a:\n    b:\n        - x\n        - c: 1\n          d: []\ne:\n    - - f\n");
  // Strings that would read back as something else, or that need escapes, are quoted.
  CHECK(Yaml(R"(["yes","On","null","1.5","","a: b","# c","x\ny","-1"," lead"])") ==
        "- \"yes\"\n- \"On\"\n- \"null\"\n- \"1.5\"\n- \"\"\n- \"a: b\"\n- \"# c\"\n"
        "- \"x\\ny\"\n- \"-1\"\n- \" lead\"\n");
  CHECK(Yaml(R"([{"rule":"self.x == 'a'","message":"must be \"a\""}])") ==
        "- rule: \"self.x == 'a'\"\n  message: \"must be \\\"a\\\"\"\n");
}

// --- conversion of small documents -----------------------------------------------------------

TEST_CASE("conversion: fields in field-number order, proto3 defaults left out") {
  CHECK(Proto(R"({"swagger":"2.0"})") == std::string("\x0a\x03"
                                                     "2.0",
                                                     5));
  CHECK(Proto(R"({"info":{"version":"v1","title":"T"}})") ==
        std::string("\x12\x07\x0a\x01T\x12\x02v1", 9));
  CHECK(Proto(R"({"host":"","definitions":{}})") == std::string("\x4a\x00", 2));
  CHECK(SwaggerJsonToProto("[1]").status().code() == StatusCode::kInvalidArgument);
  CHECK(SwaggerJsonToProto("{").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("conversion: schemas") {
  std::string doc = Proto(R"({"definitions":{"A":{
      "type":"object","description":"an A","required":["x"],
      "properties":{"x":{"type":"integer","format":"int32","minimum":1.5,"maxLength":3},
                    "m":{"type":"object","additionalProperties":false},
                    "s":{"type":"object","additionalProperties":{"type":"string"}},
                    "l":{"type":"array","items":{"$ref":"#/definitions/B"},
                         "x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["k"]},
                    "e":{"type":"string","enum":["a","b"],"default":"a"}},
      "x-kubernetes-group-version-kind":[{"group":"g","kind":"A","version":"v1"}]}}})");
  std::string_view a = Named(One(doc, 9), 1, "A");
  CHECK(Str(a, 4) == "an A");
  CHECK(All(a, 19) == std::vector<std::string_view>{"x"});
  CHECK(All(One(a, 22), 1) == std::vector<std::string_view>{"object"});
  CHECK(Names(One(a, 25), 1) == std::vector<std::string>{"x", "m", "s", "l", "e"});
  CHECK(Extension(a, 31, "x-kubernetes-group-version-kind") ==
        "- group: g\n  kind: A\n  version: v1\n");

  std::string_view props = One(a, 25);
  std::string_view x = Named(props, 1, "x");
  CHECK(Str(x, 2) == "int32");
  CHECK(Varint(x, 11) == 3);
  bool minimum_seen = false;
  for (const Field& f : Fields(x)) {
    if (f.number != 9) continue;
    minimum_seen = true;
    CHECK(f.type == WireType::kFixed64);
    CHECK(f.value == std::bit_cast<uint64_t>(1.5));
  }
  CHECK(minimum_seen);
  // additionalProperties: false is a set oneof: written, with the value 0.
  std::string_view m = One(Named(props, 1, "m"), 21);
  REQUIRE(Fields(m).size() == 1);
  CHECK(Fields(m)[0].number == 2);
  CHECK(Fields(m)[0].value == 0);
  std::string_view s = One(Named(props, 1, "s"), 21);
  CHECK(All(One(One(s, 1), 22), 1) == std::vector<std::string_view>{"string"});
  std::string_view l = Named(props, 1, "l");
  CHECK(Str(One(One(l, 23), 1), 1) == "#/definitions/B");
  CHECK(Names(l, 31) ==
        std::vector<std::string>{"x-kubernetes-list-type", "x-kubernetes-list-map-keys"});
  CHECK(Extension(l, 31, "x-kubernetes-list-map-keys") == "- k\n");
  std::string_view e = Named(props, 1, "e");
  CHECK(Str(One(e, 5), 2) == "a\n");
  REQUIRE(All(e, 20).size() == 2);
  CHECK(Str(All(e, 20)[1], 2) == "b\n");
}

TEST_CASE("conversion: parameters by location, references, responses") {
  std::string doc = Proto(R"({"paths":{"/x/{name}":{
      "parameters":[{"$ref":"#/parameters/p"},
                    {"name":"name","in":"path","required":true,"type":"string","uniqueItems":true}],
      "post":{"parameters":[{"name":"body","in":"body","required":true,"schema":{"$ref":"#/definitions/A"}},
                            {"name":"dryRun","in":"query","type":"string","uniqueItems":true},
                            {"name":"odd","in":"cookie","type":"string"}],
              "responses":{"201":{"description":"Created","schema":{"$ref":"#/definitions/A"}},
                           "default":{"$ref":"#/responses/r"}}}}},
      "x-top":1})");
  std::string_view item = Named(One(doc, 8), 2, "/x/{name}");
  std::vector<std::string_view> path_params = All(item, 9);
  REQUIRE(path_params.size() == 2);
  CHECK(Str(One(path_params[0], 2), 1) == "#/parameters/p");
  std::string_view path = One(One(One(path_params[1], 1), 2), 4);  // NonBody.path
  CHECK(Varint(path, 1) == 1);
  CHECK(Str(path, 2) == "path");
  CHECK(Str(path, 4) == "name");
  CHECK(Str(path, 5) == "string");
  CHECK(Varint(path, 19) == 1);

  std::string_view post = One(item, 4);
  std::vector<std::string_view> params = All(post, 8);
  REQUIRE(params.size() == 2);  // the cookie parameter has no message to go in
  std::string_view body = One(One(params[0], 1), 1);
  CHECK(Str(body, 2) == "body");
  CHECK(Varint(body, 4) == 1);
  CHECK(Str(One(body, 5), 1) == "#/definitions/A");
  std::string_view query = One(One(One(params[1], 1), 2), 3);
  CHECK(Str(query, 6) == "string");  // after allowEmptyValue (5)
  CHECK(Varint(query, 20) == 1);

  std::string_view responses = One(post, 9);
  CHECK(Names(responses, 1) == std::vector<std::string>{"201", "default"});
  std::string_view created = One(Named(responses, 1, "201"), 1);
  CHECK(Str(created, 1) == "Created");
  CHECK(Str(One(One(created, 2), 1), 1) == "#/definitions/A");
  CHECK(Str(One(Named(responses, 1, "default"), 2), 1) == "#/responses/r");
  CHECK(Extension(doc, 16, "x-top") == "1\n");
}

// --- the served document ---------------------------------------------------------------------

TEST_CASE("/openapi/v2 as protobuf: what client-go's OpenAPISchema() decodes") {
  OpenApiResponse r = Get(Service(), kClientGoAccept);
  REQUIRE(r.status == 200);
  CHECK(r.content_type == kProtoType);
  CHECK(Header(r, "Vary") == "Accept");
  CHECK(Header(r, "ETag") == "\"" + ContentHash(r.body) + "\"");
  const std::string& doc = r.body;

  CHECK(Str(doc, 1) == "2.0");
  std::string_view info = One(doc, 2);
  CHECK(Str(info, 1) == "Kubernetes");
  CHECK(Str(info, 2).rfind("v1.32", 0) == 0);

  std::string_view paths = One(doc, 8);
  std::string_view item =
      Named(paths, 2, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
  CHECK(Has(item, 2));        // get
  CHECK(Has(item, 3));        // put
  CHECK_FALSE(Has(item, 4));  // no post on a named deployment
  std::string_view patch = One(item, 8);
  CHECK(Str(patch, 5) == "patchAppsV1NamespacedDeployment");
  CHECK(Extension(patch, 13, "x-kubernetes-action") == "patch\n");
  CHECK(Extension(patch, 13, "x-kubernetes-group-version-kind") ==
        "group: apps\nkind: Deployment\nversion: v1\n");
  std::vector<std::string_view> consumes = All(patch, 7);
  CHECK(std::find(consumes.begin(), consumes.end(), "application/strategic-merge-patch+json") !=
        consumes.end());
  std::string_view ok = One(Named(One(patch, 9), 1, "200"), 1);  // ResponseValue.response
  CHECK(Str(ok, 1) == "OK");
  CHECK(Str(One(One(ok, 2), 1), 1) == "#/definitions/io.k8s.api.apps.v1.Deployment");
  bool has_name_param = false;
  for (std::string_view p : All(item, 9)) {
    std::string_view non_body = One(One(p, 1), 2);
    if (!Has(non_body, 4)) continue;  // not a path parameter
    std::string_view sub = One(non_body, 4);
    has_name_param |= Str(sub, 4) == "name" && Str(sub, 2) == "path" && Varint(sub, 1) == 1;
  }
  CHECK(has_name_param);

  std::string_view defs = One(doc, 9);
  std::string_view deployment = Named(defs, 1, "io.k8s.api.apps.v1.Deployment");
  CHECK(Extension(deployment, 31, "x-kubernetes-group-version-kind") ==
        "- group: apps\n  kind: Deployment\n  version: v1\n");
  std::string_view props = One(deployment, 25);
  std::vector<std::string> prop_names = Names(props, 1);
  for (const char* name : {"apiVersion", "kind", "metadata", "spec", "status"}) {
    INFO(name);
    CHECK(std::find(prop_names.begin(), prop_names.end(), name) != prop_names.end());
  }
  CHECK(Str(Named(props, 1, "spec"), 1) == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec");
  std::string_view replicas =
      Named(One(Named(defs, 1, "io.k8s.api.apps.v1.DeploymentSpec"), 25), 1, "replicas");
  CHECK(All(One(replicas, 22), 1) == std::vector<std::string_view>{"integer"});
  CHECK(Str(replicas, 2) == "int32");
  CHECK(
      Extension(Named(defs, 1, "io.k8s.api.core.v1.Pod"), 31, "x-kubernetes-group-version-kind") ==
      "- group: \"\"\n  kind: Pod\n  version: v1\n");
  std::string_view containers =
      Named(One(Named(defs, 1, "io.k8s.api.core.v1.PodSpec"), 25), 1, "containers");
  CHECK(Extension(containers, 31, "x-kubernetes-patch-merge-key") == "name\n");

  std::string_view bearer = Named(One(doc, 13), 1, "BearerToken");
  std::string_view api_key = One(bearer, 2);
  CHECK(Str(api_key, 1) == "apiKey");
  CHECK(Str(api_key, 2) == "authorization");
  CHECK(Str(api_key, 3) == "header");
  CHECK(Names(One(doc, 12), 1) == std::vector<std::string>{"BearerToken"});

  // Everything the JSON form has, in its order.
  auto json = testing::ParseDocument(Get(Service(), "application/json").body);
  std::vector<std::string> json_defs, json_paths;
  for (const auto& m : (*json)["definitions"].GetObject())
    json_defs.emplace_back(m.name.GetString());
  for (const auto& m : (*json)["paths"].GetObject()) json_paths.emplace_back(m.name.GetString());
  CHECK(Names(defs, 1) == json_defs);
  CHECK(Names(paths, 2) == json_paths);
}

TEST_CASE("/openapi/v2: JSON unchanged, each form its own ETag, 304 on a match") {
  OpenApiResponse json = Get(Service(), "application/json");
  REQUIRE(json.status == 200);
  CHECK(json.content_type == "application/json");
  CHECK(json.body == BuildV2Document(Registry(), Table()));
  OpenApiResponse proto = Get(Service(), kClientGoAccept);
  REQUIRE(proto.status == 200);
  std::string json_etag = Header(json, "ETag");
  std::string proto_etag = Header(proto, "ETag");
  CHECK(json_etag == "\"" + ContentHash(json.body) + "\"");
  CHECK(proto_etag != json_etag);

  OpenApiResponse not_modified = Get(Service(), kClientGoAccept, proto_etag);
  CHECK(not_modified.status == 304);
  CHECK(not_modified.body.empty());
  CHECK(Header(not_modified, "ETag") == proto_etag);
  CHECK(Get(Service(), kClientGoAccept, "W/" + proto_etag).status == 304);
  // The JSON form's tag does not validate the protobuf form, nor the other way round.
  CHECK(Get(Service(), kClientGoAccept, json_etag).status == 200);
  CHECK(Get(Service(), "application/json", proto_etag).status == 200);
  CHECK(Get(Service(), "application/json", json_etag).status == 304);
}

TEST_CASE("/openapi/v2 negotiation: order and q decide, JSON on a tie") {
  auto form = [](std::string_view accept) {
    OpenApiResponse r = Get(Service(), accept);
    return r.status == 200 ? r.content_type : std::to_string(r.status);
  };
  const std::string json = "application/json";
  const std::string proto(kProtoType);
  CHECK(form("") == json);
  CHECK(form("*/*") == json);
  CHECK(form("application/*") == json);
  CHECK(form(kClientGoAccept) == proto);
  CHECK(form(kProtoType) == proto);
  CHECK(form(std::string(kClientGoAccept) + ", application/json") == proto);
  CHECK(form("application/json, " + std::string(kClientGoAccept)) == json);
  CHECK(form("application/json;q=0.5, " + std::string(kClientGoAccept)) == proto);
  CHECK(form(std::string(kClientGoAccept) + ";q=0.5, application/json") == json);
  CHECK(form("*/*, " + std::string(kClientGoAccept)) == proto);  // the concrete type first
  CHECK(form("text/html") == "406");
  CHECK(form("application/com.github.proto-openapi.spec.v3@v1.0+protobuf") == "406");
  // /openapi/v3 still serves JSON only.
  std::optional<OpenApiResponse> v3 =
      Service().Serve({"/openapi/v3/api/v1", "", kClientGoAccept, ""});
  REQUIRE(v3.has_value());
  CHECK(v3->status == 406);
}

TEST_CASE("the protobuf form follows the served resources") {
  resources::ResourceTable smaller;
  for (const resources::ResourceInfo& r : Table().All()) {
    if (r.group == "apps" && r.resource == "deployments") continue;
    REQUIRE(smaller.Add(r).ok());
  }
  std::unique_ptr<OpenApiService> other = OpenApiService::Build(Registry(), smaller);
  OpenApiResponse before = Get(Service(), kClientGoAccept);
  OpenApiResponse after = Get(*other, kClientGoAccept);
  CHECK(Header(after, "ETag") != Header(before, "ETag"));
  std::vector<std::string> paths = Names(One(after.body, 8), 2);
  CHECK(std::find(paths.begin(), paths.end(),
                  "/apis/apps/v1/namespaces/{namespace}/deployments/{name}") == paths.end());
  // Building twice gives the same bytes.
  std::unique_ptr<OpenApiService> again = OpenApiService::Build(Registry(), Table());
  CHECK(Get(*again, kClientGoAccept).body == before.body);
}

}  // namespace
}  // namespace kite::openapi
