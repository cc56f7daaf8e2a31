// Defaulting of custom objects from the `default`s of their structural schema
// (apiextensions-apiserver pkg/apiserver/schema/defaulting), in Kubernetes' two steps:
//
//  1. null values of fields that are neither nullable nor defaulted are removed;
//  2. missing fields with a default get a copy of it, and so do null fields that are not
//     nullable (nullable: true keeps an explicit null); array items and additionalProperties
//     values that are null get their schema's default. Defaults are applied top-down, so a
//     defaulted object receives its own nested defaults.
//
// Kubernetes applies this after pruning, on every write and every read from storage.
// Recursion follows the schema (bounded by kMaxSchemaDepth). Defaults are deep-copied
// without recursion.
// Thread-safety: pure function; `value` is modified in place.
#pragma once

#include <rapidjson/document.h>

#include "src/server/crd/schema_node.h"

namespace kite::crd {

void ApplySchemaDefaults(rapidjson::Value& value, const SchemaNode& schema,
                         rapidjson::Document::AllocatorType& allocator);

}  // namespace kite::crd
