#include "src/agent/server/agent_server.h"

#include "src/agent/server/serving_certificate.h"
#include "src/server/http/https_server.h"

namespace kite::agent::server {

AgentServer::AgentServer(std::unique_ptr<AgentHandler> handler, std::string serving_cert_pem)
    : handler_(std::move(handler)), serving_cert_pem_(std::move(serving_cert_pem)) {}

AgentServer::~AgentServer() { Stop(); }

Result<std::unique_ptr<AgentServer>> AgentServer::Start(AgentServerOptions options,
                                                        runtime::Runtime* runtime,
                                                        PodLookup* pods) {
  if (options.client_ca_pem.empty()) {
    return InvalidArgumentError("the agent's endpoint needs the cluster CA to verify clients");
  }
  ServingCertificateOptions cert_options;
  cert_options.cert_file = options.cert_file;
  cert_options.key_file = options.key_file;
  cert_options.tls_dir = options.data_dir.empty() ? "" : options.data_dir + "/agent/tls";
  cert_options.node_name = options.node_name;
  cert_options.addresses = options.node_addresses;
  Result<ServingCertificate> cert = LoadOrCreateServingCertificate(cert_options);
  if (!cert.ok()) return cert.status();

  auto handler = std::make_unique<AgentHandler>(runtime, pods, options.handler);
  std::unique_ptr<AgentServer> server(new AgentServer(std::move(handler), cert->cert_pem));

  http::HttpsServerOptions https;
  https.bind_address = options.bind_address;
  https.port = options.port;
  https.server_cert_pem = cert->cert_pem;
  https.server_key_pem = cert->key_pem;
  https.client_ca_pem = options.client_ca_pem;
  https.network_threads = options.network_threads;
  https.handler_threads = options.handler_threads;
  Result<std::unique_ptr<http::HttpsServer>> started =
      http::HttpsServer::Start(std::move(https), server->handler_.get());
  if (!started.ok()) return started.status();
  server->https_ = std::move(*started);
  return server;
}

int AgentServer::port() const { return https_ ? https_->port() : 0; }

void AgentServer::Stop() {
  if (https_) https_->Stop();
}

}  // namespace kite::agent::server
