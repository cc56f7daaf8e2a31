// The namespace controller (Kubernetes' pkg/controller/namespace): empties a namespace that
// is being deleted, then releases it.
//
// Operation, per namespace with a deletionTimestamp (the API server sets it and the phase
// Terminating on DELETE; spec.finalizers holds "kubernetes" from creation):
//  - reads the namespace live; makes sure status.phase is Terminating;
//  - for every namespaced resource the API serves with the delete verb — the built-in ones
//    of the resource table and those of every Established CustomResourceDefinition —
//    deletes the collection in the namespace through the API (DeleteCollection; one DELETE
//    per object where deletecollection is not served), so pods are deleted gracefully and
//    finalizers are honoured, then lists what is left;
//  - writes the conditions Kubernetes writes: NamespaceDeletionDiscoveryFailure,
//    NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
//    NamespaceContentRemaining ("Some resources are remaining: pods. has 2 resource
//    instances") and NamespaceFinalizersRemaining ("Some content in the namespace has
//    finalizers remaining: example.com/x in 1 resource instances");
//  - while content remains it looks again after half the estimate Kubernetes makes (the
//    longest pod grace period left, or 15 s while finalizers hold objects), at least 1 s
//    and at most Options::max_recheck;
//  - once the namespace is empty, removes "kubernetes" from spec.finalizers through the
//    namespaces/{name}/finalize subresource; the API server then deletes the namespace
//    (when metadata.finalizers is empty too).
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (the work queue never hands one key to two workers).
// Limitations: the resources come from the API server's built-in resource table and the
// CRDs rather than a discovery request, so discovery never fails here (the discovery
// condition is always False) and a resource served some other way would not be emptied.
// It looks again on a timer, not when content goes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

inline constexpr char kNamespaceFinalizer[] = "kubernetes";

class NamespaceController final : public Controller {
 public:
  struct Options {
    // Condition times and the pod grace estimate; must outlive the controller.
    const Clock* clock = SystemClock::Get();
    // The longest wait before looking at a namespace with content left again.
    std::chrono::milliseconds max_recheck = std::chrono::seconds(15);
  };
  NamespaceController() : NamespaceController(Options{}) {}
  explicit NamespaceController(Options options) : options_(options) {}

  std::string_view Name() const override { return "namespace"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is a namespace name.
  Status Reconcile(const std::string& key) override;
  int Workers() const override { return 2; }

 private:
  struct Totals;
  // The namespaced resources that can be deleted: built-ins, then custom resources.
  std::vector<client::ResourceRef> DeletableResources() const;
  // Deletes everything in `ns`; returns the estimated seconds until what is left is gone
  // (0 when nothing is left) and fills `conditions` (the five deletion conditions).
  Result<int64_t> DeleteAllContent(const rapidjson::Value& ns, rapidjson::Document& conditions);
  Result<int64_t> DeleteResourceContent(const client::ResourceRef& ref, const rapidjson::Value& ns,
                                        Totals& totals);
  Status Finalize(const rapidjson::Value& ns);

  const Options options_;
  WorkQueue* queue_ = nullptr;
  client::InformerFactory* informers_ = nullptr;
  client::Informer* namespaces_ = nullptr;
  client::Informer* crds_ = nullptr;
  std::optional<client::ResourceClient> namespace_client_;
};

}  // namespace kite::controllers
