#include "src/server/controllers/controller_ref.h"

#include <memory>

#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

const Value* Metadata(const Value& object) { return json::Member(object, "metadata"); }

std::string_view MetaString(const Value& object, std::string_view field) {
  const Value* md = Metadata(object);
  return md ? json::StringMember(*md, field) : std::string_view();
}

bool IsController(const Value& ref) {
  const Value* c = json::Member(ref, "controller");
  return c && c->IsBool() && c->GetBool();
}

// A mutable copy of a cached (shared, immutable) object, resourceVersion included, for a PUT.
rapidjson::Document CopyForUpdate(const Value& object) {
  rapidjson::Document copy;
  copy.CopyFrom(object, copy.GetAllocator());
  return copy;
}

}  // namespace

std::optional<OwnerReference> ControllerOf(const Value& object) {
  const Value* md = Metadata(object);
  const Value* refs = md ? json::Member(*md, "ownerReferences") : nullptr;
  if (!refs || !refs->IsArray()) return std::nullopt;
  for (const Value& ref : refs->GetArray()) {
    if (!ref.IsObject() || !IsController(ref)) continue;
    return OwnerReference{std::string(json::StringMember(ref, "apiVersion")),
                          std::string(json::StringMember(ref, "kind")),
                          std::string(json::StringMember(ref, "name")),
                          std::string(json::StringMember(ref, "uid"))};
  }
  return std::nullopt;
}

Value NewControllerRef(const Value& owner, std::string_view api_version, std::string_view kind,
                       rapidjson::Document::AllocatorType& a) {
  Value ref(rapidjson::kObjectType);
  json::SetStringMember(ref, "apiVersion", api_version, a);
  json::SetStringMember(ref, "kind", kind, a);
  json::SetStringMember(ref, "name", NameOf(owner), a);
  json::SetStringMember(ref, "uid", UidOf(owner), a);
  json::SetMember(ref, "controller", Value(true), a);
  json::SetMember(ref, "blockOwnerDeletion", Value(true), a);
  return ref;
}

std::string_view NameOf(const Value& object) { return MetaString(object, "name"); }
std::string_view NamespaceOf(const Value& object) { return MetaString(object, "namespace"); }
std::string_view UidOf(const Value& object) { return MetaString(object, "uid"); }

int64_t GenerationOf(const Value& object) {
  const Value* md = Metadata(object);
  const Value* g = md ? json::Member(*md, "generation") : nullptr;
  return g && g->IsInt64() ? g->GetInt64() : 0;
}

bool IsBeingDeleted(const Value& object) {
  const Value* md = Metadata(object);
  const Value* d = md ? json::Member(*md, "deletionTimestamp") : nullptr;
  return d && d->IsString();
}

bool HasFinalizer(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  const rapidjson::Value* f = md ? json::Member(*md, "finalizers") : nullptr;
  if (!f || !f->IsArray()) return false;
  for (const rapidjson::Value& v : f->GetArray()) {
    if (v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == name) return true;
  }
  return false;
}

const Value* LabelsOf(const Value& object) {
  const Value* md = Metadata(object);
  const Value* labels = md ? json::Member(*md, "labels") : nullptr;
  return labels && labels->IsObject() ? labels : nullptr;
}

std::optional<std::string_view> AnnotationOf(const Value& object, std::string_view key) {
  const Value* md = Metadata(object);
  const Value* annotations = md ? json::Member(*md, "annotations") : nullptr;
  const Value* v = annotations ? json::Member(*annotations, key) : nullptr;
  if (!v || !v->IsString()) return std::nullopt;
  return std::string_view(v->GetString(), v->GetStringLength());
}

Result<selection::LabelSelector> SpecSelector(const Value& controller) {
  const Value* spec = json::Member(controller, "spec");
  const Value* selector = spec ? json::Member(*spec, "selector") : nullptr;
  if (!selector) return selection::LabelSelector::Nothing();
  return selection::LabelSelector::FromJson(*selector);
}

ControllerRefManager::ControllerRefManager(const Value& controller, std::string api_version,
                                           std::string kind, selection::LabelSelector selector,
                                           const client::ResourceClient* controller_client,
                                           const client::ResourceClient* dependents)
    : controller_(controller),
      api_version_(std::move(api_version)),
      kind_(std::move(kind)),
      uid_(UidOf(controller)),
      selector_(std::move(selector)),
      controller_client_(controller_client),
      dependents_(dependents) {}

