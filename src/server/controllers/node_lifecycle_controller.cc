#include "src/server/controllers/node_lifecycle_controller.h"

#include <algorithm>

#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"
#include "src/server/controllers/pod_control.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr std::string_view kNotReadyTaint = "node.kubernetes.io/not-ready";
constexpr std::string_view kUnreachableTaint = "node.kubernetes.io/unreachable";
constexpr std::string_view kUnschedulableTaint = "node.kubernetes.io/unschedulable";
constexpr const char* kConditionTypes[] = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"};
// NoSchedule taints for pressure conditions that are True (TaintNodesByCondition).
constexpr std::pair<const char*, const char*> kPressureTaints[] = {
    {"MemoryPressure", "node.kubernetes.io/memory-pressure"},
    {"DiskPressure", "node.kubernetes.io/disk-pressure"},
    {"PIDPressure", "node.kubernetes.io/pid-pressure"},
};

std::string Rfc3339(int64_t ms) { return FormatRfc3339Seconds(ms); }

const Value* Condition(const Value& object, std::string_view type) {
  const Value* status = json::Member(object, "status");
  const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return nullptr;
  for (const Value& c : conditions->GetArray()) {
    if (c.IsObject() && json::StringMember(c, "type") == type) return &c;
  }
  return nullptr;
}

std::string_view ConditionStatus(const Value& object, std::string_view type) {
  const Value* c = Condition(object, type);
  return c ? json::StringMember(*c, "status") : std::string_view();
}

bool IsTrue(const Value* v) { return v && v->IsBool() && v->GetBool(); }

// Kubernetes' Toleration.ToleratesTaint.
bool Tolerates(const Value& toleration, std::string_view key, std::string_view value, std::string_view effect) {
  std::string_view t_effect = json::StringMember(toleration, "effect");
  if (!t_effect.empty() && t_effect != effect) return false;
  std::string_view t_key = json::StringMember(toleration, "key");
  std::string_view op = json::StringMember(toleration, "operator");
  if (t_key.empty()) return op == "Exists";
  if (t_key != key) return false;
  if (op == "Exists") return true;
  return (op.empty() || op == "Equal") && json::StringMember(toleration, "value") == value;
}

struct DesiredTaint {
  std::string key;
  std::string effect;
};

}  // namespace

NodeLifecycleController::NodeLifecycleController(NodeLifecycleOptions options)
    : options_(options), clock_(options.clock ? options.clock : SystemClock::Get()) {}

void NodeLifecycleController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  nodes_ = &informers.For(client::kNodes);
  leases_ = &informers.For(client::kLeases);
  pods_ = &informers.For(client::kPods);
  node_client_.emplace(informers.ClientFor(client::kNodes));
  pod_client_.emplace(informers.ClientFor(client::kPods));
  auto enqueue_node = [&queue](const client::ObjectPtr& node) { queue.Add(client::ObjectKey(*node)); };
  nodes_->AddHandlers({
      .on_add = enqueue_node,
      .on_update = [&queue](const client::ObjectPtr&, const client::ObjectPtr& node) {
        queue.Add(client::ObjectKey(*node));
      },
      .on_delete = enqueue_node,
  });
  pods_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& pod) { IndexPod(*pod, true); },
      .on_update = [this](const client::ObjectPtr&, const client::ObjectPtr& pod) { IndexPod(*pod, true); },
      .on_delete = [this](const client::ObjectPtr& pod) { IndexPod(*pod, false); },
  });
}

void NodeLifecycleController::IndexPod(const Value& pod, bool present) {
  std::string key = client::ObjectKey(pod);
  const Value* spec = json::Member(pod, "spec");
  std::string node = present && spec ? std::string(json::StringMember(*spec, "nodeName")) : "";
  MutexLock lock(mu_);
  auto it = node_of_pod_.find(key);
  if (it != node_of_pod_.end() && it->second == node) return;  // most changes: a status
  if (it != node_of_pod_.end()) {
    pods_by_node_[it->second].erase(key);
    if (pods_by_node_[it->second].empty()) pods_by_node_.erase(it->second);
    node_of_pod_.erase(it);
  }
  if (!node.empty()) {
    node_of_pod_[key] = node;
    pods_by_node_[node].insert(key);
  }
}

