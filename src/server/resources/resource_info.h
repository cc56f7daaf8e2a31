// ResourceInfo: how one served resource is described to clients (kubectl, client-go).
//
// Plain values, copied freely. The fields carry what Kubernetes discovery reports for a
// resource: its names, scope, verbs, short names, categories and subresources. A resource
// served at two versions (autoscaling/v1 and v2 horizontalpodautoscalers) is two entries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kite::resources {

// A subresource such as pods/status or deployments/scale.
struct SubresourceInfo {
  // "status", "scale", "binding", "eviction", "log", "exec", "attach", "portforward",
  // "token", "proxy", "finalize", "approval", "ephemeralcontainers".
  std::string name;
  // The kind sent and returned, e.g. scale → autoscaling/v1 Scale; status → the parent's
  // kind. Empty group and version mean "the parent's group and version".
  std::string group, version, kind;
  // As Kubernetes lists them (sorted), e.g. {"get","patch","update"}; exec: {"create","get"}.
  std::vector<std::string> verbs;
};

struct ResourceInfo {
  std::string group;      // "" for the core group
  std::string version;    // "v1", "v2"
  std::string resource;   // plural, lower case: "deployments"
  std::string singular;   // "deployment"
  std::string kind;       // "Deployment"
  std::string list_kind;  // "DeploymentList"
  bool namespaced = true;
  // create delete deletecollection get list patch update watch, sorted as Kubernetes
  // lists them; create-only resources (tokenreviews) list just "create".
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;  // "deploy"
  std::vector<std::string> categories;   // "all"
  std::vector<SubresourceInfo> subresources;
  // The storageVersionHash of discovery. Empty: computed by StorageVersionHash() from this
  // entry's own group/version/kind when the resource is persisted (it has the verb "get");
  // set it where the stored version differs (autoscaling/v1 HPAs are stored as v2).
  std::string storage_version_hash;

  // "apps/v1", or "v1" for the core group.
  std::string GroupVersion() const;
  bool HasVerb(std::string_view verb) const;
  // The subresource called `name`, or nullptr.
  const SubresourceInfo* FindSubresource(std::string_view name) const;
};

// One API group as /apis lists it.
struct GroupInfo {
  std::string name;                   // "" for the core group
  std::vector<std::string> versions;  // preferred first
};

// Kubernetes' storage version hash: base64 of the first 8 bytes of
// SHA-256("<group>/<version>/<kind>") of the version objects are stored in. Clients only
// compare it for equality (to notice a storage version change).
std::string StorageVersionHash(std::string_view group, std::string_view version,
                               std::string_view kind);

}  // namespace kite::resources
