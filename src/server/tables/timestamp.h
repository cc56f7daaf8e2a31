// RFC 3339 timestamps as Kubernetes writes them (metav1.Time "2024-05-01T10:00:00Z",
// metav1.MicroTime "2024-05-01T10:00:00.123456Z"), parsed and printed for table cells.
// Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kite::tables {

// Microseconds since the Unix epoch. Unlike the nanosecond system_clock, it spans year 1,
// which is Go's zero time ("0001-01-01T00:00:00Z", what an unset metav1.Time reads as).
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; digits past microseconds are
// dropped. nullopt for anything else (including out-of-range fields like month 13).
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// True for Go's zero time, which Kubernetes treats as "not set".
bool IsZeroTime(Timestamp t);

// "YYYY-MM-DDTHH:MM:SSZ" in UTC (sub-second part dropped), as Go's time.RFC3339 prints.
std::string FormatTimestamp(Timestamp t);

// The AGE cell: "<unknown>" for an absent or zero timestamp, else HumanDuration(now - t).
std::string AgeSince(std::optional<Timestamp> t, std::chrono::system_clock::time_point now);

}  // namespace kite::tables
