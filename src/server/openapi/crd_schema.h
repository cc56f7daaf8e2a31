// How kube-apiserver publishes one CustomResourceDefinition version in its OpenAPI documents
// (apiextensions-apiserver's openapi builder): the definitions of the custom kind and of its
// list kind, derived from the version's openAPIV3Schema.
//
// From the schema as the CRD wrote it to the kind's definition:
//  - Only what a structural schema holds is kept: type, description, title, default,
//    nullable, properties, items, additionalProperties, externalDocs, the value validations
//    (format, pattern, enum, minimum/maximum and their exclusive flags, min/max length,
//    items and properties, multipleOf, uniqueItems, required, allOf/anyOf/oneOf/not) and
//    the x-kubernetes-* extensions (preserve-unknown-fields, embedded-resource,
//    int-or-string, list-type, list-map-keys, map-type, validations). Anything else
//    (example, id, $schema, ...) is dropped, and false flags are left out.
//  - x-kubernetes-int-or-string is unfolded into anyOf: [{type: integer}, {type: string}]
//    (or, when anyOf is taken, allOf[0].anyOf), unless the schema already says so.
//  - Swagger 2.0 only (kubectl's v2 code cannot cope with more): allOf, anyOf, oneOf and not
//    are dropped; a nullable value loses its type, items and properties, and its name leaves
//    the parent's required list (a nullable additionalProperties empties it); a value that
//    preserves unknown fields loses its items and properties, and its type when that is
//    object; an array without items loses its type; defaults are dropped. A kind whose root
//    preserves unknown fields is published as a bare object.
//  - x-kubernetes-embedded-resource objects get apiVersion, kind and metadata (ObjectMeta)
//    properties and require apiVersion and kind (in Swagger 2.0 not when they also preserve
//    unknown fields).
//  - The kind itself gets apiVersion, kind and metadata (a $ref to ObjectMeta with a
//    description beside it) and x-kubernetes-group-version-kind. Without a schema it is
//    {type: object} with its group-version-kind.
// Object keys are sorted at every level, as kube-apiserver writes them.
//
// Thread-safety: pure functions.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "src/server/openapi/api_paths.h"
#include "src/server/openapi/definitions.h"

namespace kite::openapi {

// The definition of custom kind `gvk` from `crd_schema` (null: the version declares none).
// `object_meta_ref` is the "$ref" of ObjectMeta in the document being built.
rapidjson::Value CustomKindDefinition(const rapidjson::Value* crd_schema, const Gvk& gvk,
                                      Dialect dialect, std::string_view object_meta_ref,
                                      rapidjson::Document::AllocatorType& a);

// The definition of the list kind `list_gvk` whose items are `item_kind` objects (their
// definition's "$ref" is `item_ref`; ListMeta's is `list_meta_ref`).
rapidjson::Value CustomListDefinition(const Gvk& list_gvk, std::string_view item_kind,
                                      std::string_view item_ref, std::string_view list_meta_ref,
                                      rapidjson::Document::AllocatorType& a);

}  // namespace kite::openapi
