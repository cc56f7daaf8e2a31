// From the pod spec to the runtime's configs: what the kubelet's kuberuntime container and
// sandbox generation do (pkg/kubelet/kuberuntime/kuberuntime_container{,_linux}.go,
// kuberuntime_sandbox.go, pkg/kubelet/kubelet_pods.go makeEnvironmentVariables and
// makeMounts, pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs).
//
// A container's config:
//   - env, in this order, each name once with its final value: the service link variables
//     (<NAME>_SERVICE_HOST, _SERVICE_PORT, _SERVICE_PORT_<PORT>, <NAME>_PORT, _PORT_<N>_<PROTO>
//     (_PROTO, _PORT, _ADDR)) of every Service with a cluster IP in the pod's namespace when
//     enableServiceLinks (default true), and always those of `kubernetes` in `default`
//     (sorted by name, left out when env or envFrom defines the name); then envFrom
//     (configMapRef, secretRef, prefix, optional; keys that are not valid variable names are
//     skipped); then env: value with $(VAR) expanded from the variables so far and the
//     service variables, or valueFrom (configMapKeyRef, secretKeyRef, fieldRef,
//     resourceFieldRef, with optional);
//   - command and args with $(VAR) expanded from the final env ($$ is a literal $, an
//     unknown $(VAR) stays as written); workingDir; tty, stdin, stdinOnce;
//   - mounts: volumeMounts (readOnly, subPath / subPathExpr — created in the volume when
//     missing, never escaping it —, mountPropagation), then /etc/hosts (a file in the pod
//     directory: the kubelet's managed hosts file, or for hostNetwork pods the node's own with
//     the managed header) unless the container mounts /etc/hosts itself, then the
//     termination message file (a fresh file per instance at
//     <pod dir>/containers/<name>/<attempt>, mounted at terminationMessagePath);
//   - log_path "<name>/<attempt>.log" (relative to the sandbox's log directory);
//   - resources: cpu shares from the cpu request (the limit when there is no request;
//     milliCPU*1024/1000, at least 2), cpu period 100000 µs and quota from the cpu limit,
//     the memory limit, oom_score_adj by QoS class (Guaranteed -997, BestEffort 1000,
//     Burstable 1000 - 1000*request/capacity clamped to [3, 999]);
//   - security: pod securityContext merged with the container's (runAsUser, runAsGroup;
//     supplemental groups = fsGroup then supplementalGroups; readOnlyRootFilesystem,
//     privileged, capabilities add/drop from the container);
//   - labels io.kubernetes.{pod.name,pod.namespace,pod.uid,container.name} and the
//     kubelet's annotations (restartCount, terminationMessagePath, terminationMessagePolicy).
//
// Errors (shown as waiting/CreateContainerConfigError with the message, as the kubelet
// does): `configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`,
// `secret "x" not found`, `couldn't find key k in Secret ns/x`, `cannot find volume "v" to
// mount into container "c"`, field and resource errors of the downward API, ... — with
// Kubernetes' texts.
//
// Functions are thread-safe as far as the PodObjects given are; they write only the pod's
// own files (etc-hosts, termination message files, subPath directories).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/agent/pod_objects.h"
#include "src/agent/volumes/downward_api.h"
#include "src/agent/volumes/volume_manager.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::agent {

