// NodeAgent: one node, as the API sees a kubelet — it registers the Node, keeps its Lease
// renewed, and runs the pods bound to it through a Runtime, writing their status.
//
// Operation (the caller — AgentRunner — brings the threads, the pod cache and the queue):
//   - Heartbeat(): registers the Node when it is not (create, or update labels of an
//     existing one), renews the Lease kube-node-lease/<node> every lease_renew_interval
//     (creating it with an ownerReference to the Node), and re-posts the Node's status at
//     least every status_report_interval. A failure schedules the next attempt after a
//     back-off (200 ms doubling to 7 s); a Node deleted by someone is registered again
//     (with the pod CIDR it had, once known).
//   - The pod CIDR: the Node's spec.podCIDR — the description's own (--node-pod-cidr), else
//     the one the server's node IPAM controller sets. Learned from registration's answer
//     and, while unknown, from a read of the Node every pod_cidr_check_interval within the
//     heartbeat (no thread of its own). Until then the node is NotReady (node_status.h's
//     kNetworkNotReadyMessage) and starts no pod sandboxes. Once known, on_pod_cidr is
//     called (set up the network), the node turns Ready and the status is posted at once.
//     It is reported once: a later change of the Node's podCIDR (which the API forbids)
//     is not followed.
//   - SyncPod(key, pod): level-triggered reconcile of one pod. A pod absent from the API (or
//     replaced by a new one of the same name) is stopped and removed from the runtime. A pod
//     with a deletionTimestamp has its containers stopped (with its grace period), its final
//     status written, and is then deleted with gracePeriodSeconds 0 and a uid precondition.
//     A pod whose phase is Succeeded or Failed keeps its phase; its sandbox is stopped.
//     A pod that needs the pod network (not hostNetwork) while the node has no pod CIDR
//     waits: nothing starts, a Warning NetworkNotReady Event is recorded ("network is not
//     ready: ..."), and its key is remembered for TakeNetworkWaiters.
//     Otherwise PodRunner syncs it and the status (pod_status.h) is written — only when it
//     differs from what the API has — as a JSON patch that tests metadata.uid and replaces
//     status.
//   - Relist(): the PLEG: which pods' containers changed in the runtime since the last call.
//
// Errors: the API's and the runtime's; the caller retries with back-off. Conflicts are normal.
// Thread-safety: Heartbeat may run concurrently with SyncPod; SyncPod may run concurrently
// for different keys but never twice at once for the same key (the work queue guarantees
// it). NextHeartbeatMillis, Registered, PodCidr, NetworkReady, TakeNetworkWaiters and
// Relist may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
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
  // Called once, on the heartbeat's thread, when the node's pod CIDR is first known and
  // before any pod sandbox may start: set up the pod network (containerd: the CNI network
  // list; the fake runtime: its address range). An error leaves the node NotReady and is
  // the heartbeat's error; the next heartbeat tries again. Null = nothing to set up.
  std::function<Status(const std::string& pod_cidr)> on_pod_cidr;
  // While the node has no pod CIDR, how often the heartbeat reads the Node for one.
  std::chrono::milliseconds pod_cidr_check_interval{1'000};
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
  // The node's pod CIDR once known (and on_pod_cidr succeeded), else "".
  std::string PodCidr() const EXCLUDES(mu_);
  // True once the pod CIDR is known: pods may start, the node is Ready.
  bool NetworkReady() const EXCLUDES(mu_);
  // Keys of the pods that waited for the pod network since the last call (sync them again
  // once NetworkReady); empties the list.
  std::vector<std::string> TakeNetworkWaiters() EXCLUDES(mu_);

  struct SyncResult {
    int64_t wake_at = 0;  // sync again at this clock time (0 = only on a change)
  };
  // `key` is "namespace/name"; `pod` the cached object, null when the API has none.
  Result<SyncResult> SyncPod(const std::string& key, const client::ObjectPtr& pod) EXCLUDES(mu_);
  // Whether the status of `pod` (pod `key` as the API now has it) is what this agent last
  // wrote for it, or is writing: the watch echoing that write back.
  bool IsOwnStatusWrite(const std::string& key, const rapidjson::Value& pod) const EXCLUDES(mu_);

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
    // The status last sent, from before the write is sent: its echo can arrive first.
    mutable Mutex sent_mu;
    std::shared_ptr<const rapidjson::Document> sent GUARDED_BY(sent_mu);
  };

  Status Register(int64_t now) REQUIRES(heartbeat_mu_);
  Status RenewLease(int64_t now) REQUIRES(heartbeat_mu_);
  Status PostStatus(int64_t now) REQUIRES(heartbeat_mu_);
  // Takes spec.podCIDR of `node` (the API's Node) when none is known yet: calls
  // on_pod_cidr, then marks the network ready.
  Status LearnPodCidr(const rapidjson::Value& node) REQUIRES(heartbeat_mu_) EXCLUDES(mu_);
  // Reads the Node for its pod CIDR.
  Status CheckPodCidr(int64_t now) REQUIRES(heartbeat_mu_) EXCLUDES(mu_);
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
  bool posted_ready_ GUARDED_BY(heartbeat_mu_) = false;  // what the last status said

  mutable Mutex mu_;
  bool registered_ GUARDED_BY(mu_) = false;
  int64_t next_lease_ GUARDED_BY(mu_) = 0;
  int64_t next_status_ GUARDED_BY(mu_) = 0;
  int failures_ GUARDED_BY(mu_) = 0;
  int64_t next_attempt_ GUARDED_BY(mu_) = 0;
  std::string pod_cidr_ GUARDED_BY(mu_);      // "" until known
  bool network_ready_ GUARDED_BY(mu_) = false;
  int64_t next_cidr_check_ GUARDED_BY(mu_) = 0;
  std::set<std::string> network_waiters_ GUARDED_BY(mu_);
  // Pods this agent runs; an entry is used by the one SyncPod of its key at a time.
  std::map<std::string, std::shared_ptr<PodEntry>> pods_running_ GUARDED_BY(mu_);
  // The PLEG's last view: container id → (pod key, state).
  std::map<std::string, std::pair<std::string, runtime::ContainerState>> pleg_ GUARDED_BY(mu_);
};

}  // namespace kite::agent
