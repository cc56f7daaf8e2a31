// Validation of label keys and label values, with the messages Kubernetes gives
// (apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain),
// so that a rejected selector or label reads exactly as kube-apiserver's would.
//
// Each *Errors function returns the list of problems with its input (empty when valid);
// callers join them with "; " as Kubernetes does. All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kite::selection {

// Maximum length of a label value, and of the name part of a qualified name.
inline constexpr size_t kLabelValueMaxLength = 63;
// Maximum length of a DNS-1123 subdomain (the optional prefix of a label key).
inline constexpr size_t kDns1123SubdomainMaxLength = 253;

// A label key (or annotation key): an optional DNS-1123 subdomain prefix and '/', then a
// name of 1..63 characters from [A-Za-z0-9-_.] that starts and ends alphanumeric.
std::vector<std::string> QualifiedNameErrors(std::string_view value);

// A label value: empty, or up to 63 characters from [A-Za-z0-9-_.], starting and ending
// alphanumeric.
std::vector<std::string> LabelValueErrors(std::string_view value);

// A lowercase RFC 1123 subdomain: dot-separated labels of [a-z0-9-], each starting and
// ending alphanumeric, at most 253 characters in all.
std::vector<std::string> Dns1123SubdomainErrors(std::string_view value);

// The string as Go's %q prints it: in double quotes, with '"', '\\' and control bytes
// escaped. Bytes >= 0x80 pass through unchanged.
std::string GoQuote(std::string_view s);

// Kubernetes' field.Invalid error text: `<path>: Invalid value: "<value>": <d1>; <d2>`.
std::string InvalidValueMessage(std::string_view path, std::string_view value,
                                const std::vector<std::string>& details);

}  // namespace kite::selection