// What a container's config needs besides the pod and the container spec.
struct ContainerContext {
  // Null: no API objects — no service link variables, and references to ConfigMaps and
  // Secrets fail.
  PodObjects* objects = nullptr;
  // The pod's prepared volumes; null when volumes are not managed on this node (simulated
  // nodes): volumeMounts are then left out.
  const volumes::VolumeMap* volumes = nullptr;
  // <agent_dir>/pods/<uid>; "" = no kubelet files (no /etc/hosts or termination message
  // mounts).
  std::string pod_dir;
  std::vector<std::string> pod_ips;   // the sandbox's; first = status.podIP
  std::vector<std::string> host_ips;  // the node's; first = status.hostIP
  volumes::NodeAllocatable node;      // stands in for missing limits (resourceFieldRef)
  int64_t memory_capacity_bytes = 0;  // for Burstable OOM scores; 0 = node.memory_bytes
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The container's full config for instance `attempt`.
Result<runtime::ContainerConfig> BuildContainerConfig(const rapidjson::Value& pod,
                                                      const rapidjson::Value& container, uint32_t attempt,
                                                      const ContainerContext& context);

// Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): `lookup` returns the
// value of a defined variable, nullopt for an undefined one (which stays "$(NAME)").
std::string ExpandVariables(std::string_view input,
                            const std::function<std::optional<std::string>(std::string_view)>& lookup);

// The environment (see the header comment for the order).
Result<EnvList> MakeEnvironment(const rapidjson::Value& pod, const rapidjson::Value& container,
                                const ContainerContext& context);

// envvars.FromServices for `services` (Services as JSON; those without a cluster IP are
// skipped), in the services' order.
EnvList ServiceLinkVariables(const std::vector<client::ObjectPtr>& services);

// The mounts (see the header comment); writes the pod's etc-hosts and the termination
// message file when context.pod_dir is set. `env` is the container's final environment
// (subPathExpr).
Result<std::vector<runtime::Mount>> MakeMounts(const rapidjson::Value& pod, const rapidjson::Value& container,
                                               uint32_t attempt, const EnvList& env,
                                               const ContainerContext& context);

// The kubelet's managed /etc/hosts for a pod on the pod network.
std::string ManagedHostsFile(const rapidjson::Value& pod, const std::vector<std::string>& pod_ips);

runtime::LinuxResources ContainerResources(const rapidjson::Value& pod, const rapidjson::Value& container,
                                           int64_t memory_capacity_bytes);

// pkg/kubelet/qos GetContainerOOMScoreAdjust.
int64_t OomScoreAdjust(const rapidjson::Value& pod, const rapidjson::Value& container,
                       int64_t memory_capacity_bytes);

// The effective security context; kInvalidArgument when runAsNonRoot contradicts
// runAsUser 0.
Result<runtime::SecurityContext> ContainerSecurity(const rapidjson::Value& pod,
                                                   const rapidjson::Value& container);

// What a PodRunner needs, besides the runtime, to create a node's pods: shared by every pod
// of the node (its pointees are thread-safe).
struct PodSetup {
  PodObjects* objects = nullptr;              // null: see ContainerContext::objects
  volumes::VolumeManager* volumes = nullptr;  // null: volumes are neither prepared nor mounted
  std::string agent_dir;                      // "" = no log directory for sandboxes
  runtime::DnsConfig host_dns;                // see SandboxContext::host_dns
  volumes::NodeAllocatable node;
  int64_t memory_capacity_bytes = 0;  // 0 = node.memory_bytes
};

// --- The sandbox ------------------------------------------------------------------------------

struct SandboxContext {
  // The containers' logs go to <agent_dir>/pod-logs/<namespace>_<name>_<uid>; "" = no log
  // directory.
  std::string agent_dir;
  // The node's resolver configuration (ReadResolvConf), for dnsPolicy Default — and for
  // ClusterFirst, since there is no cluster DNS yet (the kubelet falls back the same way).
  runtime::DnsConfig host_dns;
};

// metadata and labels (the pod's plus io.kubernetes.pod.*), annotations, hostname (spec.hostname
// or the pod name, truncated to 63 characters; none for hostNetwork pods), log directory,
// DNS by dnsPolicy plus spec.dnsConfig, port mappings of every container port (hostPort 0 =
// not published), host_network.
runtime::PodSandboxConfig BuildSandboxConfig(const rapidjson::Value& pod, const SandboxContext& context);

// <agent_dir>/pod-logs/<namespace>_<name>_<uid>.
std::string PodLogDirectory(const std::string& agent_dir, std::string_view ns, std::string_view name,
                            std::string_view uid);

// The nameserver, search and options lines of a resolv.conf; loopback nameservers (which
// mean nothing inside a pod's network namespace) are dropped, and when that leaves none and
// systemd-resolved's upstream file (/run/systemd/resolve/resolv.conf) exists, its servers are
// used. An unreadable file gives an empty config.
runtime::DnsConfig ReadResolvConf(const std::string& path);

}  // namespace kite::agent
