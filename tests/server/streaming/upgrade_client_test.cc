#include "src/server/streaming/upgrade_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

namespace kite::streaming {
namespace {

// A one-shot HTTP server on a loopback port: reads one request head and answers with
// `response`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listen_fd_, 1) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      char buffer[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        request_.append(buffer, static_cast<size_t>(n));
      }
      (void)::send(fd, response_.data(), response_.size(), MSG_NOSIGNAL);
      ::shutdown(fd, SHUT_WR);
      while (::recv(fd, buffer, sizeof(buffer), 0) > 0) {
      }
      ::close(fd);
    });
  }
  ~OneShotServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }

 private:
  std::string response_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST_CASE("stream URLs parse into host, port and path") {
  auto url = ParseHttpUrl("http://127.0.0.1:35123/exec/AbCd");
  REQUIRE(url.ok());
  CHECK(url->host == "127.0.0.1");
  CHECK(url->port == 35123);
  CHECK(url->path_and_query == "/exec/AbCd");
  auto v6 = ParseHttpUrl("http://[::1]:8080?x=1");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->path_and_query == "/?x=1");
  auto bare = ParseHttpUrl("http://localhost");
  REQUIRE(bare.ok());
  CHECK(bare->port == 80);
  CHECK(bare->path_and_query == "/");
  CHECK_FALSE(ParseHttpUrl("https://127.0.0.1/exec/x").ok());
  CHECK_FALSE(ParseHttpUrl("http://127.0.0.1:99999/").ok());
  CHECK_FALSE(ParseHttpUrl("http://:80/").ok());
}

TEST_CASE("header tokens are split across lines and commas") {
  http::HeaderList headers = {{"sec-websocket-protocol", "v5.channel.k8s.io, v4.channel.k8s.io"},
                              {"sec-websocket-protocol", " channel.k8s.io "},
                              {"connection", "keep-alive, Upgrade"}};
  auto tokens = HeaderTokens(headers, "sec-websocket-protocol");
  REQUIRE(tokens.size() == 3);
  CHECK(tokens[0] == "v5.channel.k8s.io");
  CHECK(tokens[2] == "channel.k8s.io");
  CHECK(HasHeaderToken(headers, "connection", "upgrade"));
  CHECK_FALSE(HasHeaderToken(headers, "connection", "close"));
}

TEST_CASE("an upgrade hands over the connection with the bytes after the 101") {
  OneShotServer server(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nEXTRA");
  UpgradeRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/exec/token1";
  request.headers = {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"},
                     {"X-Stream-Protocol-Version", "v4.channel.k8s.io"}};
  auto upgraded = DialUpgrade(request);
  REQUIRE(upgraded.ok());
  CHECK(HasHeaderToken(upgraded->headers, "x-stream-protocol-version", "v4.channel.k8s.io"));
  std::string rest;
  char buffer[16];
  while (size_t n = upgraded->connection->Read(buffer, sizeof(buffer))) rest.append(buffer, n);
  CHECK(rest == "EXTRA");
  upgraded->connection->Close();
}

TEST_CASE("a refused upgrade reports the status and body") {
  OneShotServer server("HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n");
  UpgradeRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/exec/gone";
  auto upgraded = DialUpgrade(request);
  REQUIRE_FALSE(upgraded.ok());
  CHECK(upgraded.status().code() == StatusCode::kUnavailable);
  CHECK(upgraded.status().message().find("404 Not Found") != std::string::npos);
  CHECK(upgraded.status().message().find("not found") != std::string::npos);
  CHECK(upgraded.status().message().find("gone") == std::string::npos);  // no token in logs
}

TEST_CASE("a closed port is unavailable") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);  // bound, never listened: nothing accepts there now
  UpgradeRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  auto upgraded = DialUpgrade(request);
  CHECK(upgraded.status().code() == StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kite::streaming
