#include "src/server/apply/value_shape.h"

#include <set>

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

}  // namespace

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
  if (object.is_map) {  // a map's values all have the map's value type
    s.schema = object.schema;
    s.atomic = IsAtomicStruct(s.schema);
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
  s.atomic = !s.is_map && IsAtomicStruct(s.schema);
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
  s.schema = list.schema;
  s.atomic = IsAtomicStruct(s.schema);
  return s;
}

Result<std::vector<PathElement>> ItemElements(const rapidjson::Value& list, const Shape& shape,
                                              const Path& path) {
  std::vector<PathElement> out;
  if (!list.IsArray()) return out;
  out.reserve(list.Size());
  std::set<PathElement> seen;
  // Messages are built only on error: this runs for every granular list of every object.
  auto error = [&](rapidjson::SizeType i, const std::string& what) {
    return InvalidArgumentError(PathString(path) + ": element " + std::to_string(i) + ": " + what);
  };
  rapidjson::SizeType i = 0;
  for (const rapidjson::Value& item : list.GetArray()) {
    PathElement pe;
    if (shape.list == Shape::List::kMap) {
      if (item.IsNull()) return error(i, "associative list with keys may not have a null element");
      if (!item.IsObject()) {
        return error(i, "associative list with keys may not have non-map elements");
      }
      std::vector<std::pair<std::string, PathValue>> fields;
      for (const KeyField& k : shape.keys) {
        if (const rapidjson::Value* v = json::Member(item, k.name)) {
          fields.emplace_back(k.name, PathValue::FromJson(*v));
        } else if (k.default_value) {
          rapidjson::Value d(rapidjson::StringRef(k.default_value->data(), k.default_value->size()));
          fields.emplace_back(k.name, PathValue::FromJson(d));
        } else {
          return error(i, "associative list with keys has an element that omits key field \"" +
                              k.name + "\" (and doesn't have default value)");
        }
      }
      pe = PathElement::Key(std::move(fields));
    } else {
      if (item.IsObject() || item.IsArray()) {
        return error(i, std::string("associative list without keys has an element that's a ") +
                            JsonKindName(item) + " type");
      }
      pe = PathElement::Value(PathValue::FromJson(item));
    }
    if (!seen.insert(pe).second) {
      return InvalidArgumentError(PathString(path) + ": duplicate entries for key " + pe.ToString());
    }
    out.push_back(std::move(pe));
    ++i;
  }
  return out;
}

}  // namespace kite::apply
