// Validation of JSON values against a SchemaNode, as the apiextensions apiserver validates
// custom resources:
//
//  - ValidateAgainstSchema: kube-openapi's schema validator and the conversion of its errors
//    to field errors (apiextensions-apiserver pkg/apiserver/validation). Messages keep
//    kube-openapi's "<path> in body ..." text; causes use apimachinery's reasons
//    (FieldValueTypeInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueTooLong,
//    FieldValueTooMany, FieldValueInvalid). allOf/anyOf/oneOf/not failures are reported as
//    Kubernetes does, with the field "<nil>" when `prefix` is empty.
//  - ValidateEmbeddedResources: apiVersion, kind and metadata of x-kubernetes-embedded-resource
//    objects (the root object only if its schema says it is one: the root metadata is the
//    caller's business).
//  - ValidateListSetsAndMaps: uniqueness in x-kubernetes-list-type set and map lists.
//
// `prefix` is the field path the problems hang under: "" for a whole custom object, or for
// instance "spec.validation.openAPIV3Schema.properties[a].default" when checking a default.
// Recursion follows the schema (at most kMaxSchemaDepth levels); values are never walked
// deeper than their schema, so deeply nested input cannot exhaust the stack.
// Thread-safety: pure functions.
#pragma once

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

#include "src/server/crd/schema_node.h"
#include "src/server/validation/field_causes.h"

namespace kite::crd {

void ValidateAgainstSchema(const rapidjson::Value& value, const SchemaNode& schema, std::string_view prefix,
                           std::vector<validation::StatusCause>* out);

void ValidateEmbeddedResources(const rapidjson::Value& value, const SchemaNode& schema,
                               std::string_view prefix, std::vector<validation::StatusCause>* out);

void ValidateListSetsAndMaps(const rapidjson::Value& value, const SchemaNode& schema, std::string_view prefix,
                             std::vector<validation::StatusCause>* out);

// Go's swag.IsFloat64AJSONInteger: an integral float within ±2^53.
bool IsFloatAJsonInteger(double f);

}  // namespace kite::crd
