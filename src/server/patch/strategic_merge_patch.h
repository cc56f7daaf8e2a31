// Strategic merge patch: the `application/strategic-merge-patch+json` patch type of
// Kubernetes, which `kubectl apply`, `kubectl edit` and `kubectl patch` send by default.
//
// It is JSON merge patch (objects merge recursively, null deletes a field, scalars replace)
// plus per-field knowledge from a StrategicSchema and directives in the patch:
// - A list whose field has patchStrategy "merge" is merged instead of replaced. Lists of
//   objects merge by the field's merge key: a patch item merges into the live item with the
//   same key, items with new keys are added. Lists of primitives merge as sets (union,
//   duplicates dropped). Order, as upstream (apimachinery strategicpatch, mergeSortedSlice):
//   patch items keep the patch's order; a live item the patch does not name goes before the
//   next patch item when the live list holds both and has it first, otherwise after. So
//   [a,b] merged with [c] gives [c,a,b], and [1,2,3] merged with [3,1] gives [2,3,1].
// - `$patch: replace` in an object replaces it with the rest of the patch object; as an item
//   `{"$patch": "replace"}` of a merging list it replaces the list with the other items.
// - `$patch: delete` in an object empties it (upstream keeps `{}`; a field the target lacks
//   stays absent); as an item `{"<mergeKey>": v, "$patch": "delete"}` it removes every live
//   item with that key.
// - `$patch: merge` in an object is accepted and means the default. In a list it is an
//   error, as upstream ("merging lists cannot yet be specified in the patch").
// - `$retainKeys: [names]` clears every field of that object not in the list; every non-null
//   field the patch sets must be in the list.
// - `$deleteFromPrimitiveList/<field>: [values]` removes those values from the list field.
// - `$setElementOrder/<field>: [...]` orders the merged list: entries are values for lists of
//   primitives, `{mergeKey: value}` for lists of objects; entries naming no item are ignored.
//   Items in the order list follow it, and the patch list must name its items in the same
//   relative order (else an error). Items the order list does not name are placed among them
//   by the rule above, against the live order (live [C,B,D,A,E] ordered by [A,B] gives
//   [C,D,A,B,E]); where the patch also deleted items, the live order is the one upstream's
//   implementation ends up using, so results match the API server's.
// - Any other key starting with "$" is rejected, unless the schema declares a field of that
//   name or the object is a map (labels, data, ...), and so is an unknown `$patch` value.
// Values the target does not have yet go through the same rules against an empty value, so
// nulls and directives never end up in the stored object.
//
// With `schema == nullptr` (or below a field whose type is unknown) every list is replaced,
// as in JSON merge patch; directives still apply.
//
// Limits (untrusted input): the patch may nest at most 1000 levels deep. Items of large lists
// are matched through hash indexes, so the work is about linear in the sizes of the inputs.
// The merge recurses along the patch: at the cap it needs about 1 MiB of stack in optimized
// builds (about 5 MiB under ASan), so run it on threads with the default 8 MiB stack.
//
// Thread-safety: a free function with no shared state; `schema` must be safe to read
// concurrently, `target` must not be used concurrently.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "src/base/status.h"
#include "src/server/patch/strategic_schema.h"

namespace kite::patch {

// Applies the strategic merge patch `patch` (a JSON object) to the JSON object `target`,
// using `schema` (the target's type; may be nullptr) for list strategies and merge keys.
// On success `target` holds the patched object; on error it is unchanged and the status is
// kInvalidArgument with a message in the spirit of the Kubernetes API server's.
Status ApplyStrategicMergePatch(rapidjson::Document& target, std::string_view patch,
                                const StrategicSchema* schema);

}  // namespace kite::patch
