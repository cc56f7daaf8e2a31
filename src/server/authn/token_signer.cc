#include "src/server/authn/token_signer.h"

#include <cstdio>
#include <cstdlib>

#include "src/base/base64.h"
#include "src/server/authn/es256_key.h"

namespace kite::authn {

Result<TokenSigner> TokenSigner::FromPrivateKeyPem(std::string_view pem) {
  Result<Es256Key> key = Es256Key::FromPrivateKeyPem(pem);
  if (!key.ok()) return key.status();
  return TokenSigner(std::make_unique<Es256Key>(std::move(key).value()));
}

TokenSigner::TokenSigner(std::unique_ptr<Es256Key> key) : key_(std::move(key)) {}
TokenSigner::TokenSigner(TokenSigner&&) noexcept = default;
TokenSigner& TokenSigner::operator=(TokenSigner&&) noexcept = default;
TokenSigner::~TokenSigner() = default;

std::string TokenSigner::Sign(const TokenClaims& claims) const {
  // The key id is base64url text, so it needs no JSON escaping.
  std::string header = R"({"alg":"ES256","kid":")" + key_->key_id() + R"("})";
  std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(ClaimsToJson(claims));
  Result<std::string> signature = key_->Sign(signing_input);
  if (!signature.ok()) {
    std::fprintf(stderr, "kite: signing a service account token failed: %s\n",
                 signature.status().ToString().c_str());
    std::abort();
  }
  return signing_input + "." + Base64UrlEncode(*signature);
}

std::string TokenSigner::KeyId() const { return key_->key_id(); }
std::string TokenSigner::PublicKeyPem() const { return key_->public_key_pem(); }
std::string TokenSigner::JwksJson() const { return R"({"keys":[)" + key_->jwk_json() + "]}"; }

}  // namespace kite::authn
