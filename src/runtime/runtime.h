// The container runtime the node agent drives, shaped after the Kubernetes CRI
// (k8s.io/cri-api runtime.v1 RuntimeService and ImageService), trimmed to what the agent
// uses: a pod sandbox (the pod's network namespace and IP), containers created in it,
// started, stopped and removed, and their status. Two implementations: the fake runtime
// (fake_runtime.h: tests and `kite sim`) and, later, CRI over containerd's socket.
//
// Identity: the agent labels sandboxes and containers as the kubelet does
// (io.kubernetes.pod.name/namespace/uid, io.kubernetes.container.name), so it can find what
// runs for a pod after a restart by listing. A container's metadata.attempt counts restarts.
//
// Times are Unix milliseconds, 0 meaning "not yet".
// Errors: kNotFound for an unknown sandbox or container id; kInvalidArgument for a request
// the runtime cannot accept (naming what is wrong); kResourceExhausted when the runtime is
// out of something (pod IPs); kUnavailable when the runtime cannot be reached.
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/base/status.h"

namespace kite::runtime {

using Labels = std::map<std::string, std::string>;

// Labels the agent puts on sandboxes and containers (the kubelet's keys).
inline constexpr char kPodNameLabel[] = "io.kubernetes.pod.name";
inline constexpr char kPodNamespaceLabel[] = "io.kubernetes.pod.namespace";
inline constexpr char kPodUidLabel[] = "io.kubernetes.pod.uid";
inline constexpr char kContainerNameLabel[] = "io.kubernetes.container.name";
// On init containers only ("true"): CRI has no notion of init containers, but the fake
// runtime lets them finish by themselves.
inline constexpr char kInitContainerLabel[] = "kite.dev/init-container";

struct VersionInfo {
  std::string runtime_name;     // "fake"; also the scheme of containerIDs ("fake://<id>")
  std::string runtime_version;  // "1.0"
};

struct PodSandboxMetadata {
  std::string name;
  std::string namespace_;
  std::string uid;
  uint32_t attempt = 0;
};

struct PodSandboxConfig {
  PodSandboxMetadata metadata;
  std::string hostname;
  Labels labels;
  Labels annotations;  // the pod's annotations, as the kubelet passes them
};

enum class SandboxState { kReady, kNotReady };

struct PodSandbox {
  std::string id;
  PodSandboxMetadata metadata;
  SandboxState state = SandboxState::kReady;
  int64_t created_at = 0;
  std::string ip;  // the pod IP; "" when the sandbox has no network (yet)
  Labels labels;
  Labels annotations;
};

struct ContainerMetadata {
  std::string name;
  uint32_t attempt = 0;
};

struct ContainerConfig {
  ContainerMetadata metadata;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  Labels labels;
  Labels annotations;
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

struct Container {
  std::string id;
  std::string sandbox_id;
  ContainerMetadata metadata;
  ContainerState state = ContainerState::kUnknown;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int32_t exit_code = 0;
  std::string reason;   // for exited containers: "Completed", "Error", "OOMKilled", ...
  std::string message;
  std::string image;      // as requested
  std::string image_ref;  // the resolved image id ("sha256:...")
  Labels labels;
  Labels annotations;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual VersionInfo Version() const = 0;

  // Makes `image` available; returns its image ref.
  virtual Result<std::string> PullImage(const std::string& image) = 0;

  // Creates a ready sandbox with its network; returns its id.
  virtual Result<std::string> RunPodSandbox(const PodSandboxConfig& config) = 0;
  // Stops every container in it and tears its network down; idempotent.
  virtual Status StopPodSandbox(const std::string& sandbox_id) = 0;
  // Removes the sandbox and its containers (stopping them first); kOk if already gone.
  virtual Status RemovePodSandbox(const std::string& sandbox_id) = 0;
  virtual Result<PodSandbox> PodSandboxStatus(const std::string& sandbox_id) = 0;
  virtual Result<std::vector<PodSandbox>> ListPodSandbox() = 0;

  // Creates (does not start) a container in a ready sandbox; returns its id.
  virtual Result<std::string> CreateContainer(const std::string& sandbox_id,
                                              const ContainerConfig& config,
                                              const PodSandboxConfig& sandbox_config) = 0;
  virtual Status StartContainer(const std::string& container_id) = 0;
  // Asks the container to stop, killing it after `timeout_seconds`; idempotent.
  virtual Status StopContainer(const std::string& container_id, int64_t timeout_seconds) = 0;
  // Removes an exited or created container (stopping it first if running); kOk if gone.
  virtual Status RemoveContainer(const std::string& container_id) = 0;
  virtual Result<Container> ContainerStatus(const std::string& container_id) = 0;
  // The containers of one sandbox, or of all sandboxes when `sandbox_id` is "".
  virtual Result<std::vector<Container>> ListContainers(const std::string& sandbox_id) = 0;
};

}  // namespace kite::runtime
