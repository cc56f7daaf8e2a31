#include "src/server/apiserver/api_server.h"

#include <unistd.h>

#include "src/server/apiserver/api_handler.h"
#include "src/server/apiserver/kubelet_client.h"
#include "src/server/authn/token_claims.h"
#include "src/server/authn/token_verifier.h"
#include "src/server/json/json_util.h"
#include "src/server/apiserver/object_codec.h"
#include "src/server/auth/bootstrap_policy.h"
#include "src/server/auth/rbac_authorizer.h"
#include "src/server/http/https_server.h"
#include "src/server/pki/cluster_pki.h"
#include "src/server/pki/kubeconfig.h"
#include "src/server/schema/protobuf_decoder.h"
#include "src/server/schema/schema_registry.h"
#include "src/server/schema/strategic_schema_adapter.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary

struct ApiServer::Parts {
  std::unique_ptr<WatchTicker> ticker;
  std::unique_ptr<auth::RbacAuthorizer> authorizer;
  std::unique_ptr<ServiceAllocator> services;
  std::unique_ptr<CrdWatcher> crds;
  std::unique_ptr<authn::TokenSigner> token_signer;
  std::unique_ptr<authn::TokenVerifier> token_verifier;
  std::unique_ptr<KubeletClient> kubelet;  // outlives the handler and the HTTPS server
  std::unique_ptr<ApiHandler> handler;
  std::unique_ptr<http::HttpsServer> https;
};

namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return {};
  return buf;
}

// The namespaces every cluster has.
Status EnsureBuiltinNamespaces(store::KvStore* kv, Clock* clock) {
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    std::string key = ObjectKey("", "namespaces", "", name);
    Result<store::KeyValue> existing = kv->Get(key);
    if (existing.ok()) continue;
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    int64_t now = clock->NowMillis();
    std::string created = FormatRfc3339Seconds(now);
    Result<rapidjson::Document> doc = ParseJsonObject(
        std::string("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"") + name +
        "\",\"uid\":\"" + NewUid() +
        "\",\"creationTimestamp\":\"" + created + "\",\"labels\":{\"kubernetes.io/metadata.name\":\"" +
        name + "\"}},\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}");
    if (!doc.ok()) return doc.status();
    Result<int64_t> created_rev = kv->Create(key, EncodeForStorage(*doc));
    if (!created_rev.ok() && created_rev.status().code() != StatusCode::kAlreadyExists) {
      return created_rev.status();
    }
  }
  return Status::Ok();
}

// The `kubernetes` Service in default: how pods find the API server (its first cluster IP).
Status EnsureKubernetesService(store::KvStore* kv, Clock* clock, const std::string& cluster_ip, int port) {
  std::string key = ObjectKey("", "services", "default", "kubernetes");
  Result<store::KeyValue> existing = kv->Get(key);
  if (existing.ok()) return Status::Ok();
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  Result<rapidjson::Document> doc = ParseJsonObject(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default","uid":")" +
      NewUid() + R"(","creationTimestamp":")" + FormatRfc3339Seconds(clock->NowMillis()) +
      R"(","labels":{"component":"apiserver","provider":"kubernetes"}},"spec":{"ports":[{"name":"https",)"
      R"("protocol":"TCP","port":443,"targetPort":)" + std::to_string(port) + R"(}],"clusterIP":")" + cluster_ip +
      R"(","clusterIPs":[")" + cluster_ip + R"("],"type":"ClusterIP","sessionAffinity":"None",)"
      R"("ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},)"
      R"("status":{"loadBalancer":{}}})");
  if (!doc.ok()) return doc.status();
  Result<int64_t> created = kv->Create(key, EncodeForStorage(*doc));
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  return Status::Ok();
}

}  // namespace

ApiServer::ApiServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ApiServer::~ApiServer() { Stop(); }

int ApiServer::port() const { return parts_->https ? parts_->https->port() : 0; }

http::Handler* ApiServer::handler() const { return parts_->handler.get(); }

KubeletClient* ApiServer::kubelet() const { return parts_->kubelet.get(); }

