#include "src/server/controllers/persistent_volume_binder.h"

#include <algorithm>

#include "src/server/admission/default_storage_class.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using json::Member;
using json::StringMember;
using rapidjson::Document;
using rapidjson::Value;

namespace {

constexpr std::string_view kYes = "yes";

bool IsClaimKey(std::string_view key) { return key.find('/') != std::string_view::npos; }

Document Copy(const Value& object) {
  Document d;
  d.CopyFrom(object, d.GetAllocator());
  return d;
}

Value& Annotations(Document& object) {
  Value& md = json::EnsureObjectMember(object, "metadata", object.GetAllocator());
  return json::EnsureObjectMember(md, "annotations", object.GetAllocator());
}

const Value* ClaimRefOf(const Value& volume) {
  const Value* spec = Member(volume, "spec");
  const Value* ref = spec ? Member(*spec, "claimRef") : nullptr;
  return ref && ref->IsObject() ? ref : nullptr;
}

std::string_view ReclaimPolicyOf(const Value& volume) {
  const Value* spec = Member(volume, "spec");
  std::string_view policy = spec ? StringMember(*spec, "persistentVolumeReclaimPolicy") : std::string_view();
  return policy.empty() ? std::string_view("Retain") : policy;
}

std::string_view HostPathOf(const Value& volume) {
  const Value* spec = Member(volume, "spec");
  const Value* host = spec ? Member(*spec, "hostPath") : nullptr;
  return host ? StringMember(*host, "path") : std::string_view();
}

// A status write that finds the object gone has nothing left to do.
Status IgnoreNotFound(const Status& s) { return s.code() == StatusCode::kNotFound ? Status() : s; }
template <class T>
Status IgnoreNotFound(const Result<T>& r) {
  return r.ok() ? Status() : IgnoreNotFound(r.status());
}

}  // namespace

PersistentVolumeBinder::PersistentVolumeBinder(PersistentVolumeBinderOptions options)
    : clock_(options.clock ? options.clock : SystemClock::Get()) {}

void PersistentVolumeBinder::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  claims_ = &informers.For(client::kPersistentVolumeClaims);
  volumes_ = &informers.For(client::kPersistentVolumes);
  classes_ = &informers.For(kStorageClasses);
  nodes_ = &informers.For(client::kNodes);
  pods_ = &informers.For(client::kPods);
  claim_client_.emplace(informers.ClientFor(client::kPersistentVolumeClaims));
  volume_client_.emplace(informers.ClientFor(client::kPersistentVolumes));
  node_client_.emplace(informers.ClientFor(client::kNodes));
  pod_client_.emplace(informers.ClientFor(client::kPods));

  // A claim's change matters to the volume it names (release, bind); a deleted claim also
  // to every volume whose claimRef points at it.
  auto claim_changed = [this](const client::ObjectPtr& claim) {
    queue_->Add(client::ObjectKey(*claim));
    if (std::string_view volume = VolumeNameOf(*claim); !volume.empty()) queue_->Add(std::string(volume));
  };
  claims_->AddHandlers({
      .on_add = claim_changed,
      .on_update = [claim_changed](const client::ObjectPtr&, const client::ObjectPtr& claim) { claim_changed(claim); },
      .on_delete =
          [this, claim_changed](const client::ObjectPtr& claim) {
            claim_changed(claim);
            for (const client::ObjectPtr& volume : volumes_->List()) {
              if (IsVolumeBoundToClaim(*volume, *claim)) queue_->Add(std::string(NameOf(*volume)));
            }
          },
  });
  auto volume_changed = [this](const client::ObjectPtr& volume) {
    queue_->Add(std::string(NameOf(*volume)));
    if (const Value* ref = ClaimRefOf(*volume)) {
      queue_->Add(client::ObjectKey(StringMember(*ref, "namespace"), StringMember(*ref, "name")));
    } else if (PhaseOf(*volume) == "Available") {
      QueuePendingClaims();  // waiting claims may fit it
    }
  };
  volumes_->AddHandlers({
      .on_add = volume_changed,
      .on_update = [volume_changed](const client::ObjectPtr&, const client::ObjectPtr& v) { volume_changed(v); },
      .on_delete = volume_changed,
  });
  classes_->AddHandlers({
      .on_add = [this](const client::ObjectPtr&) { QueuePendingClaims(); },
      .on_update = [this](const client::ObjectPtr&, const client::ObjectPtr&) { QueuePendingClaims(); },
      .on_delete = nullptr,
  });
  nodes_->AddHandlers({
      .on_add = nullptr,
      .on_update = [this](const client::ObjectPtr&, const client::ObjectPtr& node) { OnNodeChange(*node); },
      .on_delete =
          [this](const client::ObjectPtr&) {
            // Released local-path volumes of a node that is gone are deleted at once.
            for (const client::ObjectPtr& volume : volumes_->List()) {
              if (PhaseOf(*volume) == "Released") queue_->Add(std::string(NameOf(*volume)));
            }
          },
  });
  pods_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& pod) { QueuePodClaims(*pod); },
      .on_update = [this](const client::ObjectPtr&, const client::ObjectPtr& pod) { QueuePodClaims(*pod); },
      .on_delete = [this](const client::ObjectPtr& pod) { QueuePodClaims(*pod); },
  });
}

