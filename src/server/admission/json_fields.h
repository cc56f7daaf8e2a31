// Internal to kite_admission: reading and defaulting fields of API objects held as JSON.
//
// Objects come from request bodies, so every field may be absent, null or of the wrong
// type. Readers return nothing for absent/null fields and, when given a Causes, report a
// wrong type as a FieldValueTypeInvalid cause at the field's path; defaulting helpers only
// fill fields that are absent, null or (for Go's non-pointer fields) the zero value, and
// leave wrong-typed fields alone for validation to report.
//
// Causes collects field errors with apimachinery's wording (util/validation/field); values
// are printed as Go's %q / %v / %#v would print them, because clients match on the text.
// Not thread-safe (one Causes per validation run); the free functions are pure.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/server/validation/field_causes.h"

namespace kite::admission {

using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;
using validation::StatusCause;

// Field paths as Kubernetes prints them: "spec.containers[0].name", "data[tls.crt]".
std::string Child(std::string_view path, std::string_view name);
std::string Index(std::string_view path, size_t i);
std::string Key(std::string_view path, std::string_view key);

class Causes {
 public:
  // "Required value" / "Required value: <detail>".
  void Required(std::string path, std::string detail = "");
  // Invalid value with a string value (printed as Go's %q).
  void Invalid(std::string path, std::string_view value, std::string detail);
  // Invalid value already formatted (a number, "null", a Go struct dump).
  void InvalidRaw(std::string path, std::string formatted, std::string detail);
  void InvalidInt(std::string path, int64_t value, std::string detail);
  void NotSupported(std::string path, std::string_view value,
                    const std::vector<std::string>& supported);
  void NotSupportedRaw(std::string path, std::string formatted,
                       const std::vector<std::string>& supported);
  void Forbidden(std::string path, std::string detail);
  void Duplicate(std::string path, std::string_view value);
  void DuplicateRaw(std::string path, std::string formatted);
  // "Not found: <value>" (FieldValueNotFound), optionally with a detail.
  void NotFound(std::string path, std::string_view value, std::string detail = "");
  void TooLong(std::string path, size_t max_bytes);
  // A field of the wrong JSON type: `Invalid value: "string": must be of type integer`.
  void TypeInvalid(std::string path, const Value& value, std::string_view expected);
  // Each message of `details` as an Invalid cause with the string value.
  void InvalidEach(const std::string& path, std::string_view value,
                   const std::vector<std::string>& details);

  void Add(StatusCause cause) { list_.push_back(std::move(cause)); }
  std::vector<StatusCause>& list() { return list_; }
  size_t size() const { return list_.size(); }

 private:
  std::vector<StatusCause> list_;
};

// The member, or nullptr when `parent` is null, not an object, lacks it, or it is null.
const Value* Get(const Value* parent, std::string_view name);
Value* GetMutable(Value* parent, std::string_view name);

// Typed readers. `causes` may be nullptr (no reporting). `path` is the member's own path.
const Value* GetObject(Causes* causes, const Value* parent, std::string_view name,
                       const std::string& path);
const Value* GetArray(Causes* causes, const Value* parent, std::string_view name,
                      const std::string& path);
std::optional<std::string_view> GetString(Causes* causes, const Value* parent,
                                          std::string_view name, const std::string& path);
// JSON integers only (Go rejects 1.5 for an integer field); GetInt32 also reports values
// outside int32.
std::optional<int64_t> GetInt(Causes* causes, const Value* parent, std::string_view name,
                              const std::string& path);
std::optional<int64_t> GetInt32(Causes* causes, const Value* parent, std::string_view name,
                                const std::string& path);
std::optional<bool> GetBool(Causes* causes, const Value* parent, std::string_view name,
                            const std::string& path);

// Element `i` of an array as an object; reports other types at `path`.
const Value* ElementObject(Causes* causes, const Value& element, const std::string& path);

// A map[string]string field: its entries in document order (non-string values are
// reported and skipped). `present` tells nil (absent/null) from empty.
struct StringMap {
  bool present = false;
  std::vector<std::pair<std::string_view, std::string_view>> entries;
};
StringMap GetStringMap(Causes* causes, const Value* parent, std::string_view name,
                       const std::string& path);
// A []string field (non-string elements reported and skipped).
std::optional<std::vector<std::string_view>> GetStringList(Causes* causes, const Value* parent,
                                                           std::string_view name,
                                                           const std::string& path);

// intstr.IntOrString.
struct IntOrString {
  bool is_string = false;
  int64_t int_value = 0;
  std::string_view string_value;
};
std::optional<IntOrString> GetIntOrString(Causes* causes, const Value* parent,
                                          std::string_view name, const std::string& path);

// A JSON number's text as written in JSON ("5", "0.5"); "" for non-numbers.
std::string NumberText(const Value& v);
// A resource.Quantity field's text: strings as they are, numbers as NumberText; nullopt
// for other types.
std::optional<std::string> QuantityText(const Value& v);

// Go's apiequality.Semantic.DeepEqual on JSON as Kubernetes' typed decoding would see it:
// absent, null and zero values ("", 0, false, [], {}) are equal; object member order does
// not matter. Objects nested deeper than 256 levels compare unequal.
bool SemanticEqual(const Value* a, const Value* b);

// Sets a string member; unlike json::SetStringMember, safe for a default-constructed
// (null-data) string_view, which RapidJSON's debug checks reject.
void SetStringField(Value& object, std::string_view name, std::string_view value, Allocator& a);

// Defaulting. Each sets `name` on `object` (if it is an object) when the member is absent
// or null; the *Zero variants also replace Go's zero value ("" or 0) of non-pointer fields.
void DefaultString(Value& object, std::string_view name, std::string_view value, Allocator& a);
void DefaultInt(Value& object, std::string_view name, int64_t value, Allocator& a);
void DefaultIntZero(Value& object, std::string_view name, int64_t value, Allocator& a);
void DefaultBool(Value& object, std::string_view name, bool value, Allocator& a);
// The object member, created as {} when absent or null; nullptr when it has another type.
Value* DefaultObject(Value& object, std::string_view name, Allocator& a);
// Go's zero time.Time, however it was written ("" or 0001-01-01T00:00:00Z).
bool IsZeroTime(std::string_view rfc3339);
// time.Time.String() of an RFC 3339 timestamp, in UTC ("2024-05-01 10:00:00.5 +0000 UTC"),
// as field errors print a time; text that is not such a timestamp is shown quoted.
std::string GoTime(std::string_view rfc3339);

// The member when it is an object / array; nullptr otherwise.
Value* MutableObject(Value& object, std::string_view name);
Value* MutableArray(Value& object, std::string_view name);

}  // namespace kite::admission
