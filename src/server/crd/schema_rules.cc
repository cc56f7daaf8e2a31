#include "src/server/crd/schema_rules.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>
#include <utility>

#include "src/server/crd/field_path.h"
#include "src/server/crd/pruning.h"
#include "src/server/crd/value_format.h"
#include "src/server/crd/value_validation.h"

namespace kite::crd {
namespace {

using validation::ForbiddenCause;
using validation::InvalidRawCause;
using validation::RequiredCause;
using validation::StatusCause;
using Causes = std::vector<StatusCause>;

bool Written(const SchemaNode& s, std::string_view key) {
  return std::find(s.written.begin(), s.written.end(), key) != s.written.end();
}

bool IsMetaField(std::string_view k) { return k == "apiVersion" || k == "kind" || k == "metadata"; }

// ---------------------------------------------------------------------------------------
// Structural invariants (schema.ValidateStructural).

enum class Level { kRoot, kItem, kField };

// {type: <t>} and nothing else: one half of the int-or-string anyOf pattern.
bool IsOnlyType(const SchemaNode& n, std::string_view t) {
  return n.type == t && n.written.size() == 1 && n.written[0] == "type";
}

bool IsIntOrStringAnyOf(const std::vector<std::unique_ptr<SchemaNode>>& any_of) {
  return any_of.size() == 2 && IsOnlyType(*any_of[0], "integer") && IsOnlyType(*any_of[1], "string");
}

class Structural {
 public:
  explicit Structural(Causes* out) : out_(out) {}

