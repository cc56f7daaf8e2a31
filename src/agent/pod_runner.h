// PodRunner: what the kubelet does for one pod in the container runtime (kuberuntime
// SyncPod / KillPod), and the report of what runs, from which pod_status.h builds the
// status.
//
// Operation of Sync: ensures the pod's sandbox (found by the pod uid label, else created);
// runs the init containers one at a time in spec order, each to successful completion; then
// creates and starts every regular container. An exited container is restarted according to
// the restart policy (Always; OnFailure when the exit code is not 0; init containers unless
// Never) with the kubelet's back-off: the first restart at once, then waits of 10 s, 20 s,
// 40 s, ... capped at 5 minutes, counted from the exit; while waiting the container shows
// waiting/CrashLoopBackOff. A back-off entry is forgotten when the exit comes more than
// 10 minutes after the previous one (as flowcontrol.Backoff expires entries). Per container
// name the newest two instances are kept (the current one and the lastState), older ones
// are removed.
//
// Readiness (the prober's stand-in; probes are not executed): a running container is ready
// once it has run readinessProbe.initialDelaySeconds (0 without a probe), never when the
// pod carries sim.kite.dev/ready: "false". Init containers are ready once they succeeded.
//
// Thread-safety: none; the node agent runs one sync of a pod at a time.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>

#include "src/agent/pod_status.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::agent {

// client-go's flowcontrol.Backoff as the kubelet configures it for container restarts.
class RestartBackoff {
 public:
  static constexpr int64_t kInitialMillis = 10'000;
  static constexpr int64_t kMaxMillis = 300'000;

  // True while a restart of `key`, whose last instance exited at `finished_at`, must wait.
  bool InBackoff(const std::string& key, int64_t finished_at, int64_t now) const;
  // Records a restart after an exit at `finished_at`: the next wait doubles, or starts at
  // 10 s when there is none or it expired.
  void Next(const std::string& key, int64_t finished_at);
  // The current wait of `key` in ms (0 = none).
  int64_t Current(const std::string& key) const;

 private:
  struct Entry {
    int64_t backoff = 0;
    int64_t last_update = 0;
  };
  std::map<std::string, Entry> entries_;
};

class PodRunner {
 public:
  explicit PodRunner(std::string uid) : uid_(std::move(uid)) {}

  const std::string& uid() const { return uid_; }

  struct Outcome {
    PodReport report;
    int64_t wake_at = 0;  // when something changes without a runtime event (0 = never)
  };

  // One sync of `pod` (which has this runner's uid) at `now`; `host_ip` goes into the
  // report. Errors are the runtime's (the caller retries); a container the runtime refuses
  // to create shows as waiting/CreateContainerError instead.
  Result<Outcome> Sync(const rapidjson::Value& pod, runtime::Runtime& rt, const std::string& host_ip,
                       int64_t now);

  // Stops every container (each gets `grace_seconds`) and the sandbox, and reports the
  // pod's final state (terminal: nothing restarts).
  Result<Outcome> Kill(const rapidjson::Value& pod, runtime::Runtime& rt, const std::string& host_ip,
                       int64_t grace_seconds, int64_t now);

  // Removes the sandbox and its containers (stopping them first); kOk when none exists.
  Status Remove(runtime::Runtime& rt);

 private:
  // Finds or (unless `create` is false) creates the sandbox; "" when none and not created.
  Result<std::string> EnsureSandbox(const rapidjson::Value& pod, runtime::Runtime& rt, bool create);
  Result<PodReport> BuildReport(const rapidjson::Value& pod, runtime::Runtime& rt,
                                const std::string& host_ip, int64_t now, int64_t& wake_at);

  const std::string uid_;
  std::string sandbox_id_;
  int64_t start_time_ = 0;
  RestartBackoff backoff_;
  // Containers in back-off: name → the waiting message.
  std::map<std::string, std::string> crash_loop_;
  // Containers the runtime refused to create: name → the error.
  std::map<std::string, std::string> create_errors_;
};

}  // namespace kite::agent
