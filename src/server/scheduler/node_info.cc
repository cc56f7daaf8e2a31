#include "src/server/scheduler/node_info.h"

#include "src/server/json/json_util.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;

NodeInfo NodeInfo::FromNode(ObjectPtr node) {
  const rapidjson::Value* md = Member(*node, "metadata");
  NodeInfo info(md ? std::string(StringMember(*md, "name")) : std::string());
  info.SetNode(std::move(node));
  return info;
}

void NodeInfo::SetNode(ObjectPtr node) {
  node_ = std::move(node);
  const rapidjson::Value* md = Member(*node_, "metadata");
  labels_ = md ? Member(*md, "labels") : nullptr;
  if (labels_ && !labels_->IsObject()) labels_ = nullptr;
  label_map_.clear();
  if (labels_) {
    for (const auto& m : labels_->GetObject()) {
      if (!m.value.IsString()) continue;
      label_map_.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                         std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  allocatable_ = NodeAllocatable(*node_);
  taints_ = ParseTaints(*node_);
  const rapidjson::Value* spec = Member(*node_, "spec");
  const rapidjson::Value* unschedulable = spec ? Member(*spec, "unschedulable") : nullptr;
  unschedulable_ = unschedulable && unschedulable->IsBool() && unschedulable->GetBool();
}

void NodeInfo::ClearNode() {
  node_.reset();
  labels_ = nullptr;
  label_map_.clear();
  allocatable_ = Resources();
  taints_.clear();
  unschedulable_ = false;
}

const std::string* NodeInfo::Label(std::string_view key) const {
  auto it = label_map_.find(key);
  return it == label_map_.end() ? nullptr : &it->second;
}

void NodeInfo::Account(const PodInfo& pod, int sign) {
  if (sign > 0) {
    requested_.Add(pod.requests);
    non_zero_requested_.Add(pod.non_zero_requests);
  } else {
    requested_.Subtract(pod.requests);
    non_zero_requested_.Subtract(pod.non_zero_requests);
  }
  for (const HostPort& p : pod.host_ports) {
    int& n = used_ports_[p];
    n += sign;
    if (n <= 0) used_ports_.erase(p);
  }
  if (pod.HasAffinity()) pods_with_affinity_ += sign;
  if (!pod.required_anti_affinity.empty()) pods_with_required_anti_affinity_ += sign;
}

void NodeInfo::AddPod(PodInfoPtr pod) {
  auto it = pods_.find(pod->key);
  if (it != pods_.end()) {
    Account(*it->second, -1);
    it->second = pod;
  } else {
    pods_.emplace(pod->key, pod);
  }
  Account(*pod, +1);
}

bool NodeInfo::RemovePod(std::string_view key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return false;
  Account(*it->second, -1);
  pods_.erase(it);
  return true;
}

bool NodeInfo::HostPortConflicts(const HostPort& port) const {
  if (port.port <= 0) return false;
  for (const auto& [used, count] : used_ports_) {
    if (used.port != port.port || used.protocol != port.protocol) continue;
    if (port.ip == "0.0.0.0" || used.ip == "0.0.0.0" || used.ip == port.ip) return true;
  }
  return false;
}

}  // namespace kite::scheduler
