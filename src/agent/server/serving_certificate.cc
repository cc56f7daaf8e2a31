#include "src/agent/server/serving_certificate.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "src/server/pki/atomic_file.h"
#include "src/server/pki/certificates.h"

namespace kite::agent::server {
namespace {

constexpr int64_t kRenewBeforeSeconds = 30 * 24 * 3600;

std::vector<std::string> WantedSans(const ServingCertificateOptions& options) {
  std::vector<std::string> sans = {options.node_name, "localhost", "127.0.0.1"};
  for (const std::string& address : options.addresses) sans.push_back(address);
  std::vector<std::string> unique;
  for (const std::string& san : sans) {
    std::string canonical = pki::CanonicalSan(san);
    bool seen = false;
    for (const std::string& u : unique) seen = seen || pki::CanonicalSan(u) == canonical;
    if (!seen) unique.push_back(san);
  }
  return unique;
}

Result<ServingCertificate> LoadGiven(const ServingCertificateOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return InvalidArgumentError("a serving certificate needs both a certificate and a key file");
  }
  Result<std::string> cert_pem = pki::ReadWholeFile(options.cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  Result<std::string> key_pem = pki::ReadWholeFile(options.key_file);
  if (!key_pem.ok()) return key_pem.status();
  Result<pki::Certificate> cert = pki::CertificateFromPem(*cert_pem);
  if (!cert.ok()) {
    return InvalidArgumentError(options.cert_file + ": " + cert.status().message());
  }
  Result<pki::PrivateKey> key = pki::PrivateKeyFromPem(*key_pem);
  if (!key.ok()) return InvalidArgumentError(options.key_file + ": " + key.status().message());
  Status match = pki::CheckKeyMatches(cert->get(), key->get());
  if (!match.ok()) {
    return InvalidArgumentError(options.key_file + " is not the key of " + options.cert_file);
  }
  return ServingCertificate{*cert_pem, *key_pem, false};
}

// The pair on disk when it is still good for `sans` at `now`; nullopt when it must be
// issued anew.
std::optional<ServingCertificate> LoadExisting(const std::string& cert_path,
                                               const std::string& key_path,
                                               const std::vector<std::string>& sans,
                                               int64_t now) {
  Result<std::string> cert_pem = pki::ReadWholeFile(cert_path);
  Result<std::string> key_pem = pki::ReadWholeFile(key_path);
  if (!cert_pem.ok() || !key_pem.ok()) return std::nullopt;
  Result<pki::Certificate> cert = pki::CertificateFromPem(*cert_pem);
  Result<pki::PrivateKey> key = pki::PrivateKeyFromPem(*key_pem);
  if (!cert.ok() || !key.ok()) return std::nullopt;
  if (!pki::CheckKeyMatches(cert->get(), key->get()).ok()) return std::nullopt;
  Result<int64_t> not_after = pki::NotAfterUnix(cert->get());
  if (!not_after.ok() || *not_after - now < kRenewBeforeSeconds) return std::nullopt;
  std::vector<std::string> have = pki::SubjectAltNamesOf(cert->get());
  for (const std::string& san : sans) {
    std::string wanted = pki::CanonicalSan(san);
    if (std::none_of(have.begin(), have.end(),
                     [&](const std::string& h) { return pki::CanonicalSan(h) == wanted; })) {
      return std::nullopt;
    }
  }
  return ServingCertificate{*cert_pem, *key_pem, false};
}

}  // namespace

Result<ServingCertificate> LoadOrCreateServingCertificate(
    const ServingCertificateOptions& options) {
  if (!options.cert_file.empty() || !options.key_file.empty()) return LoadGiven(options);
  if (options.node_name.empty()) {
    return InvalidArgumentError("the serving certificate needs the node's name");
  }
  if (options.tls_dir.empty()) {
    return InvalidArgumentError("no folder for the self-signed serving certificate");
  }
  int64_t now = options.now_unix != 0 ? options.now_unix : static_cast<int64_t>(std::time(nullptr));
  std::vector<std::string> sans = WantedSans(options);
  std::string cert_path = options.tls_dir + "/" + kServingCertFile;
  std::string key_path = options.tls_dir + "/" + kServingKeyFile;
  if (std::optional<ServingCertificate> existing = LoadExisting(cert_path, key_path, sans, now)) {
    return *existing;
  }

  std::error_code ec;
  std::filesystem::create_directories(options.tls_dir, ec);
  if (ec) return IoError("cannot create " + options.tls_dir + ": " + ec.message());
  std::filesystem::permissions(options.tls_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);

  Result<pki::KeyAndCert> ca = pki::CreateCaCertificate(now);
  if (!ca.ok()) return ca.status();
  Result<pki::KeyAndCert> leaf = pki::CreateServerCertificate(*ca, options.node_name, sans, now);
  if (!leaf.ok()) return leaf.status();
  Result<std::string> leaf_pem = pki::CertificateToPem(leaf->cert.get());
  if (!leaf_pem.ok()) return leaf_pem.status();
  Result<std::string> ca_pem = pki::CertificateToPem(ca->cert.get());
  if (!ca_pem.ok()) return ca_pem.status();
  Result<std::string> key_pem = pki::PrivateKeyToPem(leaf->key.get());
  if (!key_pem.ok()) return key_pem.status();

  // Key first: a crash in between leaves a certificate that does not match, which the
  // next start replaces.
  KITE_RETURN_IF_ERROR(pki::WriteFileAtomically(key_path, *key_pem, 0600));
  std::string chain = *leaf_pem + *ca_pem;
  KITE_RETURN_IF_ERROR(pki::WriteFileAtomically(cert_path, chain, 0644));
  return ServingCertificate{chain, *key_pem, true};
}

}  // namespace kite::agent::server
