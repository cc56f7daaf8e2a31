#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/server/resources/discovery.h"
#include "src/server/resources/resource_table.h"
#include "src/server/resources/sha256.h"

namespace kite::resources {
namespace {

using Strings = std::vector<std::string>;

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  INFO(json.substr(0, 300));
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

// The element of `array` whose string member `key` equals `value`, or nullptr.
const rapidjson::Value* FindIn(const rapidjson::Value& array, const char* key,
                               const std::string& value) {
  REQUIRE(array.IsArray());
  for (const rapidjson::Value& item : array.GetArray()) {
    if (item.HasMember(key) && item[key].IsString() && value == item[key].GetString()) {
      return &item;
    }
  }
  return nullptr;
}

Strings StringsOf(const rapidjson::Value& array) {
  REQUIRE(array.IsArray());
  Strings out;
  for (const rapidjson::Value& v : array.GetArray()) out.push_back(v.GetString());
  return out;
}

std::string Hex(const std::array<uint8_t, 32>& digest) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

ResourceInfo Widget(std::string group = "example.com", std::string version = "v1") {
  ResourceInfo info;
  info.group = std::move(group);
  info.version = std::move(version);
  info.resource = "widgets";
  info.singular = "widget";
  info.kind = "Widget";
  info.list_kind = "WidgetList";
  info.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  info.subresources = {{"status", "", "", "Widget", {"get", "patch", "update"}}};
  return info;
}

TEST_CASE("Find and FindByKind look up built-in resources") {
  ResourceTable table = BuiltinResources();

  const ResourceInfo* pods = table.Find("", "v1", "pods");
  REQUIRE(pods != nullptr);
  CHECK(pods->kind == "Pod");
  CHECK(pods->list_kind == "PodList");
  CHECK(pods->singular == "pod");
  CHECK(pods->namespaced);
  CHECK(pods->GroupVersion() == "v1");
  CHECK(pods->HasVerb("watch"));
  CHECK_FALSE(pods->HasVerb("proxy"));
  REQUIRE(pods->FindSubresource("exec") != nullptr);
  CHECK(pods->FindSubresource("exec")->verbs == Strings{"create", "get"});
  CHECK(pods->FindSubresource("resize") == nullptr);

  const ResourceInfo* deploy = table.Find("apps", "v1", "deployments");
  REQUIRE(deploy != nullptr);
  CHECK(deploy->GroupVersion() == "apps/v1");
  CHECK(table.FindByKind("apps", "v1", "Deployment") == deploy);
  const SubresourceInfo* scale = deploy->FindSubresource("scale");
  REQUIRE(scale != nullptr);
  CHECK(scale->group == "autoscaling");
  CHECK(scale->version == "v1");
  CHECK(scale->kind == "Scale");

  const ResourceInfo* ns = table.Find("", "v1", "namespaces");
  REQUIRE(ns != nullptr);
  CHECK_FALSE(ns->namespaced);
  CHECK_FALSE(ns->HasVerb("deletecollection"));
  REQUIRE(ns->FindSubresource("finalize") != nullptr);
  CHECK(ns->FindSubresource("finalize")->verbs == Strings{"update"});

  CHECK(table.Find("", "v1", "deployments") == nullptr);
  CHECK(table.Find("apps", "v2", "deployments") == nullptr);
  CHECK(table.Find("", "v1", "componentstatuses") == nullptr);
  CHECK(table.FindByKind("", "v1", "Deployment") == nullptr);
  CHECK(table.FindByKind("", "v1", "Event")->resource == "events");
  CHECK(table.FindByKind("events.k8s.io", "v1", "Event")->resource == "events");

  for (const char* version : {"v1", "v2"}) {
    const ResourceInfo* hpa = table.Find("autoscaling", version, "horizontalpodautoscalers");
    REQUIRE(hpa != nullptr);
    CHECK(hpa->short_names == Strings{"hpa"});
  }
  for (const char* review : {"tokenreviews", "selfsubjectreviews"}) {
    const ResourceInfo* r = table.Find("authentication.k8s.io", "v1", review);
    REQUIRE(r != nullptr);
    CHECK(r->verbs == Strings{"create"});
  }
  CHECK(table.Find("authorization.k8s.io", "v1", "localsubjectaccessreviews")->namespaced);
  CHECK_FALSE(table.Find("authorization.k8s.io", "v1", "subjectaccessreviews")->namespaced);
}

TEST_CASE("every built-in resource is fully described") {
  ResourceTable table = BuiltinResources();
  CHECK(table.size() == 49);
  for (const ResourceInfo& info : table.All()) {
    INFO(info.GroupVersion() << " " << info.resource);
    CHECK_FALSE(info.version.empty());
    CHECK_FALSE(info.kind.empty());
    CHECK(info.list_kind == info.kind + "List");
    CHECK_FALSE(info.singular.empty());
    CHECK_FALSE(info.verbs.empty());
    CHECK(std::is_sorted(info.verbs.begin(), info.verbs.end()));
    CHECK(table.Find(info.group, info.version, info.resource) == &info);
    CHECK(table.FindByKind(info.group, info.version, info.kind) == &info);
    for (const SubresourceInfo& sub : info.subresources) {
      INFO("subresource " << sub.name);
      CHECK_FALSE(sub.kind.empty());
      CHECK_FALSE(sub.verbs.empty());
      CHECK(std::is_sorted(sub.verbs.begin(), sub.verbs.end()));
    }
  }
}

TEST_CASE("short names map to exactly one resource name") {
  ResourceTable table = BuiltinResources();
  std::map<std::string, std::set<std::string>> targets;
  std::set<std::string> plurals;
  for (const ResourceInfo& info : table.All()) {
    plurals.insert(info.resource);
    for (const std::string& s : info.short_names) targets[s].insert(info.resource);
  }
  for (const auto& [short_name, names] : targets) {
    INFO(short_name);
    CHECK(names.size() == 1);
    CHECK(plurals.count(short_name) == 0);  // never shadows a plural name
  }
  const std::map<std::string, std::string> expected = {
      {"cm", "configmaps"},
      {"ep", "endpoints"},
      {"ev", "events"},
      {"limits", "limitranges"},
      {"ns", "namespaces"},
      {"no", "nodes"},
      {"pvc", "persistentvolumeclaims"},
      {"pv", "persistentvolumes"},
      {"po", "pods"},
      {"rc", "replicationcontrollers"},
      {"quota", "resourcequotas"},
      {"sa", "serviceaccounts"},
      {"svc", "services"},
      {"ds", "daemonsets"},
      {"deploy", "deployments"},
      {"rs", "replicasets"},
      {"sts", "statefulsets"},
      {"hpa", "horizontalpodautoscalers"},
      {"cj", "cronjobs"},
      {"ing", "ingresses"},
      {"netpol", "networkpolicies"},
      {"pdb", "poddisruptionbudgets"},
      {"pc", "priorityclasses"},
      {"sc", "storageclasses"},
      {"crd", "customresourcedefinitions"},
      {"crds", "customresourcedefinitions"},
      {"csr", "certificatesigningrequests"},
  };
  for (const auto& [short_name, plural] : expected) {
    INFO(short_name);
    REQUIRE(targets.count(short_name) == 1);
    CHECK(*targets[short_name].begin() == plural);
  }
  CHECK(targets.size() == expected.size());
}

TEST_CASE("category all is exactly where Kubernetes puts it") {
  ResourceTable table = BuiltinResources();
  std::set<std::string> in_all;
  for (const ResourceInfo& info : table.All()) {
    if (std::find(info.categories.begin(), info.categories.end(), "all") != info.categories.end()) {
      in_all.insert(info.resource);
    }
  }
  CHECK(in_all == std::set<std::string>{"pods", "replicationcontrollers", "services", "daemonsets",
                                        "deployments", "replicasets", "statefulsets",
                                        "horizontalpodautoscalers", "cronjobs", "jobs"});
  CHECK(table.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")->categories ==
        Strings{"api-extensions"});
}

TEST_CASE("groups come in kube-apiserver's order, preferred version first") {
  ResourceTable table = BuiltinResources();
  Strings names;
  for (const GroupInfo& g : table.Groups()) names.push_back(g.name);
  CHECK(names == Strings{"", "apps", "events.k8s.io", "authentication.k8s.io",
                         "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
                         "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
                         "storage.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
                         "coordination.k8s.io", "discovery.k8s.io"});
  std::optional<GroupInfo> autoscaling = table.FindGroup("autoscaling");
  REQUIRE(autoscaling);
  CHECK(autoscaling->versions == Strings{"v2", "v1"});
  CHECK_FALSE(table.FindGroup("example.com"));

  // Added groups follow the built-in ones, sorted by name whatever the order of Add().
  ResourceTable extended = table;
  REQUIRE(extended.Add(Widget("zeta.example.com")).ok());
  REQUIRE(extended.Add(Widget("alpha.example.com", "v1beta1")).ok());
  REQUIRE(extended.Add(Widget("alpha.example.com", "v1")).ok());
  REQUIRE(extended.Add(Widget("alpha.example.com", "v2alpha1")).ok());
  std::vector<GroupInfo> groups = extended.Groups();
  REQUIRE(groups.size() == names.size() + 2);
  CHECK(groups[names.size()].name == "alpha.example.com");
  CHECK(groups[names.size()].versions == Strings{"v1", "v1beta1", "v2alpha1"});
  CHECK(groups[names.size() + 1].name == "zeta.example.com");
  // Copying the table left the original alone, and asking twice gives the same answer.
  CHECK(table.Groups().size() == names.size());
  Strings first, again;
  for (const GroupInfo& g : groups) first.push_back(g.name);
  for (const GroupInfo& g : extended.Groups()) again.push_back(g.name);
  CHECK(again == first);
}

TEST_CASE("Add rejects duplicates and incomplete entries") {
  ResourceTable table;
  REQUIRE(table.Add(Widget()).ok());
  CHECK(table.Add(Widget()).code() == StatusCode::kAlreadyExists);

  ResourceInfo same_kind = Widget();
  same_kind.resource = "gadgets";
  CHECK(table.Add(same_kind).code() == StatusCode::kAlreadyExists);

  ResourceInfo no_kind = Widget("other.example.com");
  no_kind.kind.clear();
  Status status = table.Add(no_kind);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message().find("kind") != std::string::npos);

