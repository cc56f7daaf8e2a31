// Shape: what server-side apply knows about the type of one value of an object, derived from
// the kind's StrategicSchema. Kubernetes takes this from the OpenAPI extensions
// (x-kubernetes-list-type, -list-map-keys, -map-type); Kite derives it from the strategic
// merge patch tags, which say the same for built-in kinds:
// - a list with patchStrategy "merge" and a patchMergeKey is an associative list ("map")
//   keyed by the merge key; with "merge" but no key it is a set of primitives; any other
//   list is atomic (owned and replaced as a whole);
// - an object is granular: a map (is_map: labels, data, ...) or a struct;
// - fields the schema does not know (or a nullptr schema) are structs and atomic lists.
// Where SSA's keys differ from the merge key, Kubernetes' keys are used: container ports
// ("containerPort", "protocol") and service ports ("port", "protocol") with protocol
// defaulting to "TCP", topology spread constraints ("topologyKey", "whenUnsatisfiable").
// Struct types Kubernetes marks atomic (x-kubernetes-map-type: atomic) cannot be told from
// the strategic schema; the common ones are recognised by their fields: LabelSelector
// (matchLabels + matchExpressions), NodeSelector (nodeSelectorTerms) and NodeSelectorTerm
// (matchFields). Others are treated as granular structs.
//
// Thread-safety: plain values; the schema must be safe to read concurrently.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/status.h"
#include "src/server/apply/field_set.h"
#include "src/server/patch/strategic_schema.h"

namespace kite::apply {

struct KeyField {
  std::string name;
  std::optional<std::string> default_value;  // a string the key takes when the item omits it
};

// Remembers, for one walk over an object, which schemas are atomic structs: a walk meets the
// same few types again and again, and each check is several schema lookups. Schemas are
// known by address, so a cache must not outlive the walk. Not thread-safe: one per walk.
class ShapeCache {
 public:
  bool IsAtomicStruct(const patch::StrategicSchema* schema);

 private:
  std::vector<std::pair<const patch::StrategicSchema*, bool>> known_;
};

struct Shape {
  enum class List { kAtomic, kSet, kMap };
  // For an object: its fields; for a map: its values' type; for a list: its items' type.
  // nullptr: unknown.
  const patch::StrategicSchema* schema = nullptr;
  bool is_map = false;        // an object whose members are map keys, not named fields
  bool atomic = false;        // an object owned and replaced as a whole
  List list = List::kAtomic;  // for list values
  std::vector<KeyField> keys; // List::kMap
  // A field Kubernetes' typed objects always carry, so that "absent" compares like {} or
  // null (see Compare): a struct reached from the root through struct fields only (typed
  // objects hold it as {} when empty), and a pod spec's containers (never omitted).
  bool always_present = false;
  // Optional; member and item shapes carry it on.
  ShapeCache* cache = nullptr;
};

Shape RootShape(const patch::StrategicSchema* schema);
// The shape of member `name` of an object of shape `object`.
Shape MemberShape(const Shape& object, std::string_view name);
// The shape of the items of a list of shape `list`.
Shape ItemShape(const Shape& list);

// The path elements of the items of `list` (an array under a kMap or kSet shape), in order.
// kInvalidArgument (structured-merge-diff's wording, without the list's path: callers that
// report it put PathString and ": " before it) for the first item, in order, that cannot be
// keyed (not an object, a missing key field without default; in a set, an object or list
// item) or repeats an earlier item's key.
Result<std::vector<PathElement>> ItemElements(const rapidjson::Value& list, const Shape& shape);

// "map", "list", "string", "number", "bool" or "null", for error messages.
const char* JsonKindName(const rapidjson::Value& value);

}  // namespace kite::apply
