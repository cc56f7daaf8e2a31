// The OpenID Connect discovery document kube-apiserver serves for its service-account
// issuer at /.well-known/openid-configuration, so relying parties outside the cluster can
// find the keys (/openid/v1/jwks, TokenSigner::JwksJson) and verify tokens.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace kite::authn {

inline constexpr std::string_view kOpenIdConfigurationPath = "/.well-known/openid-configuration";
inline constexpr std::string_view kJwksPath = "/openid/v1/jwks";

// {"issuer":<issuer>,"jwks_uri":<jwks_uri>,"response_types_supported":["id_token"],
//  "subject_types_supported":["public"],"id_token_signing_alg_values_supported":["ES256"]}
// (member order as Kubernetes writes it; values JSON-escaped).
std::string OpenIdConfigurationJson(std::string_view issuer, std::string_view jwks_uri);

}  // namespace kite::authn