std::vector<client::ObjectPtr> NodeLifecycleController::PodsOn(const std::string& node_name) const {
  std::vector<std::string> keys;
  {
    MutexLock lock(mu_);
    auto it = pods_by_node_.find(node_name);
    if (it != pods_by_node_.end()) keys.assign(it->second.begin(), it->second.end());
  }
  std::vector<client::ObjectPtr> pods;
  for (const std::string& key : keys) {
    if (client::ObjectPtr pod = pods_->Get(key)) pods.push_back(std::move(pod));
  }
  return pods;
}

Status NodeLifecycleController::Reconcile(const std::string& node_name) {
  client::ObjectPtr node = nodes_->Get(node_name);
  int64_t now = clock_->NowMillis();
  if (!node) {
    MutexLock lock(mu_);
    health_.erase(node_name);
    return Status();
  }
  // As Kubernetes does, heartbeats are timed by this controller's clock when it sees them
  // change (the Lease's renewTime or the Ready condition's lastHeartbeatTime), not by the
  // node's own timestamps: a node with a skewed clock is judged fairly.
  std::string renew, heartbeat;
  if (client::ObjectPtr lease = leases_->Get("kube-node-lease", node_name)) {
    if (const Value* spec = json::Member(*lease, "spec")) renew = json::StringMember(*spec, "renewTime");
  }
  if (const Value* ready = Condition(*node, "Ready")) heartbeat = json::StringMember(*ready, "lastHeartbeatTime");
  int64_t probe;
  {
    MutexLock lock(mu_);
    auto [it, first] = health_.try_emplace(node_name, NodeHealth{renew, heartbeat, now});
    if (!first && (it->second.lease_renew != renew || it->second.heartbeat != heartbeat)) {
      it->second = NodeHealth{renew, heartbeat, now};
    }
    probe = it->second.probe_ms;
  }
  if (now - probe > options_.grace_period.count() && ConditionStatus(*node, "Ready") != "Unknown") {
    // The node update this makes brings the node back through the queue.
    KITE_RETURN_IF_ERROR(MarkUnknown(*node));
    if (ConditionStatus(*node, "Ready") == "True") {
      options_.recorder.Event(*node, client::EventType::kNormal, "NodeNotReady",
                              "Node " + node_name + " status is now: NodeNotReady");
    }
    return MarkPodsNotReady(node_name);
  }
  KITE_RETURN_IF_ERROR(SyncTaints(*node, now));
  if (ConditionStatus(*node, "Ready") != "True") KITE_RETURN_IF_ERROR(MarkPodsNotReady(node_name));
  Result<int64_t> next_eviction = EvictPods(*node, now);
  if (!next_eviction.ok()) return next_eviction.status();

  auto delay = options_.monitor_period;
  if (*next_eviction > 0) {
    delay = std::min(delay, std::chrono::milliseconds(std::max<int64_t>(*next_eviction - now, 1)));
  }
  queue_->AddAfter(node_name, delay);
  return Status();
}

