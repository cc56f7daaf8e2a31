// Lifecycle hooks (postStart, preStop): running one v1.LifecycleHandler for a container, as
// the kubelet's handler runner does (pkg/kubelet/lifecycle/handlers.go, Kubernetes 1.32).
//
//   exec     Runtime::ExecSync; a non-zero exit code fails the hook.
//   httpGet  GET with User-Agent "kube-lifecycle/1.32" (host default: the pod IP; scheme,
//            port by number or name, path, httpHeaders as probes use them); only a request
//            that gets no answer fails — any HTTP status is fine, as in Kubernetes 1.32.
//   sleep    waits `seconds`; fails if the timeout comes first.
//   other    (tcpSocket, none) fails: "Cannot run handler: invalid handler: ...".
// Failure messages are Kubernetes' (they go into the container's status where the kubelet
// emits FailedPostStartHook / FailedPreStopHook events), e.g.
//   Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "web_default(uid)"
//   failed - error: command 'sh -c exit 3' exited with 3: , message: ""
//
// Blocking: at most about `timeout` (exec as long as the runtime honours its timeout).
// Thread-safety: may run concurrently.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <map>
#include <string>

#include "src/agent/prober/probe_spec.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::agent::prober {

struct HookTarget {
  runtime::Runtime* runtime = nullptr;  // exec; must outlive the call
  std::string container_id;             // the runtime's id (no scheme)
  std::string container_name;
  std::string pod_label;  // "name_namespace(uid)", as Kubernetes' format.Pod writes a pod
  std::string pod_ip;
  std::map<std::string, int64_t> named_ports;
};

// OK when the hook succeeded; else kUnavailable (kInvalidArgument for a handler that cannot
// run) whose message is Kubernetes' failure message.
Status RunHook(const Action& handler, const HookTarget& target, std::chrono::milliseconds timeout);

// --- What the agent calls, from the pod's JSON ---------------------------------------------

// Kubernetes' minimum time a container gets to stop after its preStop hook.
inline constexpr int64_t kMinimumGracePeriodSeconds = 2;
// Kite's bound on a postStart hook (Kubernetes has none); it holds a sync worker meanwhile.
inline constexpr std::chrono::milliseconds kPostStartLimit{300'000};

// One container instance of a pod, for its hooks.
struct HookContainer {
  runtime::Runtime* runtime = nullptr;
  std::string container_id;
  const rapidjson::Value* spec = nullptr;  // the container's spec (lifecycle, ports, name)
  const rapidjson::Value* pod = nullptr;   // metadata (name, namespace, uid)
  std::string pod_ip;
  bool exec_only = false;  // run exec hooks only (the fake runtime: others are skipped)
};

// spec.terminationGracePeriodSeconds of the pod (default 30; negative counts as 0).
int64_t PodGracePeriodSeconds(const rapidjson::Value& pod);

// Runs the container's postStart hook, if any, right after StartContainer. OK when there
// is none (or it is skipped) or it succeeded; else the hook's failure message.
Status RunPostStart(const HookContainer& container);

// Kubernetes' killContainer: the preStop hook (if any, and grace_seconds > 0) within
// `grace_seconds`, then StopContainer with what is left, at least 2 s. A failing preStop
// hook does not prevent the stop. Returns StopContainer's status (kNotFound counts as
// stopped: kOk).
Status StopContainer(const HookContainer& container, int64_t grace_seconds);

}  // namespace kite::agent::prober
