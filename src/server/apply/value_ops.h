// The value operations server-side apply is built from, over JSON objects interpreted with a
// Shape (structured-merge-diff's typed operations): the field set of an applied
// configuration, merging a configuration into a live object, comparing two objects, removing
// fields by path.
//
// Inputs must be at most FieldSet::kMaxDepth levels deep (callers check with JsonDepth):
// these walks recurse along the values.
//
// Lists in stored objects that cannot be keyed (an item without its key, duplicate keys)
// are handled as atomic lists by Merge, Compare and RemovePaths; only AppliedFieldSet
// rejects them.
//
// Thread-safety: free functions with no shared state.
#pragma once

#include <rapidjson/document.h>

#include "src/base/status.h"
#include "src/server/apply/field_set.h"
#include "src/server/apply/value_shape.h"

namespace kite::apply {

// The fields an applied configuration sets, as Kubernetes records them for its applier:
// every scalar, atomic list and atomic struct; every item of a granular list (and what is
// set in it); every map entry; a struct field only when it is null or {} (otherwise only
// what is inside it). kInvalidArgument for what cannot be applied: items of an associative
// list that are not objects or lack a key field, duplicate keys, objects or lists in a set,
// a non-list value for a list field, a non-object value for a map field.
Result<FieldSet> AppliedFieldSet(const rapidjson::Value& config, const Shape& root);

// `live` (nullptr: absent) with `config` set into it: objects merge member by member (live
// members keep their order, new ones follow), associative lists by key and sets by value,
// everything else (scalars, atomic lists and structs) is replaced. Merged lists order items
// as structured-merge-diff does: items in both follow the configuration's order, live-only
// items keep their place, configuration-only items come where the configuration walk
// reaches them: [a,b] with [c] gives [a,b,c]; [b,c] with [d,c] gives [b,d,c]; [a,b] with
// [b,a] gives [b,a].
// A null in the configuration removes the field (Kubernetes' typed objects drop it too).
// `config` must have passed AppliedFieldSet.
rapidjson::Value Merge(const rapidjson::Value* live, const rapidjson::Value& config,
                       const Shape& root, rapidjson::Document::AllocatorType& allocator);

// What changed between two objects (nullptr: absent). A leaf (scalar, atomic list or
// struct, or an object or list empty on both sides) is added, removed or modified; an
// object, list item or granular list present on one side only is itself added or removed,
// along with everything in it. Numbers compare by value. A field typed objects always carry
// (Shape::always_present) compares as {} (a struct) or null (a list) when absent, so it is
// not itself added or removed: creating a Deployment owns .spec.replicas but not .spec, while
// a new map (labels) or list item is owned itself too (the "." in fieldsV1).
// `lhs_skipped`, when set, is a member somewhere in lhs that compares as absent (the stored
// managedFields, which the updated object no longer carries), saving a copy without it.
struct Comparison {
  FieldSet added, modified, removed;
  FieldSet Changed() const { return added.Union(modified); }
  bool Same() const { return added.empty() && modified.empty() && removed.empty(); }
};
Comparison Compare(const rapidjson::Value* lhs, const rapidjson::Value* rhs, const Shape& root,
                   const rapidjson::Value* lhs_skipped = nullptr);

// Removes from `object` the value at each path of `paths` (with everything below it); paths
// that name nothing in `object` are ignored.
void RemovePaths(rapidjson::Value& object, const Shape& root, const FieldSet& paths);

// `set` plus every named struct field above one of its members (not map entries or list
// items): what pruning must treat as owned (structured-merge-diff's
// EnsureNamedFieldsAreMembers).
FieldSet WithNamedFieldParents(const FieldSet& set, const Shape& root);

// Deep equality; numbers by value, object members in any order.
bool JsonEqual(const rapidjson::Value& a, const rapidjson::Value& b);

}  // namespace kite::apply