void ApiServer::Stop() {
  if (parts_->https) parts_->https->Stop();
  parts_->https.reset();
  parts_->handler.reset();
  parts_->kubelet.reset();  // after the server: its streams and upgraded sessions are gone
  parts_->crds.reset();  // its watch thread reads the store
  parts_->authorizer.reset();  // its watch thread reads the store: gone before the store
  parts_->ticker.reset();
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ApiServerOptions options, store::KvStore* kv) {
  Clock* clock = options.clock ? options.clock : SystemClock::Get();
  std::vector<std::string> sans = {"localhost", "kubernetes", "kubernetes.default",
                                   "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
                                   "127.0.0.1", "::1"};
  if (std::string host = HostName(); !host.empty()) sans.push_back(host);
  if (options.bind_address != "0.0.0.0" && options.bind_address != "::" &&
      options.bind_address != "127.0.0.1") {
    sans.push_back(options.bind_address);
  }
  for (const std::string& s : options.extra_sans) sans.push_back(s);
  Result<pki::ClusterPki> pki = pki::EnsureClusterPki(options.server_dir + "/tls", sans, clock);
  if (!pki.ok()) return pki.status();

  KITE_RETURN_IF_ERROR(EnsureBuiltinNamespaces(kv, clock));
  KITE_RETURN_IF_ERROR(auth::EnsureBootstrapPolicy(kv, clock));

  auto parts = std::make_unique<Parts>();
  Result<std::unique_ptr<auth::RbacAuthorizer>> authorizer = auth::RbacAuthorizer::Start(kv);
  if (!authorizer.ok()) return authorizer.status();
  parts->authorizer = std::move(authorizer).value();
  parts->ticker = std::make_unique<WatchTicker>();
  Result<std::unique_ptr<ServiceAllocator>> services =
      ServiceAllocator::Create({.service_cidr = options.service_cidr}, kv, clock);
  if (!services.ok()) return services.status();
  parts->services = std::move(services).value();
  KITE_RETURN_IF_ERROR(EnsureKubernetesService(kv, clock, parts->services->FirstAddress(),
                                               options.port == 0 ? 6443 : options.port));
  RestDependencies deps;
  deps.kv = kv;
  deps.services = parts->services.get();
  deps.clock = clock;
  deps.ticker = parts->ticker.get();
  deps.event_ttl = options.event_ttl;
  if (options.enable_node_proxy) {
    Result<std::unique_ptr<KubeletClient>> kubelet = KubeletClient::Create(
        {.client_cert_pem = pki->apiserver_client_cert_pem + pki->ca_cert_pem,
         .client_key_pem = pki->apiserver_client_key_pem});
    if (!kubelet.ok()) return kubelet.status();
    parts->kubelet = std::move(kubelet).value();
    deps.kubelet = parts->kubelet.get();
  }
  deps.protobuf = [](std::string_view body) -> Result<rapidjson::Document> {
    Result<schema::DecodedObject> decoded =
        schema::DecodeKubernetesProtobuf(body, schema::SchemaRegistry::Builtin());
    if (!decoded.ok()) return decoded.status();
    return std::move(decoded->object);
  };
  deps.strategic_schema = [](std::string_view group, std::string_view version, std::string_view kind) {
    return schema::StrategicSchemaFor(group, version, kind);
  };
  ApiHandlerOptions handler_options;
  handler_options.join_token = options.join_token;
  handler_options.authorizer = parts->authorizer.get();
  Result<std::unique_ptr<CrdWatcher>> crds = CrdWatcher::Start(kv);
  if (!crds.ok()) return crds.status();
  parts->crds = std::move(crds).value();
  handler_options.crds = parts->crds.get();
  handler_options.computed = options.computed_api;
  Result<authn::TokenSigner> signer = authn::TokenSigner::FromPrivateKeyPem(pki->service_account_key_pem);
  if (!signer.ok()) return signer.status();
  Result<authn::TokenVerifier> verifier = authn::TokenVerifier::FromPublicKeyPem(
      pki->service_account_key_pem, std::string(authn::kDefaultIssuer), {std::string(authn::kDefaultIssuer)});
  if (!verifier.ok()) return verifier.status();
  parts->token_signer = std::make_unique<authn::TokenSigner>(std::move(*signer));
  parts->token_verifier = std::make_unique<authn::TokenVerifier>(std::move(*verifier));
  handler_options.token_signer = parts->token_signer.get();
  handler_options.token_verifier = parts->token_verifier.get();
  handler_options.server_address =
      (options.bind_address == "0.0.0.0" || options.bind_address == "::" ? std::string("127.0.0.1")
                                                                         : options.bind_address) +
      ":" + std::to_string(options.port);
  parts->handler = std::make_unique<ApiHandler>(handler_options, std::move(deps));

  http::HttpsServerOptions https;
  https.bind_address = options.bind_address;
  https.port = options.port;
  https.server_cert_pem = pki->server_cert_pem + pki->ca_cert_pem;
  https.server_key_pem = pki->server_key_pem;
  https.client_ca_pem = pki->ca_cert_pem;
  Result<std::unique_ptr<http::HttpsServer>> server =
      http::HttpsServer::Start(std::move(https), parts->handler.get());
  if (!server.ok()) return server.status();
  parts->https = std::move(server).value();

  if (!options.kubeconfig_path.empty()) {
    std::string host = options.bind_address == "0.0.0.0" || options.bind_address == "::" ||
                               options.bind_address.empty()
                           ? std::string("127.0.0.1")
                           : options.bind_address;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::string url = "https://" + host + ":" + std::to_string(parts->https->port());
    std::string config = pki::RenderKubeconfig(url, pki->ca_cert_pem, pki->admin_cert_pem,
                                               pki->admin_key_pem);
    KITE_RETURN_IF_ERROR(pki::WriteKubeconfig(options.kubeconfig_path, config, options.kubeconfig_mode));
  }
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(parts)));
}

}  // namespace kite::apiserver
