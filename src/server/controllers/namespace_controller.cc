#include "src/server/controllers/namespace_controller.h"

#include <algorithm>
#include <map>
#include <set>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/custom_resource_ref.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"
#include "src/server/resources/resource_table.h"

namespace kite::controllers {

using rapidjson::Document;
using rapidjson::Value;

namespace {

// Assumed time for finalizers on remaining objects to finish (Kubernetes'
// finalizerEstimateSeconds).
constexpr int64_t kFinalizerEstimateSeconds = 15;

struct Deletable {
  client::ResourceRef ref;
  bool deletecollection = true;
};

// Built-in namespaced resources that can be deleted, one version each.
const std::vector<Deletable>& BuiltinDeletables() {
  static const std::vector<Deletable> all = [] {
    std::vector<Deletable> out;
    std::set<std::pair<std::string, std::string>> seen;
    const resources::ResourceTable table = resources::BuiltinResources();
    for (const resources::ResourceInfo& info : table.All()) {
      if (!info.namespaced || !info.HasVerb("delete") || !info.HasVerb("list")) continue;
      if (!seen.insert({info.group, info.resource}).second) continue;
      out.push_back({{info.group, info.version, info.resource, true}, info.HasVerb("deletecollection")});
    }
    return out;
  }();
  return all;
}

struct NamespaceCondition {
  const char* type;
  const char* ok_reason;
  const char* ok_message;
};

// The conditions the deleter maintains, in Kubernetes' order, with their "all is well" form.
constexpr NamespaceCondition kConditionTypes[] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"},
    {"NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"},
    {"NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
};

void AddCondition(Document& list, std::string_view type, std::string_view reason, const std::string& message) {
  auto& a = list.GetAllocator();
  Value c(rapidjson::kObjectType);
  json::SetStringMember(c, "type", type, a);
  json::SetStringMember(c, "status", "True", a);
  json::SetStringMember(c, "reason", reason, a);
  json::SetStringMember(c, "message", message, a);
  list.PushBack(std::move(c), a);
}

// Kubernetes' updateConditions: every maintained type gets its new condition, or the "ok"
// one; the transition time moves only when the status does. True when anything changed.
bool UpdateConditions(Document& ns, const Document& fresh, int64_t now_ms) {
  auto& a = ns.GetAllocator();
  Value& status = json::EnsureObjectMember(ns, "status", a);
  Value* list = json::MutableMember(status, "conditions");
  if (!list || !list->IsArray()) {
    json::SetMember(status, "conditions", Value(rapidjson::kArrayType), a);
    list = json::MutableMember(status, "conditions");
  }
  std::string now = FormatRfc3339Seconds(now_ms);
  bool changed = false;
  for (const NamespaceCondition& kind : kConditionTypes) {
    std::string want_status = "False", want_reason = kind.ok_reason, want_message = kind.ok_message;
    for (const Value& c : fresh.GetArray()) {
      if (json::StringMember(c, "type") != kind.type) continue;
      want_status = json::StringMember(c, "status");
      want_reason = json::StringMember(c, "reason");
      want_message = json::StringMember(c, "message");
    }
    Value* old = nullptr;
    for (Value& c : list->GetArray()) {
      if (json::StringMember(c, "type") == kind.type) old = &c;
    }
    if (!old) {
      Value c(rapidjson::kObjectType);
      json::SetStringMember(c, "type", kind.type, a);
      json::SetStringMember(c, "status", want_status, a);
      json::SetStringMember(c, "lastTransitionTime", now, a);
      json::SetStringMember(c, "reason", want_reason, a);
      json::SetStringMember(c, "message", want_message, a);
      list->PushBack(std::move(c), a);
      changed = true;
      continue;
    }
    if (json::StringMember(*old, "status") == want_status && json::StringMember(*old, "reason") == want_reason &&
        json::StringMember(*old, "message") == want_message) {
      continue;
    }
    if (json::StringMember(*old, "status") != want_status) json::SetStringMember(*old, "lastTransitionTime", now, a);
    json::SetStringMember(*old, "status", want_status, a);
    json::SetStringMember(*old, "reason", want_reason, a);
    json::SetStringMember(*old, "message", want_message, a);
    changed = true;
  }
  return changed;
}

std::string Join(std::vector<std::string> parts) {
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

struct NamespaceController::Totals {
  std::map<std::string, int64_t> remaining;   // "pods." → count
  std::map<std::string, int64_t> finalizers;  // finalizer → count
};

void NamespaceController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  informers_ = &informers;
  namespaces_ = &informers.For(client::kNamespaces);
  crds_ = &informers.For(client::kCustomResourceDefinitions);
  namespace_client_.emplace(informers.ClientFor(client::kNamespaces));
  auto enqueue = [this](const client::ObjectPtr& ns) {
    if (IsBeingDeleted(*ns)) queue_->Add(std::string(NameOf(*ns)));
  };
  namespaces_->AddHandlers({
      .on_add = enqueue,
      .on_update = [enqueue](const client::ObjectPtr&, const client::ObjectPtr& ns) { enqueue(ns); },
      .on_delete = nullptr,
  });
}

std::vector<client::ResourceRef> NamespaceController::DeletableResources() const {
  std::vector<client::ResourceRef> out;
  for (const Deletable& d : BuiltinDeletables()) out.push_back(d.ref);
  for (const client::ObjectPtr& crd : crds_->List()) {
    if (std::optional<client::ResourceRef> ref = CustomResourceOf(*crd)) out.push_back(*ref);
  }
  return out;
}

Status NamespaceController::Reconcile(const std::string& name) {
  // Several writers change a terminating namespace: start from the live object.
  Result<Document> ns = namespace_client_->Get("", name);
  if (!ns.ok()) return ns.status().code() == StatusCode::kNotFound ? Status() : ns.status();
  if (!IsBeingDeleted(*ns)) return Status();
  const Value* status = json::Member(*ns, "status");
  if (!status || json::StringMember(*status, "phase") != "Terminating") {
    auto& a = ns->GetAllocator();
    json::SetStringMember(json::EnsureObjectMember(*ns, "status", a), "phase", "Terminating", a);
    Result<Document> written = namespace_client_->UpdateStatus(*ns);
    if (!written.ok()) return written.status().code() == StatusCode::kNotFound ? Status() : written.status();
    ns = std::move(written);
  }
  const Value* spec = json::Member(*ns, "spec");
  const Value* finalizers = spec ? json::Member(*spec, "finalizers") : nullptr;
  if (!finalizers || !finalizers->IsArray() || finalizers->Empty()) return Status();  // finalized already

  Document conditions(rapidjson::kArrayType);
  Result<int64_t> estimate = DeleteAllContent(*ns, conditions);
  if (UpdateConditions(*ns, conditions, options_.clock->NowMillis())) {
    Result<Document> written = namespace_client_->UpdateStatus(*ns);
    if (!written.ok()) return written.status().code() == StatusCode::kNotFound ? Status() : written.status();
    ns = std::move(written);
  }
  if (!estimate.ok()) return estimate.status();
  if (*estimate > 0) {
    int64_t wait_ms = std::min<int64_t>(std::max<int64_t>(*estimate * 500, 1000), options_.max_recheck.count());
    queue_->AddAfter(name, std::chrono::milliseconds(wait_ms));
    return Status();
  }
  return Finalize(*ns);
}

Result<int64_t> NamespaceController::DeleteAllContent(const Value& ns, Document& conditions) {
  Totals totals;
  std::vector<std::string> errors;
  int64_t estimate = 0;
  for (const client::ResourceRef& ref : DeletableResources()) {
    Result<int64_t> r = DeleteResourceContent(ref, ns, totals);
    if (!r.ok()) {
      errors.push_back(r.status().message());
      continue;
    }
    estimate = std::max(estimate, *r);
  }
  if (!totals.remaining.empty()) {
    std::vector<std::string> parts;
    for (const auto& [resource, n] : totals.remaining) parts.push_back(resource + " has " + std::to_string(n) + " resource instances");
    AddCondition(conditions, "NamespaceContentRemaining", "SomeResourcesRemain", "Some resources are remaining: " + Join(parts));
  }
  if (!totals.finalizers.empty()) {
    std::vector<std::string> parts;
    for (const auto& [finalizer, n] : totals.finalizers) parts.push_back(finalizer + " in " + std::to_string(n) + " resource instances");
    AddCondition(conditions, "NamespaceFinalizersRemaining", "SomeFinalizersRemain",
                 "Some content in the namespace has finalizers remaining: " + Join(parts));
  }
  if (!errors.empty()) {
    std::string message = "Failed to delete all resource types, " + std::to_string(errors.size()) + " remaining: " + Join(errors);
    AddCondition(conditions, "NamespaceDeletionContentFailure", "ContentDeletionFailed", message);
    return Status(StatusCode::kUnavailable, message);
  }
  return estimate;
}

Result<int64_t> NamespaceController::DeleteResourceContent(const client::ResourceRef& ref, const Value& ns,
                                                           Totals& totals) {
  std::string ns_name(NameOf(ns));
  client::ResourceClient objects = informers_->ClientFor(ref);
  bool collection = true;
  for (const Deletable& d : BuiltinDeletables()) {
    if (d.ref.group == ref.group && d.ref.resource == ref.resource) collection = d.deletecollection;
  }
  // Background propagation, as Kubernetes: the garbage collector must not hold the
  // namespace's content with orphan finalizers.
  if (collection) {
    Status deleted = objects.DeleteCollection(ns_name);
    if (!deleted.ok()) {
      // Not served (a CRD just went away): nothing of it is left to delete.
      if (deleted.code() == StatusCode::kNotFound) return int64_t{0};
      return deleted;
    }
  }
  Result<Document> list = objects.List(ns_name);
  if (!list.ok()) return list.status().code() == StatusCode::kNotFound ? Result<int64_t>(int64_t{0}) : list.status();
  const Value* items = json::Member(*list, "items");
  if (!collection && items && items->IsArray()) {
    for (const Value& item : items->GetArray()) {
      if (IsBeingDeleted(item)) continue;
      Status s = objects.Delete(ns_name, NameOf(item), R"({"propagationPolicy":"Background"})");
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    list = objects.List(ns_name);
    if (!list.ok()) return list.status();
    items = json::Member(*list, "items");
  }
  int64_t remaining = items && items->IsArray() ? items->Size() : 0;
  if (remaining == 0) return int64_t{0};

  std::string display = ref.resource + "." + ref.group;
  totals.remaining[display] += remaining;
  // Pods left are being stopped on their nodes: wait for the longest grace period left.
  int64_t estimate = 0;
  if (ref.group.empty() && ref.resource == "pods") {
    for (const Value& pod : items->GetArray()) {
      const Value* status = json::Member(pod, "status");
      std::string_view phase = status ? json::StringMember(*status, "phase") : "";
      if (phase == "Succeeded" || phase == "Failed") continue;
      const Value* spec = json::Member(pod, "spec");
      const Value* grace = spec ? json::Member(*spec, "terminationGracePeriodSeconds") : nullptr;
      if (grace && grace->IsInt64()) estimate = std::max(estimate, grace->GetInt64());
    }
    const Value* md = json::Member(ns, "metadata");
    std::optional<int64_t> deleted_at = md ? ParseTimeMillis(json::StringMember(*md, "deletionTimestamp")) : std::nullopt;
    int64_t elapsed = deleted_at ? options_.clock->NowMillis() - *deleted_at : 0;
    estimate = std::max<int64_t>(0, (estimate * 1000 - elapsed) / 1000);
  }
  std::map<std::string, int64_t> finalizers;
  for (const Value& item : items->GetArray()) {
    const Value* md = json::Member(item, "metadata");
    const Value* f = md ? json::Member(*md, "finalizers") : nullptr;
    if (!f || !f->IsArray()) continue;
    for (const Value& name : f->GetArray()) {
      if (name.IsString()) ++finalizers[std::string(name.GetString(), name.GetStringLength())];
    }
  }
  for (const auto& [name, n] : finalizers) totals.finalizers[name] += n;
  if (estimate > 0) return estimate;
  // Objects held by finalizers are expected to go once their owners finish.
  if (!finalizers.empty()) return kFinalizerEstimateSeconds;
  // Pods still stopping past their grace period: their node will report them gone soon.
  if (ref.group.empty() && ref.resource == "pods") {
    bool all_terminating = true;
    for (const Value& pod : items->GetArray()) all_terminating = all_terminating && IsBeingDeleted(pod);
    if (all_terminating) return int64_t{10};
  }
  return Status(StatusCode::kUnavailable, "unexpected items still remain in namespace: " + ns_name +
                                              " for gvr: " + ref.group + "/" + ref.version + ", Resource=" + ref.resource);
}

Status NamespaceController::Finalize(const Value& ns) {
  const Value* spec = json::Member(ns, "spec");
  const Value* finalizers = spec ? json::Member(*spec, "finalizers") : nullptr;
  std::set<std::string> keep;
  if (finalizers && finalizers->IsArray()) {
    for (const Value& f : finalizers->GetArray()) {
      if (f.IsString() && std::string_view(f.GetString(), f.GetStringLength()) != kNamespaceFinalizer) {
        keep.emplace(f.GetString(), f.GetStringLength());
      }
    }
  }
  Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  // The resourceVersion makes this conditional: a namespace changed meanwhile is looked at again.
  const Value* md = json::Member(ns, "metadata");
  Value& pmd = json::EnsureObjectMember(patch, "metadata", a);
  json::SetStringMember(pmd, "resourceVersion", md ? json::StringMember(*md, "resourceVersion") : "", a);
  Value list(rapidjson::kArrayType);
  for (const std::string& f : keep) list.PushBack(Value(f.c_str(), static_cast<rapidjson::SizeType>(f.size()), a), a);
  json::SetMember(json::EnsureObjectMember(patch, "spec", a), "finalizers", std::move(list), a);
  Result<Document> done =
      namespace_client_->Patch("", NameOf(ns), client::PatchType::kMerge, json::ToJson(patch), "finalize");
  if (!done.ok() && done.status().code() != StatusCode::kNotFound) return done.status();
  return Status();
}

}  // namespace kite::controllers
