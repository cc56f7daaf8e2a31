#include "src/server/apply/apply.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "src/server/apply/field_set.h"
#include "src/server/apply/managed_fields.h"
#include "src/server/apply/value_ops.h"
#include "src/server/apply/value_shape.h"
#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr size_t kMaxUpdateManagers = 10;  // Kubernetes' DefaultMaxUpdateManagers
constexpr char kLastAppliedAnnotation[] = "kubectl.kubernetes.io/last-applied-configuration";
constexpr size_t kMaxAnnotationsBytes = 256 * 1024;  // Kubernetes' TotalAnnotationSizeLimitB

std::string ManagerName(const ManagerIdentity& who) {
  return who.manager.empty() ? "unknown" : who.manager;
}

// Kubernetes' stripMeta set: never part of anyone's fields.
const FieldSet& StripSet() {
  static const FieldSet* const set = [] {
    auto* s = new FieldSet;
    s->Insert({PathElement::Field("apiVersion")});
    s->Insert({PathElement::Field("kind")});
    s->Insert({PathElement::Field("metadata")});
    for (const char* f : {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
                          "generation", "managedFields", "resourceVersion"}) {
      s->Insert({PathElement::Field("metadata"), PathElement::Field(f)});
    }
    return s;
  }();
  return *set;
}

// Drops the paths whose top-level field the write may not touch.
void KeepInScope(FieldSet& set, const ApplyScope& scope) {
  set.RetainTopLevel([&](const PathElement& e) {
    return e.kind() != PathElement::Kind::kField || scope.Allows(e.field());
  });
}

Comparison CompareInScope(const Value* before, const Value* after, const Shape& root,
                          const ApplyScope& scope, const Value* before_skipped = nullptr) {
  Comparison c = Compare(before, after, root, before_skipped);
  KeepInScope(c.added, scope);
  KeepInScope(c.modified, scope);
  KeepInScope(c.removed, scope);
  return c;
}

const Value* ManagedFieldsOf(const Value& object) {
  const Value* meta = json::Member(object, "metadata");
  return meta != nullptr ? json::Member(*meta, "managedFields") : nullptr;
}

// A copy of `object` without metadata.managedFields (the first "managedFields" of the first
// "metadata"), which is not copied at all: it is often most of the object.
Document CopyWithoutManagedFields(const Value& object) {
  Document d;
  Document::AllocatorType& a = d.GetAllocator();
  const Value* meta = object.IsObject() ? json::Member(object, "metadata") : nullptr;
  if (meta == nullptr || !meta->IsObject() || json::Member(*meta, "managedFields") == nullptr) {
    d.CopyFrom(object, a);
    return d;
  }
  d.SetObject();
  for (const auto& m : object.GetObject()) {
    if (&m.value != meta) {
      d.AddMember(Value(m.name, a), Value(m.value, a), a);
      continue;
    }
    Value copy(rapidjson::kObjectType);
    bool skipped = false;
    for (const auto& f : meta->GetObject()) {
      if (!skipped && std::string_view(f.name.GetString(), f.name.GetStringLength()) == "managedFields") {
        skipped = true;
        continue;
      }
      copy.AddMember(Value(f.name, a), Value(f.value, a), a);
    }
    d.AddMember(Value(m.name, a), copy, a);
  }
  return d;
}

void StoreManagedFields(Document& object, const ManagedFields& managed) {
  if (managed.empty()) {
    if (Value* meta = json::MutableMember(object, "metadata"); meta != nullptr && meta->IsObject()) {
      json::RemoveMember(*meta, "managedFields");
    }
    return;
  }
  Value& meta = json::EnsureObjectMember(object, "metadata", object.GetAllocator());
  json::SetMember(meta, "managedFields", EncodeManagedFields(managed, object.GetAllocator()),
                  object.GetAllocator());
}