Status NodeLifecycleController::MarkUnknown(const Value& node) {
  Document updated;
  updated.CopyFrom(node, updated.GetAllocator());
  auto& a = updated.GetAllocator();
  Value& status = json::EnsureObjectMember(updated, "status", a);
  Value* conditions = json::MutableMember(status, "conditions");
  if (!conditions || !conditions->IsArray()) {
    json::SetMember(status, "conditions", Value(rapidjson::kArrayType), a);
    conditions = json::MutableMember(status, "conditions");
  }
  std::string now = Rfc3339(clock_->NowMillis());
  for (const char* type : kConditionTypes) {
    Value* existing = nullptr;
    for (Value& c : conditions->GetArray()) {
      if (c.IsObject() && json::StringMember(c, "type") == type) existing = &c;
    }
    if (!existing) {
      Value c(rapidjson::kObjectType);
      json::SetStringMember(c, "type", type, a);
      conditions->PushBack(std::move(c), a);
      existing = &(*conditions)[conditions->Size() - 1];
      json::SetStringMember(*existing, "reason", "NodeStatusNeverUpdated", a);
      json::SetStringMember(*existing, "message", "Kubelet never posted node status.", a);
    } else {
      if (json::StringMember(*existing, "status") == "Unknown") continue;
      json::SetStringMember(*existing, "reason", "NodeStatusUnknown", a);
      json::SetStringMember(*existing, "message", "Kubelet stopped posting node status.", a);
    }
    json::SetStringMember(*existing, "status", "Unknown", a);
    json::SetStringMember(*existing, "lastTransitionTime", now, a);
  }
  Result<Document> r = node_client_->UpdateStatus(updated);
  return r.ok() ? Status() : r.status();
}

Status NodeLifecycleController::MarkPodsNotReady(const std::string& node_name) {
  std::string now = Rfc3339(clock_->NowMillis());
  for (const client::ObjectPtr& pod : PodsOn(node_name)) {
    if (ConditionStatus(*pod, "Ready") != "True") continue;
    auto [ns, name] = client::SplitObjectKey(client::ObjectKey(*pod));
    std::string patch = R"({"status":{"conditions":[{"type":"Ready","status":"False","lastTransitionTime":")" +
                        now + R"("}]}})";
    Result<Document> r = pod_client_->Patch(ns, name, client::PatchType::kStrategic, patch, "status");
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  }
  return Status();
}

Status NodeLifecycleController::SyncTaints(const Value& node, int64_t now_ms) {
  std::vector<DesiredTaint> desired;
  std::string_view ready = ConditionStatus(node, "Ready");
  if (ready == "False") {
    desired.push_back({std::string(kNotReadyTaint), "NoSchedule"});
    desired.push_back({std::string(kNotReadyTaint), "NoExecute"});
  } else if (ready == "Unknown") {
    desired.push_back({std::string(kUnreachableTaint), "NoSchedule"});
    desired.push_back({std::string(kUnreachableTaint), "NoExecute"});
  }
  for (const auto& [condition, taint] : kPressureTaints) {
    if (ConditionStatus(node, condition) == "True") desired.push_back({taint, "NoSchedule"});
  }
  const Value* spec = json::Member(node, "spec");
  if (spec && IsTrue(json::Member(*spec, "unschedulable"))) {
    desired.push_back({std::string(kUnschedulableTaint), "NoSchedule"});
  }
  auto managed = [](std::string_view key) {
    if (key == kNotReadyTaint || key == kUnreachableTaint || key == kUnschedulableTaint) return true;
    for (const auto& [condition, taint] : kPressureTaints) {
      if (key == taint) return true;
    }
    return false;
  };

  Document updated;  // the node is copied into it only when its taints change (rarely)
  auto& a = updated.GetAllocator();
  Value taints(rapidjson::kArrayType);
  bool changed = false;
  const Value* existing = spec ? json::Member(*spec, "taints") : nullptr;
  std::vector<bool> satisfied(desired.size(), false);
  if (existing && existing->IsArray()) {
    for (const Value& t : existing->GetArray()) {
      std::string_view key = t.IsObject() ? json::StringMember(t, "key") : std::string_view();
      std::string_view effect = t.IsObject() ? json::StringMember(t, "effect") : std::string_view();
      bool keep = !managed(key);
      for (size_t i = 0; i < desired.size(); ++i) {
        if (!satisfied[i] && desired[i].key == key && desired[i].effect == effect) {
          satisfied[i] = keep = true;
        }
      }
      if (keep) {
        taints.PushBack(Value(t, a), a);
      } else {
        changed = true;
      }
    }
  }
  for (size_t i = 0; i < desired.size(); ++i) {
    if (satisfied[i]) continue;
    changed = true;
    Value t(rapidjson::kObjectType);
    json::SetStringMember(t, "key", desired[i].key, a);
    json::SetStringMember(t, "effect", desired[i].effect, a);
    if (desired[i].effect == "NoExecute") json::SetStringMember(t, "timeAdded", Rfc3339(now_ms), a);
    taints.PushBack(std::move(t), a);
  }
  if (!changed) return Status();
  updated.CopyFrom(node, a);
  Value& new_spec = json::EnsureObjectMember(updated, "spec", a);
  if (taints.Empty()) {
    json::RemoveMember(new_spec, "taints");
  } else {
    json::SetMember(new_spec, "taints", std::move(taints), a);
  }
  Result<Document> r = node_client_->Update(updated);
  return r.ok() ? Status() : r.status();
}

