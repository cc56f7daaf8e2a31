// StructuralSchema: the compiled openAPIV3Schema of one CRD version, and what Kubernetes does
// with custom objects through it: validation, pruning of unknown fields, defaulting.
//
// Operation: Compile() accepts only schemas a CRD may carry (the rules of schema_rules.h:
// structural, the CRD OpenAPI subset, valid defaults, nesting at most kMaxSchemaDepth). The
// serving path then, as kube-apiserver does for custom resources:
//   on write:  Prune (warn, or reject with fieldValidation=Strict) -> ApplyDefaults -> Validate
//   on read:   Prune -> ApplyDefaults (schemas may have gained defaults since the write)
// x-kubernetes-validations (CEL) rules are accepted but never evaluated.
//
// Concurrency: immutable after Compile; copies share the compiled tree; all methods are
// const and safe to call from many threads.
// Limits: schema depth (kMaxSchemaDepth); every algorithm recurses along the schema only,
// so objects nested arbitrarily deep (10000 levels) cannot exhaust the stack.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/crd/schema_node.h"
#include "src/server/validation/field_causes.h"

namespace kite::crd {

class StructuralSchema {
 public:
  // kInvalidArgument when the schema would not be accepted in a CRD; the message lists the
  // problems with paths under "openAPIV3Schema" (at most 10, then "and N more").
  static Result<StructuralSchema> Compile(const rapidjson::Value& open_api_v3_schema);

  // Problems of a whole custom object (apiVersion, kind, metadata, spec, status, ...), as
  // the apiextensions apiserver reports them, in its order: schema validation (e.g.
  // field "spec.replicas", message "Invalid value: \"string\": spec.replicas in body must
  // be of type integer: \"string\""), embedded resources, list-type uniqueness.
  // metadata is checked only as far as the schema says (name/generateName); the caller
  // validates ObjectMeta itself, as kube-apiserver does.
  std::vector<validation::StatusCause> Validate(const rapidjson::Value& object) const;

  // Removes the fields the schema does not specify (see pruning.h) from a whole object and
  // returns their paths, sorted, as Kubernetes prints them: "spec.foo", "spec.items[0].bar".
  // apiVersion, kind and metadata are kept.
  std::vector<std::string> Prune(rapidjson::Value& object, rapidjson::Document::AllocatorType& a) const;

  // Applies the schema's defaults to a whole object (see defaulting.h). Call after Prune.
  void ApplyDefaults(rapidjson::Value& object, rapidjson::Document::AllocatorType& a) const;

  // The schema of the field at a dotted path (".spec.replicas" or "spec.replicas"; the
  // scale subresource's paths), or nullptr when the schema does not specify it. Map keys
  // under additionalProperties resolve to that schema.
  const SchemaNode* SchemaAt(std::string_view path) const;

  const SchemaNode& root() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace kite::crd
