// Keys and X.509 certificates for the cluster: the CA, the API server's serving
// certificate and client certificates, in the shapes k3s and kubeadm use.
//
// - Keys are ECDSA P-256. Private keys are PEM-encoded as PKCS#8 ("BEGIN PRIVATE KEY"),
//   which kubectl, client-go and OpenSSL all read.
// - Every certificate has a random positive 128-bit serial number, a subjectKeyIdentifier,
//   and (when signed by the CA) an authorityKeyIdentifier; it is signed with SHA-256.
// - notBefore is `now - 5 minutes`, so a peer whose clock is slightly behind still accepts
//   a certificate issued a moment ago; notAfter is `now + validity`.
// - Client certificates carry the user in the subject CN and the groups in O entries:
//   this is how the Kubernetes API server authenticates x509 clients.
//
// Thread-safety: every function is safe to call concurrently (OpenSSL 3 is thread-safe;
// no shared state here). Errors: kInvalidArgument for malformed input (PEM text, SANs,
// names), kInternal when OpenSSL fails to build or sign something; the message includes
// OpenSSL's reason.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::pki {

struct PrivateKeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertificateDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using PrivateKey = std::unique_ptr<EVP_PKEY, PrivateKeyDeleter>;
using Certificate = std::unique_ptr<X509, CertificateDeleter>;

// A certificate and its private key, owned together.
struct KeyAndCert {
  PrivateKey key;
  Certificate cert;
};

// Validity periods (as in k3s: CA 10 years, leaf certificates 1 year, renewed on start-up
// when close to expiry; see cluster_pki.h).
inline constexpr std::chrono::seconds kCaValidity = std::chrono::hours(24 * 3650);
inline constexpr std::chrono::seconds kLeafValidity = std::chrono::hours(24 * 365);

// A new ECDSA P-256 key. kInternal if OpenSSL fails.
Result<PrivateKey> GenerateKey();

// A new self-signed CA: CN "kite-server-ca@<now_unix>", basicConstraints CA:TRUE and
// keyUsage keyCertSign, cRLSign, digitalSignature (both critical).
Result<KeyAndCert> CreateCaCertificate(int64_t now_unix,
                                       std::chrono::seconds validity = kCaValidity);

// A new serving certificate signed by `ca`: subject CN `common_name`, keyUsage
// digitalSignature + keyEncipherment, extendedKeyUsage serverAuth, and one subjectAltName
// per entry of `sans` — an IPv4/IPv6 literal becomes an IP address, anything else a DNS
// name. kInvalidArgument if `sans` is empty or holds an empty name or one with whitespace
// or control characters.
Result<KeyAndCert> CreateServerCertificate(const KeyAndCert& ca, const std::string& common_name,
                                           const std::vector<std::string>& sans,
                                           int64_t now_unix,
                                           std::chrono::seconds validity = kLeafValidity);

// A new client certificate signed by `ca`: subject CN `user` and one O per entry of
// `groups` (in order), extendedKeyUsage clientAuth. The cluster admin is
// ("system:admin", {"system:masters"}). kInvalidArgument if `user` or a group is empty.
Result<KeyAndCert> CreateClientCertificate(const KeyAndCert& ca, const std::string& user,
                                           const std::vector<std::string>& groups,
                                           int64_t now_unix,
                                           std::chrono::seconds validity = kLeafValidity);

// PEM encoding. Encoding fails only if OpenSSL does (kInternal); decoding fails with
// kInvalidArgument when `pem` holds no parsable key/certificate. Decoding reads the first
// PEM block of the right type.
Result<std::string> PrivateKeyToPem(EVP_PKEY* key);
Result<PrivateKey> PrivateKeyFromPem(std::string_view pem);
Result<std::string> CertificateToPem(X509* cert);
Result<Certificate> CertificateFromPem(std::string_view pem);

// The identity a certificate names: subject CN and every subject O, in order.
struct CertificateSubject {
  std::string common_name;                 // empty if the subject has no CN
  std::vector<std::string> organizations;  // Kubernetes groups for client certificates

  bool operator==(const CertificateSubject&) const = default;
};

// The subject of `cert` (not owned; e.g. a TLS peer's verified certificate). Does not
// verify anything. kInvalidArgument if `cert` is null or a name entry is not valid text.
Result<CertificateSubject> SubjectOf(const X509* cert);
// The same for a PEM certificate.
Result<CertificateSubject> ParseCertificateSubject(std::string_view pem);

// The subjectAltNames of `cert`: DNS names as written, IP addresses in canonical text
// ("127.0.0.1", "::1"). Other kinds are skipped. Empty if there are none.
std::vector<std::string> SubjectAltNamesOf(const X509* cert);

// `san` in the form SubjectAltNamesOf reports it: IP literals canonical ("0:0::1" ->
// "::1"), DNS names lower-cased (DNS names compare without case).
std::string CanonicalSan(const std::string& san);

// notAfter of `cert` as Unix seconds. kInvalidArgument if it cannot be read.
Result<int64_t> NotAfterUnix(const X509* cert);

// OK if `cert` was signed by `ca`'s key and names `ca` as its issuer; this checks the
// signature only, not dates or purposes. kInvalidArgument otherwise.
Status CheckSignedBy(const X509* cert, const X509* ca);

// OK if `key` is the private key of `cert`. kInvalidArgument otherwise.
Status CheckKeyMatches(const X509* cert, const EVP_PKEY* key);

}  // namespace kite::pki
