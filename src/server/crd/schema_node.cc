#include "src/server/crd/schema_node.h"

#include "src/server/crd/field_path.h"
#include "src/server/crd/string_formats.h"
#include "src/server/crd/value_format.h"

namespace kite::crd {
namespace {

using validation::StatusCause;

class SchemaParser {
 public:
  explicit SchemaParser(std::vector<StatusCause>* problems) : problems_(problems) {}

  std::unique_ptr<SchemaNode> Parse(const rapidjson::Value& json, const std::string& path, int depth) {
    auto node = std::make_unique<SchemaNode>();
    node->json = &json;
    if (!json.IsObject()) {
      Problem(path, json, "must be an object");
      return node;
    }
    if (depth > kMaxSchemaDepth) {
      problems_->push_back(validation::ForbiddenCause(
          path, "must not be nested more than " + std::to_string(kMaxSchemaDepth) + " levels deep"));
      return node;
    }
    for (const auto& m : json.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      const rapidjson::Value& v = m.value;
      std::string field = ChildPath(path, key);
      if (IsNonZero(v)) node->written.emplace_back(key);
      if (key == "type") {
        String(v, field, &node->type);
      } else if (key == "format") {
        String(v, field, &node->format);
      } else if (key == "description") {
        std::string s;
        if (String(v, field, &s)) node->has_description = !s.empty();
      } else if (key == "title") {
        std::string s;
        if (String(v, field, &s)) node->has_title = !s.empty();
      } else if (key == "nullable") {
        Bool(v, field, &node->nullable);
      } else if (key == "default") {
        if (!v.IsNull()) node->default_value = &v;
      } else if (key == "example") {
        if (!v.IsNull()) node->example = &v;
      } else if (key == "maximum") {
        Number(v, field, &node->maximum);
      } else if (key == "minimum") {
        Number(v, field, &node->minimum);
      } else if (key == "multipleOf") {
        Number(v, field, &node->multiple_of);
      } else if (key == "exclusiveMaximum") {
        Bool(v, field, &node->exclusive_maximum);
      } else if (key == "exclusiveMinimum") {
        Bool(v, field, &node->exclusive_minimum);
      } else if (key == "maxLength") {
        Integer(v, field, &node->max_length);
      } else if (key == "minLength") {
        Integer(v, field, &node->min_length);
      } else if (key == "maxItems") {
        Integer(v, field, &node->max_items);
      } else if (key == "minItems") {
        Integer(v, field, &node->min_items);
      } else if (key == "maxProperties") {
        Integer(v, field, &node->max_properties);
      } else if (key == "minProperties") {
        Integer(v, field, &node->min_properties);
      } else if (key == "pattern") {
        String(v, field, &node->pattern);
      } else if (key == "uniqueItems") {
        Bool(v, field, &node->unique_items);
      } else if (key == "required") {
        StringList(v, field, &node->required);
      } else if (key == "enum") {
        if (v.IsArray()) {
          node->enum_values = &v;
        } else if (!v.IsNull()) {
          Problem(field, v, "must be an array");
        }
      } else if (key == "properties") {
        if (v.IsObject()) {
          for (const auto& p : v.GetObject()) {
            std::string name(p.name.GetString(), p.name.GetStringLength());
            auto child = Parse(p.value, KeyPath(field, name), depth + 1);
            auto it = node->property_index.find(name);
            if (it != node->property_index.end()) {  // duplicate JSON key: the last one wins
              node->properties[it->second].second = std::move(child);
            } else {
              node->property_index.emplace(name, node->properties.size());
              node->properties.emplace_back(std::move(name), std::move(child));
            }
          }
        } else if (!v.IsNull()) {
          Problem(field, v, "must be an object");
        }
      } else if (key == "items") {
        if (v.IsObject()) {
          node->items = Parse(v, field, depth + 1);
        } else if (v.IsArray()) {
          node->items_is_array = true;
        } else if (!v.IsNull()) {
          Problem(field, v, "must be an object or an array");
        }
      } else if (key == "additionalProperties") {
        if (v.IsBool()) {
          node->additional = v.GetBool() ? SchemaNode::Additional::kTrue : SchemaNode::Additional::kFalse;
        } else if (v.IsObject()) {
          node->additional = SchemaNode::Additional::kSchema;
          node->additional_properties = Parse(v, field, depth + 1);
        } else if (!v.IsNull()) {
          Problem(field, v, "must be a boolean or an object");
        }
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
        auto& list = key == "allOf" ? node->all_of : key == "anyOf" ? node->any_of : node->one_of;
        if (v.IsArray()) {
          for (rapidjson::SizeType i = 0; i < v.Size(); ++i) list.push_back(Parse(v[i], IndexPath(field, i), depth + 1));
        } else if (!v.IsNull()) {
          Problem(field, v, "must be an array");
        }
      } else if (key == "not") {
        if (v.IsObject()) {
          node->not_schema = Parse(v, field, depth + 1);
        } else if (!v.IsNull()) {
          Problem(field, v, "must be an object");
        }
      } else if (key == "x-kubernetes-preserve-unknown-fields") {
        if (v.IsBool()) {
          node->x_preserve_unknown_fields = v.GetBool();
        } else if (!v.IsNull()) {
          Problem(field, v, "must be a boolean");
        }
      } else if (key == "x-kubernetes-embedded-resource") {
        Bool(v, field, &node->x_embedded_resource);
      } else if (key == "x-kubernetes-int-or-string") {
        Bool(v, field, &node->x_int_or_string);
      } else if (key == "x-kubernetes-list-type") {
        OptionalString(v, field, &node->x_list_type);
      } else if (key == "x-kubernetes-map-type") {
        OptionalString(v, field, &node->x_map_type);
      } else if (key == "x-kubernetes-list-map-keys") {
        StringList(v, field, &node->x_list_map_keys);
      } else if (key == "x-kubernetes-validations") {
        if (v.IsArray()) {
          node->x_validations = &v;
        } else if (!v.IsNull()) {
          Problem(field, v, "must be an array");
        }
      } else if (key == "id") {
        node->has_id = v.IsString() && v.GetStringLength() > 0;
      } else if (key == "$schema") {
        node->has_schema = v.IsString() && v.GetStringLength() > 0;
      } else if (key == "$ref") {
        node->has_ref = !v.IsNull();
      } else if (key == "definitions") {
        node->has_definitions = v.IsObject() && v.MemberCount() > 0;
      } else if (key == "dependencies") {
        node->has_dependencies = !v.IsNull();
      } else if (key == "patternProperties") {
        node->has_pattern_properties = v.IsObject() && v.MemberCount() > 0;
      } else if (key == "additionalItems") {
        node->has_additional_items = !v.IsNull();
      } else if (key == "externalDocs") {
        node->has_external_docs = !v.IsNull();
      }
    }
    if (!node->pattern.empty()) {
      Result<Regex> re = Regex::Compile(node->pattern);
      if (re.ok()) {
        node->pattern_regex = std::move(*re);
      } else {
        node->pattern_error = re.status().message();
      }
    }
    node->effective_format = EffectiveFormat(node->type, node->format);
    return node;
  }

