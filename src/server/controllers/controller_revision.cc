#include "src/server/controllers/controller_revision.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <memory>

#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/deployment_util.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

// A deep copy of `v` with the members of every object sorted by name.
Value SortedCopy(const Value& v, rapidjson::Document::AllocatorType& a) {
  if (v.IsObject()) {
    std::vector<const Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::stable_sort(members.begin(), members.end(), [](const Value::Member* x, const Value::Member* y) {
      return std::string_view(x->name.GetString(), x->name.GetStringLength()) <
             std::string_view(y->name.GetString(), y->name.GetStringLength());
    });
    Value out(rapidjson::kObjectType);
    for (const Value::Member* m : members) out.AddMember(Value(m->name, a), SortedCopy(m->value, a), a);
    return out;
  }
  if (v.IsArray()) {
    Value out(rapidjson::kArrayType);
    for (const Value& e : v.GetArray()) out.PushBack(SortedCopy(e, a), a);
    return out;
  }
  return Value(v, a);
}

std::optional<int64_t> CreationMillis(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  return md ? ParseTimeMillis(json::StringMember(*md, "creationTimestamp")) : std::nullopt;
}

client::ObjectPtr Share(rapidjson::Document d) { return std::make_shared<const rapidjson::Document>(std::move(d)); }

}  // namespace

rapidjson::Document TemplateRevisionData(const Value& owner) {
  rapidjson::Document data(rapidjson::kObjectType);
  auto& a = data.GetAllocator();
  const Value* spec = json::Member(owner, "spec");
  const Value* tmpl = spec ? json::Member(*spec, "template") : nullptr;
  Value t = tmpl && tmpl->IsObject() ? SortedCopy(*tmpl, a) : Value(rapidjson::kObjectType);
  json::SetStringMember(t, "$patch", "replace", a);
  // Re-sort: "$patch" sorts first, as in Go's encoding.
  Value sorted = SortedCopy(t, a);
  Value spec_copy(rapidjson::kObjectType);
  spec_copy.AddMember("template", std::move(sorted), a);
  data.AddMember("spec", std::move(spec_copy), a);
  return data;
}

rapidjson::Document RevisionTemplate(const Value& revision) {
  rapidjson::Document out(rapidjson::kObjectType);
  const Value* data = json::Member(revision, "data");
  const Value* spec = data ? json::Member(*data, "spec") : nullptr;
  const Value* tmpl = spec ? json::Member(*spec, "template") : nullptr;
  if (!tmpl || !tmpl->IsObject()) return out;
  out.CopyFrom(*tmpl, out.GetAllocator());
  json::RemoveMember(out, "$patch");
  return out;
}

