// Terse helpers for building fresh JSON objects with RapidJSON (agent-internal). Put adds
// a member without looking for an existing one: for objects being built, not edited.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string_view>

namespace kite::agent::jb {

using Alloc = rapidjson::Document::AllocatorType;
using rapidjson::Value;

inline Value Str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline Value Object() { return Value(rapidjson::kObjectType); }
inline Value Array() { return Value(rapidjson::kArrayType); }

inline void Put(Value& object, std::string_view key, Value value, Alloc& a) {
  object.AddMember(Str(key, a), value, a);
}
inline void PutStr(Value& object, std::string_view key, std::string_view value, Alloc& a) {
  Put(object, key, Str(value, a), a);
}
inline void PutInt(Value& object, std::string_view key, int64_t value, Alloc& a) {
  Put(object, key, Value(value), a);
}
inline void PutBool(Value& object, std::string_view key, bool value, Alloc& a) {
  Put(object, key, Value(value), a);
}

}  // namespace kite::agent::jb
