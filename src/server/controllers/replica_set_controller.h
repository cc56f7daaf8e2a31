// The ReplicaSet controller (Kubernetes' pkg/controller/replicaset): keeps spec.replicas
// (default 1) active pods matching each ReplicaSet's selector.
//
// Operation, per ReplicaSet key:
//  - claims pods: adopts active orphans that match the selector (adds a controller
//    reference), releases owned pods that no longer match (removes it); pods being deleted
//    and terminal pods (Succeeded/Failed) are not replicas;
//  - when too few, creates pods from spec.template (generateName "<rs>-", controller
//    reference with blockOwnerDeletion) in slow-start batches 1, 2, 4, ... of at most 500;
//    when too many, deletes the surplus in Kubernetes' order (unscheduled, pending, not
//    ready, ... first; see PodsToDelete);
//  - writes status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready
//    for spec.minReadySeconds), observedGeneration, and the ReplicaFailure condition
//    (FailedCreate / FailedDelete) while creates or deletes fail.
// Expectations (PodExpectations) keep it from acting again on a key until its cache has
// seen the pods it created and deleted. A ReplicaSet being deleted only gets status.
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (the work queue never hands one key to two workers at once).
// Limitations: no events are recorded (kubectl describe shows none).
#pragma once

#include <optional>

#include "src/base/clock.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/pod_control_expectations.h"

namespace kite::controllers {

class ReplicaSetController final : public Controller {
 public:
  // `clock` (for availability and expectation expiry) must outlive the controller.
  // `recorder` gets the Events SuccessfulCreate, FailedCreate, SuccessfulDelete and
  // FailedDelete (default: none are recorded).
  explicit ReplicaSetController(const Clock* clock = SystemClock::Get(), client::EventRecorder recorder = {});

  std::string_view Name() const override { return "replicaset"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is "namespace/name" of a ReplicaSet.
  Status Reconcile(const std::string& key) override;
  int Workers() const override { return 2; }

  // At most this many creates or deletes per sync (Kubernetes' burstReplicas).
  static constexpr int kBurstReplicas = 500;

 private:
  Status ManageReplicas(const std::string& key, const rapidjson::Value& rs,
                        const std::vector<client::ObjectPtr>& pods);
  Status WriteStatus(const rapidjson::Value& rs, const std::vector<client::ObjectPtr>& pods,
                     const Status& manage_error);
  // Active pods of `rs` and of the other ReplicaSets with the same controller.
  std::vector<client::ObjectPtr> RelatedPods(const rapidjson::Value& rs) const;

  // The ReplicaSet a controller reference names, if cached with that uid.
  client::ObjectPtr ResolveRef(std::string_view ns, const OwnerReference& ref) const;
  void EnqueueOrphanOwners(const rapidjson::Value& pod);
  void OnPodAdd(const client::ObjectPtr& pod);
  void OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod);
  void OnPodDelete(const client::ObjectPtr& pod);

  const Clock* clock_;
  const client::EventRecorder recorder_;
  PodExpectations expectations_;
  WorkQueue* queue_ = nullptr;
  client::Informer* replica_sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  std::optional<client::ResourceClient> rs_client_;
  std::optional<client::ResourceClient> pod_client_;
};

}  // namespace kite::controllers
