// AgentServer: the node agent's HTTPS endpoint (the kubelet's port 10250), through which
// the API server reaches container logs, exec, attach and port-forward.
//
// Operation: Start() loads or creates the serving certificate (serving_certificate.h),
// starts an http::HttpsServer that requests client certificates verified against the
// cluster CA, and serves AgentHandler (agent_handler.h: authorization, routes, upgrades).
// Exec, attach and port-forward sessions run on the HTTPS server's upgrade threads.
//
// Thread-safety: all methods are thread-safe. Stop() closes every connection (upgraded ones
// too) and waits for handlers and sessions; it must not be called from one of them.
// Errors from Start: kInvalidArgument without a client CA (the endpoint never runs
// unauthenticated) or with unusable certificate files; the certificate's errors; the HTTPS
// server's (kUnavailable when the port is taken).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "src/agent/server/agent_handler.h"
#include "src/agent/server/pod_lookup.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::http {
class HttpsServer;
}

namespace kite::agent::server {

struct AgentServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 10250;  // --kubelet-port; 0 = any free port (tests)
  // The serving certificate: cert_file and key_file when given, else a self-signed pair
  // under <data_dir>/agent/tls/ for node_name and node_addresses.
  std::string cert_file;
  std::string key_file;
  std::string data_dir;
  std::string node_name;
  std::vector<std::string> node_addresses;
  std::string client_ca_pem;  // the cluster CA (server-ca.crt): verifies client certificates
  int network_threads = 1;
  int handler_threads = 8;  // Handle calls the runtime and dials its streaming server
  AgentHandlerOptions handler;
};

class AgentServer {
 public:
  // `runtime` and `pods` are not owned and must outlive the server.
  static Result<std::unique_ptr<AgentServer>> Start(AgentServerOptions options,
                                                    runtime::Runtime* runtime, PodLookup* pods);
  ~AgentServer();  // Stop()s
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  int port() const;
  // The serving certificate (PEM, then its chain): what a client should trust.
  const std::string& serving_cert_pem() const { return serving_cert_pem_; }
  void Stop();

 private:
  AgentServer(std::unique_ptr<AgentHandler> handler, std::string serving_cert_pem);

  std::unique_ptr<AgentHandler> handler_;
  std::unique_ptr<http::HttpsServer> https_;
  std::string serving_cert_pem_;
};

}  // namespace kite::agent::server
