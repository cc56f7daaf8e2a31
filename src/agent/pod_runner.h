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
// Probes (with a ProbeManager, prober/prober_manager.h): each sync tells the manager which
// container instances run; a running container is started once its startup probe
// succeeded (at once without one) and ready once started and its readiness probe succeeded
// (at once without one). A container whose liveness or startup probe failed is stopped
// (preStop hook first, then the grace period: the probe's terminationGracePeriodSeconds or
// the pod's) and, unless restartPolicy is Never, started again at once; its lastState
// carries "Container x failed liveness probe, will be restarted". On the fake runtime only
// exec probes run; other probes, and every probe without a manager, use the stand-in:
// a running container is ready once it has run readinessProbe.initialDelaySeconds (0
// without a probe). Never ready when the pod carries sim.kite.dev/ready: "false" (fake
// runtime hook). Init containers are ready once they succeeded.
// Hooks: postStart runs right after StartContainer, before the sync reports the container;
// if it fails the container is stopped and its termination shows reason
// FailedPostStartHook with the hook's message. preStop runs before every stop, its time
// taken from the grace period. On the fake runtime only exec hooks run.
//
// Events (with a recorder; on the container, fieldPath spec.containers{name}, unless said):
// the image's (image_puller.h); Created "Created container x", Started "Started container
// x", Failed "Error: ..." (a container that cannot be configured, created or started, or
// whose image cannot be had: "Error: ErrImagePull"), BackOff "Back-off restarting failed
// container x in pod p_ns(uid)", Killing ("Stopping container x", or "Container x failed
// liveness probe, will be restarted"), FailedPostStartHook; on the pod: FailedMount (volumes
// not ready) and FailedCreatePodSandBox.
//
// Thread-safety: none; the node agent runs one sync of a pod at a time.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "src/agent/container_config.h"
#include "src/agent/image_puller.h"
#include "src/agent/pod_status.h"
#include "src/agent/prober/prober_manager.h"
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
  // `probes` (null = the stand-in for readiness, no probes run) must outlive the runner.
  explicit PodRunner(std::string uid, prober::ProbeManager* probes = nullptr)
      : uid_(std::move(uid)), probes_(probes) {}

  const std::string& uid() const { return uid_; }

  // How sandboxes and containers are made (container_config.h): volumes prepared on every
  // sync (a failure keeps containers from starting and shows as their waiting message),
  // images pulled by pull policy (ErrImagePull, ImagePullBackOff, ErrImageNeverPull), env,
  // mounts, resources and security from the spec (CreateContainerConfigError when that
  // fails); volumes torn down by Remove. Null (the default) = only command, args, labels and
  // a bare sandbox config, as for simulated nodes. Set before the first Sync; `setup` must
  // outlive the runner.
  void SetSetup(const PodSetup* setup) { setup_ = setup; }
  // Where the Events go (default: nowhere). Set before the first Sync.
  void SetRecorder(client::EventRecorder recorder) {
    images_.SetRecorder(recorder);
    recorder_ = std::move(recorder);
  }

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
  // Drops the pod's probes.
  Status Remove(runtime::Runtime& rt);

 private:
  // Finds or (unless `create` is false) creates the sandbox; "" when none and not created.
  Result<std::string> EnsureSandbox(const rapidjson::Value& pod, runtime::Runtime& rt, bool create);
  Result<PodReport> BuildReport(const rapidjson::Value& pod, runtime::Runtime& rt,
                                const std::string& host_ip, int64_t now, int64_t& wake_at);
  runtime::PodSandboxConfig SandboxConfig(const rapidjson::Value& pod) const;
  // Pulls the image and builds the config of instance `attempt`; nullopt when the container
  // cannot be created now (the waiting reason is then in create_errors_).
  Result<std::optional<runtime::ContainerConfig>> ContainerConfigFor(const rapidjson::Value& pod,
                                                                     const rapidjson::Value& spec, uint32_t attempt,
                                                                     const runtime::PodSandbox& sandbox,
                                                                     const std::string& host_ip, runtime::Runtime& rt,
                                                                     int64_t now, int64_t& wake_at);

  const std::string uid_;
  std::string sandbox_id_;
  int64_t start_time_ = 0;
  RestartBackoff backoff_;
  // Containers in back-off: name → the waiting message.
  std::map<std::string, std::string> crash_loop_;
  // Containers that could not be created: name → (waiting reason, message).
  std::map<std::string, std::pair<std::string, std::string>> create_errors_;
  // Container creation (see SetSetup).
  const PodSetup* setup_ = nullptr;
  ImagePuller images_;
  client::EventRecorder recorder_;
  // An Event about container `name` of `pod`.
  void ContainerEvent(const rapidjson::Value& pod, std::string_view name, client::EventType type,
                      std::string_view reason, const std::string& message) const;
  std::optional<volumes::VolumeMap> volumes_;  // as the last sync prepared them
  std::string volume_error_;                  // why they could not be, "" when they were

  // Probes and hooks (see the class comment).
  struct KillNote {
    std::string reason;   // replaces the runtime's reason when not empty
    std::string message;  // shown when the runtime gives none
  };
  // Runs the postStart hook of a container just started; stops it when the hook fails.
  Status PostStart(const rapidjson::Value& pod, const rapidjson::Value& spec, const std::string& container_id,
                   const std::string& pod_ip, runtime::Runtime& rt);
  // Tells the prober which instances run (after a sync listed them).
  void UpdateProbes(const rapidjson::Value& pod, const std::string& pod_ip,
                    const std::map<std::string, std::vector<runtime::Container>>& instances, runtime::Runtime& rt);
  void ApplyKillNote(const runtime::Container& c, ContainerStateView& view) const;

  prober::ProbeManager* const probes_;
  // Containers the agent stopped (liveness, startup, postStart): container id → why.
  std::map<std::string, KillNote> kill_notes_;
};

}  // namespace kite::agent
