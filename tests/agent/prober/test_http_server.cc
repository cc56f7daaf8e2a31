#include "tests/agent/prober/test_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace kite::agent::prober::testing {
namespace {

int ListenLoopback(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  listen(fd, 16);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// A self-signed certificate for 127.0.0.1 with a fresh EC key.
SSL_CTX* MakeTlsContext() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("probe-test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

}  // namespace

TestHttpServer::TestHttpServer(bool tls) : tls_(tls) {
  listen_fd_ = ListenLoopback(port_);
  if (tls_) ssl_ctx_ = MakeTlsContext();
  thread_ = std::thread([this] { Serve(); });
}

TestHttpServer::~TestHttpServer() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string TestHttpServer::url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<TestHttpServer::Request> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void TestHttpServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    close(fd);
  }
}

void TestHttpServer::Handle(int fd) {
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SSL* ssl = nullptr;
  if (tls_) {
    ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) <= 0) {
      SSL_free(ssl);
      return;
    }
  }
  auto read_some = [&](char* buf, int n) { return ssl ? SSL_read(ssl, buf, n) : static_cast<int>(recv(fd, buf, n, 0)); };
  auto write_all = [&](const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      int n = ssl ? SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off))
                  : static_cast<int>(send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL));
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  };
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos) {
    int n = read_some(buf, sizeof(buf));
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  Request req;
  size_t line_end = in.find("\r\n");
  std::string first = in.substr(0, line_end);
  size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  if (sp1 != std::string::npos && sp2 > sp1) req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? in.size() : line_end + 2;
  while (pos < in.size()) {
    size_t end = in.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = in.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers[name] = value;
    }
    pos = end + 2;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
  }
  std::string scheme = tls_ ? "https" : "http";
  auto answer = [&](int status, const std::string& reason, const std::string& body, const std::string& extra = "") {
    write_all("HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\nConnection: close\r\n" + extra + "\r\n" + body);
  };
  std::string port = std::to_string(port_);
  if (req.path == "/ok") {
    answer(200, "OK", "fine");
  } else if (req.path == "/fail") {
    answer(500, "Internal Server Error", "broken");
  } else if (req.path == "/slow") {
    for (int i = 0; i < 40 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    answer(200, "OK", "late");
  } else if (req.path == "/redirect-same") {
    answer(302, "Found", "", "Location: " + scheme + "://127.0.0.1:" + port + "/ok\r\n");
  } else if (req.path == "/redirect-other") {
    answer(302, "Found", "moved", "Location: " + scheme + "://localhost:" + port + "/ok\r\n");
  } else if (req.path == "/loop") {
    answer(302, "Found", "", "Location: /loop\r\n");
  } else if (req.path == "/big") {
    answer(200, "OK", std::string(100 * 1024, 'x'));
  } else {
    answer(404, "Not Found", "no");
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
}

int ClosedPort() {
  int port = 0;
  int fd = ListenLoopback(port);
  close(fd);
  return port;
}

}  // namespace kite::agent::prober::testing
