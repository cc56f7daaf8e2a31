// The Kubernetes API server of `kite server`, assembled: the cluster PKI, the HTTPS listener,
// the API handler over the store, the built-in namespaces and the admin kubeconfig.
//
// Operation: Start generates (first start) or loads the PKI under <server_dir>/tls, listens,
// creates default, kube-system, kube-public and kube-node-lease when missing, then writes
// the kubeconfig (so a client that sees the file finds the server answering).
// Concurrency: Start and Stop from one thread; everything else runs on the server's threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/status.h"
#include "src/server/http/http_types.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

class ComputedApi;    // computed_api.h
class KubeletClient;  // kubelet_client.h

struct ApiServerOptions {
  std::string server_dir;     // <data-dir>/server: tls/ goes here
  std::string bind_address = "127.0.0.1";
  int port = 6443;            // 0 = any free port (tests)
  std::string join_token;
  std::string kubeconfig_path;  // "" = do not write one
  uint32_t kubeconfig_mode = 0600;
  std::string service_cidr = "10.43.0.0/16";  // cluster IPs of Services (IPv4)
  std::vector<std::string> extra_sans;  // beyond localhost, 127.0.0.1, the kubernetes names
  // pods/log, exec, attach and portforward reach the pod's node agent (HTTPS to its kubelet
  // port, with the client certificate client-kube-apiserver.crt). When disabled they
  // answer 503.
  bool enable_node_proxy = true;
  Clock* clock = nullptr;       // null = the system clock
  // How long an Event is kept after its last write (kube-apiserver's --event-ttl): a TTL
  // on its store key; zero = forever.
  std::chrono::milliseconds event_ttl{std::chrono::hours(1)};
  // An API group computed by other code (the metrics API); not owned, must outlive the
  // server; null = none.
  ComputedApi* computed_api = nullptr;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(ApiServerOptions options, store::KvStore* kv);
  ~ApiServer();
  int port() const;
  // The request handler behind HTTPS, for in-process clients (controllers, the embedded
  // agent); null after Stop.
  http::Handler* handler() const;
  // How the server reaches node agents (kubelet_client.h): null when node proxying is
  // disabled, and after Stop. Valid until Stop.
  KubeletClient* kubelet() const;
  void Stop();

 private:
  struct Parts;
  explicit ApiServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace kite::apiserver
