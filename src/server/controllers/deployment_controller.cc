#include "src/server/controllers/deployment_controller.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/deployment_util.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using client::ObjectPtr;
using rapidjson::Value;

namespace {

constexpr std::string_view kApiVersion = "apps/v1";
constexpr std::string_view kKind = "Deployment";

// How long a ReplicaSet we created may stay unseen by the cache before we stop standing in
// for it.
constexpr int64_t kUnseenWriteMillis = 10'000;

std::optional<int64_t> ResourceVersionNumber(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  std::string rv(md ? json::StringMember(*md, "resourceVersion") : std::string_view());
  if (rv.empty() || rv.size() > 18 || rv.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(rv);
}

ObjectPtr Share(rapidjson::Document d) { return std::make_shared<const rapidjson::Document>(std::move(d)); }

std::string Quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

const Value* PodTemplate(const Value& object) {
  const Value* spec = json::Member(object, "spec");
  return spec ? json::Member(*spec, "template") : nullptr;
}

bool IsOwnedBy(const Value& object, std::string_view uid) {
  std::optional<OwnerReference> ref = ControllerOf(object);
  return ref && ref->uid == uid;
}

// One Reconcile of one Deployment: the steps of Kubernetes' syncDeployment over a working
// copy of the Deployment and of its ReplicaSets, each replaced by what the API returns
// after every write.
class DeploymentSync {
 public:
  DeploymentSync(const Clock* clock, const client::EventRecorder* recorder, WorkQueue* queue,
                 const client::ResourceClient* deployments, const client::ResourceClient* replica_sets,
                 client::Informer* rs_cache, rapidjson::Document deployment, std::vector<ObjectPtr> rss,
                 std::vector<ObjectPtr> pods, std::function<void(const ObjectPtr&)> on_write)
      : clock_(clock),
        recorder_(recorder),
        queue_(queue),
        deployments_(deployments),
        replica_sets_(replica_sets),
        rs_cache_(rs_cache),
        d_(std::move(deployment)),
        rss_(std::move(rss)),
        pods_(std::move(pods)),
        on_write_(std::move(on_write)) {}

  Status Run();

 private:
  // ---- the ReplicaSets of this sync ----
  ObjectPtr NewRs() const;
  std::vector<ObjectPtr> OldRss() const;
  std::vector<ObjectPtr> AllRss() const;  // old ones, then the new one
  // Replaces (or adds) a ReplicaSet this sync wrote with what the API returned.
  void Track(ObjectPtr rs);
  // Active pods controlled by `rs` as cached.
  int32_t PodsOf(const Value& rs) const;
  // Σ max(spec.replicas, pods still there): what may exist right now.
  int32_t PodAwareCount(const std::vector<ObjectPtr>& rss) const;
  // Σ min(spec.replicas, status.availableReplicas): what will stay available.
  int32_t CappedAvailable(const std::vector<ObjectPtr>& rss) const;

  // ---- steps ----
  Status GetAllReplicaSetsAndSyncRevision(bool create);
  Status SyncExistingNewRs(const ObjectPtr& existing, int64_t new_revision);
  Status CreateNewRs(int64_t new_revision);
  Status SyncStatusOnly();
  Status SyncScaleOrPaused();
  Result<bool> IsScalingEvent();
  Status CheckPausedConditions();
  Status Scale();
  Status RolloutRolling();
  Status RolloutRecreate();
  Result<bool> ReconcileNewReplicaSet();
  Result<bool> ReconcileOldReplicaSets();
  Result<int32_t> CleanupUnhealthyReplicas(int32_t max_cleanup);
  Result<int32_t> ScaleDownOldReplicaSetsForRollingUpdate();
  bool OldPodsRunning() const;
  Status CleanupDeployment();
  Status SyncRolloutStatus();
  Status SyncDeploymentStatus();

  // ---- writes ----
  // Scales `rs` to `replicas` and refreshes the replicas annotations; true when the size changed.
  Result<bool> ScaleReplicaSet(const ObjectPtr& rs, int32_t replicas);
  Status WriteStatus(const DeploymentStatus& status);
  Status SetDeploymentRevision(int64_t revision);

  DeploymentStatus CalculateStatus() const;
  DeploymentStatus CurrentStatus() const { return DeploymentStatus::FromJson(json::Member(d_, "status")); }
  std::string_view Namespace() const { return NamespaceOf(d_); }
  std::string_view DName() const { return NameOf(d_); }
  int64_t Now() const { return clock_->NowMillis(); }

  const Clock* clock_;
  const client::EventRecorder* recorder_;
  WorkQueue* queue_;
  const client::ResourceClient* deployments_;
  const client::ResourceClient* replica_sets_;
  client::Informer* rs_cache_;
  rapidjson::Document d_;
  std::vector<ObjectPtr> rss_;
  std::vector<ObjectPtr> pods_;
  std::function<void(const ObjectPtr&)> on_write_;
  std::string new_uid_;  // of the new ReplicaSet, "" when there is none
};

ObjectPtr DeploymentSync::NewRs() const {
  if (new_uid_.empty()) return nullptr;
  for (const ObjectPtr& rs : rss_) {
    if (UidOf(*rs) == new_uid_) return rs;
  }
  return nullptr;
}

std::vector<ObjectPtr> DeploymentSync::OldRss() const {
  std::vector<ObjectPtr> old;
  for (const ObjectPtr& rs : rss_) {
    if (new_uid_.empty() || UidOf(*rs) != new_uid_) old.push_back(rs);
  }
  return old;
}

std::vector<ObjectPtr> DeploymentSync::AllRss() const {
  std::vector<ObjectPtr> all = OldRss();
  if (ObjectPtr n = NewRs()) all.push_back(n);
  return all;
}

void DeploymentSync::Track(ObjectPtr rs) {
  on_write_(rs);
  for (ObjectPtr& existing : rss_) {
    if (UidOf(*existing) == UidOf(*rs)) {
      existing = std::move(rs);
      return;
    }
  }
  rss_.push_back(std::move(rs));
}

int32_t DeploymentSync::PodsOf(const Value& rs) const {
  int32_t n = 0;
  std::string_view uid = UidOf(rs);
  for (const ObjectPtr& pod : pods_) {
    if (IsPodActive(*pod) && IsOwnedBy(*pod, uid)) ++n;
  }
  return n;
}

int32_t DeploymentSync::PodAwareCount(const std::vector<ObjectPtr>& rss) const {
  int32_t n = 0;
  for (const ObjectPtr& rs : rss) n += std::max(RsSpecReplicas(*rs), PodsOf(*rs));
  return n;
}

int32_t DeploymentSync::CappedAvailable(const std::vector<ObjectPtr>& rss) const {
  int32_t n = 0;
  for (const ObjectPtr& rs : rss) n += std::min(RsSpecReplicas(*rs), RsStatusCount(*rs, "availableReplicas"));
  return n;
}

Status DeploymentSync::Run() {
  if (IsBeingDeleted(d_)) return SyncStatusOnly();
  KITE_RETURN_IF_ERROR(CheckPausedConditions());
  if (IsPaused(d_)) return SyncScaleOrPaused();
  Result<bool> scaling = IsScalingEvent();
  if (!scaling.ok()) return scaling.status();
  if (*scaling) return SyncScaleOrPaused();
  return IsRollingUpdate(d_) ? RolloutRolling() : RolloutRecreate();
}

// ---- finding the new ReplicaSet and the revisions ----

Status DeploymentSync::GetAllReplicaSetsAndSyncRevision(bool create) {
  const Value* tmpl = PodTemplate(d_);
  std::vector<ObjectPtr> by_age = rss_;
  SortByCreation(by_age);
  ObjectPtr existing;
  // The oldest match wins, should there ever be two.
  for (const ObjectPtr& rs : by_age) {
    const Value* rs_tmpl = PodTemplate(*rs);
    if (tmpl && rs_tmpl && EqualIgnoreHash(*rs_tmpl, *tmpl)) {
      existing = rs;
      break;
    }
  }
  new_uid_ = existing ? std::string(UidOf(*existing)) : std::string();
  int64_t new_revision = MaxRevision(OldRss()) + 1;
  if (existing) return SyncExistingNewRs(existing, new_revision);
  if (!create) return Status();
  return CreateNewRs(new_revision);
}

Status DeploymentSync::SyncExistingNewRs(const ObjectPtr& existing, int64_t new_revision) {
  rapidjson::Document copy;
  copy.CopyFrom(*existing, copy.GetAllocator());
  bool changed = SetNewReplicaSetAnnotations(d_, copy, new_revision, true);
  int32_t min_ready = MinReadySeconds(d_);
  if (MinReadySeconds(*existing) != min_ready) {
    json::SetMember(json::EnsureObjectMember(copy, "spec", copy.GetAllocator()), "minReadySeconds",
                    Value(min_ready), copy.GetAllocator());
    changed = true;
  }
  if (changed) {
    // The Deployment takes the revision on the next sync, once the ReplicaSet has it.
    Result<rapidjson::Document> updated = replica_sets_->Update(copy);
    if (!updated.ok()) return updated.status();
    Track(Share(std::move(updated).value()));
    return Status();
  }
  std::optional<int64_t> revision = Revision(*existing);
  KITE_RETURN_IF_ERROR(SetDeploymentRevision(revision.value_or(new_revision)));
  DeploymentStatus status = CurrentStatus();
  if (ProgressDeadlineSeconds(d_) && !FindCondition(status, "Progressing")) {
    SetCondition(status, NewCondition("Progressing", "True", "FoundNewReplicaSet",
                                      "Found new replica set " + Quoted(NameOf(*existing)), Now()));
    return WriteStatus(status);
  }
  return Status();
}

Status DeploymentSync::CreateNewRs(int64_t new_revision) {
  const Value* tmpl = PodTemplate(d_);
  if (!tmpl) return InvalidArgumentError("deployment has no pod template");
  DeploymentStatus status = CurrentStatus();
  std::optional<int64_t> collisions;
  if (status.collision_count) collisions = *status.collision_count;
  std::string hash = ComputeTemplateHash(*tmpl, collisions);
  std::string name = std::string(DName()) + "-" + hash;

  rapidjson::Document rs(rapidjson::kObjectType);
  auto& a = rs.GetAllocator();
  json::SetStringMember(rs, "apiVersion", "apps/v1", a);
  json::SetStringMember(rs, "kind", "ReplicaSet", a);
  Value new_template(*tmpl, a);
  Value& tmd = json::EnsureObjectMember(new_template, "metadata", a);
  Value& labels = json::EnsureObjectMember(tmd, "labels", a);
  json::SetStringMember(labels, kPodTemplateHashLabel, hash, a);

  Value md(rapidjson::kObjectType);
  json::SetStringMember(md, "name", name, a);
  json::SetStringMember(md, "namespace", Namespace(), a);
  json::SetMember(md, "labels", Value(labels, a), a);
  Value refs(rapidjson::kArrayType);
  refs.PushBack(NewControllerRef(d_, kApiVersion, kKind, a), a);
  json::SetMember(md, "ownerReferences", std::move(refs), a);
  json::SetMember(rs, "metadata", std::move(md), a);

  Value spec(rapidjson::kObjectType);
  json::SetMember(spec, "replicas", Value(0), a);
  json::SetMember(spec, "minReadySeconds", Value(MinReadySeconds(d_)), a);
  const Value* dspec = json::Member(d_, "spec");
  const Value* dselector = dspec ? json::Member(*dspec, "selector") : nullptr;
  Value selector = dselector && dselector->IsObject() ? Value(*dselector, a) : Value(rapidjson::kObjectType);
  Value& match_labels = json::EnsureObjectMember(selector, "matchLabels", a);
  json::SetStringMember(match_labels, kPodTemplateHashLabel, hash, a);
  json::SetMember(spec, "selector", std::move(selector), a);
  json::SetMember(spec, "template", std::move(new_template), a);
  json::SetMember(rs, "spec", std::move(spec), a);

  int32_t replicas = NewRsNewReplicas(d_, PodAwareCount(OldRss()), 0);
  json::SetMember(*json::MutableMember(rs, "spec"), "replicas", Value(replicas), a);
  SetNewReplicaSetAnnotations(d_, rs, new_revision, false);

  bool already_exists = false;
  Result<rapidjson::Document> created = replica_sets_->Create(Namespace(), rs);
  ObjectPtr made;
  if (created.ok()) {
    made = Share(std::move(created).value());
  } else if (created.status().code() == StatusCode::kAlreadyExists) {
    // A slow cache, or a hash collision with someone else's ReplicaSet.
    already_exists = true;
    made = rs_cache_->Get(Namespace(), name);
    if (!made) {
      Result<rapidjson::Document> fresh = replica_sets_->Get(Namespace(), name);
      if (!fresh.ok()) return fresh.status();
      made = Share(std::move(fresh).value());
    }
    const Value* made_tmpl = PodTemplate(*made);
    if (!IsOwnedBy(*made, UidOf(d_)) || !made_tmpl || !EqualIgnoreHash(*tmpl, *made_tmpl)) {
      status.collision_count = status.collision_count.value_or(0) + 1;
      Status s = WriteStatus(status);
      if (!s.ok()) return s;
      return created.status();  // retried with the next hash
    }
  } else if (created.status().message().find("because it is being terminated") != std::string::npos) {
    return created.status();
  } else {
    std::string msg = "Failed to create new replica set " + Quoted(name) + ": " + created.status().message();
    recorder_->Event(d_, client::EventType::kWarning, "ReplicaSetCreateError", msg);
    if (ProgressDeadlineSeconds(d_)) {
      SetCondition(status, NewCondition("Progressing", "False", "ReplicaSetCreateError", msg, Now()));
      (void)WriteStatus(status);  // the create error is the one to report
    }
    return created.status();
  }
  new_uid_ = std::string(UidOf(*made));
  Track(made);
  if (!already_exists && RsSpecReplicas(*made) > 0) {
    recorder_->Eventf(d_, client::EventType::kNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d",
                      std::string(NameOf(*made)).c_str(), static_cast<int>(RsSpecReplicas(*made)));
  }

  KITE_RETURN_IF_ERROR(SetDeploymentRevision(new_revision));
  if (!already_exists && ProgressDeadlineSeconds(d_)) {
    DeploymentStatus current = CurrentStatus();
    SetCondition(current, NewCondition("Progressing", "True", "NewReplicaSetCreated",
                                       "Created new replica set " + Quoted(NameOf(*made)), Now()));
    return WriteStatus(current);
  }
  return Status();
}

// ---- scaling, and paused Deployments ----

Status DeploymentSync::SyncStatusOnly() {
  KITE_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(false));
  return SyncDeploymentStatus();
}

Status DeploymentSync::SyncScaleOrPaused() {
  KITE_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(false));
  KITE_RETURN_IF_ERROR(Scale());
  if (IsPaused(d_)) KITE_RETURN_IF_ERROR(CleanupDeployment());
  return SyncDeploymentStatus();
}

