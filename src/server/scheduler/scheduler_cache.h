// SchedulerCache: the nodes and the pods bound to them, kept current from the informers'
// events, plus the pods the scheduler has "assumed" — bound through the API but not yet
// seen bound by the pod informer — so that a burst of pods does not overcommit a node
// while bindings are in flight (Kubernetes' scheduler cache).
//
// Operation: informer handlers call Update/Remove; a scheduling cycle runs inside
// WithSnapshot, which holds the cache lock so the NodeInfos cannot change under it, and
// assumes the pod the cycle placed before releasing it. An assumed pod stays counted until
// the informer shows it bound (it is then replaced by the real object), the pod is deleted,
// or Forget is called (the binding failed).
//
// Thread-safety: every method may be called from any thread. Limitation: handlers block
// while a cycle runs (a cycle is short: filters and scores over the nodes).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/scheduler/framework.h"

namespace kite::scheduler {

class SchedulerCache {
 public:
  // A Node was added or changed.
  void UpdateNode(ObjectPtr node);
  void RemoveNode(std::string_view name);

  // A Pod was added or changed: bound, non-terminal pods are placed on their node; others
  // are removed from the cache (an assumed pod still unbound in the informer stays assumed).
  void UpdatePod(const PodInfoPtr& pod);
  void RemovePod(std::string_view key);

  // Counts `pod` (with node_name set) on its node until the informer confirms the binding.
  void Assume(const PodInfoPtr& pod);
  // The binding of an assumed pod failed: stop counting it.
  void Forget(std::string_view key);
  bool IsAssumed(std::string_view key) const;

  // Runs `cycle` with a snapshot of every node that has a Node object (in name order);
  // `namespaces` is copied into the snapshot. The snapshot is valid only inside `cycle`.
  // When `cycle` returns a pod (with node_name set), it is assumed before the lock is
  // released. `cycle` must not call back into the cache.
  void WithSnapshot(const NamespaceLookup& namespaces, const std::function<PodInfoPtr(const Snapshot&)>& cycle);

  size_t NodeCount() const;
  size_t AssumedCount() const;

 private:
  // Removes the pod from whatever node holds it.
  void RemovePodLocked(std::string_view key) REQUIRES(mu_);
  void PlaceLocked(const PodInfoPtr& pod) REQUIRES(mu_);
  // Drops a NodeInfo with neither a Node object nor pods.
  void PruneLocked(const std::string& node) REQUIRES(mu_);
  // Marks the affinity lists stale when `node` started or stopped holding pods with
  // affinity terms (`before` is its (with affinity, with required anti-affinity) then).
  void NoteAffinityChangeLocked(const NodeInfo& node, std::pair<bool, bool> before) REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, NodeInfo, std::less<>> nodes_ GUARDED_BY(mu_);
  // The NodeInfos with a Node object, in name order: rebuilt only after the set of nodes
  // changed, not per cycle (map entries never move, so the pointers stay valid).
  std::vector<const NodeInfo*> node_list_ GUARDED_BY(mu_);
  bool node_list_stale_ GUARDED_BY(mu_) = true;
  // The subsets of node_list_ that Snapshot::with_affinity and with_required_anti_affinity
  // hold: rebuilt only when a node enters or leaves one, so pods without affinity terms
  // (the common case) cost no walk over every node.
  std::vector<const NodeInfo*> with_affinity_ GUARDED_BY(mu_);
  std::vector<const NodeInfo*> with_required_anti_affinity_ GUARDED_BY(mu_);
  bool affinity_lists_stale_ GUARDED_BY(mu_) = true;
  std::map<std::string, std::string, std::less<>> pod_node_ GUARDED_BY(mu_);  // pod key → node
  std::set<std::string, std::less<>> assumed_ GUARDED_BY(mu_);
};

}  // namespace kite::scheduler
