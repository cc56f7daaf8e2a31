// Go's time.Duration text form, as Kubernetes writes metav1.Duration fields, metrics
// windows, probe and back-off messages, and as robfig/cron reads "@every <duration>".
//
// Thread-safety: pure functions. Errors: every input is handled; parse failures are
// kInvalidArgument with Go's own error texts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite {

// Go's time.Duration.String() of `nanos`: "0s", "1ns", "1.1µs" (U+00B5), "2.2ms", "1.5s",
// "2m3s", "1h0m0s", "-4ns"; under a second in the largest unit that keeps an integer part,
// from a second up as h/m/s with a fraction of seconds without trailing zeros. Exact for
// every int64, INT64_MIN included.
std::string FormatGoDuration(int64_t nanos);

// Go's time.ParseDuration: "[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+" with units ns, us, µs
// (U+00B5 or U+03BC), ms, s, m, h, or a lone "0" (signed or not). Nanoseconds; fractions are
// truncated as Go does (through a double, exact to the nanosecond for hours).
// Errors (kInvalidArgument), with `text` quoted as Go quotes it (bytes outside printable
// ASCII as \xNN):
//   time: invalid duration "<text>"           syntax errors and int64 overflow
//   time: missing unit in duration "<text>"
//   time: unknown unit "<unit>" in duration "<text>"
Result<int64_t> ParseGoDuration(std::string_view text);

}  // namespace kite
