// VolumeBinding: Kubernetes' VolumeBinding plugin (pkg/scheduler/framework/plugins/
// volumebinding) for pods with PersistentVolumeClaims, over the scheduler's informers.
//
//   PreFilter: a claim that does not exist or is being deleted rejects the pod
//     (`persistentvolumeclaim "x" not found` / `... is being deleted`); an unbound claim
//     whose class binds Immediately rejects it ("pod has unbound immediate
//     PersistentVolumeClaims") — the PV binder must bind it first. Pods without claims skip
//     the plugin.
//   Filter: a bound claim's volume must exist ("node(s) unavailable due to one or more pvc(s)
//     bound to non-existent pv(s)") and its node affinity allow the node ("node(s) had volume
//     node affinity conflict"); an unbound WaitForFirstConsumer claim needs an Available
//     volume the node may use, or a class that can provision there ("node(s) didn't find
//     available persistent volumes to bind"). All are UnschedulableAndUnresolvable.
//   PreBind (SetSelectedNode, called by the scheduler before the pod's binding): every
//     unbound WaitForFirstConsumer claim of the pod gets volume.kubernetes.io/selected-node;
//     the binder then binds or provisions it for that node. Unlike Kubernetes, the pod's
//     binding does not wait for the volumes: the node agent waits for them ("PVC is not
//     bound").
//
// Limitations: no assumed volume cache (two pods scheduled at once may both count on the
// same Available volume; the binder gives it to one and the other claim is provisioned or
// waits), no volume capacity or topology scoring, no CSI.
// Thread-safety: as every Plugin; the informers are read-only and thread-safe.
#pragma once

#include "src/base/status.h"
#include "src/server/client/informer.h"
#include "src/server/client/resource_client.h"
#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

// Where the plugin reads claims, volumes and classes; set once at the scheduler's Register.
// While `claims` is null the plugin passes every pod.
struct VolumeListers {
  client::Informer* claims = nullptr;
  client::Informer* volumes = nullptr;
  client::Informer* classes = nullptr;
};

class VolumeBinding final : public Plugin {
 public:
  static constexpr std::string_view kUnboundImmediate = "pod has unbound immediate PersistentVolumeClaims";
  static constexpr std::string_view kNodeConflict = "node(s) had volume node affinity conflict";
  static constexpr std::string_view kBindConflict = "node(s) didn't find available persistent volumes to bind";
  static constexpr std::string_view kPvNotExist =
      "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

  // `listers` must outlive the plugin.
  explicit VolumeBinding(const VolumeListers* listers) : listers_(listers) {}

  std::string_view Name() const override { return "VolumeBinding"; }
  PreFilterResult PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot) override;
  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;

 private:
  const VolumeListers* listers_;
};

// Inserts VolumeBinding into `plugins` after NodeResourcesFit (Kubernetes' filter order), or
// at the end when there is none.
void AddVolumeBinding(std::vector<std::unique_ptr<Plugin>>& plugins, const VolumeListers* listers);

// The PreBind step: sets volume.kubernetes.io/selected-node to `node` on each claim of `pod`
// that is unbound and of a WaitForFirstConsumer class (a merge patch through `claims`).
// Errors: the API's (a claim gone meanwhile is not one).
Status SetSelectedNode(const VolumeListers& listers, const client::ResourceClient& claims, const PodInfo& pod,
                       std::string_view node);

}  // namespace kite::scheduler
