// The TokenRequest subresource (POST .../namespaces/<ns>/serviceaccounts/<name>/token): turns
// an authentication.k8s.io/v1 TokenRequest body into a signed, bound service-account token,
// with kube-apiserver's defaults, validation and error kinds.
//
// Operation (the caller owns all store access):
//   1. TokenRequestBoundObject(body) says which object spec.boundObjectRef names, if any;
//      the caller fetches it (Pod/Secret in the request's namespace, Node cluster-wide) and,
//      for a Pod with spec.nodeName, also fetches that Node (absence is fine).
//   2. CreateServiceAccountToken(...) validates, defaults, signs and builds the response.
// Defaults: spec.expirationSeconds 3600; spec.audiences the API server's audiences;
// metadata.name/namespace those of the service account; metadata.creationTimestamp now.
// Validation (422 causes): metadata.name / metadata.namespace must match the URL when set;
// 600 <= spec.expirationSeconds <= 2^32. Then, as Kubernetes does, the requested lifetime is
// cut to max_expiration_seconds (with a warning), and a pod-bound request for exactly 3607 s
// with API-server audiences gets a one-year token that carries warnafter = now + 3607.
// status.expirationTimestamp is now + spec.expirationSeconds (RFC 3339).
//
// Thread-safety: pure functions (the signer is used read-only).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/authn/token_claims.h"
#include "src/server/authn/token_signer.h"
#include "src/server/validation/field_causes.h"

namespace kite::authn {

inline constexpr int64_t kDefaultTokenExpirationSeconds = 3600;
inline constexpr int64_t kMinTokenExpirationSeconds = 600;
inline constexpr int64_t kMaxTokenExpirationSeconds = int64_t{1} << 32;
// The lifetime kubelet asks for projected tokens, which triggers the extended-token path.
inline constexpr int64_t kWarnOnlyTokenExpirationSeconds = 3600 + 7;
inline constexpr int64_t kExtendedTokenExpirationSeconds = 365 * 24 * 3600;

// spec.boundObjectRef as requested.
struct BoundObjectRef {
  std::string api_version;  // "v1" (or "", which Kubernetes reads as the core group)
  std::string kind;         // "Pod" | "Secret" | "Node"
  std::string name;
  std::string uid;          // "" = any
  std::string resource;     // "pods" | "secrets" | "nodes": what the caller must fetch
};

// spec.boundObjectRef of a TokenRequest body; nullopt when absent or null.
// kInvalidArgument (a 400 BadRequest, with Kubernetes' message) when the body or the
// reference is malformed, or the kind is not Pod, Secret or Node of the core group:
// "cannot bind token to object of type apps/v1, Kind=Deployment".
Result<std::optional<BoundObjectRef>> TokenRequestBoundObject(const rapidjson::Value& body);

struct TokenRequestConfig {
  std::string issuer = std::string(kDefaultIssuer);
  std::vector<std::string> api_audiences = {std::string(kDefaultIssuer)};
  int64_t max_expiration_seconds = 0;  // --service-account-max-token-expiration; 0 = none
  bool extend_expiration = true;       // --service-account-extend-token-expiration
};

struct TokenRequestInput {
  std::string_view namespace_name;         // from the URL
  std::string_view service_account_name;   // from the URL
  const rapidjson::Value* body = nullptr;  // the TokenRequest (required)
  const rapidjson::Value* service_account = nullptr;  // the ServiceAccount (required)
  // The object spec.boundObjectRef names, fetched by the caller; nullptr = not found.
  const rapidjson::Value* bound_object = nullptr;
  // For a Pod-bound token: the Node named by the pod's spec.nodeName, if it exists.
  const rapidjson::Value* bound_pod_node = nullptr;
};

struct TokenRequestResult {
  // Non-empty: answer 422 Invalid on TokenRequest.authentication.k8s.io named
  // `invalid_name`; `response` is then empty.
  std::vector<validation::StatusCause> causes;
  std::string invalid_name;
  // The TokenRequest with spec defaulted and status {token, expirationTimestamp}.
  rapidjson::Document response;
  // Warning headers to send ("requested expiration of N seconds shortened to M seconds").
  std::vector<std::string> warnings;
  // What was signed (for audit: credential id "JTI=<claims.id>").
  TokenClaims claims;
};

// Errors, to map onto Kubernetes' responses:
//   kInvalidArgument → 400 BadRequest (malformed body, wrong kind, pod of another SA);
//   kNotFound        → 404 on the bound object (BoundObjectRef::resource, name);
//   kConflict        → 409 Conflict on GroupResource{"", kind} named ref.name, message as is;
//   kInternal        → 500 (the CSPRNG failed).
Result<TokenRequestResult> CreateServiceAccountToken(const TokenRequestInput& input,
                                                     const TokenSigner& signer,
                                                     const TokenRequestConfig& config,
                                                     int64_t now_s);

}  // namespace kite::authn
