#include "src/server/controllers/replica_set_controller.h"

#include <algorithm>
#include <atomic>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

constexpr std::string_view kApiVersion = "apps/v1";
constexpr std::string_view kKind = "ReplicaSet";

int64_t SpecInt(const Value& object, std::string_view field, int64_t fallback) {
  const Value* spec = json::Member(object, "spec");
  const Value* v = spec ? json::Member(*spec, field) : nullptr;
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}

int64_t SpecReplicas(const Value& rs) { return std::max<int64_t>(0, SpecInt(rs, "replicas", 1)); }
int64_t MinReadySeconds(const Value& rs) { return SpecInt(rs, "minReadySeconds", 0); }

// Every label of the template is on the pod with the same value.
bool HasTemplateLabels(const Value& pod, const Value& rs) {
  const Value* spec = json::Member(rs, "spec");
  const Value* tmpl = spec ? json::Member(*spec, "template") : nullptr;
  const Value* tmd = tmpl ? json::Member(*tmpl, "metadata") : nullptr;
  const Value* want = tmd ? json::Member(*tmd, "labels") : nullptr;
  if (!want || !want->IsObject()) return true;
  const Value* have = LabelsOf(pod);
  for (const auto& m : want->GetObject()) {
    const Value* v = have ? json::Member(*have, std::string_view(m.name.GetString(), m.name.GetStringLength()))
                          : nullptr;
    if (!v || *v != m.value) return false;
  }
  return true;
}

bool NamespaceTerminating(const Status& s) {
  return s.message().find("because it is being terminated") != std::string::npos;
}

}  // namespace

ReplicaSetController::ReplicaSetController(const Clock* clock, client::EventRecorder recorder)
    : clock_(clock), recorder_(std::move(recorder)), expectations_(clock) {}

void ReplicaSetController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  replica_sets_ = &informers.For(client::kReplicaSets);
  pods_ = &informers.For(client::kPods);
  rs_client_.emplace(informers.ClientFor(client::kReplicaSets));
  pod_client_.emplace(informers.ClientFor(client::kPods));
  replica_sets_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& rs) { queue_->Add(client::ObjectKey(*rs)); },
      .on_update = [this](const client::ObjectPtr&,
                          const client::ObjectPtr& rs) { queue_->Add(client::ObjectKey(*rs)); },
      .on_delete =
          [this](const client::ObjectPtr& rs) {
            std::string key = client::ObjectKey(*rs);
            expectations_.Delete(key);
            queue_->Add(key);
          },
  });
  pods_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& pod) { OnPodAdd(pod); },
      .on_update = [this](const client::ObjectPtr& old_pod,
                          const client::ObjectPtr& pod) { OnPodUpdate(old_pod, pod); },
      .on_delete = [this](const client::ObjectPtr& pod) { OnPodDelete(pod); },
  });
}

client::ObjectPtr ReplicaSetController::ResolveRef(std::string_view ns, const OwnerReference& ref) const {
  if (ref.kind != kKind || ref.api_version.substr(0, ref.api_version.find('/')) != "apps") return nullptr;
  client::ObjectPtr rs = replica_sets_->Get(ns, ref.name);
  if (!rs || UidOf(*rs) != ref.uid) return nullptr;
  return rs;
}

void ReplicaSetController::EnqueueOrphanOwners(const Value& pod) {
  for (const client::ObjectPtr& rs : replica_sets_->List(NamespaceOf(pod))) {
    Result<selection::LabelSelector> selector = SpecSelector(*rs);
    // An empty selector would match everything: it matches nothing here, as in Kubernetes.
    if (!selector.ok() || selector->Empty() || !selector->MatchesObject(pod)) continue;
    queue_->Add(client::ObjectKey(*rs));
  }
}

void ReplicaSetController::OnPodAdd(const client::ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) {
    // Seen for the first time already terminating (e.g. after a restart): not a creation.
    OnPodDelete(pod);
    return;
  }
  if (std::optional<OwnerReference> ref = ControllerOf(*pod)) {
    if (client::ObjectPtr rs = ResolveRef(NamespaceOf(*pod), *ref)) {
      std::string key = client::ObjectKey(*rs);
      expectations_.CreationObserved(key);
      queue_->Add(key);
    }
    return;
  }
  EnqueueOrphanOwners(*pod);
}

