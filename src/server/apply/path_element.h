// Paths into an object as server-side apply names its fields (structured-merge-diff's
// fieldpath.PathElement): field `f:<name>`, key `k:<json>`, value `v:<json>` and index
// `i:<n>` elements (see field_set.h for the fieldsV1 encoding), their order, parsing and
// printing; and the Go-compatible JSON and quoting that fieldsV1 and conflict messages use.
//
// Thread-safety: plain values (elements share their parsed key data immutably through
// reference counts, which copies on any thread may do concurrently).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/status.h"

namespace kite::apply {

// A JSON value inside a path element: a key field's value or a set item. Numbers compare by
// value (1 and 1.0 are equal), as structured-merge-diff does.
class PathValue {
 public:
  PathValue() = default;
  static PathValue FromJson(const rapidjson::Value& value);

  // <0, 0, >0.
  int Compare(const PathValue& other) const;
  bool operator==(const PathValue& other) const { return Compare(other) == 0; }
  // Compact JSON as fieldsV1 writes it (Go's encoding: <, > and & escaped as \u003c ...).
  const std::string& json() const { return json_; }
  // As a path prints it in a conflict: strings quoted, other values as JSON ("80", "true").
  std::string ToString() const;

 private:
  int rank_ = 5;  // 0 number, 1 string, 2 bool, 3 list, 4 map, 5 null
  bool is_int_ = false;
  int64_t int_ = 0;
  double number_ = 0;
  std::string text_;  // a string's content (the other kinds compare by json_)
  std::string json_ = "null";
};

// One element of a path. Cheap to compare and copy: a field holds its name; a key, value or
// index holds its fieldsV1 text and shares its parsed form between copies.
class PathElement {
 public:
  enum class Kind : uint8_t { kField = 0, kKey = 1, kValue = 2, kIndex = 3 };

  PathElement() = default;  // the field ""
  static PathElement Field(std::string_view name);
  // `fields` need not be sorted.
  static PathElement Key(std::vector<std::pair<std::string, PathValue>> fields);
  static PathElement Value(PathValue v);
  static PathElement Index(int64_t i);
  // Parses one fieldsV1 key ("f:spec", "k:{...}", ...). kInvalidArgument when malformed;
  // kNotFound for an unknown prefix (fieldsV1 readers skip those).
  static Result<PathElement> Parse(std::string_view text);

  Kind kind() const { return kind_; }
  // The name of a field; "" for the other kinds.
  std::string_view field() const { return kind_ == Kind::kField ? std::string_view(text_) : std::string_view(); }

  // <0, 0, >0 in structured-merge-diff's order (see the file comment).
  int Compare(const PathElement& other) const;
  // Compare(PathElement::Field(name)), without making the element.
  int CompareField(std::string_view name) const;
  bool operator<(const PathElement& other) const { return Compare(other) < 0; }
  bool operator==(const PathElement& other) const { return Compare(other) == 0; }
  // The fieldsV1 key: "f:spec", "k:{\"name\":\"a\"}", "v:\"x\"", "i:0".
  std::string Serialize() const;
  // Appends Serialize() to `out`.
  void AppendSerialized(std::string& out) const;
  // As in a conflict path: ".spec", "[name=\"a\"]", "[=\"x\"]", "[0]".
  std::string ToString() const;

 private:
  struct Parsed;  // key fields, set value or index
  Kind kind_ = Kind::kField;
  std::string text_;  // the fieldsV1 key without its "x:" prefix (for a field: the name)
  std::shared_ptr<const Parsed> parsed_;  // null for fields
};

using Path = std::vector<PathElement>;

// ".spec.template.spec.containers[name=\"nginx\"].image"; "" for the empty path.
std::string PathString(const Path& path);
// True when `prefix` is a (not necessarily proper) prefix of `path`.
bool HasPrefix(const Path& path, const Path& prefix);

// How deep objects, configurations and fieldsV1 may nest (deeper input is refused).
constexpr int kMaxPathDepth = 256;

// Nesting depth of a JSON value (a scalar is 1), computed without recursion.
int JsonDepth(const rapidjson::Value& value);

// JSON text of a string with Go's encoding/json escaping (HTML characters as \u00XX).
std::string GoJsonString(std::string_view s);
// A string quoted for a message, as Go's %q prints it (JSON-style escapes, no HTML escaping).
std::string GoQuote(std::string_view s);

}  // namespace kite::apply
