// Bootstrap tokens (kubeadm's join tokens): bearer tokens "<id>.<secret>" backed by a Secret
// "bootstrap-token-<id>" in kube-system of type bootstrap.kubernetes.io/token, whose data
// (base64 in the stored JSON) holds token-id, token-secret, and optionally expiration
// (RFC 3339), description, usage-bootstrap-authentication / usage-bootstrap-signing ("true")
// and auth-extra-groups (comma-separated).
//
// A valid token authenticates as user "system:bootstrap:<id>" with groups
// system:bootstrappers, any extra groups (sorted, deduplicated) and system:authenticated.
//
// Thread-safety: pure functions; generation draws from OpenSSL's CSPRNG (thread-safe).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/authn/identity.h"

namespace kite::authn {

inline constexpr std::string_view kBootstrapTokenNamespace = "kube-system";
inline constexpr std::string_view kBootstrapTokenSecretPrefix = "bootstrap-token-";
inline constexpr std::string_view kBootstrapTokenSecretType = "bootstrap.kubernetes.io/token";
inline constexpr std::string_view kBootstrapUserPrefix = "system:bootstrap:";
inline constexpr std::string_view kBootstrappersGroup = "system:bootstrappers";
// kubeadm's default extra group for join tokens.
inline constexpr std::string_view kKubeadmDefaultNodeTokenGroup =
    "system:bootstrappers:kubeadm:default-node-token";

struct BootstrapToken {
  std::string id;      // [a-z0-9]{6}, public
  std::string secret;  // [a-z0-9]{16}

  std::string ToString() const { return id + "." + secret; }
  bool operator==(const BootstrapToken&) const = default;
};

// The token in a bearer credential, or nullopt when it is not of the form
// ^[a-z0-9]{6}\.[a-z0-9]{16}$ (then it is some other kind of token, not an error).
std::optional<BootstrapToken> ParseBootstrapToken(std::string_view bearer);

// "bootstrap-token-<id>".
std::string BootstrapSecretName(std::string_view token_id);

// OK if `group` is a valid extra group: system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9].
// kInvalidArgument saying what is wrong otherwise.
Status ValidateBootstrapGroupName(std::string_view group);

// Authenticates `token` against its Secret (`secret` as stored: JSON with base64 data;
// nullptr = no such Secret). Checks, in order: the Secret exists and is not being deleted;
// type bootstrap.kubernetes.io/token; data.token-secret equals the token's secret
// (constant-time); data.token-id equals the id; not expired (an unparsable expiration counts
// as expired; valid through the expiration instant); usage-bootstrap-authentication is
// "true"; every auth-extra-groups entry is valid.
// Errors: kInvalidArgument with the reason (for logs; the client just gets 401). The reason
// never contains the token secret.
Result<Identity> AuthenticateBootstrapToken(const BootstrapToken& token,
                                            const rapidjson::Value* secret, int64_t now_s);

struct BootstrapTokenOptions {
  std::string description;
  int64_t ttl_seconds = 24 * 3600;  // kubeadm's default; <= 0 = never expires
  bool usage_authentication = true;
  bool usage_signing = true;
  std::vector<std::string> extra_groups = {std::string(kKubeadmDefaultNodeTokenGroup)};
};

// A new token (id and secret from the CSPRNG, uniform over [a-z0-9]).
Result<BootstrapToken> GenerateBootstrapToken();

// The Secret that backs `token` (apiVersion v1, kind Secret, metadata name/namespace, type,
// data base64-encoded). kInvalidArgument for a malformed token or an invalid extra group.
Result<rapidjson::Document> BootstrapTokenSecret(const BootstrapToken& token,
                                                 const BootstrapTokenOptions& options,
                                                 int64_t now_s);

}  // namespace kite::authn
