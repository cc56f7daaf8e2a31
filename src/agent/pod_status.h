// The status a node agent writes for a pod, as the kubelet generates it
// (pkg/kubelet/kubelet_pods.go generateAPIPodStatus, pkg/kubelet/status/generate.go): phase,
// conditions, IPs, start time, QoS class, and one status per container — from a PodReport,
// what the agent observed in the runtime.
//
// Pure functions of their arguments; thread-safe. Objects may lack defaults (restartPolicy
// absent = Always, requests absent = limits), as they do before defaulting runs.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kite::agent {

// One container state as the status shows it (v1.ContainerState's three forms).
struct ContainerStateView {
  enum class Kind { kWaiting, kRunning, kTerminated };
  Kind kind = Kind::kWaiting;
  std::string reason;   // waiting, terminated
  std::string message;  // waiting, terminated; "" = none
  int32_t exit_code = 0;    // terminated
  int64_t started_at = 0;   // running, terminated (Unix ms; 0 = not shown)
  int64_t finished_at = 0;  // terminated
  std::string container_id;  // terminated
};

struct ContainerReport {
  std::string name;
  std::string image;
  std::string image_id;      // "" until the image is resolved
  std::string container_id;  // "fake://<id>"; "" before the first container exists
  ContainerStateView state;
  std::optional<ContainerStateView> last_state;  // the previous termination, if any
  bool ready = false;
  bool started = false;
  int32_t restart_count = 0;
};

struct PodReport {
  // In spec order, one per spec container.
  std::vector<ContainerReport> init_containers;
  std::vector<ContainerReport> containers;
  bool sandbox_ready = false;  // PodReadyToStartContainers
  std::string pod_ip;
  std::string host_ip;
  int64_t start_time = 0;  // Unix ms; 0 = not shown
  // The pod will not run again (deleted, or finished): containers count as stopped for
  // good whatever the restart policy.
  bool terminal = false;
};

// Kubernetes' QoS class of a pod (pkg/apis/core/v1/helper/qos ComputePodQOS) from the cpu
// and memory requests and limits of all its containers: "Guaranteed" when every container
// limits both and requests equal limits, "BestEffort" when none requests or limits
// anything, else "Burstable". Unparsable quantities count as absent.
std::string QosClass(const rapidjson::Value& pod);

// The kubelet's getPhase: Pending, Running, Succeeded or Failed.
std::string PodPhase(const rapidjson::Value& pod, const PodReport& report);

// The whole status to write. `pod` is the object the API has: its spec gives the
// containers' order and the restart policy; its status the previous condition times (a
// condition keeps its lastTransitionTime while its status is unchanged) and the conditions
// the kubelet does not own (kept, first). Times are RFC 3339 seconds.
rapidjson::Document PodStatus(const rapidjson::Value& pod, const PodReport& report,
                              int64_t now_millis);

}  // namespace kite::agent
