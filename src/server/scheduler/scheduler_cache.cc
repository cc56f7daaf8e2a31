#include "src/server/scheduler/scheduler_cache.h"

#include "src/server/json/json_util.h"

namespace kite::scheduler {
namespace {

std::pair<bool, bool> AffinityFlags(const NodeInfo& node) {
  return {node.pods_with_affinity() > 0, node.pods_with_required_anti_affinity() > 0};
}

}  // namespace

void SchedulerCache::NoteAffinityChangeLocked(const NodeInfo& node, std::pair<bool, bool> before) {
  if (AffinityFlags(node) != before) affinity_lists_stale_ = true;
}

void SchedulerCache::UpdateNode(ObjectPtr node) {
  const rapidjson::Value* md = json::Member(*node, "metadata");
  std::string name(md ? json::StringMember(*md, "name") : std::string_view());
  if (name.empty()) return;
  MutexLock lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) it = nodes_.emplace(name, NodeInfo(name)).first;
  if (!it->second.node()) node_list_stale_ = true;
  it->second.SetNode(std::move(node));
}

void SchedulerCache::RemoveNode(std::string_view name) {
  MutexLock lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  it->second.ClearNode();
  node_list_stale_ = true;
  PruneLocked(it->first);
}

void SchedulerCache::PruneLocked(const std::string& node) {
  auto it = nodes_.find(node);
  if (it != nodes_.end() && !it->second.node() && it->second.pods().empty()) nodes_.erase(it);
}

void SchedulerCache::RemovePodLocked(std::string_view key) {
  auto it = pod_node_.find(key);
  if (it == pod_node_.end()) return;
  std::string node = it->second;
  pod_node_.erase(it);
  if (auto n = nodes_.find(node); n != nodes_.end()) {
    std::pair<bool, bool> before = AffinityFlags(n->second);
    n->second.RemovePod(key);
    NoteAffinityChangeLocked(n->second, before);
    PruneLocked(node);
  }
}

void SchedulerCache::PlaceLocked(const PodInfoPtr& pod) {
  auto where = pod_node_.find(pod->key);
  if (where != pod_node_.end() && where->second != pod->node_name) RemovePodLocked(pod->key);
  auto it = nodes_.find(pod->node_name);
  if (it == nodes_.end()) it = nodes_.emplace(pod->node_name, NodeInfo(pod->node_name)).first;
  std::pair<bool, bool> before = AffinityFlags(it->second);
  it->second.AddPod(pod);
  NoteAffinityChangeLocked(it->second, before);
  pod_node_[pod->key] = pod->node_name;
}

void SchedulerCache::UpdatePod(const PodInfoPtr& pod) {
  MutexLock lock(mu_);
  bool assumed = assumed_.count(pod->key) > 0;
  if (pod->node_name.empty()) {
    // Still pending in the informer: a binding in flight keeps its assumed place.
    if (!assumed) RemovePodLocked(pod->key);
    return;
  }
  if (assumed) assumed_.erase(assumed_.find(pod->key));
  if (pod->Terminal()) {
    RemovePodLocked(pod->key);
  } else {
    PlaceLocked(pod);
  }
}

void SchedulerCache::RemovePod(std::string_view key) {
  MutexLock lock(mu_);
  if (auto it = assumed_.find(key); it != assumed_.end()) assumed_.erase(it);
  RemovePodLocked(key);
}

void SchedulerCache::Assume(const PodInfoPtr& pod) {
  MutexLock lock(mu_);
  assumed_.insert(pod->key);
  PlaceLocked(pod);
}

void SchedulerCache::Forget(std::string_view key) {
  MutexLock lock(mu_);
  auto it = assumed_.find(key);
  if (it == assumed_.end()) return;
  assumed_.erase(it);
  RemovePodLocked(key);
}

bool SchedulerCache::IsAssumed(std::string_view key) const {
  MutexLock lock(mu_);
  return assumed_.count(key) > 0;
}

void SchedulerCache::WithSnapshot(const NamespaceLookup& namespaces,
                                  const std::function<PodInfoPtr(const Snapshot&)>& cycle) {
  MutexLock lock(mu_);
  if (node_list_stale_) {
    node_list_.clear();
    for (const auto& [name, info] : nodes_) {
      if (info.node()) node_list_.push_back(&info);
    }
    node_list_stale_ = false;
    affinity_lists_stale_ = true;
  }
  if (affinity_lists_stale_) {
    with_affinity_.clear();
    with_required_anti_affinity_.clear();
    for (const NodeInfo* node : node_list_) {
      if (node->pods_with_affinity() > 0) with_affinity_.push_back(node);
      if (node->pods_with_required_anti_affinity() > 0) with_required_anti_affinity_.push_back(node);
    }
    affinity_lists_stale_ = false;
  }
  PodInfoPtr placed;
  {
    Snapshot snapshot;
    snapshot.namespaces = namespaces;
    // The node list is lent to the cycle, not copied (every node, every cycle); mu_ keeps
    // it unchanged meanwhile, and it comes back even if the cycle throws.
    snapshot.nodes.swap(node_list_);
    struct GiveBack {
      std::vector<const NodeInfo*>& lent;
      std::vector<const NodeInfo*>& owner;
      ~GiveBack() { owner.swap(lent); }
    } give_back{snapshot.nodes, node_list_};
    snapshot.with_affinity = &with_affinity_;
    snapshot.with_required_anti_affinity = &with_required_anti_affinity_;
    placed = cycle(snapshot);
  }
  if (placed) {
    assumed_.insert(placed->key);
    PlaceLocked(placed);
  }
}

size_t SchedulerCache::NodeCount() const {
  MutexLock lock(mu_);
  size_t n = 0;
  for (const auto& [name, info] : nodes_) n += info.node() ? 1 : 0;
  return n;
}

size_t SchedulerCache::AssumedCount() const {
  MutexLock lock(mu_);
  return assumed_.size();
}

}  // namespace kite::scheduler
