// Pruning: removing the fields of a custom object that its structural schema does not
// specify (apiextensions-apiserver pkg/apiserver/schema/pruning).
//
// Kubernetes' rules: a field is kept when its schema lists it in `properties` or when
// `additionalProperties` is set (then its value is pruned by that schema; with
// `additionalProperties: true/false` and no schema the value's own fields are all pruned);
// under x-kubernetes-preserve-unknown-fields unknown fields stay, known ones are still pruned
// by their schemas; apiVersion, kind and metadata of the root object and of
// x-kubernetes-embedded-resource objects are left alone (metadata is handled as ObjectMeta
// by the caller).
//
// Recursion follows the schema (bounded by kMaxSchemaDepth); subtrees without a schema are
// walked iteratively, so adversarially deep input cannot exhaust the stack.
// Thread-safety: pure functions; `value` is modified in place.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "src/server/crd/schema_node.h"

namespace kite::crd {

// Prunes `value` under `schema` (nullptr: prune everything). `is_resource_root`: `value` is
// a whole object whose apiVersion/kind/metadata are kept. Returns the removed fields' paths,
// sorted, in Kubernetes' form ("spec.foo", "spec.items[0].bar"), as its
// `unknown field "spec.foo"` warnings print them.
std::vector<std::string> PruneValue(rapidjson::Value& value, const SchemaNode* schema, bool is_resource_root,
                                    rapidjson::Document::AllocatorType& allocator);

}  // namespace kite::crd
