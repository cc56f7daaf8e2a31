// How the metrics API writes its numbers, exactly as metrics-server's objects serialize
// them: resource.Quantity's canonical strings and metav1.Duration's Go duration strings.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace kite::metrics {

// CPU in nanocores as a DecimalSI quantity of scale -9, canonical: trailing zeros folded
// into the largest SI suffix that keeps the number whole: 123456789 → "123456789n",
// 12000000 → "12m", 1500000 → "1500u", 2000000000 → "2", 0 → "0". Negative input is 0.
std::string FormatCpuNanocores(int64_t nanocores);

// Memory in bytes as a BinarySI quantity, canonical: the largest power-of-1024 suffix that
// keeps the number whole (1048576 → "1Mi", 1263616 → "1234Ki", 1500 → "1500"); values
// below 1024 are written in DecimalSI, as Kubernetes does (1000 → "1k", 512 → "512").
// Negative input is 0.
std::string FormatMemoryBytes(int64_t bytes);

// A duration of `millis` as Go's time.Duration.String() writes it: "15s", "15.012s",
// "1m0s", "1h2m3.5s", "500ms", "0s".
std::string FormatGoDuration(int64_t millis);

}  // namespace kite::metrics
