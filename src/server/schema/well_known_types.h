// The JSON spellings of Kubernetes' time types, as Go produces and accepts them:
// metav1.Time / MicroTime (RFC 3339 in UTC). metav1.Duration and []byte have kite-wide
// codecs: src/base/go_duration.h and src/base/base64.h.
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

}  // namespace kite::schema
