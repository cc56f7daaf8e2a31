#include "src/server/pki/certificates.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "src/base/openssl_errors.h"

namespace kite::pki {
namespace {

// Tolerance for peers whose clocks run slightly behind ours.
constexpr int64_t kBackdateSeconds = 5 * 60;

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct ExtensionDeleter {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;
using Extension = std::unique_ptr<X509_EXTENSION, ExtensionDeleter>;

Status OpenSslInternal(const std::string& what) {
  return InternalError(what + ": " + TakeOpenSslErrors());
}
Status OpenSslInvalid(const std::string& what) {
  return InvalidArgumentError(what + ": " + TakeOpenSslErrors());
}

// 16 random bytes with the top bit cleared: a positive 128-bit serial, as RFC 5280 asks
// (at most 20 octets, positive) and as Go's crypto/x509 users generate them.
Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  do {
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslInternal("RAND_bytes");
    bytes[0] &= 0x7f;
  } while (std::all_of(bytes, bytes + sizeof(bytes), [](unsigned char b) { return b == 0; }));
  Bn bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn) return OpenSslInternal("BN_bin2bn");
  if (!BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
    return OpenSslInternal("set serial number");
  }
  return Status::Ok();
}

Status SetValidity(X509* cert, int64_t now_unix, std::chrono::seconds validity) {
  if (validity.count() <= 0) return InvalidArgumentError("certificate validity must be positive");
  auto at = static_cast<time_t>(now_unix);
  if (!X509_time_adj_ex(X509_getm_notBefore(cert), 0, -kBackdateSeconds, &at) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert), 0, static_cast<long>(validity.count()), &at)) {
    return OpenSslInternal("set certificate validity");
  }
  return Status::Ok();
}

Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(value.data()),
                                  static_cast<int>(value.size()), -1, 0)) {
    return OpenSslInvalid("bad subject name entry \"" + value + "\"");
  }
  return Status::Ok();
}

// Adds an extension written in OpenSSL's config syntax. Values here are constants of this
// file, never caller input (SANs are built as structures instead).
Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext) return OpenSslInternal(std::string("build extension ") + OBJ_nid2sn(nid));
  if (!X509_add_ext(cert, ext.get(), -1)) {
    return OpenSslInternal(std::string("add extension ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

bool ParseIp(const std::string& text, unsigned char* out, int* len) {
  if (inet_pton(AF_INET, text.c_str(), out) == 1) {
    *len = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out) == 1) {
    *len = 16;
    return true;
  }
  return false;
}

Status ValidateSan(const std::string& san) {
  if (san.empty()) return InvalidArgumentError("empty subjectAltName");
  for (unsigned char c : san) {
    if (c <= 0x20 || c >= 0x7f) {
      return InvalidArgumentError("subjectAltName \"" + san +
                                  "\" has whitespace or a non-ASCII character");
    }
  }
  return Status::Ok();
}

Status AddSubjectAltNames(X509* cert, const std::vector<std::string>& sans) {
  GeneralNames names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslInternal("allocate subjectAltName");
  for (const std::string& san : sans) {
    KITE_RETURN_IF_ERROR(ValidateSan(san));
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (!name) return OpenSslInternal("allocate subjectAltName");
    unsigned char ip[16];
    int ip_len = 0;
    bool ok;
    if (ParseIp(san, ip, &ip_len)) {
      ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
      ok = octets && ASN1_OCTET_STRING_set(octets, ip, ip_len);
      if (octets) GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
    } else {
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      ok = dns && ASN1_STRING_set(dns, san.data(), static_cast<int>(san.size()));
      if (dns) GENERAL_NAME_set0_value(name, GEN_DNS, dns);
    }
    if (!ok || !sk_GENERAL_NAME_push(names.get(), name)) {
      GENERAL_NAME_free(name);
      return OpenSslInternal("build subjectAltName " + san);
    }
  }
  if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT)) {
    return OpenSslInternal("add subjectAltName");
  }
  return Status::Ok();
}

// The parts every certificate shares: version 3, serial, validity, subject, public key,
// subjectKeyIdentifier, and (for CA-signed ones) issuer and authorityKeyIdentifier.
// `ca` null means self-signed. The caller adds its own extensions and then calls Sign.
Result<Certificate> NewCertificate(const X509* ca, EVP_PKEY* key, int64_t now_unix,
                                   std::chrono::seconds validity,
                                   const std::vector<std::pair<int, std::string>>& subject) {
  Certificate cert(X509_new());
  if (!cert) return OpenSslInternal("X509_new");
  if (!X509_set_version(cert.get(), 2)) return OpenSslInternal("set version");
  KITE_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  KITE_RETURN_IF_ERROR(SetValidity(cert.get(), now_unix, validity));
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [nid, value] : subject) {
    KITE_RETURN_IF_ERROR(AddNameEntry(name, nid, value));
  }
  const X509_NAME* issuer_name = ca ? X509_get_subject_name(ca) : name;
  if (!X509_set_issuer_name(cert.get(), issuer_name)) return OpenSslInternal("set issuer");
  if (!X509_set_pubkey(cert.get(), key)) return OpenSslInternal("set public key");
  // X509V3_set_ctx does not modify the issuer; OpenSSL 3.0's prototype is just not const.
  X509* issuer = ca ? const_cast<X509*>(ca) : cert.get();
  KITE_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash"));
  if (ca) {
    KITE_RETURN_IF_ERROR(
        AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  }
  return cert;
}

