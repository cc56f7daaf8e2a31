#include "tests/server/http/test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>

namespace kite::http::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test_certs: %s failed\n", what);
    std::abort();
  }
}

EVP_PKEY* NewKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "EVP_EC_gen");
  return key;
}

std::string Pem(int (*write)(BIO*, void*), void* object) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(write(bio, object) == 1, "PEM write");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string CertPem(X509* cert) {
  return Pem([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, cert);
}

std::string KeyPem(EVP_PKEY* key) {
  return Pem(
      [](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0,
                                        nullptr, nullptr);
      },
      key);
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

void AddName(X509_NAME* name, const char* field, const std::string& value) {
  Check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
}

// A certificate for `key` with the given subject, signed by issuer (self-signed when
// issuer is null).
X509* MakeCert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& orgs,
               X509* issuer) {
  static long serial = 1;
  X509* cert = X509_new();
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  for (const auto& o : orgs) AddName(name, "O", o);
  AddName(name, "CN", cn);
  Check(X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) == 1,
        "X509_set_issuer_name");
  return cert;
}

void Sign(X509* cert, EVP_PKEY* key) { Check(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign"); }

}  // namespace

struct TestCa::State {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~State() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

TestCa::TestCa(const std::string& common_name) : state_(std::make_unique<State>()) {
  state_->key = NewKey();
  state_->cert = MakeCert(state_->key, common_name, {}, nullptr);
  AddExtension(state_->cert, state_->cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(state_->cert, state_->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(state_->cert, state_->cert, NID_subject_key_identifier, "hash");
  Sign(state_->cert, state_->key);
  cert_pem_ = CertPem(state_->cert);
}

TestCa::~TestCa() = default;

CertAndKey TestCa::IssueServer() const {
  EVP_PKEY* key = NewKey();
  X509* cert = MakeCert(key, "kite-test-server", {}, state_->cert);
  AddExtension(cert, state_->cert, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert, state_->cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  AddExtension(cert, state_->cert, NID_ext_key_usage, "serverAuth");
  AddExtension(cert, state_->cert, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
  Sign(cert, state_->key);
  CertAndKey out{CertPem(cert), KeyPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

CertAndKey TestCa::IssueClient(const std::string& common_name,
                               const std::vector<std::string>& organizations) const {
  EVP_PKEY* key = NewKey();
  X509* cert = MakeCert(key, common_name, organizations, state_->cert);
  AddExtension(cert, state_->cert, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert, state_->cert, NID_key_usage, "critical,digitalSignature");
  AddExtension(cert, state_->cert, NID_ext_key_usage, "clientAuth");
  Sign(cert, state_->key);
  CertAndKey out{CertPem(cert), KeyPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace kite::http::testing
