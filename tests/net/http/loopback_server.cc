#include "tests/net/http/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstdio>

#include "src/server/pki/certificates.h"

namespace kite::net::http::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "loopback server: %s failed\n", what);
    std::abort();
  }
}

SSL_CTX* MakeServerContext(const ServerTls& tls) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  Check(ctx != nullptr, "SSL_CTX_new");
  auto cert = pki::CertificateFromPem(tls.cert_pem);
  auto key = pki::PrivateKeyFromPem(tls.key_pem);
  Check(cert.ok() && key.ok(), "reading the server certificate");
  Check(SSL_CTX_use_certificate(ctx, cert->get()) == 1, "SSL_CTX_use_certificate");
  Check(SSL_CTX_use_PrivateKey(ctx, key->get()) == 1, "SSL_CTX_use_PrivateKey");
  static const unsigned char kContext[] = "kite-test";
  SSL_CTX_set_session_id_context(ctx, kContext, sizeof(kContext) - 1);
  if (!tls.client_ca_pem.empty()) {
    auto ca = pki::CertificateFromPem(tls.client_ca_pem);
    Check(ca.ok(), "reading the client CA");
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->get());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

}  // namespace

std::string SeenRequest::Header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    std::string n = name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (n == lower_name) return value;
  }
  return "";
}

std::string Answer(int status, const std::string& body, const std::string& extra_headers) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

LoopbackServer::LoopbackServer(Handler handler, std::optional<ServerTls> tls) : handler_(std::move(handler)) {
  signal(SIGPIPE, SIG_IGN);  // OpenSSL's socket BIO writes with write(2)
  if (tls) ssl_ctx_ = MakeServerContext(*tls);
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Check(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, "bind");
  Check(listen(listen_fd_, 64) == 0, "listen");
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { Accept(); });
}

LoopbackServer::~LoopbackServer() {
  stop_ = true;
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);  // wakes handlers blocked in a read
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  for (int fd : fds_) close(fd);
  close(listen_fd_);
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::vector<SeenRequest> LoopbackServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void LoopbackServer::Accept() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted_;
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void LoopbackServer::Serve(int fd) {
  SSL* ssl = nullptr;
  ServerConn conn(fd, nullptr, this);
  if (ssl_ctx_) {
    ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      SSL_free(ssl);
      return;  // the fd is closed by nobody until the end: fine for a test
    }
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
      auto subject = pki::SubjectOf(peer);
      if (subject.ok()) conn.client_cn_ = subject->common_name;
      X509_free(peer);
    }
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) conn.server_name_ = name;
    conn.ssl_ = ssl;
  }
  handler_(conn);
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  shutdown(fd, SHUT_RDWR);
}

size_t ServerConn::ReadSome(char* buf, size_t n) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  while (!server_->stop_) {
    if (!ssl || SSL_pending(ssl) == 0) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
    }
    int got = ssl ? SSL_read(ssl, buf, static_cast<int>(n)) : static_cast<int>(recv(fd_, buf, n, 0));
    if (got <= 0) {
      ERR_clear_error();
      return 0;
    }
    return static_cast<size_t>(got);
  }
  return 0;
}

std::optional<SeenRequest> ServerConn::ReadRequest() {
  char buf[4096];
  while (buffered_.find("\r\n\r\n") == std::string::npos) {
    size_t got = ReadSome(buf, sizeof(buf));
    if (got == 0) return std::nullopt;
    buffered_.append(buf, got);
  }
  size_t head_end = buffered_.find("\r\n\r\n");
  std::string head = buffered_.substr(0, head_end);
  buffered_.erase(0, head_end + 4);
  SeenRequest req;
  size_t line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  req.method = first.substr(0, sp1);
  if (sp2 > sp1) req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = std::min(head.find("\r\n", pos), head.size());
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers.emplace_back(line.substr(0, colon), value);
    }
    pos = end + 2;
  }
  size_t length = static_cast<size_t>(std::atoll(req.Header("content-length").c_str()));
  while (buffered_.size() < length) {
    size_t got = ReadSome(buf, sizeof(buf));
    if (got == 0) return std::nullopt;
    buffered_.append(buf, got);
  }
  req.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  std::lock_guard<std::mutex> lock(server_->mu_);
  server_->requests_.push_back(req);
  return req;
}

void ServerConn::Write(std::string_view data) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  while (!data.empty()) {
    int put = ssl ? SSL_write(ssl, data.data(), static_cast<int>(data.size()))
                  : static_cast<int>(send(fd_, data.data(), data.size(), MSG_NOSIGNAL));
    if (put <= 0) {
      ERR_clear_error();
      return;
    }
    data.remove_prefix(static_cast<size_t>(put));
  }
}

void ServerConn::WaitForStop() {
  while (!server_->stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace kite::net::http::testing