Status Sign(X509* cert, EVP_PKEY* signer) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) return OpenSslInternal("sign certificate");
  return Status::Ok();
}

Status CheckCa(const KeyAndCert& ca) {
  if (!ca.key || !ca.cert) return InvalidArgumentError("CA key or certificate missing");
  return Status::Ok();
}

Result<std::string> ReadBio(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && !data)) return OpenSslInternal("read memory BIO");
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> NameEntryText(const X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (len < 0) return OpenSslInvalid("certificate subject entry is not valid text");
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return text;
}

}  // namespace

Result<PrivateKey> GenerateKey() {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx) return OpenSslInternal("EVP_PKEY_CTX_new_from_name(EC)");
  if (EVP_PKEY_keygen_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), SN_X9_62_prime256v1) <= 0) {
    return OpenSslInternal("set up P-256 key generation");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw) <= 0) return OpenSslInternal("generate P-256 key");
  return PrivateKey(raw);
}

Result<KeyAndCert> CreateCaCertificate(int64_t now_unix, std::chrono::seconds validity) {
  Result<PrivateKey> key = GenerateKey();
  if (!key.ok()) return key.status();
  // k3s names its CA "<component>-ca@<unix time>", so a regenerated CA differs by name.
  std::string cn = "kite-server-ca@" + std::to_string(now_unix);
  Result<Certificate> cert =
      NewCertificate(nullptr, key->get(), now_unix, validity, {{NID_commonName, cn}});
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  KITE_RETURN_IF_ERROR(AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE"));
  KITE_RETURN_IF_ERROR(AddExtension(c, c, NID_key_usage,
                                    "critical,digitalSignature,keyCertSign,cRLSign"));
  KITE_RETURN_IF_ERROR(Sign(c, key->get()));
  return KeyAndCert{std::move(*key), std::move(*cert)};
}

Result<KeyAndCert> CreateServerCertificate(const KeyAndCert& ca, const std::string& common_name,
                                           const std::vector<std::string>& sans,
                                           int64_t now_unix, std::chrono::seconds validity) {
  KITE_RETURN_IF_ERROR(CheckCa(ca));
  if (common_name.empty()) return InvalidArgumentError("server certificate needs a common name");
  if (sans.empty()) return InvalidArgumentError("server certificate needs subjectAltNames");
  for (const std::string& san : sans) KITE_RETURN_IF_ERROR(ValidateSan(san));
  Result<PrivateKey> key = GenerateKey();
  if (!key.ok()) return key.status();
  Result<Certificate> cert = NewCertificate(ca.cert.get(), key->get(), now_unix, validity,
                                            {{NID_commonName, common_name}});
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  KITE_RETURN_IF_ERROR(AddExtension(c, ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  KITE_RETURN_IF_ERROR(AddExtension(c, ca.cert.get(), NID_key_usage,
                                    "critical,digitalSignature,keyEncipherment"));
  KITE_RETURN_IF_ERROR(AddExtension(c, ca.cert.get(), NID_ext_key_usage, "serverAuth"));
  KITE_RETURN_IF_ERROR(AddSubjectAltNames(c, sans));
  KITE_RETURN_IF_ERROR(Sign(c, ca.key.get()));
  return KeyAndCert{std::move(*key), std::move(*cert)};
}

Result<KeyAndCert> CreateClientCertificate(const KeyAndCert& ca, const std::string& user,
                                           const std::vector<std::string>& groups,
                                           int64_t now_unix, std::chrono::seconds validity) {
  KITE_RETURN_IF_ERROR(CheckCa(ca));
  if (user.empty()) return InvalidArgumentError("client certificate needs a user name (CN)");
  // Go's crypto/x509 writes O before CN; Kubernetes reads both regardless of order.
  std::vector<std::pair<int, std::string>> subject;
  for (const std::string& group : groups) {
    if (group.empty()) return InvalidArgumentError("empty group name for user " + user);
    subject.emplace_back(NID_organizationName, group);
  }
  subject.emplace_back(NID_commonName, user);
  Result<PrivateKey> key = GenerateKey();
  if (!key.ok()) return key.status();
  Result<Certificate> cert =
      NewCertificate(ca.cert.get(), key->get(), now_unix, validity, subject);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  KITE_RETURN_IF_ERROR(AddExtension(c, ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  KITE_RETURN_IF_ERROR(AddExtension(c, ca.cert.get(), NID_key_usage,
                                    "critical,digitalSignature,keyEncipherment"));
  KITE_RETURN_IF_ERROR(AddExtension(c, ca.cert.get(), NID_ext_key_usage, "clientAuth"));
  KITE_RETURN_IF_ERROR(Sign(c, ca.key.get()));
  return KeyAndCert{std::move(*key), std::move(*cert)};
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  if (!key) return InvalidArgumentError("no private key to encode");
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslInternal("BIO_new");
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return OpenSslInternal("encode private key");
  }
  return ReadBio(bio.get());
}

Result<PrivateKey> PrivateKeyFromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslInternal("BIO_new_mem_buf");
  // The no-op password callback makes an encrypted key fail instead of prompting on a tty.
  pem_password_cb* no_password = [](char*, int, int, void*) { return 0; };
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!key) return OpenSslInvalid("no PEM private key could be parsed");
  return key;
}

Result<std::string> CertificateToPem(X509* cert) {
  if (!cert) return InvalidArgumentError("no certificate to encode");
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslInternal("BIO_new");
  if (!PEM_write_bio_X509(bio.get(), cert)) return OpenSslInternal("encode certificate");
  return ReadBio(bio.get());
}

Result<Certificate> CertificateFromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslInternal("BIO_new_mem_buf");
  Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslInvalid("no PEM certificate could be parsed");
  return cert;
}

Result<CertificateSubject> SubjectOf(const X509* cert) {
  if (!cert) return InvalidArgumentError("no certificate");
  const X509_NAME* name = X509_get_subject_name(cert);
  CertificateSubject subject;
  // Kubernetes takes the CN (the first, if several) as the user and every O as a group.
  int cn_index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (cn_index >= 0) {
    Result<std::string> cn = NameEntryText(X509_NAME_get_entry(name, cn_index));
    if (!cn.ok()) return cn.status();
    subject.common_name = std::move(*cn);
  }
  for (int i = X509_NAME_get_index_by_NID(name, NID_organizationName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) {
    Result<std::string> org = NameEntryText(X509_NAME_get_entry(name, i));
    if (!org.ok()) return org.status();
    subject.organizations.push_back(std::move(*org));
  }
  return subject;
}

Result<CertificateSubject> ParseCertificateSubject(std::string_view pem) {
  Result<Certificate> cert = CertificateFromPem(pem);
  if (!cert.ok()) return cert.status();
  return SubjectOf(cert->get());
}

std::vector<std::string> SubjectAltNamesOf(const X509* cert) {
  std::vector<std::string> out;
  if (!cert) return out;
  GeneralNames names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    if (!value) continue;
    const unsigned char* data = ASN1_STRING_get0_data(value);
    int len = ASN1_STRING_length(value);
    if (type == GEN_DNS) {
      out.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
    } else if (type == GEN_IPADD && (len == 4 || len == 16)) {
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(len == 4 ? AF_INET : AF_INET6, data, text, sizeof(text))) {
        out.emplace_back(text);
      }
    }
  }
  return out;
}

