// AgentRunner: the threads that drive one or many NodeAgents over one transport — one pod
// informer, one work queue, worker threads and a ticker. `kite agent --runtime fake` runs
// one node with it, `kite sim` thousands.
//
// Operation:
//   - The pod informer watches pods with fieldSelector spec.nodeName=<node> when there is
//     one node, else every pod bound to some node (spec.nodeName!=); events queue the key
//     "<node>|<namespace>/<name>" of pods on a node this runner drives, except an update
//     that only brings back the status the node's agent wrote (the kubelet does not sync
//     a pod for a status change either).
//   - Workers take keys: "<node>|" runs that node's Heartbeat (after which, once the node
//     has its pod network, the pods that waited for it are queued again), any other key
//     its SyncPod;
//     an error requeues the key with back-off (200 ms doubling to 10 s); a sync that asks for
//     a later look (back-off expiry, readiness delay) is requeued for then.
//   - The ticker, every `tick`: queues the heartbeat of every node that is due, and the
//     pods each node's Relist (PLEG) reports; every `resync` (once the informer has synced)
//     every pod of every node, so pods the API lost are found and stopped.
//   - Probes: Start creates one ProbeManager (prober/prober_manager.h) shared by every
//     node (unless run_probes is false); a probe result that changes queues that pod's key.
//   - Server unreachable: pods keep running as they are; the informer re-lists, heartbeats
//     retry with back-off; nothing exits. State changes of a heartbeat (failing, recovered)
//     are logged once each.
// Stop shuts the queue down, joins the ticker and the workers, stops the probes, then the
// informer; no agent method runs after it returns. Pods keep their state in the runtime.
//
// Limits: no bound on the queue (one entry per pod and node at most, by key).
// Thread-safety: Start and Stop from one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/agent/node_agent.h"
#include "src/agent/prober/prober_manager.h"
#include "src/base/mutex.h"
#include "src/server/client/event_broadcaster.h"
#include "src/server/client/informer.h"
#include "src/server/controllers/work_queue.h"

namespace kite::agent {

struct AgentRunnerOptions {
  int workers = 2;
  std::chrono::milliseconds tick{1000};
  std::chrono::milliseconds resync{60'000};
  // The clock the agents use (their wake-up times are in it); null = the system clock.
  const Clock* clock = nullptr;
  // Where messages go (one line each, no newline); null = stderr with a "kite: " prefix.
  std::function<void(const std::string&)> log;
  // Run liveness, readiness and startup probes (threads for them start with Start).
  bool run_probes = true;
  int probe_threads = 4;
  // Write the kubelet's Events (source kubelet, host = the node; pod_runner.h and
  // image_puller.h list them, plus Unhealthy "Liveness probe failed: ..." for every failed
  // probe) through the transport, from one EventBroadcaster thread. Off by default:
  // simulated nodes make none, as KWOK's do not.
  bool record_events = false;
};

class AgentRunner {
 public:
  // `transport` must outlive the runner. Node names must be unique.
  AgentRunner(client::ApiTransport* transport, std::vector<std::unique_ptr<NodeAgent>> nodes,
              AgentRunnerOptions options = {});
  ~AgentRunner();
  AgentRunner(const AgentRunner&) = delete;
  AgentRunner& operator=(const AgentRunner&) = delete;

  void Start();
  void Stop();

  // The agents, by name (null when unknown).
  NodeAgent* Find(std::string_view node_name) const;
  const client::Informer& pods() const { return *pods_; }

 private:
  void Work();
  void Tick();
  void Enqueue(const client::ObjectPtr& pod);
  // `pod` differs from `old` only by a status write of its node's agent.
  bool IsOwnStatusEcho(const rapidjson::Value& old, const rapidjson::Value& pod) const;
  void Log(const std::string& line) const;
  void NoteHeartbeat(const std::string& node, const Status& s);
  // The kubelet's Unhealthy Event for a failed probe.
  void RecordUnhealthy(const prober::ProbeAttemptFailure& f) const;

  AgentRunnerOptions options_;
  const Clock* clock_;
  std::map<std::string, std::unique_ptr<NodeAgent>, std::less<>> nodes_;
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<prober::ProbeManager> probes_;
  std::unique_ptr<client::EventBroadcaster> events_;  // with record_events
  controllers::WorkQueue queue_;
  std::vector<std::thread> workers_;
  std::thread ticker_;
  bool started_ = false;

  Mutex mu_;
  CondVar stop_cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::set<std::string> failing_ GUARDED_BY(mu_);  // nodes whose last heartbeat failed
};

}  // namespace kite::agent
