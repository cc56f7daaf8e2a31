// Verifies service-account tokens (bound tokens, as TokenSigner and kube-apiserver issue
// them): signature, algorithm, issuer, audience and validity window.
//
// Operation: a token is accepted only if all hold:
//   - at most kMaxTokenBytes, three non-empty base64url parts (no padding);
//   - the header is a JSON object with "alg":"ES256" ("none", HS*, RS* ... are refused),
//     no "crit", and a "kid" (when present) equal to this key's id;
//   - the signature is the 64-byte r||s form (a DER signature is refused) and verifies;
//   - the payload parses as TokenClaims (ParseClaimsJson: required claims present);
//   - iss equals the configured issuer; aud shares at least one accepted audience;
//   - with Kubernetes' 60-second leeway: now - 60 <= exp, now + 60 >= nbf, now + 60 >= iat.
// Limitations: it checks the token alone. Whether the service account (and the bound pod,
// secret or node) still exists with the claimed uid is the caller's check, against the store.
// One key only; rotation would need a key list selected by kid.
//
// Thread-safety: immutable after construction; Verify may be called concurrently.
// Errors: every rejection is kInvalidArgument with a reason meant for logs and a 401.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/authn/token_claims.h"

namespace kite::authn {

class Es256Key;

// Clock skew tolerated on exp, nbf and iat (go-jose's DefaultLeeway, which Kubernetes uses).
inline constexpr int64_t kTokenLeewaySeconds = 60;
// Longer bearer tokens are refused before any decoding. Real tokens are 1-2 KiB.
inline constexpr size_t kMaxTokenBytes = 16 * 1024;

class TokenVerifier {
 public:
  // `pem`: a "BEGIN PUBLIC KEY" P-256 key (or a private key PEM, whose public half is used).
  // kInvalidArgument for an unusable key, an empty issuer or no accepted audience.
  static Result<TokenVerifier> FromPublicKeyPem(std::string_view pem, std::string issuer,
                                                std::vector<std::string> accepted_audiences);

  TokenVerifier(TokenVerifier&&) noexcept;
  TokenVerifier& operator=(TokenVerifier&&) noexcept;
  ~TokenVerifier();

  // The token's claims if it is valid at `now_s` (Unix seconds); see the class comment.
  Result<TokenClaims> Verify(std::string_view token, int64_t now_s) const;

  const std::string& issuer() const { return issuer_; }

 private:
  TokenVerifier(std::unique_ptr<Es256Key> key, std::string issuer,
                std::vector<std::string> audiences);

  std::unique_ptr<Es256Key> key_;
  std::string issuer_;
  std::vector<std::string> audiences_;
};

}  // namespace kite::authn
