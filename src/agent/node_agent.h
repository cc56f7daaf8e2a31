// NodeAgent: one node, as the API sees a kubelet — it registers the Node, keeps its Lease
// renewed, and runs the pods bound to it through a Runtime, writing their status.
//
// Operation (the caller — AgentRunner — brings the threads, the pod cache and the queue):
//   - Heartbeat(): registers the Node when it is not (create, or update labels of an
//     existing one), renews the Lease kube-node-lease/<node> every lease_renew_interval
//     (creating it with an ownerReference to the Node), and re-posts the Node's status at
//     least every status_report_interval. A failure schedules the next attempt after a
//     back-off (200 ms doubling to 7 s); a Node deleted by someone is registered again.
//   - SyncPod(key, pod): level-triggered reconcile of one pod. A pod absent from the API (or
//     replaced by a new one of the same name) is stopped and removed from the runtime. A pod
//     with a deletionTimestamp has its containers stopped (with its grace period), its final
//     status written, and is then deleted with gracePeriodSeconds 0 and a uid precondition.
//     A pod whose phase is Succeeded or Failed keeps its phase; its sandbox is stopped.
//     Otherwise PodRunner syncs it and the status (pod_status.h) is written — only when it
//     differs from what the API has — as a JSON patch that tests metadata.uid and replaces
//     status.
//   - Relist(): the PLEG: which pods' containers changed in the runtime since the last call.
//
// Errors: the API's and the runtime's; the caller retries with back-off. Conflicts are normal.
// Thread-safety: Heartbeat may run concurrently with SyncPod; SyncPod may run concurrently
// for different keys but never twice at once for the same key (the work queue guarantees
// it). NextHeartbeatMillis, Registered and Relist may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/agent/node_status.h"
#include "src/agent/pod_objects.h"
#include "src/agent/pod_runner.h"
#include "src/agent/volumes/volume_manager.h"
#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/runtime/runtime.h"
#include "src/server/client/event_recorder.h"
#include "src/server/client/informer.h"
#include "src/server/client/resource_client.h"

namespace kite::agent {

struct NodeAgentOptions {
  NodeDescription node;
  std::chrono::milliseconds lease_renew_interval{10'000};
  int lease_duration_seconds = 40;
  std::chrono::milliseconds status_report_interval{300'000};
  // The pods' files: <agent_dir>/pods/<uid>/ (volumes, etc-hosts, termination messages) and
  // the containers' logs in <agent_dir>/pod-logs/. "" (simulated nodes) = no files: volumes
  // are neither prepared nor mounted, sandboxes get no log directory.
  std::string agent_dir;
  // What pods refer to in the API (ConfigMaps, Secrets, claims, Services, tokens); null =
  // an ApiPodObjects over the agent's transport. Must outlive the agent.
  PodObjects* objects = nullptr;
  // The resolv.conf whose servers and searches pods with dnsPolicy Default or ClusterFirst
  // get (no cluster DNS yet); "" = none.
  std::string resolv_conf;
  // Samples the node's memory and disk (node_pressure.h) at each heartbeat; a change is
  // posted at once. Null (simulated nodes) = never under pressure.
  std::function<NodePressure()> pressure;
};

class NodeAgent {
 public:
  // `transport`, `runtime` and `clock` (null = the system clock) must outlive the agent.
  NodeAgent(NodeAgentOptions options, client::ApiTransport* transport, runtime::Runtime* runtime,
            const Clock* clock = nullptr);

  const std::string& name() const { return options_.node.name; }
  const NodeDescription& node() const { return options_.node; }

  // Probes for the pods synced from now on (null = none: readiness stand-in, see
  // pod_runner.h). Set before the first SyncPod; `probes` must outlive the agent's syncs.
  void SetProbeManager(prober::ProbeManager* probes) { probes_ = probes; }
  // Where the kubelet's Events about this node's pods go (pod_runner.h lists them); default:
  // nowhere. Set before the first SyncPod.
  void SetEventRecorder(client::EventRecorder recorder) { recorder_ = std::move(recorder); }
  const client::EventRecorder& events() const { return recorder_; }

  Status Heartbeat() EXCLUDES(heartbeat_mu_, mu_);
  // The clock time (ms) at which Heartbeat next has something to do.
  int64_t NextHeartbeatMillis() const EXCLUDES(mu_);
  bool Registered() const EXCLUDES(mu_);

  struct SyncResult {
    int64_t wake_at = 0;  // sync again at this clock time (0 = only on a change)
  };
  // `key` is "namespace/name"; `pod` the cached object, null when the API has none.
  Result<SyncResult> SyncPod(const std::string& key, const client::ObjectPtr& pod) EXCLUDES(mu_);

  // Keys of the pods whose containers changed state (or appeared, or went) in the runtime
  // since the previous call.
  std::vector<std::string> Relist() EXCLUDES(mu_);
  // Keys of every pod this agent runs something for.
  std::vector<std::string> PodKeys() const EXCLUDES(mu_);

 private:
  struct PodEntry {
    std::unique_ptr<PodRunner> runner;
    std::string last_status;        // JSON of the status last written
    uint64_t last_revision = 0;     // the resourceVersion that write produced
  };

  Status Register(int64_t now) REQUIRES(heartbeat_mu_);
  Status RenewLease(int64_t now) REQUIRES(heartbeat_mu_);
  Status PostStatus(int64_t now) REQUIRES(heartbeat_mu_);
  Status WriteStatus(const rapidjson::Value& pod, PodEntry& entry, rapidjson::Document status);
  Status DeletePod(const rapidjson::Value& pod);
  std::shared_ptr<PodEntry> Entry(const std::string& key) const EXCLUDES(mu_);

  const NodeAgentOptions options_;
  runtime::Runtime* runtime_;
  prober::ProbeManager* probes_ = nullptr;
  client::EventRecorder recorder_;
  const Clock* clock_;
  const client::ResourceClient nodes_;
  const client::ResourceClient leases_;
  const client::ResourceClient pods_;
  // How pods are made (container_config.h): built from the options at construction.
  std::unique_ptr<PodObjects> own_objects_;
  std::unique_ptr<volumes::VolumeManager> volumes_;
  PodSetup setup_;

  // Heartbeat state: one Heartbeat at a time.
  Mutex heartbeat_mu_;
  std::string node_uid_ GUARDED_BY(heartbeat_mu_);
  std::optional<rapidjson::Document> node_status_ GUARDED_BY(heartbeat_mu_);  // last posted
  NodePressure pressure_ GUARDED_BY(heartbeat_mu_);  // as last sampled
  std::optional<rapidjson::Document> lease_ GUARDED_BY(heartbeat_mu_);        // as stored

  mutable Mutex mu_;
  bool registered_ GUARDED_BY(mu_) = false;
  int64_t next_lease_ GUARDED_BY(mu_) = 0;
  int64_t next_status_ GUARDED_BY(mu_) = 0;
  int failures_ GUARDED_BY(mu_) = 0;
  int64_t next_attempt_ GUARDED_BY(mu_) = 0;
  // Pods this agent runs; an entry is used by the one SyncPod of its key at a time.
  std::map<std::string, std::shared_ptr<PodEntry>> pods_running_ GUARDED_BY(mu_);
  // The PLEG's last view: container id → (pod key, state).
  std::map<std::string, std::pair<std::string, runtime::ContainerState>> pleg_ GUARDED_BY(mu_);
};

}  // namespace kite::agent
