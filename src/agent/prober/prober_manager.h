// ProbeManager: the liveness, readiness and startup probes of the pods a node agent runs,
// as the kubelet's prober manager and workers do them (pkg/kubelet/prober/prober_manager.go,
// worker.go).
//
// Operation:
//   - One worker per (pod uid, container, kind) whose container spec has that probe (only
//     exec probes when the pod's input says exec_only: the fake runtime). Update creates
//     them and tells them which container instance runs (id, start time, running); Remove
//     drops a pod's workers.
//   - A worker probes its running container every periodSeconds, the first time
//     initialDelaySeconds after the container started. successThreshold results in a row
//     make the result Success, failureThreshold ones Failure; until then the previous
//     result stands. A new container id starts the count afresh with the kind's initial
//     result: readiness Failure (not ready until the first success), liveness Success,
//     startup Unknown.
//   - Startup gating: while a container has a startup probe that has not succeeded,
//     its liveness and readiness workers wait; once it succeeded, the startup worker stops
//     probing that container and the others probe at once.
//   - A liveness or startup Failure puts the worker on hold until a new container id
//     appears (the agent kills and restarts the container: FailedProbe says so).
//   - While the pod is being deleted (metadata.deletionTimestamp), liveness and startup
//     report Success and stop, so a terminating container is not restarted.
//   - An Unknown result (the probe could not run: an unknown port name, a runtime error)
//     is thrown away, as Kubernetes does.
//   - Whenever a reported result changes (readiness either way, a liveness or startup
//     failure, a startup success) on_change is called, outside any lock, from the thread
//     that ran the probe, so the agent can sync that pod at once.
// Threads: with start_threads, one timer thread decides what is due and a pool of
// pool_threads runs the probes (they block: exec, HTTP, TCP, gRPC); a worker has at most
// one probe in flight. Without threads, RunDue runs what is due on the caller's thread
// (tests with a FakeClock).
// Limits: probes beyond the pool's size wait for a free thread; no other bound on the
// number of workers.
// Thread-safety: every method may be called from any thread. Stop (also run by the
// destructor) stops the threads and waits for probes in flight; queries still answer after.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "src/agent/prober/probe_runner.h"
#include "src/agent/prober/probe_spec.h"
#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/runtime/runtime.h"

namespace kite::agent::prober {

// What the runtime shows for one regular container of a pod.
struct ContainerObservation {
  std::string name;
  std::string id;          // the runtime's id (no scheme); "" = none created yet
  int64_t started_at = 0;  // Unix ms (the manager's clock)
  bool running = false;
};

struct PodObservation {
  std::string uid;
  const rapidjson::Value* pod = nullptr;  // metadata, spec.nodeName, spec.containers
  std::string pod_ip;
  runtime::Runtime* runtime = nullptr;  // exec probes; must stay valid until Remove or Stop
  bool exec_only = false;               // run exec probes only (the fake runtime)
  std::vector<ContainerObservation> containers;
};

// Which pod to sync again.
struct ProbeEvent {
  std::string node;     // spec.nodeName
  std::string pod_key;  // "namespace/name"
  std::string uid;
};

struct ProbeFailure {
  ProbeKind kind = ProbeKind::kLiveness;
  std::string message;  // "Container app failed liveness probe"
  std::string output;   // what the last failing probe said
};

// Runs one probe; RunProbe unless a test substitutes its own.
using ProbeFunction = std::function<ProbeOutcome(const Action&, const ProbeTarget&, std::chrono::milliseconds)>;

// One failed probe attempt (the kubelet's Unhealthy event: "Liveness probe failed: ...").
struct ProbeAttemptFailure {
  ProbeEvent pod;
  std::string container;
  ProbeKind kind = ProbeKind::kLiveness;
  std::string output;  // what the probe said
};

struct ProbeManagerOptions {
  const Clock* clock = nullptr;  // null = the system clock
  bool start_threads = true;
  int pool_threads = 4;
  std::function<void(const ProbeEvent&)> on_change;
  // Called for every probe attempt that failed (each one, below the failure threshold
  // too), outside any lock, from the thread that ran the probe; null = nobody is told.
  std::function<void(const ProbeAttemptFailure&)> on_failure;
  ProbeFunction run_probe;  // null = RunProbe
};

class ProbeManager {
 public:
  explicit ProbeManager(ProbeManagerOptions options = {});
  ~ProbeManager();
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  // Creates, refreshes and drops the workers of one pod from its spec and what runs.
  void Update(const PodObservation& pod) EXCLUDES(mu_);
  // Drops every worker of the pod.
  void Remove(const std::string& uid) EXCLUDES(mu_);

  // Whether the container instance `container_id` has started: true without a startup
  // probe, else once the startup probe succeeded for that instance.
  bool Started(const std::string& uid, const std::string& name, const std::string& container_id) const
      EXCLUDES(mu_);
  // Whether the readiness probe says ready for that instance: true without a readiness
  // probe, false until its first success. (The caller also requires running and started.)
  bool Ready(const std::string& uid, const std::string& name, const std::string& container_id) const
      EXCLUDES(mu_);
  // Set when the liveness (or startup) probe failed for that instance: kill it.
  std::optional<ProbeFailure> FailedProbe(const std::string& uid, const std::string& name,
                                          const std::string& container_id) const EXCLUDES(mu_);
  // Whether a worker of `kind` exists for the container.
  bool HasProbe(const std::string& uid, const std::string& name, ProbeKind kind) const EXCLUDES(mu_);
  size_t WorkerCount() const EXCLUDES(mu_);

  // Runs, on this thread, every probe due at the clock's time; returns how many ran.
  int RunDue() EXCLUDES(mu_);

  void Stop() EXCLUDES(mu_);

 private:
  enum class Reported { kUnknown, kSuccess, kFailure };
  struct Worker;
  struct Task;
  using Key = std::tuple<std::string, std::string, ProbeKind>;  // uid, container, kind

  // What a worker reports for a new container before any probe ran.
  static Reported Initial(ProbeKind kind);

  std::shared_ptr<Worker> Find(const std::string& uid, const std::string& name, ProbeKind kind) const
      REQUIRES(mu_);
  // Decides what worker `w` does at `now`: a probe to run, or nothing (then next_due moves).
  std::optional<Task> Prepare(const std::shared_ptr<Worker>& w, int64_t now, std::vector<ProbeEvent>& events)
      REQUIRES(mu_);
  void Apply(const Task& task, const ProbeOutcome& outcome, int64_t now, std::vector<ProbeEvent>& events,
             std::vector<ProbeAttemptFailure>& failures)
      REQUIRES(mu_);
  void SetReported(Worker& w, Reported value, std::vector<ProbeEvent>& events) REQUIRES(mu_);
  std::vector<Task> CollectDue(int64_t now, std::vector<ProbeEvent>& events) REQUIRES(mu_);
  ProbeOutcome Execute(const Task& task) const;
  void Notify(const std::vector<ProbeEvent>& events) const;
  void NotifyFailures(const std::vector<ProbeAttemptFailure>& failures) const;
  void TimerLoop() EXCLUDES(mu_);
  void PoolLoop() EXCLUDES(mu_);

  const ProbeManagerOptions options_;
  const Clock* clock_;

  mutable Mutex mu_;
  CondVar timer_cv_;
  CondVar pool_cv_;
  std::map<Key, std::shared_ptr<Worker>> workers_ GUARDED_BY(mu_);
  std::deque<Task> queue_ GUARDED_BY(mu_);  // probes waiting for a pool thread
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread timer_;
  std::vector<std::thread> pool_;
};

}  // namespace kite::agent::prober
