// LocalPathProvisioner: k3s's local-path-provisioner (rancher/local-path-provisioner) as a
// controller of `kite server`: volumes are directories on the node that first uses them.
//
// Operation:
//   - At start it creates the StorageClass `local-path` when there is none (provisioner
//     rancher.io/local-path, volumeBindingMode WaitForFirstConsumer, reclaimPolicy Delete,
//     storageclass.kubernetes.io/is-default-class "true"); an existing one is never changed,
//     and one deleted later is not recreated (until the next start).
//   - A claim (queue key "namespace/name") is provisioned when the binder asked for it
//     (volume.kubernetes.io/storage-provisioner rancher.io/local-path), it is not bound, not
//     being deleted, its class's provisioner is rancher.io/local-path and the scheduler chose
//     a node (volume.kubernetes.io/selected-node). The PV `pvc-<claim uid>` gets
//     spec.hostPath {<root>/pvc-<uid>_<namespace>_<name>, DirectoryOrCreate}, where <root> is
//     the node's kite.dev/local-path-root annotation (set by node agents that keep volumes
//     on disk) or /var/lib/kite/storage; capacity = the claim's request; the claim's access
//     modes and volume mode; nodeAffinity kubernetes.io/hostname In [node]; a claimRef (with
//     uid) to the claim; the class's name and reclaim policy; and the annotation
//     pv.kubernetes.io/provisioned-by rancher.io/local-path. The binder then binds the two.
//     The directory itself is made by the node agent when a pod first mounts the volume.
//   - Deletion is the binder's (persistent_volume_binder.h: the local-path delete handshake
//     with the node agent).
//
// Errors: API errors return from Reconcile (retried with back-off); a PV that exists already
// is success. Claims of volumeMode Block are not provisioned (a directory cannot be one).
// Thread-safety: as every Controller; one worker.
#pragma once

#include <optional>
#include <string>

#include "src/server/controllers/controller.h"

namespace kite::controllers {

class LocalPathProvisioner final : public Controller {
 public:
  std::string_view Name() const override { return "local-path-provisioner"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // "namespace/name" is a claim; the empty key makes sure the StorageClass exists.
  Status Reconcile(const std::string& key) override;

  // The PV local-path provisions for `claim` on `node` (a Node object), with reclaim policy
  // `reclaim_policy`. Pure; exposed for tests.
  static rapidjson::Document VolumeFor(const rapidjson::Value& claim, const rapidjson::Value& node,
                                       std::string_view reclaim_policy);

 private:
  Status EnsureStorageClass();
  Status Provision(const rapidjson::Value& claim);

  client::Informer* claims_ = nullptr;
  client::Informer* volumes_ = nullptr;
  client::Informer* classes_ = nullptr;
  client::Informer* nodes_ = nullptr;
  std::optional<client::ResourceClient> class_client_;
  std::optional<client::ResourceClient> volume_client_;
};

}  // namespace kite::controllers
