// PodObjects: what the node agent reads from the API to run a pod beyond the pod itself —
// ConfigMaps and Secrets (env, volumes, image pull secrets), PersistentVolumeClaims and
// PersistentVolumes (volumes), the Services of a namespace (service link env vars) and
// service account tokens (projected volumes). The kubelet's configmap/secret managers, its
// service lister and its token manager, in one small interface.
//
// Two implementations: ApiPodObjects over the agent's API client, with a short cache (and,
// for Services, a watch of every Service as the kubelet's service lister has), and
// FakePodObjects for unit tests.
//
// Errors: kNotFound with the kubelet's texts — `configmap "x" not found`,
// `secret "x" not found` (its managers name the resource in the singular), and the API's
// for the others (`persistentvolumeclaims "x" not found`); other API failures as the client
// reports them (kUnavailable when the server cannot be reached).
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/client/informer.h"
#include "src/server/client/resource_client.h"

namespace kite::agent {

// A TokenRequest bound to a pod (serviceAccountToken projections).
struct ServiceAccountTokenRequest {
  std::string namespace_;
  std::string service_account;
  std::string audience;  // "" = the API server's default audiences
  int64_t expiration_seconds = 3600;
  std::string pod_name;
  std::string pod_uid;

  // Identifies equal requests (the token cache's key).
  std::string Key() const {
    return namespace_ + '\n' + service_account + '\n' + audience + '\n' + std::to_string(expiration_seconds) +
           '\n' + pod_name + '\n' + pod_uid;
  }
};

class PodObjects {
 public:
  virtual ~PodObjects() = default;

  virtual Result<client::ObjectPtr> ConfigMap(std::string_view ns, std::string_view name) = 0;
  virtual Result<client::ObjectPtr> Secret(std::string_view ns, std::string_view name) = 0;
  virtual Result<client::ObjectPtr> PersistentVolumeClaim(std::string_view ns, std::string_view name) = 0;
  virtual Result<client::ObjectPtr> PersistentVolume(std::string_view name) = 0;
  // Every Service of `ns` (none: an empty list).
  virtual Result<std::vector<client::ObjectPtr>> Services(std::string_view ns) = 0;
  // A token for the service account, bound to the pod; the same one until 80% of its
  // lifetime has passed.
  virtual Result<std::string> ServiceAccountToken(const ServiceAccountTokenRequest& request) = 0;
};

struct ApiPodObjectsOptions {
  // How long an answer (including "not found") is reused. The kubelet's TTL-based managers
  // use about a minute; a few seconds keeps updates quick while sparing the API from one
  // read per container start.
  std::chrono::milliseconds cache_ttl{2000};
  const Clock* clock = nullptr;  // null = the system clock
  std::chrono::milliseconds services_sync_timeout{10'000};
};

// Over the API. Services come from an informer on every namespace, started by the first
// Services call (which waits up to `services_sync_timeout` for its first list, then answers
// kUnavailable): one watch instead of a list per container start. Limits: the cache holds
// every other object asked for until the agent stops (one entry per name; objects of
// deleted pods age out only by being replaced), which is bounded by the number of distinct
// names the node's pods refer to.
class ApiPodObjects final : public PodObjects {
 public:
  // `transport` must outlive this object.
  explicit ApiPodObjects(client::ApiTransport* transport, ApiPodObjectsOptions options = {});
  ~ApiPodObjects() override;

  Result<client::ObjectPtr> ConfigMap(std::string_view ns, std::string_view name) override;
  Result<client::ObjectPtr> Secret(std::string_view ns, std::string_view name) override;
  Result<client::ObjectPtr> PersistentVolumeClaim(std::string_view ns, std::string_view name) override;
  Result<client::ObjectPtr> PersistentVolume(std::string_view name) override;
  Result<std::vector<client::ObjectPtr>> Services(std::string_view ns) override;
  Result<std::string> ServiceAccountToken(const ServiceAccountTokenRequest& request) override;

 private:
  struct Cached {
    Status status;  // kOk, or the (not found) error that is cached
    client::ObjectPtr object;
    std::vector<client::ObjectPtr> list;
    int64_t fetched_at = 0;
  };
  struct Token {
    std::string token;
    int64_t refresh_at = 0;  // 80% of the lifetime
    int64_t expires_at = 0;
  };

  // Get with the cache; `singular` names the resource in not-found messages ("" = keep the
  // API's message).
  Result<client::ObjectPtr> Get(const client::ResourceClient& client, std::string_view ns,
                                std::string_view name, std::string_view singular) EXCLUDES(mu_);

  const ApiPodObjectsOptions options_;
  const Clock* clock_;
  const client::ResourceClient config_maps_;
  const client::ResourceClient secrets_;
  const client::ResourceClient claims_;
  const client::ResourceClient volumes_;
  const client::ResourceClient services_;
  const client::ResourceClient service_accounts_;

  Mutex mu_;
  std::unique_ptr<client::Informer> services_informer_ GUARDED_BY(mu_);
  // "<resource>/<ns>/<name>" → answer.
  std::map<std::string, Cached> cache_ GUARDED_BY(mu_);
  std::map<std::string, Token> tokens_ GUARDED_BY(mu_);
};

// In memory, for tests: objects are put in by hand; tokens are "token-<n>" with a counter
// (so a test sees when a new one was requested), valid until Expire is called.
class FakePodObjects final : public PodObjects {
 public:
  // Adds or replaces an object by its metadata (kind: "ConfigMap", "Secret",
  // "PersistentVolumeClaim", "PersistentVolume", "Service"). Returns false for JSON that
  // does not parse or a kind it does not keep.
  bool Put(std::string_view kind, std::string_view json_text) EXCLUDES(mu_);
  void Remove(std::string_view kind, std::string_view ns, std::string_view name) EXCLUDES(mu_);
  // Every token request from now on gets a new token.
  void ExpireTokens() EXCLUDES(mu_);
  // Token requests made so far, in order.
  std::vector<ServiceAccountTokenRequest> token_requests() const EXCLUDES(mu_);
  // Lookups made so far (any kind), to check caching and what is read.
  int lookups() const EXCLUDES(mu_);

  Result<client::ObjectPtr> ConfigMap(std::string_view ns, std::string_view name) override;
  Result<client::ObjectPtr> Secret(std::string_view ns, std::string_view name) override;
  Result<client::ObjectPtr> PersistentVolumeClaim(std::string_view ns, std::string_view name) override;
  Result<client::ObjectPtr> PersistentVolume(std::string_view name) override;
  Result<std::vector<client::ObjectPtr>> Services(std::string_view ns) override;
  Result<std::string> ServiceAccountToken(const ServiceAccountTokenRequest& request) override;

 private:
  Result<client::ObjectPtr> Find(std::string_view kind, std::string_view ns, std::string_view name,
                                 std::string_view message_resource) EXCLUDES(mu_);

  mutable Mutex mu_;
  // kind → "ns/name" → object
  std::map<std::string, std::map<std::string, client::ObjectPtr>, std::less<>> objects_ GUARDED_BY(mu_);
  std::map<std::string, std::string> tokens_ GUARDED_BY(mu_);
  std::vector<ServiceAccountTokenRequest> token_requests_ GUARDED_BY(mu_);
  int next_token_ GUARDED_BY(mu_) = 1;
  int lookups_ GUARDED_BY(mu_) = 0;
};

}  // namespace kite::agent
