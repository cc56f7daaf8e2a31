// YAML text of a JSON value, in the form gnostic stores in openapi.v2.Any.yaml: block
// style, mappings nested four spaces deeper than their key, sequences indented under their
// key, "- " items whose mappings continue two columns in, keys in the value's order.
// Consumers (kube-openapi's proto reader, kubectl) parse this text back with a YAML
// library, so what matters is that it parses to the same value; the layout follows
// gopkg.in/yaml.v3's default output so that the common cases read the same.
//
// Strings are written plain when they cannot be mistaken for another type (letters, digits,
// "_./-" and inner spaces, starting with a letter or "/", and not a YAML 1.1 boolean or
// null word such as "yes", "on", "null"); every other string, including "", is
// double-quoted with JSON escapes, which YAML's double-quoted style accepts. Multi-line
// strings are double-quoted too (yaml.v3 would use a literal block; same value).
//
// Thread-safety: pure function. Recursion depth follows the value's nesting.
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace kite::openapi {

// The YAML text of `value`, ending in a newline ("apps\n", "- a\n- b\n", "{}\n").
std::string ToYamlText(const rapidjson::Value& value);

}  // namespace kite::openapi
