// The API server's single HTTP entry point: authentication, the non-resource endpoints
// (/version, health, metrics, discovery) and dispatch of resource requests to the REST
// handler.
//
// Authentication: a client certificate verified against the cluster CA (user = CN,
// groups = O), or a bearer token: the cluster join token, a bootstrap token or a
// service-account token (TokenAuthenticator). Anonymous requests reach
// only /version and the health endpoints (as Kubernetes' system:public-info-viewer role
// allows); everything else answers 401.
// Authorization: the Authorizer given (RBAC in `kite server`); a denial is 403 Forbidden with
// Kubernetes' message. SelfSubjectAccessReview and SelfSubjectRulesReview ask it too.
// Concurrency: Handle is called concurrently from worker threads.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <string>

#include "src/base/mutex.h"
#include "src/server/apiserver/computed_api.h"
#include "src/server/apiserver/rest_handler.h"
#include "src/server/apiserver/served_resources.h"
#include "src/server/apiserver/token_authenticator.h"
#include "src/server/authn/token_signer.h"
#include "src/server/auth/authorizer.h"
#include "src/server/http/http_types.h"
#include "src/server/openapi/openapi_service.h"
#include "src/server/resources/resource_table.h"

namespace kite::apiserver {

struct ApiHandlerOptions {
  std::string join_token;      // bearer token accepted as a cluster member; "" = none
  std::string server_address;  // "127.0.0.1:6443", for /api's serverAddressByClientCIDRs
  // Decides every authenticated request; null allows everything (unit tests).
  auth::Authorizer* authorizer = nullptr;
  // Service-account tokens: issued by TokenRequest, accepted as bearer tokens. Null (unit
  // tests) = neither.
  const authn::TokenSigner* token_signer = nullptr;
  const authn::TokenVerifier* token_verifier = nullptr;
  // The resources served, kept current with the CRDs; null = the built-in ones only.
  const CrdWatcher* crds = nullptr;
  // A group served by other code (metrics.k8s.io): in discovery and routed to it; null = none.
  ComputedApi* computed = nullptr;
};

class ApiHandler : public http::Handler {
 public:
  ApiHandler(ApiHandlerOptions options, RestDependencies deps);

  http::HandlerResult Handle(http::Request& request) override;

 private:
  std::optional<UserInfo> Authenticate(const http::Request& request) const;
  http::HandlerResult Discovery(const http::Request& request, const RequestInfo& info,
                                const resources::ResourceTable& table);
  std::shared_ptr<const ServedResources> Served() const;
  // `base` plus the computed API's resources (cached per base snapshot).
  std::shared_ptr<const ServedResources> WithComputed(std::shared_ptr<const ServedResources> base) const;
  http::Response Health(const http::Request& request, const QueryParams& query);
  http::Response Metrics();
  http::Response OpenApi(const http::Request& request);
  http::HandlerResult SelfSubjectReview(const http::Request& request, const RequestInfo& info,
                                        const UserInfo& user);
  void Count(const std::string& verb, const std::string& resource, int code);

  const ApiHandlerOptions options_;
  store::KvStore* const kv_;
  Clock* const clock_;
  const TokenAuthenticator tokens_;
  // The built-in resources: what is served without a CrdWatcher.
  const std::shared_ptr<const ServedResources> builtin_;
  const ProtobufDecoder protobuf_;
  // The /openapi/v2 and /openapi/v3 documents of the current snapshot of built-in and
  // custom resources (the computed API is left out, as it has no schema). Built on the
  // first request for them after the snapshot changed, not on every CRD change: they are
  // megabytes that an idle server (and most clients) never need. Requests wait for a build
  // under way.
  std::shared_ptr<const openapi::OpenApiService> OpenApiDocuments();
  Mutex openapi_mu_;
  // The snapshot the documents describe; held so that its address is not reused.
  std::shared_ptr<const ServedResources> openapi_snapshot_ GUARDED_BY(openapi_mu_);
  std::shared_ptr<const openapi::OpenApiService> openapi_ GUARDED_BY(openapi_mu_);
  RestHandler rest_;

  mutable Mutex computed_mu_;
  mutable std::shared_ptr<const ServedResources> computed_base_ GUARDED_BY(computed_mu_);
  mutable std::shared_ptr<const ServedResources> computed_served_ GUARDED_BY(computed_mu_);

  Mutex metrics_mu_;
  std::map<std::string, uint64_t> request_counts_ GUARDED_BY(metrics_mu_);
};

}  // namespace kite::apiserver