void PersistentVolumeBinder::QueuePendingClaims() {
  for (const client::ObjectPtr& claim : claims_->List()) {
    if (VolumeNameOf(*claim).empty() || !ClaimHasClass(*claim)) queue_->Add(client::ObjectKey(*claim));
  }
}

void PersistentVolumeBinder::QueuePodClaims(const Value& pod) {
  for (const std::string& name : PodClaimNames(pod)) queue_->Add(client::ObjectKey(NamespaceOf(pod), name));
}

void PersistentVolumeBinder::OnNodeChange(const Value& node) {
  const Value* md = Member(node, "metadata");
  const Value* annotations = md ? Member(*md, "annotations") : nullptr;
  if (!annotations || !annotations->IsObject()) return;
  for (const auto& m : annotations->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key.starts_with(kLocalPathDeletePrefix)) queue_->Add(std::string(key.substr(kLocalPathDeletePrefix.size())));
  }
}

Status PersistentVolumeBinder::Reconcile(const std::string& key) {
  if (key.empty()) return Status();
  return IsClaimKey(key) ? SyncClaim(key) : SyncVolume(key);
}

// --- claims ---------------------------------------------------------------------------------

Status PersistentVolumeBinder::SyncClaim(const std::string& key) {
  client::ObjectPtr claim = claims_->Get(key);
  if (!claim) return Status();
  bool done = false;
  KITE_RETURN_IF_ERROR(SyncProtection(*claim, &done));
  if (done || IsBeingDeleted(*claim)) return Status();

  // Kubernetes 1.28+: an unbound claim created before any default class existed gets it now.
  if (!ClaimHasClass(*claim) && VolumeNameOf(*claim).empty()) {
    std::vector<client::ObjectPtr> classes = classes_->List();
    std::vector<const Value*> views;
    for (const client::ObjectPtr& c : classes) views.push_back(c.get());
    std::string default_class = admission::DefaultStorageClassName(views);
    if (!default_class.empty()) {
      Document updated = Copy(*claim);
      Value& spec = json::EnsureObjectMember(updated, "spec", updated.GetAllocator());
      json::SetStringMember(spec, "storageClassName", default_class, updated.GetAllocator());
      return IgnoreNotFound(claim_client_->Update(updated));  // the update event continues
    }
  }
  if (!AnnotationOf(*claim, kAnnBindCompleted)) return SyncUnboundClaim(*claim);
  return SyncBoundClaim(*claim);
}