  ResourceInfo no_verbs = Widget("other.example.com");
  no_verbs.verbs.clear();
  CHECK(table.Add(no_verbs).code() == StatusCode::kInvalidArgument);

  ResourceInfo twice = Widget("other.example.com");
  twice.subresources.push_back(twice.subresources.front());
  CHECK(table.Add(twice).code() == StatusCode::kInvalidArgument);

  CHECK(table.size() == 1);
  CHECK(table.Find("other.example.com", "v1", "widgets") == nullptr);
}

TEST_CASE("ResourcesOf lists one group version sorted by name") {
  ResourceTable table = BuiltinResources();
  Strings apps;
  for (const ResourceInfo* r : table.ResourcesOf("apps", "v1")) apps.push_back(r->resource);
  CHECK(apps ==
        Strings{"controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"});
  Strings batch;
  for (const ResourceInfo* r : table.ResourcesOf("batch", "v1")) batch.push_back(r->resource);
  CHECK(batch == Strings{"cronjobs", "jobs"});
  CHECK(table.ResourcesOf("apps", "v2").empty());
  CHECK(table.ResourcesOf("nope", "v1").empty());
  CHECK(table.ResourcesOf("", "v1").size() == 16);
}

TEST_CASE("versions are ordered the Kubernetes way") {
  Strings versions = {"foo10", "v1alpha1", "v11alpha2", "v1",  "v3beta1", "foo1",
                      "v2",    "v10beta3", "v12alpha1", "v10", "v11beta2"};
  std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
    return CompareVersionPriority(a, b) < 0;
  });
  CHECK(versions == Strings{"v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1",
                            "v11alpha2", "v1alpha1", "foo1", "foo10"});
  CHECK(CompareVersionPriority("v1", "v1") == 0);
  CHECK(CompareVersionPriority("v1beta", "v1beta1") > 0);  // "v1beta" is not a kube version
}