void ReplicaSetController::OnPodUpdate(const client::ObjectPtr& old_pod, const client::ObjectPtr& pod) {
  const Value* old_labels = LabelsOf(*old_pod);
  const Value* labels = LabelsOf(*pod);
  bool labels_changed = (old_labels == nullptr) != (labels == nullptr) ||
                        (old_labels && labels && *old_labels != *labels);
  if (IsBeingDeleted(*pod)) {
    // Graceful deletion shows as an update first; count it as the deletion now.
    OnPodDelete(pod);
    if (labels_changed) OnPodDelete(old_pod);
    return;
  }
  std::optional<OwnerReference> old_ref = ControllerOf(*old_pod);
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  bool ref_changed = old_ref.has_value() != ref.has_value() || (old_ref && ref && old_ref->uid != ref->uid);
  std::string_view ns = NamespaceOf(*pod);
  if (ref_changed && old_ref) {
    if (client::ObjectPtr rs = ResolveRef(ns, *old_ref)) queue_->Add(client::ObjectKey(*rs));
  }
  if (ref) {
    client::ObjectPtr rs = ResolveRef(ns, *ref);
    if (!rs) return;
    std::string key = client::ObjectKey(*rs);
    queue_->Add(key);
    // A pod that just became ready becomes available minReadySeconds later: look again then.
    int64_t min_ready = MinReadySeconds(*rs);
    if (min_ready > 0 && !IsPodReady(*old_pod) && IsPodReady(*pod)) {
      queue_->AddAfter(key, std::chrono::seconds(min_ready + 1));
    }
    return;
  }
  if (labels_changed || ref_changed) EnqueueOrphanOwners(*pod);
}

void ReplicaSetController::OnPodDelete(const client::ObjectPtr& pod) {
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  if (!ref) return;
  client::ObjectPtr rs = ResolveRef(NamespaceOf(*pod), *ref);
  if (!rs) return;
  std::string key = client::ObjectKey(*rs);
  expectations_.DeletionObserved(key, client::ObjectKey(*pod));
  queue_->Add(key);
}

Status ReplicaSetController::Reconcile(const std::string& key) {
  client::ObjectPtr rs = replica_sets_->Get(key);
  if (!rs) {
    expectations_.Delete(key);
    return Status();
  }
  // Read before listing pods: a pod observed after this check is then also in the list.
  bool needs_sync = expectations_.Satisfied(key);
  Result<selection::LabelSelector> selector = SpecSelector(*rs);
  // A malformed selector is for validation to reject; retrying cannot fix it.
  if (!selector.ok()) return Status();

  std::vector<client::ObjectPtr> active;
  for (const client::ObjectPtr& pod : pods_->List(NamespaceOf(*rs))) {
    if (IsPodActive(*pod)) active.push_back(pod);
  }
  ControllerRefManager refs(*rs, std::string(kApiVersion), std::string(kKind), *selector, &*rs_client_,
                            &*pod_client_);
  Result<std::vector<client::ObjectPtr>> claimed = refs.Claim(active);
  if (!claimed.ok()) return claimed.status();

  Status manage_error;
  if (needs_sync && !IsBeingDeleted(*rs)) manage_error = ManageReplicas(key, *rs, *claimed);
  Status status_error = WriteStatus(*rs, *claimed, manage_error);

  // Pods that are ready but not yet available for minReadySeconds: look again when the
  // first of them is.
  int64_t now = clock_->NowMillis();
  std::optional<int64_t> soonest;
  for (const client::ObjectPtr& pod : *claimed) {
    if (std::optional<int64_t> ms = MillisUntilAvailable(*pod, MinReadySeconds(*rs), now)) {
      soonest = soonest ? std::min(*soonest, *ms) : *ms;
    }
  }
  if (soonest) queue_->AddAfter(key, std::chrono::milliseconds(*soonest));

  if (!manage_error.ok()) return manage_error;
  return status_error;
}

