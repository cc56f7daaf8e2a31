#include "src/server/apply/value_shape.h"

#include <algorithm>
#include <optional>

#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

bool Declares(const patch::StrategicSchema* schema, std::string_view field) {
  return schema->Lookup(field).has_value();
}

// Struct types Kubernetes marks x-kubernetes-map-type: atomic, recognised by their fields.
bool IsAtomicStruct(const patch::StrategicSchema* schema) {
  if (schema == nullptr) return false;
  if (Declares(schema, "matchLabels") && Declares(schema, "matchExpressions")) return true;
  if (Declares(schema, "nodeSelectorTerms")) return true;
  return Declares(schema, "matchFields") && Declares(schema, "matchExpressions");
}

std::vector<KeyField> KeysOf(std::string_view field, const std::string& merge_key) {
  if (field == "ports" && (merge_key == "containerPort" || merge_key == "port")) {
    return {{merge_key, std::nullopt}, {"protocol", std::string("TCP")}};
  }
  if (field == "topologySpreadConstraints" && merge_key == "topologyKey") {
    return {{merge_key, std::nullopt}, {"whenUnsatisfiable", std::nullopt}};
  }
  return {{merge_key, std::nullopt}};
}

bool IsAtomicStruct(const Shape& parent, const patch::StrategicSchema* schema) {
  if (schema == nullptr) return false;
  return parent.cache != nullptr ? parent.cache->IsAtomicStruct(schema) : IsAtomicStruct(schema);
}

}  // namespace

bool ShapeCache::IsAtomicStruct(const patch::StrategicSchema* schema) {
  for (const auto& [known, atomic] : known_) {
    if (known == schema) return atomic;
  }
  const bool atomic = apply::IsAtomicStruct(schema);
  known_.emplace_back(schema, atomic);
  return atomic;
}

const char* JsonKindName(const rapidjson::Value& v) {
  if (v.IsObject()) return "map";
  if (v.IsArray()) return "list";
  if (v.IsString()) return "string";
  if (v.IsNumber()) return "number";
  if (v.IsBool()) return "bool";
  return "null";
}

Shape RootShape(const patch::StrategicSchema* schema) {
  Shape s;
  s.schema = schema;
  s.always_present = true;
  return s;
}

Shape MemberShape(const Shape& object, std::string_view name) {
  Shape s;
  s.cache = object.cache;
  if (object.is_map) {  // a map's values all have the map's value type
    s.schema = object.schema;
    s.atomic = IsAtomicStruct(object, s.schema);
    return s;
  }
  if (object.schema == nullptr) return s;
  std::optional<patch::StrategicSchema::Field> f = object.schema->Lookup(name);
  if (!f) return s;
  s.schema = f->type;
  s.is_map = f->is_map;
  if (f->merge_list) {
    if (f->merge_key.empty()) {
      s.list = Shape::List::kSet;
    } else {
      s.list = Shape::List::kMap;
      s.keys = KeysOf(name, f->merge_key);
    }
  }
  s.atomic = !s.is_map && IsAtomicStruct(object, s.schema);
  s.always_present = object.always_present && f->type != nullptr && !f->is_map && !f->merge_list &&
                     !s.atomic;
  // The one granular list typed objects never omit (no omitempty): a pod spec's containers.
  if (object.always_present && name == "containers" && s.list == Shape::List::kMap) {
    s.always_present = true;
  }
  return s;
}

Shape ItemShape(const Shape& list) {
  Shape s;
  s.cache = list.cache;
  s.schema = list.schema;
  s.atomic = IsAtomicStruct(list, s.schema);
  return s;
}

namespace {

// The first item, in list order, whose element equals an earlier one's (out.size(): none).
size_t FirstDuplicate(const std::vector<PathElement>& out) {
  const size_t n = out.size();
  if (n <= 16) {  // short lists (nearly all): pairwise
    for (size_t j = 1; j < n; ++j) {
      for (size_t i = 0; i < j; ++i) {
        if (out[i] == out[j]) return j;
      }
    }
    return n;
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out[a] < out[b]; });
  // In a run of equal elements (indexes increasing), the second one is where the list walk
  // would first see the key again.
  size_t first = n;
  for (size_t k = 1; k < n; ++k) {
    if (out[order[k - 1]] == out[order[k]] && (k < 2 || !(out[order[k - 2]] == out[order[k]]))) {
      first = std::min(first, order[k]);
    }
  }
  return first;
}

}  // namespace

Result<std::vector<PathElement>> ItemElements(const rapidjson::Value& list, const Shape& shape) {
  std::vector<PathElement> out;
  if (!list.IsArray()) return out;
  out.reserve(list.Size());
  // Messages are built only on error: this runs for every granular list of every object.
  auto error = [&](rapidjson::SizeType i, const std::string& what) {
    return InvalidArgumentError("element " + std::to_string(i) + ": " + what);
  };
  std::optional<Status> item_error;
  rapidjson::SizeType i = 0;
  for (const rapidjson::Value& item : list.GetArray()) {
    if (shape.list == Shape::List::kMap) {
      if (item.IsNull()) {
        item_error = error(i, "associative list with keys may not have a null element");
        break;
      }
      if (!item.IsObject()) {
        item_error = error(i, "associative list with keys may not have non-map elements");
        break;
      }
      std::vector<std::pair<std::string, PathValue>> fields;
      fields.reserve(shape.keys.size());
      for (const KeyField& k : shape.keys) {
        if (const rapidjson::Value* v = json::Member(item, k.name)) {
          fields.emplace_back(k.name, PathValue::FromJson(*v));
        } else if (k.default_value) {
          rapidjson::Value d(rapidjson::StringRef(k.default_value->data(), k.default_value->size()));
          fields.emplace_back(k.name, PathValue::FromJson(d));
        } else {
          item_error = error(i, "associative list with keys has an element that omits key field \"" +
                                    k.name + "\" (and doesn't have default value)");
          break;
        }
      }
      if (item_error) break;
      out.push_back(PathElement::Key(std::move(fields)));
    } else {
      if (item.IsObject() || item.IsArray()) {
        item_error = error(i, std::string("associative list without keys has an element that's a ") +
                                  JsonKindName(item) + " type");
        break;
      }
      out.push_back(PathElement::Value(PathValue::FromJson(item)));
    }
    ++i;
  }
  // The walk stops at the first problem: a repeated key before the item that cannot be keyed
  // is the one reported.
  if (size_t dup = FirstDuplicate(out); dup < out.size()) {
    return InvalidArgumentError("duplicate entries for key " + out[dup].ToString());
  }
  if (item_error) return *item_error;
  return out;
}

}  // namespace kite::apply
