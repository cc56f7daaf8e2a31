// A tiny HTTP/1.1 server on a loopback port for probe and hook tests: one thread, one
// connection at a time, answers by path. Optionally TLS with a fresh self-signed
// certificate (HTTPS probes skip verification).
//
//   /ok                 200 "fine"
//   /fail               500
//   /slow               waits 2 s, then 200
//   /redirect-same      302 to http(s)://127.0.0.1:<port>/ok (same host: followed)
//   /redirect-other     302 to http(s)://localhost:<port>/ok (another host: not followed)
//   /loop               302 to itself
//   /big                200 with 100 KB of body
//   anything else       404
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kite::agent::prober::testing {

class TestHttpServer {
 public:
  explicit TestHttpServer(bool tls = false);
  ~TestHttpServer();

  int port() const { return port_; }
  std::string url(const std::string& path) const;

  // The requests seen so far: path and headers (names lower-cased).
  struct Request {
    std::string path;
    std::map<std::string, std::string> headers;
  };
  std::vector<Request> requests() const;

 private:
  void Serve();
  void Handle(int fd);

  bool tls_;
  int listen_fd_ = -1;
  int port_ = 0;
  void* ssl_ctx_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
};

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
int ClosedPort();

}  // namespace kite::agent::prober::testing
