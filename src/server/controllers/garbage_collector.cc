#include "src/server/controllers/garbage_collector.h"

#include <algorithm>
#include <optional>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/custom_resource_ref.h"
#include "src/server/json/json_util.h"
#include "src/server/resources/resource_table.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;

// Reads and merge patches of one custom object before a run of conflicts is handed back to
// the work queue's back-off.
constexpr int kPatchAttempts = 5;
// How soon an object whose owner's CRD informer has not listed yet is looked at again.
constexpr std::chrono::milliseconds kCacheWaitRetry{250};

std::string Quoted(std::string_view s) { return json::ToJson(Value(rapidjson::StringRef(s.data(), s.size()))); }

// "apps/v1" → "apps"; "v1" → "".
std::string_view GroupOf(std::string_view api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

std::string NameOfObject(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  return md ? std::string(json::StringMember(*md, "name")) : std::string();
}

// What the collector watches of an Established CRD; nullopt when it serves nothing.
std::optional<GcResource> CustomGcResource(const Value& crd) {
  std::optional<client::ResourceRef> ref = ServedCustomResourceOf(crd);
  std::string_view kind = CrdKind(crd);
  if (!ref || kind.empty()) return std::nullopt;
  std::string api_version = ref->group + "/" + ref->version;
  return GcResource{std::move(*ref), std::move(api_version), std::string(kind), true};
}

}  // namespace

std::vector<GcResource> BuiltinGcResources() {
  std::vector<GcResource> out;
  const resources::ResourceTable table = resources::BuiltinResources();
  for (const resources::ResourceInfo& info : table.All()) {
    if (!info.HasVerb("list") || !info.HasVerb("watch") || !info.HasVerb("delete")) continue;
    if (info.resource == "events") continue;  // high churn, never owners: as Kubernetes
    std::string api_version = info.group.empty() ? info.version : info.group + "/" + info.version;
    out.push_back({{info.group, info.version, info.resource, info.namespaced}, api_version, info.kind});
  }
  return out;
}

GarbageCollector::GarbageCollector(std::vector<GcResource> resources) : resources_(std::move(resources)) {}

GarbageCollector::~GarbageCollector() {
  std::map<std::string, Watched> watched;
  {
    MutexLock lock(resources_mu_);
    watched.swap(watched_);
  }
  // Outside the lock; the subscriptions' handlers use this object, so they go first.
  watched.clear();
}

client::InformerHandlers GarbageCollector::HandlersFor(const GcResource* r) {
  return {
      .on_add = [this, r](const client::ObjectPtr& o) { Observe(r, *o); },
      .on_update = [this, r](const client::ObjectPtr&, const client::ObjectPtr& o) { Observe(r, *o); },
      .on_delete = [this](const client::ObjectPtr& o) { Forget(std::string(UidOf(*o))); },
  };
}

void GarbageCollector::Register(client::InformerFactory& informers, WorkQueue& queue) {
  informers_ = &informers;
  queue_ = &queue;
  for (const GcResource& resource : resources_) informers.For(resource.ref).AddHandlers(HandlersFor(&resource));
  informers.For(client::kCustomResourceDefinitions)
      .AddHandlers({
          .on_add = [this](const client::ObjectPtr& crd) { SyncCrd(NameOfObject(*crd), crd.get()); },
          .on_update = [this](const client::ObjectPtr&,
                              const client::ObjectPtr& crd) { SyncCrd(NameOfObject(*crd), crd.get()); },
          .on_delete = [this](const client::ObjectPtr& crd) { SyncCrd(NameOfObject(*crd), nullptr); },
      });
}

