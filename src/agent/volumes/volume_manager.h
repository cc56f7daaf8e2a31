// VolumeManager: a pod's volumes on the node, as the kubelet's volume manager and volume
// plugins prepare them before the pod's containers start (pkg/volume/{emptydir,hostpath,
// configmap,secret,downwardapi,projected}, pkg/kubelet/volumemanager).
//
// Operation: SetUp(pod) prepares every entry of spec.volumes and returns name → host path.
// Volumes the agent owns live under <agent_dir>/pods/<uid>/volumes/<plugin>/<name>, with the
// kubelet's plugin names (kubernetes.io~empty-dir, ~configmap, ~secret, ~downward-api,
// ~projected):
//   - emptyDir: a directory (0777). medium "Memory" mounts a tmpfs there, sized by the
//     kubelet's rule (the smallest of sizeLimit, the pod's memory limit when every container
//     has one, and the node's allocatable memory).
//   - hostPath: the host's path itself, after the type check of `type` ("" (none),
//     DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice) with
//     Kubernetes' messages ("hostPath type check failed: /x is not a directory").
//   - configMap, secret, downwardAPI, projected (sources secret, configMap, downwardAPI,
//     serviceAccountToken): files written by an AtomicWriter (items with path and mode,
//     defaultMode 0644, optional sources and keys), so a SetUp on a later sync updates them
//     in place when the objects (or the pod's labels/annotations) changed. Secret and
//     projected volumes sit on a tmpfs (as the kubelet keeps secrets off disk) when the
//     mount is permitted, else on disk. Read-only in containers.
//   - persistentVolumeClaim (and generic `ephemeral` volumes, whose claim is
//     <pod>-<volume>): the bound PersistentVolume's spec.hostPath.path or spec.local.path,
//     created (0777) when missing as local-path provisions lazily; readOnly as the volume
//     says. A claim that is missing or not bound yet is an error, so the pod waits.
// With the pod's securityContext.fsGroup, emptyDir directories and the files of
// configMap/secret/downwardAPI/projected volumes get that group (as SetVolumeOwnership does).
// TearDown(uid) unmounts every mount under the pod's directory and removes the directory
// (never crossing into another file system, so hostPath and PV data are never touched).
//
// Errors: the first volume that fails, as `MountVolume.SetUp failed for volume "v" : <why>`
// (the kubelet's event text), or for claims `error processing PVC ns/claim: <why>`.
// kInvalidArgument for a pod uid or volume name that is not a single path element.
// Thread-safety: calls for different pods may run concurrently; calls for one pod must not
// (the node agent syncs a pod on one thread at a time).
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <string>

#include "src/agent/pod_objects.h"
#include "src/agent/volumes/downward_api.h"
#include "src/base/status.h"

namespace kite::agent::volumes {

struct MountedVolume {
  std::string host_path;
  // The volume itself is read-only (configMap, secret, downwardAPI, projected, a claim
  // with readOnly): every mount of it is.
  bool read_only = false;
};

using VolumeMap = std::map<std::string, MountedVolume>;

struct VolumeManagerOptions {
  std::string agent_dir;          // <data-dir>/agent
  PodObjects* objects = nullptr;  // must outlive the manager; null = no API objects
  NodeAllocatable node;           // downward API resource defaults, tmpfs sizes
  // Put secret and projected volumes on a tmpfs when mounting is permitted.
  bool memory_backed_secrets = true;
};

class VolumeManager {
 public:
  explicit VolumeManager(VolumeManagerOptions options) : options_(std::move(options)) {}

  Result<VolumeMap> SetUp(const rapidjson::Value& pod);
  Status TearDown(const std::string& uid);

  // <agent_dir>/pods/<uid>: the pod's own directory (volumes, etc-hosts, containers/).
  std::string PodDir(const std::string& uid) const;

 private:
  const VolumeManagerOptions options_;
};

// True when `name` can be used as one path element ("", ".", ".." and names with '/' or
// NUL cannot).
bool IsPathElement(std::string_view name);

}  // namespace kite::agent::volumes