Status PersistentVolumeBinder::SyncProtection(const Value& claim, bool* done) {
  *done = false;
  bool has = HasFinalizer(claim, kPvcProtectionFinalizer);
  if (!IsBeingDeleted(claim)) {
    if (has) return Status();
    Document updated = Copy(claim);
    auto& a = updated.GetAllocator();
    Value& md = json::EnsureObjectMember(updated, "metadata", a);
    Value* finalizers = json::MutableMember(md, "finalizers");
    if (!finalizers || !finalizers->IsArray()) {
      json::SetMember(md, "finalizers", Value(rapidjson::kArrayType), a);
      finalizers = json::MutableMember(md, "finalizers");
    }
    finalizers->PushBack(Value(std::string(kPvcProtectionFinalizer), a), a);
    *done = true;
    return IgnoreNotFound(claim_client_->Update(updated));
  }
  if (!has) return Status();
  *done = true;
  // The cache may not have seen the pod that was just created: ask the API.
  Result<Document> pods = pod_client_->List(NamespaceOf(claim));
  if (!pods.ok()) return pods.status();
  if (const Value* items = Member(*pods, "items"); items && items->IsArray()) {
    for (const Value& pod : items->GetArray()) {
      if (!PodUsesClaims(pod)) continue;
      std::vector<std::string> names = PodClaimNames(pod);
      if (std::find(names.begin(), names.end(), NameOf(claim)) != names.end()) return Status();  // in use
    }
  }
  Document updated = Copy(claim);
  Value* md = json::MutableMember(updated, "metadata");
  Value* finalizers = md ? json::MutableMember(*md, "finalizers") : nullptr;
  if (!finalizers || !finalizers->IsArray()) return Status();
  Value kept(rapidjson::kArrayType);
  for (Value& f : finalizers->GetArray()) {
    if (!(f.IsString() && std::string_view(f.GetString(), f.GetStringLength()) == kPvcProtectionFinalizer)) {
      kept.PushBack(f, updated.GetAllocator());
    }
  }
  *finalizers = std::move(kept);
  return IgnoreNotFound(claim_client_->Update(updated));
}

Status PersistentVolumeBinder::SyncUnboundClaim(const Value& claim) {
  std::string_view class_name = ClaimClass(claim);
  client::ObjectPtr storage_class = class_name.empty() ? nullptr : classes_->Get(class_name);
  std::string_view volume_name = VolumeNameOf(claim);

  if (volume_name.empty()) {
    bool delay = storage_class && IsWaitForFirstConsumer(*storage_class);
    std::optional<std::string_view> selected = AnnotationOf(claim, kAnnSelectedNode);
    client::ObjectPtr node = selected ? nodes_->Get(*selected) : nullptr;
    VolumeMatchOptions options;
    options.node = node.get();
    options.delay_binding = delay;
    if (client::ObjectPtr volume = FindBestMatchForClaim(claim, volumes_->List(), options)) {
      return Bind(*volume, claim);
    }
    // WaitForFirstConsumer: nothing happens (and nothing is said) until a pod is scheduled.
    if (delay && !selected) return SetClaimPhase(claim, "Pending");
    if (storage_class && ClassCanProvision(*storage_class, node.get())) {
      KITE_RETURN_IF_ERROR(RequestProvisioning(claim, ProvisionerOf(*storage_class)));
    }
    return SetClaimPhase(claim, "Pending");
  }

  // The user named the volume.
  client::ObjectPtr volume = volumes_->Get(volume_name);
  if (!volume) return SetClaimPhase(claim, "Pending");
  if (!ClaimRefOf(*volume)) {
    if (!CheckVolumeSatisfiesClaim(*volume, claim).ok()) return SetClaimPhase(claim, "Pending");
    return Bind(*volume, claim);
  }
  if (IsVolumeBoundToClaim(*volume, claim)) return Bind(*volume, claim);
  return SetClaimPhase(claim, "Pending");  // the volume is someone else's
}

Status PersistentVolumeBinder::SyncBoundClaim(const Value& claim) {
  std::string_view volume_name = VolumeNameOf(claim);
  if (volume_name.empty()) return SetClaimPhase(claim, "Lost");
  client::ObjectPtr volume = volumes_->Get(volume_name);
  if (!volume) {
    // Confirm: a volume created a moment ago may not be cached yet.
    Result<Document> live = volume_client_->Get("", volume_name);
    if (live.ok()) return Status();  // its add event brings it back here
    if (live.status().code() != StatusCode::kNotFound) return live.status();
    return SetClaimPhase(claim, "Lost");
  }
  if (!ClaimRefOf(*volume) || IsVolumeBoundToClaim(*volume, claim)) return Bind(*volume, claim);
  return SetClaimPhase(claim, "Lost");  // two claims on one volume: this one lost it
}

