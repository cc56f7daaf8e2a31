// SchemaNode: one node of a CRD's openAPIV3Schema (apiextensions.k8s.io/v1 JSONSchemaProps),
// parsed once and then read by validation, pruning and defaulting.
//
// A node records everything Kubernetes' JSONSchemaProps can hold, including the constructs
// CRDs forbid ($ref, definitions, ...), so that CRD validation (crd_validation.h) can name
// them. Nodes under allOf/anyOf/oneOf/not use the same type; there the structural rules
// forbid type, description, default, ... (schema_rules.h checks that).
//
// Ownership: a node's JSON pointers (default_value, enum_values, example, x_validations)
// point into the document it was parsed from; the owner (StructuralSchema) keeps that
// document alive. Nodes are immutable after parsing and safe to read from many threads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/server/crd/regex.h"
#include "src/server/validation/field_causes.h"

namespace kite::crd {

// Schemas nested deeper than this many nodes are rejected (the recursive algorithms over
// schemas are then bounded; real CRDs nest a few dozen levels at most).
inline constexpr int kMaxSchemaDepth = 100;

struct SchemaNode {
  const rapidjson::Value* json = nullptr;  // the node's JSON object

  // Generic.
  std::string type;              // "" when absent
  std::string format;            // as written
  std::string effective_format;  // the format validation applies, "" when ignored
  bool has_description = false;
  bool has_title = false;
  bool nullable = false;
  const rapidjson::Value* default_value = nullptr;  // null when absent ("default": null too)
  const rapidjson::Value* example = nullptr;

  // Value validation.
  std::optional<double> maximum, minimum, multiple_of;
  bool exclusive_maximum = false, exclusive_minimum = false;
  std::optional<int64_t> max_length, min_length, max_items, min_items, max_properties, min_properties;
  std::string pattern;  // "" when absent
  std::optional<Regex> pattern_regex;
  std::string pattern_error;  // Go's message when `pattern` does not compile
  bool unique_items = false;
  std::vector<std::string> required;
  const rapidjson::Value* enum_values = nullptr;  // a JSON array, or null

  // Structure. `properties` keeps the order of the schema document.
  std::vector<std::pair<std::string, std::unique_ptr<SchemaNode>>> properties;
  std::unique_ptr<SchemaNode> items;
  enum class Additional { kAbsent, kFalse, kTrue, kSchema };
  Additional additional = Additional::kAbsent;
  std::unique_ptr<SchemaNode> additional_properties;  // set for kSchema
  std::vector<std::unique_ptr<SchemaNode>> all_of, any_of, one_of;
  std::unique_ptr<SchemaNode> not_schema;

  // Kubernetes extensions.
  std::optional<bool> x_preserve_unknown_fields;
  bool x_embedded_resource = false;
  bool x_int_or_string = false;
  std::optional<std::string> x_list_type, x_map_type;
  std::vector<std::string> x_list_map_keys;
  const rapidjson::Value* x_validations = nullptr;  // CEL rules: checked for shape, not run

  // Constructs CRDs forbid, recorded so validation can report them.
  bool has_id = false, has_schema = false, has_ref = false, has_definitions = false,
       has_dependencies = false, has_pattern_properties = false, has_additional_items = false,
       items_is_array = false, has_external_docs = false;

  // JSON member names written with a non-zero value, in document order (for the rule on
  // which fields may appear at the root when the status subresource is enabled).
  std::vector<std::string> written;

  bool PreservesUnknownFields() const { return x_preserve_unknown_fields.value_or(false); }
  // The property schema, or nullptr.
  const SchemaNode* Property(std::string_view name) const;
  // additionalProperties' schema when it is one, else nullptr.
  const SchemaNode* AdditionalSchema() const {
    return additional == Additional::kSchema ? additional_properties.get() : nullptr;
  }

  std::map<std::string, size_t, std::less<>> property_index;  // name -> index in properties
};

// Parses a JSONSchemaProps JSON object. Problems with the JSON itself (a member of the wrong
// JSON type, nesting deeper than kMaxSchemaDepth) are appended to `problems` with field
// paths under `path` (Kubernetes' path syntax: "...openAPIV3Schema.properties[spec]").
// Never fails: unusable members are skipped.
std::unique_ptr<SchemaNode> ParseSchemaNode(const rapidjson::Value& json, const std::string& path,
                                            std::vector<validation::StatusCause>* problems);

}  // namespace kite::crd
