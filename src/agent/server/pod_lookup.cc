#include "src/agent/server/pod_lookup.h"

namespace kite::agent::server {
namespace {

std::string LabelOf(const runtime::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace

Result<PodTarget> RuntimePodLookup::FindPod(const std::string& namespace_,
                                            const std::string& name) {
  Result<std::vector<runtime::PodSandbox>> sandboxes = runtime_->ListPodSandbox();
  if (!sandboxes.ok()) return sandboxes.status();
  // The newest ready sandbox; else the newest one at all (a finished pod still has logs).
  const runtime::PodSandbox* best = nullptr;
  for (const runtime::PodSandbox& sandbox : *sandboxes) {
    if (LabelOf(sandbox.labels, runtime::kPodNamespaceLabel) != namespace_ ||
        LabelOf(sandbox.labels, runtime::kPodNameLabel) != name) {
      continue;
    }
    bool ready = sandbox.state == runtime::SandboxState::kReady;
    bool best_ready = best != nullptr && best->state == runtime::SandboxState::kReady;
    if (best == nullptr || (ready && !best_ready) ||
        (ready == best_ready && sandbox.created_at > best->created_at)) {
      best = &sandbox;
    }
  }
  if (best == nullptr) {
    return NotFoundError("pod \"" + name + "\" not found in namespace \"" + namespace_ +
                         "\" on this node");
  }
  std::string uid = LabelOf(best->labels, runtime::kPodUidLabel);
  if (uid.empty()) uid = best->metadata.uid;
  return PodTarget{uid, best->id};
}

Result<std::string> RuntimePodLookup::FindRunningContainer(const PodTarget& pod,
                                                           const std::string& container) {
  Result<std::vector<runtime::Container>> containers = runtime_->ListContainers(pod.sandbox_id);
  if (!containers.ok()) return containers.status();
  const runtime::Container* best = nullptr;
  for (const runtime::Container& c : *containers) {
    std::string c_name = LabelOf(c.labels, runtime::kContainerNameLabel);
    if (c_name.empty()) c_name = c.metadata.name;
    if (c_name != container || c.state != runtime::ContainerState::kRunning) continue;
    if (best == nullptr || c.created_at > best->created_at) best = &c;
  }
  if (best == nullptr) {
    return NotFoundError("container \"" + container + "\" is not running in the pod");
  }
  return best->id;
}

}  // namespace kite::agent::server