Status PersistentVolumeBinder::Bind(const Value& cached_volume, const Value& cached_claim) {
  std::string_view claim_uid = UidOf(cached_claim);
  Document volume = Copy(cached_volume);

  // 1. The volume's claimRef (with the claim's uid).
  const Value* ref = ClaimRefOf(volume);
  if (!ref || !IsVolumeBoundToClaim(volume, cached_claim) || StringMember(*ref, "uid") != claim_uid) {
    bool pre_bound = ref != nullptr;
    auto& a = volume.GetAllocator();
    Value claim_ref(rapidjson::kObjectType);
    json::SetStringMember(claim_ref, "kind", "PersistentVolumeClaim", a);
    json::SetStringMember(claim_ref, "namespace", NamespaceOf(cached_claim), a);
    json::SetStringMember(claim_ref, "name", NameOf(cached_claim), a);
    json::SetStringMember(claim_ref, "uid", claim_uid, a);
    json::SetStringMember(claim_ref, "apiVersion", "v1", a);
    const Value* claim_md = Member(cached_claim, "metadata");
    json::SetStringMember(claim_ref, "resourceVersion", claim_md ? StringMember(*claim_md, "resourceVersion") : "", a);
    json::SetMember(json::EnsureObjectMember(volume, "spec", a), "claimRef", std::move(claim_ref), a);
    if (!pre_bound) json::SetStringMember(Annotations(volume), kAnnBoundByController, kYes, a);
    Result<Document> updated = volume_client_->Update(volume);
    if (!updated.ok()) return updated.status();
    volume = std::move(updated).value();
  }
  // 2. The volume's phase.
  if (PhaseOf(volume) != "Bound") KITE_RETURN_IF_ERROR(SetVolumePhase(volume, "Bound"));

  // 3. The claim's volumeName and bind-completed.
  Document claim = Copy(cached_claim);
  std::string_view volume_name = NameOf(volume);
  if (VolumeNameOf(claim) != volume_name || !AnnotationOf(claim, kAnnBindCompleted)) {
    auto& a = claim.GetAllocator();
    if (VolumeNameOf(claim) != volume_name) {
      json::SetStringMember(json::EnsureObjectMember(claim, "spec", a), "volumeName", volume_name, a);
      json::SetStringMember(Annotations(claim), kAnnBoundByController, kYes, a);
    }
    json::SetStringMember(Annotations(claim), kAnnBindCompleted, kYes, a);
    Result<Document> updated = claim_client_->Update(claim);
    if (!updated.ok()) return updated.status();
    claim = std::move(updated).value();
  }
  // 4. The claim's status: Bound, with the volume's access modes and capacity.
  Document status_claim = Copy(claim);
  auto& a = status_claim.GetAllocator();
  Value& status = json::EnsureObjectMember(status_claim, "status", a);
  const Value* volume_spec = Member(volume, "spec");
  bool changed = json::StringMember(status, "phase") != "Bound";
  json::SetStringMember(status, "phase", "Bound", a);
  for (const char* field : {"accessModes", "capacity"}) {
    const Value* want = volume_spec ? Member(*volume_spec, field) : nullptr;
    const Value* have = Member(status, field);
    if (!want) continue;
    if (!have || *have != *want) {
      changed = true;
      json::SetMember(status, field, Value(*want, a), a);
    }
  }
  if (!changed) return Status();
  return IgnoreNotFound(claim_client_->UpdateStatus(status_claim));
}

Status PersistentVolumeBinder::SetClaimPhase(const Value& claim, std::string_view phase) {
  if (PhaseOf(claim) == phase) return Status();
  Document updated = Copy(claim);
  Value& status = json::EnsureObjectMember(updated, "status", updated.GetAllocator());
  json::SetStringMember(status, "phase", phase, updated.GetAllocator());
  return IgnoreNotFound(claim_client_->UpdateStatus(updated));
}

