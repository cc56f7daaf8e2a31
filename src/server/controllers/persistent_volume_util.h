// What the PersistentVolume binder, the local-path provisioner, the scheduler's
// VolumeBinding plugin and the node agent share about PersistentVolumes (PVs) and their
// claims (PVCs): Kubernetes' annotation names, how a claim's class and size are read,
// whether a volume's node affinity allows a node, and Kubernetes' volume matching
// (component-helpers/storage/volume FindMatchingVolume, with the PV controller's
// access-mode index on top: pkg/controller/volume/persistentvolume/index.go).
//
// Also the names of Kite's local-path handshake between the binder and the node agents
// (see persistent_volume_binder.h for the protocol).
//
// Objects are API objects as JSON; absent or mistyped fields read as Kubernetes' defaults.
// All functions are pure and thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/admission/quantity.h"
#include "src/server/client/informer.h"
#include "src/server/client/resource_client.h"

namespace kite::controllers {

inline const client::ResourceRef kStorageClasses{"storage.k8s.io", "v1", "storageclasses", false};

// Kubernetes' annotations, finalizer and special names.
inline constexpr std::string_view kAnnBindCompleted = "pv.kubernetes.io/bind-completed";
inline constexpr std::string_view kAnnBoundByController = "pv.kubernetes.io/bound-by-controller";
inline constexpr std::string_view kAnnProvisionedBy = "pv.kubernetes.io/provisioned-by";
inline constexpr std::string_view kAnnSelectedNode = "volume.kubernetes.io/selected-node";
inline constexpr std::string_view kAnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner";
inline constexpr std::string_view kAnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner";
inline constexpr std::string_view kAnnBetaStorageClass = "volume.beta.kubernetes.io/storage-class";
inline constexpr std::string_view kPvcProtectionFinalizer = "kubernetes.io/pvc-protection";
inline constexpr std::string_view kNoProvisioner = "kubernetes.io/no-provisioner";
inline constexpr std::string_view kHostnameLabel = "kubernetes.io/hostname";

// local-path, as k3s ships it.
inline constexpr std::string_view kLocalPathProvisioner = "rancher.io/local-path";
inline constexpr std::string_view kLocalPathClass = "local-path";
// A Node annotation set by a node agent that keeps local-path volumes on disk: the directory
// they live under (<data-dir>/storage). Nodes without it (simulated ones) use the default.
inline constexpr std::string_view kLocalPathRootAnnotation = "kite.dev/local-path-root";
inline constexpr std::string_view kDefaultLocalPathRoot = "/var/lib/kite/storage";
// The delete handshake on the Node: key prefix + PV name. The binder sets the value to the
// volume's directory (a request); the node agent answers "removed" (directory gone) or
// "kept" (it refused to touch that path); the binder then deletes the PV and the key.
inline constexpr std::string_view kLocalPathDeletePrefix = "kite.dev/local-path-delete.";
inline constexpr std::string_view kLocalPathRemoved = "removed";
inline constexpr std::string_view kLocalPathKept = "kept";

// The Node annotation key of the delete handshake for volume `volume_name`; "" when the
// name does not fit an annotation key (longer than 63 characters with the prefix).
std::string LocalPathDeleteKey(std::string_view volume_name);

// A claim's class: spec.storageClassName, else the beta annotation, else "".
std::string_view ClaimClass(const rapidjson::Value& claim);
// Whether the claim names a class at all (spec.storageClassName present, even "", or the
// beta annotation): absent means the default class may still be assigned.
bool ClaimHasClass(const rapidjson::Value& claim);
// A volume's class: spec.storageClassName, else the beta annotation, else "".
std::string_view VolumeClass(const rapidjson::Value& volume);
// status.phase, "" when absent.
std::string_view PhaseOf(const rapidjson::Value& object);
// spec.volumeName of a claim, "" when absent.
std::string_view VolumeNameOf(const rapidjson::Value& claim);
// Kubernetes' IsVolumeBoundToClaim: claimRef names the claim (namespace, name, and uid
// when the claimRef has one).
bool IsVolumeBoundToClaim(const rapidjson::Value& volume, const rapidjson::Value& claim);
// The claim's binding is complete: spec.volumeName set and the bind-completed annotation.
bool IsClaimFullyBound(const rapidjson::Value& claim);

// spec.resources.requests.storage of a claim and spec.capacity.storage of a volume (zero
// when absent or unparsable).
admission::Quantity ClaimRequest(const rapidjson::Value& claim);
admission::Quantity VolumeCapacity(const rapidjson::Value& volume);
// volumeMode differs (absent = Filesystem on both sides).
bool VolumeModeMismatch(const rapidjson::Value& claim, const rapidjson::Value& volume);
// Every access mode of the claim is one of the volume's.
bool AccessModesSatisfied(const rapidjson::Value& claim, const rapidjson::Value& volume);
// Kubernetes' checkVolumeSatisfyClaim (a volume the user named in spec.volumeName): size,
// volume mode, class and access modes; kInvalidArgument with Kubernetes' message otherwise.
Status CheckVolumeSatisfiesClaim(const rapidjson::Value& volume, const rapidjson::Value& claim);

// Whether the volume's spec.nodeAffinity.required allows `node` (a Node object): one of the
// nodeSelectorTerms must match its labels (matchExpressions: In, NotIn, Exists,
// DoesNotExist, Gt, Lt) and name (matchFields metadata.name). No affinity allows every node.
bool VolumeNodeAffinityAllows(const rapidjson::Value& volume, const rapidjson::Value& node);
// The node a local-path volume was provisioned on: the single value of its
// kubernetes.io/hostname In requirement, "" when there is none.
std::string LocalPathNodeOf(const rapidjson::Value& volume);

struct VolumeMatchOptions {
  // The scheduler's path (and the binder's for a claim with a selected node): the volume's
  // node affinity must allow this Node object, and access modes are checked per volume.
  const rapidjson::Value* node = nullptr;
  // The claim's class binds WaitForFirstConsumer: without `node`, only volumes pre-bound to
  // the claim match.
  bool delay_binding = false;
  // Volume names already chosen for other claims of the same pod.
  const std::set<std::string, std::less<>>* excluded = nullptr;
};

// Kubernetes' FindMatchingVolume: a volume pre-bound to the claim (claimRef names it) if
// any — nullptr when the node affinity rules that one out — else the smallest Available,
// unclaimed, not deleted volume with enough capacity, the same volume mode and class, whose
// labels match the claim's selector and whose node affinity allows `node`. Access modes
// are checked only with a node (the index below does it otherwise). A malformed selector
// matches nothing.
client::ObjectPtr FindMatchingVolume(const rapidjson::Value& claim, const std::vector<client::ObjectPtr>& volumes,
                                     const VolumeMatchOptions& options);
// The PV controller's findBestMatchForClaim: volumes grouped by their set of access modes;
// among the sets that contain every mode the claim asks for, fewest modes first, the first
// FindMatchingVolume that finds one.
client::ObjectPtr FindBestMatchForClaim(const rapidjson::Value& claim, const std::vector<client::ObjectPtr>& volumes,
                                        const VolumeMatchOptions& options);

// The claims a pod's volumes use, in spec order: persistentVolumeClaim.claimName, and
// "<pod>-<volume>" for generic ephemeral volumes.
std::vector<std::string> PodClaimNames(const rapidjson::Value& pod);
// Whether a pod holds on to its claims: scheduled (spec.nodeName) and not Succeeded/Failed.
bool PodUsesClaims(const rapidjson::Value& pod);

// StorageClass fields, with Kubernetes' defaults when absent.
std::string_view ProvisionerOf(const rapidjson::Value& storage_class);
std::string_view ClassReclaimPolicy(const rapidjson::Value& storage_class);  // "Delete"
bool IsWaitForFirstConsumer(const rapidjson::Value& storage_class);        // else Immediate
// The class can provision: a provisioner other than kubernetes.io/no-provisioner, and
// allowedTopologies (when given) matching the node's labels (`node` may be null: no check).
bool ClassCanProvision(const rapidjson::Value& storage_class, const rapidjson::Value* node);

}  // namespace kite::controllers
