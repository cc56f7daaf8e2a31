// Byte and text encodings the authentication code shares: RFC 3339 timestamps,
// constant-time comparison and CSPRNG output (random bytes, UUIDs, bootstrap-token
// characters). Base64 is kite's one codec, src/base/base64.h.
//
// Internal to kite_authn (other areas have their own helpers for what they need), but kept
// in a header of its own so each helper is tested directly.
//
// Thread-safety: every function is safe to call concurrently (OpenSSL 3's RAND is).
// Errors: the parser returns nullopt for malformed input; random sources return kInternal
// only when OpenSSL's CSPRNG fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::authn {

// "2024-05-01T10:00:00Z" (UTC, whole seconds), as Go's time.RFC3339 prints.
std::string FormatRfc3339(int64_t unix_seconds);
// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" → Unix seconds (fraction dropped). nullopt for
// anything else, including out-of-range fields.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// Compares in time that depends only on the lengths, not on where the bytes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `n` bytes from OpenSSL's CSPRNG.
Result<std::string> RandomBytes(size_t n);
// A random (version 4) UUID in its 36-character lower-case form, as Go's uuid.NewString.
Result<std::string> RandomUuid();
// `n` characters drawn uniformly from [a-z0-9] (rejection sampling, no modulo bias).
Result<std::string> RandomLowerAlnum(size_t n);

}  // namespace kite::authn
