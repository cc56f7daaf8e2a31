// How the agent's HTTPS endpoint finds what a request names: a pod by namespace and name,
// then one of its running containers. The agent implements it from what it runs; a
// runtime-backed implementation (by the kubelet's labels) serves tests and is a fallback.
#pragma once

#include <string>

#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::agent::server {

// What streams to a pod need: its uid (logs) and its sandbox (port-forward).
struct PodTarget {
  std::string uid;
  std::string sandbox_id;
};

// Errors: kNotFound with a message fit for the user ("pod \"web\" not found in namespace
// \"default\" on this node") when the node does not run it; kUnavailable when the runtime
// cannot be asked. Thread-safety: implementations must be callable from any thread.
class PodLookup {
 public:
  virtual ~PodLookup() = default;
  virtual Result<PodTarget> FindPod(const std::string& namespace_, const std::string& name) = 0;
  // The runtime id of the running container named `container` in `pod`.
  virtual Result<std::string> FindRunningContainer(const PodTarget& pod,
                                                   const std::string& container) = 0;
};

// A PodLookup over the runtime's labels (io.kubernetes.pod.namespace/name/uid on sandboxes,
// io.kubernetes.container.name on containers): the newest ready sandbox of the pod (else
// its newest sandbox), the newest running container of that name in it. Each call lists
// from the runtime.
class RuntimePodLookup final : public PodLookup {
 public:
  explicit RuntimePodLookup(runtime::Runtime* runtime) : runtime_(runtime) {}
  Result<PodTarget> FindPod(const std::string& namespace_, const std::string& name) override;
  Result<std::string> FindRunningContainer(const PodTarget& pod,
                                           const std::string& container) override;

 private:
  runtime::Runtime* const runtime_;
};

}  // namespace kite::agent::server
