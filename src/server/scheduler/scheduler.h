// The scheduler (kube-scheduler's default profile) as a controller: it places pending pods
// — spec.nodeName empty, spec.schedulerName empty or "default-scheduler", not being deleted,
// not Succeeded/Failed — on nodes by binding them (POST pods/<name>/binding).
//
// Operation: informers on pods, nodes and namespaces feed the SchedulerCache; the queue
// holds the keys of pending pods. Reconcile(key) runs one scheduling cycle for the pod under
// the cache lock (SchedulingProfile with the default plugins), assumes it on the chosen
// node, then binds it outside the lock, so several workers bind concurrently while cycles
// stay serialized and never overcommit a node. A pod that fits nowhere gets its PodScheduled
// condition set to False, reason Unschedulable, with Kubernetes' message (a status patch,
// only when the condition changes), and waits: it is retried when the cluster changes in a
// way that may help (a node added or changed, an assigned pod deleted or finished or
// relabelled, a pod bound that pods with required affinity may be waiting for), never
// sooner than its back-off (1s doubling to 10s per attempt), and at the latest after
// `unschedulable_flush` (Kubernetes' 5 minutes). Pods with scheduling gates get
// PodScheduled=False, reason SchedulingGated, and wait for the gates to go.
//
// Errors: a failed binding forgets the assumed pod; a conflict (the pod was bound by
// someone else, or is being deleted) or NotFound ends the attempt quietly; other errors
// return from Reconcile, so the queue retries with back-off.
//
// Volumes: the VolumeBinding plugin (volume_binding.h) over PVC, PV and StorageClass
// informers, whose changes also wake waiting pods; before binding a pod, its unbound
// WaitForFirstConsumer claims get the selected-node annotation.
//
// Limitations: no preemption (its outcome is only reported), no priority order
// in the queue (FIFO), no other volume plugins, no nominatedNodeName.
//
// Thread-safety: as every Controller — Register once, then Reconcile from the manager's
// workers concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/scheduler/node_name.h"
#include "src/server/scheduler/scheduler_cache.h"
#include "src/server/scheduler/scheduling_profile.h"
#include "src/server/scheduler/volume_binding.h"

namespace kite::scheduler {

class Scheduler final : public controllers::Controller {
 public:
  struct Options {
    std::string scheduler_name = std::string(kDefaultSchedulerName);
    int workers = 16;
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{10000};
    std::chrono::milliseconds unschedulable_flush{std::chrono::minutes(5)};
    SchedulingProfile::Options profile;
    const Clock* clock = nullptr;  // condition timestamps; the system clock when null
    // Gets the Events Scheduled ("Successfully assigned ns/pod to node") and, on every
    // failed attempt, FailedScheduling with the "0/3 nodes are available: ..." message
    // (repeats fold into one Event's count); default: none are recorded.
    client::EventRecorder recorder;
  };
  // What the scheduler has done, for tests and benchmarks.
  struct Stats {
    int64_t attempts = 0;       // scheduling cycles run
    int64_t bound = 0;          // successful bindings
    int64_t unschedulable = 0;  // cycles that found no node
  };

  Scheduler() : Scheduler(Options{}) {}
  explicit Scheduler(Options options);

  std::string_view Name() const override { return "scheduler"; }
  void Register(client::InformerFactory& informers, controllers::WorkQueue& queue) override;
  // `key` is a pod's "namespace/name".
  Status Reconcile(const std::string& key) override;
  int Workers() const override { return options_.workers; }

  Stats stats() const;
  const SchedulerCache& cache() const { return cache_; }

 private:
  enum class Wake { kAll, kAffinityWaiters };

  void OnPodAdd(const client::ObjectPtr& pod);
  void OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod);
  void OnPodDelete(const client::ObjectPtr& pod);
  void OnNodeUpdate(const client::ObjectPtr& old_node, const client::ObjectPtr& node);

  // Queues the waiting unschedulable pods (those `wake` selects), each after what is left of
  // its back-off.
  void WakeUnschedulable(Wake wake);
  void MarkUnschedulable(const PodInfo& pod);
  // The pod was bound, deleted or is no longer ours.
  void ClearAttempts(const std::string& key);
  std::chrono::milliseconds BackOff(int attempts) const;

  Status Bind(const PodInfo& pod, const std::string& node) const;
  // Sets the PodScheduled condition to False with `reason` and `message`, unless it says so.
  Status RecordNotScheduled(const PodInfo& pod, std::string_view reason, std::string_view message) const;

  const Options options_;
  const Clock* clock_;
  SchedulerCache cache_;
  VolumeListers volume_listers_;  // filled at Register, read by the profile's VolumeBinding
  Mutex profile_mu_;
  SchedulingProfile profile_ GUARDED_BY(profile_mu_);

  client::Informer* pods_ = nullptr;
  client::Informer* namespaces_ = nullptr;
  std::optional<client::ResourceClient> pod_client_;
  std::optional<client::ResourceClient> claim_client_;
  controllers::WorkQueue* queue_ = nullptr;

  struct Waiting {
    std::chrono::steady_clock::time_point failed_at;
    bool needs_pod_affinity = false;  // has required pod affinity terms
  };
  mutable Mutex mu_;
  std::map<std::string, Waiting, std::less<>> unschedulable_ GUARDED_BY(mu_);
  std::map<std::string, int, std::less<>> attempts_ GUARDED_BY(mu_);

  std::atomic<int64_t> stat_attempts_{0};
  std::atomic<int64_t> stat_bound_{0};
  std::atomic<int64_t> stat_unschedulable_{0};
};

}  // namespace kite::scheduler