std::string CanonicalSan(const std::string& san) {
  unsigned char ip[16];
  int len = 0;
  if (ParseIp(san, ip, &len)) {
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, text, sizeof(text))) return text;
  }
  std::string lower = san;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

Result<int64_t> NotAfterUnix(const X509* cert) {
  if (!cert) return InvalidArgumentError("no certificate");
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    return OpenSslInvalid("unreadable certificate notAfter");
  }
  return static_cast<int64_t>(timegm(&tm));
}

Status CheckSignedBy(const X509* cert, const X509* ca) {
  if (!cert || !ca) return InvalidArgumentError("no certificate");
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca)) != 0) {
    return InvalidArgumentError("certificate was issued by another CA");
  }
  EVP_PKEY* ca_key = X509_get0_pubkey(ca);
  // X509_verify does not modify the certificate; OpenSSL 3.0's prototype is just not const.
  if (!ca_key || X509_verify(const_cast<X509*>(cert), ca_key) != 1) {
    return OpenSslInvalid("certificate signature does not verify with the CA key");
  }
  return Status::Ok();
}

Status CheckKeyMatches(const X509* cert, const EVP_PKEY* key) {
  if (!cert || !key) return InvalidArgumentError("no certificate or key");
  if (X509_check_private_key(cert, key) != 1) {
    return OpenSslInvalid("private key does not match the certificate");
  }
  return Status::Ok();
}

}  // namespace kite::pki
