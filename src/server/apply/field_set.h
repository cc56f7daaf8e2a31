// FieldSet: a set of field paths of an object, as server-side apply records ownership in
// metadata.managedFields[].fieldsV1 (Kubernetes' structured-merge-diff "fieldpath.Set").
//
// A path is a sequence of path elements, each one of:
//   field  `f:<name>`    a field of an object, or a key of a map
//   key    `k:<json>`    an item of an associative list, named by its key fields: a JSON
//                        object of the key fields, names sorted (`k:{"name":"nginx"}`)
//   value  `v:<json>`    an item of a set (a list of primitives), by its value (`v:"x"`)
//   index  `i:<n>`       an item by position (read and written, never produced here)
// The set holds "member" paths. Encoded as fieldsV1 it is a tree of JSON objects keyed by
// the elements' strings; a member with nothing below it is `{}`, a member that also has
// members below it carries `".": {}` as its first key. Keys are in structured-merge-diff's
// order: fields (by name), then keys, then values, then indexes; values order numbers, then
// strings, then booleans, then lists, maps and null.
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <set>
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
  std::string text_;  // string content; "true"/"false"; canonical JSON of lists and maps
  std::string json_ = "null";
};

struct PathElement {
  enum class Kind { kField = 0, kKey = 1, kValue = 2, kIndex = 3 };
  Kind kind = Kind::kField;
  std::string field;                                  // kField
  std::vector<std::pair<std::string, PathValue>> key;  // kKey, sorted by name
  PathValue value;                                    // kValue
  int64_t index = 0;                                  // kIndex

  static PathElement Field(std::string_view name);
  // `fields` need not be sorted.
  static PathElement Key(std::vector<std::pair<std::string, PathValue>> fields);
  static PathElement Value(PathValue v);
  static PathElement Index(int64_t i);
  // Parses one fieldsV1 key ("f:spec", "k:{...}", ...). kInvalidArgument when malformed;
  // kNotFound for an unknown prefix (fieldsV1 readers skip those).
  static Result<PathElement> Parse(std::string_view text);

  int Compare(const PathElement& other) const;
  bool operator<(const PathElement& other) const { return Compare(other) < 0; }
  bool operator==(const PathElement& other) const { return Compare(other) == 0; }
  // The fieldsV1 key: "f:spec", "k:{\"name\":\"a\"}", "v:\"x\"", "i:0".
  std::string Serialize() const;
  // As in a conflict path: ".spec", "[name=\"a\"]", "[=\"x\"]", "[0]".
  std::string ToString() const;
};

using Path = std::vector<PathElement>;

// ".spec.template.spec.containers[name=\"nginx\"].image"; "" for the empty path.
std::string PathString(const Path& path);
// True when `prefix` is a (not necessarily proper) prefix of `path`.
bool HasPrefix(const Path& path, const Path& prefix);

class FieldSet {
 public:
  void Insert(Path path) { paths_.insert(std::move(path)); }
  void Erase(const Path& path) { paths_.erase(path); }
  bool Has(const Path& path) const { return paths_.count(path) != 0; }
  // A member strictly below `path`.
  bool HasDescendant(const Path& path) const;
  // `path` is a member or has one below it.
  bool Touches(const Path& path) const { return Has(path) || HasDescendant(path); }
  bool empty() const { return paths_.empty(); }
  size_t size() const { return paths_.size(); }

  FieldSet Union(const FieldSet& other) const;
  FieldSet Difference(const FieldSet& other) const;
  // In place: cheaper than the copies above when one side is small (every write records
  // its changes against each manager's set).
  void InsertAll(const FieldSet& other);
  void EraseAll(const FieldSet& other);
  FieldSet Intersection(const FieldSet& other) const;
  // Without every member that has a member of `prefixes` as prefix (itself included).
  FieldSet RecursiveDifference(const FieldSet& prefixes) const;
  // Members with no member below them.
  FieldSet Leaves() const;

  const std::set<Path>& paths() const { return paths_; }
  bool operator==(const FieldSet& other) const { return paths_ == other.paths_; }

  // The fieldsV1 JSON object.
  rapidjson::Value ToFieldsV1(rapidjson::Document::AllocatorType& allocator) const;
  // Reads fieldsV1 (unknown element prefixes are skipped, as Kubernetes does). kInvalidArgument
  // for a value that is not a tree of objects, a malformed element or nesting deeper than
  // kMaxDepth.
  static Result<FieldSet> FromFieldsV1(const rapidjson::Value& fields);

  static constexpr int kMaxDepth = 256;

 private:
  std::set<Path> paths_;
};

// Nesting depth of a JSON value (a scalar is 1), computed without recursion.
int JsonDepth(const rapidjson::Value& value);

// JSON text of a string with Go's encoding/json escaping (HTML characters as \u00XX).
std::string GoJsonString(std::string_view s);
// A string quoted for a message, as Go's %q prints it (JSON-style escapes, no HTML escaping).
std::string GoQuote(std::string_view s);

}  // namespace kite::apply
