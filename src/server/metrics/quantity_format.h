// How the metrics API writes its quantities, exactly as metrics-server's objects serialize
// them: resource.Quantity's canonical strings. (Windows, metav1.Duration, are written by
// src/base/go_duration.h.)
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

}  // namespace kite::metrics
