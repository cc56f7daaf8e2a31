// Base64 (RFC 4648) as Kubernetes' Go code writes and reads it.
//
// Two alphabets:
// - standard, with '=' padding (Go's base64.StdEncoding): []byte fields in JSON (Secret
//   data, ConfigMap binaryData), kubeconfig *-data fields, docker config "auth",
//   Sec-WebSocket-Key/Accept and the v4.base64.channel.k8s.io subprotocol;
// - URL-safe without padding (Go's base64.RawURLEncoding): JWS compact serialization
//   (service-account tokens, JWK coordinates and key ids).
//
// Thread-safety: pure functions. Errors: every input is handled; decoders return nullopt
// (or a kInvalidArgument Status that says where) for malformed text, never crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite {

// Standard alphabet, padded to a multiple of 4 characters, no line breaks.
std::string Base64Encode(std::string_view bytes);

enum class Base64Padding {
  kRequired,  // Go's StdEncoding: the last quantum is 4 characters, padded with '='
  kOptional,  // the last quantum may also be 2 or 3 characters without '='
};

// Standard alphabet, as Go's base64.StdEncoding.DecodeString: CR and LF anywhere are
// skipped; non-zero unused bits in the last character are accepted (Go's decoder is not
// Strict); nothing but CR/LF may follow padding. nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text,
                                        Base64Padding padding = Base64Padding::kRequired);

// Base64Decode with padding required, for messages that must match Go's: on failure
// kInvalidArgument with the text of Go's CorruptInputError, "illegal base64 data at input
// byte N", with Go's N (the first byte that cannot continue valid input; for a truncated
// last quantum, where that quantum starts — so "not base64!" gives 3, "abcde" gives 4).
Result<std::string> Base64DecodeOrError(std::string_view text);

// URL-safe alphabet ('-' and '_'), no padding (RFC 4648 §5, JWS).
std::string Base64UrlEncode(std::string_view bytes);

// Strict, stricter than Go's RawURLEncoding: rejects padding, CR/LF and any other
// character outside the URL-safe alphabet, a length of 1 mod 4, and non-zero unused bits
// in the last character. So every byte string has exactly one accepted spelling, and a
// signed token cannot be altered without changing its signed bytes.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kite
