// The StatefulSet controller (Kubernetes' pkg/controller/statefulset): pods with stable
// names and storage, started and stopped in order, updated from the highest ordinal down.
//
// Operation, per StatefulSet key:
//  - claims the pods named "<set>-<ordinal>" that match its selector (adopting orphans,
//    releasing owned ones that stopped matching) and its ControllerRevisions;
//  - revisions: the update revision is the one whose data equals the set's template now
//    (created as "<set>-<hash>" with the next revision number when there is none; an older
//    equal one is renumbered: a rollback); the current revision is the one
//    status.currentRevision names (the update revision at first). revisionHistoryLimit
//    (default 10) bounds the revisions no pod, nor the current or update revision, uses;
//  - pods: ordinals [start, start + replicas) (spec.ordinals.start, default 0) should exist.
//    A missing one is created (its PVCs first: one per volumeClaimTemplate, named
//    "<template>-<set>-<ordinal>", mounted as a volume named after the template) with
//    hostname = its name, subdomain = spec.serviceName, the labels
//    statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and
//    controller-revision-hash, from the current revision's template when its ordinal is
//    below the RollingUpdate partition and from the update revision's otherwise. A Failed or
//    Succeeded pod is deleted, to be created again with the same name. Pods beyond the range
//    are deleted, highest ordinal first;
//  - podManagementPolicy OrderedReady (default): one step at a time — a pod is created only
//    when every lower ordinal is Running and Ready (and available for minReadySeconds),
//    nothing moves while a pod terminates, and a surplus pod is deleted only when all others
//    are healthy (or it is the first unhealthy one). Parallel: creates and deletes all at
//    once (slow-start batches);
//  - updateStrategy RollingUpdate (default): once every pod is in place, the pod with the
//    highest ordinal >= partition not at the update revision is deleted (and so re-created
//    at the update revision), one at a time, each waiting for the one above to be healthy;
//    with rollingUpdate.maxUnavailable set (Kubernetes' MaxUnavailableStatefulSet), up to
//    that many unhealthy pods at once. OnDelete: pods change revision only when deleted;
//  - persistentVolumeClaimRetentionPolicy (default Retain/Retain): claims are never deleted
//    by this controller. whenDeleted: Delete gives each claim a controller reference to the
//    set, whenScaled: Delete one to the pod once its ordinal is out of range, so the garbage
//    collector deletes them with their owner; a claim still owned by a previous pod of the
//    same name holds back that pod's creation until it is gone;
//  - status: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
//    currentRevision, updateRevision, observedGeneration, collisionCount; a RollingUpdate
//    whose pods are all updated and ready makes the update revision current.
//
// Pod names are fixed, so a stale cache can only cause a create that fails with
// AlreadyExists (the key is retried) or a second delete of the same pod; deletes carry a uid
// precondition (never hitting a successor of the same name), and a pod this controller has
// asked to delete counts as terminating until the cache shows it so (PendingDeletes): a
// second graceful delete would cut its grace period short.
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (never two for one key).
// Limitations: no events; pod and claim updates are not retried in place on conflict (the
// key is).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/controllers/controller_ref.h"

namespace kite::controllers {

inline constexpr std::string_view kStatefulSetPodNameLabel = "statefulset.kubernetes.io/pod-name";
inline constexpr std::string_view kPodIndexLabel = "apps.kubernetes.io/pod-index";

// The parent set name and ordinal of a pod named "<parent>-<ordinal>"; ("", -1) when the
// name has no such form, (parent, -1) when the ordinal does not fit in 32 bits.
std::pair<std::string, int> StatefulPodParentAndOrdinal(std::string_view pod_name);

class StatefulSetController final : public Controller {
 public:
  // The pods (by uid) deleted but not yet seen terminating or gone in the cache. Entries
  // older than a minute are dropped, so a lost watch event cannot hold a set up for good.
  // Thread-safety: every method may be called from any thread.
  class PendingDeletes {
   public:
    explicit PendingDeletes(const Clock* clock) : clock_(clock) {}
    void Add(const std::string& uid);
    void Observed(const std::string& uid);
    bool Contains(const std::string& uid) const;

   private:
    const Clock* clock_;
    mutable Mutex mu_;
    std::map<std::string, int64_t> since_ms_ GUARDED_BY(mu_);
  };

  // `clock` (availability for minReadySeconds) must outlive the controller. `recorder` gets
  // the Events SuccessfulCreate / FailedCreate / SuccessfulDelete / FailedDelete of pods and
  // claims, worded as Kubernetes' ("create Pod web-0 in StatefulSet web successful");
  // default: none are recorded.
  explicit StatefulSetController(const Clock* clock = SystemClock::Get(), client::EventRecorder recorder = {});

  std::string_view Name() const override { return "statefulset"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is "namespace/name" of a StatefulSet.
  Status Reconcile(const std::string& key) override;
  int Workers() const override { return 2; }

 private:
  client::ObjectPtr ResolveRef(std::string_view ns, const OwnerReference& ref) const;
  void EnqueueOrphanOwners(const rapidjson::Value& pod);
  void OnPodAdd(const client::ObjectPtr& pod);
  void OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod);
  void OnPodDelete(const client::ObjectPtr& pod);

  const Clock* clock_;
  const client::EventRecorder recorder_;
  PendingDeletes pending_deletes_;
  WorkQueue* queue_ = nullptr;
  client::Informer* sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* revisions_ = nullptr;
  client::Informer* claims_ = nullptr;
  std::optional<client::ResourceClient> set_client_;
  std::optional<client::ResourceClient> pod_client_;
  std::optional<client::ResourceClient> revision_client_;
  std::optional<client::ResourceClient> claim_client_;
};

}  // namespace kite::controllers
