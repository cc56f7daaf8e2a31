// Signs service-account tokens: JWS compact serialization with ES256 over an ECDSA P-256
// private key, in the shape kube-apiserver's token generator produces:
//   base64url({"alg":"ES256","kid":"<key id>"}) . base64url(claims JSON) . base64url(r||s)
//
// Thread-safety: immutable after construction; Sign may be called concurrently.
// Ownership: owns its key. Movable, not copyable.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/server/authn/token_claims.h"

namespace kite::authn {

class Es256Key;

class TokenSigner {
 public:
  // kInvalidArgument if `pem` holds no private key or the key is not ECDSA P-256.
  static Result<TokenSigner> FromPrivateKeyPem(std::string_view pem);

  TokenSigner(TokenSigner&&) noexcept;
  TokenSigner& operator=(TokenSigner&&) noexcept;
  ~TokenSigner();

  // The compact JWS of `claims` (ClaimsToJson). Aborts only if OpenSSL fails to sign with a
  // key it accepted at load time, which is a broken invariant, not an input error.
  std::string Sign(const TokenClaims& claims) const;

  // The "kid": base64url(SHA-256(DER SubjectPublicKeyInfo)), as Kubernetes derives it.
  std::string KeyId() const;
  // The public key as PEM ("BEGIN PUBLIC KEY"), e.g. to build a TokenVerifier.
  std::string PublicKeyPem() const;
  // The /openid/v1/jwks document: {"keys":[{"use":"sig","kty":"EC","kid":...,
  // "crv":"P-256","alg":"ES256","x":...,"y":...}]}.
  std::string JwksJson() const;

 private:
  explicit TokenSigner(std::unique_ptr<Es256Key> key);
  std::unique_ptr<Es256Key> key_;
};

}  // namespace kite::authn
