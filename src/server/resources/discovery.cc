#include "src/server/resources/discovery.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace kite::resources {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Key(Writer& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
void Str(Writer& w, std::string_view value) {
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void Field(Writer& w, std::string_view key, std::string_view value) {
  Key(w, key);
  Str(w, value);
}
void StringArray(Writer& w, std::string_view key, const std::vector<std::string>& values) {
  Key(w, key);
  w.StartArray();
  for (const std::string& v : values) Str(w, v);
  w.EndArray();
}

std::string GroupVersionString(std::string_view group, std::string_view version) {
  if (group.empty()) return std::string(version);
  return std::string(group) + "/" + std::string(version);
}

// The group and version of a subresource's kind when they differ from its parent's (as for
// scale → autoscaling/v1); both empty otherwise, which is how Kubernetes says "same".
std::pair<std::string, std::string> ForeignGroupVersion(const ResourceInfo& parent,
                                                        const SubresourceInfo& sub) {
  if (sub.group.empty() && sub.version.empty()) return {};
  if (sub.group == parent.group && sub.version == parent.version) return {};
  return {sub.group, sub.version};
}

std::string StorageHashOf(const ResourceInfo& info) {
  if (!info.storage_version_hash.empty()) return info.storage_version_hash;
  // Only persisted resources have a storage version; create-only reviews do not.
  if (!info.HasVerb("get")) return "";
  return StorageVersionHash(info.group, info.version, info.kind);
}

std::vector<const SubresourceInfo*> SortedSubresources(const ResourceInfo& info) {
  std::vector<const SubresourceInfo*> subs;
  for (const SubresourceInfo& sub : info.subresources) subs.push_back(&sub);
  std::sort(subs.begin(), subs.end(),
            [](const SubresourceInfo* a, const SubresourceInfo* b) { return a->name < b->name; });
  return subs;
}

// {"groupVersion":"apps/v1","version":"v1"}
void GroupVersionForDiscovery(Writer& w, std::string_view group, std::string_view version) {
  w.StartObject();
  Field(w, "groupVersion", GroupVersionString(group, version));
  Field(w, "version", version);
  w.EndObject();
}

// The body of an APIGroup (name, versions, preferredVersion), shared by /apis and
// /apis/<group>.
void GroupBody(Writer& w, const GroupInfo& group) {
  Field(w, "name", group.name);
  Key(w, "versions");
  w.StartArray();
  for (const std::string& v : group.versions) GroupVersionForDiscovery(w, group.name, v);
  w.EndArray();
  Key(w, "preferredVersion");
  GroupVersionForDiscovery(w, group.name, group.versions.front());
}

// One metav1.APIResource, fields in the order Kubernetes encodes them.
struct ApiResourceEntry {
  std::string name;
  std::string singular;
  bool namespaced = false;
  std::string group, version;  // only for a subresource of another group's kind
  std::string kind;
  const std::vector<std::string>* verbs = nullptr;
  const std::vector<std::string>* short_names = nullptr;
  const std::vector<std::string>* categories = nullptr;
  std::string storage_hash;
};

void WriteApiResource(Writer& w, const ApiResourceEntry& e) {
  w.StartObject();
  Field(w, "name", e.name);
  Field(w, "singularName", e.singular);
  Key(w, "namespaced");
  w.Bool(e.namespaced);
  if (!e.group.empty()) Field(w, "group", e.group);
  if (!e.version.empty()) Field(w, "version", e.version);
  Field(w, "kind", e.kind);
  StringArray(w, "verbs", *e.verbs);
  if (e.short_names != nullptr && !e.short_names->empty()) {
    StringArray(w, "shortNames", *e.short_names);
  }
  if (e.categories != nullptr && !e.categories->empty()) {
    StringArray(w, "categories", *e.categories);
  }
  if (!e.storage_hash.empty()) Field(w, "storageVersionHash", e.storage_hash);
  w.EndObject();
}

void ResponseKind(Writer& w, std::string_view group, std::string_view version,
                  std::string_view kind) {
  Key(w, "responseKind");
  w.StartObject();
  Field(w, "group", group);
  Field(w, "version", version);
  Field(w, "kind", kind);
  w.EndObject();
}

// One apidiscovery APIResourceDiscovery.
void WriteResourceDiscovery(Writer& w, const ResourceInfo& info) {
  w.StartObject();
  Field(w, "resource", info.resource);
  // Kubernetes leaves group and version empty here: they are the enclosing group version's.
  ResponseKind(w, "", "", info.kind);
  Field(w, "scope", info.namespaced ? "Namespaced" : "Cluster");
  Field(w, "singularResource", info.singular);
  StringArray(w, "verbs", info.verbs);
  if (!info.short_names.empty()) StringArray(w, "shortNames", info.short_names);
  if (!info.categories.empty()) StringArray(w, "categories", info.categories);
  if (!info.subresources.empty()) {
    Key(w, "subresources");
    w.StartArray();
    for (const SubresourceInfo* sub : SortedSubresources(info)) {
      auto [group, version] = ForeignGroupVersion(info, *sub);
      w.StartObject();
      Field(w, "subresource", sub->name);
      ResponseKind(w, group, version, sub->kind);
      StringArray(w, "verbs", sub->verbs);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

void WriteGroupDiscovery(Writer& w, const ResourceTable& table, const GroupInfo& group) {
  w.StartObject();
  Key(w, "metadata");
  w.StartObject();
  if (!group.name.empty()) Field(w, "name", group.name);  // omitempty, as in Kubernetes
  Key(w, "creationTimestamp");
  w.Null();
  w.EndObject();
  Key(w, "versions");
  w.StartArray();
  for (const std::string& version : group.versions) {
    w.StartObject();
    Field(w, "version", version);
    Key(w, "resources");
    w.StartArray();
    for (const ResourceInfo* info : table.ResourcesOf(group.name, version)) {
      WriteResourceDiscovery(w, *info);
    }
    w.EndArray();
    Field(w, "freshness", "Current");
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string LegacyApiVersions(std::string_view server_address) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Field(w, "kind", "APIVersions");
  StringArray(w, "versions", {"v1"});
  Key(w, "serverAddressByClientCIDRs");
  w.StartArray();
  w.StartObject();
  Field(w, "clientCIDR", "0.0.0.0/0");
  Field(w, "serverAddress", server_address);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ApiGroupList(const ResourceTable& table) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Field(w, "kind", "APIGroupList");
  Field(w, "apiVersion", "v1");
  Key(w, "groups");
  w.StartArray();
  for (const GroupInfo& group : table.Groups()) {
    if (group.name.empty()) continue;  // the core group is served at /api
    w.StartObject();
    GroupBody(w, group);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<std::string> ApiGroup(const ResourceTable& table, std::string_view group) {
  std::optional<GroupInfo> info;
  if (!group.empty()) info = table.FindGroup(group);
  if (!info) return NotFoundError("the server could not find the requested resource");
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Field(w, "kind", "APIGroup");
  Field(w, "apiVersion", "v1");
  GroupBody(w, *info);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<std::string> ApiResourceList(const ResourceTable& table, std::string_view group,
                                    std::string_view version) {
  std::vector<const ResourceInfo*> resources = table.ResourcesOf(group, version);
  if (resources.empty()) {
    return NotFoundError("the server could not find the requested resource");
  }

  std::vector<ApiResourceEntry> entries;
  for (const ResourceInfo* info : resources) {
    ApiResourceEntry e;
    e.name = info->resource;
    e.singular = info->singular;
    e.namespaced = info->namespaced;
    e.kind = info->kind;
    e.verbs = &info->verbs;
    e.short_names = &info->short_names;
    e.categories = &info->categories;
    e.storage_hash = StorageHashOf(*info);
    entries.push_back(std::move(e));
    for (const SubresourceInfo& sub : info->subresources) {
      ApiResourceEntry s;
      s.name = info->resource + "/" + sub.name;
      s.namespaced = info->namespaced;  // singularName stays "", as Kubernetes sends it
      std::tie(s.group, s.version) = ForeignGroupVersion(*info, sub);
      s.kind = sub.kind;
      s.verbs = &sub.verbs;
      entries.push_back(std::move(s));
    }
  }
  // Kubernetes lists the paths sorted as strings: "pods", "pods/attach", ..., "podtemplates".
  std::sort(entries.begin(), entries.end(),
            [](const ApiResourceEntry& a, const ApiResourceEntry& b) { return a.name < b.name; });

  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Field(w, "kind", "APIResourceList");
  // kube-apiserver omits apiVersion for the legacy /api/v1 list only.
  if (!group.empty()) Field(w, "apiVersion", "v1");
  Field(w, "groupVersion", GroupVersionString(group, version));
  Key(w, "resources");
  w.StartArray();
  for (const ApiResourceEntry& e : entries) WriteApiResource(w, e);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string AggregatedDiscovery(const ResourceTable& table, bool legacy_core,
                                AggregatedVersion version) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Field(w, "kind", "APIGroupDiscoveryList");
  Field(
      w, "apiVersion",
      version == AggregatedVersion::kV2 ? "apidiscovery.k8s.io/v2" : "apidiscovery.k8s.io/v2beta1");
  Key(w, "metadata");
  w.StartObject();
  w.EndObject();
  Key(w, "items");
  w.StartArray();
  for (const GroupInfo& group : table.Groups()) {
    if (group.name.empty() != legacy_core) continue;
    WriteGroupDiscovery(w, table, group);
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string_view AggregatedContentType(AggregatedVersion version) {
  return version == AggregatedVersion::kV2
             ? "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
             : "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
}

}  // namespace kite::resources