Result<bool> DeploymentSync::IsScalingEvent() {
  KITE_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(false));
  int32_t replicas = DeploymentReplicas(d_);
  for (const ObjectPtr& rs : ActiveReplicaSets(AllRss())) {
    std::optional<int32_t> desired = IntAnnotation(*rs, kDesiredReplicasAnnotation);
    if (desired && *desired != replicas) return true;
  }
  return false;
}

Status DeploymentSync::CheckPausedConditions() {
  if (!ProgressDeadlineSeconds(d_)) return Status();
  DeploymentStatus status = CurrentStatus();
  const DeploymentCondition* cond = FindCondition(status, "Progressing");
  // A reported timeout is not overwritten.
  if (cond && cond->reason == "ProgressDeadlineExceeded") return Status();
  bool paused_cond = cond && cond->reason == "DeploymentPaused";
  if (IsPaused(d_) && !paused_cond) {
    SetCondition(status, NewCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", Now()));
  } else if (!IsPaused(d_) && paused_cond) {
    // Resuming restarts the progress clock: time spent paused is not lack of progress.
    SetCondition(status, NewCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", Now()));
  } else {
    return Status();
  }
  return WriteStatus(status);
}

Status DeploymentSync::Scale() {
  int32_t replicas = DeploymentReplicas(d_);
  ObjectPtr new_rs = NewRs();
  std::vector<ObjectPtr> active = ActiveReplicaSets(AllRss());
  // One active ReplicaSet (or none: then the newest) takes all the replicas.
  if (active.size() <= 1) {
    ObjectPtr target;
    if (active.size() == 1) {
      target = active[0];
    } else if (new_rs) {
      target = new_rs;
    } else {
      std::vector<ObjectPtr> old = OldRss();
      SortByCreation(old);
      if (!old.empty()) target = old.back();
    }
    if (!target || RsSpecReplicas(*target) == replicas) return Status();
    Result<bool> scaled = ScaleReplicaSet(target, replicas);
    return scaled.ok() ? Status() : scaled.status();
  }
  // A saturated new ReplicaSet (e.g. after adopting old ones): the old ones go.
  if (IsSaturated(d_, new_rs.get())) {
    for (const ObjectPtr& old : ActiveReplicaSets(OldRss())) {
      Result<bool> scaled = ScaleReplicaSet(old, 0);
      if (!scaled.ok()) return scaled.status();
    }
    return Status();
  }
  if (!IsRollingUpdate(d_)) return Status();
  // Share the difference among the active ReplicaSets in proportion to their size.
  int32_t allowed = replicas > 0 ? replicas + MaxSurge(d_) : 0;
  int32_t to_add = allowed - SpecReplicaSum(active);
  // Larger first; among equals, newer first when growing and older first when shrinking.
  std::stable_sort(active.begin(), active.end(), [to_add](const ObjectPtr& a, const ObjectPtr& b) {
    int32_t sa = RsSpecReplicas(*a), sb = RsSpecReplicas(*b);
    if (sa != sb) return sa > sb;
    return to_add > 0 ? CreatedBefore(*b, *a) : CreatedBefore(*a, *b);
  });
  int32_t added = 0;
  std::vector<int32_t> sizes;
  for (const ObjectPtr& rs : active) {
    int32_t proportion = to_add != 0 ? ReplicaSetProportion(*rs, d_, to_add, added) : 0;
    sizes.push_back(RsSpecReplicas(*rs) + proportion);
    added += proportion;
  }
  for (size_t i = 0; i < active.size(); ++i) {
    // Rounding leftovers go to the largest.
    if (i == 0 && to_add != 0) sizes[0] = std::max(0, sizes[0] + to_add - added);
    Result<bool> scaled = ScaleReplicaSet(active[i], sizes[i]);
    if (!scaled.ok()) return scaled.status();
  }
  return Status();
}

// ---- RollingUpdate ----

Status DeploymentSync::RolloutRolling() {
  KITE_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(true));
  Result<bool> up = ReconcileNewReplicaSet();
  if (!up.ok()) return up.status();
  if (*up) return SyncRolloutStatus();
  Result<bool> down = ReconcileOldReplicaSets();
  if (!down.ok()) return down.status();
  if (*down) return SyncRolloutStatus();
  if (DeploymentComplete(d_, CurrentStatus())) KITE_RETURN_IF_ERROR(CleanupDeployment());
  return SyncRolloutStatus();
}

Result<bool> DeploymentSync::ReconcileNewReplicaSet() {
  ObjectPtr new_rs = NewRs();
  if (!new_rs) return false;
  int32_t replicas = DeploymentReplicas(d_);
  int32_t current = RsSpecReplicas(*new_rs);
  if (current == replicas) return false;
  if (current > replicas) return ScaleReplicaSet(new_rs, replicas);
  return ScaleReplicaSet(new_rs, NewRsNewReplicas(d_, PodAwareCount(AllRss()), current));
}

Result<bool> DeploymentSync::ReconcileOldReplicaSets() {
  ObjectPtr new_rs = NewRs();
  if (SpecReplicaSum(OldRss()) == 0) return false;  // nothing left to scale down
  int32_t all_pods = SpecReplicaSum(AllRss());
  int32_t min_available = DeploymentReplicas(d_) - MaxUnavailable(d_);
  int32_t new_unavailable =
      new_rs ? RsSpecReplicas(*new_rs) - std::min(RsSpecReplicas(*new_rs), RsStatusCount(*new_rs, "availableReplicas"))
             : 0;
  int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;
  // Unhealthy old replicas go first: they cannot make availability worse, and would
  // otherwise block the rollout.
  Result<int32_t> cleaned = CleanupUnhealthyReplicas(max_scaled_down);
  if (!cleaned.ok()) return cleaned.status();
  Result<int32_t> scaled = ScaleDownOldReplicaSetsForRollingUpdate();
  if (!scaled.ok()) return scaled.status();
  return *cleaned + *scaled > 0;
}

Result<int32_t> DeploymentSync::CleanupUnhealthyReplicas(int32_t max_cleanup) {
  std::vector<ObjectPtr> old = OldRss();
  SortByCreation(old);
  int32_t total = 0;
  for (const ObjectPtr& rs : old) {
    if (total >= max_cleanup) break;
    int32_t size = RsSpecReplicas(*rs);
    int32_t available = RsStatusCount(*rs, "availableReplicas");
    if (size == 0 || size <= available) continue;
    int32_t count = std::min(max_cleanup - total, size - available);
    Result<bool> scaled = ScaleReplicaSet(rs, size - count);
    if (!scaled.ok()) return scaled.status();
    total += count;
  }
  return total;
}

Result<int32_t> DeploymentSync::ScaleDownOldReplicaSetsForRollingUpdate() {
  int32_t min_available = DeploymentReplicas(d_) - MaxUnavailable(d_);
  int32_t available = CappedAvailable(AllRss());
  if (available <= min_available) return 0;
  std::vector<ObjectPtr> old = ActiveReplicaSets(OldRss());
  SortByCreation(old);
  int32_t total = 0;
  int32_t wanted = available - min_available;
  for (const ObjectPtr& rs : old) {
    if (total >= wanted) break;
    int32_t size = RsSpecReplicas(*rs);
    if (size == 0) continue;
    int32_t count = std::min(size, wanted - total);
    Result<bool> scaled = ScaleReplicaSet(rs, size - count);
    if (!scaled.ok()) return scaled.status();
    total += count;
  }
  return total;
}

// ---- Recreate ----

bool DeploymentSync::OldPodsRunning() const {
  std::vector<ObjectPtr> old = OldRss();
  if (StatusSum(old, "replicas") > 0) return true;
  for (const ObjectPtr& pod : pods_) {
    std::optional<OwnerReference> ref = ControllerOf(*pod);
    if (!ref || ref->uid == new_uid_) continue;
    bool of_old = std::any_of(old.begin(), old.end(), [&](const ObjectPtr& rs) { return UidOf(*rs) == ref->uid; });
    if (!of_old) continue;
    const Value* status = json::Member(*pod, "status");
    std::string_view phase = status ? json::StringMember(*status, "phase") : std::string_view();
    if (phase != "Succeeded" && phase != "Failed") return true;
  }
  return false;
}

Status DeploymentSync::RolloutRecreate() {
  // No new ReplicaSet yet: nothing may start before the old pods are gone.
  KITE_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(false));
  bool scaled_down = false;
  for (const ObjectPtr& rs : ActiveReplicaSets(OldRss())) {
    Result<bool> scaled = ScaleReplicaSet(rs, 0);
    if (!scaled.ok()) return scaled.status();
    scaled_down |= *scaled;
  }
  if (scaled_down || OldPodsRunning()) return SyncRolloutStatus();
  if (!NewRs()) KITE_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(true));
  if (ObjectPtr new_rs = NewRs()) {
    Result<bool> scaled = ScaleReplicaSet(new_rs, DeploymentReplicas(d_));
    if (!scaled.ok()) return scaled.status();
  }
  if (DeploymentComplete(d_, CurrentStatus())) KITE_RETURN_IF_ERROR(CleanupDeployment());
  return SyncRolloutStatus();
}

