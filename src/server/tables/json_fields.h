// Lenient read access to object JSON for the table printers (internal to kite_tables).
//
// Objects reaching the printers were validated when stored, but a printer must still never
// crash on a surprising shape: every accessor treats a missing field, a null, or a value of
// the wrong JSON type as "unset" and returns the type's empty value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "src/server/tables/timestamp.h"

namespace kite::tables::internal {

// The member `key` of `v`, or nullptr when `v` is null, not an object, or lacks the key.
const rapidjson::Value* Get(const rapidjson::Value* v, std::string_view key);

// Get applied along a path: Dig(obj, "status", "phase").
template <class... Keys>
const rapidjson::Value* Dig(const rapidjson::Value* v, Keys... keys) {
  ((v = Get(v, keys)), ...);
  return v;
}

// `v` when it is an array, else a shared empty array: `for (auto& x : Arr(p).GetArray())`.
const rapidjson::Value& Arr(const rapidjson::Value* v);

// The first element of an array, or nullptr when `v` is not a non-empty array.
const rapidjson::Value* First(const rapidjson::Value* v);

bool IsObject(const rapidjson::Value* v);
// The string value, or "" when `v` is not a string.
std::string_view Str(const rapidjson::Value* v);
// Integers (and numbers with a fraction, truncated); nullopt when `v` is not a number.
std::optional<int64_t> Int(const rapidjson::Value* v);
int64_t IntOr(const rapidjson::Value* v, int64_t fallback);
// true only for JSON true.
bool Bool(const rapidjson::Value* v);
// Elements of an array or members of an object; 0 otherwise.
size_t Count(const rapidjson::Value* v);
// A parsed RFC 3339 string; nullopt when absent or unparseable.
std::optional<Timestamp> Time(const rapidjson::Value* v);
// An IntOrString value as Kubernetes prints it: "3", "25%"; "" when neither.
std::string IntOrString(const rapidjson::Value* v);
// Shorthands for metadata fields.
std::string_view Name(const rapidjson::Value& obj);
bool HasDeletionTimestamp(const rapidjson::Value& obj);

}  // namespace kite::tables::internal
