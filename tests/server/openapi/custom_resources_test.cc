// Custom resources in the OpenAPI documents: definitions built from a CRD version's
// openAPIV3Schema (v3 as written, v2 converted), their paths, and documents of built-in
// group versions left untouched.
#include "src/server/openapi/custom_resources.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "src/server/openapi/openapi_service.h"
#include "src/server/openapi/openapi_v2.h"
#include "src/server/openapi/openapi_v3.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/schema_registry.h"
#include "tests/server/openapi/document_checks.h"

namespace kite::openapi {
namespace {

using rapidjson::Value;
using testing::CollectRefs;

std::shared_ptr<rapidjson::Document> Parse(const std::string& json) { return testing::ParseDocument(json); }

using testing::Registry;

constexpr const char* kGroup = "stable.example.com";
constexpr const char* kCronTab = "com.example.stable.v1.CronTab";
constexpr const char* kCronTabList = "com.example.stable.v1.CronTabList";
constexpr const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
constexpr const char* kItemPath =
    "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}";

// A schema exercising what the conversion touches.
constexpr const char* kSchema = R"({
  "type": "object",
  "description": "A CronTab runs a job on a schedule.",
  "properties": {
    "spec": {
      "type": "object",
      "description": "When and what the CronTab runs.",
      "required": ["cronSpec", "note"],
      "x-kubernetes-validations": [{"rule": "self.replicas <= 10", "message": "too many"}],
      "properties": {
        "cronSpec": {"type": "string", "description": "The schedule, in cron form.",
                     "example": "0 3 * * *", "nullable": false},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "port": {"x-kubernetes-int-or-string": true},
        "bounded": {"x-kubernetes-int-or-string": true,
                    "anyOf": [{"type": "integer", "minimum": 1},
                              {"type": "string", "pattern": "^[0-9]+%$"}]},
        "note": {"type": "string", "nullable": true},
        "mode": {"type": "string", "anyOf": [{"enum": ["a"]}, {"enum": ["b"]}]},
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                  "properties": {"known": {"type": "string"}}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}}
      }
    },
    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
  }
})";

std::shared_ptr<const rapidjson::Document> ParseSchema(const char* json) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(json);
  REQUIRE_FALSE(doc->HasParseError());
  return doc;
}

