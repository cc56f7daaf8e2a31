#include "src/net/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "src/net/http/url.h"

namespace kite::net::http {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemoryBio(const std::string& pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

void FreePeerName(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(ptr); }

// The SSL ex-data slot holding the "host:port" a connection is for (a std::string the slot
// owns), which the new-session callback files the session under.
int PeerIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreePeerName);
  return index;
}

Status LoadCaCertificates(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    int added = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (!added) return InvalidArgumentError("the CA certificate cannot be used: " + TakeOpenSslError());
    ++count;
  }
  std::string error = TakeOpenSslError();  // the end of the input shows as "no start line"
  if (count == 0) return InvalidArgumentError("the CA is not a PEM certificate: " + error);
  return Status();
}

Status LoadClientCertificate(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  BioPtr certs = MemoryBio(cert_pem);
  X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (!leaf) return InvalidArgumentError("the client certificate is not a PEM certificate: " + TakeOpenSslError());
  int used = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (!used) return InvalidArgumentError("the client certificate cannot be used: " + TakeOpenSslError());
  while (X509* chain = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    int added = SSL_CTX_add1_chain_cert(ctx, chain);
    X509_free(chain);
    if (!added) return InvalidArgumentError("a client chain certificate cannot be used: " + TakeOpenSslError());
  }
  ERR_clear_error();
  BioPtr key_bio = MemoryBio(key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (!key) return InvalidArgumentError("the client key is not a PEM private key: " + TakeOpenSslError());
  used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (!used || !SSL_CTX_check_private_key(ctx)) {
    return InvalidArgumentError("the client key does not match its certificate: " + TakeOpenSslError());
  }
  return Status();
}

}  // namespace

std::string TakeOpenSslError() {
  std::string text;
  if (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (reason) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof(buf));
      text = buf;
    }
  }
  ERR_clear_error();
  return text;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsOptions& options) {
  if (options.verify && options.ca_pem.empty()) return InvalidArgumentError("TLS verification needs a CA certificate");
  if (options.client_cert_pem.empty() != options.client_key_pem.empty()) {
    return InvalidArgumentError("a client certificate needs its key, and a key its certificate");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return InternalError("OpenSSL cannot make a TLS context: " + TakeOpenSslError());
  std::shared_ptr<TlsContext> self(new TlsContext(ctx, options.verify, options.resume_sessions));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A peer that closes without close_notify ends the stream; the HTTP framing (length,
  // chunks) still detects a truncated body.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read what the socket has, not a record header and then its body: one recv per response.
  SSL_CTX_set_read_ahead(ctx, 1);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn) - 1);
  if (options.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    KITE_RETURN_IF_ERROR(LoadCaCertificates(ctx, options.ca_pem));
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.client_cert_pem.empty()) {
    KITE_RETURN_IF_ERROR(LoadClientCertificate(ctx, options.client_cert_pem, options.client_key_pem));
  }
  if (options.resume_sessions) {
    SSL_CTX_set_app_data(ctx, self.get());
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &TlsContext::OnNewSession);
  }
  return self;
}

TlsContext::~TlsContext() {
  {
    MutexLock lock(mu_);
    for (auto& [peer, session] : sessions_) SSL_SESSION_free(session);
    sessions_.clear();
  }
  SSL_CTX_free(ctx_);
}

Result<SSL*> TlsContext::NewSsl(const std::string& host, int port) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return InternalError("OpenSSL cannot make a TLS connection: " + TakeOpenSslError());
  std::string peer = host + ":" + std::to_string(port);
  bool ip = IsIpLiteral(host);
  bool ok = true;
  if (!ip) ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  if (ok && verify_) {
    if (ip) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    } else {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(ssl, host.c_str()) == 1;
    }
  }
  if (ok && resume_) {
    ok = SSL_set_ex_data(ssl, PeerIndex(), new std::string(peer)) == 1;
    MutexLock lock(mu_);
    auto it = sessions_.find(peer);
    if (ok && it != sessions_.end()) ok = SSL_set_session(ssl, it->second) == 1;
  }
  if (!ok) {
    SSL_free(ssl);
    return InternalError("OpenSSL cannot set up a TLS connection to " + peer + ": " + TakeOpenSslError());
  }
  return ssl;
}

int TlsContext::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* peer = static_cast<std::string*>(SSL_get_ex_data(ssl, PeerIndex()));
  if (!self || !peer || !SSL_SESSION_is_resumable(session)) return 0;  // not kept: OpenSSL frees it
  self->Remember(*peer, session);
  return 1;
}

void TlsContext::Remember(const std::string& peer, SSL_SESSION* session) {
  MutexLock lock(mu_);
  auto it = sessions_.find(peer);
  if (it != sessions_.end()) {
    SSL_SESSION_free(it->second);
    it->second = session;
    return;
  }
  if (sessions_.size() >= kMaxCachedPeers) {
    SSL_SESSION_free(sessions_.begin()->second);
    sessions_.erase(sessions_.begin());
  }
  sessions_.emplace(peer, session);
}

}  // namespace kite::net::http