// Records an Update by `key` from `before` (nullptr: nothing) to `after`: the others lose
// what changed or went away; the manager gains what changed, on top of what it had.
// `before_skipped` is a member of `before` compared as absent (see Compare).
void RecordUpdate(const Value* before, const Value& after, ManagedFields& managed,
                  const ManagedEntry& updater, const std::string& time, const Shape& root,
                  const ApplyScope& scope, const Value* before_skipped = nullptr) {
  Comparison c = CompareInScope(before, &after, root, scope, before_skipped);
  FieldSet changed = std::move(c.added);
  changed.InsertAll(c.modified);
  for (auto it = managed.begin(); it != managed.end();) {
    it->second.fields.EraseAll(changed);
    it->second.fields.EraseAll(c.removed);
    it = it->second.fields.empty() ? managed.erase(it) : std::next(it);
  }
  FieldSet& own = changed;
  own.EraseAll(c.removed);
  own.EraseAll(StripSet());
  if (own.empty()) return;  // nothing changed: the entry and its time stay as they were
  const std::string key = IdentityKey(updater);
  if (auto previous = managed.find(key); previous != managed.end()) {
    previous->second.fields.InsertAll(own);
    previous->second.time = time;
    return;
  }
  ManagedEntry entry = updater;
  entry.fields = std::move(own);
  entry.time = time;
  managed[key] = std::move(entry);
}

// Removes what `applier` applied last time (`last`) and no manager owns any more.
void Prune(Value& merged, const ManagedFields& managed, const FieldSet& last, const Shape& root) {
  FieldSet owned;
  for (const auto& [key, e] : managed) owned.InsertAll(e.fields);
  owned = WithNamedFieldParents(owned, root);
  FieldSet remove = WithNamedFieldParents(last, root);
  remove.EraseAll(owned);
  // Type and identity fields are never pruned, whoever claimed them.
  remove.EraseAll(StripSet());
  remove.RetainTopLevel([](const PathElement& e) { return e.field() != "apiVersion" && e.field() != "kind"; });
  RemovePaths(merged, root, remove);
}

struct ApplyPass {
  Document object;
  ManagedFields managed;
  std::vector<FieldConflict> conflicts;
};

// One run of the apply, from the live object (nullptr: created by this apply; `live_doc` is
// then {}), its managed fields and the checked configuration.
ApplyPass ApplyOnce(const Value* live, const Value& live_doc, const Value& config,
                    const FieldSet& config_set, ManagedFields managed, const ManagerIdentity& who,
                    bool force, const Shape& root, const ApplyScope& scope) {
  ApplyPass pass;
  const std::string name = ManagerName(who);
  if (managed.empty() && live != nullptr) {
    // Fields written before anyone tracked them belong to "before-first-apply".
    ManagedEntry before{"before-first-apply", kOperationUpdate, who.api_version, who.subresource, {}, {}};
    RecordUpdate(nullptr, live_doc, managed, before, who.time, root, scope);
  }

  const Value* base = live != nullptr ? &live_doc : nullptr;  // without managedFields
  Value merged = Merge(base, config, root, pass.object.GetAllocator());
  const std::string applier = IdentityKey(name, kOperationApply, who.api_version, who.subresource);
  std::optional<FieldSet> last;
  std::optional<std::string> last_time;
  if (auto it = managed.find(applier); it != managed.end()) {
    last = it->second.fields;
    KeepInScope(*last, scope);
    last_time = it->second.time;
  }
  managed[applier] = ManagedEntry{name, kOperationApply, who.api_version, who.subresource, last_time,
                                  config_set};
  if (last && !last->empty()) Prune(merged, managed, *last, root);

  Comparison c = CompareInScope(base, &merged, root, scope);
  FieldSet changed = c.Changed();
  for (const auto& [key, e] : managed) {
    if (key == applier) continue;
    const ManagedEntry& owner = e;  // a structured binding cannot be captured
    const FieldSet conflict = owner.fields.Intersection(changed).Leaves();
    conflict.ForEach([&](const Path& p) {
      pass.conflicts.push_back({owner.manager, owner.api_version, PathString(p), owner.operation, owner.subresource});
    });
  }
  if (!force && !pass.conflicts.empty()) return pass;  // std::map order: by owner, then path
  pass.conflicts.clear();

  for (auto it = managed.begin(); it != managed.end();) {
    ManagedEntry& e = it->second;
    if (it->first == applier) {
      e.fields.EraseAll(StripSet());
    } else {
      e.fields.EraseAll(changed);
      e.fields.EraseAll(c.removed);
    }
    it = e.fields.empty() ? managed.erase(it) : std::next(it);
  }
  const bool unchanged = live != nullptr && JsonEqual(live_doc, merged);
  if (unchanged) {
    pass.object.CopyFrom(live_doc, pass.object.GetAllocator());
  } else {
    static_cast<Value&>(pass.object).Swap(merged);  // allocated by pass.object
    if (auto it = managed.find(applier); it != managed.end()) it->second.time = who.time;
  }
  pass.managed = std::move(managed);
  return pass;
}

