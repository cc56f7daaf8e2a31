#include "src/server/openapi/crd_schema.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "src/server/openapi/json_writing.h"

namespace kite::openapi {
namespace {

using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// Keys copied as written (when not null or an empty string).
constexpr std::string_view kCopied[] = {
    "default",
    "description",
    "enum",
    "externalDocs",
    "format",
    "maxItems",
    "maxLength",
    "maxProperties",
    "maximum",
    "minItems",
    "minLength",
    "minProperties",
    "minimum",
    "multipleOf",
    "pattern",
    "title",
    "type",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
};
// Flags written only when true.
constexpr std::string_view kFlags[] = {
    "exclusiveMaximum",
    "exclusiveMinimum",
    "nullable",
    "uniqueItems",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
};
// Lists written only when not empty.
constexpr std::string_view kLists[] = {"required", "x-kubernetes-list-map-keys",
                                       "x-kubernetes-validations"};

template <size_t N>
bool In(const std::string_view (&keys)[N], std::string_view key) {
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

bool IsTrue(const Value& schema, const char* key) {
  auto it = schema.FindMember(key);
  return it != schema.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

bool TypeIs(const Value& schema, std::string_view type) {
  auto it = schema.FindMember("type");
  return it != schema.MemberEnd() && it->value.IsString() && it->value.GetString() == type;
}

Value TypeOnly(const char* type, Allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("type", Value(rapidjson::StringRef(type)), a);
  return v;
}

// The keys of a structural schema that Kubernetes keeps, recursively. `in` is a schema
// object; anything else gives an empty schema.
Value Keep(const Value& in, Allocator& a) {
  Value out(rapidjson::kObjectType);
  if (!in.IsObject()) return out;
  for (const auto& m : in.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    const Value& v = m.value;
    Value kept;
    if (key == "properties") {
      if (!v.IsObject()) continue;
      kept.SetObject();
      for (const auto& p : v.GetObject()) kept.AddMember(Value(p.name, a), Keep(p.value, a), a);
    } else if (key == "items") {
      if (v.IsObject()) {
        kept = Keep(v, a);
      } else if (v.IsArray()) {  // not structural; kept as the list it is
        kept.SetArray();
        for (const Value& item : v.GetArray()) kept.PushBack(Keep(item, a), a);
      } else {
        continue;
      }
    } else if (key == "additionalProperties") {
      if (v.IsBool()) {
        kept.SetBool(v.GetBool());
      } else if (v.IsObject()) {
        kept = Keep(v, a);
      } else {
        continue;
      }
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      if (!v.IsArray() || v.Empty()) continue;
      kept.SetArray();
      for (const Value& item : v.GetArray()) kept.PushBack(Keep(item, a), a);
    } else if (key == "not") {
      if (!v.IsObject()) continue;
      kept = Keep(v, a);
    } else if (In(kFlags, key)) {
      if (!v.IsBool() || !v.GetBool()) continue;
      kept.SetBool(true);
    } else if (In(kLists, key)) {
      if (!v.IsArray() || v.Empty()) continue;
      kept.CopyFrom(v, a);
    } else if (In(kCopied, key)) {
      if (v.IsNull() || (v.IsString() && v.GetStringLength() == 0)) continue;
      kept.CopyFrom(v, a);
    } else {
      continue;
    }
    out.AddMember(Value(m.name, a), kept, a);
  }
  return out;
}

// Applies `f` to `schema` and then to every structural schema under it: property values,
// items and additionalProperties (not the schemas under allOf/anyOf/oneOf/not). `f` runs on
// a parent before its children, and sees what it left of them.
template <class F>
void VisitStructural(Value& schema, F&& f) {
  if (!schema.IsObject()) return;
  f(schema);
  if (auto it = schema.FindMember("properties"); it != schema.MemberEnd() && it->value.IsObject()) {
    for (auto& p : it->value.GetObject()) VisitStructural(p.value, f);
  }
  if (auto it = schema.FindMember("items"); it != schema.MemberEnd()) {
    if (it->value.IsArray()) {
      for (Value& item : it->value.GetArray()) VisitStructural(item, f);
    } else {
      VisitStructural(it->value, f);
    }
  }
  if (auto it = schema.FindMember("additionalProperties"); it != schema.MemberEnd()) {
    VisitStructural(it->value, f);
  }
}

// Whether `list` is exactly [{type: integer}, {type: string}].
bool IsIntOrStringAnyOf(const Value& list) {
  if (!list.IsArray() || list.Size() != 2) return false;
  auto only_type = [](const Value& s, std::string_view type) {
    return s.IsObject() && s.MemberCount() == 1 && TypeIs(s, type);
  };
  return only_type(list[0], "integer") && only_type(list[1], "string");
}

Value IntOrStringAnyOf(Allocator& a) {
  Value list(rapidjson::kArrayType);
  list.PushBack(TypeOnly("integer", a), a);
  list.PushBack(TypeOnly("string", a), a);
  return list;
}

// x-kubernetes-int-or-string spelled out as the anyOf it means.
void Unfold(Value& schema, Allocator& a) {
  if (!IsTrue(schema, "x-kubernetes-int-or-string")) return;
  auto any_of = schema.FindMember("anyOf");
  auto all_of = schema.FindMember("allOf");
  if (any_of != schema.MemberEnd() && IsIntOrStringAnyOf(any_of->value)) return;
  if (all_of != schema.MemberEnd() && all_of->value.IsArray() && !all_of->value.Empty() &&
      all_of->value[0].IsObject()) {
    auto first = all_of->value[0].FindMember("anyOf");
    if (first != all_of->value[0].MemberEnd() && IsIntOrStringAnyOf(first->value)) return;
  }
  if (any_of == schema.MemberEnd()) {
    schema.AddMember("anyOf", IntOrStringAnyOf(a), a);
    return;
  }
  Value first(rapidjson::kObjectType);
  first.AddMember("anyOf", IntOrStringAnyOf(a), a);
  Value list(rapidjson::kArrayType);
  list.PushBack(first, a);
  if (all_of != schema.MemberEnd() && all_of->value.IsArray()) {
    for (Value& item : all_of->value.GetArray()) list.PushBack(item, a);  // moves
    all_of->value = list;
  } else {
    schema.AddMember("allOf", list, a);
  }
}

// Removes `name` from the "required" list of `schema` (and the list when it empties).
void Unrequire(Value& schema, std::string_view name) {
  auto it = schema.FindMember("required");
  if (it == schema.MemberEnd() || !it->value.IsArray()) return;
  Value& list = it->value;
  for (Value* item = list.Begin(); item != list.End();) {
    if (item->IsString() && item->GetString() == name) {
      item = list.Erase(item);
    } else {
      ++item;
    }
  }
  if (list.Empty()) schema.RemoveMember("required");
}

// What Swagger 2.0 (and kubectl's v2 code) can take, for one structural schema.
void ToSwagger2(Value& schema) {
  for (const char* key : {"allOf", "oneOf", "anyOf", "not"}) schema.RemoveMember(key);
  const bool preserve = IsTrue(schema, "x-kubernetes-preserve-unknown-fields");
  if (IsTrue(schema, "nullable")) {
    // No "null" type in Swagger 2.0: an untyped value; kubectl breaks on untyped values
    // with items or properties.
    schema.RemoveMember("type");
    schema.RemoveMember("nullable");
    schema.RemoveMember("items");
    schema.RemoveMember("properties");
  }
  if (preserve) {
    // kubectl would reject the unknown fields such a value is meant to keep.
    schema.RemoveMember("items");
    schema.RemoveMember("properties");
  }
  if (!schema.HasMember("items") && TypeIs(schema, "array")) schema.RemoveMember("type");
  if (preserve && TypeIs(schema, "object")) schema.RemoveMember("type");
  if (auto it = schema.FindMember("properties"); it != schema.MemberEnd() && it->value.IsObject()) {
    std::vector<std::string> nullable;
    for (const auto& p : it->value.GetObject()) {
      if (p.value.IsObject() && IsTrue(p.value, "nullable"))
        nullable.emplace_back(p.name.GetString());
    }
    for (const std::string& name : nullable) Unrequire(schema, name);
  }
  if (auto it = schema.FindMember("additionalProperties");
      it != schema.MemberEnd() && it->value.IsObject() && IsTrue(it->value, "nullable")) {
    schema.RemoveMember("required");
  }
}

// Swagger 2.0 documents carry no defaults (kube-apiserver prunes them from v2).
void DropDefaults(Value& schema) { schema.RemoveMember("default"); }

void SetProperty(Value& schema, const char* name, Value property, Allocator& a) {
  auto it = schema.FindMember("properties");
  if (it == schema.MemberEnd() || !it->value.IsObject()) {
    schema.RemoveMember("properties");
    schema.AddMember("properties", Value(rapidjson::kObjectType), a);
    it = schema.FindMember("properties");
  }
  Value& properties = it->value;
  if (auto p = properties.FindMember(name); p != properties.MemberEnd()) {
    p->value = property;
  } else {
    properties.AddMember(Value(rapidjson::StringRef(name)), property, a);
  }
}

Value StringProperty(const char* description, Allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("description", Value(rapidjson::StringRef(description)), a);
  v.AddMember("type", "string", a);
  return v;
}

Value RefProperty(std::string_view ref, const char* description, Allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("$ref", Str(ref, a), a);
  v.AddMember("description", Value(rapidjson::StringRef(description)), a);
  return v;
}

constexpr const char* kApiVersionDoc = "The group/version of this object's schema, e.g. apps/v1.";
constexpr const char* kKindDoc = "The kind of this object, in CamelCase.";
constexpr const char* kObjectMetaDoc =
    "The object's metadata: name, namespace, labels, annotations and what the server records.";

void AddTypeMeta(Value& schema, Allocator& a) {
  SetProperty(schema, "apiVersion", StringProperty(kApiVersionDoc, a), a);
  SetProperty(schema, "kind", StringProperty(kKindDoc, a), a);
}

// apiVersion, kind and metadata for x-kubernetes-embedded-resource objects, children first.
void AddEmbeddedProperties(Value& schema, Dialect dialect, std::string_view object_meta_ref,
                           Allocator& a) {
  if (!schema.IsObject()) return;
  if (auto it = schema.FindMember("properties"); it != schema.MemberEnd() && it->value.IsObject()) {
    for (auto& p : it->value.GetObject())
      AddEmbeddedProperties(p.value, dialect, object_meta_ref, a);
  }
  if (auto it = schema.FindMember("items"); it != schema.MemberEnd() && it->value.IsObject()) {
    AddEmbeddedProperties(it->value, dialect, object_meta_ref, a);
  }
  if (auto it = schema.FindMember("additionalProperties");
      it != schema.MemberEnd() && it->value.IsObject()) {
    AddEmbeddedProperties(it->value, dialect, object_meta_ref, a);
  }
  // In Swagger 2.0 these properties would make kubectl reject the unknown fields kept here.
  if (dialect == Dialect::kSwagger2 && IsTrue(schema, "x-kubernetes-preserve-unknown-fields")) {
    return;
  }
  if (!IsTrue(schema, "x-kubernetes-embedded-resource")) return;
  AddTypeMeta(schema, a);
  SetProperty(schema, "metadata", RefProperty(object_meta_ref, kObjectMetaDoc, a), a);
  auto required = schema.FindMember("required");
  if (required == schema.MemberEnd() || !required->value.IsArray()) {
    schema.RemoveMember("required");
    schema.AddMember("required", Value(rapidjson::kArrayType), a);
    required = schema.FindMember("required");
  }
  for (const char* name : {"kind", "apiVersion"}) {
    bool present = false;
    for (const Value& r : required->value.GetArray())
      present |= r.IsString() && r.GetString() == std::string_view(name);
    if (!present) required->value.PushBack(Value(rapidjson::StringRef(name)), a);
  }
}

// Object keys sorted at every level.
void SortKeys(Value& v, Allocator& a) {
  if (v.IsArray()) {
    for (Value& item : v.GetArray()) SortKeys(item, a);
    return;
  }
  if (!v.IsObject()) return;
  std::vector<std::pair<std::string, Value>> members;
  members.reserve(v.MemberCount());
  for (auto& m : v.GetObject()) {
    SortKeys(m.value, a);
    members.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()),
                         std::move(m.value));
  }
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  v.SetObject();
  for (auto& [name, value] : members) v.AddMember(Str(name, a), value, a);
}

Value GvkList(const Gvk& gvk, Allocator& a) {
  Value list(rapidjson::kArrayType);
  list.PushBack(GvkObject(gvk, a), a);
  return list;
}

}  // namespace

Value CustomKindDefinition(const Value* crd_schema, const Gvk& gvk, Dialect dialect,
                           std::string_view object_meta_ref, Allocator& a) {
  const bool v2 = dialect == Dialect::kSwagger2;
  Value def;
  if (!crd_schema || !crd_schema->IsObject() ||
      (v2 && IsTrue(*crd_schema, "x-kubernetes-preserve-unknown-fields"))) {
    // Nothing to describe, or (v2) nothing kubectl's v2 validation would let through:
    // no properties at all, so kubectl does not take them as the only ones allowed.
    def = TypeOnly("object", a);
  } else {
    def = Keep(*crd_schema, a);
    VisitStructural(def, [&](Value& s) { Unfold(s, a); });
    if (v2) VisitStructural(def, ToSwagger2);
    SetProperty(def, "metadata", RefProperty(object_meta_ref, kObjectMetaDoc, a), a);
    AddTypeMeta(def, a);
    AddEmbeddedProperties(def, dialect, object_meta_ref, a);
    if (v2) VisitStructural(def, DropDefaults);
  }
  def.AddMember("x-kubernetes-group-version-kind", GvkList(gvk, a), a);
  SortKeys(def, a);
  return def;
}

Value CustomListDefinition(const Gvk& list_gvk, std::string_view item_kind,
                           std::string_view item_ref, std::string_view list_meta_ref,
                           Allocator& a) {
  Value def(rapidjson::kObjectType);
  def.AddMember("description", Str("A list of " + std::string(item_kind) + " objects.", a), a);
  Value items(rapidjson::kObjectType);
  items.AddMember("description", Str("The " + std::string(item_kind) + " objects.", a), a);
  Value ref(rapidjson::kObjectType);
  ref.AddMember("$ref", Str(item_ref, a), a);
  items.AddMember("items", ref, a);
  items.AddMember("type", "array", a);
  SetProperty(def, "items", std::move(items), a);
  SetProperty(def, "metadata",
              RefProperty(list_meta_ref,
                          "The list's metadata: its resourceVersion and the "
                          "continue token of the next page.",
                          a),
              a);
  AddTypeMeta(def, a);
  Value required(rapidjson::kArrayType);
  required.PushBack("items", a);
  def.AddMember("required", required, a);
  def.AddMember("type", "object", a);
  def.AddMember("x-kubernetes-group-version-kind", GvkList(list_gvk, a), a);
  SortKeys(def, a);
  return def;
}

}  // namespace kite::openapi