Result<int64_t> NodeLifecycleController::EvictPods(const Value& node, int64_t now_ms) {
  const Value* spec = json::Member(node, "spec");
  const Value* taints = spec ? json::Member(*spec, "taints") : nullptr;
  if (!taints || !taints->IsArray()) return int64_t{0};
  std::vector<const Value*> no_execute;
  for (const Value& t : taints->GetArray()) {
    if (t.IsObject() && json::StringMember(t, "effect") == "NoExecute") no_execute.push_back(&t);
  }
  if (no_execute.empty()) return int64_t{0};

  int64_t next = 0;
  std::string node_name = client::ObjectKey(node);
  for (const client::ObjectPtr& pod : PodsOn(node_name)) {
    const Value* md = json::Member(*pod, "metadata");
    if (!md || json::Member(*md, "deletionTimestamp")) continue;
    const Value* pod_spec = json::Member(*pod, "spec");
    const Value* tolerations = pod_spec ? json::Member(*pod_spec, "tolerations") : nullptr;
    // The pod goes at the earliest deadline any NoExecute taint sets for it.
    std::optional<int64_t> deadline;
    for (const Value* taint : no_execute) {
      std::string_view key = json::StringMember(*taint, "key");
      std::string_view value = json::StringMember(*taint, "value");
      std::optional<int64_t> allowed_ms;  // nullopt = tolerated for ever
      bool tolerated = false;
      if (tolerations && tolerations->IsArray()) {
        for (const Value& tol : tolerations->GetArray()) {
          if (!tol.IsObject() || !Tolerates(tol, key, value, "NoExecute")) continue;
          const Value* seconds = json::Member(tol, "tolerationSeconds");
          std::optional<int64_t> this_allows;
          if (seconds && seconds->IsInt64()) this_allows = std::max<int64_t>(seconds->GetInt64(), 0) * 1000;
          // The most lenient matching toleration wins (no limit beats any limit).
          if (!tolerated) {
            allowed_ms = this_allows;
          } else if (allowed_ms && (!this_allows || *this_allows > *allowed_ms)) {
            allowed_ms = this_allows;
          }
          tolerated = true;
        }
      }
      if (tolerated && !allowed_ms) continue;
      int64_t added = ParseTimeMillis(json::StringMember(*taint, "timeAdded")).value_or(now_ms);
      int64_t due = tolerated ? added + *allowed_ms : now_ms;
      deadline = deadline ? std::min(*deadline, due) : due;
    }
    if (!deadline) continue;
    if (*deadline <= now_ms) {
      auto [ns, name] = client::SplitObjectKey(client::ObjectKey(*pod));
      Status s = pod_client_->Delete(ns, name);
      if (s.ok()) {
        options_.recorder.Event(*pod, client::EventType::kNormal, "TaintManagerEviction",
                                "Marking for deletion Pod " + client::ObjectKey(*pod));
      }
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    } else {
      next = next == 0 ? *deadline : std::min(next, *deadline);
    }
  }
  return next;
}

}  // namespace kite::controllers
