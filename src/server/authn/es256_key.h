// ECDSA P-256 keys for ES256 (RFC 7518 §3.4): loading from PEM, the Kubernetes key id, the
// JWK form, and signing / verifying with the raw r||s signature JWS uses (not DER).
//
// Internal to kite_authn: TokenSigner and TokenVerifier are the public faces.
//
// Thread-safety: an Es256Key is immutable after loading; OpenSSL 3 allows concurrent
// signing and verifying with one EVP_PKEY (each call uses its own context).
// Errors: kInvalidArgument for PEM text without a usable P-256 key; kInternal when OpenSSL
// fails on a valid key.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::authn {

class Es256Key {
 public:
  // A private key ("BEGIN PRIVATE KEY" PKCS#8 or "BEGIN EC PRIVATE KEY").
  static Result<Es256Key> FromPrivateKeyPem(std::string_view pem);
  // A public key ("BEGIN PUBLIC KEY"), or the public half of a private key PEM, as
  // kube-apiserver's --service-account-key-file accepts either.
  static Result<Es256Key> FromPublicKeyPem(std::string_view pem);

  bool has_private_key() const { return has_private_; }

  // base64url(SHA-256(DER SubjectPublicKeyInfo)), unpadded: how Kubernetes derives "kid".
  const std::string& key_id() const { return key_id_; }
  // The public key as "BEGIN PUBLIC KEY" PEM.
  const std::string& public_key_pem() const { return public_pem_; }
  // {"use":"sig","kty":"EC","kid":...,"crv":"P-256","alg":"ES256","x":...,"y":...}
  // (x and y are the 32-byte big-endian coordinates, base64url).
  const std::string& jwk_json() const { return jwk_json_; }

  // The 64-byte r||s signature of SHA-256(`message`). Requires a private key. kInternal if
  // OpenSSL fails.
  Result<std::string> Sign(std::string_view message) const;
  // True only for a valid 64-byte r||s signature of `message` by this key.
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  struct KeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  static Result<Es256Key> FromKey(EVP_PKEY* key, bool has_private);

  std::unique_ptr<EVP_PKEY, KeyDeleter> key_;
  bool has_private_ = false;
  std::string key_id_;
  std::string public_pem_;
  std::string jwk_json_;
};

}  // namespace kite::authn