Status ReplicaSetController::ManageReplicas(const std::string& key, const Value& rs,
                                            const std::vector<client::ObjectPtr>& pods) {
  int64_t want = SpecReplicas(rs);
  int64_t diff = static_cast<int64_t>(pods.size()) - want;
  std::string_view ns = NamespaceOf(rs);
  if (diff < 0) {
    const Value* spec = json::Member(rs, "spec");
    const Value* tmpl = spec ? json::Member(*spec, "template") : nullptr;
    if (!tmpl || !tmpl->IsObject()) return Status();  // nothing to create from (validation's job)
    const Value* tmd = json::Member(*tmpl, "metadata");
    Result<selection::LabelSelector> selector = SpecSelector(rs);
    // Pods the selector would not claim would be created again on every sync.
    if (!selector.ok() || !selector->Matches(tmd ? json::Member(*tmd, "labels") : nullptr)) return Status();

    int count = static_cast<int>(std::min<int64_t>(-diff, kBurstReplicas));
    expectations_.ExpectCreations(key, count);
    rapidjson::Document ref_doc;
    Value ref = NewControllerRef(rs, kApiVersion, kKind, ref_doc.GetAllocator());
    rapidjson::Document pod = PodFromTemplate(*tmpl, NameOf(rs), ref);
    std::atomic<int> created{0};
    BatchResult result = SlowStartBatch(count, 1, [&]() -> Status {
      Result<rapidjson::Document> made = pod_client_->Create(ns, pod);
      if (made.ok()) {
        ++created;
        recorder_.Event(rs, client::EventType::kNormal, "SuccessfulCreate", "Created pod: " + std::string(NameOf(*made)));
        return Status();
      }
      // Every create fails in a terminating namespace; nothing to report.
      if (NamespaceTerminating(made.status())) return Status();
      recorder_.Event(rs, client::EventType::kWarning, "FailedCreate", "Error creating: " + made.status().message());
      return made.status();
    });
    // Creates never sent or refused will never show up in the cache.
    for (int i = created.load(); i < count; ++i) expectations_.CreationObserved(key);
    return result.error;
  }
  if (diff > 0) {
    size_t count = static_cast<size_t>(std::min<int64_t>(diff, kBurstReplicas));
    std::vector<client::ObjectPtr> doomed = PodsToDelete(pods, RelatedPods(rs), count, clock_->NowMillis());
    std::vector<std::string> keys;
    for (const client::ObjectPtr& p : doomed) keys.push_back(client::ObjectKey(*p));
    expectations_.ExpectDeletions(key, keys);
    Status first_error;
    for (const client::ObjectPtr& p : doomed) {
      // The uid precondition keeps us from deleting a namesake created meanwhile.
      std::string options = R"({"preconditions":{"uid":")" + std::string(UidOf(*p)) + R"("}})";
      Status s = pod_client_->Delete(ns, NameOf(*p), options);
      if (s.ok()) {
        recorder_.Event(rs, client::EventType::kNormal, "SuccessfulDelete", "Deleted pod: " + std::string(NameOf(*p)));
      } else {
        expectations_.DeletionObserved(key, client::ObjectKey(*p));
        if (s.code() != StatusCode::kNotFound) {
          recorder_.Event(rs, client::EventType::kWarning, "FailedDelete", "Error deleting: " + s.message());
          if (first_error.ok()) first_error = s;
        }
      }
    }
    return first_error;
  }
  return Status();
}

std::vector<client::ObjectPtr> ReplicaSetController::RelatedPods(const Value& rs) const {
  std::optional<OwnerReference> owner = ControllerOf(rs);
  std::vector<std::string> family{std::string(UidOf(rs))};
  if (owner) {
    for (const client::ObjectPtr& sibling : replica_sets_->List(NamespaceOf(rs))) {
      std::optional<OwnerReference> r = ControllerOf(*sibling);
      if (r && r->uid == owner->uid && UidOf(*sibling) != UidOf(rs)) family.emplace_back(UidOf(*sibling));
    }
  }
  std::vector<client::ObjectPtr> related;
  for (const client::ObjectPtr& pod : pods_->List(NamespaceOf(rs))) {
    std::optional<OwnerReference> r = ControllerOf(*pod);
    if (r && IsPodActive(*pod) && std::find(family.begin(), family.end(), r->uid) != family.end()) {
      related.push_back(pod);
    }
  }
  return related;
}

