#include "src/server/scheduler/scheduler.h"

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "src/server/json/json_util.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;
using rapidjson::Value;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kGatedMessage = "Scheduling is blocked due to non-empty scheduling gates";

// Deep equality of a member of two objects (both absent counts as equal).
bool SameMember(const Value& a, const Value& b, std::string_view name) {
  const Value* x = Member(a, name);
  const Value* y = Member(b, name);
  if (!x || !y) return x == y;
  return *x == *y;
}

bool SameLabels(const Value& a, const Value& b) {
  const Value* ma = Member(a, "metadata");
  const Value* mb = Member(b, "metadata");
  if (!ma || !mb) return ma == mb;
  return SameMember(*ma, *mb, "labels");
}

// What of a Node the filters and scores read: labels, spec (taints, unschedulable) and
// allocatable — not the heartbeat-driven rest of the status.
bool NodeSchedulingChanged(const Value& a, const Value& b) {
  if (!SameLabels(a, b) || !SameMember(a, b, "spec")) return true;
  const Value* sa = Member(a, "status");
  const Value* sb = Member(b, "status");
  if (!sa || !sb) return sa != sb;
  return !SameMember(*sa, *sb, "allocatable");
}

const Value* PodScheduledCondition(const Value& pod) {
  const Value* status = Member(pod, "status");
  const Value* conditions = status ? Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return nullptr;
  for (const Value& c : conditions->GetArray()) {
    if (StringMember(c, "type") == "PodScheduled") return &c;
  }
  return nullptr;
}

}  // namespace

Scheduler::Scheduler(Options options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock::Get()),
      profile_(
          [this] {
            std::vector<std::unique_ptr<Plugin>> plugins = SchedulingProfile::DefaultPlugins();
            AddVolumeBinding(plugins, &volume_listers_);
            return plugins;
          }(),
          options_.profile) {}

void Scheduler::Register(client::InformerFactory& informers, controllers::WorkQueue& queue) {
  queue_ = &queue;
  pods_ = &informers.For(client::kPods);
  namespaces_ = &informers.For(client::kNamespaces);
  pod_client_.emplace(informers.ClientFor(client::kPods));
  claim_client_.emplace(informers.ClientFor(client::kPersistentVolumeClaims));
  volume_listers_.claims = &informers.For(client::kPersistentVolumeClaims);
  volume_listers_.volumes = &informers.For(client::kPersistentVolumes);
  volume_listers_.classes = &informers.For(controllers::kStorageClasses);
  // A claim bound or created, a volume made available, a class added: pods may fit now.
  for (client::Informer* informer : {volume_listers_.claims, volume_listers_.volumes, volume_listers_.classes}) {
    informer->AddHandlers({
        .on_add = [this](const client::ObjectPtr&) { WakeUnschedulable(Wake::kAll); },
        .on_update = [this](const client::ObjectPtr&, const client::ObjectPtr&) { WakeUnschedulable(Wake::kAll); },
        .on_delete = nullptr,
    });
  }
  pods_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& pod) { OnPodAdd(pod); },
      .on_update = [this](const client::ObjectPtr& old_pod, const client::ObjectPtr& pod) { OnPodUpdate(old_pod, pod); },
      .on_delete = [this](const client::ObjectPtr& pod) { OnPodDelete(pod); },
  });
  informers.For(client::kNodes).AddHandlers({
      .on_add =
          [this](const client::ObjectPtr& node) {
            cache_.UpdateNode(node);
            WakeUnschedulable(Wake::kAll);
          },
      .on_update = [this](const client::ObjectPtr& old_node,
                          const client::ObjectPtr& node) { OnNodeUpdate(old_node, node); },
      .on_delete =
          [this](const client::ObjectPtr& node) {
            const Value* md = Member(*node, "metadata");
            if (md) cache_.RemoveNode(StringMember(*md, "name"));
          },
  });
  // Namespace labels decide namespaceSelector terms of pod affinity.
  namespaces_->AddHandlers({
      .on_add = nullptr,
      .on_update =
          [this](const client::ObjectPtr& old_ns, const client::ObjectPtr& ns) {
            if (!SameLabels(*old_ns, *ns)) WakeUnschedulable(Wake::kAffinityWaiters);
          },
      .on_delete = nullptr,
  });
}

