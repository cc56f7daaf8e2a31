// A blocking TLS client for tests, on one thread: for what curl and Kite's own client will
// not send (raw bytes, pipelined requests, odd ALPN lists, upgrades), and for reading a
// response as it arrives. Connects to 127.0.0.1:port without verifying the server; every
// read gives up after 5 s without data.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace kite::testing {

class RawTlsClient {
 public:
  struct Options {
    std::string alpn;       // the ALPN list in wire format ("" = none offered)
    std::string cert_file;  // a client certificate chain (PEM), with key_file; "" = none
    std::string key_file;
  };

  explicit RawTlsClient(int port, const Options& options = {}) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    if (!options.alpn.empty()) {
      SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(options.alpn.data()),
                              static_cast<unsigned>(options.alpn.size()));
    }
    if (!options.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    connected_ = SSL_connect(ssl_) == 1;
  }
  ~RawTlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
    SSL_CTX_free(ctx_);
  }
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  bool connected() const { return connected_; }
  bool Write(const std::string& data) {
    return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
  }
  // Sends close_notify: the client's half of the connection is over.
  void CloseWrite() { SSL_shutdown(ssl_); }

  // Everything up to and including `needle`, keeping what follows; "" when the connection
  // ends (or 5 s pass) first.
  std::string ReadThrough(const std::string& needle) {
    for (;;) {
      size_t at = buffered_.find(needle);
      if (at != std::string::npos) {
        std::string out = buffered_.substr(0, at + needle.size());
        buffered_.erase(0, at + needle.size());
        return out;
      }
      if (!ReadSome()) return "";
    }
  }
  // Everything read once `needle` has come `count` times, or when the connection ends.
  std::string ReadUntil(const std::string& needle, int count = 1) {
    for (;;) {
      int seen = 0;
      for (size_t p = buffered_.find(needle); p != std::string::npos; p = buffered_.find(needle, p + 1)) ++seen;
      if (seen >= count || !ReadSome()) return Take();
    }
  }
  // Everything until the server ends the connection or 5 s pass; `closed` says which.
  std::string ReadUntilClose(bool* closed = nullptr) {
    while (ReadSome()) {
    }
    if (closed != nullptr) *closed = ended_;
    return Take();
  }
  // True when the server ends the connection (rather than a 5 s timeout).
  bool ReadsEnd() {
    ReadUntilClose();
    return ended_;
  }

 private:
  // Appends what arrives to buffered_; false at the end of the connection or a timeout.
  bool ReadSome() {
    char buf[16384];
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      buffered_.append(buf, static_cast<size_t>(n));
      return true;
    }
    int err = SSL_get_error(ssl_, n);
    // OpenSSL 3 reports a TCP EOF without close_notify as SSL_ERROR_SSL; a receive timeout
    // is SSL_ERROR_SYSCALL with EAGAIN.
    ended_ = err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SSL ||
             (err == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK);
    return false;
  }
  std::string Take() {
    std::string out;
    out.swap(buffered_);
    return out;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  bool ended_ = false;
  std::string buffered_;
};

}  // namespace kite::testing
