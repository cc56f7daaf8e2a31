// Who a request comes from, as an authenticator reports it (Kubernetes' user.Info): the
// user name, uid, groups and extra attributes that authorization, audit and
// SelfSubjectReview see.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/authn/token_claims.h"

namespace kite::authn {

struct Identity {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool operator==(const Identity&) const = default;
};

inline constexpr std::string_view kAuthenticatedGroup = "system:authenticated";
inline constexpr std::string_view kAllServiceAccountsGroup = "system:serviceaccounts";
inline constexpr std::string_view kServiceAccountGroupPrefix = "system:serviceaccounts:";

// Keys of Identity::extra for service-account tokens.
inline constexpr std::string_view kExtraPodName = "authentication.kubernetes.io/pod-name";
inline constexpr std::string_view kExtraPodUid = "authentication.kubernetes.io/pod-uid";
inline constexpr std::string_view kExtraNodeName = "authentication.kubernetes.io/node-name";
inline constexpr std::string_view kExtraNodeUid = "authentication.kubernetes.io/node-uid";
inline constexpr std::string_view kExtraCredentialId = "authentication.kubernetes.io/credential-id";

// The identity Kubernetes gives a verified service-account token:
//   user   "system:serviceaccount:<ns>:<name>", uid the service account's uid
//   groups system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated
//   extra  pod-name + pod-uid (when both are known), node-name (+ node-uid when known),
//          credential-id "JTI=<jti>" (when the token has a jti).
Identity ServiceAccountIdentity(const TokenClaims& claims);

}  // namespace kite::authn