void Scheduler::OnPodAdd(const client::ObjectPtr& object) {
  PodInfoPtr pod = PodInfo::Parse(object);
  if (!pod->node_name.empty()) {
    cache_.UpdatePod(pod);
    WakeUnschedulable(Wake::kAffinityWaiters);
  } else if (NeedsScheduling(*pod, options_.scheduler_name)) {
    queue_->Add(pod->key);
  }
}

void Scheduler::OnPodUpdate(const client::ObjectPtr& old_object, const client::ObjectPtr& object) {
  PodInfoPtr pod = PodInfo::Parse(object);
  cache_.UpdatePod(pod);
  const Value* old_spec = Member(*old_object, "spec");
  std::string_view old_node = old_spec ? StringMember(*old_spec, "nodeName") : std::string_view();
  if (!pod->node_name.empty()) {
    if (old_node.empty()) {
      // Newly bound (by us or anyone): pods waiting for a pod to be affine to may fit now.
      ClearAttempts(pod->key);
      WakeUnschedulable(Wake::kAffinityWaiters);
      return;
    }
    const Value* old_status = Member(*old_object, "status");
    std::string_view old_phase = old_status ? StringMember(*old_status, "phase") : std::string_view();
    bool finished = pod->Terminal() && old_phase != "Succeeded" && old_phase != "Failed";
    if (finished || !SameLabels(*old_object, *object)) WakeUnschedulable(Wake::kAll);
    return;
  }
  if (!NeedsScheduling(*pod, options_.scheduler_name)) {
    ClearAttempts(pod->key);
    return;
  }
  // Our own status writes (the PodScheduled condition) must not requeue the pod; a change
  // of what scheduling reads does, at once.
  if (!SameMember(*old_object, *object, "spec") || !SameLabels(*old_object, *object)) {
    {
      MutexLock lock(mu_);
      unschedulable_.erase(pod->key);
    }
    queue_->Add(pod->key);
  }
}

void Scheduler::OnPodDelete(const client::ObjectPtr& object) {
  PodInfoPtr pod = PodInfo::Parse(object);
  cache_.RemovePod(pod->key);
  ClearAttempts(pod->key);
  if (!pod->node_name.empty()) WakeUnschedulable(Wake::kAll);
}

void Scheduler::OnNodeUpdate(const client::ObjectPtr& old_node, const client::ObjectPtr& node) {
  cache_.UpdateNode(node);
  if (NodeSchedulingChanged(*old_node, *node)) WakeUnschedulable(Wake::kAll);
}

std::chrono::milliseconds Scheduler::BackOff(int attempts) const {
  std::chrono::milliseconds d = options_.initial_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

void Scheduler::WakeUnschedulable(Wake wake) {
  std::vector<std::pair<std::string, std::chrono::milliseconds>> due;
  {
    MutexLock lock(mu_);
    auto now = SteadyClock::now();
    for (auto it = unschedulable_.begin(); it != unschedulable_.end();) {
      if (wake == Wake::kAffinityWaiters && !it->second.needs_pod_affinity) {
        ++it;
        continue;
      }
      auto attempts = attempts_.find(it->first);
      auto ready = it->second.failed_at + BackOff(attempts == attempts_.end() ? 1 : attempts->second);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ready - now);
      due.emplace_back(it->first, std::max(left, std::chrono::milliseconds(0)));
      it = unschedulable_.erase(it);
    }
  }
  for (const auto& [key, delay] : due) queue_->AddAfter(key, delay);
}

void Scheduler::MarkUnschedulable(const PodInfo& pod) {
  MutexLock lock(mu_);
  unschedulable_[pod.key] = {SteadyClock::now(), !pod.required_affinity.empty()};
}

void Scheduler::ClearAttempts(const std::string& key) {
  MutexLock lock(mu_);
  unschedulable_.erase(key);
  attempts_.erase(key);
}

