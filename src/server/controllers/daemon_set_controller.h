// The DaemonSet controller (Kubernetes' pkg/controller/daemon): one pod of each DaemonSet on
// every node that should run it.
//
// Operation, per DaemonSet key:
//  - claims pods (adopting matching orphans, releasing owned ones that stopped matching)
//    and ControllerRevisions; the current revision is the one whose data equals the
//    template now, named "<ds>-<hash>" with the template hash (and collisionCount) as its
//    controller-revision-hash label, numbered one above the older ones (created when
//    missing; duplicates are merged);
//  - which nodes: those whose name matches spec.template.spec.nodeName (when set), whose
//    labels satisfy the template's nodeSelector and required node affinity, and whose
//    NoSchedule/NoExecute taints the pod tolerates. The controller adds to its pods the
//    tolerations Kubernetes gives daemon pods (not-ready and unreachable NoExecute with no
//    time limit; disk-pressure, memory-pressure, pid-pressure and unschedulable NoSchedule;
//    network-unavailable NoSchedule with hostNetwork), so cordoned and not-ready nodes keep
//    their daemon pods. A pod on a node whose new taints it does not tolerate stays unless
//    the taint is NoExecute;
//  - pods: a node that should run the DaemonSet and has no pod gets one, bound by a required
//    node affinity term matchFields metadata.name In [node] (the scheduler then places it,
//    as in Kubernetes >= 1.12); a Failed pod is deleted (with a per-node back-off, 1 s
//    doubling to 15 min, against a kubelet that keeps rejecting it) and replaced; of several
//    pods on one node the oldest is kept (without surge); pods on nodes that should no longer
//    run it are deleted; pods for nodes that no longer exist are deleted with grace period
//    0, terminating ones included (Kubernetes' pod GC does that for scheduled pods; here
//    after a live read confirms the node is gone);
//  - updateStrategy RollingUpdate (default; maxUnavailable default 1, maxSurge 0): with
//    maxSurge 0, outdated pods are deleted (and so re-created from the new template) while
//    at most maxUnavailable nodes lack an available updated pod; with maxSurge, a new pod is
//    started beside the old one on up to maxSurge nodes and the old one deleted once the new
//    one is available. OnDelete: pods are replaced only when deleted;
//  - keeps revisionHistoryLimit (default 10) old revisions no pod uses;
//  - status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled,
//    numberReady, numberAvailable (ready for minReadySeconds), updatedNumberScheduled,
//    numberUnavailable, observedGeneration (and collisionCount on name collisions).
// Expectations (PodExpectations, one for creates and one for deletes) keep it from acting
// again on a key before its cache shows the pods it created and deleted; while unmet only
// the status is written.
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (never two for one key).
// Limitations: no events; failed-pod back-off entries are kept for the process' lifetime
// (one per DaemonSet and node that saw a failed pod).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/pod_control_expectations.h"

namespace kite::controllers {

struct DaemonNodeVerdict {
  bool should_run = false;               // a daemon pod should be created there
  bool should_continue_running = false;  // a daemon pod already there may stay
  bool operator==(const DaemonNodeVerdict&) const = default;
};

// Kubernetes' NodeShouldRunDaemonPod for `node` (a Node) and `daemon_set`.
DaemonNodeVerdict NodeShouldRunDaemonPod(const rapidjson::Value& node, const rapidjson::Value& daemon_set);

// The template the DaemonSet's pods are made from: spec.template with the daemon
// tolerations added (same key, operator, value and effect replaced), the
// controller-revision-hash label `hash` (when not empty) and pod-template-generation (when
// the DaemonSet has the deprecated.daemonset.template.generation annotation).
rapidjson::Document DaemonPodTemplate(const rapidjson::Value& daemon_set, std::string_view hash);

// The node a daemon pod is for: spec.nodeName, or else the single value of a required node
// affinity matchFields requirement metadata.name In [...]; nullopt when neither.
std::optional<std::string> DaemonPodTargetNode(const rapidjson::Value& pod);

class DaemonSetController final : public Controller {
 public:
  // `clock` (availability, back-off, expectation expiry) must outlive the controller.
  // `recorder` gets the Events SuccessfulCreate, FailedCreate, SuccessfulDelete,
  // FailedDelete and FailedDaemonPod (default: none are recorded).
  explicit DaemonSetController(const Clock* clock = SystemClock::Get(), client::EventRecorder recorder = {});

  std::string_view Name() const override { return "daemonset"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is "namespace/name" of a DaemonSet.
  Status Reconcile(const std::string& key) override;
  int Workers() const override { return 2; }

  // At most this many creates or deletes per sync (Kubernetes' BurstReplicas).
  static constexpr int kBurstReplicas = 250;

  // Failed-pod back-off per DaemonSet and node (Kubernetes' failedPodsBackoff).
  class FailedPodBackoff {
   public:
    explicit FailedPodBackoff(const Clock* clock) : clock_(clock) {}
    // When `key` is backing off: how long it still waits.
    std::optional<std::chrono::milliseconds> Remaining(const std::string& key) const;
    // Records a failure now: the next back-off is twice the last (1 s at first, 15 min at
    // most; back to 1 s after 30 min without failures).
    void Next(const std::string& key);

   private:
    struct Entry {
      int64_t delay_ms = 0;
      int64_t last_ms = 0;
    };
    const Clock* clock_;
    mutable Mutex mu_;
    std::map<std::string, Entry> entries_ GUARDED_BY(mu_);
  };

 private:
  client::ObjectPtr ResolveRef(std::string_view ns, const OwnerReference& ref) const;
  void EnqueueOrphanOwners(const rapidjson::Value& pod);
  void OnPodAdd(const client::ObjectPtr& pod);
  void OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod);
  void OnPodDelete(const client::ObjectPtr& pod);
  void OnNodeAdd(const client::ObjectPtr& node);
  void OnNodeUpdate(const client::ObjectPtr& old_node, const client::ObjectPtr& node);
  void EnqueueAll();

  const Clock* clock_;
  const client::EventRecorder recorder_;
  PodExpectations creations_;
  PodExpectations deletions_;
  FailedPodBackoff failed_backoff_;
  WorkQueue* queue_ = nullptr;
  client::Informer* daemon_sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* revisions_ = nullptr;
  std::optional<client::ResourceClient> ds_client_;
  std::optional<client::ResourceClient> pod_client_;
  std::optional<client::ResourceClient> node_client_;
  std::optional<client::ResourceClient> revision_client_;
};

}  // namespace kite::controllers