// ---- history ----

Status DeploymentSync::CleanupDeployment() {
  int32_t limit = RevisionHistoryLimit(d_);
  std::vector<ObjectPtr> cleanable;
  for (const ObjectPtr& rs : OldRss()) {
    if (!IsBeingDeleted(*rs)) cleanable.push_back(rs);
  }
  int32_t diff = static_cast<int32_t>(cleanable.size()) - limit;
  if (diff <= 0) return Status();
  SortByRevision(cleanable);
  for (int32_t i = 0; i < diff; ++i) {
    const Value& rs = *cleanable[i];
    // Only ReplicaSets that are empty and known to be (status of their current generation).
    if (RsStatusCount(rs, "replicas") != 0 || RsSpecReplicas(rs) != 0 ||
        GenerationOf(rs) > RsStatusCount(rs, "observedGeneration")) {
      continue;
    }
    std::string options = R"({"preconditions":{"uid":")" + std::string(UidOf(rs)) + R"("}})";
    Status s = replica_sets_->Delete(Namespace(), NameOf(rs), options);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status();
}

// ---- status ----

DeploymentStatus DeploymentSync::CalculateStatus() const {
  std::vector<ObjectPtr> all = AllRss();
  ObjectPtr new_rs = NewRs();
  DeploymentStatus current = CurrentStatus();
  DeploymentStatus s;
  s.observed_generation = GenerationOf(d_);
  s.replicas = StatusSum(all, "replicas");
  s.updated_replicas = new_rs ? RsStatusCount(*new_rs, "replicas") : 0;
  s.ready_replicas = StatusSum(all, "readyReplicas");
  s.available_replicas = StatusSum(all, "availableReplicas");
  s.unavailable_replicas = std::max(0, SpecReplicaSum(all) - s.available_replicas);
  s.collision_count = current.collision_count;
  s.conditions = current.conditions;
  if (s.available_replicas >= DeploymentReplicas(d_) - MaxUnavailable(d_)) {
    SetCondition(s, NewCondition("Available", "True", "MinimumReplicasAvailable",
                                 "Deployment has minimum availability.", Now()));
  } else {
    SetCondition(s, NewCondition("Available", "False", "MinimumReplicasUnavailable",
                                 "Deployment does not have minimum availability.", Now()));
  }
  return s;
}

Status DeploymentSync::SyncDeploymentStatus() {
  DeploymentStatus status = CalculateStatus();
  if (status == CurrentStatus()) return Status();
  return WriteStatus(status);
}

Status DeploymentSync::SyncRolloutStatus() {
  DeploymentStatus old_status = CurrentStatus();
  DeploymentStatus status = CalculateStatus();
  ObjectPtr new_rs = NewRs();
  std::optional<int32_t> deadline = ProgressDeadlineSeconds(d_);
  if (!deadline) RemoveCondition(status, "Progressing");
  const DeploymentCondition* current = FindCondition(old_status, "Progressing");
  bool complete_before = status.replicas == status.updated_replicas && current &&
                         current->reason == "NewReplicaSetAvailable";
  if (deadline && !complete_before) {
    std::string subject = new_rs ? "ReplicaSet " + Quoted(NameOf(*new_rs)) : "Deployment " + Quoted(DName());
    if (DeploymentComplete(d_, status)) {
      SetCondition(status, NewCondition("Progressing", "True", "NewReplicaSetAvailable",
                                        subject + " has successfully progressed.", Now()));
    } else if (DeploymentProgressing(old_status, status)) {
      // Progress refreshes lastUpdateTime even when the reason stays the same.
      DeploymentCondition c =
          NewCondition("Progressing", "True", "ReplicaSetUpdated", subject + " is progressing.", Now());
      if (current) {
        if (current->status == "True") c.last_transition_time = current->last_transition_time;
        RemoveCondition(status, "Progressing");
      }
      SetCondition(status, std::move(c));
    } else if (DeploymentTimedOut(d_, status, Now())) {
      SetCondition(status, NewCondition("Progressing", "False", "ProgressDeadlineExceeded",
                                        subject + " has timed out progressing.", Now()));
    }
  }
  // A ReplicaSet's ReplicaFailure (the new one's first) is the Deployment's.
  std::optional<DeploymentCondition> failure;
  std::vector<ObjectPtr> candidates;
  if (new_rs) candidates.push_back(new_rs);
  for (const ObjectPtr& rs : AllRss()) candidates.push_back(rs);
  for (const ObjectPtr& rs : candidates) {
    const Value* rs_status = json::Member(*rs, "status");
    const Value* conditions = rs_status ? json::Member(*rs_status, "conditions") : nullptr;
    if (!conditions || !conditions->IsArray()) continue;
    for (const Value& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") != "ReplicaFailure") continue;
      std::string t(json::StringMember(c, "lastTransitionTime"));
      failure = DeploymentCondition{"ReplicaFailure", std::string(json::StringMember(c, "status")), t, t,
                                    std::string(json::StringMember(c, "reason")),
                                    std::string(json::StringMember(c, "message"))};
      break;
    }
    if (failure) break;
  }
  if (failure) {
    SetCondition(status, *failure);
  } else {
    RemoveCondition(status, "ReplicaFailure");
  }

  if (status == old_status) {
    // No news: if the rollout is stuck, look again when its deadline passes.
    const DeploymentCondition* c = FindCondition(old_status, "Progressing");
    if (deadline && c && !DeploymentComplete(d_, status) && c->reason != "ProgressDeadlineExceeded") {
      std::optional<int64_t> updated = ParseTimeMillis(c->last_update_time);
      int64_t after = updated ? *updated + int64_t{*deadline} * 1000 - Now() : 0;
      std::string key = client::ObjectKey(Namespace(), DName());
      if (after < 1000) {
        queue_->AddRateLimited(key);
      } else {
        queue_->AddAfter(key, std::chrono::milliseconds(after + 1000));
      }
    }
    return Status();
  }
  return WriteStatus(status);
}

// ---- writes ----

Result<bool> DeploymentSync::ScaleReplicaSet(const ObjectPtr& rs, int32_t replicas) {
  int32_t desired = DeploymentReplicas(d_);
  int32_t max_replicas = desired + MaxSurge(d_);
  int32_t old_replicas = RsSpecReplicas(*rs);
  bool resize = old_replicas != replicas;
  if (!resize && !ReplicasAnnotationsNeedUpdate(*rs, desired, max_replicas)) return false;
  rapidjson::Document copy;
  copy.CopyFrom(*rs, copy.GetAllocator());
  json::SetMember(json::EnsureObjectMember(copy, "spec", copy.GetAllocator()), "replicas", Value(replicas),
                  copy.GetAllocator());
  SetReplicasAnnotations(copy, desired, max_replicas);
  Result<rapidjson::Document> updated = replica_sets_->Update(copy);
  if (!updated.ok()) return updated.status();
  Track(Share(std::move(updated).value()));
  if (resize) {
    recorder_->Eventf(d_, client::EventType::kNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d",
                      replicas > old_replicas ? "up" : "down", std::string(NameOf(*rs)).c_str(),
                      static_cast<int>(old_replicas), static_cast<int>(replicas));
  }
  return resize;
}

Status DeploymentSync::WriteStatus(const DeploymentStatus& status) {
  rapidjson::Document copy;
  copy.CopyFrom(d_, copy.GetAllocator());
  json::SetMember(copy, "status", status.ToJson(copy.GetAllocator()), copy.GetAllocator());
  Result<rapidjson::Document> written = deployments_->UpdateStatus(copy);
  if (!written.ok()) return written.status();
  d_ = std::move(written).value();
  return Status();
}

Status DeploymentSync::SetDeploymentRevision(int64_t revision) {
  std::string value = std::to_string(revision);
  if (AnnotationOf(d_, kRevisionAnnotation) == value) return Status();
  // A metadata change: the status subresource cannot carry it. The resourceVersion makes
  // it conditional, like every other write here.
  rapidjson::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  Value& md = json::EnsureObjectMember(patch, "metadata", a);
  json::SetStringMember(md, "resourceVersion", json::StringMember(*json::Member(d_, "metadata"), "resourceVersion"), a);
  Value& annotations = json::EnsureObjectMember(md, "annotations", a);
  json::SetStringMember(annotations, kRevisionAnnotation, value, a);
  Result<rapidjson::Document> patched =
      deployments_->Patch(Namespace(), DName(), client::PatchType::kMerge, json::ToJson(patch));
  if (!patched.ok()) return patched.status();
  d_ = std::move(patched).value();
  return Status();
}

}  // namespace