Status PersistentVolumeBinder::RequestProvisioning(const Value& claim, std::string_view provisioner) {
  if (AnnotationOf(claim, kAnnStorageProvisioner) == provisioner &&
      AnnotationOf(claim, kAnnBetaStorageProvisioner) == provisioner) {
    return Status();
  }
  Document updated = Copy(claim);
  auto& a = updated.GetAllocator();
  json::SetStringMember(Annotations(updated), kAnnStorageProvisioner, provisioner, a);
  json::SetStringMember(Annotations(updated), kAnnBetaStorageProvisioner, provisioner, a);
  Result<Document> r = claim_client_->Update(updated);
  // The update event brings the claim back; its status is written then.
  return IgnoreNotFound(r);
}

// --- volumes --------------------------------------------------------------------------------

Status PersistentVolumeBinder::SyncVolume(const std::string& name) {
  client::ObjectPtr volume = volumes_->Get(name);
  if (!volume) {
    // Gone: drop any delete request left on a node.
    for (const client::ObjectPtr& node : nodes_->List()) {
      std::string key = LocalPathDeleteKey(name);
      if (!key.empty() && AnnotationOf(*node, key)) KITE_RETURN_IF_ERROR(ClearDeleteRequest(std::string(NameOf(*node)), name));
    }
    return Status();
  }
  if (IsBeingDeleted(*volume)) return Status();
  const Value* ref = ClaimRefOf(*volume);
  if (!ref) return SetVolumePhase(*volume, "Available");
  std::string_view ref_uid = StringMember(*ref, "uid");
  std::string claim_key = client::ObjectKey(StringMember(*ref, "namespace"), StringMember(*ref, "name"));
  if (ref_uid.empty()) {
    // Pre-bound by the user to a claim that has not bound yet.
    queue_->Add(claim_key);
    return SetVolumePhase(*volume, "Available");
  }

  client::ObjectPtr claim = claims_->Get(claim_key);
  if (!claim || UidOf(*claim) != ref_uid) {
    // Not in the cache (or another claim of that name): ask the API before releasing.
    Result<client::ObjectPtr> live = LiveClaim(StringMember(*ref, "namespace"), StringMember(*ref, "name"));
    if (!live.ok()) return live.status();
    claim = *live;
  }
  if (!claim || UidOf(*claim) != ref_uid) {
    // The claim is gone: released, then its reclaim policy.
    std::string_view phase = PhaseOf(*volume);
    if (phase != "Released" && phase != "Failed") return SetVolumePhase(*volume, "Released");
    if (phase == "Released") return Reclaim(*volume);
    return Status();
  }
  std::string_view claim_volume = VolumeNameOf(*claim);
  if (claim_volume.empty()) {
    queue_->Add(claim_key);  // the claim side finishes the binding
    return Status();
  }
  if (claim_volume == name) return PhaseOf(*volume) == "Bound" ? Status() : SetVolumePhase(*volume, "Bound");

  // The claim bound to another volume.
  if (AnnotationOf(*volume, kAnnProvisionedBy) && ReclaimPolicyOf(*volume) == "Delete") {
    // Provisioned for that claim and now useless.
    if (PhaseOf(*volume) != "Released") return SetVolumePhase(*volume, "Released");
    return Reclaim(*volume);
  }
  return UnbindVolume(*volume);
}

Result<client::ObjectPtr> PersistentVolumeBinder::LiveClaim(std::string_view ns, std::string_view name) const {
  Result<Document> live = claim_client_->Get(ns, name);
  if (!live.ok()) {
    if (live.status().code() == StatusCode::kNotFound) return client::ObjectPtr();
    return live.status();
  }
  return client::ObjectPtr(std::make_shared<const Document>(std::move(live).value()));
}

Status PersistentVolumeBinder::SetVolumePhase(const Value& volume, std::string_view phase, std::string_view message) {
  const Value* current = Member(volume, "status");
  std::string_view current_message = current ? StringMember(*current, "message") : std::string_view();
  if (PhaseOf(volume) == phase && current_message == message) return Status();
  Document updated = Copy(volume);
  auto& a = updated.GetAllocator();
  Value& status = json::EnsureObjectMember(updated, "status", a);
  if (PhaseOf(volume) != phase) {
    json::SetStringMember(status, "lastPhaseTransitionTime", FormatRfc3339Seconds(clock_->NowMillis()), a);
  }
  json::SetStringMember(status, "phase", phase, a);
  if (message.empty()) {
    json::RemoveMember(status, "message");
  } else {
    json::SetStringMember(status, "message", message, a);
  }
  return IgnoreNotFound(volume_client_->UpdateStatus(updated));
}

