#include "src/server/apiserver/token_authenticator.h"

#include <openssl/crypto.h>

#include "src/server/apiserver/object_codec.h"
#include "src/server/authn/bootstrap_token.h"
#include "src/server/authn/identity.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {

TokenAuthenticator::TokenAuthenticator(std::string join_token, store::KvStore* kv, Clock* clock,
                                       const authn::TokenVerifier* verifier)
    : join_token_(std::move(join_token)), kv_(kv), clock_(clock), verifier_(verifier) {}

std::optional<UserInfo> TokenAuthenticator::Authenticate(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  if (!join_token_.empty() && token.size() == join_token_.size() &&
      CRYPTO_memcmp(token.data(), join_token_.data(), token.size()) == 0) {
    // The join token is what agents hold: it carries node rights (k3s hands agents node
    // credentials for it), so remote and simulated nodes can register and run pods.
    return UserInfo{"kite:join-token", {"system:bootstrappers", "system:nodes", "system:authenticated"}};
  }
  if (authn::ParseBootstrapToken(token)) return Bootstrap(token);
  return ServiceAccount(token);
}

std::string TokenAuthenticator::UidOf(std::string_view resource, std::string_view ns,
                                      std::string_view name) const {
  Result<store::KeyValue> kv = kv_->Get(ObjectKey("", resource, ns, name));
  if (!kv.ok()) return "";
  Result<rapidjson::Document> object = json::ParseJsonObject(kv->value);
  if (!object.ok()) return "";
  const rapidjson::Value* md = json::Member(*object, "metadata");
  if (!md || json::Member(*md, "deletionTimestamp")) return "";
  return std::string(json::StringMember(*md, "uid"));
}

std::optional<UserInfo> TokenAuthenticator::ServiceAccount(std::string_view token) const {
  if (!verifier_) return std::nullopt;
  Result<authn::TokenClaims> claims = verifier_->Verify(token, clock_->NowMillis() / 1000);
  if (!claims.ok()) return std::nullopt;
  if (UidOf("serviceaccounts", claims->namespace_name, claims->service_account_name) !=
      claims->service_account_uid) {
    return std::nullopt;
  }
  if (claims->pod && UidOf("pods", claims->namespace_name, claims->pod->name) != claims->pod->uid) {
    return std::nullopt;
  }
  if (claims->secret && UidOf("secrets", claims->namespace_name, claims->secret->name) != claims->secret->uid) {
    return std::nullopt;
  }
  authn::Identity identity = authn::ServiceAccountIdentity(*claims);
  return UserInfo{std::move(identity.user), std::move(identity.groups)};
}

std::optional<UserInfo> TokenAuthenticator::Bootstrap(std::string_view token) const {
  std::optional<authn::BootstrapToken> parsed = authn::ParseBootstrapToken(token);
  if (!parsed) return std::nullopt;
  Result<store::KeyValue> kv =
      kv_->Get(ObjectKey("", "secrets", "kube-system", authn::BootstrapSecretName(parsed->id)));
  std::optional<rapidjson::Document> secret;
  if (kv.ok()) {
    if (Result<rapidjson::Document> doc = json::ParseJsonObject(kv->value); doc.ok()) secret = std::move(*doc);
  }
  Result<authn::Identity> identity =
      authn::AuthenticateBootstrapToken(*parsed, secret ? &*secret : nullptr, clock_->NowMillis() / 1000);
  if (!identity.ok()) return std::nullopt;
  return UserInfo{std::move(identity->user), std::move(identity->groups)};
}

}  // namespace kite::apiserver