DeploymentController::DeploymentController(const Clock* clock, client::EventRecorder recorder)
    : clock_(clock), recorder_(std::move(recorder)) {}

void DeploymentController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  deployments_ = &informers.For(client::kDeployments);
  replica_sets_ = &informers.For(client::kReplicaSets);
  pods_ = &informers.For(client::kPods);
  deployment_client_.emplace(informers.ClientFor(client::kDeployments));
  rs_client_.emplace(informers.ClientFor(client::kReplicaSets));
  auto enqueue = [this](const ObjectPtr& d) { queue_->Add(client::ObjectKey(*d)); };
  deployments_->AddHandlers({
      .on_add = enqueue,
      .on_update = [enqueue](const ObjectPtr&, const ObjectPtr& d) { enqueue(d); },
      .on_delete = enqueue,
  });
  replica_sets_->AddHandlers({
      .on_add = [this](const ObjectPtr& rs) { OnReplicaSetAdd(rs); },
      .on_update = [this](const ObjectPtr& old_rs, const ObjectPtr& rs) { OnReplicaSetUpdate(old_rs, rs); },
      .on_delete = [this](const ObjectPtr& rs) { OnReplicaSetDelete(rs); },
  });
  pods_->AddHandlers({
      .on_add = nullptr,
      .on_update = nullptr,
      .on_delete = [this](const ObjectPtr& pod) { OnPodDelete(pod); },
  });
}

