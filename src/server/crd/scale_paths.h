// The scale subresource of a custom resource: reading and writing the fields its CRD names
// by JSON path (subresources.scale.specReplicasPath ".spec.replicas", statusReplicasPath,
// labelSelectorPath), as apiextensions-apiserver's customresource registry does
// (scaleFromCustomResource, scaleUpdatedObjectInfo, the validator's ValidateScaleSpec /
// ValidateScaleStatus).
//
// Paths are dotted field names with an optional leading '.'; no array notation (the CRD's
// validation refuses it). Reading follows apimachinery's unstructured accessors: a missing
// field or a null on the way is "not found"; a value of the wrong type on the way or at the
// end is an error whose message is apimachinery's ("<path> accessor error: abc is of the type
// string, expected int64"). JSON integers are int64 and other numbers float64, as in
// Kubernetes' unstructured objects.
//
// Thread-safety: pure functions; SetSpecReplicas modifies its argument only.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/crd/served_versions.h"
#include "src/server/validation/field_causes.h"

namespace kite::crd {

// The integer at `path`: nullopt when absent; kInvalidArgument (accessor error) when a value
// on the way is not an object or the value is not an integer (int64).
Result<std::optional<int64_t>> NestedInt64(const rapidjson::Value& object, std::string_view path);

// The string at `path`, likewise (nullopt when absent, kInvalidArgument when not a string).
Result<std::optional<std::string>> NestedString(const rapidjson::Value& object, std::string_view path);

// Sets the integer at `path`, creating missing (or null) objects on the way. kInvalidArgument
// ("value cannot be set because .spec is not a map[string]interface{}") when a value on the
// way is not an object; `object` is then unchanged.
Status SetNestedInt64(rapidjson::Value& object, std::string_view path, int64_t value,
                      rapidjson::Document::AllocatorType& allocator);

// The autoscaling/v1 Scale of a custom resource.
struct CustomScale {
  // kind, apiVersion, metadata (name, namespace, uid, resourceVersion, creationTimestamp
  // of the object), spec.replicas (0 when absent), status.replicas (0 when absent) and
  // status.selector ("" when absent or when the CRD names no labelSelectorPath).
  rapidjson::Document scale;
  // Whether the object has a value at specReplicasPath: a GET of a Scale without one is an
  // error upstream, and an update must then set spec.replicas.
  bool spec_replicas_found = false;
};

// kInvalidArgument (the accessor error) when one of the three paths holds a value of the
// wrong type. Replicas are truncated to int32 as upstream does (validation keeps stored
// values in range).
Result<CustomScale> ScaleOfCustomResource(const rapidjson::Value& object, const ScaleSubresource& paths);

// The checks every write of a custom resource with a scale subresource passes upstream
// (customResourceValidator.ValidateScaleSpec and ValidateScaleStatus): the replicas at both
// paths are integers in [0, 2147483647] and the selector a string, when present. Causes name
// the path as the CRD wrote it (".spec.replicas: Invalid value: -1: should be a
// non-negative integer").
std::vector<validation::StatusCause> ValidateScaleSpec(const rapidjson::Value& object,
                                                       const ScaleSubresource& paths);
std::vector<validation::StatusCause> ValidateScaleStatus(const rapidjson::Value& object,
                                                         const ScaleSubresource& paths);

}  // namespace kite::crd