void GarbageCollector::SyncCrd(const std::string& name, const Value* crd) {
  std::optional<GcResource> want = crd ? CustomGcResource(*crd) : std::nullopt;
  Watched dropped;
  {
    MutexLock lock(resources_mu_);
    auto it = watched_.find(name);
    if (it == watched_.end() && !want) return;
    if (it != watched_.end()) {
      if (want && *it->second.resource == *want) return;
      dropped = std::move(it->second);
      watched_.erase(it);
    }
  }
  if (dropped.resource) {
    // Outside the locks: this waits for the informer's handlers (and thread). Its objects'
    // deletes may not all have arrived: the graph forgets them here.
    dropped.subscription.Reset();
    Purge(dropped.resource);
  }
  if (!want) return;
  const GcResource* resource = nullptr;
  {
    MutexLock lock(resources_mu_);
    auto it = std::find(custom_resources_.begin(), custom_resources_.end(), *want);
    if (it == custom_resources_.end()) it = custom_resources_.insert(custom_resources_.end(), std::move(*want));
    resource = &*it;
  }
  client::Subscription subscription = informers_->Subscribe(resource->ref, HandlersFor(resource));
  {
    MutexLock lock(resources_mu_);
    watched_[name] = Watched{resource, std::move(subscription)};
  }
  RecheckOwnersOfKind(*resource);
}

void GarbageCollector::Purge(const GcResource* resource) {
  std::vector<std::string> uids;
  {
    MutexLock lock(mu_);
    for (const auto& [uid, node] : nodes_) {
      if (node.resource == resource) uids.push_back(uid);
    }
  }
  for (const std::string& uid : uids) Forget(uid);
}

void GarbageCollector::RecheckOwnersOfKind(const GcResource& resource) {
  std::vector<std::string> uids;
  {
    MutexLock lock(mu_);
    for (const auto& [uid, node] : nodes_) {
      for (const OwnerRef& owner : node.owners) {
        if (owner.kind == resource.kind && GroupOf(owner.api_version) == resource.ref.group) {
          uids.push_back(uid);
          break;
        }
      }
    }
  }
  for (const std::string& uid : uids) queue_->Add(uid);
}

void GarbageCollector::Observe(const GcResource* resource, const Value& object) {
  const Value* md = json::Member(object, "metadata");
  if (!md) return;
  std::string uid(json::StringMember(*md, "uid"));
  if (uid.empty()) return;
  Node node;
  node.resource = resource;
  node.ns = json::StringMember(*md, "namespace");
  node.name = json::StringMember(*md, "name");
  node.deleting = json::Member(*md, "deletionTimestamp") != nullptr;
  node.orphan_finalizer = HasFinalizer(object, "orphan");
  node.foreground_finalizer = HasFinalizer(object, "foregroundDeletion");
  if (const Value* refs = json::Member(*md, "ownerReferences"); refs && refs->IsArray()) {
    for (const Value& ref : refs->GetArray()) {
      if (!ref.IsObject()) continue;
      OwnerRef owner{std::string(json::StringMember(ref, "uid")), std::string(json::StringMember(ref, "apiVersion")),
                     std::string(json::StringMember(ref, "kind")), std::string(json::StringMember(ref, "name"))};
      const Value* block = json::Member(ref, "blockOwnerDeletion");
      owner.block_owner_deletion = block && block->IsBool() && block->GetBool();
      if (!owner.uid.empty()) node.owners.push_back(std::move(owner));
    }
  }
  bool needs_attention = !node.owners.empty() || node.orphan_finalizer || node.foreground_finalizer;
  {
    MutexLock lock(mu_);
    auto it = nodes_.find(uid);
    // Most updates (a Lease renewed, a pod's status) change nothing the collector acts on;
    // as upstream's graph builder, it acts on new objects and changed owners or deletion
    // state only. An owner that goes wakes its dependents through Forget.
    if (it != nodes_.end() && it->second == node) return;
    if (it != nodes_.end()) {
      for (const OwnerRef& old : it->second.owners) dependents_[old.uid].erase(uid);
    }
    for (const OwnerRef& owner : node.owners) dependents_[owner.uid].insert(uid);
    nodes_[uid] = std::move(node);
  }
  if (needs_attention) queue_->Add(uid);
}