ObjectPtr DeploymentController::ResolveRef(std::string_view ns, const OwnerReference& ref) const {
  if (ref.kind != kKind || ref.api_version.substr(0, ref.api_version.find('/')) != "apps") return nullptr;
  ObjectPtr d = deployments_->Get(ns, ref.name);
  if (!d || UidOf(*d) != ref.uid) return nullptr;
  return d;
}

void DeploymentController::EnqueueOrphanOwners(const Value& rs) {
  for (const ObjectPtr& d : deployments_->List(NamespaceOf(rs))) {
    Result<selection::LabelSelector> selector = SpecSelector(*d);
    if (!selector.ok() || selector->Empty() || !selector->MatchesObject(rs)) continue;
    queue_->Add(client::ObjectKey(*d));
  }
}

void DeploymentController::OnReplicaSetAdd(const ObjectPtr& rs) {
  if (IsBeingDeleted(*rs)) {
    OnReplicaSetDelete(rs);
    return;
  }
  if (std::optional<OwnerReference> ref = ControllerOf(*rs)) {
    if (ObjectPtr d = ResolveRef(NamespaceOf(*rs), *ref)) queue_->Add(client::ObjectKey(*d));
    return;
  }
  EnqueueOrphanOwners(*rs);
}

void DeploymentController::OnReplicaSetUpdate(const ObjectPtr& old_rs, const ObjectPtr& rs) {
  std::optional<OwnerReference> old_ref = ControllerOf(*old_rs);
  std::optional<OwnerReference> ref = ControllerOf(*rs);
  bool ref_changed = old_ref.has_value() != ref.has_value() || (old_ref && ref && old_ref->uid != ref->uid);
  std::string_view ns = NamespaceOf(*rs);
  if (ref_changed && old_ref) {
    if (ObjectPtr d = ResolveRef(ns, *old_ref)) queue_->Add(client::ObjectKey(*d));
  }
  if (ref) {
    if (ObjectPtr d = ResolveRef(ns, *ref)) queue_->Add(client::ObjectKey(*d));
    return;
  }
  const Value* old_labels = LabelsOf(*old_rs);
  const Value* labels = LabelsOf(*rs);
  bool labels_changed = (old_labels == nullptr) != (labels == nullptr) || (old_labels && labels && *old_labels != *labels);
  if (labels_changed || ref_changed) EnqueueOrphanOwners(*rs);
}

