// Bearer-token authentication: the cluster join token, bootstrap tokens (Secrets
// bootstrap-token-<id> in kube-system), and service-account tokens — ES256 JWTs this server
// signed — whose service account, and bound pod or secret, still exist with the uids the
// token names (a token outlives nothing it is bound to).
//
// Thread-safety: Authenticate may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/base/clock.h"
#include "src/server/apiserver/rest_handler.h"
#include "src/server/authn/token_verifier.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

class TokenAuthenticator {
 public:
  // `verifier` may be null (no service-account tokens); the others must outlive this.
  TokenAuthenticator(std::string join_token, store::KvStore* kv, Clock* clock,
                     const authn::TokenVerifier* verifier);

  // The user a valid token stands for; nullopt for anything else (the caller answers 401).
  std::optional<UserInfo> Authenticate(std::string_view token) const;

 private:
  std::optional<UserInfo> ServiceAccount(std::string_view token) const;
  std::optional<UserInfo> Bootstrap(std::string_view token) const;
  // The stored object's uid, or "" when it does not exist.
  std::string UidOf(std::string_view resource, std::string_view ns, std::string_view name) const;

  const std::string join_token_;
  store::KvStore* kv_;
  Clock* clock_;
  const authn::TokenVerifier* verifier_;
};

}  // namespace kite::apiserver
