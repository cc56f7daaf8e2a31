// An in-memory Runtime: sandboxes get an IP from a pod CIDR, containers "run" without any
// process. What tests and `kite sim` use in place of containerd.
//
// Behaviour:
//   - RunPodSandbox is ready at once with the lowest free address of the pod CIDR (the
//     network address, .1 (the gateway) and the broadcast address are never handed out);
//     the address is free again when the sandbox is removed. Without a pod CIDR (none given
//     at Create, SetPodCidr not called yet) it fails with kUnavailable. A host-network
//     sandbox gets no address (CRI reports none; the agent shows the host's) and needs no
//     pod CIDR.
//   - StartContainer runs the container; a running container keeps running until stopped,
//     unless a hook below ends it. Stopping honours any grace period instantly: the
//     container exits with code 0 ("Completed"), as a process that handles SIGTERM does.
//   - Init containers (label kite.dev/init-container=true) exit 0 right after starting.
//   - Exited containers report reason "Completed" (exit code 0) or "Error".
//   - Images are always present: PullImage returns "sha256:" and a digest derived from the
//     image name.
//
// Test hooks: annotations of the pod (the sandbox config's annotations), read when a
// container is created:
//   sim.kite.dev/exit-code: "N"      every container of the pod exits with N (0-255) right
//                                    after starting (init containers too).
//   sim.kite.dev/run-seconds: "S"    regular containers exit 0 once they have run S seconds
//                                    (a non-negative number; fractions allowed).
//   sim.kite.dev/ready: "false"      the pod's containers never become ready. CRI has no
//                                    readiness; the node agent's prober stand-in reads it.
//   sim.kite.dev/exec-exit-code: "N" every ExecSync in the pod's containers (exec probes and
//                                    hooks) exits with N (0-255); without it, with 0.
//   sim.kite.dev/cpu-millicores: "M" every regular container of the pod uses M millicores
//                                    of CPU while running (a non-negative integer): its
//                                    cumulative CPU time grows by M/1000 core-seconds per
//                                    second since it started. Default 0.
//   sim.kite.dev/memory-bytes: "B"   every regular container's memory working set is B
//                                    bytes (a non-negative integer, optionally with a
//                                    suffix Ki, Mi, Gi, Ti, k, M, G or T). Default 0.
// ListContainerStats reports these for running containers (what the agent's
// /metrics/resource and so `kubectl top` show for simulated pods).
// ExecSync runs nothing: it answers from the exec handler when one is set
// (SetExecHandler: unit tests decide per container and command), else from the annotation
// above; kNotFound for an unknown container, kInvalidArgument when it is not running.
// A value that does not parse is ignored (the hook is off), so a typo cannot crash a node.
// Time comes from the Clock given: timed exits happen when a status or list is read at or
// after their time, so a test with a FakeClock decides when they happen.
//
// Limits: the pod CIDR's size bounds the number of sandboxes (kResourceExhausted beyond).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/runtime/runtime.h"

namespace kite::runtime {

inline constexpr char kExitCodeAnnotation[] = "sim.kite.dev/exit-code";
inline constexpr char kRunSecondsAnnotation[] = "sim.kite.dev/run-seconds";
inline constexpr char kReadyAnnotation[] = "sim.kite.dev/ready";
inline constexpr char kExecExitCodeAnnotation[] = "sim.kite.dev/exec-exit-code";
inline constexpr char kCpuMillicoresAnnotation[] = "sim.kite.dev/cpu-millicores";
inline constexpr char kMemoryBytesAnnotation[] = "sim.kite.dev/memory-bytes";

struct FakeRuntimeOptions {
  // IPv4, prefix 8..30; "" = none yet (SetPodCidr gives it later, as a node learns its
  // CIDR from the API).
  std::string pod_cidr = "10.42.0.0/24";
  const Clock* clock = nullptr;           // null = the system clock
};

class FakeRuntime final : public Runtime {
 public:
  // kInvalidArgument when the pod CIDR is not an IPv4 CIDR with a prefix of 8 to 30.
  static Result<std::unique_ptr<FakeRuntime>> Create(FakeRuntimeOptions options);

  // Sets (or replaces) the pod CIDR sandboxes get addresses from; sandboxes that exist keep
  // theirs. kInvalidArgument as for Create. Thread-safe.
  Status SetPodCidr(const std::string& pod_cidr);
  std::string PodCidr() const;  // "" = none yet

  VersionInfo Version() const override { return {"fake", "1.0"}; }
  Result<std::string> PullImage(const std::string& image) override;
  Result<std::string> RunPodSandbox(const PodSandboxConfig& config) override;
  Status StopPodSandbox(const std::string& sandbox_id) override;
  Status RemovePodSandbox(const std::string& sandbox_id) override;
  Result<PodSandbox> PodSandboxStatus(const std::string& sandbox_id) override;
  Result<std::vector<PodSandbox>> ListPodSandbox() override;
  Result<std::string> CreateContainer(const std::string& sandbox_id, const ContainerConfig& config,
                                      const PodSandboxConfig& sandbox_config) override;
  Status StartContainer(const std::string& container_id) override;
  Status StopContainer(const std::string& container_id, int64_t timeout_seconds) override;
  Status RemoveContainer(const std::string& container_id) override;
  Result<Container> ContainerStatus(const std::string& container_id) override;
  Result<std::vector<Container>> ListContainers(const std::string& sandbox_id) override;
  Result<ExecSyncResult> ExecSync(const std::string& container_id, const std::vector<std::string>& command,
                                  int64_t timeout_seconds) override;
  Result<std::vector<ContainerStats>> ListContainerStats() override;

  // Answers every later ExecSync (called without the runtime's lock held, with the
  // container's current state); an empty function restores the annotation's behaviour.
  using ExecHandler = std::function<Result<ExecSyncResult>(
      const Container& container, const std::vector<std::string>& command, int64_t timeout_seconds)>;
  void SetExecHandler(ExecHandler handler);

  // How many sandboxes exist (tests).
  size_t SandboxCount() const;

 private:
  struct ContainerEntry {
    Container info;
    int exit_code_hook = -1;   // >= 0: exit with it right after starting
    int64_t run_millis = -1;   // >= 0: exit 0 after running this long
    int64_t cpu_millicores = 0;  // the usage hooks
    int64_t memory_bytes = 0;
  };

  explicit FakeRuntime(const FakeRuntimeOptions& options);
  std::string NewId() REQUIRES(mu_);
  // Applies the timed exits that are due at `now`.
  void Advance(ContainerEntry& entry, int64_t now) REQUIRES(mu_);
  void Exit(ContainerEntry& entry, int64_t at, int32_t code) REQUIRES(mu_);

  const Clock* clock_;

  mutable Mutex mu_;
  std::string pod_cidr_ GUARDED_BY(mu_);  // "" = none yet
  uint32_t network_ GUARDED_BY(mu_) = 0;  // the CIDR's first address, host order
  uint32_t size_ GUARDED_BY(mu_) = 0;     // addresses in the CIDR
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  const uint64_t id_salt_;
  std::map<std::string, PodSandbox> sandboxes_ GUARDED_BY(mu_);
  std::map<std::string, ContainerEntry> containers_ GUARDED_BY(mu_);
  std::set<uint32_t> used_ips_ GUARDED_BY(mu_);  // host order
  std::shared_ptr<const ExecHandler> exec_handler_ GUARDED_BY(mu_);
};

}  // namespace kite::runtime