const Value* Annotation(const Value& object, std::string_view key) {
  const Value* meta = json::Member(object, "metadata");
  const Value* annotations = meta != nullptr ? json::Member(*meta, "annotations") : nullptr;
  return annotations != nullptr ? json::Member(*annotations, key) : nullptr;
}

// The conflicts a "kubectl" apply may override: fields of the client-side apply annotation
// whose live values are still the annotation's (Kubernetes' lastAppliedManager).
FieldSet AllowedByLastApplied(const Value& live, const Shape& root, const std::string& api_version) {
  const Value* annotation = Annotation(live, kLastAppliedAnnotation);
  if (annotation == nullptr || !annotation->IsString() || annotation->GetStringLength() == 0) return {};
  Result<Document> last = json::ParseJsonObject({annotation->GetString(), annotation->GetStringLength()});
  if (!last.ok() || JsonDepth(*last) > FieldSet::kMaxDepth) return {};
  if (json::StringMember(*last, "apiVersion") != api_version) return {};
  Result<FieldSet> set = AppliedFieldSet(*last, root);
  if (!set.ok()) return {};
  Comparison c = Compare(&*last, &live, root);
  return set->Difference(c.modified).Difference(c.added).Difference(c.removed);
}

// kubectl's server-side apply keeps an existing client-side apply annotation current
// (Kubernetes' lastAppliedUpdater): the configuration, without that annotation, as Go's
// encoding/json writes it (keys sorted, a trailing newline).
void SyncLastApplied(Document& object, const Value& applied) {
  const Value* current = Annotation(object, kLastAppliedAnnotation);
  if (current == nullptr || !current->IsString() || current->GetStringLength() == 0) return;
  Document config;
  config.CopyFrom(applied, config.GetAllocator());
  if (Value* meta = json::MutableMember(config, "metadata"); meta != nullptr && meta->IsObject()) {
    if (Value* annotations = json::MutableMember(*meta, "annotations");
        annotations != nullptr && annotations->IsObject()) {
      json::RemoveMember(*annotations, kLastAppliedAnnotation);
    }
  }
  std::string value = PathValue::FromJson(config).json() + "\n";
  Value& annotations = json::EnsureObjectMember(json::EnsureObjectMember(object, "metadata", object.GetAllocator()),
                                                "annotations", object.GetAllocator());
  size_t total = value.size();
  for (const auto& m : annotations.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == kLastAppliedAnnotation) continue;
    total += key.size() + (m.value.IsString() ? m.value.GetStringLength() : 0);
  }
  total += sizeof(kLastAppliedAnnotation) - 1;
  if (total > kMaxAnnotationsBytes) {
    json::RemoveMember(annotations, kLastAppliedAnnotation);  // as Kubernetes: too big, dropped
    return;
  }
  json::SetStringMember(annotations, kLastAppliedAnnotation, value, object.GetAllocator());
}

// metadata.managedFields: [] or [{}] ask for the list to be reset.
bool IsReset(const Value& managed_fields) {
  if (!managed_fields.IsArray()) return false;
  if (managed_fields.Empty()) return true;
  if (managed_fields.Size() != 1 || !managed_fields[0].IsObject()) return false;
  for (const auto& m : managed_fields[0].GetObject()) {
    bool zero = m.value.IsNull() || (m.value.IsString() && m.value.GetStringLength() == 0);
    if (!zero) return false;
  }
  return true;
}

}  // namespace

