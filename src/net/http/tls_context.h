// The client side of TLS for outgoing connections: which certificates a server must
// present, and what the client presents itself. One TlsContext serves many connections.
//
// Verification: with `verify`, the server's chain must lead to one of the certificates in
// `ca_pem` (the system's CAs are never used) and the leaf must name the host the
// connection was made to: a DNS subjectAltName for a host name, an IP subjectAltName for
// an IP literal (SocketStream sets this per connection). Without `verify`, anything is
// accepted (the kubelet's HTTPS probes). TLS 1.2 or newer; ALPN offers "http/1.1".
//
// Sessions: with `resume_sessions`, the newest session ticket a server issued is kept per
// "host:port" (at most kMaxCachedPeers peers) and offered on the next connection to it,
// which saves a full handshake.
//
// Errors: Create returns kInvalidArgument when a PEM does not parse, `verify` is set
// without a CA, only one of the client certificate and key is given, or the key does not
// belong to the certificate; the message carries OpenSSL's reason.
// Thread-safety: safe to use from many connections and threads at once. Connections hold
// a shared_ptr, so a context lives as long as its last connection.
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>

#include "src/base/mutex.h"
#include "src/base/status.h"

namespace kite::net::http {

struct TlsOptions {
  bool verify = true;
  std::string ca_pem;           // one or more PEM certificates; required with verify
  std::string client_cert_pem;  // leaf first, then any intermediates
  std::string client_key_pem;
  bool resume_sessions = true;
};

class TlsContext {
 public:
  static constexpr size_t kMaxCachedPeers = 64;

  static Result<std::shared_ptr<TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool verify() const { return verify_; }

  // A new client SSL object for a connection to host:port: server name indication for a
  // host name, the host-name or IP check when verifying, and a cached session offered.
  // kInternal if OpenSSL cannot make one.
  Result<SSL*> NewSsl(const std::string& host, int port);

 private:
  TlsContext(SSL_CTX* ctx, bool verify, bool resume) : ctx_(ctx), verify_(verify), resume_(resume) {}
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);
  void Remember(const std::string& peer, SSL_SESSION* session);

  SSL_CTX* const ctx_;
  const bool verify_;
  const bool resume_;
  Mutex mu_;
  std::map<std::string, SSL_SESSION*> sessions_ GUARDED_BY(mu_);  // owned references
};

// The text of OpenSSL's most recent error on this thread ("" if none); clears the queue.
std::string TakeOpenSslError();

}  // namespace kite::net::http
