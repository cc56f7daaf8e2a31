// Parsers for the kinds of value a kite flag or config key can hold.
//
// All are pure functions of their argument (no I/O, no locale), so they are safe from any
// thread. Each returns nullopt or false for input it does not accept; the caller words the
// error, because only it knows which flag the value came from.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kite::cli {

// A decimal integer with an optional leading '-', no spaces, no '+', in int64 range.
std::optional<int64_t> ParseInteger(std::string_view text);

// A TCP port: a decimal integer in 1..65535.
std::optional<int> ParsePort(std::string_view text);

// A permission mode in octal, as chmod takes it: 1 to 4 digits 0-7, with or without a
// leading 0 ("600", "0644"). Returns the mode bits (at most 07777).
std::optional<uint32_t> ParseFileMode(std::string_view text);

// A Go duration as time.ParseDuration reads it ("1h0m0s", "30m", "1.5s", "0"; kube-apiserver's
// duration flags take this form). Negative durations parse; the caller decides.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// true/false, 1/0, yes/no, in any letter case (YAML 1.1 users write yes/no).
std::optional<bool> ParseBool(std::string_view text);

// An IPv4 or IPv6 address literal, without brackets or a port.
bool IsIpAddress(std::string_view text);

// ADDRESS/PREFIX with an IPv4 (prefix 0-32) or IPv6 (prefix 0-128) address, or two of
// them separated by a comma for a dual-stack cluster ("10.42.0.0/16,fd00:42::/56").
bool IsCidrList(std::string_view text);

// http:// or https:// followed by a non-empty host (and optional :port and path).
bool IsHttpUrl(std::string_view text);

// SCHEME://REST, where SCHEME is a lower-case letter followed by letters, digits, '+', '-'
// or '.'; REST may be empty ("memory://"). Which schemes work is the store's business.
bool IsEndpoint(std::string_view text);

// Printable ASCII without spaces (what a join token may hold), at least one character.
bool IsTokenText(std::string_view text);

// A Kubernetes object name of the DNS-subdomain form, as node names must be: at most 253
// characters of lower-case letters, digits, '-' and '.', starting and ending with a letter
// or digit.
bool IsDnsSubdomain(std::string_view text);

}  // namespace kite::cli
