#include "src/server/authn/token_verifier.h"

#include <algorithm>

#include "src/base/base64.h"
#include "src/server/authn/es256_key.h"
#include "src/server/json/json_util.h"

namespace kite::authn {
namespace {

Status Reject(std::string reason) { return InvalidArgumentError(std::move(reason)); }

// Go's %q for short diagnostic values; long or odd values are cut, never echoed whole.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 64)) {
    if (c == '"' || c == '\\') out += '\\';
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

}  // namespace

Result<TokenVerifier> TokenVerifier::FromPublicKeyPem(std::string_view pem, std::string issuer,
                                                      std::vector<std::string> audiences) {
  if (issuer.empty()) return InvalidArgumentError("the token issuer must not be empty");
  if (audiences.empty()) return InvalidArgumentError("at least one accepted audience is required");
  Result<Es256Key> key = Es256Key::FromPublicKeyPem(pem);
  if (!key.ok()) return key.status();
  return TokenVerifier(std::make_unique<Es256Key>(std::move(key).value()), std::move(issuer),
                       std::move(audiences));
}

TokenVerifier::TokenVerifier(std::unique_ptr<Es256Key> key, std::string issuer,
                             std::vector<std::string> audiences)
    : key_(std::move(key)), issuer_(std::move(issuer)), audiences_(std::move(audiences)) {}
TokenVerifier::TokenVerifier(TokenVerifier&&) noexcept = default;
TokenVerifier& TokenVerifier::operator=(TokenVerifier&&) noexcept = default;
TokenVerifier::~TokenVerifier() = default;

Result<TokenClaims> TokenVerifier::Verify(std::string_view token, int64_t now_s) const {
  if (token.size() > kMaxTokenBytes) {
    return Reject("token is too large (" + std::to_string(token.size()) + " bytes, limit " +
                  std::to_string(kMaxTokenBytes) + ")");
  }
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Reject("token is not a JWS in compact form (three dot-separated parts)");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty()) {
    return Reject("token has an empty part");
  }

  std::optional<std::string> header = Base64UrlDecode(header_b64);
  if (!header) return Reject("token header is not valid base64url");
  Result<rapidjson::Document> header_json = json::ParseJsonObject(*header);
  if (!header_json.ok()) return Reject("token header is not a JSON object");
  const rapidjson::Value* alg = json::Member(*header_json, "alg");
  if (!alg || !alg->IsString()) return Reject("token header has no \"alg\"");
  std::string_view alg_name(alg->GetString(), alg->GetStringLength());
  // Only the algorithm of our key: never "none", never an HMAC keyed by the public key.
  if (alg_name != "ES256") {
    return Reject("token signing algorithm " + Quoted(alg_name) + " is not supported (want ES256)");
  }
  if (json::Member(*header_json, "crit")) {
    return Reject("token header has critical extensions, which are not supported");
  }
  if (const rapidjson::Value* kid = json::Member(*header_json, "kid")) {
    if (!kid->IsString()) return Reject("token header \"kid\" must be a string");
    std::string_view kid_value(kid->GetString(), kid->GetStringLength());
    if (!kid_value.empty() && kid_value != key_->key_id()) {
      return Reject("invalid signature, no key found for key id " + Quoted(kid_value));
    }
  }

  std::optional<std::string> signature = Base64UrlDecode(signature_b64);
  if (!signature) return Reject("token signature is not valid base64url");
  if (signature->size() != 64) {
    return Reject("token signature has " + std::to_string(signature->size()) +
                  " bytes; ES256 needs 64 (r||s)");
  }
  if (!key_->Verify(token.substr(0, dot2), *signature)) {
    return Reject("token signature is invalid");
  }

  std::optional<std::string> payload = Base64UrlDecode(payload_b64);
  if (!payload) return Reject("token payload is not valid base64url");
  Result<TokenClaims> claims = ParseClaimsJson(*payload);
  if (!claims.ok()) return claims.status();

  if (claims->issuer != issuer_) {
    return Reject("token issuer " + Quoted(claims->issuer) + " is invalid");
  }
  bool audience_ok = std::any_of(claims->audiences.begin(), claims->audiences.end(),
                                 [&](const std::string& a) {
                                   return std::find(audiences_.begin(), audiences_.end(), a) !=
                                          audiences_.end();
                                 });
  if (!audience_ok) return Reject("token audiences are invalid for the target audiences");
  if (now_s - kTokenLeewaySeconds > claims->expires_at_s) {
    return Reject("service account token has expired");
  }
  if (claims->not_before_s != 0 && now_s + kTokenLeewaySeconds < claims->not_before_s) {
    return Reject("service account token is not valid yet");
  }
  if (claims->issued_at_s != 0 && now_s + kTokenLeewaySeconds < claims->issued_at_s) {
    return Reject("service account token is issued in the future");
  }
  return claims;
}

}  // namespace kite::authn
