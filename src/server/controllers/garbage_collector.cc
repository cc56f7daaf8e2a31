#include "src/server/controllers/garbage_collector.h"

#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"
#include "src/server/resources/resource_table.h"

namespace kite::controllers {
namespace {

using rapidjson::Value;

std::string Quoted(std::string_view s) { return json::ToJson(Value(rapidjson::StringRef(s.data(), s.size()))); }

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

void GarbageCollector::Register(client::InformerFactory& informers, WorkQueue& queue) {
  informers_ = &informers;
  for (const GcResource& resource : resources_) {
    const GcResource* r = &resource;
    informers.For(r->ref).AddHandlers({
        .on_add = [this, r, &queue](const client::ObjectPtr& o) { Observe(r, *o, queue); },
        .on_update = [this, r, &queue](const client::ObjectPtr&, const client::ObjectPtr& o) {
          Observe(r, *o, queue);
        },
        .on_delete = [this, &queue](const client::ObjectPtr& o) { Forget(*o, queue); },
    });
  }
}

void GarbageCollector::Observe(const GcResource* resource, const Value& object, WorkQueue& queue) {
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
    if (it != nodes_.end()) {
      for (const OwnerRef& old : it->second.owners) dependents_[old.uid].erase(uid);
    }
    for (const OwnerRef& owner : node.owners) dependents_[owner.uid].insert(uid);
    nodes_[uid] = std::move(node);
  }
  if (needs_attention) queue.Add(uid);
}

void GarbageCollector::Forget(const Value& object, WorkQueue& queue) {
  std::string uid(UidOf(object));
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
  for (const std::string& key : to_check) queue.Add(key);
}

const GcResource* GarbageCollector::ResourceOfKind(std::string_view api_version, std::string_view kind) const {
  for (const GcResource& r : resources_) {
    if (r.api_version == api_version && r.kind == kind) return &r;
  }
  // Another version of the same group: the kind is what identifies the owner.
  std::string_view group = api_version.substr(0, api_version.find('/') == std::string_view::npos ? 0 : api_version.find('/'));
  for (const GcResource& r : resources_) {
    if (r.ref.group == group && r.kind == kind) return &r;
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
    Status s = RemoveOwnerReferences(dependent, {uid});
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return RemoveFinalizer(node, "orphan");
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
  return RemoveFinalizer(node, "foregroundDeletion");
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
    Result<bool> exists = OwnerExists(node, owner);
    if (!exists.ok()) return exists.status();
    if (!*exists) gone.push_back(owner.uid);
  }
  if (gone.empty()) return Status();
  if (gone.size() == node.owners.size()) {
    if (node.deleting) return Status();
    bool has_dependents;
    {
      MutexLock lock(mu_);
      auto it = dependents_.find(uid);
      has_dependents = it != dependents_.end() && !it->second.empty();
    }
    // An owner deleted in the foreground took its dependents with it in the foreground.
    Status s = DeleteObject(node, uid, has_dependents && waiting_foreground_owner);
    return s.code() == StatusCode::kNotFound ? Status() : s;
  }
  Status s = RemoveOwnerReferences(node, gone);
  return s.code() == StatusCode::kNotFound ? Status() : s;
}

Result<bool> GarbageCollector::OwnerExists(const Node& dependent, const OwnerRef& owner) const {
  const GcResource* resource = ResourceOfKind(owner.api_version, owner.kind);
  // An owner of a kind this collector cannot see is assumed to exist: deleting on a guess
  // would lose data.
  if (!resource) return true;
  std::string_view ns = resource->ref.namespaced ? std::string_view(dependent.ns) : std::string_view();
  Result<rapidjson::Document> live = informers_->ClientFor(resource->ref).Get(ns, owner.name);
  if (!live.ok()) {
    if (live.status().code() == StatusCode::kNotFound) return false;
    return live.status();
  }
  return UidOf(*live) == owner.uid;
}

Status GarbageCollector::RemoveOwnerReferences(const Node& dependent,
                                               const std::vector<std::string>& owner_uids) const {
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

Status GarbageCollector::RemoveFinalizer(const Node& node, std::string_view finalizer) const {
  std::string patch = R"({"metadata":{"$deleteFromPrimitiveList/finalizers":[)" + Quoted(finalizer) + "]}}";
  Result<rapidjson::Document> r = informers_->ClientFor(node.resource->ref)
                                      .Patch(node.ns, node.name, client::PatchType::kStrategic, patch);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) return Status();
  return r.ok() ? Status() : r.status();
}

Status GarbageCollector::DeleteObject(const Node& node, std::string_view uid, bool foreground) const {
  std::string options = R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":")" +
                         std::string(foreground ? "Foreground" : "Background") +
                         R"(","preconditions":{"uid":)" + Quoted(uid) + "}}";
  return informers_->ClientFor(node.resource->ref).Delete(node.ns, node.name, options);
}

}  // namespace kite::controllers
