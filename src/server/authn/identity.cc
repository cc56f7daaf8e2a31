#include "src/server/authn/identity.h"

namespace kite::authn {

Identity ServiceAccountIdentity(const TokenClaims& claims) {
  Identity id;
  id.user = ServiceAccountUserName(claims.namespace_name, claims.service_account_name);
  id.uid = claims.service_account_uid;
  id.groups = {std::string(kAllServiceAccountsGroup),
               std::string(kServiceAccountGroupPrefix) + claims.namespace_name,
               std::string(kAuthenticatedGroup)};
  if (claims.pod && !claims.pod->name.empty() && !claims.pod->uid.empty()) {
    id.extra[std::string(kExtraPodName)] = {claims.pod->name};
    id.extra[std::string(kExtraPodUid)] = {claims.pod->uid};
  }
  if (!claims.id.empty()) id.extra[std::string(kExtraCredentialId)] = {"JTI=" + claims.id};
  if (claims.node && !claims.node->name.empty()) {
    id.extra[std::string(kExtraNodeName)] = {claims.node->name};
    // The node uid is optional: a pod-bound token names the node even if it was missing.
    if (!claims.node->uid.empty()) id.extra[std::string(kExtraNodeUid)] = {claims.node->uid};
  }
  return id;
}

}  // namespace kite::authn