void DeploymentController::OnReplicaSetDelete(const ObjectPtr& rs) {
  {
    MutexLock lock(written_mu_);
    written_.erase(std::string(UidOf(*rs)));
  }
  if (std::optional<OwnerReference> ref = ControllerOf(*rs)) {
    if (ObjectPtr d = ResolveRef(NamespaceOf(*rs), *ref)) queue_->Add(client::ObjectKey(*d));
  }
}

void DeploymentController::OnPodDelete(const ObjectPtr& pod) {
  // Recreate waits for the old pods to be gone: their deletion is what it waits for.
  std::optional<OwnerReference> rs_ref = ControllerOf(*pod);
  if (!rs_ref || rs_ref->kind != "ReplicaSet") return;
  ObjectPtr rs = replica_sets_->Get(NamespaceOf(*pod), rs_ref->name);
  if (!rs || UidOf(*rs) != rs_ref->uid) return;
  std::optional<OwnerReference> d_ref = ControllerOf(*rs);
  if (!d_ref) return;
  ObjectPtr d = ResolveRef(NamespaceOf(*rs), *d_ref);
  if (d && !IsRollingUpdate(*d)) queue_->Add(client::ObjectKey(*d));
}

void DeploymentController::RememberWrite(const ObjectPtr& rs) {
  MutexLock lock(written_mu_);
  written_[std::string(UidOf(*rs))] = Written{rs, clock_->NowMillis()};
}