Status Scheduler::Reconcile(const std::string& key) {
  client::ObjectPtr object = pods_->Get(key);
  if (!object) return Status();
  PodInfoPtr pod = PodInfo::Parse(object);
  if (!NeedsScheduling(*pod, options_.scheduler_name) || cache_.IsAssumed(key)) return Status();
  if (pod->scheduling_gated) return RecordNotScheduled(*pod, "SchedulingGated", kGatedMessage);

  ScheduleOutcome outcome;
  cache_.WithSnapshot(
      [this](std::string_view ns) -> ObjectPtr { return namespaces_->Get(ns); },
      [&](const Snapshot& snapshot) -> PodInfoPtr {
        MutexLock lock(profile_mu_);
        outcome = profile_.Schedule(*pod, snapshot);
        if (!outcome.node.empty()) return pod->OnNode(outcome.node);
        // Marked while the cache is still locked: a cluster change that this cycle did not
        // see can only be applied after it, and then finds the pod waiting and wakes it.
        MarkUnschedulable(*pod);
        return nullptr;
      });
  ++stat_attempts_;
  {
    MutexLock lock(mu_);
    ++attempts_[key];
  }

  if (outcome.node.empty()) {
    ++stat_unschedulable_;
    // Retried on cluster events, and after the flush period at the latest.
    queue_->AddAfter(key, options_.unschedulable_flush);
    options_.recorder.Event(*object, client::EventType::kWarning, "FailedScheduling", outcome.message);
    return RecordNotScheduled(*pod, outcome.reason, outcome.message);
  }

  // PreBind: the claims that wait for this pod learn its node.
  Status bound = SetSelectedNode(volume_listers_, *claim_client_, *pod, outcome.node);
  if (bound.ok()) bound = Bind(*pod, outcome.node);
  if (!bound.ok()) {
    cache_.Forget(key);
    // Bound elsewhere meanwhile, being deleted, or gone: the informer brings the news.
    if (bound.code() == StatusCode::kConflict || bound.code() == StatusCode::kNotFound) return Status();
    return bound;
  }
  ++stat_bound_;
  if (options_.recorder.enabled()) {
    options_.recorder.Event(*object, client::EventType::kNormal, "Scheduled",
                            "Successfully assigned " + key + " to " + outcome.node);
  }
  return Status();
}

Status Scheduler::Bind(const PodInfo& pod, const std::string& node) const {
  rapidjson::Document binding(rapidjson::kObjectType);
  auto& a = binding.GetAllocator();
  json::SetStringMember(binding, "apiVersion", "v1", a);
  json::SetStringMember(binding, "kind", "Binding", a);
  Value md(rapidjson::kObjectType);
  json::SetStringMember(md, "name", pod.name, a);
  json::SetStringMember(md, "namespace", pod.ns, a);
  if (!pod.uid.empty()) json::SetStringMember(md, "uid", pod.uid, a);
  json::SetMember(binding, "metadata", std::move(md), a);
  Value target(rapidjson::kObjectType);
  json::SetStringMember(target, "kind", "Node", a);
  json::SetStringMember(target, "name", node, a);
  json::SetMember(binding, "target", std::move(target), a);
  Result<rapidjson::Document> r = pod_client_->CreateSubresource(pod.ns, pod.name, "binding", binding);
  return r.ok() ? Status() : r.status();
}

Status Scheduler::RecordNotScheduled(const PodInfo& pod, std::string_view reason, std::string_view message) const {
  const Value* current = PodScheduledCondition(*pod.object);
  bool was_false = current && StringMember(*current, "status") == "False";
  if (was_false && StringMember(*current, "reason") == reason && StringMember(*current, "message") == message) {
    return Status();
  }
  std::string transition = was_false && !StringMember(*current, "lastTransitionTime").empty()
                               ? std::string(StringMember(*current, "lastTransitionTime"))
                               : FormatRfc3339Seconds(clock_->NowMillis());
  rapidjson::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  Value condition(rapidjson::kObjectType);
  json::SetStringMember(condition, "type", "PodScheduled", a);
  json::SetStringMember(condition, "status", "False", a);
  json::SetStringMember(condition, "lastTransitionTime", transition, a);
  json::SetStringMember(condition, "reason", reason, a);
  json::SetStringMember(condition, "message", message, a);
  Value conditions(rapidjson::kArrayType);
  conditions.PushBack(condition, a);
  Value status(rapidjson::kObjectType);
  json::SetMember(status, "conditions", std::move(conditions), a);
  json::SetMember(patch, "status", std::move(status), a);
  Result<rapidjson::Document> r =
      pod_client_->Patch(pod.ns, pod.name, client::PatchType::kStrategic, json::ToJson(patch), "status");
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  return Status();
}

Scheduler::Stats Scheduler::stats() const {
  return {stat_attempts_.load(), stat_bound_.load(), stat_unschedulable_.load()};
}

}  // namespace kite::scheduler