std::string HashRevisionData(const Value& data, std::optional<int32_t> collision_count) {
  rapidjson::Document sorted;
  Value copy = SortedCopy(data, sorted.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  copy.Accept(writer);
  // FNV-1 (multiply, then xor), 32 bits: Go's fnv.New32.
  uint32_t h = 2166136261u;
  auto feed = [&h](std::string_view bytes) {
    for (char c : bytes) {
      h *= 16777619u;
      h ^= static_cast<unsigned char>(c);
    }
  };
  feed(std::string_view(buffer.GetString(), buffer.GetSize()));
  if (collision_count) feed(std::to_string(*collision_count));
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string digits = std::to_string(h);
  std::string out;
  for (char d : digits) out.push_back(kAlphabet[static_cast<unsigned char>(d) % (sizeof(kAlphabet) - 1)]);
  return out;
}

std::string ControllerRevisionName(std::string_view prefix, std::string_view hash) {
  if (prefix.size() > kMaxRevisionPrefix) prefix = prefix.substr(0, kMaxRevisionPrefix);
  return std::string(prefix) + "-" + std::string(hash);
}

int64_t RevisionNumber(const Value& revision) {
  const Value* n = json::Member(revision, "revision");
  return n && n->IsInt64() ? n->GetInt64() : 0;
}

bool EqualRevision(const Value& a, const Value& b) {
  const Value* da = json::Member(a, "data");
  const Value* db = json::Member(b, "data");
  Value null_value;
  return SemanticEqual(da ? *da : null_value, db ? *db : null_value);
}

std::vector<client::ObjectPtr> FindEqualRevisions(const std::vector<client::ObjectPtr>& revisions,
                                                  const Value& revision) {
  std::vector<client::ObjectPtr> out;
  for (const client::ObjectPtr& r : revisions) {
    if (EqualRevision(*r, revision)) out.push_back(r);
  }
  return out;
}

void SortRevisions(std::vector<client::ObjectPtr>& revisions) {
  std::stable_sort(revisions.begin(), revisions.end(), [](const client::ObjectPtr& x, const client::ObjectPtr& y) {
    int64_t rx = RevisionNumber(*x), ry = RevisionNumber(*y);
    if (rx != ry) return rx < ry;
    std::optional<int64_t> cx = CreationMillis(*x), cy = CreationMillis(*y);
    if (cx != cy) return cx.value_or(0) < cy.value_or(0);
    return NameOf(*x) < NameOf(*y);
  });
}

int64_t MaxRevisionNumber(const std::vector<client::ObjectPtr>& revisions) {
  int64_t max = 0;
  for (const client::ObjectPtr& r : revisions) max = std::max(max, RevisionNumber(*r));
  return max;
}

rapidjson::Document NewControllerRevision(const Value& parent, std::string_view api_version, std::string_view kind,
                                          const Value* labels, const Value& data, int64_t number,
                                          std::optional<int32_t> collision_count) {
  rapidjson::Document cr(rapidjson::kObjectType);
  auto& a = cr.GetAllocator();
  json::SetStringMember(cr, "apiVersion", "apps/v1", a);
  json::SetStringMember(cr, "kind", "ControllerRevision", a);
  std::string hash = HashRevisionData(data, collision_count);
  Value md(rapidjson::kObjectType);
  json::SetStringMember(md, "name", ControllerRevisionName(NameOf(parent), hash), a);
  json::SetStringMember(md, "namespace", NamespaceOf(parent), a);
  Value label_map(rapidjson::kObjectType);
  if (labels && labels->IsObject()) label_map.CopyFrom(*labels, a);
  json::SetStringMember(label_map, kRevisionDataHashLabel, hash, a);
  json::SetMember(md, "labels", std::move(label_map), a);
  Value refs(rapidjson::kArrayType);
  refs.PushBack(NewControllerRef(parent, api_version, kind, a), a);
  json::SetMember(md, "ownerReferences", std::move(refs), a);
  json::SetMember(cr, "metadata", std::move(md), a);
  json::SetMember(cr, "data", Value(data, a), a);
  json::SetMember(cr, "revision", Value(number), a);
  return cr;
}

Result<client::ObjectPtr> CreateControllerRevision(const client::ResourceClient& revisions,
                                                   std::string_view parent_namespace, std::string_view parent_name,
                                                   const Value& revision, int32_t* collision_count) {
  rapidjson::Document clone;
  clone.CopyFrom(revision, clone.GetAllocator());
  const Value* data = json::Member(revision, "data");
  Value null_value;
  constexpr int kMaxCollisions = 64;
  for (int attempt = 0; attempt < kMaxCollisions; ++attempt) {
    std::string name =
        ControllerRevisionName(parent_name, HashRevisionData(data ? *data : null_value, *collision_count));
    json::SetStringMember(json::EnsureObjectMember(clone, "metadata", clone.GetAllocator()), "name", name,
                          clone.GetAllocator());
    Result<rapidjson::Document> created = revisions.Create(parent_namespace, clone);
    if (created.ok()) return Share(std::move(created).value());
    if (created.status().code() != StatusCode::kAlreadyExists) return created.status();
    Result<rapidjson::Document> existing = revisions.Get(parent_namespace, name);
    if (!existing.ok()) return existing.status();
    if (EqualRevision(*existing, clone)) return Share(std::move(existing).value());
    ++*collision_count;
  }
  return Status(StatusCode::kInternal, "controller revision name collided " + std::to_string(kMaxCollisions) +
                                           " times in a row for " + std::string(parent_name));
}

Result<client::ObjectPtr> SetRevisionNumber(const client::ResourceClient& revisions, const client::ObjectPtr& revision,
                                            int64_t number) {
  if (RevisionNumber(*revision) == number) return revision;
  rapidjson::Document copy;
  copy.CopyFrom(*revision, copy.GetAllocator());
  json::SetMember(copy, "revision", Value(number), copy.GetAllocator());
  Result<rapidjson::Document> updated = revisions.Update(copy);
  if (!updated.ok()) return updated.status();
  return Share(std::move(updated).value());
}

}  // namespace kite::controllers