 private:
  // Go's reflect zero value of the decoded field: false, "", JSON null.
  static bool IsNonZero(const rapidjson::Value& v) {
    if (v.IsNull()) return false;
    if (v.IsBool()) return v.GetBool();
    if (v.IsString()) return v.GetStringLength() > 0;
    return true;
  }

  void Problem(const std::string& field, const rapidjson::Value& v, std::string detail) {
    problems_->push_back(validation::InvalidRawCause(field, FormatBadValue(v), std::move(detail)));
  }
  bool String(const rapidjson::Value& v, const std::string& field, std::string* out) {
    if (v.IsNull()) return false;
    if (!v.IsString()) {
      Problem(field, v, "must be a string");
      return false;
    }
    out->assign(v.GetString(), v.GetStringLength());
    return true;
  }
  void OptionalString(const rapidjson::Value& v, const std::string& field, std::optional<std::string>* out) {
    std::string s;
    if (String(v, field, &s)) *out = std::move(s);
  }
  void Bool(const rapidjson::Value& v, const std::string& field, bool* out) {
    if (v.IsNull()) return;
    if (!v.IsBool()) {
      Problem(field, v, "must be a boolean");
      return;
    }
    *out = v.GetBool();
  }
  void Number(const rapidjson::Value& v, const std::string& field, std::optional<double>* out) {
    if (v.IsNull()) return;
    if (!v.IsNumber()) {
      Problem(field, v, "must be a number");
      return;
    }
    *out = AsDouble(v);
  }
  void Integer(const rapidjson::Value& v, const std::string& field, std::optional<int64_t>* out) {
    if (v.IsNull()) return;
    if (!v.IsInt64()) {
      Problem(field, v, "must be an integer");
      return;
    }
    *out = v.GetInt64();
  }
  void StringList(const rapidjson::Value& v, const std::string& field, std::vector<std::string>* out) {
    if (v.IsNull()) return;
    if (!v.IsArray()) {
      Problem(field, v, "must be an array of strings");
      return;
    }
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (!v[i].IsString()) {
        Problem(IndexPath(field, i), v[i], "must be a string");
        continue;
      }
      out->emplace_back(v[i].GetString(), v[i].GetStringLength());
    }
  }

  std::vector<StatusCause>* problems_;
};

}  // namespace

const SchemaNode* SchemaNode::Property(std::string_view name) const {
  auto it = property_index.find(name);
  return it == property_index.end() ? nullptr : properties[it->second].second.get();
}

std::unique_ptr<SchemaNode> ParseSchemaNode(const rapidjson::Value& json, const std::string& path,
                                            std::vector<StatusCause>* problems) {
  return SchemaParser(problems).Parse(json, path, 1);
}

}  // namespace kite::crd
