// A loopback HTTP server for the client tests, speaking raw bytes so a test can send
// anything: well-formed answers, odd framings, garbage, or nothing at all. Plain TCP or
// TLS (a given certificate; optionally asking for a client certificate).
//
// Each accepted connection runs `handler` on its own thread. The destructor stops the
// server: it wakes handlers blocked in ReadRequest or WaitForStop and joins them.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kite::net::http::testing {

class LoopbackServer;

struct ServerTls {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // non-empty: ask for a client certificate signed by it
};

struct SeenRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;
  std::string Header(const std::string& lower_name) const;  // "" if absent
};

class ServerConn {
 public:
  // The next request (head, and a body by Content-Length); nullopt when the client closed
  // or the server stops.
  std::optional<SeenRequest> ReadRequest();
  void Write(std::string_view data);
  // Blocks until the server stops (a handler that never answers).
  void WaitForStop();
  // The subject CN of the client's certificate ("" without one) and the SNI name sent.
  const std::string& client_cn() const { return client_cn_; }
  const std::string& server_name() const { return server_name_; }

 private:
  friend class LoopbackServer;
  ServerConn(int fd, void* ssl, LoopbackServer* server) : fd_(fd), ssl_(ssl), server_(server) {}
  // Up to n bytes; 0 on end of stream or stop.
  size_t ReadSome(char* buf, size_t n);

  int fd_;
  void* ssl_;
  LoopbackServer* server_;
  std::string buffered_;
  std::string client_cn_;
  std::string server_name_;
};

class LoopbackServer {
 public:
  using Handler = std::function<void(ServerConn&)>;
  explicit LoopbackServer(Handler handler, std::optional<ServerTls> tls = std::nullopt);
  ~LoopbackServer();

  int port() const { return port_; }
  int connections() const { return accepted_; }
  // Every request any handler read, in order.
  std::vector<SeenRequest> requests() const;

 private:
  void Accept();
  void Serve(int fd);

  Handler handler_;
  void* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::vector<SeenRequest> requests_;
  friend class ServerConn;
};

// An answer with a Content-Length body.
std::string Answer(int status, const std::string& body, const std::string& extra_headers = "");

}  // namespace kite::net::http::testing
