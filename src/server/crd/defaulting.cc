#include "src/server/crd/defaulting.h"

#include <string_view>
#include <vector>

#include "src/server/crd/value_format.h"

namespace kite::crd {
namespace {

// The schema a member's value falls under: its property, else additionalProperties' schema.
const SchemaNode* FieldSchema(const SchemaNode* s, std::string_view key) {
  if (!s) return nullptr;
  if (const SchemaNode* prop = s->Property(key)) return prop;
  return s->AdditionalSchema();
}

// Step 1: drop `null`s that are neither allowed (nullable) nor replaced by a default.
void PruneNulls(rapidjson::Value& x, const SchemaNode* s, rapidjson::Document::AllocatorType& a) {
  if (!s) return;
  if (x.IsObject()) {
    bool any_removed = false;
    for (auto& m : x.GetObject()) {
      const SchemaNode* fs = FieldSchema(s, std::string_view(m.name.GetString(), m.name.GetStringLength()));
      if (m.value.IsNull() && fs && !fs->nullable && !fs->default_value) {
        any_removed = true;
      } else if (fs) {
        PruneNulls(m.value, fs, a);
      }
    }
    if (any_removed) {
      rapidjson::Value fresh(rapidjson::kObjectType);
      for (auto& m : x.GetObject()) {
        const SchemaNode* fs = FieldSchema(s, std::string_view(m.name.GetString(), m.name.GetStringLength()));
        if (m.value.IsNull() && fs && !fs->nullable && !fs->default_value) continue;
        fresh.AddMember(m.name, m.value, a);
      }
      x = fresh;
    }
  } else if (x.IsArray() && s->items) {
    for (auto& e : x.GetArray()) PruneNulls(e, s->items.get(), a);
  }
}

bool NonNullableNullWithDefault(const rapidjson::Value& v, const SchemaNode* s) {
  return v.IsNull() && s && !s->nullable && s->default_value;
}

// Step 2: fill in defaults, top-down.
void Default(rapidjson::Value& x, const SchemaNode* s, rapidjson::Document::AllocatorType& a) {
  if (!s) return;
  if (x.IsObject()) {
    for (const auto& [name, prop] : s->properties) {
      if (!prop->default_value) continue;
      auto ref = rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      auto it = x.FindMember(ref);
      if (it == x.MemberEnd()) {
        rapidjson::Value copy;
        DeepCopy(*prop->default_value, copy, a);
        x.AddMember(rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), a), copy, a);
      } else if (NonNullableNullWithDefault(it->value, prop.get())) {
        DeepCopy(*prop->default_value, it->value, a);
      }
    }
    for (auto& m : x.GetObject()) {
      std::string_view k(m.name.GetString(), m.name.GetStringLength());
      if (const SchemaNode* prop = s->Property(k)) {
        Default(m.value, prop, a);
      } else if (s->additional != SchemaNode::Additional::kAbsent) {
        const SchemaNode* ap = s->AdditionalSchema();
        if (NonNullableNullWithDefault(m.value, ap)) DeepCopy(*ap->default_value, m.value, a);
        Default(m.value, ap, a);
      }
    }
  } else if (x.IsArray()) {
    for (auto& e : x.GetArray()) {
      if (NonNullableNullWithDefault(e, s->items.get())) DeepCopy(*s->items->default_value, e, a);
      Default(e, s->items.get(), a);
    }
  }
}

}  // namespace

void ApplySchemaDefaults(rapidjson::Value& value, const SchemaNode& schema,
                         rapidjson::Document::AllocatorType& allocator) {
  PruneNulls(value, &schema, allocator);
  Default(value, &schema, allocator);
}

}  // namespace kite::crd
