// How Kubernetes prints JSON values inside validation messages, and value comparison with
// the type rules of decoded JSON (Go's encoding/json into interface{}: integers that fit in
// int64 are int64, every other number is float64).
//
// Kubernetes' messages come from Go's fmt package: field.Error prints a bad value with %v
// for numbers and booleans, %q for strings and %#v for maps and slices; kube-openapi prints
// limits with %v. These functions reproduce that text so Kite's causes read the same.
//
// Every function here walks values without recursion (or with a small fixed depth bound),
// so a value nested 10000 levels deep cannot overflow the stack.
// All functions are pure and thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kite::crd {

// Go's strconv.Quote / %q of a string.
std::string GoQuote(std::string_view s);

// Go's %v of a float64: shortest round-trip digits, exponent form when the decimal
// exponent is < -4 or >= 6 ("1.5", "100000", "1e+06", "1.234567e+06", "1e-05").
std::string FormatGoFloat(double d);

// True when the decoded value would be a Go int64 (a JSON integer literal within range).
bool IsGoInt(const rapidjson::Value& v);
// The number as float64 (ints converted).
double AsDouble(const rapidjson::Value& v);

// A number as Go prints it with %v: int64 in decimal, float64 via FormatGoFloat.
std::string FormatNumber(const rapidjson::Value& v);

// The bad value of a field.Error as its message prints it: `"text"` for strings, 15, 1.5,
// true, null, and Go's %#v for objects and arrays
// (`map[string]interface {}{"a":1}`, `[]interface {}{"x"}`). Deeply nested values are
// cut short with "...".
std::string FormatBadValue(const rapidjson::Value& v);

// How Go's fmt prints a decoded value with %v and %T ("1.5" / "float64", "map[a:1]" /
// "map[string]interface {}"), as apimachinery's unstructured accessor errors do. Nesting
// deeper than a few levels is elided.
std::string GoValueString(const rapidjson::Value& v);
std::string GoTypeName(const rapidjson::Value& v);

// JSON text with object keys sorted and numbers printed as Go's encoding/json does; used
// to compare compound values (x-kubernetes-list-type=set). Iterative.
std::string CanonicalJson(const rapidjson::Value& v);

// Compact JSON (keys in document order). Iterative.
std::string CompactJson(const rapidjson::Value& v);

// Deep equality with decoded-JSON types: int64 1 and float64 1 differ (as reflect.DeepEqual
// says); object member order does not matter. Iterative.
bool TypedDeepEqual(const rapidjson::Value& a, const rapidjson::Value& b);

// JSON nesting depth of `v` (a scalar is 1). Iterative; stops counting at `limit` + 1.
int JsonDepth(const rapidjson::Value& v, int limit);

// Deep copy that does not recurse (rapidjson's CopyFrom does).
void DeepCopy(const rapidjson::Value& from, rapidjson::Value& to,
              rapidjson::Document::AllocatorType& a);

// The JSON type name kube-openapi reports for a value: "string", "integer", "number",
// "boolean", "array", "object", "null".
std::string_view JsonTypeName(const rapidjson::Value& v);

// Decodes the UTF-8 sequence at s[pos] as Go does: invalid or truncated sequences give
// U+FFFD with width 1. `pos` must be < s.size().
char32_t DecodeRune(std::string_view s, size_t pos, int* width);

// Number of Unicode code points (invalid UTF-8 bytes count one each), as Go's
// utf8.RuneCountInString.
int64_t RuneCount(std::string_view s);

}  // namespace kite::crd
