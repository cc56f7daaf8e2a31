// The rules a CRD's openAPIV3Schema must follow to be accepted (apiextensions.k8s.io/v1),
// with Kubernetes' field paths and messages:
//
//  - structural schema invariants (pkg/apiserver/schema ValidateStructural): a type on every
//    specified node, value validations (allOf/anyOf/oneOf/not) that do not introduce types,
//    defaults, descriptions or fields of their own, metadata restricted to name/generateName,
//    no additionalProperties at the root, x-kubernetes-* consistency, valid patterns;
//  - the OpenAPI subset CRDs allow (pkg/apis/apiextensions/validation): no $ref, id,
//    definitions, dependencies, patternProperties, additionalItems, uniqueItems, array
//    items; list/map types and list-map keys; defaults forbidden in metadata; CEL rules
//    (x-kubernetes-validations) checked for shape only, never compiled or run;
//  - defaults (defaulting.ValidateDefaults): each default must be pruned and valid under its
//    own schema;
//  - with the status subresource, only some fields at the root.
//
// Structural problems are sorted by their text, as Kubernetes sorts them.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "src/server/crd/schema_node.h"
#include "src/server/validation/field_causes.h"

namespace kite::crd {

// Problems of the schema `root`, parsed from <validation_path>.openAPIV3Schema, where
// validation_path is "spec.validation" (one schema shared by all versions, the way
// Kubernetes folds identical per-version schemas) or "spec.versions[i].schema".
// `status_enabled`: the status subresource is enabled for a version using this schema.
std::vector<validation::StatusCause> ValidateSchemaRules(const SchemaNode& root, const std::string& validation_path,
                                                         bool status_enabled);

// Go's %#v of a []string: []string{"a", "b"}.
std::string GoStringSlice(const std::vector<std::string>& values);

}  // namespace kite::crd
