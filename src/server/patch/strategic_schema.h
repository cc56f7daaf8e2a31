// StrategicSchema: the per-field knowledge that strategic merge patch needs.
//
// Strategic merge patch differs from JSON merge patch only where the object's type says so:
// lists whose patchStrategy is "merge" are merged (by patchMergeKey for lists of objects, by
// value for lists of primitives) instead of replaced. This interface describes one object
// type's fields; the schema registry implements it per kind, tests implement it by hand.
//
// Thread-safety: implementations are immutable after construction; Lookup may be called from
// any thread. The engine keeps no pointer past one ApplyStrategicMergePatch call.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kite::patch {

// What strategic merge patch needs to know about the fields of one object type.
class StrategicSchema {
 public:
  struct Field {
    // patchStrategy: "merge" lists are merged (by merge_key for lists of objects, by value
    // for lists of primitives); otherwise lists are replaced whole.
    bool merge_list = false;
    bool retain_keys = false;        // patchStrategy contains "retainKeys"
    std::string merge_key;           // patchMergeKey, for lists of objects
    // The schema of the field's value: for lists, of their elements; for maps
    // (additionalProperties), of the map values; nullptr when unknown or primitive.
    const StrategicSchema* type = nullptr;
    bool is_map = false;             // a map whose values are `type` (labels, data, ...)
  };
  virtual ~StrategicSchema() = default;
  // nullopt when the type has no such field (unknown fields merge like JSON merge patch).
  virtual std::optional<Field> Lookup(std::string_view field_name) const = 0;
};

}  // namespace kite::patch
