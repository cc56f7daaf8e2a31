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
// of different resources are not in step with each other), and a dependent is only changed
// or deleted when a live read of it shows the owners its cache shows (the delete carries
// that read's resourceVersion as precondition besides the uid). An owner of a kind nothing
// here watches (no built-in resource, no Established CRD) is assumed to exist: deleting on
// a guess would lose data.
//
// The dependency graph (uid → object, owner uid → dependents) is built from the informers
// of every built-in resource that can be listed, watched and deleted (events excepted, as
// in Kubernetes), and of every Established CRD's resource, namespaced or cluster-scoped
// (apiVersion <group>/<served version>, kind from status.acceptedNames or spec.names).
// Those are subscribed to (InformerFactory::Subscribe) by the CRD informer's handlers when
// the CRD is Established; when it is deleted, stops being Established or serves another
// version or kind, the subscription is dropped (which stops the informer when nobody else
// uses it) and the resource's objects leave the graph. When a CRD starts being watched,
// the objects with owners of its kind are looked at again (until then those owners were
// assumed to exist); until its informer has listed, such owners are not looked up (a 404
// could mean "not served yet") and the dependents are looked at again every 250 ms.
//
// Patches: built-in objects get strategic merge patches (ownerReferences deleted by uid,
// finalizers by value). Custom resources take no strategic merge patch, so — as upstream's
// collector does — their ownerReferences and finalizers are read live and written whole
// with a JSON merge patch carrying the read resourceVersion as precondition (after checking
// the uid is still the same object); a conflict reads again.
//
// Queue keys are uids.
// Thread-safety: Register once before the informers start; handlers, the CRD informer's
// thread and any number of Reconcile workers share the graph and the resource list under
// their mutexes (never both held).
#pragma once

#include <functional>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

// A resource the collector watches: where it lives and the kind its objects have.
struct GcResource {
  client::ResourceRef ref;
  std::string api_version;  // "apps/v1", "v1"
  std::string kind;
  // Served from a CRD: takes JSON merge patches, not strategic ones.
  bool custom = false;

  bool operator==(const GcResource& other) const {
    return ref.group == other.ref.group && ref.version == other.ref.version && ref.resource == other.ref.resource &&
           ref.namespaced == other.ref.namespaced && api_version == other.api_version && kind == other.kind &&
           custom == other.custom;
  }
};

// Every built-in resource the collector watches.
std::vector<GcResource> BuiltinGcResources();

class GarbageCollector final : public Controller {
 public:
  // `resources`: the built-in resources to watch (BuiltinGcResources()); CRDs' resources
  // are added as they come.
  explicit GarbageCollector(std::vector<GcResource> resources);
  ~GarbageCollector() override;

  std::string_view Name() const override { return "garbagecollector"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& uid) override;
  int Workers() const override { return 2; }

 private:
  struct OwnerRef {
    std::string uid, api_version, kind, name;
    bool block_owner_deletion = false;
    bool operator==(const OwnerRef&) const = default;
  };
  struct Node {
    const GcResource* resource = nullptr;
    std::string ns, name;
    std::vector<OwnerRef> owners;
    bool deleting = false;
    bool orphan_finalizer = false;
    bool foreground_finalizer = false;
    bool operator==(const Node&) const = default;
  };
  // A CRD's resource being watched.
  struct Watched {
    const GcResource* resource = nullptr;
    client::Subscription subscription;
  };
  // Fills `patch_metadata` (a JSON merge patch's metadata) from the live `metadata`; false
  // when nothing needs to change.
  using MetadataEdit =
      std::function<bool(const rapidjson::Value& metadata, rapidjson::Value& patch_metadata,
                         rapidjson::Document::AllocatorType& allocator)>;

  client::InformerHandlers HandlersFor(const GcResource* resource);
  void Observe(const GcResource* resource, const rapidjson::Value& object) EXCLUDES(mu_);
  void Forget(const std::string& uid) EXCLUDES(mu_);
  // Watches, keeps, changes or stops watching the resource of the CRD `name` to match `crd`
  // (nullptr: deleted). From the CRD informer's handlers only (one thread).
  void SyncCrd(const std::string& name, const rapidjson::Value* crd) EXCLUDES(mu_, resources_mu_);
  // Drops every node of `resource` from the graph (its informer is gone).
  void Purge(const GcResource* resource) EXCLUDES(mu_);
  // Queues the objects that name an owner of `resource`'s group and kind.
  void RecheckOwnersOfKind(const GcResource& resource) EXCLUDES(mu_);
  // The watched resource for an ownerReference's apiVersion and kind, or nullptr; `synced`
  // says whether its cache has listed (always true for built-in ones).
  const GcResource* ResourceOfKind(std::string_view api_version, std::string_view kind, bool* synced) const
      EXCLUDES(resources_mu_);
  enum class OwnerState {
    kExists,
    kGone,
    kNotYetKnown,  // its CRD's informer has not listed yet
  };
  // Whether the owner exists: a live GET with the same uid.
  Result<OwnerState> OwnerExists(const Node& dependent, const OwnerRef& owner) const;
  Status RemoveOwnerReferences(const Node& dependent, std::string_view dependent_uid,
                               const std::vector<std::string>& owner_uids) const;
  Status RemoveFinalizer(const Node& node, std::string_view uid, std::string_view finalizer) const;
  // `resource_version` (when not empty) is a precondition besides the uid.
  Status DeleteObject(const Node& node, std::string_view uid, bool foreground,
                      std::string_view resource_version = "") const;
  // Reads `node` live and merge-patches its metadata as `edit` says, with the read
  // resourceVersion as precondition; gone (or another uid): nothing to do. Retries conflicts.
  Status MergePatchLive(const Node& node, std::string_view uid, const MetadataEdit& edit) const;

  Status ProcessOrphaning(const std::string& uid, const Node& node);
  Status ProcessForeground(const std::string& uid, const Node& node);
  Status ProcessOwners(const std::string& uid, const Node& node);

  const std::vector<GcResource> resources_;
  client::InformerFactory* informers_ = nullptr;
  WorkQueue* queue_ = nullptr;

  mutable Mutex mu_;
  // By uid; hashed, since every watched object's every change looks itself up here.
  std::unordered_map<std::string, Node> nodes_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::set<std::string>> dependents_ GUARDED_BY(mu_);

  mutable Mutex resources_mu_;
  // Every CRD resource ever watched; never shrinks, so nodes' pointers stay valid (a CRD
  // created again with the same resource gets the same entry).
  std::list<GcResource> custom_resources_ GUARDED_BY(resources_mu_);
  std::map<std::string, Watched> watched_ GUARDED_BY(resources_mu_);  // by CRD name
};

}  // namespace kite::controllers
