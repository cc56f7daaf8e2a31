// Small helpers over RapidJSON for API objects: safe parsing of untrusted bodies, member
// access that tolerates absent or mistyped fields, compact serialization, YAML → JSON.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::json {

// Parses untrusted JSON without recursion (deep nesting cannot overflow the stack).
// kInvalidArgument with the parser's complaint and offset on malformed input.
Result<rapidjson::Document> ParseJson(std::string_view text);
// The error of a Parse into `doc`, as ParseJson reports it (Ok when it parsed).
Status ParseErrorOf(const rapidjson::Document& doc);
// Like ParseJson, and the value must be a JSON object.
Result<rapidjson::Document> ParseJsonObject(std::string_view text);

// YAML (one document) → JSON. Plain scalars become booleans, numbers and null as YAML 1.1
// core resolution does (what kubectl and Go's sigs.k8s.io/yaml do); quoted scalars stay
// strings. kInvalidArgument on malformed YAML or non-string map keys.
Result<rapidjson::Document> YamlToJson(std::string_view text);

std::string ToJson(const rapidjson::Value& value);

// The member, or nullptr when `object` is not an object or lacks it.
const rapidjson::Value* Member(const rapidjson::Value& object, std::string_view name);
rapidjson::Value* MutableMember(rapidjson::Value& object, std::string_view name);
// The string member's value, or "" when absent or not a string.
std::string_view StringMember(const rapidjson::Value& object, std::string_view name);
// Sets (adding or replacing) a member of `object` (which must be an object).
void SetMember(rapidjson::Value& object, std::string_view name, rapidjson::Value value,
               rapidjson::Document::AllocatorType& allocator);
void SetStringMember(rapidjson::Value& object, std::string_view name, std::string_view value,
                     rapidjson::Document::AllocatorType& allocator);
void RemoveMember(rapidjson::Value& object, std::string_view name);
// metadata, created as {} when absent (object must be an object).
rapidjson::Value& EnsureObjectMember(rapidjson::Value& object, std::string_view name,
                                     rapidjson::Document::AllocatorType& allocator);

}  // namespace kite::json
