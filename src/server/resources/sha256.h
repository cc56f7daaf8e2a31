// SHA-256 (FIPS 180-4) of a byte string. Small and dependency-free: discovery needs it only
// for storage version hashes, which must match what Kubernetes computes.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace kite::resources {

std::array<uint8_t, 32> Sha256(std::string_view data);

}  // namespace kite::resources