bool ApplyScope::Allows(std::string_view name) const {
  if (status_subresource) {
    return name == "status" || name == "metadata" || name == "apiVersion" || name == "kind";
  }
  return !(has_status_subresource && name == "status");
}

Result<ApplyOutcome> Apply(const Value* live, const Value& applied, const ManagerIdentity& who,
                           bool force, const patch::StrategicSchema* schema, const ApplyScope& scope) {
  if (!applied.IsObject()) {
    return InvalidArgumentError("the applied configuration must be an object, not a " +
                                std::string(JsonKindName(applied)));
  }
  if (JsonDepth(applied) > FieldSet::kMaxDepth) {
    return InvalidArgumentError("the applied configuration is nested too deeply (more than " +
                                std::to_string(FieldSet::kMaxDepth) + " levels)");
  }
  if (const Value* meta = json::Member(applied, "metadata")) {
    if (!meta->IsObject() && !meta->IsNull()) {
      return InvalidArgumentError(".metadata: expected map, got " + std::string(JsonKindName(*meta)));
    }
    if (const Value* mf = json::Member(*meta, "managedFields"); mf != nullptr && !mf->IsNull()) {
      return InvalidArgumentError("metadata.managedFields must be nil");
    }
  }
  if (live != nullptr && (!live->IsObject() || JsonDepth(*live) > FieldSet::kMaxDepth)) {
    return InternalError("the live object is not an object of at most " +
                         std::to_string(FieldSet::kMaxDepth) + " levels");
  }

  Document config;
  config.CopyFrom(applied, config.GetAllocator());
  for (auto it = config.MemberBegin(); it != config.MemberEnd();) {
    if (scope.Allows({it->name.GetString(), it->name.GetStringLength()})) {
      ++it;
    } else {
      it = config.EraseMember(it);
    }
  }
  const Shape root = RootShape(schema);
  Result<FieldSet> config_set = AppliedFieldSet(config, root);
  if (!config_set.ok()) return config_set.status();

  Document live_doc;
  ManagedFields managed;
  if (live != nullptr) {
    live_doc = CopyWithoutManagedFields(*live);
    if (const Value* mf = ManagedFieldsOf(*live); mf != nullptr && !mf->IsNull()) {
      Result<ManagedFields> decoded = DecodeManagedFields(*mf);
      if (!decoded.ok()) {
        return InternalError("failed to decode managed fields: " + decoded.status().message());
      }
      managed = std::move(decoded).value();
    }
  } else {
    live_doc.SetObject();
  }

  ApplyPass pass = ApplyOnce(live, live_doc, config, *config_set, managed, who, force, root, scope);
  if (!pass.conflicts.empty() && ManagerName(who) == "kubectl" && live != nullptr) {
    std::set<std::string> allowed;
    AllowedByLastApplied(live_doc, root, who.api_version).ForEach([&](const Path& p) {
      allowed.insert(PathString(p));
    });
    std::vector<FieldConflict> remaining;
    for (const FieldConflict& c : pass.conflicts) {
      if (!allowed.count(c.field)) remaining.push_back(c);
    }
    if (remaining.empty()) {
      pass = ApplyOnce(live, live_doc, config, *config_set, managed, who, /*force=*/true, root, scope);
    } else {
      pass.conflicts = std::move(remaining);
    }
  }
  ApplyOutcome outcome;
  if (!pass.conflicts.empty()) {
    outcome.conflicts = std::move(pass.conflicts);
    outcome.object.SetObject();
    return outcome;
  }
  if (ManagerName(who) == "kubectl") SyncLastApplied(pass.object, applied);
  StoreManagedFields(pass.object, pass.managed);
  outcome.object.Swap(pass.object);
  return outcome;
}

