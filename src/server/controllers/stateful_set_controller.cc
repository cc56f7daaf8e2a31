#include "src/server/controllers/stateful_set_controller.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <set>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_revision.h"
#include "src/server/controllers/deployment_util.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using client::ObjectPtr;
using rapidjson::Value;

namespace {

constexpr std::string_view kApiVersion = "apps/v1";
constexpr std::string_view kKind = "StatefulSet";

ObjectPtr Share(rapidjson::Document d) { return std::make_shared<const rapidjson::Document>(std::move(d)); }

// ---- reading a StatefulSet (absent fields read as Kubernetes' defaults) ----

const Value* SpecMember(const Value& set, std::string_view field) {
  const Value* spec = json::Member(set, "spec");
  return spec ? json::Member(*spec, field) : nullptr;
}

int64_t IntOr(const Value* v, int64_t fallback) { return v && v->IsInt64() ? v->GetInt64() : fallback; }

int Replicas(const Value& set) {
  return static_cast<int>(std::clamp<int64_t>(IntOr(SpecMember(set, "replicas"), 1), 0, INT32_MAX));
}

int StartOrdinal(const Value& set) {
  const Value* ordinals = SpecMember(set, "ordinals");
  return static_cast<int>(
      std::clamp<int64_t>(IntOr(ordinals ? json::Member(*ordinals, "start") : nullptr, 0), 0, INT32_MAX));
}

int64_t MinReady(const Value& set) { return std::max<int64_t>(0, IntOr(SpecMember(set, "minReadySeconds"), 0)); }

bool IsParallel(const Value& set) {
  const Value* policy = SpecMember(set, "podManagementPolicy");
  return policy && policy->IsString() && std::string_view(policy->GetString()) == "Parallel";
}

const Value* UpdateStrategy(const Value& set) { return SpecMember(set, "updateStrategy"); }

bool IsOnDelete(const Value& set) {
  const Value* strategy = UpdateStrategy(set);
  return strategy && json::StringMember(*strategy, "type") == "OnDelete";
}

// spec.updateStrategy.rollingUpdate, or nullptr.
const Value* RollingParams(const Value& set) {
  const Value* strategy = UpdateStrategy(set);
  const Value* rolling = strategy ? json::Member(*strategy, "rollingUpdate") : nullptr;
  return rolling && rolling->IsObject() ? rolling : nullptr;
}

int Partition(const Value& set) {
  const Value* rolling = RollingParams(set);
  return static_cast<int>(
      std::clamp<int64_t>(IntOr(rolling ? json::Member(*rolling, "partition") : nullptr, 0), 0, INT32_MAX));
}

int64_t RevisionHistoryLimit(const Value& set) {
  return std::max<int64_t>(0, IntOr(SpecMember(set, "revisionHistoryLimit"), 10));
}

struct RetentionPolicy {
  bool delete_when_deleted = false;
  bool delete_when_scaled = false;
};

// Unknown values count as Retain, as in Kubernetes.
RetentionPolicy Retention(const Value& set) {
  const Value* policy = SpecMember(set, "persistentVolumeClaimRetentionPolicy");
  if (!policy || !policy->IsObject()) return {};
  return {json::StringMember(*policy, "whenDeleted") == "Delete",
          json::StringMember(*policy, "whenScaled") == "Delete"};
}

const Value* ClaimTemplates(const Value& set) {
  const Value* templates = SpecMember(set, "volumeClaimTemplates");
  return templates && templates->IsArray() ? templates : nullptr;
}

const Value* StatusMember(const Value& object, std::string_view field) {
  const Value* status = json::Member(object, "status");
  return status ? json::Member(*status, field) : nullptr;
}

std::string_view StatusString(const Value& object, std::string_view field) {
  const Value* v = StatusMember(object, field);
  return v && v->IsString() ? std::string_view(v->GetString(), v->GetStringLength()) : std::string_view();
}

// ---- reading a pod ----

std::string_view Phase(const Value& pod) { return StatusString(pod, "phase"); }

std::string_view Label(const Value& object, std::string_view key) {
  const Value* labels = LabelsOf(object);
  return labels ? json::StringMember(*labels, key) : std::string_view();
}

std::string_view PodRevision(const Value& pod) { return Label(pod, kControllerRevisionHashLabel); }

int OrdinalOf(const Value& pod) { return StatefulPodParentAndOrdinal(NameOf(pod)).second; }

bool RunningAndReady(const Value& pod) { return Phase(pod) == "Running" && IsPodReady(pod); }

std::string PodName(const Value& set, int ordinal) { return std::string(NameOf(set)) + "-" + std::to_string(ordinal); }

std::string ClaimName(const Value& claim_template, const Value& set, int ordinal) {
  return std::string(NameOf(claim_template)) + "-" + std::string(NameOf(set)) + "-" + std::to_string(ordinal);
}

bool InOrdinalRange(const Value& set, int ordinal) {
  int64_t start = StartOrdinal(set);
  return ordinal >= start && ordinal < start + Replicas(set);
}

// ---- owner references of claims (the retention policy) ----

const Value* OwnerRefs(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  const Value* refs = md ? json::Member(*md, "ownerReferences") : nullptr;
  return refs && refs->IsArray() ? refs : nullptr;
}

// Who a reference names: apiVersion, kind and name (not uid).
struct Target {
  std::string_view api_version;
  std::string_view kind;
  std::string_view name;
  std::string_view uid;  // "" for a pod not yet created
};

bool MatchesRef(const Value& ref, const Target& t) {
  return json::StringMember(ref, "apiVersion") == t.api_version && json::StringMember(ref, "kind") == t.kind &&
         json::StringMember(ref, "name") == t.name;
}

bool IsControllerRef(const Value& ref) {
  const Value* c = json::Member(ref, "controller");
  return c && c->IsBool() && c->GetBool();
}

bool HasOwnerRef(const Value& claim, std::string_view uid) {
  if (uid.empty()) return false;
  if (const Value* refs = OwnerRefs(claim)) {
    for (const Value& ref : refs->GetArray()) {
      if (json::StringMember(ref, "uid") == uid) return true;
    }
  }
  return false;
}

// A reference names `t` but with another uid: left by a previous object of that name.
bool HasStaleOwnerRef(const Value& claim, const Target& t) {
  if (const Value* refs = OwnerRefs(claim)) {
    for (const Value& ref : refs->GetArray()) {
      if (MatchesRef(ref, t)) return json::StringMember(ref, "uid") != t.uid;
    }
  }
  return false;
}

// ---- one Reconcile of one StatefulSet ----

struct Replica {
  ObjectPtr pod;        // as cached, or the pod to create
  bool exists = false;  // in the cache (Kubernetes' isCreated)
};

struct StepResult {
  bool exit = false;  // in OrderedReady mode: stop here this round
  Status error;
};

class StatefulSetSync {
 public:
  StatefulSetSync(const Clock* clock, const client::EventRecorder* recorder,
                  StatefulSetController::PendingDeletes* pending, const client::ResourceClient* sets,
                  const client::ResourceClient* pods, const client::ResourceClient* revisions,
                  const client::ResourceClient* claims, const client::Informer* claim_cache, ObjectPtr set,
                  std::vector<ObjectPtr> pods_owned, std::vector<ObjectPtr> revisions_owned)
      : clock_(clock),
        recorder_(recorder),
        pending_(pending),
        sets_(sets),
        pods_(pods),
        revisions_(revisions),
        claims_(claims),
        claim_cache_(claim_cache),
        set_ptr_(std::move(set)),
        set_(*set_ptr_),
        owned_pods_(std::move(pods_owned)),
        history_(std::move(revisions_owned)) {}

