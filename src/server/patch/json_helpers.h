// Helpers the three patch engines share: parsing untrusted JSON with a nesting cap, member
// access by exact name (names may contain NUL), value comparison and keys for hashing, and
// short renderings of values for error messages.
//
// Internal to src/server/patch/. Stateless; thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::patch::internal {

using Allocator = rapidjson::Document::AllocatorType;

// Deepest container nesting a patch or a patched document may have. Every recursive walk in
// the engines is bounded by it, so no input can exhaust the stack.
inline constexpr int kMaxDepth = 1000;

// Parses `text` into `doc`, which keeps the allocator its owner gave it (the engines parse the
// patch into the allocator of the document being built, so values can move between them).
// The parser is iterative. Fails with kInvalidArgument on malformed JSON, invalid UTF-8, or
// nesting deeper than kMaxDepth; `what` names the input in the message ("patch").
Status ParseJson(std::string_view text, std::string_view what, rapidjson::Document& doc);

// Container nesting depth: a scalar is 0, `[]` and `{}` are 1, `[[1]]` is 2. Iterative, so
// safe on any input.
int Depth(const rapidjson::Value& v);

// A rough size in bytes of `v` serialized, computed iteratively.
size_t ApproxSize(const rapidjson::Value& v);

// The string content of a string value (which may contain NUL bytes).
inline std::string_view StringOf(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// The first member of `object` named exactly `name`, or nullptr. `object` must be an object.
rapidjson::Value* FindMember(rapidjson::Value& object, std::string_view name);
const rapidjson::Value* FindMember(const rapidjson::Value& object, std::string_view name);

// Erases every member named `name` from `object`, keeping the others in order. Returns
// whether one was erased.
bool EraseMember(rapidjson::Value& object, std::string_view name);

// Sets member `name` of `object` to `value` (moved out, left null): replaces the value of the
// first member with that name, or appends a member.
void SetMember(rapidjson::Value& object, std::string_view name, rapidjson::Value& value,
               Allocator& alloc);

// Inserts `value` (moved out) into `array` before position `index` (<= size).
void InsertElement(rapidjson::Value& array, size_t index, rapidjson::Value& value,
                   Allocator& alloc);

// JSON equality: numbers compare by numeric value (1 == 1.0), objects ignore member order,
// arrays compare in order. Recursion is bounded by the depth of the inputs.
bool JsonEqual(const rapidjson::Value& a, const rapidjson::Value& b);

// A string that is equal for two values exactly when JsonEqual is true for scalars (and for
// containers written with the same member order): "s" + text for strings, "n" + canonical
// number, and so on. Used to index list items by value or by merge key.
std::string KeyOf(const rapidjson::Value& v);

// Compact JSON for `v`, cut to about `max_len` characters with "..." appended when cut.
std::string Render(const rapidjson::Value& v, size_t max_len = 200);

// `s` as a JSON string literal ("a\"b"), for messages.
std::string Quote(std::string_view s);

}  // namespace kite::patch::internal
