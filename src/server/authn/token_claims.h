// The claims of a bound service-account token (what the TokenRequest API issues), and their
// JSON form in the JWT payload.
//
// Payload shape (keys sorted, as Kubernetes' signer emits them):
//   {"aud":[...],"exp":N,"iat":N,"iss":"...","jti":"<uuid>",
//    "kubernetes.io":{"namespace":"ns","node":{"name","uid"},"pod":{"name","uid"},
//                     "secret":{"name","uid"},"serviceaccount":{"name","uid"},"warnafter":N},
//    "nbf":N,"sub":"system:serviceaccount:<ns>:<name>"}
// Absent optional parts (jti, pod, secret, node, warnafter) are left out.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::authn {

// The issuer Kubernetes clusters use by default (and k3s, and so Kite).
inline constexpr std::string_view kDefaultIssuer = "https://kubernetes.default.svc.cluster.local";

// An object a token is bound to: the token is valid only while the object exists.
struct BoundObject {
  std::string kind;  // "Pod" | "Secret" | "Node"
  std::string name;
  std::string uid;

  bool operator==(const BoundObject&) const = default;
};

struct TokenClaims {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string namespace_name;
  std::string service_account_name;
  std::string service_account_uid;
  // At most one of pod / secret is set; node is set for node-bound tokens and, beside pod,
  // for pod-bound tokens (the pod's node, its uid empty if the Node object was missing).
  std::optional<BoundObject> pod;
  std::optional<BoundObject> secret;
  std::optional<BoundObject> node;
  int64_t issued_at_s = 0;
  int64_t not_before_s = 0;
  int64_t expires_at_s = 0;
  int64_t warn_after_s = 0;  // kubernetes.io.warnafter, for extended tokens (0 = none)
  std::string id;            // jti (a UUID); empty = none

  bool operator==(const TokenClaims&) const = default;
};

// "system:serviceaccount:<namespace>:<name>": the token's sub and the user's name.
std::string ServiceAccountUserName(std::string_view namespace_name, std::string_view name);

// The payload JSON (compact). sub is derived from namespace and service-account name.
std::string ClaimsToJson(const TokenClaims& claims);

// Reads a payload (already signature-checked or not: this only checks the shape).
// kInvalidArgument naming the claim when the payload is not a JSON object, a claim has the
// wrong type, or a required claim is missing: iss, sub, aud (a string or an array of
// strings, at least one), exp, kubernetes.io.namespace, kubernetes.io.serviceaccount.name
// and .uid; or when sub does not name that service account. iat, nbf, jti, pod, secret,
// node and warnafter are optional. Numeric dates may be integers or decimals (truncated).
Result<TokenClaims> ParseClaimsJson(std::string_view payload);

}  // namespace kite::authn
