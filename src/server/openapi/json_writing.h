// Small pieces the Swagger 2.0 and OpenAPI 3 renderers share: content types of operations,
// response descriptions, group-version-kind objects and JSON serialization.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "src/server/openapi/api_paths.h"

namespace kite::openapi {

using JsonAllocator = rapidjson::Document::AllocatorType;

// A JSON string holding a copy of `s`.
rapidjson::Value Str(std::string_view s, JsonAllocator& a);

// "string", "integer", "boolean".
const char* ParamTypeName(ParamType type);

// What a request body may be sent as: for PATCH the four patch types Kite accepts
// (JSON patch, merge patch, strategic merge patch, apply; custom resources: not strategic
// merge patch); otherwise "*/*" (custom resources: JSON and YAML).
std::vector<std::string> RequestContentTypes(const Operation& op);
// What a response may be sent as (custom resources: JSON and YAML, as kube-apiserver lists).
std::vector<std::string> ResponseContentTypes(const Operation& op);

// "OK", "Created", "Accepted".
const char* StatusText(int code);

// {"group": ..., "kind": ..., "version": ...}
rapidjson::Value GvkObject(const Gvk& gvk, JsonAllocator& a);

// Compact JSON.
std::string ToJson(const rapidjson::Value& value);

}  // namespace kite::openapi
