// ResourceTable: the set of resources the API server serves, and the lookups the REST
// handlers and the discovery documents need.
//
// Operation: built once with Add() (BuiltinResources() plus, later, one entry per served
// version of each CustomResourceDefinition), then only read. When CRDs change the API
// server builds a new table and swaps it in whole (e.g. behind a
// std::shared_ptr<const ResourceTable>); a table is never edited while it is being served.
//
// Concurrency: const methods may run concurrently from any number of threads. Add() must not
// run concurrently with anything else on the same table.
//
// Pointers returned by Find()/FindByKind()/ResourcesOf() point into the table: they stay
// valid while the table lives and no Add() happens. The table is a copyable value.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "src/base/status.h"
#include "src/server/resources/resource_info.h"

namespace kite::resources {

class ResourceTable {
 public:
  ResourceTable() = default;

  // Adds one resource at one version.
  // Errors: kInvalidArgument when version, resource, singular, kind, list_kind or verbs are
  // empty, or a subresource has no name, kind or verbs, or two subresources share a name;
  // kAlreadyExists when group/version/resource is already in the table, or when
  // group/version/kind already names another resource.
  Status Add(ResourceInfo info);

  // The resource with this plural name, or nullptr. group is "" for core.
  const ResourceInfo* Find(std::string_view group, std::string_view version,
                           std::string_view resource) const;
  // The resource whose objects have this kind, or nullptr.
  const ResourceInfo* FindByKind(std::string_view group, std::string_view version,
                                 std::string_view kind) const;

  // Every group with its versions (preferred version first), in a stable order: the core
  // group "" first, then the built-in groups in the order kube-apiserver lists them at
  // /apis, then any other group (CustomResourceDefinitions) sorted by name, which is how
  // kube-apiserver orders groups of equal priority. Versions sort the Kubernetes way:
  // GA before beta before alpha, higher numbers first (v2, v1, v1beta2, v1beta1,
  // v1alpha1), then versions that do not look like Kubernetes versions, alphabetically.
  std::vector<GroupInfo> Groups() const;
  // The group `name` ("" for core), or nullopt when no resource of it is served.
  std::optional<GroupInfo> FindGroup(std::string_view name) const;

  // The resources of one group version, sorted by plural name; empty when none.
  std::vector<const ResourceInfo*> ResourcesOf(std::string_view group,
                                               std::string_view version) const;

  // Every resource, in the order added.
  const std::vector<ResourceInfo>& All() const { return resources_; }
  size_t size() const { return resources_.size(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // group, version, name
  using KeyView = std::tuple<std::string_view, std::string_view, std::string_view>;
  // Orders Key and KeyView alike, so that lookups need not copy their arguments.
  struct KeyLess {
    using is_transparent = void;
    static KeyView View(const Key& k) { return {std::get<0>(k), std::get<1>(k), std::get<2>(k)}; }
    static KeyView View(const KeyView& k) { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return View(a) < View(b);
    }
  };

  std::vector<ResourceInfo> resources_;
  // Indices into resources_, so that copying the table keeps them right.
  std::map<Key, size_t, KeyLess> by_resource_;
  std::map<Key, size_t, KeyLess> by_kind_;
};

// Orders two version strings as Kubernetes does for discovery: negative when `a` is
// preferred over `b` (v2 before v1 before v1beta1 before v1alpha1 before "foo").
int CompareVersionPriority(std::string_view a, std::string_view b);

// Every built-in resource Kite serves, described as Kubernetes 1.32 describes it in
// discovery: core/v1, apps/v1, autoscaling/v1+v2, batch/v1, coordination.k8s.io/v1,
// discovery.k8s.io/v1, events.k8s.io/v1, networking.k8s.io/v1, policy/v1,
// rbac.authorization.k8s.io/v1, scheduling.k8s.io/v1, storage.k8s.io/v1,
// apiextensions.k8s.io/v1, authentication.k8s.io/v1, authorization.k8s.io/v1,
// certificates.k8s.io/v1. Not served (absent): componentstatuses, pods/resize,
// csistoragecapacities, admissionregistration.k8s.io, flowcontrol.apiserver.k8s.io,
// node.k8s.io, apiregistration.k8s.io.
// (Defined in builtin_resources.cc.)
ResourceTable BuiltinResources();

}  // namespace kite::resources
