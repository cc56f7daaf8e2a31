// What a container log request asks for: the query of the agent's
// GET /containerLogs/<namespace>/<pod>/<container>, which carries Kubernetes' PodLogOptions
// (the API server passes pods/<name>/log's query on).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "src/base/status.h"

namespace kite::agent::logs {

struct LogOptions {
  bool follow = false;      // keep streaming what the container writes until it stops
  bool previous = false;    // the container's previous attempt (the one before the newest)
  bool timestamps = false;  // prefix every line with its RFC 3339 time and a space
  std::optional<int64_t> tail_lines;     // only the last N lines of the file (N >= 0)
  std::optional<int64_t> since_seconds;  // only entries from the last N seconds (N >= 1)
  std::optional<int64_t> limit_bytes;    // stop after N bytes of output (N >= 1)
  std::optional<int64_t> since_time;     // only entries at or after this time, in
                                         // nanoseconds since the Unix epoch
};

// Parses a raw (percent-encoded) query string: follow, previous, timestamps (present and not
// "0"/"false" in any case means true, as Kubernetes reads query booleans), tailLines,
// sinceSeconds, limitBytes (decimal integers), sinceTime (RFC 3339), and the kubelet's
// older `tail` (a number, or "all" for no limit). Other parameters are ignored; an empty
// value counts as absent.
// Errors (kInvalidArgument): a value that does not parse, naming the parameter; then
// Kubernetes' PodLogOptions validation, in its field-error wording: tailLines < 0
// ("must be greater than or equal to 0"), limitBytes < 1 and sinceSeconds < 1 ("must be
// greater than 0"), both sinceSeconds and sinceTime ("at most one of `sinceTime` or
// `sinceSeconds` may be specified").
Result<LogOptions> ParseLogOptions(std::string_view query);

}  // namespace kite::agent::logs