std::vector<ObjectPtr> DeploymentController::Overlay(std::vector<ObjectPtr> cached, std::string_view ns) {
  MutexLock lock(written_mu_);
  if (written_.empty()) return cached;
  std::set<std::string, std::less<>> seen;
  for (ObjectPtr& rs : cached) {
    auto it = written_.find(std::string(UidOf(*rs)));
    if (it == written_.end()) continue;
    seen.insert(it->first);
    std::optional<int64_t> ours = ResourceVersionNumber(*it->second.rs);
    std::optional<int64_t> theirs = ResourceVersionNumber(*rs);
    if (ours && theirs && *ours > *theirs) {
      rs = it->second.rs;  // the cache has not caught up with our write yet
    } else {
      written_.erase(it);
    }
  }
  // Written but not cached: just created (the cache will show it), or deleted meanwhile
  // (its delete event removes it; the age limit catches what slips through).
  int64_t now = clock_->NowMillis();
  for (auto it = written_.begin(); it != written_.end();) {
    if (seen.count(it->first)) {
      ++it;
    } else if (now - it->second.at_ms > kUnseenWriteMillis) {
      it = written_.erase(it);
    } else {
      if (NamespaceOf(*it->second.rs) == ns) cached.push_back(it->second.rs);
      ++it;
    }
  }
  return cached;
}