  void Invariants(const SchemaNode* s, Level lvl, const std::string& path) {
    if (!s) return;
    if (s->type == "array" && !s->items) out_->push_back(RequiredCause(ChildPath(path, "items"), "must be specified"));
    Invariants(s->items.get(), Level::kItem, ChildPath(path, "items"));
    for (const auto& [k, prop] : s->properties) {
      Invariants(prop.get(), Level::kField, KeyPath(ChildPath(path, "properties"), k));
    }
    if (s->additional != SchemaNode::Additional::kAbsent) {
      if (lvl == Level::kRoot) {
        out_->push_back(ForbiddenCause(ChildPath(path, "additionalProperties"), "must not be used at the root"));
      }
      Invariants(s->AdditionalSchema(), Level::kField, ChildPath(path, "additionalProperties"));
    }
    if (s->x_int_or_string && s->PreservesUnknownFields()) {
      out_->push_back(InvalidRawCause(ChildPath(path, "x-kubernetes-preserve-unknown-fields"), "true",
                                      "must be false if x-kubernetes-int-or-string is true"));
    }
    if (s->x_int_or_string && s->x_embedded_resource) {
      out_->push_back(InvalidRawCause(ChildPath(path, "x-kubernetes-embedded-resource"), "true",
                                      "must be false if x-kubernetes-int-or-string is true"));
    }
    bool skip_any_of = IsIntOrStringAnyOf(s->any_of);
    bool skip_first_all_of_any_of = !s->all_of.empty() && IsIntOrStringAnyOf(s->all_of[0]->any_of);
    ValueValidation(*s, skip_any_of, skip_first_all_of_any_of, lvl, path);

    bool check_metadata = lvl == Level::kRoot || s->x_embedded_resource;
    if (s->x_embedded_resource && s->type != "object") {
      std::string msg = "must be object if x-kubernetes-embedded-resource is true";
      out_->push_back(s->type.empty() ? RequiredCause(ChildPath(path, "type"), msg)
                                      : InvalidRawCause(ChildPath(path, "type"), GoQuote(s->type), msg));
    } else if (s->type.empty() && !s->x_int_or_string && !s->PreservesUnknownFields()) {
      const char* msg = lvl == Level::kRoot   ? "must not be empty at the root"
                        : lvl == Level::kItem ? "must not be empty for specified array items"
                                              : "must not be empty for specified object fields";
      out_->push_back(RequiredCause(ChildPath(path, "type"), msg));
    }
    if (s->x_embedded_resource && s->additional != SchemaNode::Additional::kAbsent) {
      out_->push_back(ForbiddenCause(ChildPath(path, "additionalProperties"),
                                     "must not be used if x-kubernetes-embedded-resource is set"));
    }
    if (lvl == Level::kRoot && !s->type.empty() && s->type != "object") {
      out_->push_back(InvalidRawCause(ChildPath(path, "type"), GoQuote(s->type), "must be object at the root"));
    }
    for (std::string_view k : {"kind", "apiVersion"}) {
      const SchemaNode* p = s->Property(k);
      if (p && check_metadata && p->type != "string") {
        out_->push_back(InvalidRawCause(ChildPath(KeyPath(ChildPath(path, "properties"), k), "type"), GoQuote(p->type),
                                        "must be string"));
      }
    }
    if (const SchemaNode* meta = s->Property("metadata")) {
      std::string mpath = KeyPath(ChildPath(path, "properties"), "metadata");
      if (check_metadata && meta->type != "object") {
        out_->push_back(InvalidRawCause(ChildPath(mpath, "type"), GoQuote(meta->type), "must be object"));
      }
      if (lvl == Level::kRoot && !IsPlainRootMetadata(*meta)) {
        out_->push_back(ForbiddenCause(
            mpath, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
      }
    }
    if (s->x_embedded_resource && !s->PreservesUnknownFields() && s->properties.empty()) {
      out_->push_back(RequiredCause(
          ChildPath(path, "properties"),
          "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
    }
  }

  // Every specified field of the root's value validations is also specified structurally.
  void Completeness(const SchemaNode& root, const std::string& path) { JunctorCompleteness(root, &root, path, path); }

 private:
  // metadata at the root: type object, a default, and properties exactly among name and
  // generateName are all it may say (example and externalDocs are not part of a
  // structural schema, so they do not count).
  static bool IsPlainRootMetadata(const SchemaNode& m) {
    for (const std::string& key : m.written) {
      if (key != "type" && key != "default" && key != "properties" && key != "example" && key != "externalDocs") {
        return false;
      }
    }
    if (!Written(m, "properties")) return true;
    bool name = m.Property("name") != nullptr, generate = m.Property("generateName") != nullptr;
    size_t n = m.properties.size();
    return (name && generate && n == 2) || ((name || generate) && n == 1);
  }

  void ValueValidation(const SchemaNode& v, bool skip_any_of, bool skip_first_all_of_any_of, Level lvl,
                       const std::string& path) {
    if (!skip_any_of) {
      for (size_t i = 0; i < v.any_of.size(); ++i) Nested(v.any_of[i].get(), false, lvl, IndexPath(ChildPath(path, "anyOf"), i));
    }
    for (size_t i = 0; i < v.all_of.size(); ++i) {
      Nested(v.all_of[i].get(), skip_first_all_of_any_of && i == 0, lvl, IndexPath(ChildPath(path, "allOf"), i));
    }
    for (size_t i = 0; i < v.one_of.size(); ++i) Nested(v.one_of[i].get(), false, lvl, IndexPath(ChildPath(path, "oneOf"), i));
    Nested(v.not_schema.get(), false, lvl, ChildPath(path, "not"));
    if (!v.pattern.empty() && !v.pattern_regex) {
      out_->push_back(InvalidRawCause(ChildPath(path, "pattern"), GoQuote(v.pattern),
                                      "must be a valid regular expression, but isn't: " + v.pattern_error));
    }
  }

  void Nested(const SchemaNode* v, bool skip_any_of, Level lvl, const std::string& path) {
    if (!v) return;
    ValueValidation(*v, skip_any_of, false, lvl, path);
    Nested(v->items.get(), false, lvl, ChildPath(path, "items"));
    for (const auto& [k, prop] : v->properties) {
      Nested(prop.get(), false, Level::kField, KeyPath(ChildPath(path, "properties"), k));
    }
    auto forbid = [&](std::string_view field, std::string_view detail) {
      out_->push_back(ForbiddenCause(ChildPath(path, field), std::string(detail)));
    };
    if (!v->type.empty()) forbid("type", "must be empty to be structural");
    if (v->additional != SchemaNode::Additional::kAbsent) forbid("additionalProperties", "must be undefined to be structural");
    if (v->default_value) forbid("default", "must be undefined to be structural");
    if (v->has_title) forbid("title", "must be empty to be structural");
    if (v->has_description) forbid("description", "must be empty to be structural");
    if (v->nullable) forbid("nullable", "must be false to be structural");
    if (v->PreservesUnknownFields()) forbid("x-kubernetes-preserve-unknown-fields", "must be false to be structural");
    if (v->x_embedded_resource) forbid("x-kubernetes-embedded-resource", "must be false to be structural");
    if (v->x_int_or_string) forbid("x-kubernetes-int-or-string", "must be false to be structural");
    if (!v->x_list_map_keys.empty()) forbid("x-kubernetes-list-map-keys", "must be empty to be structural");
    if (v->x_list_type) forbid("x-kubernetes-list-type", "must be undefined to be structural");
    if (v->x_map_type) forbid("x-kubernetes-map-type", "must be undefined to be structural");
    if (v->x_validations && !v->x_validations->Empty()) forbid("x-kubernetes-validations", "must be empty to be structural");
    if (v->Property("metadata")) {
      out_->push_back(ForbiddenCause(KeyPath(ChildPath(path, "properties"), "metadata"),
                                     "must not be specified in a nested context"));
    }
  }

  void JunctorCompleteness(const SchemaNode& v, const SchemaNode* s, const std::string& s_path,
                           const std::string& v_path) {
    NestedCompleteness(v.not_schema.get(), s, s_path, ChildPath(v_path, "not"));
    for (size_t i = 0; i < v.all_of.size(); ++i) {
      NestedCompleteness(v.all_of[i].get(), s, s_path, IndexPath(ChildPath(v_path, "allOf"), i));
    }
    for (size_t i = 0; i < v.any_of.size(); ++i) {
      NestedCompleteness(v.any_of[i].get(), s, s_path, IndexPath(ChildPath(v_path, "anyOf"), i));
    }
    for (size_t i = 0; i < v.one_of.size(); ++i) {
      NestedCompleteness(v.one_of[i].get(), s, s_path, IndexPath(ChildPath(v_path, "oneOf"), i));
    }
  }

  void NestedCompleteness(const SchemaNode* v, const SchemaNode* s, const std::string& s_path,
                          const std::string& v_path) {
    if (!v) return;
    if (!s) {
      out_->push_back(RequiredCause(s_path, "because it is defined in " + v_path));
      return;
    }
    JunctorCompleteness(*v, s, s_path, v_path);
    NestedCompleteness(v->items.get(), s->items.get(), ChildPath(s_path, "items"), ChildPath(v_path, "items"));
    for (const auto& [k, vf] : v->properties) {
      std::string sp = KeyPath(ChildPath(s_path, "properties"), k);
      std::string vp = KeyPath(ChildPath(v_path, "properties"), k);
      const SchemaNode* sf = s->Property(k);
      if (!sf) {
        out_->push_back(RequiredCause(sp, "because it is defined in " + vp));
      } else {
        NestedCompleteness(vf.get(), sf, sp, vp);
      }
    }
  }

  Causes* out_;
};

// ---------------------------------------------------------------------------------------
// Defaults (defaulting.ValidateDefaults): pruned, and valid under their own schema.

void ValidateDefaults(const SchemaNode* s, const std::string& path, bool resource_root, bool inside_meta, Causes* out) {
  if (!s) return;
  bool embedded = resource_root || s->x_embedded_resource;
  if (embedded) inside_meta = false;
  // Defaults inside metadata are validated against the surrounding object by Kubernetes;
  // Kite checks them only for shape (they are rare: forbidden at the top level).
  if (s->default_value && !inside_meta) {
    const rapidjson::Value& def = *s->default_value;
    std::string dpath = ChildPath(path, "default");
    rapidjson::Document pruned;
    DeepCopy(def, pruned, pruned.GetAllocator());
    (void)PruneValue(pruned, s, embedded, pruned.GetAllocator());
    Causes problems;
    if (!TypedDeepEqual(pruned, def)) {
      out->push_back(InvalidRawCause(dpath, FormatBadValue(def), "must not have unknown fields"));
    }
    ValidateEmbeddedResources(def, *s, dpath, &problems);
    if (problems.empty()) ValidateAgainstSchema(def, *s, dpath, &problems);
    for (StatusCause& c : problems) out->push_back(std::move(c));
  }
  ValidateDefaults(s->items.get(), ChildPath(path, "items"), false, inside_meta, out);
  for (const auto& [k, prop] : s->properties) {
    ValidateDefaults(prop.get(), KeyPath(ChildPath(path, "properties"), k), false,
                     inside_meta || (embedded && IsMetaField(k)), out);
  }
}

// ---------------------------------------------------------------------------------------
// The OpenAPI subset (ValidateCustomResourceDefinitionOpenAPISchema).

struct SpecValidator {
  bool allow_defaults = true;
  std::string disallow_defaults_reason;
  bool inside_meta = false;

  SpecValidator WithForbiddenDefaults(std::string reason) const {
    SpecValidator c = *this;
    c.allow_defaults = false;
    c.disallow_defaults_reason = std::move(reason);
    return c;
  }
};

StatusCause NotSupportedRaw(std::string field, std::string_view value, std::initializer_list<std::string_view> supported) {
  std::string list;
  for (std::string_view s : supported) list += (list.empty() ? "" : ", ") + GoQuote(s);
  return {"FieldValueNotSupported", "Unsupported value: " + GoQuote(value) + ": supported values: " + list,
          std::move(field)};
}

class OpenApiRules {
 public:
  explicit OpenApiRules(Causes* out) : out_(out) {}

  void Check(const SchemaNode* s, const std::string& path, const SpecValidator& ssv, bool is_root) {
    if (!s) return;
    Basic(*s, path, ssv);
    if (s->unique_items) {
      Forbid(path, "uniqueItems", "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
    }
    if (s->additional != SchemaNode::Additional::kAbsent) {
      if (!s->properties.empty() && s->additional != SchemaNode::Additional::kTrue) {
        Forbid(path, "additionalProperties", "additionalProperties and properties are mutual exclusive");
      }
      SpecValidator sub = ssv.inside_meta ? ssv.WithForbiddenDefaults("inside additionalProperties applying to object metadata") : ssv;
      Check(s->AdditionalSchema(), ChildPath(path, "additionalProperties"), sub, false);
    }
    for (const auto& [k, prop] : s->properties) {
      SpecValidator sub = ssv;
      if ((is_root || s->x_embedded_resource) && IsMetaField(k)) {
        sub.inside_meta = true;
        if (is_root) sub = sub.WithForbiddenDefaults("in top-level " + k);
      }
      Check(prop.get(), KeyPath(ChildPath(path, "properties"), k), sub, false);
    }
    Check(s->not_schema.get(), ChildPath(path, "not"), ssv, false);
    for (size_t i = 0; i < s->all_of.size(); ++i) Check(s->all_of[i].get(), IndexPath(ChildPath(path, "allOf"), i), ssv, false);
    for (size_t i = 0; i < s->one_of.size(); ++i) Check(s->one_of[i].get(), IndexPath(ChildPath(path, "oneOf"), i), ssv, false);
    for (size_t i = 0; i < s->any_of.size(); ++i) Check(s->any_of[i].get(), IndexPath(ChildPath(path, "anyOf"), i), ssv, false);
    Check(s->items.get(), ChildPath(path, "items"), ssv, false);

    if (s->x_preserve_unknown_fields && !*s->x_preserve_unknown_fields) {
      out_->push_back(InvalidRawCause(ChildPath(path, "x-kubernetes-preserve-unknown-fields"), "false",
                                      "must be true or undefined"));
    }
    ListAndMapTypes(*s, path);
    MapListKeysMapSet(*s, path);
    CelRuleShapes(*s, path);
  }

 private:
  void Forbid(const std::string& path, std::string_view field, std::string detail) {
    out_->push_back(ForbiddenCause(ChildPath(path, field), std::move(detail)));
  }

  void Basic(const SchemaNode& s, const std::string& path, const SpecValidator& ssv) {
    static const std::set<std::string, std::less<>> kTypes = {"array", "boolean", "integer", "number", "object", "string"};
    if (!s.type.empty() && !kTypes.count(s.type)) {
      out_->push_back(NotSupportedRaw(ChildPath(path, "type"), s.type,
                                      {"array", "boolean", "integer", "number", "object", "string"}));
    }
    if (s.default_value && !ssv.allow_defaults) {
      std::string detail = "must not be set";
      if (!ssv.disallow_defaults_reason.empty()) detail += " " + ssv.disallow_defaults_reason;
      Forbid(path, "default", detail);
    }
    if (s.has_id) Forbid(path, "id", "id is not supported");
    if (s.has_additional_items) Forbid(path, "additionalItems", "additionalItems is not supported");
    if (s.has_pattern_properties) Forbid(path, "patternProperties", "patternProperties is not supported");
    if (s.has_definitions) Forbid(path, "definitions", "definitions is not supported");
    if (s.has_dependencies) Forbid(path, "dependencies", "dependencies is not supported");
    if (s.has_ref) Forbid(path, "$ref", "$ref is not supported");
    if (s.type == "null") Forbid(path, "type", "type cannot be set to null, use nullable as an alternative");
    if (s.items_is_array) Forbid(path, "items", "items must be a schema object and not an array");
    if (ssv.inside_meta && s.x_embedded_resource) {
      Forbid(path, "x-kubernetes-embedded-resource", "must not be used inside of resource meta");
    }
  }

  void ListAndMapTypes(const SchemaNode& s, const std::string& path) {
    if (s.x_map_type && s.type != "object") {
      std::string msg = "must be object if x-kubernetes-map-type is specified";
      out_->push_back(s.type.empty() ? RequiredCause(ChildPath(path, "type"), msg)
                                     : InvalidRawCause(ChildPath(path, "type"), GoQuote(s.type), msg));
    }
    if (s.x_map_type && *s.x_map_type != "atomic" && *s.x_map_type != "granular") {
      out_->push_back(NotSupportedRaw(ChildPath(path, "x-kubernetes-map-type"), *s.x_map_type, {"atomic", "granular"}));
    }
    if (s.x_list_type && s.type != "array") {
      std::string msg = "must be array if x-kubernetes-list-type is specified";
      out_->push_back(s.type.empty() ? RequiredCause(ChildPath(path, "type"), msg)
                                     : InvalidRawCause(ChildPath(path, "type"), GoQuote(s.type), msg));
    } else if (s.x_list_type && *s.x_list_type == "set" && s.items) {
      const SchemaNode& is = *s.items;
      std::string msg = "must be atomic as item of a list with x-kubernetes-list-type=set";
      std::string bad_list_type = is.x_list_type ? GoQuote(*is.x_list_type) : "null";
      if (is.type == "array" && is.x_list_type && *is.x_list_type != "atomic") {
        out_->push_back(InvalidRawCause(ChildPath(ChildPath(path, "items"), "x-kubernetes-list-type"), bad_list_type, msg));
      } else if (is.type == "object" && (!is.x_map_type || *is.x_map_type != "atomic")) {
        out_->push_back(InvalidRawCause(ChildPath(ChildPath(path, "items"), "x-kubernetes-map-type"), bad_list_type, msg));
      }
    }
    if (s.x_list_type && *s.x_list_type != "atomic" && *s.x_list_type != "set" && *s.x_list_type != "map") {
      out_->push_back(NotSupportedRaw(ChildPath(path, "x-kubernetes-list-type"), *s.x_list_type, {"atomic", "set", "map"}));
    }
    if (!s.x_list_map_keys.empty()) {
      std::string msg = "must be map if x-kubernetes-list-map-keys is non-empty";
      if (!s.x_list_type) {
        out_->push_back(RequiredCause(ChildPath(path, "x-kubernetes-list-type"), msg));
      } else if (*s.x_list_type != "map") {
        out_->push_back(InvalidRawCause(ChildPath(path, "x-kubernetes-list-type"), GoQuote(*s.x_list_type), msg));
      }
    }
    if (s.x_list_type && *s.x_list_type == "map") {
      if (s.x_list_map_keys.empty()) {
        out_->push_back(RequiredCause(ChildPath(path, "x-kubernetes-list-map-keys"),
                                      "must not be empty if x-kubernetes-list-type is map"));
      }
      if (!s.items && !s.items_is_array) {
        out_->push_back(RequiredCause(ChildPath(path, "items"), "must have a schema if x-kubernetes-list-type is map"));
      }
      if (s.items_is_array) {
        out_->push_back(InvalidRawCause(ChildPath(path, "items"), "\"\"",
                                        "must only have a single schema if x-kubernetes-list-type is map"));
      }
      if (s.items && s.items->type != "object") {
        out_->push_back(InvalidRawCause(ChildPath(ChildPath(path, "items"), "type"), GoQuote(s.items->type),
                                        "must be object if parent array's x-kubernetes-list-type is map"));
      }
      if (s.items && s.items->type == "object") {
        std::set<std::string> keys;
        for (const std::string& k : s.x_list_map_keys) {
          if (const SchemaNode* p = s.items->Property(k)) {
            if (p->type == "array" || p->type == "object") {
              out_->push_back(InvalidRawCause(
                  ChildPath(KeyPath(ChildPath(ChildPath(path, "items"), "properties"), k), "type"),
                  GoQuote(s.items->type), "must be a scalar type if parent array's x-kubernetes-list-type is map"));
            }
          } else {
            out_->push_back(InvalidRawCause(ChildPath(path, "x-kubernetes-list-map-keys"),
                                            GoStringSlice(s.x_list_map_keys),
                                            "entries must all be names of item properties"));
          }
          if (!keys.insert(k).second) {
            out_->push_back(InvalidRawCause(ChildPath(path, "x-kubernetes-list-map-keys"),
                                            GoStringSlice(s.x_list_map_keys), "must not contain duplicate entries"));
          }
        }
      }
    }
  }

  void MapListKeysMapSet(const SchemaNode& s, const std::string& path) {
    if (!s.items || !s.x_list_type || (*s.x_list_type != "set" && *s.x_list_type != "map")) return;
    std::string items = ChildPath(path, "items");
    if (s.items->nullable) Forbid(items, "nullable", "cannot be nullable when x-kubernetes-list-type is " + *s.x_list_type);
    if (*s.x_list_type != "map") return;
    for (const std::string& k : s.x_list_map_keys) {
      const SchemaNode* p = s.items->Property(k);
      if (!p) continue;
      bool required = std::find(s.items->required.begin(), s.items->required.end(), k) != s.items->required.end();
      std::string ppath = KeyPath(ChildPath(items, "properties"), k);
      if (!required && !p->default_value) {
        out_->push_back(RequiredCause(ChildPath(ppath, "default"),
                                      "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
      }
      if (p->nullable) {
        Forbid(ppath, "nullable", "this property is in x-kubernetes-list-map-keys, so it cannot be nullable");
      }
    }
  }

  // x-kubernetes-validations: the rules' shape only; CEL expressions are not compiled.
  void CelRuleShapes(const SchemaNode& s, const std::string& path) {
    if (!s.x_validations) return;
    auto has_newline = [](std::string_view v) { return v.find_first_of("\r\n") != std::string_view::npos; };
    auto trim = [](std::string_view v) {
      size_t b = v.find_first_not_of(" \t\r\n\f\v");
      if (b == std::string_view::npos) return std::string_view();
      size_t e = v.find_last_not_of(" \t\r\n\f\v");
      return v.substr(b, e - b + 1);
    };
    auto str = [](const rapidjson::Value& rule, const char* name) -> std::string_view {
      auto it = rule.FindMember(name);
      if (it == rule.MemberEnd() || !it->value.IsString()) return {};
      return std::string_view(it->value.GetString(), it->value.GetStringLength());
    };
    std::string base = ChildPath(path, "x-kubernetes-validations");
    for (rapidjson::SizeType i = 0; i < s.x_validations->Size(); ++i) {
      const rapidjson::Value& rule = (*s.x_validations)[i];
      std::string rpath = IndexPath(base, i);
      if (!rule.IsObject()) {
        out_->push_back(InvalidRawCause(rpath, FormatBadValue(rule), "must be an object"));
        continue;
      }
      std::string_view r = str(rule, "rule"), msg = str(rule, "message"), expr = str(rule, "messageExpression"),
                       fpath = str(rule, "fieldPath");
      if (trim(r).empty()) {
        out_->push_back(RequiredCause(ChildPath(rpath, "rule"), "rule is not specified"));
      } else if (!msg.empty() && trim(msg).empty()) {
        out_->push_back(InvalidRawCause(ChildPath(rpath, "message"), GoQuote(msg), "message must be non-empty if specified"));
      } else if (has_newline(trim(msg))) {
        out_->push_back(InvalidRawCause(ChildPath(rpath, "message"), GoQuote(msg), "message must not contain line breaks"));
      } else if (has_newline(trim(r)) && trim(msg).empty()) {
        out_->push_back(RequiredCause(ChildPath(rpath, "message"), "message must be specified if rule contains line breaks"));
      }
      if (!expr.empty() && trim(expr).empty()) {
        out_->push_back(RequiredCause(ChildPath(rpath, "messageExpression"), "messageExpression must be non-empty if specified"));
      }
      auto reason = rule.FindMember("reason");
      if (reason != rule.MemberEnd() && reason->value.IsString()) {
        std::string_view rv(reason->value.GetString(), reason->value.GetStringLength());
        if (rv != "FieldValueDuplicate" && rv != "FieldValueForbidden" && rv != "FieldValueInvalid" &&
            rv != "FieldValueRequired") {
          out_->push_back(NotSupportedRaw(ChildPath(rpath, "reason"), rv,
                                          {"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid",
                                           "FieldValueRequired"}));
        }
      }
      if (!fpath.empty() && trim(fpath).empty()) {
        out_->push_back(InvalidRawCause(ChildPath(rpath, "fieldPath"), GoQuote(fpath), "fieldPath must be non-empty if specified"));
      }
      if (has_newline(fpath)) {
        out_->push_back(InvalidRawCause(ChildPath(rpath, "fieldPath"), GoQuote(fpath), "fieldPath must not contain line breaks"));
      }
    }
  }

  Causes* out_;
};

// ---------------------------------------------------------------------------------------
// The root when the status subresource is enabled.

// JSONSchemaProps' Go fields in declaration order, with their JSON names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 44> kRootFields = {{
    {"ID", "id"},
    {"Schema", "$schema"},
    {"Ref", "$ref"},
    {"Description", "description"},
    {"Type", "type"},
    {"Format", "format"},
    {"Title", "title"},
    {"Default", "default"},
    {"Maximum", "maximum"},
    {"ExclusiveMaximum", "exclusiveMaximum"},
    {"Minimum", "minimum"},
    {"ExclusiveMinimum", "exclusiveMinimum"},
    {"MaxLength", "maxLength"},
    {"MinLength", "minLength"},
    {"Pattern", "pattern"},
    {"MaxItems", "maxItems"},
    {"MinItems", "minItems"},
    {"UniqueItems", "uniqueItems"},
    {"MultipleOf", "multipleOf"},
    {"Enum", "enum"},
    {"MaxProperties", "maxProperties"},
    {"MinProperties", "minProperties"},
    {"Required", "required"},
    {"Items", "items"},
    {"AllOf", "allOf"},
    {"OneOf", "oneOf"},
    {"AnyOf", "anyOf"},
    {"Not", "not"},
    {"Properties", "properties"},
    {"AdditionalProperties", "additionalProperties"},
    {"PatternProperties", "patternProperties"},
    {"Dependencies", "dependencies"},
    {"AdditionalItems", "additionalItems"},
    {"Definitions", "definitions"},
    {"ExternalDocs", "externalDocs"},
    {"Example", "example"},
    {"Nullable", "nullable"},
    {"XPreserveUnknownFields", "x-kubernetes-preserve-unknown-fields"},
    {"XEmbeddedResource", "x-kubernetes-embedded-resource"},
    {"XIntOrString", "x-kubernetes-int-or-string"},
    {"XListMapKeys", "x-kubernetes-list-map-keys"},
    {"XListType", "x-kubernetes-list-type"},
    {"XMapType", "x-kubernetes-map-type"},
    {"XValidations", "x-kubernetes-validations"},
}};

constexpr std::array<std::string_view, 22> kAllowedAtRoot = {
    "Description", "Type",     "Format",   "Title",       "Maximum",     "ExclusiveMaximum",
    "Minimum",     "ExclusiveMinimum",     "MaxLength",   "MinLength",   "Pattern",
    "MaxItems",    "MinItems", "UniqueItems", "MultipleOf", "Required",  "Items",
    "Properties",  "ExternalDocs",         "Example",     "XPreserveUnknownFields", "XValidations"};

void StatusRoot(const SchemaNode& root, const std::string& validation_path, Causes* out) {
  std::string schema_path = ChildPath(validation_path, "openAPIV3Schema");
  for (const auto& [go_name, json_name] : kRootFields) {
    if (!Written(root, json_name)) continue;
    if (go_name == "Type") {
      if (root.type != "object") {
        out->push_back(InvalidRawCause(ChildPath(schema_path, "type"), GoQuote(root.type),
                                       "only \"object\" is allowed as the type at the root of the schema if the status "
                                       "subresource is enabled"));
        return;
      }
      continue;
    }
    if (std::find(kAllowedAtRoot.begin(), kAllowedAtRoot.end(), go_name) == kAllowedAtRoot.end()) {
      std::string list;
      for (std::string_view a : kAllowedAtRoot) list += (list.empty() ? "" : " ") + std::string(a);
      out->push_back(InvalidRawCause(schema_path, root.json ? CompactJson(*root.json) : "{}",
                                     "only [" + list +
                                         "] fields are allowed at the root of the schema if the status subresource "
                                         "is enabled"));
      return;
    }
  }
}

}  // namespace

std::string GoStringSlice(const std::vector<std::string>& values) {
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + GoQuote(values[i]);
  return out + "}";
}

std::vector<StatusCause> ValidateSchemaRules(const SchemaNode& root, const std::string& validation_path,
                                             bool status_enabled) {
  Causes out;
  std::string schema_path = ChildPath(validation_path, "openAPIV3Schema");
  if (status_enabled) StatusRoot(root, validation_path, &out);
  if (root.nullable) out.push_back(ForbiddenCause(ChildPath(schema_path, "nullable"), "nullable cannot be true at the root"));

  Causes structural;
  Structural checker(&structural);
  checker.Invariants(&root, Level::kRoot, schema_path);
  checker.Completeness(root, schema_path);
  std::stable_sort(structural.begin(), structural.end(), [](const StatusCause& a, const StatusCause& b) {
    return a.field + ": " + a.message < b.field + ": " + b.message;
  });
  if (structural.empty()) {
    ValidateDefaults(&root, schema_path, true, false, &out);
  } else {
    for (StatusCause& c : structural) out.push_back(std::move(c));
  }

  OpenApiRules(&out).Check(&root, schema_path, SpecValidator{}, true);
  return out;
}

}  // namespace kite::crd
