// The CRI container log file format (what containerd writes for every container, and what
// the kubelet reads for `kubectl logs`): one entry per line,
//
//   <RFC 3339 time with nanoseconds> <stdout|stderr> <tag> <content>\n
//
// e.g. "2024-01-02T03:04:05.123456789Z stdout F hello". The tag is "F" (full: the entry
// ends a line of the container's output) or "P" (partial: the runtime split a long line;
// its content joins the next entry's). Tags may carry ':'-separated extensions after the
// first; only the first is read.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kite::agent::logs {

struct CriLogEntry {
  std::string_view timestamp;  // the time as written in the file
  int64_t unix_nanos = 0;      // the same, as nanoseconds since the Unix epoch (UTC)
  bool is_stderr = false;
  bool partial = false;         // tag "P"
  std::string_view content;     // without the line's '\n'
};

// Parses one line (without its '\n'); nullopt when it is not a CRI log entry (bad time,
// unknown stream, missing tag). A tag other than "P" reads as full, as the kubelet reads
// it. Views point into `line`.
std::optional<CriLogEntry> ParseCriLogLine(std::string_view line);

// RFC 3339 with an optional fraction of 1 to 9 digits and "Z" or a "+hh:mm"/"-hh:mm" offset,
// as Go's time.RFC3339Nano parses it, to nanoseconds since the epoch. nullopt on anything
// else, or outside the years 1678..2261 (what int64 nanoseconds hold).
std::optional<int64_t> ParseRfc3339Nanos(std::string_view text);

// Go's time.RFC3339Nano in UTC: "2024-01-02T03:04:05.1234Z" (trailing zeros of the fraction
// dropped, no fraction when it is zero).
std::string FormatRfc3339Nanos(int64_t unix_nanos);

// One entry as a runtime writes it, '\n' included (tests, and writers of CRI logs).
std::string FormatCriLogLine(int64_t unix_nanos, bool is_stderr, bool partial,
                             std::string_view content);

}  // namespace kite::agent::logs
