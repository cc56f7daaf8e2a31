// Kubernetes resource quantities ("100m", "1Gi", "1.5", "1e3") as the integers the scheduler
// compares: milli-units for cpu, whole units for everything else, both rounded up as
// resource.Quantity's MilliValue() and Value() do.
//
// This is the scheduler's private parser, kept until a shared one exists (the lead merges
// them): it accepts Kubernetes' quantity grammar — an optionally signed decimal number
// followed by a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m "" k M G T P E)
// or a decimal exponent (e3, E-2).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kite::scheduler {

enum class QuantityScale {
  kUnit,   // Value(): bytes, pods, devices
  kMilli,  // MilliValue(): cpu
};

// The quantity in `scale` units, rounded up (towards +infinity); values beyond int64 saturate
// at INT64_MAX (or INT64_MIN). nullopt when `text` is not a quantity.
std::optional<int64_t> ParseQuantity(std::string_view text, QuantityScale scale);

}  // namespace kite::scheduler