Status ReplicaSetController::WriteStatus(const Value& rs, const std::vector<client::ObjectPtr>& pods,
                                         const Status& manage_error) {
  int64_t now = clock_->NowMillis();
  int64_t min_ready = MinReadySeconds(rs);
  int64_t fully_labeled = 0, ready = 0, available = 0;
  for (const client::ObjectPtr& pod : pods) {
    if (HasTemplateLabels(*pod, rs)) ++fully_labeled;
    if (IsPodReady(*pod)) {
      ++ready;
      if (IsPodAvailable(*pod, min_ready, now)) ++available;
    }
  }

  rapidjson::Document status(rapidjson::kObjectType);
  auto& a = status.GetAllocator();
  if (const Value* old = json::Member(rs, "status"); old && old->IsObject()) status.CopyFrom(*old, a);
  // Zero counts are omitted, as Go's omitempty does (replicas is always written).
  auto set_count = [&](std::string_view field, int64_t n, bool always = false) {
    if (n != 0 || always) {
      json::SetMember(status, field, Value(n), a);
    } else {
      json::RemoveMember(status, field);
    }
  };
  set_count("replicas", static_cast<int64_t>(pods.size()), true);
  set_count("fullyLabeledReplicas", fully_labeled);
  set_count("readyReplicas", ready);
  set_count("availableReplicas", available);
  set_count("observedGeneration", GenerationOf(rs));

  // The ReplicaFailure condition: added when creates/deletes fail, removed once they work.
  Value* conditions = json::MutableMember(status, "conditions");
  auto find_failure = [&]() -> Value* {
    if (!conditions || !conditions->IsArray()) return nullptr;
    for (Value& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == "ReplicaFailure") return &c;
    }
    return nullptr;
  };
  Value* failure = find_failure();
  if (!manage_error.ok() && !failure) {
    int64_t diff = static_cast<int64_t>(pods.size()) - SpecReplicas(rs);
    Value c(rapidjson::kObjectType);
    json::SetStringMember(c, "type", "ReplicaFailure", a);
    json::SetStringMember(c, "status", "True", a);
    json::SetStringMember(c, "lastTransitionTime", FormatRfc3339Seconds(now), a);
    json::SetStringMember(c, "reason", diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "", a);
    json::SetStringMember(c, "message", manage_error.message(), a);
    if (!conditions || !conditions->IsArray()) {
      json::SetMember(status, "conditions", Value(rapidjson::kArrayType), a);
      conditions = json::MutableMember(status, "conditions");
    }
    conditions->PushBack(std::move(c), a);
  } else if (manage_error.ok() && failure) {
    for (auto it = conditions->Begin(); it != conditions->End();) {
      it = json::StringMember(*it, "type") == "ReplicaFailure" ? conditions->Erase(it) : it + 1;
    }
    if (conditions->Empty()) json::RemoveMember(status, "conditions");
  }

  const Value* old_status = json::Member(rs, "status");
  if (old_status && *old_status == status) return Status();

  rapidjson::Document updated;
  updated.CopyFrom(rs, updated.GetAllocator());
  json::SetMember(updated, "status", Value(status, updated.GetAllocator()), updated.GetAllocator());
  Result<rapidjson::Document> written = rs_client_->UpdateStatus(updated);
  if (written.ok() || written.status().code() == StatusCode::kNotFound) return Status();
  // One retry on a fresh copy (the cached one was stale), as Kubernetes does.
  Result<rapidjson::Document> fresh = rs_client_->Get(NamespaceOf(rs), NameOf(rs));
  if (!fresh.ok()) return fresh.status().code() == StatusCode::kNotFound ? Status() : fresh.status();
  if (UidOf(*fresh) != UidOf(rs)) return Status();
  json::SetMember(*fresh, "status", Value(status, fresh->GetAllocator()), fresh->GetAllocator());
  written = rs_client_->UpdateStatus(*fresh);
  return written.ok() ? Status() : written.status();
}

}  // namespace kite::controllers
