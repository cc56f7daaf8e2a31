#include "tests/agent/server/tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace kite::agent::server::testing {
namespace {

std::string OpenSslError() {
  char buffer[256];
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  return buffer;
}

class TlsConnection final : public http::UpgradedConnection {
 public:
  TlsConnection(SSL_CTX* ctx, SSL* ssl, int fd, std::string prefix)
      : ctx_(ctx), ssl_(ssl), fd_(fd), prefix_(std::move(prefix)) {}
  ~TlsConnection() override {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  size_t Read(char* buffer, size_t size) override {
    if (!prefix_.empty()) {
      size_t n = std::min(size, prefix_.size());
      std::memcpy(buffer, prefix_.data(), n);
      prefix_.erase(0, n);
      return n;
    }
    int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
  bool Write(std::string_view data) override {
    while (!data.empty()) {
      int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void Close() override { ::shutdown(fd_, SHUT_RDWR); }
  void SetPrefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_;
  int fd_;
  std::string prefix_;
};

}  // namespace

Result<TlsResponse> TlsRequest(int port, const std::string& ca_pem, const std::string& cert_pem,
                               const std::string& key_pem, const std::string& request_head) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return InternalError("SSL_CTX_new: " + OpenSslError());
  auto fail = [&](const std::string& message) {
    SSL_CTX_free(ctx);
    return InternalError(message);
  };
  {
    BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, ca);
      X509_free(ca);
    }
    ERR_clear_error();
    BIO_free(bio);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
  if (!cert_pem.empty()) {
    BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    BIO_free(key_bio);
    bool ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) return fail("client certificate: " + OpenSslError());
  }

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return fail("connect: " + std::string(std::strerror(errno)));
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) {
    std::string error = OpenSslError();
    SSL_free(ssl);
    ::close(fd);
    return fail("TLS handshake: " + error);
  }
  auto connection = std::make_unique<TlsConnection>(ctx, ssl, fd, "");
  if (!connection->Write(request_head)) return UnavailableError("cannot send the request");

  std::string buffer;
  char chunk[4096];
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    size_t n = connection->Read(chunk, sizeof(chunk));
    if (n == 0) return UnavailableError("connection closed before a response: " + buffer);
    buffer.append(chunk, n);
  }
  TlsResponse response;
  response.head = buffer.substr(0, head_end);
  response.status = std::atoi(response.head.c_str() + 9);
  std::string rest = buffer.substr(head_end + 4);
  if (response.status == 101) {
    connection->SetPrefix(rest);
    response.upgraded = std::move(connection);
    return response;
  }
  size_t length = 0;
  std::string lower = response.head;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  size_t cl = lower.find("content-length:");
  if (cl != std::string::npos) length = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
  while (rest.size() < length) {
    size_t n = connection->Read(chunk, sizeof(chunk));
    if (n == 0) break;
    rest.append(chunk, n);
  }
  response.body = rest;
  return response;
}

}  // namespace kite::agent::server::testing