Status DeploymentController::Reconcile(const std::string& key) {
  ObjectPtr cached = deployments_->Get(key);
  if (!cached) return Status();
  Result<selection::LabelSelector> selector = SpecSelector(*cached);
  // A malformed or missing selector is for validation to reject; retrying cannot fix it.
  if (!selector.ok() || selector->IsNothing()) return Status();
  rapidjson::Document d;
  d.CopyFrom(*cached, d.GetAllocator());
  if (selector->Empty()) {
    // Selecting every pod of the namespace would fight every other controller: do nothing
    // but acknowledge the generation, as Kubernetes does.
    DeploymentStatus status = DeploymentStatus::FromJson(json::Member(d, "status"));
    if (status.observed_generation >= GenerationOf(d)) return Status();
    status.observed_generation = GenerationOf(d);
    json::SetMember(d, "status", status.ToJson(d.GetAllocator()), d.GetAllocator());
    Result<rapidjson::Document> written = deployment_client_->UpdateStatus(d);
    return written.ok() ? Status() : written.status();
  }
  std::string_view ns = NamespaceOf(d);
  ControllerRefManager refs(*cached, std::string(kApiVersion), std::string(kKind), *selector, &*deployment_client_,
                            &*rs_client_);
  Result<std::vector<ObjectPtr>> claimed = refs.Claim(Overlay(replica_sets_->List(ns), ns));
  if (!claimed.ok()) return claimed.status();
  DeploymentSync sync(clock_, &recorder_, queue_, &*deployment_client_, &*rs_client_, replica_sets_, std::move(d),
                      std::move(claimed).value(), pods_->List(ns),
                      [this](const ObjectPtr& rs) { RememberWrite(rs); });
  return sync.Run();
}

}  // namespace kite::controllers