void GarbageCollector::Forget(const std::string& uid) {
  std::vector<std::string> to_check;
  {
    MutexLock lock(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) return;
    // Its owners may be waiting for it (foreground); its dependents may now be orphans.
    for (const OwnerRef& owner : it->second.owners) {
      dependents_[owner.uid].erase(uid);
      to_check.push_back(owner.uid);
    }
    for (const std::string& d : dependents_[uid]) to_check.push_back(d);
    nodes_.erase(it);
    if (dependents_[uid].empty()) dependents_.erase(uid);
  }
  for (const std::string& key : to_check) queue_->Add(key);
}

const GcResource* GarbageCollector::ResourceOfKind(std::string_view api_version, std::string_view kind,
                                                   bool* synced) const {
  *synced = true;
  // The exact apiVersion first; then another version of the same group, since the kind is
  // what identifies the owner.
  std::string_view group = GroupOf(api_version);
  for (bool exact : {true, false}) {
    for (const GcResource& r : resources_) {
      if (r.kind == kind && (exact ? r.api_version == api_version : r.ref.group == group)) return &r;
    }
    MutexLock lock(resources_mu_);
    for (const auto& [name, watched] : watched_) {
      const GcResource& r = *watched.resource;
      if (r.kind == kind && (exact ? r.api_version == api_version : r.ref.group == group)) {
        *synced = watched.subscription->HasSynced();
        return &r;
      }
    }
  }
  return nullptr;
}

Status GarbageCollector::Reconcile(const std::string& uid) {
  Node node;
  {
    MutexLock lock(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) return Status();
    node = it->second;
  }
  if (node.deleting && node.orphan_finalizer) return ProcessOrphaning(uid, node);
  if (node.deleting && node.foreground_finalizer) return ProcessForeground(uid, node);
  return ProcessOwners(uid, node);
}

