#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
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
const resources::ResourceTable& Table() { return testing::BuiltinTable(); }
const OpenApiService& Service() { return testing::BuiltinService(); }

OpenApiResponse Get(const OpenApiService& service, std::string_view path,
                    std::string_view query = "", std::string_view accept = "application/json",
                    std::string_view if_none_match = "") {
  std::optional<OpenApiResponse> r = service.Serve({path, query, accept, if_none_match});
  REQUIRE(r.has_value());
  return *r;
}

std::string Header(const OpenApiResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

// The v3 document of a group version, fetched the way client-go does: through the root's
// serverRelativeURL.
std::shared_ptr<rapidjson::Document> V3Doc(const OpenApiService& service, const std::string& key) {
  auto root = Parse(Get(service, "/openapi/v3").body);
  REQUIRE((*root)["paths"].HasMember(key.c_str()));
  std::string url = (*root)["paths"][key.c_str()]["serverRelativeURL"].GetString();
  size_t q = url.find('?');
  REQUIRE(q != std::string::npos);
  OpenApiResponse r = Get(service, url.substr(0, q), url.substr(q + 1));
  REQUIRE(r.status == 200);
  auto doc = Parse(r.body);
  REQUIRE(std::string((*doc)["openapi"].GetString()) == "3.0.0");
  return doc;
}

const Value& Schemas(const rapidjson::Document& doc) { return doc["components"]["schemas"]; }

// What kubectl's PatchMetaFromOpenAPIV3 and explain do with a property: allOf[0], then $ref.
const Value& Resolve(const rapidjson::Document& doc, const Value& schema) {
  const Value* s = &schema;
  if (s->HasMember("allOf")) s = &(*s)["allOf"][0];
  if (s->HasMember("$ref")) {
    std::string ref = (*s)["$ref"].GetString();
    const std::string prefix = "#/components/schemas/";
    REQUIRE(ref.rfind(prefix, 0) == 0);
    std::string name = ref.substr(prefix.size());
    INFO(name);
    REQUIRE(Schemas(doc).HasMember(name.c_str()));
    return Schemas(doc)[name.c_str()];
  }
  return *s;
}

const Value& Property(const Value& schema, const char* name) {
  INFO(name);
  REQUIRE(schema.HasMember("properties"));
  REQUIRE(schema["properties"].HasMember(name));
  return schema["properties"][name];
}

bool GvkListHas(const Value& schema, const std::string& group, const std::string& version,
                const std::string& kind) {
  if (!schema.HasMember("x-kubernetes-group-version-kind")) return false;
  for (const Value& g : schema["x-kubernetes-group-version-kind"].GetArray()) {
    if (group == g["group"].GetString() && version == g["version"].GetString() &&
        kind == g["kind"].GetString()) {
      return true;
    }
  }
  return false;
}

// The component schema whose x-kubernetes-group-version-kind lists the kind, as explain and
// apply find it.
const Value* KindSchema(const rapidjson::Document& doc, const std::string& group,
                        const std::string& version, const std::string& kind) {
  for (const auto& m : Schemas(doc).GetObject()) {
    if (GvkListHas(m.value, group, version, kind)) return &m.value;
  }
  return nullptr;
}

bool OpGvkIs(const Value& op, const std::string& group, const std::string& version,
             const std::string& kind) {
  if (!op.HasMember("x-kubernetes-group-version-kind")) return false;
  const Value& g = op["x-kubernetes-group-version-kind"];
  return group == g["group"].GetString() && version == g["version"].GetString() &&
         kind == g["kind"].GetString();
}

bool HasParam(const Value& op, const std::string& name) {
  if (!op.HasMember("parameters")) return false;
  for (const Value& p : op["parameters"].GetArray()) {
    if (p.HasMember("name") && name == p["name"].GetString()) return true;
  }
  return false;
}

TEST_CASE("the v3 root lists every served group version with a hash") {
  OpenApiResponse r = Get(Service(), "/openapi/v3");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/json");
  auto root = Parse(r.body);
  const Value& paths = (*root)["paths"];
  size_t count = 0;
  for (const resources::GroupInfo& g : Table().Groups()) {
    for (const std::string& v : g.versions) {
      std::string key = V3PathKey(g.name, v);
      INFO(key);
      REQUIRE(paths.HasMember(key.c_str()));
      std::string url = paths[key.c_str()]["serverRelativeURL"].GetString();
      CHECK(url.rfind("/openapi/v3/" + key + "?hash=", 0) == 0);
      CHECK(url.size() == ("/openapi/v3/" + key + "?hash=").size() + 64);
      ++count;
    }
  }
  CHECK(paths.MemberCount() == count);
  CHECK(paths.HasMember("api/v1"));
  CHECK(paths.HasMember("apis/apps/v1"));
  CHECK(paths.HasMember("apis/autoscaling/v2"));
}

TEST_CASE("every v3 document parses and every $ref resolves inside it") {
  auto root = Parse(Get(Service(), "/openapi/v3").body);
  for (const auto& m : (*root)["paths"].GetObject()) {
    std::string key = m.name.GetString();
    INFO(key);
    auto doc = V3Doc(Service(), key);
    REQUIRE(doc->HasMember("paths"));
    CHECK((*doc)["paths"].MemberCount() > 0);
    std::vector<std::string> refs;
    CollectRefs(*doc, refs);
    CHECK_FALSE(refs.empty());
    for (const std::string& ref : refs) {
      INFO(ref);
      REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
      CHECK(Schemas(*doc).HasMember(ref.substr(std::string("#/components/schemas/").size()).c_str()));
    }
  }
}

TEST_CASE("the Deployment schema carries its kind, fields and patch keys") {
  auto doc = V3Doc(Service(), "apis/apps/v1");
  const Value& schemas = Schemas(*doc);
  REQUIRE(schemas.HasMember("io.k8s.api.apps.v1.Deployment"));
  const Value& deployment = schemas["io.k8s.api.apps.v1.Deployment"];
  CHECK(std::string(deployment["type"].GetString()) == "object");
  CHECK(GvkListHas(deployment, "apps", "v1", "Deployment"));
  CHECK(KindSchema(*doc, "apps", "v1", "Deployment") == &deployment);
  CHECK(std::string(Property(deployment, "apiVersion")["type"].GetString()) == "string");
  CHECK(std::string(Property(deployment, "kind")["type"].GetString()) == "string");

  // References are wrapped in allOf, as kube-apiserver 1.32 writes v3.
  const Value& metadata = Property(deployment, "metadata");
  REQUIRE(metadata.HasMember("allOf"));
  CHECK(std::string(metadata["allOf"][0]["$ref"].GetString()) ==
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");

  const Value& spec = Resolve(*doc, Property(deployment, "spec"));
  const Value& replicas = Property(spec, "replicas");
  CHECK(std::string(replicas["type"].GetString()) == "integer");
  CHECK(std::string(replicas["format"].GetString()) == "int32");
  CHECK(std::string(Property(spec, "strategy")["x-kubernetes-patch-strategy"].GetString()) ==
        "retainKeys");

  const Value& pod_spec = Resolve(*doc, Property(Resolve(*doc, Property(spec, "template")), "spec"));
  const Value& containers = Property(pod_spec, "containers");
  CHECK(std::string(containers["type"].GetString()) == "array");
  CHECK(std::string(containers["x-kubernetes-patch-merge-key"].GetString()) == "name");
  CHECK(std::string(containers["x-kubernetes-patch-strategy"].GetString()) == "merge");
  const Value& container = Resolve(*doc, containers["items"]);
  CHECK(std::string(Property(container, "image")["type"].GetString()) == "string");
  const Value& volumes = Property(pod_spec, "volumes");
  CHECK(std::string(volumes["x-kubernetes-patch-strategy"].GetString()) == "merge,retainKeys");
  // Volume's inline VolumeSource members appear in Volume itself.
  const Value& volume = Resolve(*doc, volumes["items"]);
  CHECK(volume["properties"].HasMember("configMap"));
  CHECK(volume["properties"].HasMember("name"));
  CHECK_FALSE(volume["properties"].HasMember("volumeSource"));

  // Status is a shared kind: listed under this group version too.
  REQUIRE(schemas.HasMember("io.k8s.apimachinery.pkg.apis.meta.v1.Status"));
  CHECK(GvkListHas(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Status"], "apps", "v1", "Status"));
  // The scale subresource refers to autoscaling/v1 Scale: its schema comes along.
  CHECK(schemas.HasMember("io.k8s.api.autoscaling.v1.Scale"));
}

TEST_CASE("well-known types are described as Kubernetes describes them") {
  auto doc = V3Doc(Service(), "api/v1");
  const Value& schemas = Schemas(*doc);
  const Value& ios = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
  CHECK(std::string(ios["format"].GetString()) == "int-or-string");
  CHECK(ios["x-kubernetes-int-or-string"].GetBool());
  REQUIRE(ios["oneOf"].Size() == 2);
  CHECK(std::string(ios["oneOf"][0]["type"].GetString()) == "integer");
  const Value& quantity = schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"];
  REQUIRE(quantity["oneOf"].Size() == 2);
  CHECK(std::string(quantity["oneOf"][0]["type"].GetString()) == "string");
  CHECK(std::string(quantity["oneOf"][1]["type"].GetString()) == "number");
  const Value& time = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
  CHECK(std::string(time["type"].GetString()) == "string");
  CHECK(std::string(time["format"].GetString()) == "date-time");
  CHECK(std::string(schemas["io.k8s.apimachinery.pkg.runtime.RawExtension"]["type"].GetString()) ==
        "object");
  // A map of quantities; bytes as base64.
  const Value& requirements = schemas["io.k8s.api.core.v1.ResourceRequirements"];
  CHECK(std::string(Property(requirements, "limits")["additionalProperties"]["$ref"].GetString()) ==
        "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity");
  const Value& secret = schemas["io.k8s.api.core.v1.Secret"];
  CHECK(std::string(Property(secret, "data")["additionalProperties"]["format"].GetString()) ==
        "byte");
  // metav1.Verbs is written in place as an array of strings.
  auto rbac = V3Doc(Service(), "apis/rbac.authorization.k8s.io/v1");
  const Value& rule = Schemas(*rbac)["io.k8s.api.rbac.v1.PolicyRule"];
  CHECK(std::string(Property(rule, "verbs")["type"].GetString()) == "array");
}

TEST_CASE("every served resource has paths with the operations its verbs allow") {
  std::map<std::string, std::shared_ptr<rapidjson::Document>> docs;
  for (const resources::ResourceInfo& r : Table().All()) {
    std::string key = V3PathKey(r.group, r.version);
    if (!docs.contains(key)) docs[key] = V3Doc(Service(), key);
    const rapidjson::Document& doc = *docs[key];
    const Value& paths = doc["paths"];
    std::string prefix = "/" + key + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource;
    INFO(prefix);
    REQUIRE(paths.HasMember(prefix.c_str()));
    const Value& collection = paths[prefix.c_str()];
    CHECK(collection.HasMember("get") == r.HasVerb("list"));
    CHECK(collection.HasMember("post") == r.HasVerb("create"));
    CHECK(collection.HasMember("delete") == r.HasVerb("deletecollection"));
    if (r.HasVerb("create")) {
      const Value& post = collection["post"];
      CHECK(std::string(post["x-kubernetes-action"].GetString()) == "post");
      CHECK(OpGvkIs(post, r.group, r.version, r.kind));
      for (const char* p : {"dryRun", "fieldManager", "fieldValidation"}) CHECK(HasParam(post, p));
    }
    std::string item = prefix + "/{name}";
    bool has_item = r.HasVerb("get") || r.HasVerb("update") || r.HasVerb("patch");
    REQUIRE(paths.HasMember(item.c_str()) == has_item);
    if (!has_item) continue;
    const Value& ops = paths[item.c_str()];
    CHECK(ops.HasMember("get") == r.HasVerb("get"));
    CHECK(ops.HasMember("put") == r.HasVerb("update"));
    CHECK(ops.HasMember("delete") == r.HasVerb("delete"));
    REQUIRE(ops.HasMember("patch") == r.HasVerb("patch"));
    if (r.HasVerb("get")) CHECK(std::string(ops["get"]["x-kubernetes-action"].GetString()) == "get");
    if (r.HasVerb("patch")) {
      const Value& patch = ops["patch"];
      CHECK(std::string(patch["x-kubernetes-action"].GetString()) == "patch");
      CHECK(OpGvkIs(patch, r.group, r.version, r.kind));
      for (const char* p : {"dryRun", "fieldManager", "fieldValidation", "force"}) {
        INFO(p);
        CHECK(HasParam(patch, p));
      }
      const Value& content = patch["requestBody"]["content"];
      for (const char* type : {"application/json-patch+json", "application/merge-patch+json",
                               "application/strategic-merge-patch+json",
                               "application/apply-patch+yaml"}) {
        INFO(type);
        CHECK(content.HasMember(type));
      }
    }
    if (r.HasVerb("update")) CHECK(HasParam(ops["put"], "fieldValidation"));
  }
}

// kubectl's check (cli-runtime queryParamVerifierV3): the first PATCH operation whose
// x-kubernetes-group-version-kind is the kind decides, by its own parameters. Paths come
// from a Go map, so every such operation must list fieldValidation.
TEST_CASE("every PATCH operation of a kind lists fieldValidation, as kubectl checks") {
  int checked = 0;
  for (const resources::ResourceInfo& r : Table().All()) {
    if (!r.HasVerb("patch")) continue;
    auto doc = V3Doc(Service(), V3PathKey(r.group, r.version));
    int found = 0;
    for (const auto& path : (*doc)["paths"].GetObject()) {
      if (!path.value.HasMember("patch")) continue;
      const Value& op = path.value["patch"];
      if (!OpGvkIs(op, r.group, r.version, r.kind)) continue;
      ++found;
      INFO(path.name.GetString());
      CHECK(HasParam(op, "fieldValidation"));
      CHECK(op["requestBody"]["content"].HasMember("application/strategic-merge-patch+json"));
    }
    INFO(r.kind);
    CHECK(found >= 1);
    ++checked;
  }
  CHECK(checked > 30);
}

TEST_CASE("subresources, cluster-wide lists and operation ids") {
  auto doc = V3Doc(Service(), "api/v1");
  const Value& paths = (*doc)["paths"];
  REQUIRE(paths.HasMember("/api/v1/pods"));
  CHECK(std::string(paths["/api/v1/pods"]["get"]["operationId"].GetString()) ==
        "listCoreV1PodForAllNamespaces");
  const Value& status = paths["/api/v1/namespaces/{namespace}/pods/{name}/status"];
  CHECK(std::string(status["patch"]["operationId"].GetString()) ==
        "patchCoreV1NamespacedPodStatus");
  CHECK(OpGvkIs(status["patch"], "", "v1", "Pod"));
  const Value& exec = paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"];
  CHECK(std::string(exec["post"]["x-kubernetes-action"].GetString()) == "connect");
  CHECK(OpGvkIs(exec["post"], "", "v1", "PodExecOptions"));
  CHECK(HasParam(exec["get"], "command"));
  const Value& eviction = paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"];
  CHECK(OpGvkIs(eviction["post"], "policy", "v1", "Eviction"));
  CHECK(paths.HasMember("/api/v1/namespaces/{namespace}/pods/{name}/log"));
  CHECK(paths.HasMember("/api/v1/watch/namespaces/{namespace}/pods/{name}"));
  CHECK(paths.HasMember("/api/v1/nodes/{name}/proxy/{path}"));
  CHECK(std::string(paths["/api/v1/namespaces/{name}/finalize"]["put"]["operationId"].GetString()) ==
        "replaceCoreV1NamespaceFinalize");
  // Schemas of subresource kinds from other groups come along.
  CHECK(Schemas(*doc).HasMember("io.k8s.api.policy.v1.Eviction"));
  CHECK(Schemas(*doc).HasMember("io.k8s.api.authentication.v1.TokenRequest"));

  auto apps = V3Doc(Service(), "apis/apps/v1");
  const Value& scale = (*apps)["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
  CHECK(OpGvkIs(scale["patch"], "autoscaling", "v1", "Scale"));
  CHECK(std::string(scale["patch"]["operationId"].GetString()) ==
        "patchAppsV1NamespacedDeploymentScale");
  const Value& list = (*apps)["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
  CHECK(std::string(list["x-kubernetes-action"].GetString()) == "list");
  CHECK(HasParam(list, "labelSelector"));
  CHECK(std::string(list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                        .GetString()) == "#/components/schemas/io.k8s.api.apps.v1.DeploymentList");
}

TEST_CASE("what kubectl explain walks: path gvk, kind schema, field") {
  auto doc = V3Doc(Service(), "apis/apps/v1");
  const Value& get =
      (*doc)["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["get"];
  const Value& gvk = get["x-kubernetes-group-version-kind"];
  const Value* deployment =
      KindSchema(*doc, gvk["group"].GetString(), gvk["version"].GetString(), gvk["kind"].GetString());
  REQUIRE(deployment != nullptr);
  const Value& replicas = Property(Resolve(*doc, Property(*deployment, "spec")), "replicas");
  CHECK(std::string(replicas["type"].GetString()) == "integer");
}

TEST_CASE("unknown group versions and other paths") {
  CHECK(Get(Service(), "/openapi/v3/apis/nope.example.com/v1").status == 404);
  CHECK(Get(Service(), "/openapi/v3/apis/apps/v7").status == 404);
  CHECK(Get(Service(), "/openapi/v3/apis/apps").status == 404);
  CHECK_FALSE(Service().Serve({"/openapi/v3x", "", "", ""}).has_value());
  CHECK_FALSE(Service().Serve({"/openapi", "", "", ""}).has_value());
  CHECK_FALSE(Service().Serve({"/apis/apps/v1", "", "", ""}).has_value());
  CHECK(Get(Service(), "/openapi/v3/").status == 200);
}

TEST_CASE("caching: ETag, If-None-Match, immutable only with the current hash") {
  auto root = Parse(Get(Service(), "/openapi/v3").body);
  std::string url = (*root)["paths"]["apis/apps/v1"]["serverRelativeURL"].GetString();
  std::string hash = url.substr(url.find("hash=") + 5);
  OpenApiResponse current = Get(Service(), "/openapi/v3/apis/apps/v1", "hash=" + hash);
  CHECK(current.status == 200);
  CHECK(Header(current, "ETag") == "\"" + hash + "\"");
  CHECK(Header(current, "Cache-Control").find("immutable") != std::string::npos);
  OpenApiResponse stale = Get(Service(), "/openapi/v3/apis/apps/v1", "hash=0123");
  CHECK(stale.status == 200);
  CHECK(stale.body == current.body);
  CHECK(Header(stale, "Cache-Control") == "no-cache, private");
  OpenApiResponse none = Get(Service(), "/openapi/v3/apis/apps/v1");
  CHECK(Header(none, "Cache-Control") == "no-cache, private");
  OpenApiResponse not_modified =
      Get(Service(), "/openapi/v3/apis/apps/v1", "", "application/json", "\"" + hash + "\"");
  CHECK(not_modified.status == 304);
  CHECK(not_modified.body.empty());
  CHECK(Get(Service(), "/openapi/v3/apis/apps/v1", "", "*/*", "\"other\"").status == 200);
}

TEST_CASE("content negotiation: JSON, protobuf for v2 only (openapi_proto_test.cc)") {
  CHECK(Get(Service(), "/openapi/v2", "", "").status == 200);
  CHECK(Get(Service(), "/openapi/v2", "", "application/json, */*").content_type ==
        "application/json");
  CHECK(Get(Service(), "/openapi/v2", "",
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
            .content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  CHECK(Get(Service(), "/openapi/v2", "",
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.9")
            .status == 200);
  CHECK(Get(Service(), "/openapi/v2", "", "text/plain").status == 406);
  CHECK(Get(Service(), "/openapi/v3/api/v1", "",
            "application/com.github.proto-openapi.spec.v3@v1.0+protobuf")
            .status == 406);
}

TEST_CASE("the v2 document: definitions and paths, $ref written directly") {
  OpenApiResponse r = Get(Service(), "/openapi/v2");
  REQUIRE(r.status == 200);
  auto doc = Parse(r.body);
  CHECK(std::string((*doc)["swagger"].GetString()) == "2.0");
  const Value& defs = (*doc)["definitions"];
  REQUIRE(defs.HasMember("io.k8s.api.apps.v1.Deployment"));
  const Value& deployment = defs["io.k8s.api.apps.v1.Deployment"];
  CHECK(GvkListHas(deployment, "apps", "v1", "Deployment"));
  CHECK(std::string(Property(deployment, "spec")["$ref"].GetString()) ==
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec");
  const Value& pod_spec = defs["io.k8s.api.core.v1.PodSpec"];
  CHECK(std::string(Property(pod_spec, "containers")["x-kubernetes-patch-merge-key"].GetString()) ==
        "name");
  CHECK(std::string(defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"].GetString()) ==
        "string");
  std::vector<std::string> refs;
  CollectRefs(*doc, refs);
  for (const std::string& ref : refs) {
    INFO(ref);
    REQUIRE(ref.rfind("#/definitions/", 0) == 0);
    CHECK(defs.HasMember(ref.substr(std::string("#/definitions/").size()).c_str()));
  }
  const Value& paths = (*doc)["paths"];
  const Value& patch = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
  CHECK(HasParam(patch, "fieldValidation"));
  CHECK(OpGvkIs(patch, "apps", "v1", "Deployment"));
  bool strategic = false;
  for (const Value& c : patch["consumes"].GetArray()) {
    strategic |= std::string(c.GetString()) == "application/strategic-merge-patch+json";
  }
  CHECK(strategic);
  CHECK(paths.HasMember("/api/v1/namespaces/{namespace}/configmaps"));
  CHECK(paths.HasMember("/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status"));
}

resources::ResourceTable TableWithout(std::string_view group, std::string_view resource) {
  resources::ResourceTable table;
  for (const resources::ResourceInfo& r : Table().All()) {
    if (r.group == group && r.resource == resource) continue;
    REQUIRE(table.Add(r).ok());
  }
  return table;
}

std::string V3Url(const OpenApiService& service, const char* key) {
  auto root = Parse(Get(service, "/openapi/v3").body);
  return (*root)["paths"][key]["serverRelativeURL"].GetString();
}

TEST_CASE("the hash changes when the document changes, and only then") {
  resources::ResourceTable smaller = TableWithout("apps", "controllerrevisions");
  std::unique_ptr<OpenApiService> other = OpenApiService::Build(Registry(), smaller);
  CHECK(V3Url(*other, "apis/apps/v1") != V3Url(Service(), "apis/apps/v1"));
  CHECK(V3Url(*other, "api/v1") == V3Url(Service(), "api/v1"));
  CHECK(Get(*other, "/openapi/v3/apis/apps/v1").body != Get(Service(), "/openapi/v3/apis/apps/v1").body);
  CHECK(Header(Get(*other, "/openapi/v2"), "ETag") != Header(Get(Service(), "/openapi/v2"), "ETag"));
  // Building twice gives the same bytes.
  std::unique_ptr<OpenApiService> again = OpenApiService::Build(Registry(), Table());
  CHECK(V3Url(*again, "apis/apps/v1") == V3Url(Service(), "apis/apps/v1"));
  CHECK(Get(*again, "/openapi/v2").body == Get(Service(), "/openapi/v2").body);
}

TEST_CASE("a kind the registry lacks gets paths and a placeholder schema") {
  resources::ResourceTable table;
  resources::ResourceInfo r;
  r.group = "stable.example.com";
  r.version = "v1";
  r.resource = "crontabs";
  r.singular = "crontab";
  r.kind = "CronTab";
  r.list_kind = "CronTabList";
  r.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  REQUIRE(table.Add(r).ok());
  Result<std::string> json = BuildV3Document(Registry(), table, "stable.example.com", "v1");
  REQUIRE(json.ok());
  auto doc = Parse(json.value());
  const Value& patch =
      (*doc)["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]["patch"];
  CHECK(OpGvkIs(patch, "stable.example.com", "v1", "CronTab"));
  CHECK(HasParam(patch, "fieldValidation"));
  const Value& schemas = Schemas(*doc);
  REQUIRE(schemas.HasMember("com.example.stable.v1.CronTab"));
  const Value& placeholder = schemas["com.example.stable.v1.CronTab"];
  CHECK(placeholder["x-kubernetes-preserve-unknown-fields"].GetBool());
  // No group-version-kind: kubectl then computes patches from its compiled-in types.
  CHECK_FALSE(placeholder.HasMember("x-kubernetes-group-version-kind"));
  CHECK(BuildV3Document(Registry(), table, "stable.example.com", "v2").status().code() ==
        StatusCode::kNotFound);
}

}  // namespace
}  // namespace kite::openapi
