// The JSON spellings of Kubernetes' well-known types, as Go produces and accepts them:
// metav1.Time / MicroTime (RFC 3339 in UTC), metav1.Duration (Go duration strings) and
// []byte (standard base64 with padding).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kite::schema {

// Seconds since the Unix epoch as "2024-01-02T03:04:05Z", or with `micro` as
// "2024-01-02T03:04:05.123456Z" (nanos truncated to microseconds). nullopt outside the years
// 0000..9999, which Go's encoder rejects too.
std::optional<std::string> FormatRfc3339(int64_t seconds, int64_t nanos, bool micro);

// Parses RFC 3339: "2024-01-02T03:04:05Z", optional fraction (up to 9 digits), "Z" or a
// "+hh:mm" / "-hh:mm" offset. Returns false on anything else.
bool ParseRfc3339(std::string_view text, int64_t* seconds, int32_t* nanos);

// Go's time.Duration.String(): "0s", "1.5s", "2m3s", "1h0m0s", "300ms", "2µs", "-4ns".
std::string FormatGoDuration(int64_t nanos);

// Go's time.ParseDuration: "[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+" with units ns us µs ms s m h,
// or "0". Returns false on syntax errors and on overflow of int64 nanoseconds.
bool ParseGoDuration(std::string_view text, int64_t* nanos);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; CR and LF are ignored, as Go's decoder does.
bool Base64Decode(std::string_view text, std::string* bytes);

}  // namespace kite::schema
