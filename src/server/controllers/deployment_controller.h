// The Deployment controller (Kubernetes' pkg/controller/deployment): rolls a Deployment's
// pods from one template to the next through ReplicaSets it owns.
//
// Operation, per Deployment key:
//  - claims ReplicaSets (adopts matching orphans, releases owned ones that stopped
//    matching); the one whose template equals the Deployment's (ignoring the
//    pod-template-hash label) is the new ReplicaSet, the rest are old;
//  - the new ReplicaSet is named <deployment>-<hash>, with the hash as pod-template-hash
//    label on its selector, template (hence its pods) and itself; it carries the revision
//    (old maximum + 1; a reused old ReplicaSet moves its previous number to
//    revision-history: a rollback), the Deployment's annotations, and desired-replicas /
//    max-replicas; the Deployment carries the revision too;
//  - RollingUpdate: grows the new ReplicaSet while all pods stay within replicas + maxSurge,
//    shrinks old ones while at least replicas - maxUnavailable stay available (unhealthy
//    old pods first); Recreate: scales old ReplicaSets to 0, waits until their pods are
//    gone, then creates/scales the new one;
//  - a change of spec.replicas during a rollout (or while paused) is shared among the
//    active ReplicaSets in proportion to their size; while paused nothing rolls;
//  - keeps revisionHistoryLimit (default 10) old ReplicaSets that have scaled to 0 and
//    deletes older ones;
//  - status: replicas, updatedReplicas, readyReplicas, availableReplicas,
//    unavailableReplicas, observedGeneration, collisionCount, and the conditions Available
//    (MinimumReplicasAvailable / MinimumReplicasUnavailable), Progressing
//    (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
//    ProgressDeadlineExceeded after progressDeadlineSeconds (default 600) without
//    progress, DeploymentPaused/DeploymentResumed, ReplicaSetCreateError) and ReplicaFailure
//    (copied from a ReplicaSet), with Kubernetes' reasons and messages.
//
// Besides Kubernetes' rules, growth counts the pods an old ReplicaSet still has (not only
// its spec), and shrinking counts at most spec.replicas available pods per ReplicaSet, so a
// stale cache or a ReplicaSet controller that has not yet deleted its surplus cannot push
// the pod count above replicas + maxSurge or availability below replicas - maxUnavailable.
//
// ReplicaSets this controller has just written are read as written until the cache shows
// that version (or a newer one), so a sync right after a write does not decide on the
// ReplicaSet as it was before (which, for two ReplicaSets scaled in one step, a failed
// precondition on only one of them would not catch).
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (never two for the same key).
// Limitations: no events; the extensions/v1beta1 rollbackTo field is not supported
// (kubectl rollout undo rolls back by writing the old template, which is).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/controllers/controller_ref.h"

namespace kite::controllers {

class DeploymentController final : public Controller {
 public:
  // `clock` (condition times, progress deadlines) must outlive the controller. `recorder`
  // gets the Events ScalingReplicaSet ("Scaled up replica set x from 0 to 3") and
  // ReplicaSetCreateError (default: none are recorded).
  explicit DeploymentController(const Clock* clock = SystemClock::Get(), client::EventRecorder recorder = {});

  std::string_view Name() const override { return "deployment"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is "namespace/name" of a Deployment.
  Status Reconcile(const std::string& key) override;
  int Workers() const override { return 2; }

 private:
  // The Deployment a controller reference names, if cached with that uid.
  client::ObjectPtr ResolveRef(std::string_view ns, const OwnerReference& ref) const;
  void EnqueueOrphanOwners(const rapidjson::Value& rs);
  void OnReplicaSetAdd(const client::ObjectPtr& rs);
  void OnReplicaSetUpdate(const client::ObjectPtr& old_rs, const client::ObjectPtr& rs);
  void OnReplicaSetDelete(const client::ObjectPtr& rs);
  void OnPodDelete(const client::ObjectPtr& pod);
  // Records a ReplicaSet as the API returned it after our write.
  void RememberWrite(const client::ObjectPtr& rs);
  // `cached` (the ReplicaSets of namespace `ns`) with our newer writes in place of what
  // the cache still holds, and our creates it does not show yet.
  std::vector<client::ObjectPtr> Overlay(std::vector<client::ObjectPtr> cached, std::string_view ns);

  const Clock* clock_;
  const client::EventRecorder recorder_;
  WorkQueue* queue_ = nullptr;
  client::Informer* deployments_ = nullptr;
  client::Informer* replica_sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  std::optional<client::ResourceClient> deployment_client_;
  std::optional<client::ResourceClient> rs_client_;

  struct Written {
    client::ObjectPtr rs;
    int64_t at_ms = 0;
  };
  Mutex written_mu_;
  std::map<std::string, Written> written_ GUARDED_BY(written_mu_);  // by uid
};

}  // namespace kite::controllers
