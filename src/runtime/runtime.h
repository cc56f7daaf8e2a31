// The container runtime the node agent drives, shaped after the Kubernetes CRI
// (k8s.io/cri-api runtime.v1 RuntimeService and ImageService), trimmed to what the agent
// uses: a pod sandbox (the pod's network namespace and IP), containers created in it,
// started, stopped and removed, their status, stats, commands run in them and streams to
// them. Two implementations: the fake runtime (fake_runtime.h: tests and `kite sim`) and
// CRI over containerd's socket (cri/cri_runtime.h).
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
#include <optional>
#include <string>
#include <utility>
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

struct PortMapping {
  std::string protocol = "TCP";  // TCP, UDP or SCTP
  int32_t container_port = 0;
  int32_t host_port = 0;  // 0 = not published on the host
  std::string host_ip;
};

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

struct PodSandboxConfig {
  PodSandboxMetadata metadata;
  std::string hostname;
  // Where the containers' logs go: ContainerConfig::log_path is relative to it
  // (the kubelet uses /var/log/pods/<namespace>_<name>_<uid>).
  std::string log_directory;
  DnsConfig dns;
  std::vector<PortMapping> port_mappings;
  bool host_network = false;  // share the host's network namespace (no CNI)
  std::string cgroup_parent;  // "" = the runtime's default
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

enum class MountPropagation { kPrivate, kHostToContainer, kBidirectional };

struct Mount {
  std::string container_path;
  std::string host_path;
  bool readonly = false;
  MountPropagation propagation = MountPropagation::kPrivate;
};

// CRI LinuxContainerResources; 0 = unset.
struct LinuxResources {
  int64_t cpu_period = 0;  // microseconds
  int64_t cpu_quota = 0;   // microseconds per period
  int64_t cpu_shares = 0;
  int64_t memory_limit_in_bytes = 0;
  int64_t oom_score_adj = 0;
};

struct SecurityContext {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::vector<int64_t> supplemental_groups;
  bool readonly_rootfs = false;
  bool privileged = false;
  std::vector<std::string> add_capabilities;   // "NET_ADMIN" (without CAP_)
  std::vector<std::string> drop_capabilities;
};

struct ContainerConfig {
  ContainerMetadata metadata;
  std::string image;
  std::vector<std::string> command;  // replaces the image's entrypoint when not empty
  std::vector<std::string> args;     // replaces the image's cmd when not empty
  std::string working_dir;
  std::vector<std::pair<std::string, std::string>> envs;  // in order; later ones win
  std::vector<Mount> mounts;
  std::string log_path;  // relative to the sandbox's log_directory
  bool stdin_open = false;  // CRI "stdin"
  bool stdin_once = false;
  bool tty = false;
  LinuxResources resources;
  SecurityContext security;
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
  std::string log_path;   // absolute; "" when the runtime keeps no log
  Labels labels;
  Labels annotations;
};

struct ExecSyncResult {
  std::string stdout_data;
  std::string stderr_data;
  int32_t exit_code = 0;
};

// Where to reach a stream (exec, attach, port-forward): the URL of the runtime's streaming
// server for this one session (CRI Exec/Attach/PortForward responses).
struct StreamRequest {
  std::string container_id;  // exec, attach
  std::string sandbox_id;    // port-forward
  std::vector<std::string> command;  // exec
  bool tty = false;
  bool stdin_open = false;  // CRI "stdin"
  bool stdout_open = true;
  bool stderr_open = true;  // false when tty
  std::vector<int32_t> ports;  // port-forward
};

struct ContainerStats {
  std::string container_id;
  int64_t timestamp_nanos = 0;
  uint64_t cpu_usage_core_nanos = 0;  // cumulative CPU time
  uint64_t memory_working_set_bytes = 0;
};

// Credentials for a registry pull (from imagePullSecrets); empty = anonymous.
struct PullAuth {
  std::string username;
  std::string password;
  std::string auth;  // base64 "user:password", as in a docker config
  std::string server_address;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual VersionInfo Version() const = 0;

  // Makes `image` available; returns its image ref.
  virtual Result<std::string> PullImage(const std::string& image) = 0;
  virtual Result<std::string> PullImage(const std::string& image, const PullAuth& auth) {
    (void)auth;
    return PullImage(image);
  }
  // The image ref of `image` when present, nullopt when not (imagePullPolicy IfNotPresent).
  virtual Result<std::optional<std::string>> ImageRef(const std::string& image) {
    Result<std::string> ref = PullImage(image);
    if (!ref.ok()) return ref.status();
    return std::optional<std::string>(*ref);
  }

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

  // Runs `command` in a running container and waits for it (probes, hooks); a timeout of 0
  // means none. The command's own failure is an exit code, not an error.
  virtual Result<ExecSyncResult> ExecSync(const std::string& container_id,
                                          const std::vector<std::string>& command,
                                          int64_t timeout_seconds) {
    (void)container_id, (void)command, (void)timeout_seconds;
    return InvalidArgumentError(Version().runtime_name + " runtime cannot exec in containers");
  }
  // The streaming URL for an exec, attach or port-forward session.
  virtual Result<std::string> Exec(const StreamRequest& request) {
    (void)request;
    return InvalidArgumentError(Version().runtime_name + " runtime has no exec stream");
  }
  virtual Result<std::string> Attach(const StreamRequest& request) {
    (void)request;
    return InvalidArgumentError(Version().runtime_name + " runtime has no attach stream");
  }
  virtual Result<std::string> PortForward(const StreamRequest& request) {
    (void)request;
    return InvalidArgumentError(Version().runtime_name + " runtime has no port-forward stream");
  }
  // CPU and memory use of every running container.
  virtual Result<std::vector<ContainerStats>> ListContainerStats() {
    return std::vector<ContainerStats>{};
  }
};

}  // namespace kite::runtime
