// A real API server (HTTPS on a free loopback port, over an in-memory store) and an
// in-process transport to it as a cluster admin: what controller and scheduler tests drive.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>

#include "src/server/apiserver/api_server.h"
#include "src/server/client/in_process_transport.h"
#include "src/server/client/resource_client.h"
#include "src/server/json/json_util.h"
#include "src/store/memory_store.h"
#include "tests/testing/temp_dir.h"

namespace kite::testing {

class ApiFixture {
 public:
  ApiFixture() {
    apiserver::ApiServerOptions options;
    options.server_dir = dir_.file("server");
    options.port = 0;
    auto server = apiserver::ApiServer::Start(options, &store_);
    if (!server.ok()) throw std::runtime_error("api server: " + server.status().message());
    server_ = std::move(server).value();
    transport_ = std::make_unique<client::InProcessTransport>(server_->handler(), "kite:test-admin",
                                                              std::vector<std::string>{"system:masters"});
  }
  ~ApiFixture() { server_->Stop(); }

  client::ApiTransport* transport() { return transport_.get(); }
  // The server's HTTPS port, its request handler (for requests as any identity) and its
  // PKI directory (server-ca.crt, client-admin.crt/.key, ...).
  int port() const { return server_->port(); }
  http::Handler* handler() const { return server_->handler(); }
  std::string tls_dir() const { return dir_.file("server") + "/tls"; }
  client::ResourceClient Client(const client::ResourceRef& ref) { return {transport_.get(), ref}; }

  // Creates an object from JSON text; throws on failure (a test setup error).
  rapidjson::Document Create(const client::ResourceRef& ref, std::string_view ns, std::string_view json_text) {
    auto object = json::ParseJson(json_text);
    if (!object.ok()) throw std::runtime_error("bad test JSON: " + object.status().message());
    auto created = Client(ref).Create(ns, *object);
    if (!created.ok()) throw std::runtime_error("create failed: " + created.status().message());
    return std::move(created).value();
  }

 private:
  TempDir dir_;
  store::MemoryStore store_;
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<client::InProcessTransport> transport_;
};

// Polls `condition` until it holds or `timeout` passes: readiness checks, not sleeps.
inline bool Eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace kite::testing