TEST_CASE("Sha256 and StorageVersionHash match the published values") {
  CHECK(Hex(Sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Hex(Sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Values kube-apiserver reports in discovery.
  CHECK(StorageVersionHash("", "v1", "Pod") == "xPOwRZ+Yhw8=");
  CHECK(StorageVersionHash("", "v1", "ConfigMap") == "qFsyl6wFWjQ=");
  CHECK(StorageVersionHash("apps", "v1", "Deployment") == "8aSe+NMegvE=");
  CHECK(StorageVersionHash("autoscaling", "v2", "HorizontalPodAutoscaler") == "qwQve8ut294=");
}

TEST_CASE("GET /api and GET /apis legacy documents") {
  ResourceTable table = BuiltinResources();

  rapidjson::Document api = Parse(LegacyApiVersions("10.0.0.1:6443"));
  CHECK(std::string(api["kind"].GetString()) == "APIVersions");
  CHECK(StringsOf(api["versions"]) == Strings{"v1"});
  const rapidjson::Value& cidr = api["serverAddressByClientCIDRs"][0];
  CHECK(std::string(cidr["clientCIDR"].GetString()) == "0.0.0.0/0");
  CHECK(std::string(cidr["serverAddress"].GetString()) == "10.0.0.1:6443");

  rapidjson::Document apis = Parse(ApiGroupList(table));
  CHECK(std::string(apis["kind"].GetString()) == "APIGroupList");
  CHECK(std::string(apis["apiVersion"].GetString()) == "v1");
  const rapidjson::Value& groups = apis["groups"];
  REQUIRE(groups.Size() == table.Groups().size() - 1);  // no core group
  CHECK(std::string(groups[0]["name"].GetString()) == "apps");
  CHECK(FindIn(groups, "name", "") == nullptr);
  const rapidjson::Value* autoscaling = FindIn(groups, "name", "autoscaling");
  REQUIRE(autoscaling != nullptr);
  CHECK(std::string((*autoscaling)["versions"][0]["groupVersion"].GetString()) == "autoscaling/v2");
  CHECK(std::string((*autoscaling)["versions"][1]["version"].GetString()) == "v1");
  CHECK(std::string((*autoscaling)["preferredVersion"]["groupVersion"].GetString()) ==
        "autoscaling/v2");

  Result<std::string> group = ApiGroup(table, "batch");
  REQUIRE(group.ok());
  rapidjson::Document batch = Parse(*group);
  CHECK(std::string(batch["kind"].GetString()) == "APIGroup");
  CHECK(std::string(batch["name"].GetString()) == "batch");
  CHECK(std::string(batch["preferredVersion"]["version"].GetString()) == "v1");
  CHECK(ApiGroup(table, "nope.example.com").status().code() == StatusCode::kNotFound);
  CHECK(ApiGroup(table, "").status().code() == StatusCode::kNotFound);
}

TEST_CASE("APIResourceList for /api/v1") {
  ResourceTable table = BuiltinResources();
  Result<std::string> json = ApiResourceList(table, "", "v1");
  REQUIRE(json.ok());
  rapidjson::Document doc = Parse(*json);
  CHECK(std::string(doc["kind"].GetString()) == "APIResourceList");
  CHECK_FALSE(doc.HasMember("apiVersion"));  // as kube-apiserver writes /api/v1
  CHECK(std::string(doc["groupVersion"].GetString()) == "v1");
  const rapidjson::Value& resources = doc["resources"];

  Strings names;
  for (const rapidjson::Value& r : resources.GetArray()) names.push_back(r["name"].GetString());
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(std::find(names.begin(), names.end(), "pods/exec") != names.end());

  const rapidjson::Value* pods = FindIn(resources, "name", "pods");
  REQUIRE(pods != nullptr);
  CHECK(std::string((*pods)["kind"].GetString()) == "Pod");
  CHECK(std::string((*pods)["singularName"].GetString()) == "pod");
  CHECK((*pods)["namespaced"].GetBool());
  CHECK(StringsOf((*pods)["shortNames"]) == Strings{"po"});
  CHECK(StringsOf((*pods)["categories"]) == Strings{"all"});
  CHECK(std::string((*pods)["storageVersionHash"].GetString()) == "xPOwRZ+Yhw8=");
  CHECK(StringsOf((*pods)["verbs"]) ==
        Strings{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"});
  CHECK_FALSE(pods->HasMember("group"));

  const rapidjson::Value* exec = FindIn(resources, "name", "pods/exec");
  REQUIRE(exec != nullptr);
  CHECK(std::string((*exec)["kind"].GetString()) == "PodExecOptions");
  CHECK(std::string((*exec)["singularName"].GetString()).empty());
  CHECK(StringsOf((*exec)["verbs"]) == Strings{"create", "get"});
  CHECK_FALSE(exec->HasMember("storageVersionHash"));

  const rapidjson::Value* eviction = FindIn(resources, "name", "pods/eviction");
  REQUIRE(eviction != nullptr);
  CHECK(std::string((*eviction)["group"].GetString()) == "policy");
  CHECK(std::string((*eviction)["version"].GetString()) == "v1");
  CHECK(std::string((*eviction)["kind"].GetString()) == "Eviction");

  const rapidjson::Value* token = FindIn(resources, "name", "serviceaccounts/token");
  REQUIRE(token != nullptr);
  CHECK(std::string((*token)["group"].GetString()) == "authentication.k8s.io");
  CHECK(std::string((*token)["kind"].GetString()) == "TokenRequest");

  const rapidjson::Value* bindings = FindIn(resources, "name", "bindings");
  REQUIRE(bindings != nullptr);
  CHECK_FALSE(bindings->HasMember("storageVersionHash"));
  CHECK_FALSE(bindings->HasMember("shortNames"));

  const rapidjson::Value* nodes = FindIn(resources, "name", "nodes");
  REQUIRE(nodes != nullptr);
  CHECK_FALSE((*nodes)["namespaced"].GetBool());
  CHECK(FindIn(resources, "name", "nodes/proxy") != nullptr);
}

TEST_CASE("APIResourceList for a named group") {
  ResourceTable table = BuiltinResources();
  Result<std::string> json = ApiResourceList(table, "apps", "v1");
  REQUIRE(json.ok());
  rapidjson::Document doc = Parse(*json);
  CHECK(std::string(doc["apiVersion"].GetString()) == "v1");
  CHECK(std::string(doc["groupVersion"].GetString()) == "apps/v1");
  const rapidjson::Value* scale = FindIn(doc["resources"], "name", "deployments/scale");
  REQUIRE(scale != nullptr);
  CHECK(std::string((*scale)["group"].GetString()) == "autoscaling");
  CHECK(std::string((*scale)["version"].GetString()) == "v1");
  CHECK(std::string((*scale)["kind"].GetString()) == "Scale");
  const rapidjson::Value* status = FindIn(doc["resources"], "name", "deployments/status");
  REQUIRE(status != nullptr);
  CHECK_FALSE(status->HasMember("group"));
  CHECK(std::string((*status)["kind"].GetString()) == "Deployment");

  // Both HPA versions and both Event groups report the hash of the version they share.
  for (const char* version : {"v1", "v2"}) {
    rapidjson::Document hpa = Parse(*ApiResourceList(table, "autoscaling", version));
    const rapidjson::Value* r = FindIn(hpa["resources"], "name", "horizontalpodautoscalers");
    REQUIRE(r != nullptr);
    CHECK(std::string((*r)["storageVersionHash"].GetString()) == "qwQve8ut294=");
  }
  rapidjson::Document events = Parse(*ApiResourceList(table, "events.k8s.io", "v1"));
  CHECK(std::string(events["resources"][0]["storageVersionHash"].GetString()) == "r2yiGXH7wu8=");

  rapidjson::Document reviews = Parse(*ApiResourceList(table, "authentication.k8s.io", "v1"));
  const rapidjson::Value* tr = FindIn(reviews["resources"], "name", "tokenreviews");
  REQUIRE(tr != nullptr);
  CHECK(StringsOf((*tr)["verbs"]) == Strings{"create"});

  CHECK(ApiResourceList(table, "apps", "v2").status().code() == StatusCode::kNotFound);
  CHECK(ApiResourceList(table, "nope", "v1").status().code() == StatusCode::kNotFound);
}

TEST_CASE("aggregated discovery for /api has only the core group") {
  ResourceTable table = BuiltinResources();
  rapidjson::Document doc = Parse(AggregatedDiscovery(table, /*legacy_core=*/true));
  CHECK(std::string(doc["kind"].GetString()) == "APIGroupDiscoveryList");
  CHECK(std::string(doc["apiVersion"].GetString()) == "apidiscovery.k8s.io/v2");
  REQUIRE(doc["items"].Size() == 1);
  const rapidjson::Value& core = doc["items"][0];
  CHECK_FALSE(core["metadata"].HasMember("name"));
  CHECK(core["metadata"]["creationTimestamp"].IsNull());
  REQUIRE(core["versions"].Size() == 1);
  const rapidjson::Value& v1 = core["versions"][0];
  CHECK(std::string(v1["version"].GetString()) == "v1");
  CHECK(std::string(v1["freshness"].GetString()) == "Current");

  const rapidjson::Value* pods = FindIn(v1["resources"], "resource", "pods");
  REQUIRE(pods != nullptr);
  CHECK(std::string((*pods)["responseKind"]["kind"].GetString()) == "Pod");
  CHECK(std::string((*pods)["responseKind"]["group"].GetString()).empty());
  CHECK(std::string((*pods)["scope"].GetString()) == "Namespaced");
  CHECK(std::string((*pods)["singularResource"].GetString()) == "pod");
  CHECK(StringsOf((*pods)["shortNames"]) == Strings{"po"});
  CHECK(StringsOf((*pods)["categories"]) == Strings{"all"});
  const rapidjson::Value* exec = FindIn((*pods)["subresources"], "subresource", "exec");
  REQUIRE(exec != nullptr);
  CHECK(StringsOf((*exec)["verbs"]) == Strings{"create", "get"});
  CHECK(std::string((*exec)["responseKind"]["kind"].GetString()) == "PodExecOptions");
  const rapidjson::Value* eviction = FindIn((*pods)["subresources"], "subresource", "eviction");
  REQUIRE(eviction != nullptr);
  CHECK(std::string((*eviction)["responseKind"]["group"].GetString()) == "policy");

  Strings subs;
  for (const rapidjson::Value& s : (*pods)["subresources"].GetArray()) {
    subs.push_back(s["subresource"].GetString());
  }
  CHECK(subs == Strings{"attach", "binding", "ephemeralcontainers", "eviction", "exec", "log",
                        "portforward", "proxy", "status"});

  const rapidjson::Value* ns = FindIn(v1["resources"], "resource", "namespaces");
  REQUIRE(ns != nullptr);
  CHECK(std::string((*ns)["scope"].GetString()) == "Cluster");
  const rapidjson::Value* secrets = FindIn(v1["resources"], "resource", "secrets");
  REQUIRE(secrets != nullptr);
  CHECK_FALSE(secrets->HasMember("shortNames"));
  CHECK_FALSE(secrets->HasMember("subresources"));
}

TEST_CASE("aggregated discovery for /apis has every other group") {
  ResourceTable table = BuiltinResources();
  rapidjson::Document doc = Parse(AggregatedDiscovery(table, /*legacy_core=*/false));
  const rapidjson::Value& items = doc["items"];
  Strings names;
  for (const rapidjson::Value& item : items.GetArray()) {
    names.push_back(item["metadata"]["name"].GetString());
  }
  Strings expected;
  for (const GroupInfo& g : table.Groups()) {
    if (!g.name.empty()) expected.push_back(g.name);
  }
  CHECK(names == expected);

  const rapidjson::Value& apps = items[0];
  const rapidjson::Value* deployments =
      FindIn(apps["versions"][0]["resources"], "resource", "deployments");
  REQUIRE(deployments != nullptr);
  CHECK(StringsOf((*deployments)["shortNames"]) == Strings{"deploy"});
  const rapidjson::Value* scale = FindIn((*deployments)["subresources"], "subresource", "scale");
  REQUIRE(scale != nullptr);
  CHECK(std::string((*scale)["responseKind"]["group"].GetString()) == "autoscaling");
  CHECK(std::string((*scale)["responseKind"]["version"].GetString()) == "v1");
  CHECK(std::string((*scale)["responseKind"]["kind"].GetString()) == "Scale");
  const rapidjson::Value* status = FindIn((*deployments)["subresources"], "subresource", "status");
  REQUIRE(status != nullptr);
  CHECK(std::string((*status)["responseKind"]["kind"].GetString()) == "Deployment");
  CHECK(StringsOf((*status)["verbs"]) == Strings{"get", "patch", "update"});

  bool saw_autoscaling = false;
  for (const rapidjson::Value& item : items.GetArray()) {
    if (std::string(item["metadata"]["name"].GetString()) != "autoscaling") continue;
    saw_autoscaling = true;
    REQUIRE(item["versions"].Size() == 2);
    CHECK(std::string(item["versions"][0]["version"].GetString()) == "v2");
    CHECK(std::string(item["versions"][1]["version"].GetString()) == "v1");
  }
  CHECK(saw_autoscaling);

  rapidjson::Document beta = Parse(AggregatedDiscovery(table, false, AggregatedVersion::kV2Beta1));
  CHECK(std::string(beta["apiVersion"].GetString()) == "apidiscovery.k8s.io/v2beta1");
  CHECK(beta["items"].Size() == items.Size());
  CHECK(AggregatedContentType(AggregatedVersion::kV2) ==
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  CHECK(AggregatedContentType(AggregatedVersion::kV2Beta1) ==
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
}

TEST_CASE("discovery reflects resources added to a table") {
  ResourceTable table = BuiltinResources();
  REQUIRE(table.Add(Widget()).ok());
  rapidjson::Document doc = Parse(AggregatedDiscovery(table, false));
  const rapidjson::Value& items = doc["items"];
  const rapidjson::Value& last = items[items.Size() - 1];
  CHECK(std::string(last["metadata"]["name"].GetString()) == "example.com");
  const rapidjson::Value& widget = last["versions"][0]["resources"][0];
  CHECK(std::string(widget["resource"].GetString()) == "widgets");
  CHECK(std::string(widget["subresources"][0]["responseKind"]["kind"].GetString()) == "Widget");

  rapidjson::Document list = Parse(*ApiResourceList(table, "example.com", "v1"));
  CHECK(std::string(list["resources"][0]["storageVersionHash"].GetString()) ==
        StorageVersionHash("example.com", "v1", "Widget"));
  rapidjson::Document group_list = Parse(ApiGroupList(table));
  const rapidjson::Value& groups = group_list["groups"];
  CHECK(std::string(groups[groups.Size() - 1]["name"].GetString()) == "example.com");
}

}  // namespace
}  // namespace kite::resources