Status PersistentVolumeBinder::UnbindVolume(const Value& volume) {
  Document updated = Copy(volume);
  Value* spec = json::MutableMember(updated, "spec");
  if (!spec) return Status();
  if (AnnotationOf(volume, kAnnBoundByController)) {
    // We bound it: undo it all.
    json::RemoveMember(*spec, "claimRef");
    if (Value* md = json::MutableMember(updated, "metadata")) {
      if (Value* annotations = json::MutableMember(*md, "annotations")) json::RemoveMember(*annotations, kAnnBoundByController);
    }
  } else if (Value* ref = json::MutableMember(*spec, "claimRef")) {
    // The user pre-bound it by name: keep the name, forget the old claim.
    json::RemoveMember(*ref, "uid");
  }
  Result<Document> r = volume_client_->Update(updated);
  if (!r.ok()) return IgnoreNotFound(r.status());
  return SetVolumePhase(*r, "Available");
}

Status PersistentVolumeBinder::Reclaim(const Value& volume) {
  std::string_view policy = ReclaimPolicyOf(volume);
  if (policy == "Retain") return Status();
  if (policy == "Recycle") return SetVolumePhase(volume, "Failed", "No recycler plugin found for the volume!");
  if (policy != "Delete") return Status();
  if (AnnotationOf(volume, kAnnProvisionedBy) == kLocalPathProvisioner) return ReclaimLocalPath(volume);
  return DeleteVolume(volume);
}

Status PersistentVolumeBinder::ReclaimLocalPath(const Value& volume) {
  std::string name(NameOf(volume));
  std::string node_name = LocalPathNodeOf(volume);
  client::ObjectPtr node = node_name.empty() ? nullptr : nodes_->Get(node_name);
  std::string key = LocalPathDeleteKey(name);
  std::string_view path = HostPathOf(volume);
  // No agent keeps this directory (a simulated node, or a node that is gone): only the PV.
  if (!node || !AnnotationOf(*node, kLocalPathRootAnnotation) || key.empty() || path.empty()) {
    return DeleteVolume(volume);
  }
  std::optional<std::string_view> answer = AnnotationOf(*node, key);
  if (!answer) {
    // Ask the node's agent to remove the directory; its answer comes back as a node update.
    Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    Value annotations(rapidjson::kObjectType);
    json::SetStringMember(annotations, key, path, a);
    Value md(rapidjson::kObjectType);
    json::SetMember(md, "annotations", std::move(annotations), a);
    json::SetMember(patch, "metadata", std::move(md), a);
    return IgnoreNotFound(node_client_->Patch("", node_name, client::PatchType::kMerge, json::ToJson(patch)));
  }
  if (*answer != kLocalPathRemoved && *answer != kLocalPathKept) return Status();  // still waiting
  KITE_RETURN_IF_ERROR(DeleteVolume(volume));
  return ClearDeleteRequest(node_name, name);
}

Status PersistentVolumeBinder::DeleteVolume(const Value& volume) {
  std::string options = R"({"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":")" +
                        std::string(UidOf(volume)) + R"("}})";
  Status s = volume_client_->Delete("", NameOf(volume), options);
  // Gone already, or replaced by a new volume of that name (the uid precondition).
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kConflict) return Status();
  return s;
}

Status PersistentVolumeBinder::ClearDeleteRequest(const std::string& node_name, const std::string& volume_name) {
  std::string key = LocalPathDeleteKey(volume_name);
  if (key.empty()) return Status();
  Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  Value annotations(rapidjson::kObjectType);
  json::SetMember(annotations, key, Value(rapidjson::kNullType), a);
  Value md(rapidjson::kObjectType);
  json::SetMember(md, "annotations", std::move(annotations), a);
  json::SetMember(patch, "metadata", std::move(md), a);
  return IgnoreNotFound(node_client_->Patch("", node_name, client::PatchType::kMerge, json::ToJson(patch)));
}

}  // namespace kite::controllers