  Status Run();

 private:
  // ---- revisions ----
  Status GetRevisions();
  Status TruncateHistory();

  // ---- pods ----
  Status UpdateStatefulSet(Value& status, rapidjson::Document::AllocatorType& a);
  ObjectPtr NewVersionedPod(int ordinal) const;
  rapidjson::Document NewPod(const Value& pod_template, std::string_view revision, int ordinal) const;
  StepResult ProcessReplica(size_t i);
  StepResult ProcessCondemned(size_t i);
  StepResult FixCondemnedClaims(size_t i);
  Status RollingUpdate(int& current_replicas);
  StepResult RunForAll(size_t count, const std::function<StepResult(size_t)>& fn) const;

  // Being deleted, or deleted by us and not yet seen so in the cache.
  bool Terminating(const Value& pod) const {
    return IsBeingDeleted(pod) || pending_->Contains(std::string(UidOf(pod)));
  }
  bool Healthy(const Value& pod) const { return RunningAndReady(pod) && !Terminating(pod); }
  bool IdentityMatches(const Value& pod) const;
  void UpdateIdentity(rapidjson::Document& pod) const;
  bool StorageMatches(const Value& pod) const;
  void UpdateStorage(rapidjson::Document& pod) const;

  Status CreatePod(const Value& pod);
  Status UpdatePod(const Value& pod);
  Status DeletePod(const Value& pod);

  // ---- claims ----
  rapidjson::Document NewClaim(const Value& claim_template, int ordinal) const;
  // Creates the missing claims of `pod`.
  Status CreateClaims(const Value& pod);
  bool ClaimsMatchRetentionPolicy(const Value& pod) const;
  Status UpdateClaimsForRetentionPolicy(const Value& pod);
  bool PodClaimIsStale(const Value& pod) const;
  bool IsClaimOwnerUpToDate(const Value& claim, const Value& pod) const;
  bool HasUnexpectedController(const Value& claim, const Value& pod) const;
  void UpdateClaimOwnerRefs(rapidjson::Document& claim, const Value& pod) const;
  Target SetTarget() const { return {kApiVersion, kKind, NameOf(set_), UidOf(set_)}; }
  static Target PodTarget(const Value& pod) { return {"v1", "Pod", NameOf(pod), UidOf(pod)}; }

  // ---- status ----
  void CountReplicas(Value& status, rapidjson::Document::AllocatorType& a) const;
  Status WriteStatus(const Value& status);

  std::string_view Namespace() const { return NamespaceOf(set_); }
  int64_t Now() const { return clock_->NowMillis(); }
  // Kubernetes' recordPodEvent / recordClaimEvent: `verb` "Create" or "Delete", `what`
  // "Pod web-0" or "Claim data-web-0 Pod web-0".
  void RecordEvent(std::string_view verb, const std::string& what, const Status& error, bool claim = false) const;

  const Clock* clock_;
  const client::EventRecorder* recorder_;
  StatefulSetController::PendingDeletes* pending_;
  const client::ResourceClient* sets_;
  const client::ResourceClient* pods_;
  const client::ResourceClient* revisions_;
  const client::ResourceClient* claims_;
  const client::Informer* claim_cache_;
  const ObjectPtr set_ptr_;
  const Value& set_;
  const std::vector<ObjectPtr> owned_pods_;
  std::vector<ObjectPtr> history_;  // the set's revisions when the sync began, oldest first

