// PersistentVolumeBinder: Kubernetes' PV controller (pkg/controller/volume/persistentvolume,
// pv_controller.go) plus its PVC-protection controller, for `kite server`.
//
// Claims (queue key "namespace/name"):
//   - a claim that names no class gets the default StorageClass once one exists (the
//     retroactive assignment of Kubernetes 1.28+; admission does it at creation);
//   - the kubernetes.io/pvc-protection finalizer is added to every claim, and removed from a
//     claim being deleted once no scheduled, unfinished pod uses it (checked against a live
//     list, not the cache), so a volume is never released under a running pod;
//   - an unbound claim binds to the smallest Available volume that fits (class equal, ""
//     with "", access modes a superset — the smallest such set first —, capacity >= request,
//     selector, volumeMode), or to the volume pre-bound to it by spec.claimRef; a claim
//     naming spec.volumeName binds to that volume when it fits. Binding writes the PV's
//     spec.claimRef (+ pv.kubernetes.io/bound-by-controller when the controller chose it)
//     and status.phase Bound, then the claim's spec.volumeName (+ bound-by-controller when
//     the controller chose it) and pv.kubernetes.io/bind-completed, then the claim's status
//     (phase Bound, accessModes and capacity of the volume);
//   - a claim of a WaitForFirstConsumer class waits, Pending and without events, until the
//     scheduler names a node in volume.kubernetes.io/selected-node; then it binds to a
//     volume whose node affinity allows that node, or, when none fits and the class can
//     provision, it gets volume.kubernetes.io/storage-provisioner (and the beta annotation)
//     so the class's provisioner (local_path_provisioner.h) creates one;
//   - an Immediate claim that nothing fits is Pending, with the provisioner annotation when
//     its class can provision; a bound claim whose volume is gone is Lost.
// Volumes (queue key "name"):
//   - unclaimed → Available; bound to a claim that exists → Bound; claimRef to a claim that
//     is gone (checked against the API, not only the cache) → Released, then the reclaim
//     policy: Retain keeps it Released; Recycle → Failed ("No recycler plugin found for the
//     volume!", Kite has none); Delete deletes it — a static volume's PV object only (its
//     data is left alone), a local-path volume after its node removed the directory.
//   - a volume the controller bound to a claim that bound elsewhere is unbound again (or,
//     when provisioned for it with Delete, released).
//
// The local-path delete handshake (nodes may read PVs but not write them, as in Kubernetes):
// for a Released local-path volume with reclaim policy Delete whose Node carries
// kite.dev/local-path-root (a node agent that keeps volumes on disk), the binder sets the
// Node annotation kite.dev/local-path-delete.<pv> to the volume's directory; the node agent
// (src/agent/volumes/local_path_reclaimer.h) re-reads the PV, removes the directory and
// answers "removed" (or "kept" when the path is not one it owns); the binder then deletes
// the PV (uid precondition) and the annotation. A volume on a node without that annotation
// (simulated nodes) or on a node that no longer exists is deleted at once.
//
// Errors: API errors return from Reconcile (the key is retried with back-off); conflicts
// are the normal outcome of a stale cache. Reconcile reads informers, so it must run on one
// worker: claims and volumes are handled by the same thread (Workers() == 1).
// Limitations: no Events, no metrics, no volume expansion, no PV-protection finalizer, no
// in-tree deleters or recyclers; provisioning is delegated to provisioners by annotation.
#pragma once

#include <optional>
#include <string>

#include "src/base/clock.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

struct PersistentVolumeBinderOptions {
  const Clock* clock = nullptr;  // status.lastPhaseTransitionTime; null = the system clock
};

class PersistentVolumeBinder final : public Controller {
 public:
  explicit PersistentVolumeBinder(PersistentVolumeBinderOptions options = {});

  std::string_view Name() const override { return "persistentvolume-binder"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // "namespace/name" is a claim, "name" a volume.
  Status Reconcile(const std::string& key) override;

 private:
  Status SyncClaim(const std::string& key);
  Status SyncUnboundClaim(const rapidjson::Value& claim);
  Status SyncBoundClaim(const rapidjson::Value& claim);
  Status SyncVolume(const std::string& name);
  Status Reclaim(const rapidjson::Value& volume);
  Status ReclaimLocalPath(const rapidjson::Value& volume);
  // Binds `volume` and `claim` (every step that is not done yet).
  Status Bind(const rapidjson::Value& volume, const rapidjson::Value& claim);
  Status SetClaimPhase(const rapidjson::Value& claim, std::string_view phase);
  Status SetVolumePhase(const rapidjson::Value& volume, std::string_view phase, std::string_view message = "");
  Status UnbindVolume(const rapidjson::Value& volume);
  Status DeleteVolume(const rapidjson::Value& volume);
  // Removes the handshake key for `volume_name` from `node_name`'s annotations.
  Status ClearDeleteRequest(const std::string& node_name, const std::string& volume_name);
  // Sets the storage-provisioner annotations on a claim that needs provisioning.
  Status RequestProvisioning(const rapidjson::Value& claim, std::string_view provisioner);
  Status SyncProtection(const rapidjson::Value& claim, bool* done);
  // The claim as the API has it now (nullptr when gone), to confirm a cache miss.
  Result<client::ObjectPtr> LiveClaim(std::string_view ns, std::string_view name) const;
  void QueuePendingClaims();
  void QueuePodClaims(const rapidjson::Value& pod);
  void OnNodeChange(const rapidjson::Value& node);

  const Clock* clock_;
  WorkQueue* queue_ = nullptr;
  client::Informer* claims_ = nullptr;
  client::Informer* volumes_ = nullptr;
  client::Informer* classes_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* pods_ = nullptr;
  std::optional<client::ResourceClient> claim_client_;
  std::optional<client::ResourceClient> volume_client_;
  std::optional<client::ResourceClient> node_client_;
  std::optional<client::ResourceClient> pod_client_;
};

}  // namespace kite::controllers