Status TrackUpdate(const Value* before, Document& after, const ManagerIdentity& who,
                   const patch::StrategicSchema* schema, const ApplyScope& scope) {
  if (!after.IsObject()) return InvalidArgumentError("the object must be a JSON object");
  if (JsonDepth(after) > FieldSet::kMaxDepth ||
      (before != nullptr && JsonDepth(*before) > FieldSet::kMaxDepth)) {
    return InvalidArgumentError("the object is nested too deeply (more than " +
                                std::to_string(FieldSet::kMaxDepth) + " levels)");
  }
  if (before != nullptr && !before->IsObject()) before = nullptr;

  // Decoded only when needed: most writes send back the managedFields they read.
  auto before_managed = [&]() -> ManagedFields {
    const Value* mf = before != nullptr ? ManagedFieldsOf(*before) : nullptr;
    if (mf == nullptr || mf->IsNull()) return {};
    Result<ManagedFields> decoded = DecodeManagedFields(*mf);
    return decoded.ok() ? std::move(decoded).value() : ManagedFields{};
  };
  ManagedFields managed;
  const Value* sent = ManagedFieldsOf(after);
  if (!who.subresource.empty()) {
    managed = before_managed();  // a subresource cannot set managedFields
  } else if (sent != nullptr && IsReset(*sent)) {
    // Reset: start from nothing.
  } else {
    Result<ManagedFields> decoded =
        sent != nullptr && !sent->IsNull() ? DecodeManagedFields(*sent) : Result<ManagedFields>(ManagedFields{});
    if (decoded.ok() && !decoded->empty()) {
      managed = std::move(decoded).value();
    } else {
      // Clients that do not know the field must not wipe it.
      managed = before_managed();
    }
  }
  if (Value* meta = json::MutableMember(after, "metadata"); meta != nullptr && meta->IsObject()) {
    json::RemoveMember(*meta, "managedFields");
  }
  const bool exists = before != nullptr && [&] {
    const Value* meta = json::Member(*before, "metadata");
    return meta != nullptr && !json::StringMember(*meta, "uid").empty();
  }();
  if (managed.empty() && exists) return Status::Ok();  // an untracked object stays untracked

  const Shape root = RootShape(schema);
  ManagedEntry updater{ManagerName(who), kOperationUpdate, who.api_version, who.subresource, {}, {}};
  // `after` no longer carries managedFields; the comparison passes over the stored ones.
  RecordUpdate(before, after, managed, updater, who.time, root, scope,
               before != nullptr ? ManagedFieldsOf(*before) : nullptr);
  CapUpdateManagers(managed, kMaxUpdateManagers);
  StoreManagedFields(after, managed);
  return Status::Ok();
}

namespace {

std::string PrintOwner(const FieldConflict& c) {
  std::string out = GoQuote(c.manager);
  if (!c.subresource.empty()) out += " with subresource " + GoQuote(c.subresource);
  if (c.operation == kOperationUpdate) out += " using " + c.api_version;
  return out;
}

}  // namespace

std::string ConflictMessage(const std::vector<FieldConflict>& conflicts) {
  if (conflicts.size() == 1) {
    return "Apply failed with 1 conflict: conflict with " + PrintOwner(conflicts[0]) + ": " +
           conflicts[0].field;
  }
  // Grouped by owner, owners in the order of their identity keys, as Kubernetes sorts them.
  std::map<std::string, std::pair<const FieldConflict*, std::vector<std::string>>> by_owner;
  for (const FieldConflict& c : conflicts) {
    auto& group = by_owner[IdentityKey(c.manager, c.operation, c.api_version, c.subresource)];
    if (group.first == nullptr) group.first = &c;
    group.second.push_back(c.field);
  }
  std::string lines;
  for (const auto& [key, group] : by_owner) {
    if (!lines.empty()) lines += "\n";
    lines += "conflicts with " + PrintOwner(*group.first) + ":";
    for (const std::string& field : group.second) lines += "\n- " + field;
  }
  return "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: " + lines;
}

validation::StatusCause ConflictCause(const FieldConflict& conflict) {
  return {"FieldManagerConflict", "conflict with " + PrintOwner(conflict), conflict.field};
}

}  // namespace kite::apply