  ObjectPtr current_revision_;
  ObjectPtr update_revision_;
  int32_t collision_count_ = 0;
  rapidjson::Document current_template_;
  rapidjson::Document update_template_;
  bool monotonic_ = true;
  std::vector<Replica> replicas_;     // ordinals [start, start + replicas)
  std::vector<ObjectPtr> condemned_;  // the others, highest ordinal first
  const Value* first_unhealthy_ = nullptr;
};

Status StatefulSetSync::Run() {
  SortRevisions(history_);
  KITE_RETURN_IF_ERROR(GetRevisions());

  rapidjson::Document status_doc(rapidjson::kObjectType);
  if (const Value* old = json::Member(set_, "status"); old && old->IsObject()) {
    status_doc.CopyFrom(*old, status_doc.GetAllocator());
  }
  Status update_error = UpdateStatefulSet(status_doc, status_doc.GetAllocator());
  Status status_error = WriteStatus(status_doc);
  Status history_error = TruncateHistory();
  if (!update_error.ok()) return update_error;
  if (!status_error.ok()) return status_error;
  return history_error;
}

Status StatefulSetSync::GetRevisions() {
  const Value* collisions = StatusMember(set_, "collisionCount");
  collision_count_ = static_cast<int32_t>(IntOr(collisions, 0));
  rapidjson::Document data = TemplateRevisionData(set_);
  const Value* tmpl = SpecMember(set_, "template");
  const Value* tmd = tmpl ? json::Member(*tmpl, "metadata") : nullptr;
  int64_t next = history_.empty() ? 1 : RevisionNumber(*history_.back()) + 1;
  rapidjson::Document candidate = NewControllerRevision(
      set_, kApiVersion, kKind, tmd ? json::Member(*tmd, "labels") : nullptr, data, next, collision_count_);
  std::vector<ObjectPtr> equal = FindEqualRevisions(history_, candidate);
  if (!equal.empty() && EqualRevision(*history_.back(), *equal.back())) {
    // Unchanged since the latest revision.
    update_revision_ = history_.back();
  } else if (!equal.empty()) {
    // Back to an older template: that revision becomes the latest (a rollback).
    Result<ObjectPtr> renumbered = SetRevisionNumber(*revisions_, equal.back(), next);
    if (!renumbered.ok()) return renumbered.status();
    update_revision_ = *renumbered;
  } else {
    Result<ObjectPtr> created =
        CreateControllerRevision(*revisions_, Namespace(), NameOf(set_), candidate, &collision_count_);
    if (!created.ok()) return created.status();
    update_revision_ = *created;
  }
  std::string_view current_name = StatusString(set_, "currentRevision");
  for (const ObjectPtr& r : history_) {
    if (!current_name.empty() && NameOf(*r) == current_name) current_revision_ = r;
  }
  if (!current_revision_) current_revision_ = update_revision_;
  current_template_ = RevisionTemplate(*current_revision_);
  update_template_ = RevisionTemplate(*update_revision_);
  return Status();
}

Status StatefulSetSync::TruncateHistory() {
  std::set<std::string, std::less<>> live;
  if (current_revision_) live.emplace(NameOf(*current_revision_));
  if (update_revision_) live.emplace(NameOf(*update_revision_));
  for (const ObjectPtr& pod : owned_pods_) live.emplace(PodRevision(*pod));
  std::vector<ObjectPtr> old;
  for (const ObjectPtr& r : history_) {
    if (!live.count(NameOf(*r))) old.push_back(r);
  }
  int64_t limit = RevisionHistoryLimit(set_);
  for (size_t i = 0; static_cast<int64_t>(old.size() - i) > limit; ++i) {
    std::string options = R"({"preconditions":{"uid":")" + std::string(UidOf(*old[i])) + R"("}})";
    Status s = revisions_->Delete(Namespace(), NameOf(*old[i]), options);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status();
}

// ---- pods ----

rapidjson::Document StatefulSetSync::NewPod(const Value& pod_template, std::string_view revision, int ordinal) const {
  rapidjson::Document ref_doc;
  Value ref = NewControllerRef(set_, kApiVersion, kKind, ref_doc.GetAllocator());
  rapidjson::Document pod = PodFromTemplate(pod_template, NameOf(set_), ref);
  auto& a = pod.GetAllocator();
  std::string name = PodName(set_, ordinal);
  Value& md = json::EnsureObjectMember(pod, "metadata", a);
  json::SetStringMember(md, "name", name, a);
  json::SetStringMember(md, "namespace", Namespace(), a);
  UpdateIdentity(pod);
  Value& spec = json::EnsureObjectMember(pod, "spec", a);
  // Set only at creation: they are immutable.
  json::SetStringMember(spec, "hostname", name, a);
  if (const Value* service = SpecMember(set_, "serviceName");
      service && service->IsString() && service->GetStringLength() > 0) {
    json::SetMember(spec, "subdomain", Value(*service, a), a);
  }
  UpdateStorage(pod);
  Value& labels = json::EnsureObjectMember(json::EnsureObjectMember(pod, "metadata", a), "labels", a);
  json::SetStringMember(labels, kControllerRevisionHashLabel, revision, a);
  return pod;
}

ObjectPtr StatefulSetSync::NewVersionedPod(int ordinal) const {
  // Kubernetes' newVersionedStatefulSetPod, precedence of its condition included.
  const Value* rolling = RollingParams(set_);
  int start = StartOrdinal(set_);
  bool rolling_type = !IsOnDelete(set_);
  bool use_current = (rolling_type && !rolling && ordinal < start + IntOr(StatusMember(set_, "currentReplicas"), 0)) ||
                     (rolling && ordinal < start + Partition(set_));
  if (use_current) return Share(NewPod(current_template_, NameOf(*current_revision_), ordinal));
  return Share(NewPod(update_template_, NameOf(*update_revision_), ordinal));
}

bool StatefulSetSync::IdentityMatches(const Value& pod) const {
  auto [parent, ordinal] = StatefulPodParentAndOrdinal(NameOf(pod));
  return ordinal >= 0 && parent == NameOf(set_) && NameOf(pod) == PodName(set_, ordinal) &&
         NamespaceOf(pod) == Namespace() && Label(pod, kStatefulSetPodNameLabel) == NameOf(pod);
}

void StatefulSetSync::UpdateIdentity(rapidjson::Document& pod) const {
  auto& a = pod.GetAllocator();
  int ordinal = OrdinalOf(pod);
  std::string name = PodName(set_, ordinal);
  Value& md = json::EnsureObjectMember(pod, "metadata", a);
  Value& labels = json::EnsureObjectMember(md, "labels", a);
  json::SetStringMember(labels, kStatefulSetPodNameLabel, name, a);
  json::SetStringMember(labels, kPodIndexLabel, std::to_string(ordinal), a);
}

bool StatefulSetSync::StorageMatches(const Value& pod) const {
  int ordinal = OrdinalOf(pod);
  if (ordinal < 0) return false;
  const Value* templates = ClaimTemplates(set_);
  if (!templates) return true;
  const Value* spec = json::Member(pod, "spec");
  const Value* volumes = spec ? json::Member(*spec, "volumes") : nullptr;
  for (const Value& t : templates->GetArray()) {
    bool found = false;
    if (volumes && volumes->IsArray()) {
      for (const Value& v : volumes->GetArray()) {
        if (json::StringMember(v, "name") != NameOf(t)) continue;
        const Value* pvc = json::Member(v, "persistentVolumeClaim");
        found = pvc && json::StringMember(*pvc, "claimName") == ClaimName(t, set_, ordinal);
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

void StatefulSetSync::UpdateStorage(rapidjson::Document& pod) const {
  const Value* templates = ClaimTemplates(set_);
  if (!templates || templates->Empty()) return;
  auto& a = pod.GetAllocator();
  int ordinal = OrdinalOf(pod);
  Value& spec = json::EnsureObjectMember(pod, "spec", a);
  Value volumes(rapidjson::kArrayType);
  std::set<std::string, std::less<>> claim_volumes;
  for (const Value& t : templates->GetArray()) {
    claim_volumes.emplace(NameOf(t));
    Value v(rapidjson::kObjectType);
    json::SetStringMember(v, "name", NameOf(t), a);
    Value source(rapidjson::kObjectType);
    json::SetStringMember(source, "claimName", ClaimName(t, set_, ordinal), a);
    json::SetMember(v, "persistentVolumeClaim", std::move(source), a);
    volumes.PushBack(std::move(v), a);
  }
  if (Value* current = json::MutableMember(spec, "volumes"); current && current->IsArray()) {
    for (Value& v : current->GetArray()) {
      if (!claim_volumes.count(json::StringMember(v, "name"))) volumes.PushBack(Value(v, a), a);
    }
  }
  json::SetMember(spec, "volumes", std::move(volumes), a);
}

void StatefulSetSync::RecordEvent(std::string_view verb, const std::string& what, const Status& error,
                                  bool claim) const {
  std::string lower(verb);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string message = lower + " " + what + " in StatefulSet " + std::string(NameOf(set_));
  if (error.ok()) {
    recorder_->Event(set_, client::EventType::kNormal, "Successful" + std::string(verb),
                     message + (claim ? " success" : " successful"));
  } else {
    recorder_->Event(set_, client::EventType::kWarning, "Failed" + std::string(verb),
                     message + " failed error: " + error.message());
  }
}

Status StatefulSetSync::CreatePod(const Value& pod) {
  KITE_RETURN_IF_ERROR(CreateClaims(pod));
  Result<rapidjson::Document> created = pods_->Create(Namespace(), pod);
  // An AlreadyExists is a stale cache, not news.
  if (created.ok() || created.status().code() != StatusCode::kAlreadyExists) {
    RecordEvent("Create", "Pod " + std::string(NameOf(pod)), created.status());
  }
  if (!created.ok()) return created.status();
  // Claims that existed before (kept from an earlier pod) may need their references fixed.
  return UpdateClaimsForRetentionPolicy(pod);
}

Status StatefulSetSync::UpdatePod(const Value& cached) {
  rapidjson::Document pod;
  pod.CopyFrom(cached, pod.GetAllocator());
  bool consistent = true;
  if (!IdentityMatches(pod)) {
    UpdateIdentity(pod);
    consistent = false;
  }
  if (!StorageMatches(pod)) {
    UpdateStorage(pod);
    consistent = false;
    KITE_RETURN_IF_ERROR(CreateClaims(pod));
  }
  if (!ClaimsMatchRetentionPolicy(pod)) {
    KITE_RETURN_IF_ERROR(UpdateClaimsForRetentionPolicy(pod));
  }
  if (consistent) return Status();
  Result<rapidjson::Document> updated = pods_->Update(pod);
  return updated.ok() ? Status() : updated.status();
}

Status StatefulSetSync::DeletePod(const Value& pod) {
  // The uid precondition keeps a stale cache from deleting the pod's successor.
  std::string options = R"({"preconditions":{"uid":")" + std::string(UidOf(pod)) + R"("}})";
  Status s = pods_->Delete(Namespace(), NameOf(pod), options);
  if (s.code() != StatusCode::kNotFound) RecordEvent("Delete", "Pod " + std::string(NameOf(pod)), s);
  if (s.ok()) pending_->Add(std::string(UidOf(pod)));
  return s.code() == StatusCode::kNotFound ? Status() : s;
}

StepResult StatefulSetSync::RunForAll(size_t count, const std::function<StepResult(size_t)>& fn) const {
  if (monotonic_) {
    for (size_t i = 0; i < count; ++i) {
      StepResult r = fn(i);
      if (r.exit || !r.error.ok()) return {true, r.error};
    }
    return {};
  }
  std::atomic<size_t> next{0};
  BatchResult batch = SlowStartBatch(static_cast<int>(count), 1, [&]() { return fn(next++).error; });
  if (!batch.error.ok()) return {true, batch.error};
  return {};
}

StepResult StatefulSetSync::ProcessReplica(size_t i) {
  const Replica& replica = replicas_[i];
  const Value& pod = *replica.pod;
  if (replica.exists && (Phase(pod) == "Failed" || Phase(pod) == "Succeeded")) {
    // Re-created with the same name on a later sync, once this one is gone.
    if (!Terminating(pod)) {
      Status s = DeletePod(pod);
      if (!s.ok()) return {true, s};
    }
    return {true, Status()};
  }
  if (!replica.exists) {
    // A claim still owned by an earlier pod of this name waits for the garbage collector.
    if (PodClaimIsStale(pod)) return {true, Status()};
    Status s = CreatePod(pod);
    if (!s.ok()) return {true, s};
    return {monotonic_, Status()};
  }
  if (Phase(pod) == "Pending") {
    if (Status s = CreateClaims(pod); !s.ok()) return {true, s};
    if (Status s = UpdateClaimsForRetentionPolicy(pod); !s.ok()) return {true, s};
  }
  if (monotonic_ && (Terminating(pod) || !RunningAndReady(pod) || !IsPodAvailable(pod, MinReady(set_), Now()))) {
    return {true, Status()};
  }
  if (IdentityMatches(pod) && StorageMatches(pod) && ClaimsMatchRetentionPolicy(pod)) return {};
  Status s = UpdatePod(pod);
  if (!s.ok()) return {true, s};
  return {};
}

StepResult StatefulSetSync::FixCondemnedClaims(size_t i) {
  const Value& pod = *condemned_[i];
  if (ClaimsMatchRetentionPolicy(pod)) return {};
  Status s = UpdateClaimsForRetentionPolicy(pod);
  return {!s.ok(), s};
}

StepResult StatefulSetSync::ProcessCondemned(size_t i) {
  const Value& pod = *condemned_[i];
  if (Terminating(pod)) return {monotonic_, Status()};
  bool first_unhealthy = &pod == first_unhealthy_;
  if (monotonic_ && !first_unhealthy && (!RunningAndReady(pod) || !IsPodAvailable(pod, MinReady(set_), Now()))) {
    return {true, Status()};
  }
  return {true, DeletePod(pod)};
}

Status StatefulSetSync::RollingUpdate(int& current_replicas) {
  std::string_view update_name = NameOf(*update_revision_);
  int update_min = RollingParams(set_) ? Partition(set_) : 0;
  const Value* rolling = RollingParams(set_);
  const Value* max_unavailable_v = rolling ? json::Member(*rolling, "maxUnavailable") : nullptr;
  if (!max_unavailable_v || max_unavailable_v->IsNull()) {
    // One at a time, from the highest ordinal down; wait for each to be healthy.
    for (int target = static_cast<int>(replicas_.size()) - 1; target >= update_min; --target) {
      const Replica& r = replicas_[target];
      if (r.exists && PodRevision(*r.pod) != update_name && !Terminating(*r.pod)) {
        KITE_RETURN_IF_ERROR(DeletePod(*r.pod));
        --current_replicas;
        return Status();
      }
      if (!Healthy(*r.pod)) return Status();
    }
    return Status();
  }
  // maxUnavailable: delete outdated pods from the top while fewer than that are unhealthy.
  Result<int32_t> scaled =
      ScaledValueFromIntOrPercent(max_unavailable_v, static_cast<int32_t>(replicas_.size()), false);
  int max_unavailable = scaled.ok() ? std::max(1, *scaled) : 1;
  int unavailable = 0;
  for (const Replica& r : replicas_) {
    if (!Healthy(*r.pod)) ++unavailable;
  }
  if (unavailable >= max_unavailable) return Status();
  int to_delete = max_unavailable - unavailable;
  for (int target = static_cast<int>(replicas_.size()) - 1; target >= update_min && to_delete > 0; --target) {
    const Replica& r = replicas_[target];
    if (r.exists && PodRevision(*r.pod) != update_name && !Terminating(*r.pod)) {
      KITE_RETURN_IF_ERROR(DeletePod(*r.pod));
      --to_delete;
      --current_replicas;
    }
  }
  return Status();
}

void StatefulSetSync::CountReplicas(Value& status, rapidjson::Document::AllocatorType& a) const {
  int replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  int64_t now = Now();
  auto count = [&](const Value& pod) {
    ++replicas;
    if (RunningAndReady(pod)) {
      ++ready;
      if (IsPodAvailable(pod, MinReady(set_), now)) ++available;
    }
    if (!Terminating(pod)) {
      if (PodRevision(pod) == NameOf(*current_revision_)) ++current;
      if (PodRevision(pod) == NameOf(*update_revision_)) ++updated;
    }
  };
  for (const Replica& r : replicas_) {
    if (r.exists) count(*r.pod);
  }
  for (const ObjectPtr& pod : condemned_) count(*pod);
  json::SetMember(status, "replicas", Value(replicas), a);
  json::SetMember(status, "readyReplicas", Value(ready), a);
  json::SetMember(status, "availableReplicas", Value(available), a);
  json::SetMember(status, "currentReplicas", Value(current), a);
  json::SetMember(status, "updatedReplicas", Value(updated), a);
}

Status StatefulSetSync::UpdateStatefulSet(Value& status, rapidjson::Document::AllocatorType& a) {
  json::SetMember(status, "observedGeneration", Value(GenerationOf(set_)), a);
  json::SetStringMember(status, "currentRevision", NameOf(*current_revision_), a);
  json::SetStringMember(status, "updateRevision", NameOf(*update_revision_), a);
  json::SetMember(status, "collisionCount", Value(collision_count_), a);

  int replica_count = Replicas(set_);
  int start = StartOrdinal(set_);
  replicas_.assign(replica_count, Replica{});
  for (const ObjectPtr& pod : owned_pods_) {
    int ordinal = OrdinalOf(*pod);
    if (InOrdinalRange(set_, ordinal)) {
      replicas_[ordinal - start] = {pod, true};
    } else if (ordinal >= 0) {
      condemned_.push_back(pod);
    }
  }
  for (int i = 0; i < replica_count; ++i) {
    if (!replicas_[i].pod) replicas_[i].pod = NewVersionedPod(start + i);
  }
  std::sort(condemned_.begin(), condemned_.end(),
            [](const ObjectPtr& x, const ObjectPtr& y) { return OrdinalOf(*x) > OrdinalOf(*y); });
  for (const Replica& r : replicas_) {
    if (!first_unhealthy_ && !Healthy(*r.pod)) first_unhealthy_ = r.pod.get();
  }
  for (auto it = condemned_.rbegin(); it != condemned_.rend() && !first_unhealthy_; ++it) {
    if (!Healthy(**it)) first_unhealthy_ = it->get();
  }
  CountReplicas(status, a);
  if (IsBeingDeleted(set_)) return Status();

  monotonic_ = !IsParallel(set_);
  StepResult r = RunForAll(replicas_.size(), [this](size_t i) { return ProcessReplica(i); });
  if (r.exit) return r.error;
  r = RunForAll(condemned_.size(), [this](size_t i) { return FixCondemnedClaims(i); });
  if (r.exit) return r.error;
  // In OrderedReady mode every replica is now Running, Ready and available: scale down.
  r = RunForAll(condemned_.size(), [this](size_t i) { return ProcessCondemned(i); });
  if (r.exit) return r.error;
  if (IsOnDelete(set_)) return Status();
  int current = static_cast<int>(IntOr(json::Member(status, "currentReplicas"), 0));
  Status s = RollingUpdate(current);
  json::SetMember(status, "currentReplicas", Value(current), a);
  return s;
}

// ---- claims ----

rapidjson::Document StatefulSetSync::NewClaim(const Value& claim_template, int ordinal) const {
  rapidjson::Document claim(rapidjson::kObjectType);
  auto& a = claim.GetAllocator();
  json::SetStringMember(claim, "apiVersion", "v1", a);
  json::SetStringMember(claim, "kind", "PersistentVolumeClaim", a);
  Value md(rapidjson::kObjectType);
  json::SetStringMember(md, "name", ClaimName(claim_template, set_, ordinal), a);
  json::SetStringMember(md, "namespace", Namespace(), a);
  const Value* tmd = json::Member(claim_template, "metadata");
  Value labels(rapidjson::kObjectType);
  if (const Value* l = tmd ? json::Member(*tmd, "labels") : nullptr; l && l->IsObject()) labels.CopyFrom(*l, a);
  // The set's selector labels, so the claims can be found by it.
  const Value* selector = SpecMember(set_, "selector");
  if (const Value* ml = selector ? json::Member(*selector, "matchLabels") : nullptr; ml && ml->IsObject()) {
    for (const auto& m : ml->GetObject()) {
      json::SetMember(labels, std::string_view(m.name.GetString(), m.name.GetStringLength()), Value(m.value, a), a);
    }
  }
  if (!labels.ObjectEmpty()) json::SetMember(md, "labels", std::move(labels), a);
  if (const Value* ann = tmd ? json::Member(*tmd, "annotations") : nullptr; ann && ann->IsObject()) {
    json::SetMember(md, "annotations", Value(*ann, a), a);
  }
  // Created pods are in range, so only the set can own a new claim.
  if (Retention(set_).delete_when_deleted) {
    Value refs(rapidjson::kArrayType);
    refs.PushBack(NewControllerRef(set_, kApiVersion, kKind, a), a);
    json::SetMember(md, "ownerReferences", std::move(refs), a);
  }
  json::SetMember(claim, "metadata", std::move(md), a);
  if (const Value* spec = json::Member(claim_template, "spec")) json::SetMember(claim, "spec", Value(*spec, a), a);
  return claim;
}

Status StatefulSetSync::CreateClaims(const Value& pod) {
  const Value* templates = ClaimTemplates(set_);
  if (!templates) return Status();
  int ordinal = OrdinalOf(pod);
  Status first_error;
  for (const Value& t : templates->GetArray()) {
    std::string name = ClaimName(t, set_, ordinal);
    ObjectPtr cached = claim_cache_->Get(Namespace(), name);
    if (cached) {
      if (IsBeingDeleted(*cached) && first_error.ok()) {
        first_error = Status(StatusCode::kUnavailable, "pvc " + name + " is being deleted");
      }
      continue;
    }
    Result<rapidjson::Document> created = claims_->Create(Namespace(), NewClaim(t, ordinal));
    if (created.ok() || created.status().code() != StatusCode::kAlreadyExists) {
      RecordEvent("Create", "Claim " + name + " Pod " + std::string(NameOf(pod)), created.status(), true);
    }
    // Already there means our cache is behind: what we wanted exists.
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists && first_error.ok()) {
      first_error = Status(created.status().code(), "failed to create PVC " + name + ": " + created.status().message());
    }
  }
  return first_error;
}

bool StatefulSetSync::HasUnexpectedController(const Value& claim, const Value& pod) const {
  RetentionPolicy policy = Retention(set_);
  // Under Retain/Retain another controller may manage the claims.
  if (!policy.delete_when_deleted && !policy.delete_when_scaled) return false;
  const Value* refs = OwnerRefs(claim);
  if (!refs) return false;
  Target set_target = SetTarget(), pod_target = PodTarget(pod);
  for (const Value& ref : refs->GetArray()) {
    if (MatchesRef(ref, set_target)) {
      if (json::StringMember(ref, "uid") != set_target.uid) return true;
      continue;
    }
    if (MatchesRef(ref, pod_target)) {
      if (json::StringMember(ref, "uid") != pod_target.uid) return true;
      continue;
    }
    if (IsControllerRef(ref)) return true;
  }
  return false;
}

bool StatefulSetSync::IsClaimOwnerUpToDate(const Value& claim, const Value& pod) const {
  // References to a previous set or pod of these names: leave the claim alone.
  if (HasStaleOwnerRef(claim, SetTarget()) || HasStaleOwnerRef(claim, PodTarget(pod))) return true;
  std::string_view set_uid = UidOf(set_), pod_uid = UidOf(pod);
  if (HasUnexpectedController(claim, pod)) return !(HasOwnerRef(claim, set_uid) || HasOwnerRef(claim, pod_uid));
  if (const Value* refs = OwnerRefs(claim)) {
    for (const Value& ref : refs->GetArray()) {
      std::string_view uid = json::StringMember(ref, "uid");
      // Our references must be controller references.
      if ((uid == set_uid || (!pod_uid.empty() && uid == pod_uid)) && !IsControllerRef(ref)) return false;
    }
  }
  RetentionPolicy policy = Retention(set_);
  bool set_ref = HasOwnerRef(claim, set_uid), pod_ref = HasOwnerRef(claim, pod_uid);
  bool scaled_down = !InOrdinalRange(set_, OrdinalOf(pod));
  if (!policy.delete_when_scaled && !policy.delete_when_deleted) return !set_ref && !pod_ref;
  if (!policy.delete_when_scaled) return set_ref && !pod_ref;
  if (!policy.delete_when_deleted) return !set_ref && scaled_down == pod_ref;
  return scaled_down != set_ref && scaled_down == pod_ref;
}

void StatefulSetSync::UpdateClaimOwnerRefs(rapidjson::Document& claim, const Value& pod) const {
  auto& a = claim.GetAllocator();
  bool unexpected = HasUnexpectedController(claim, pod);
  Value& md = json::EnsureObjectMember(claim, "metadata", a);
  Value refs(rapidjson::kArrayType);
  Target set_target = SetTarget(), pod_target = PodTarget(pod);
  if (const Value* old = json::Member(md, "ownerReferences"); old && old->IsArray()) {
    for (const Value& ref : old->GetArray()) {
      if (!MatchesRef(ref, set_target) && !MatchesRef(ref, pod_target)) refs.PushBack(Value(ref, a), a);
    }
  }
  auto add_controller = [&](const Value& owner, std::string_view api_version, std::string_view kind) {
    if (UidOf(owner).empty()) return;
    refs.PushBack(NewControllerRef(owner, api_version, kind, a), a);
  };
  if (!unexpected) {
    RetentionPolicy policy = Retention(set_);
    bool scaled_down = !InOrdinalRange(set_, OrdinalOf(pod));
    if (policy.delete_when_scaled && scaled_down) {
      add_controller(pod, "v1", "Pod");
    } else if (policy.delete_when_deleted) {
      add_controller(set_, kApiVersion, kKind);
    }
  }
  if (refs.Empty()) {
    json::RemoveMember(md, "ownerReferences");
  } else {
    json::SetMember(md, "ownerReferences", std::move(refs), a);
  }
}

bool StatefulSetSync::ClaimsMatchRetentionPolicy(const Value& pod) const {
  const Value* templates = ClaimTemplates(set_);
  if (!templates) return true;
  int ordinal = OrdinalOf(pod);
  for (const Value& t : templates->GetArray()) {
    ObjectPtr claim = claim_cache_->Get(Namespace(), ClaimName(t, set_, ordinal));
    if (claim && !IsClaimOwnerUpToDate(*claim, pod)) return false;
  }
  return true;
}

Status StatefulSetSync::UpdateClaimsForRetentionPolicy(const Value& pod) {
  const Value* templates = ClaimTemplates(set_);
  if (!templates) return Status();
  int ordinal = OrdinalOf(pod);
  for (const Value& t : templates->GetArray()) {
    std::string name = ClaimName(t, set_, ordinal);
    ObjectPtr cached = claim_cache_->Get(Namespace(), name);
    if (!cached || IsClaimOwnerUpToDate(*cached, pod)) continue;
    rapidjson::Document claim;
    claim.CopyFrom(*cached, claim.GetAllocator());
    UpdateClaimOwnerRefs(claim, pod);
    Result<rapidjson::Document> updated = claims_->Update(claim);
    if (!updated.ok()) {
      return Status(updated.status().code(),
                    "could not update claim " + name + " for delete policy ownerRefs: " + updated.status().message());
    }
  }
  return Status();
}

bool StatefulSetSync::PodClaimIsStale(const Value& pod) const {
  if (!Retention(set_).delete_when_scaled) return false;  // claims are meant to be reused
  const Value* templates = ClaimTemplates(set_);
  if (!templates) return false;
  int ordinal = OrdinalOf(pod);
  for (const Value& t : templates->GetArray()) {
    ObjectPtr claim = claim_cache_->Get(Namespace(), ClaimName(t, set_, ordinal));
    if (claim && HasStaleOwnerRef(*claim, PodTarget(pod))) return true;
  }
  return false;
}

// ---- status ----

Status StatefulSetSync::WriteStatus(const Value& computed) {
  rapidjson::Document status;
  status.CopyFrom(computed, status.GetAllocator());
  auto& a = status.GetAllocator();
  int64_t replicas = Replicas(set_);
  auto get = [&](std::string_view f) { return IntOr(json::Member(status, f), 0); };
  // A finished rolling update: the update revision becomes the current one.
  if (!IsOnDelete(set_) && get("updatedReplicas") == replicas && get("readyReplicas") == replicas &&
      get("replicas") == replicas) {
    json::SetMember(status, "currentReplicas", Value(get("updatedReplicas")), a);
    json::SetMember(status, "currentRevision", Value(*json::Member(status, "updateRevision"), a), a);
  }
  // Go's omitempty.
  for (const char* f : {"readyReplicas", "currentReplicas", "updatedReplicas", "observedGeneration"}) {
    if (get(f) == 0) json::RemoveMember(status, f);
  }
  const Value* old = json::Member(set_, "status");
  if (old && *old == status) return Status();

  rapidjson::Document updated;
  updated.CopyFrom(set_, updated.GetAllocator());
  json::SetMember(updated, "status", Value(status, updated.GetAllocator()), updated.GetAllocator());
  Result<rapidjson::Document> written = sets_->UpdateStatus(updated);
  if (written.ok() || written.status().code() == StatusCode::kNotFound) return Status();
  if (written.status().code() != StatusCode::kConflict) return written.status();
  // One retry on a fresh copy (the cached one was stale).
  Result<rapidjson::Document> fresh = sets_->Get(Namespace(), NameOf(set_));
  if (!fresh.ok()) return fresh.status().code() == StatusCode::kNotFound ? Status() : fresh.status();
  if (UidOf(*fresh) != UidOf(set_)) return Status();
  json::SetMember(*fresh, "status", Value(status, fresh->GetAllocator()), fresh->GetAllocator());
  written = sets_->UpdateStatus(*fresh);
  return written.ok() ? Status() : written.status();
}

}  // namespace

std::pair<std::string, int> StatefulPodParentAndOrdinal(std::string_view pod_name) {
  size_t dash = pod_name.rfind('-');
  if (dash == std::string_view::npos) return {"", -1};
  std::string_view digits = pod_name.substr(dash + 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return {"", -1};
  std::string parent(pod_name.substr(0, dash));
  if (digits.size() > 10) return {parent, -1};
  int64_t v = std::strtoll(std::string(digits).c_str(), nullptr, 10);
  if (v > INT32_MAX) return {parent, -1};
  return {parent, static_cast<int>(v)};
}

void StatefulSetController::PendingDeletes::Add(const std::string& uid) {
  MutexLock lock(mu_);
  since_ms_[uid] = clock_->NowMillis();
}

void StatefulSetController::PendingDeletes::Observed(const std::string& uid) {
  MutexLock lock(mu_);
  since_ms_.erase(uid);
}

bool StatefulSetController::PendingDeletes::Contains(const std::string& uid) const {
  constexpr int64_t kTtlMs = 60'000;
  MutexLock lock(mu_);
  auto it = since_ms_.find(uid);
  return it != since_ms_.end() && clock_->NowMillis() - it->second < kTtlMs;
}

StatefulSetController::StatefulSetController(const Clock* clock, client::EventRecorder recorder)
    : clock_(clock), recorder_(std::move(recorder)), pending_deletes_(clock) {}

void StatefulSetController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  sets_ = &informers.For(client::kStatefulSets);
  pods_ = &informers.For(client::kPods);
  revisions_ = &informers.For(client::kControllerRevisions);
  claims_ = &informers.For(client::kPersistentVolumeClaims);
  set_client_.emplace(informers.ClientFor(client::kStatefulSets));
  pod_client_.emplace(informers.ClientFor(client::kPods));
  revision_client_.emplace(informers.ClientFor(client::kControllerRevisions));
  claim_client_.emplace(informers.ClientFor(client::kPersistentVolumeClaims));
  auto enqueue = [this](const ObjectPtr& set) { queue_->Add(client::ObjectKey(*set)); };
  sets_->AddHandlers({
      .on_add = enqueue,
      .on_update = [enqueue](const ObjectPtr&, const ObjectPtr& set) { enqueue(set); },
      .on_delete = enqueue,
  });
  pods_->AddHandlers({
      .on_add = [this](const ObjectPtr& pod) { OnPodAdd(pod); },
      .on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& pod) { OnPodUpdate(old_pod, pod); },
      .on_delete = [this](const ObjectPtr& pod) { OnPodDelete(pod); },
  });
}

ObjectPtr StatefulSetController::ResolveRef(std::string_view ns, const OwnerReference& ref) const {
  if (ref.kind != kKind || ref.api_version.substr(0, ref.api_version.find('/')) != "apps") return nullptr;
  ObjectPtr set = sets_->Get(ns, ref.name);
  if (!set || UidOf(*set) != ref.uid) return nullptr;
  return set;
}

void StatefulSetController::EnqueueOrphanOwners(const Value& pod) {
  for (const ObjectPtr& set : sets_->List(NamespaceOf(pod))) {
    Result<selection::LabelSelector> selector = SpecSelector(*set);
    if (!selector.ok() || selector->Empty() || !selector->MatchesObject(pod)) continue;
    queue_->Add(client::ObjectKey(*set));
  }
}

void StatefulSetController::OnPodAdd(const ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) {
    OnPodDelete(pod);
    return;
  }
  if (std::optional<OwnerReference> ref = ControllerOf(*pod)) {
    if (ObjectPtr set = ResolveRef(NamespaceOf(*pod), *ref)) queue_->Add(client::ObjectKey(*set));
    return;
  }
  EnqueueOrphanOwners(*pod);
}

void StatefulSetController::OnPodUpdate(const ObjectPtr& old_pod, const ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) pending_deletes_.Observed(std::string(UidOf(*pod)));
  const Value* old_labels = LabelsOf(*old_pod);
  const Value* labels = LabelsOf(*pod);
  bool labels_changed =
      (old_labels == nullptr) != (labels == nullptr) || (old_labels && labels && *old_labels != *labels);
  std::optional<OwnerReference> old_ref = ControllerOf(*old_pod);
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  bool ref_changed = old_ref.has_value() != ref.has_value() || (old_ref && ref && old_ref->uid != ref->uid);
  std::string_view ns = NamespaceOf(*pod);
  if (ref_changed && old_ref) {
    if (ObjectPtr set = ResolveRef(ns, *old_ref)) queue_->Add(client::ObjectKey(*set));
  }
  if (ref) {
    ObjectPtr set = ResolveRef(ns, *ref);
    if (!set) return;
    std::string key = client::ObjectKey(*set);
    queue_->Add(key);
    // A pod that just became ready becomes available minReadySeconds later: look again then.
    int64_t min_ready = MinReady(*set);
    if (min_ready > 0 && !IsPodReady(*old_pod) && IsPodReady(*pod)) {
      queue_->AddAfter(key, std::chrono::seconds(min_ready + 1));
    }
    return;
  }
  if (labels_changed || ref_changed) EnqueueOrphanOwners(*pod);
}

void StatefulSetController::OnPodDelete(const ObjectPtr& pod) {
  pending_deletes_.Observed(std::string(UidOf(*pod)));
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  if (!ref) return;
  if (ObjectPtr set = ResolveRef(NamespaceOf(*pod), *ref)) queue_->Add(client::ObjectKey(*set));
}

Status StatefulSetController::Reconcile(const std::string& key) {
  ObjectPtr set = sets_->Get(key);
  if (!set) return Status();
  Result<selection::LabelSelector> selector = SpecSelector(*set);
  // A malformed selector is for validation to reject; retrying cannot fix it.
  if (!selector.ok()) return Status();
  std::string_view ns = NamespaceOf(*set);

  // Only pods named after the set are its members.
  std::vector<ObjectPtr> members;
  for (const ObjectPtr& pod : pods_->List(ns)) {
    if (StatefulPodParentAndOrdinal(NameOf(*pod)).first == NameOf(*set)) members.push_back(pod);
  }
  ControllerRefManager pod_refs(*set, std::string(kApiVersion), std::string(kKind), *selector, &*set_client_,
                                &*pod_client_);
  Result<std::vector<ObjectPtr>> pods = pod_refs.Claim(members);
  if (!pods.ok()) return pods.status();
  ControllerRefManager revision_refs(*set, std::string(kApiVersion), std::string(kKind), *selector, &*set_client_,
                                     &*revision_client_);
  Result<std::vector<ObjectPtr>> revisions = revision_refs.Claim(revisions_->List(ns));
  if (!revisions.ok()) return revisions.status();

  StatefulSetSync sync(clock_, &recorder_, &pending_deletes_, &*set_client_, &*pod_client_, &*revision_client_, &*claim_client_,
                       claims_, set, *pods, std::move(revisions).value());
  Status result = sync.Run();

  // Pods ready but not yet available for minReadySeconds: look again when the first is.
  int64_t now = clock_->NowMillis();
  std::optional<int64_t> soonest;
  for (const ObjectPtr& pod : *pods) {
    if (std::optional<int64_t> ms = MillisUntilAvailable(*pod, MinReady(*set), now)) {
      soonest = soonest ? std::min(*soonest, *ms) : *ms;
    }
  }
  if (soonest) queue_->AddAfter(key, std::chrono::milliseconds(*soonest));
  return result;
}

}  // namespace kite::controllers