resources::ResourceInfo CronTabs(const std::string& version = "v1") {
  resources::ResourceInfo r;
  r.group = kGroup;
  r.version = version;
  r.resource = "crontabs";
  r.singular = "crontab";
  r.kind = "CronTab";
  r.list_kind = "CronTabList";
  r.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  r.subresources.push_back({"status", "", "", "CronTab", {"get", "patch", "update"}});
  r.subresources.push_back({"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}});
  return r;
}

// The built-in table plus crontabs at v1.
resources::ResourceTable TableWithCronTabs() {
  resources::ResourceTable table = resources::BuiltinResources();
  REQUIRE(table.Add(CronTabs()).ok());
  return table;
}

CustomResources CronTabSchemas(std::shared_ptr<const rapidjson::Document> schema) {
  CustomResources custom;
  custom.Add(kGroup, "v1", "crontabs", std::move(schema));
  return custom;
}

std::shared_ptr<rapidjson::Document> V3(const resources::ResourceTable& table,
                                        const CustomResources& custom) {
  Result<std::string> json = BuildV3Document(Registry(), table, kGroup, "v1", custom);
  REQUIRE(json.ok());
  return Parse(*json);
}

const Value& Member(const Value& v, const char* name) {
  INFO(name);
  REQUIRE(v.IsObject());
  REQUIRE(v.HasMember(name));
  return v[name];
}

const Value& Prop(const Value& schema, const char* name) {
  return Member(Member(schema, "properties"), name);
}

bool Has(const Value& v, const char* name) { return v.IsObject() && v.HasMember(name); }

std::string Str(const Value& v) { return v.IsString() ? v.GetString() : "<not a string>"; }

std::vector<std::string> Strings(const Value& list) {
  std::vector<std::string> out;
  for (const Value& v : list.GetArray()) out.push_back(Str(v));
  return out;
}

// Whether every object's keys are sorted, at every level.
bool KeysSorted(const Value& v) {
  if (v.IsArray()) {
    for (const Value& item : v.GetArray()) {
      if (!KeysSorted(item)) return false;
    }
    return true;
  }
  if (!v.IsObject()) return true;
  std::string previous;
  for (const auto& m : v.GetObject()) {
    std::string name = m.name.GetString();
    if (name < previous || !KeysSorted(m.value)) return false;
    previous = name;
  }
  return true;
}

std::string V3Url(const OpenApiService& service, const char* key) {
  std::optional<OpenApiResponse> r = service.Serve({"/openapi/v3", "", "application/json", ""});
  REQUIRE(r.has_value());
  auto root = Parse(r->body);
  if (!(*root)["paths"].HasMember(key)) return "";
  return (*root)["paths"][key]["serverRelativeURL"].GetString();
}

std::string Body(const OpenApiService& service, const std::string& path) {
  std::optional<OpenApiResponse> r = service.Serve({path, "", "application/json", ""});
  REQUIRE(r.has_value());
  REQUIRE(r->status == 200);
  return r->body;
}

TEST_CASE("a custom kind's v3 definition: the CRD's schema with apiVersion, kind, metadata") {
  resources::ResourceTable table = TableWithCronTabs();
  auto doc = V3(table, CronTabSchemas(ParseSchema(kSchema)));
  const Value& schemas = (*doc)["components"]["schemas"];
  const Value& crontab = Member(schemas, kCronTab);

  const Value& gvks = Member(crontab, "x-kubernetes-group-version-kind");
  REQUIRE(gvks.Size() == 1);
  CHECK(Str(gvks[0]["group"]) == kGroup);
  CHECK(Str(gvks[0]["version"]) == "v1");
  CHECK(Str(gvks[0]["kind"]) == "CronTab");
  CHECK(Str(Member(crontab, "description")) == "A CronTab runs a job on a schedule.");
  CHECK(Str(Member(Prop(crontab, "apiVersion"), "type")) == "string");
  CHECK(Str(Member(Prop(crontab, "kind"), "type")) == "string");
  CHECK(Str(Member(Prop(crontab, "metadata"), "$ref")) ==
        std::string("#/components/schemas/") + kObjectMeta);
  CHECK(Has(schemas, kObjectMeta));

  const Value& spec = Prop(crontab, "spec");
  CHECK(Str(Member(spec, "description")) == "When and what the CronTab runs.");
  CHECK(Strings(Member(spec, "required")) == std::vector<std::string>{"cronSpec", "note"});
  CHECK(Str(Member(Member(spec, "x-kubernetes-validations")[0], "rule")) == "self.replicas <= 10");
  const Value& cron_spec = Prop(spec, "cronSpec");
  CHECK(Str(Member(cron_spec, "type")) == "string");
  CHECK(Str(Member(cron_spec, "description")) == "The schedule, in cron form.");
  CHECK_FALSE(Has(cron_spec, "example"));   // not part of a structural schema
  CHECK_FALSE(Has(cron_spec, "nullable"));  // false flags are left out
  const Value& replicas = Prop(spec, "replicas");
  CHECK(Member(replicas, "default").GetInt() == 1);
  CHECK(Member(replicas, "maximum").GetInt() == 10);

  // x-kubernetes-int-or-string spelled out as anyOf, or as allOf[0].anyOf when anyOf is taken.
  const Value& port = Prop(spec, "port");
  CHECK(Member(port, "x-kubernetes-int-or-string").GetBool());
  REQUIRE(Member(port, "anyOf").Size() == 2);
  CHECK(Str(port["anyOf"][0]["type"]) == "integer");
  CHECK(Str(port["anyOf"][1]["type"]) == "string");
  const Value& bounded = Prop(spec, "bounded");
  CHECK(Member(bounded, "anyOf")[0]["minimum"].GetInt() == 1);
  REQUIRE(Member(bounded, "allOf").Size() == 1);
  CHECK(Str(bounded["allOf"][0]["anyOf"][0]["type"]) == "integer");

  CHECK(Member(Prop(spec, "note"), "nullable").GetBool());
  CHECK(Member(Prop(spec, "mode"), "anyOf").Size() == 2);
  CHECK(Str(Member(Prop(spec, "tags"), "x-kubernetes-list-type")) == "set");
  const Value& extra = Prop(spec, "extra");
  CHECK(Member(extra, "x-kubernetes-preserve-unknown-fields").GetBool());
  CHECK(Str(Member(extra, "type")) == "object");
  CHECK(Has(Member(extra, "properties"), "known"));
  CHECK(Str(Member(Member(Prop(spec, "labels"), "additionalProperties"), "type")) == "string");

  // An embedded resource gets its own apiVersion, kind and metadata, and requires the first two.
  const Value& tmpl = Prop(spec, "template");
  CHECK(Str(Member(Prop(tmpl, "metadata"), "$ref")) ==
        std::string("#/components/schemas/") + kObjectMeta);
  CHECK(Has(Member(tmpl, "properties"), "apiVersion"));
  CHECK(Has(Member(tmpl, "properties"), "spec"));
  std::vector<std::string> required = Strings(Member(tmpl, "required"));
  std::sort(required.begin(), required.end());
  CHECK(required == std::vector<std::string>{"apiVersion", "kind"});

  CHECK(KeysSorted(crontab));
}

TEST_CASE("a custom list kind's definition refers to the kind and ListMeta") {
  resources::ResourceTable table = TableWithCronTabs();
  auto doc = V3(table, CronTabSchemas(ParseSchema(kSchema)));
  const Value& schemas = (*doc)["components"]["schemas"];
  const Value& list = Member(schemas, kCronTabList);
  CHECK(Str(Member(list, "x-kubernetes-group-version-kind")[0]["kind"]) == "CronTabList");
  CHECK(Strings(Member(list, "required")) == std::vector<std::string>{"items"});
  const Value& items = Prop(list, "items");
  CHECK(Str(Member(items, "type")) == "array");
  CHECK(Str(Member(Member(items, "items"), "$ref")) ==
        std::string("#/components/schemas/") + kCronTab);
  CHECK(Str(Member(Prop(list, "metadata"), "$ref")) ==
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta");
  CHECK(KeysSorted(list));

  // Every reference of the document resolves inside it.
  std::vector<std::string> refs;
  CollectRefs(*doc, refs);
  CHECK_FALSE(refs.empty());
  for (const std::string& ref : refs) {
    INFO(ref);
    REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
    CHECK(schemas.HasMember(ref.substr(std::string("#/components/schemas/").size()).c_str()));
  }
}

TEST_CASE("a custom resource's paths: as kube-apiserver lists them for a CRD") {
  resources::ResourceTable table = TableWithCronTabs();
  auto doc = V3(table, CronTabSchemas(ParseSchema(kSchema)));
  const Value& paths = (*doc)["paths"];
  CHECK(Has(paths, "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs"));
  CHECK(Has(paths, "/apis/stable.example.com/v1/crontabs"));  // list across namespaces
  CHECK(Has(paths, "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status"));
  for (const auto& m : paths.GetObject()) {
    INFO(m.name.GetString());
    CHECK(std::string(m.name.GetString()).find("/watch/") == std::string::npos);
  }

  const Value& patch = Member(Member(paths, kItemPath), "patch");
  CHECK(Str(Member(patch, "operationId")) == "patchStableExampleComV1NamespacedCronTab");
  CHECK(Str(Member(patch, "x-kubernetes-group-version-kind")["kind"]) == "CronTab");
  bool field_validation = false;
  for (const Value& p : Member(patch, "parameters").GetArray()) {
    field_validation |= Str(p["name"]) == "fieldValidation";
  }
  CHECK(field_validation);  // kubectl then leaves field validation to the server
  // No strategic merge patch: kubectl apply computes a JSON merge patch for custom resources.
  const Value& content = Member(Member(patch, "requestBody"), "content");
  CHECK(Has(content, "application/merge-patch+json"));
  CHECK(Has(content, "application/apply-patch+yaml"));
  CHECK_FALSE(Has(content, "application/strategic-merge-patch+json"));
  const Value& get_content =
      Member(Member(Member(Member(paths, kItemPath), "get"), "responses")["200"], "content");
  CHECK(Has(get_content, "application/json"));
  CHECK_FALSE(Has(get_content, "application/vnd.kubernetes.protobuf"));
  CHECK(Str(Member(get_content["application/json"]["schema"], "$ref")) ==
        std::string("#/components/schemas/") + kCronTab);

  const Value& scale = Member(Member(paths, (std::string(kItemPath) + "/scale").c_str()), "get");
  CHECK(Str(scale["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]) ==
        "#/components/schemas/io.k8s.api.autoscaling.v1.Scale");
  const Value& list =
      Member(Member(paths, "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs"), "get");
  CHECK(Str(list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]) ==
        std::string("#/components/schemas/") + kCronTabList);
}

TEST_CASE("the v2 document converts a custom kind's schema to what Swagger 2.0 allows") {
  resources::ResourceTable table = TableWithCronTabs();
  auto doc = Parse(BuildV2Document(Registry(), table, CronTabSchemas(ParseSchema(kSchema))));
  const Value& defs = (*doc)["definitions"];
  const Value& crontab = Member(defs, kCronTab);
  CHECK(Str(Member(crontab, "x-kubernetes-group-version-kind")[0]["kind"]) == "CronTab");
  CHECK(Str(Member(Prop(crontab, "metadata"), "$ref")) ==
        std::string("#/definitions/") + kObjectMeta);
  CHECK(Has(defs, kObjectMeta));
  CHECK(Has(defs, kCronTabList));

  const Value& spec = Prop(crontab, "spec");
  // nullable: no type, no nullable, and no longer required.
  const Value& note = Prop(spec, "note");
  CHECK_FALSE(Has(note, "type"));
  CHECK_FALSE(Has(note, "nullable"));
  CHECK(Strings(Member(spec, "required")) == std::vector<std::string>{"cronSpec"});
  // anyOf/allOf dropped; int-or-string keeps only its extension.
  const Value& port = Prop(spec, "port");
  CHECK(Member(port, "x-kubernetes-int-or-string").GetBool());
  CHECK_FALSE(Has(port, "anyOf"));
  CHECK_FALSE(Has(port, "type"));
  CHECK_FALSE(Has(Prop(spec, "bounded"), "anyOf"));
  CHECK_FALSE(Has(Prop(spec, "bounded"), "allOf"));
  CHECK_FALSE(Has(Prop(spec, "mode"), "anyOf"));
  CHECK(Str(Member(Prop(spec, "mode"), "type")) == "string");
  // Preserving unknown fields: no properties, no type object.
  const Value& extra = Prop(spec, "extra");
  CHECK(Member(extra, "x-kubernetes-preserve-unknown-fields").GetBool());
  CHECK_FALSE(Has(extra, "properties"));
  CHECK_FALSE(Has(extra, "type"));
  // Defaults are not published in v2; validations are.
  const Value& replicas = Prop(spec, "replicas");
  CHECK_FALSE(Has(replicas, "default"));
  CHECK(Member(replicas, "minimum").GetInt() == 1);
  CHECK(Has(spec, "x-kubernetes-validations"));
  CHECK(Str(Member(Prop(Prop(spec, "template"), "metadata"), "$ref")) ==
        std::string("#/definitions/") + kObjectMeta);
  CHECK(KeysSorted(crontab));

  // The paths are there, with the same PATCH content types as in v3.
  const Value& patch = Member(Member((*doc)["paths"], kItemPath), "patch");
  std::vector<std::string> consumes = Strings(Member(patch, "consumes"));
  CHECK(std::find(consumes.begin(), consumes.end(), "application/merge-patch+json") !=
        consumes.end());
  CHECK(std::find(consumes.begin(), consumes.end(), "application/strategic-merge-patch+json") ==
        consumes.end());
  CHECK(Str(Member(patch, "x-kubernetes-group-version-kind")["kind"]) == "CronTab");
}

TEST_CASE("without a usable schema a custom kind is a bare object with its kind") {
  resources::ResourceTable table = TableWithCronTabs();
  SECTION("no schema") {
    auto doc = V3(table, CronTabSchemas(nullptr));
    const Value& crontab = Member((*doc)["components"]["schemas"], kCronTab);
    CHECK(Str(Member(crontab, "type")) == "object");
    CHECK_FALSE(Has(crontab, "properties"));
    CHECK(Str(Member(crontab, "x-kubernetes-group-version-kind")[0]["kind"]) == "CronTab");
  }
  SECTION("a root that keeps unknown fields: described in v3, a bare object in v2") {
    CustomResources custom = CronTabSchemas(ParseSchema(
        R"({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"spec": {"type": "string"}}})"));
    auto v3 = V3(table, custom);
    CHECK(Has(Member(Member((*v3)["components"]["schemas"], kCronTab), "properties"), "spec"));
    auto v2 = Parse(BuildV2Document(Registry(), table, custom));
    const Value& crontab = Member((*v2)["definitions"], kCronTab);
    CHECK_FALSE(Has(crontab, "properties"));
    CHECK(Str(Member(crontab, "type")) == "object");
    CHECK(Has(crontab, "x-kubernetes-group-version-kind"));
  }
}

TEST_CASE("custom resources leave the built-in documents as they were") {
  resources::ResourceTable builtin = resources::BuiltinResources();
  std::unique_ptr<OpenApiService> before = OpenApiService::Build(Registry(), builtin);
  resources::ResourceTable table = TableWithCronTabs();
  std::unique_ptr<OpenApiService> after =
      OpenApiService::Build(Registry(), table, CronTabSchemas(ParseSchema(kSchema)));

  CHECK(V3Url(*before, "apis/stable.example.com/v1").empty());
  CHECK_FALSE(V3Url(*after, "apis/stable.example.com/v1").empty());
  for (const char* key : {"api/v1", "apis/apps/v1", "apis/apiextensions.k8s.io/v1"}) {
    INFO(key);
    CHECK(V3Url(*before, key) == V3Url(*after, key));
    CHECK(Body(*before, std::string("/openapi/v3/") + key) ==
          Body(*after, std::string("/openapi/v3/") + key));
  }
  // Shared kinds list the built-in group versions only.
  auto doc = Parse(Body(*after, "/openapi/v3/apis/stable.example.com/v1"));
  const Value& delete_options =
      Member((*doc)["components"]["schemas"], "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
  for (const Value& gvk : Member(delete_options, "x-kubernetes-group-version-kind").GetArray()) {
    CHECK(Str(gvk["group"]) != kGroup);
  }
  CHECK(Body(*before, "/openapi/v2") != Body(*after, "/openapi/v2"));
  CHECK(Body(*after, "/openapi/v2").find(kCronTab) != std::string::npos);
}

TEST_CASE("a changed CRD schema changes the hash of its group version only") {
  resources::ResourceTable table = TableWithCronTabs();
  REQUIRE(table.Add(CronTabs("v2")).ok());
  auto schema = ParseSchema(kSchema);
  CustomResources first;
  first.Add(kGroup, "v1", "crontabs", schema);
  first.Add(kGroup, "v2", "crontabs", schema);
  CustomResources second;
  second.Add(kGroup, "v1", "crontabs", schema);
  second.Add(kGroup, "v2", "crontabs",
             ParseSchema(R"({"type": "object", "properties": {"spec": {"type": "object",
                 "description": "Changed."}}})"));
  std::unique_ptr<OpenApiService> a = OpenApiService::Build(Registry(), table, first);
  std::unique_ptr<OpenApiService> b = OpenApiService::Build(Registry(), table, second);
  CHECK(V3Url(*a, "apis/stable.example.com/v1") == V3Url(*b, "apis/stable.example.com/v1"));
  CHECK(V3Url(*a, "apis/stable.example.com/v2") != V3Url(*b, "apis/stable.example.com/v2"));
  CHECK(V3Url(*a, "api/v1") == V3Url(*b, "api/v1"));
  CHECK(Body(*b, "/openapi/v3/apis/stable.example.com/v2").find("Changed.") != std::string::npos);
  // Building again from the same input gives the same bytes.
  std::unique_ptr<OpenApiService> again = OpenApiService::Build(Registry(), table, second);
  CHECK(Body(*again, "/openapi/v2") == Body(*b, "/openapi/v2"));
  CHECK(V3Url(*again, "apis/stable.example.com/v2") == V3Url(*b, "apis/stable.example.com/v2"));
}

TEST_CASE("a custom kind named like a shared meta kind is still described from its CRD") {
  resources::ResourceTable table = resources::BuiltinResources();
  resources::ResourceInfo r = CronTabs();
  r.resource = "statuses";
  r.singular = "status";
  r.kind = "Status";
  r.list_kind = "StatusList";
  r.subresources.clear();
  REQUIRE(table.Add(r).ok());
  CustomResources custom;
  custom.Add(kGroup, "v1", "statuses", ParseSchema(kSchema));
  auto doc = V3(table, custom);
  const Value& status = Member((*doc)["components"]["schemas"], "com.example.stable.v1.Status");
  CHECK(Has(Member(status, "properties"), "spec"));
  // DELETE still answers with meta/v1 Status, and the object's GET with the custom kind.
  const Value& item =
      Member((*doc)["paths"], "/apis/stable.example.com/v1/namespaces/{namespace}/statuses/{name}");
  CHECK(Str(item["delete"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]) ==
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status");
  CHECK(Str(item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]) ==
        "#/components/schemas/com.example.stable.v1.Status");
}

}  // namespace
}  // namespace kite::openapi