Result<std::vector<client::ObjectPtr>> ControllerRefManager::Claim(
    const std::vector<client::ObjectPtr>& candidates) {
  std::vector<client::ObjectPtr> claimed;
  Status first_error;
  auto note = [&first_error](Status s) {
    if (!s.ok() && s.code() != StatusCode::kNotFound && first_error.ok()) first_error = std::move(s);
  };
  bool controller_deleting = IsBeingDeleted(controller_);
  for (const client::ObjectPtr& object : candidates) {
    bool matches = selector_.MatchesObject(*object);
    std::optional<OwnerReference> ref = ControllerOf(*object);
    if (ref) {
      if (ref->uid != uid_) continue;  // someone else's
      if (matches) {
        claimed.push_back(object);
        continue;
      }
      if (!controller_deleting) note(Release(*object));
      continue;
    }
    // An orphan.
    if (controller_deleting || !matches || IsBeingDeleted(*object)) continue;
    if (NamespaceOf(*object) != NamespaceOf(controller_)) continue;
    Result<client::ObjectPtr> adopted = Adopt(*object);
    if (adopted.ok()) {
      claimed.push_back(*adopted);
    } else {
      note(adopted.status());
    }
  }
  if (!first_error.ok()) return first_error;
  return claimed;
}

Status ControllerRefManager::CanAdopt() {
  if (!can_adopt_) {
    // A fresh read, not the cache: a controller deleted after our list must not adopt.
    Result<rapidjson::Document> fresh =
        controller_client_->Get(NamespaceOf(controller_), NameOf(controller_));
    if (!fresh.ok()) {
      can_adopt_ = fresh.status();
    } else if (UidOf(*fresh) != uid_) {
      can_adopt_ = Status(StatusCode::kConflict,
                          "original " + kind_ + " " + std::string(NamespaceOf(controller_)) + "/" +
                              std::string(NameOf(controller_)) + " is gone: got uid " +
                              std::string(UidOf(*fresh)) + ", wanted " + uid_);
    } else if (IsBeingDeleted(*fresh)) {
      can_adopt_ = Status(StatusCode::kConflict, kind_ + " " + std::string(NamespaceOf(controller_)) +
                                                     "/" + std::string(NameOf(controller_)) +
                                                     " has just been deleted");
    } else {
      can_adopt_ = Status();
    }
  }
  return *can_adopt_;
}

Result<client::ObjectPtr> ControllerRefManager::Adopt(const Value& dependent) {
  KITE_RETURN_IF_ERROR(CanAdopt());
  rapidjson::Document copy = CopyForUpdate(dependent);
  auto& a = copy.GetAllocator();
  Value& md = json::EnsureObjectMember(copy, "metadata", a);
  Value* refs = json::MutableMember(md, "ownerReferences");
  if (!refs || !refs->IsArray()) {
    json::SetMember(md, "ownerReferences", Value(rapidjson::kArrayType), a);
    refs = json::MutableMember(md, "ownerReferences");
  }
  refs->PushBack(NewControllerRef(controller_, api_version_, kind_, a), a);
  Result<rapidjson::Document> updated = dependents_->Update(copy);
  if (!updated.ok()) return updated.status();
  return client::ObjectPtr(std::make_shared<const rapidjson::Document>(std::move(updated).value()));
}

Status ControllerRefManager::Release(const Value& dependent) {
  rapidjson::Document copy = CopyForUpdate(dependent);
  Value* md = json::MutableMember(copy, "metadata");
  Value* refs = md ? json::MutableMember(*md, "ownerReferences") : nullptr;
  if (!refs || !refs->IsArray()) return Status();
  for (auto it = refs->Begin(); it != refs->End();) {
    if (it->IsObject() && json::StringMember(*it, "uid") == uid_) {
      it = refs->Erase(it);
    } else {
      ++it;
    }
  }
  if (refs->Empty()) json::RemoveMember(*md, "ownerReferences");
  Result<rapidjson::Document> updated = dependents_->Update(copy);
  return updated.ok() ? Status() : updated.status();
}

}  // namespace kite::controllers
