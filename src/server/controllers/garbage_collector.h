// The garbage collector: objects whose owners (metadata.ownerReferences) are all gone are
// deleted; references to owners that are gone are removed; and the two deletion modes
// that wait for it are carried out —
//  - Orphan (finalizer "orphan"): the owner's dependents lose their reference to it, then
//    the finalizer is removed (and the owner goes);
//  - Foreground (finalizer "foregroundDeletion"): the dependents are deleted (in the
//    foreground themselves when they have dependents), and once none that blocks owner
//    deletion is left, the finalizer is removed.
// Background deletion needs nothing more: the owner is gone at once and its dependents
// follow as their owners are found missing.
//
// An owner is only considered gone after a live read from the API confirms it (the caches
// of different resources are not in step with each other).
//
// The dependency graph (uid → object, owner uid → dependents) is built from the informers
// of every resource that can be listed, watched and deleted (events excepted, as in
// Kubernetes). Queue keys are uids.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

// A resource the collector watches: where it lives and the kind its objects have.
struct GcResource {
  client::ResourceRef ref;
  std::string api_version;  // "apps/v1", "v1"
  std::string kind;
};

// Every built-in resource the collector watches.
std::vector<GcResource> BuiltinGcResources();

class GarbageCollector final : public Controller {
 public:
  explicit GarbageCollector(std::vector<GcResource> resources);

  std::string_view Name() const override { return "garbagecollector"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& uid) override;
  int Workers() const override { return 2; }

 private:
  struct OwnerRef {
    std::string uid, api_version, kind, name;
    bool block_owner_deletion = false;
  };
  struct Node {
    const GcResource* resource = nullptr;
    std::string ns, name;
    std::vector<OwnerRef> owners;
    bool deleting = false;
    bool orphan_finalizer = false;
    bool foreground_finalizer = false;
  };

  void Observe(const GcResource* resource, const rapidjson::Value& object, WorkQueue& queue);
  void Forget(const rapidjson::Value& object, WorkQueue& queue);
  // The watched resource for an ownerReference's apiVersion and kind, or nullptr.
  const GcResource* ResourceOfKind(std::string_view api_version, std::string_view kind) const;
  // True when the owner exists: a live GET with the same uid.
  Result<bool> OwnerExists(const Node& dependent, const OwnerRef& owner) const;
  Status RemoveOwnerReferences(const Node& dependent, const std::vector<std::string>& owner_uids) const;
  Status RemoveFinalizer(const Node& node, std::string_view finalizer) const;
  Status DeleteObject(const Node& node, std::string_view uid, bool foreground) const;

  Status ProcessOrphaning(const std::string& uid, const Node& node);
  Status ProcessForeground(const std::string& uid, const Node& node);
  Status ProcessOwners(const std::string& uid, const Node& node);

  const std::vector<GcResource> resources_;
  client::InformerFactory* informers_ = nullptr;

  mutable Mutex mu_;
  std::map<std::string, Node> nodes_ GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> dependents_ GUARDED_BY(mu_);
};

}  // namespace kite::controllers
