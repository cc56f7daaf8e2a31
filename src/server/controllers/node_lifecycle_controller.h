// Node lifecycle, as Kubernetes' node lifecycle controller does it:
//  - a node whose kubelet has not renewed its Lease (or posted status) for the grace period
//    (40 s) gets its conditions set to Unknown ("Kubelet stopped posting node status.");
//  - taints follow the Ready condition: False → node.kubernetes.io/not-ready, Unknown →
//    node.kubernetes.io/unreachable, each with NoSchedule and NoExecute (the NoExecute one
//    stamped with timeAdded); spec.unschedulable → node.kubernetes.io/unschedulable
//    NoSchedule;
//  - pods on a node that stopped being Ready get their Ready condition set to False;
//  - NoExecute taints evict: a pod that does not tolerate one is deleted at once, one that
//    tolerates it for tolerationSeconds is deleted that long after the taint's timeAdded.
// Queue keys are node names; every node is looked at again every monitor period.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

struct NodeLifecycleOptions {
  std::chrono::milliseconds grace_period{std::chrono::seconds(40)};
  std::chrono::milliseconds monitor_period{std::chrono::seconds(5)};
  Clock* clock = nullptr;  // null = the system clock
  // Gets the Events NodeNotReady (on the Node, when this controller turns its Ready
  // condition from True to Unknown) and TaintManagerEviction (on each evicted pod);
  // default: none are recorded.
  client::EventRecorder recorder;
};

class NodeLifecycleController final : public Controller {
 public:
  explicit NodeLifecycleController(NodeLifecycleOptions options = {});

  std::string_view Name() const override { return "nodelifecycle"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& node_name) override;

 private:
  void IndexPod(const rapidjson::Value& pod, bool present);
  std::vector<client::ObjectPtr> PodsOn(const std::string& node_name) const;
  Status MarkUnknown(const rapidjson::Value& node);
  Status MarkPodsNotReady(const std::string& node_name);
  Status SyncTaints(const rapidjson::Value& node, int64_t now_ms);
  // Deletes pods that may no longer stay; returns the earliest time (ms) a tolerating pod
  // must go, 0 = none pending.
  Result<int64_t> EvictPods(const rapidjson::Value& node, int64_t now_ms);

  NodeLifecycleOptions options_;
  Clock* clock_;
  WorkQueue* queue_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* leases_ = nullptr;
  client::Informer* pods_ = nullptr;
  std::optional<client::ResourceClient> node_client_;
  std::optional<client::ResourceClient> pod_client_;

  mutable Mutex mu_;
  // Hashed: every pod change looks itself up.
  std::unordered_map<std::string, std::set<std::string>> pods_by_node_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::string> node_of_pod_ GUARDED_BY(mu_);
  // What this controller last saw of each node's heartbeats, and when (its own clock).
  struct NodeHealth {
    std::string lease_renew;
    std::string heartbeat;
    int64_t probe_ms = 0;
  };
  std::map<std::string, NodeHealth> health_ GUARDED_BY(mu_);
};

}  // namespace kite::controllers