Status GarbageCollector::ProcessOrphaning(const std::string& uid, const Node& node) {
  std::vector<std::pair<std::string, Node>> dependents;
  {
    MutexLock lock(mu_);
    for (const std::string& d : dependents_[uid]) {
      if (auto it = nodes_.find(d); it != nodes_.end()) dependents.emplace_back(d, it->second);
    }
  }
  for (const auto& [dependent_uid, dependent] : dependents) {
    Status s = RemoveOwnerReferences(dependent, dependent_uid, {uid});
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return RemoveFinalizer(node, uid, "orphan");
}

Status GarbageCollector::ProcessForeground(const std::string& uid, const Node& node) {
  std::vector<std::pair<std::string, Node>> dependents;
  {
    MutexLock lock(mu_);
    for (const std::string& d : dependents_[uid]) {
      if (auto it = nodes_.find(d); it != nodes_.end()) dependents.emplace_back(d, it->second);
    }
  }
  bool blocked = false;
  for (const auto& [dependent_uid, dependent] : dependents) {
    bool blocks = false;
    for (const OwnerRef& o : dependent.owners) {
      if (o.uid == uid && o.block_owner_deletion) blocks = true;
    }
    blocked = blocked || blocks;
    if (dependent.deleting) continue;
    bool has_dependents;
    {
      MutexLock lock(mu_);
      auto it = dependents_.find(dependent_uid);
      has_dependents = it != dependents_.end() && !it->second.empty();
    }
    Status s = DeleteObject(dependent, dependent_uid, has_dependents);
    if (!s.ok() && s.code() != StatusCode::kNotFound && s.code() != StatusCode::kConflict) return s;
  }
  // Dependents that block are waited for: their deletion requeues this owner.
  if (blocked) return Status();
  return RemoveFinalizer(node, uid, "foregroundDeletion");
}

Status GarbageCollector::ProcessOwners(const std::string& uid, const Node& node) {
  if (node.owners.empty()) return Status();
  std::vector<std::string> gone;
  bool waiting_foreground_owner = false;
  for (const OwnerRef& owner : node.owners) {
    Node owner_node;
    bool cached = false;
    {
      MutexLock lock(mu_);
      if (auto it = nodes_.find(owner.uid); it != nodes_.end()) {
        owner_node = it->second;
        cached = true;
      }
    }
    if (cached) {
      if (owner_node.deleting && owner_node.foreground_finalizer) waiting_foreground_owner = true;
      continue;
    }
    Result<OwnerState> state = OwnerExists(node, owner);
    if (!state.ok()) return state.status();
    if (*state == OwnerState::kGone) gone.push_back(owner.uid);
    // Looked at again soon, quietly: not an error, and no back-off to outgrow the wait.
    if (*state == OwnerState::kNotYetKnown) queue_->AddAfter(uid, kCacheWaitRetry);
  }
  if (gone.empty()) return Status();
  if (gone.size() == node.owners.size() && node.deleting) return Status();
  // This object's cache may be behind its owner's (an owner's delete can arrive before the
  // update that removed the reference to it, from another informer): act on the live
  // object, as upstream does, and only while its owners are the ones looked at — otherwise
  // its update is on the way and queues it again.
  Result<Document> live = informers_->ClientFor(node.resource->ref).Get(node.ns, node.name);
  if (!live.ok()) return live.status().code() == StatusCode::kNotFound ? Status() : live.status();
  const Value* live_md = json::Member(*live, "metadata");
  if (!live_md || UidOf(*live) != uid) return Status();
  std::set<std::string> live_owners, cached_owners;
  if (const Value* refs = json::Member(*live_md, "ownerReferences"); refs && refs->IsArray()) {
    for (const Value& ref : refs->GetArray()) {
      if (ref.IsObject()) live_owners.emplace(json::StringMember(ref, "uid"));
    }
  }
  for (const OwnerRef& owner : node.owners) cached_owners.insert(owner.uid);
  if (live_owners != cached_owners) return Status();
  if (gone.size() == node.owners.size()) {
    bool has_dependents;
    {
      MutexLock lock(mu_);
      auto it = dependents_.find(uid);
      has_dependents = it != dependents_.end() && !it->second.empty();
    }
    // An owner deleted in the foreground took its dependents with it in the foreground.
    Status s = DeleteObject(node, uid, has_dependents && waiting_foreground_owner,
                            json::StringMember(*live_md, "resourceVersion"));
    return s.code() == StatusCode::kNotFound ? Status() : s;
  }
  Status s = RemoveOwnerReferences(node, uid, gone);
  return s.code() == StatusCode::kNotFound ? Status() : s;
}

Result<GarbageCollector::OwnerState> GarbageCollector::OwnerExists(const Node& dependent, const OwnerRef& owner) const {
  bool synced = true;
  const GcResource* resource = ResourceOfKind(owner.api_version, owner.kind, &synced);
  // An owner of a kind this collector cannot see is assumed to exist: deleting on a guess
  // would lose data.
  if (!resource) return OwnerState::kExists;
  // Before the CRD's informer has listed, its resource may not be served yet: a 404 would
  // not say the owner is gone.
  if (!synced) return OwnerState::kNotYetKnown;
  std::string_view ns = resource->ref.namespaced ? std::string_view(dependent.ns) : std::string_view();
  Result<rapidjson::Document> live = informers_->ClientFor(resource->ref).Get(ns, owner.name);
  if (!live.ok()) {
    if (live.status().code() == StatusCode::kNotFound) return OwnerState::kGone;
    return live.status();
  }
  return UidOf(*live) == owner.uid ? OwnerState::kExists : OwnerState::kGone;
}

Status GarbageCollector::MergePatchLive(const Node& node, std::string_view uid, const MetadataEdit& edit) const {
  client::ResourceClient client = informers_->ClientFor(node.resource->ref);
  Status last;
  for (int attempt = 0; attempt < kPatchAttempts; ++attempt) {
    Result<Document> live = client.Get(node.ns, node.name);
    if (!live.ok()) return live.status().code() == StatusCode::kNotFound ? Status() : live.status();
    // Gone and created again under the same name: not the object this is about.
    if (UidOf(*live) != uid) return Status();
    const Value* md = json::Member(*live, "metadata");
    if (!md || !md->IsObject()) return Status();
    Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    Value patch_md(rapidjson::kObjectType);
    patch_md.AddMember("resourceVersion", Value(std::string(json::StringMember(*md, "resourceVersion")), a), a);
    if (!edit(*md, patch_md, a)) return Status();
    patch.AddMember("metadata", std::move(patch_md), a);
    Result<Document> r = client.Patch(node.ns, node.name, client::PatchType::kMerge, json::ToJson(patch));
    if (r.ok() || r.status().code() == StatusCode::kNotFound) return Status();
    if (r.status().code() != StatusCode::kConflict) return r.status();
    last = r.status();  // written meanwhile: read again
  }
  return last;
}

Status GarbageCollector::RemoveOwnerReferences(const Node& dependent, std::string_view dependent_uid,
                                               const std::vector<std::string>& owner_uids) const {
  if (dependent.resource->custom) {
    // The whole remaining list; null when none is left.
    return MergePatchLive(dependent, dependent_uid, [&](const Value& md, Value& patch_md, auto& a) {
      const Value* refs = json::Member(md, "ownerReferences");
      if (!refs || !refs->IsArray()) return false;
      Value remaining(rapidjson::kArrayType);
      for (const Value& ref : refs->GetArray()) {
        std::string_view ref_uid = ref.IsObject() ? json::StringMember(ref, "uid") : std::string_view();
        if (std::find(owner_uids.begin(), owner_uids.end(), ref_uid) == owner_uids.end()) {
          remaining.PushBack(Value(ref, a), a);
        }
      }
      if (remaining.Size() == refs->Size()) return false;
      patch_md.AddMember("ownerReferences", remaining.Empty() ? Value() : std::move(remaining), a);
      return true;
    });
  }
  // Strategic merge patch: ownerReferences merge by uid, so each is deleted by key.
  std::string patch = R"({"metadata":{"ownerReferences":[)";
  for (size_t i = 0; i < owner_uids.size(); ++i) {
    patch += (i ? "," : "") + std::string(R"({"$patch":"delete","uid":)") + Quoted(owner_uids[i]) + "}";
  }
  patch += "]}}";
  Result<rapidjson::Document> r = informers_->ClientFor(dependent.resource->ref)
                                      .Patch(dependent.ns, dependent.name, client::PatchType::kStrategic, patch);
  return r.ok() ? Status() : r.status();
}

Status GarbageCollector::RemoveFinalizer(const Node& node, std::string_view uid, std::string_view finalizer) const {
  if (node.resource->custom) {
    return MergePatchLive(node, uid, [&](const Value& md, Value& patch_md, auto& a) {
      const Value* finalizers = json::Member(md, "finalizers");
      if (!finalizers || !finalizers->IsArray()) return false;
      Value remaining(rapidjson::kArrayType);
      for (const Value& f : finalizers->GetArray()) {
        if (!(f.IsString() && std::string_view(f.GetString(), f.GetStringLength()) == finalizer)) {
          remaining.PushBack(Value(f, a), a);
        }
      }
      if (remaining.Size() == finalizers->Size()) return false;
      patch_md.AddMember("finalizers", remaining.Empty() ? Value() : std::move(remaining), a);
      return true;
    });
  }
  std::string patch = R"({"metadata":{"$deleteFromPrimitiveList/finalizers":[)" + Quoted(finalizer) + "]}}";
  Result<rapidjson::Document> r = informers_->ClientFor(node.resource->ref)
                                      .Patch(node.ns, node.name, client::PatchType::kStrategic, patch);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) return Status();
  return r.ok() ? Status() : r.status();
}

Status GarbageCollector::DeleteObject(const Node& node, std::string_view uid, bool foreground,
                                      std::string_view resource_version) const {
  std::string options = R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":")" +
                        std::string(foreground ? "Foreground" : "Background") + R"(","preconditions":{"uid":)" +
                        Quoted(uid);
  if (!resource_version.empty()) options += R"(,"resourceVersion":)" + Quoted(resource_version);
  options += "}}";
  return informers_->ClientFor(node.resource->ref).Delete(node.ns, node.name, options);
}

}  // namespace kite::controllers
