#include "src/server/pki/cluster_pki.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>

#include "src/server/pki/atomic_file.h"
#include "src/server/pki/certificates.h"

namespace kite::pki {
namespace {

constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;

int64_t NowUnix(const Clock* clock) {
  return (clock ? clock : SystemClock::Get())->NowMillis() / 1000;
}

// One certificate/key pair as found on disk, still in PEM too so that reused files are
// returned byte for byte.
struct LoadedPair {
  KeyAndCert parsed;
  std::string cert_pem;
  std::string key_pem;
};

Status InPath(const std::string& path, const Status& status) {
  return Status(status.code(), path + ": " + status.message());
}

// The pair at (cert_path, key_path): nullopt if either file is missing, an error if one
// exists but cannot be read or parsed.
Result<std::optional<LoadedPair>> LoadPair(const std::string& cert_path,
                                           const std::string& key_path) {
  Result<std::string> cert_pem = ReadWholeFile(cert_path);
  if (!cert_pem.ok() && cert_pem.status().code() != StatusCode::kNotFound) {
    return cert_pem.status();
  }
  Result<std::string> key_pem = ReadWholeFile(key_path);
  if (!key_pem.ok() && key_pem.status().code() != StatusCode::kNotFound) {
    return key_pem.status();
  }
  // Parse whatever exists, so a corrupt file is reported even if its partner is missing.
  std::optional<Certificate> cert;
  std::optional<PrivateKey> key;
  if (cert_pem.ok()) {
    Result<Certificate> parsed = CertificateFromPem(*cert_pem);
    if (!parsed.ok()) return InPath(cert_path, parsed.status());
    cert = std::move(*parsed);
  }
  if (key_pem.ok()) {
    // A reused key keeps owner-only access even if someone loosened its mode.
    if (chmod(key_path.c_str(), kKeyMode) != 0) {
      return IoError("cannot chmod " + key_path + ": " + std::strerror(errno));
    }
    Result<PrivateKey> parsed = PrivateKeyFromPem(*key_pem);
    if (!parsed.ok()) return InPath(key_path, parsed.status());
    key = std::move(*parsed);
  }
  if (!cert || !key) return std::optional<LoadedPair>();
  return std::optional<LoadedPair>(
      LoadedPair{KeyAndCert{std::move(*key), std::move(*cert)}, *cert_pem, *key_pem});
}

// Writes key then certificate: an interrupted write leaves a new key beside an old
// certificate, which the next start sees as a mismatch and repairs.
Result<LoadedPair> StorePair(KeyAndCert pair, const std::string& cert_path,
                             const std::string& key_path) {
  Result<std::string> key_pem = PrivateKeyToPem(pair.key.get());
  if (!key_pem.ok()) return key_pem.status();
  Result<std::string> cert_pem = CertificateToPem(pair.cert.get());
  if (!cert_pem.ok()) return cert_pem.status();
  KITE_RETURN_IF_ERROR(WriteFileAtomically(key_path, *key_pem, kKeyMode));
  KITE_RETURN_IF_ERROR(WriteFileAtomically(cert_path, *cert_pem, kCertMode));
  return LoadedPair{std::move(pair), std::move(*cert_pem), std::move(*key_pem)};
}

// Why an existing leaf must be replaced, or nullopt if it is still good.
std::optional<std::string> LeafProblem(const LoadedPair& leaf, const KeyAndCert& ca,
                                       int64_t now, const std::vector<std::string>* sans) {
  if (!CheckKeyMatches(leaf.parsed.cert.get(), leaf.parsed.key.get()).ok()) {
    return "key does not match certificate";
  }
  if (!CheckSignedBy(leaf.parsed.cert.get(), ca.cert.get()).ok()) return "not signed by the CA";
  Result<int64_t> not_after = NotAfterUnix(leaf.parsed.cert.get());
  if (!not_after.ok() || *not_after - now < kRenewBefore.count()) return "expires soon";
  if (sans) {
    std::set<std::string> have;
    for (const std::string& san : SubjectAltNamesOf(leaf.parsed.cert.get())) {
      have.insert(CanonicalSan(san));
    }
    for (const std::string& san : *sans) {
      if (!have.count(CanonicalSan(san))) return "missing subjectAltName " + san;
    }
  }
  return std::nullopt;
}

Status PrepareDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  // The directory holds private keys: owner only, even if it existed with a looser mode.
  if (chmod(dir.c_str(), 0700) != 0) {
    return IoError("cannot chmod " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<ClusterPki> EnsureClusterPki(const std::string& tls_dir,
                                    const std::vector<std::string>& sans, const Clock* clock) {
  if (tls_dir.empty()) return InvalidArgumentError("empty TLS directory");
  if (sans.empty()) return InvalidArgumentError("the serving certificate needs at least one SAN");
  KITE_RETURN_IF_ERROR(PrepareDirectory(tls_dir));
  const int64_t now = NowUnix(clock);
  auto path = [&](const char* name) { return tls_dir + "/" + name; };

  ClusterPki pki;
  pki.ca_cert_path = path(kCaCertFile);
  pki.ca_key_path = path(kCaKeyFile);
  pki.server_cert_path = path(kServerCertFile);
  pki.server_key_path = path(kServerKeyFile);
  pki.admin_cert_path = path(kAdminCertFile);
  pki.admin_key_path = path(kAdminKeyFile);
  pki.apiserver_client_cert_path = path(kApiServerClientCertFile);
  pki.apiserver_client_key_path = path(kApiServerClientKeyFile);

  // The CA: every client trusts it, so it is never replaced silently. A certificate
  // without its key, or a key that does not match, stops the start-up.
  Result<std::optional<LoadedPair>> ca_loaded = LoadPair(pki.ca_cert_path, pki.ca_key_path);
  if (!ca_loaded.ok()) return ca_loaded.status();
  std::optional<LoadedPair> ca = std::move(*ca_loaded);
  if (!ca) {
    std::error_code ec;
    if (std::filesystem::exists(pki.ca_cert_path, ec)) {
      return InvalidArgumentError(pki.ca_cert_path + " exists but its key " + pki.ca_key_path +
                                  " does not; restore the key (a new CA would invalidate "
                                  "every certificate and kubeconfig issued so far)");
    }
    // No CA certificate: a first start, or one interrupted after writing only the key
    // (which nothing can have used yet).
    Result<KeyAndCert> created = CreateCaCertificate(now);
    if (!created.ok()) return created.status();
    Result<LoadedPair> stored =
        StorePair(std::move(*created), pki.ca_cert_path, pki.ca_key_path);
    if (!stored.ok()) return stored.status();
    ca = std::move(*stored);
    pki.created_ca = true;
  } else {
    Status match = CheckKeyMatches(ca->parsed.cert.get(), ca->parsed.key.get());
    if (!match.ok()) {
      return InvalidArgumentError(pki.ca_key_path + " is not the key of " + pki.ca_cert_path +
                                  ": " + match.message());
    }
  }
  pki.ca_cert_pem = ca->cert_pem;
  pki.ca_key_pem = ca->key_pem;

  // A leaf: reused if still good, else issued anew by `issue`.
  auto ensure_leaf = [&](const std::string& cert_path, const std::string& key_path,
                         const std::vector<std::string>* want_sans, auto issue,
                         bool* issued) -> Result<LoadedPair> {
    Result<std::optional<LoadedPair>> loaded = LoadPair(cert_path, key_path);
    if (!loaded.ok()) return loaded.status();
    if (*loaded && !LeafProblem(**loaded, ca->parsed, now, want_sans)) {
      return std::move(**loaded);
    }
    Result<KeyAndCert> created = issue();
    if (!created.ok()) return created.status();
    *issued = true;
    return StorePair(std::move(*created), cert_path, key_path);
  };

  Result<LoadedPair> server = ensure_leaf(
      pki.server_cert_path, pki.server_key_path, &sans,
      [&] { return CreateServerCertificate(ca->parsed, kServerCommonName, sans, now); },
      &pki.issued_server_cert);
  if (!server.ok()) return server.status();
  pki.server_cert_pem = std::move(server->cert_pem);
  pki.server_key_pem = std::move(server->key_pem);

  Result<LoadedPair> admin = ensure_leaf(
      pki.admin_cert_path, pki.admin_key_path, nullptr,
      [&] { return CreateClientCertificate(ca->parsed, kAdminUser, {kAdminGroup}, now); },
      &pki.issued_admin_cert);
  if (!admin.ok()) return admin.status();
  pki.admin_cert_pem = std::move(admin->cert_pem);
  pki.admin_key_pem = std::move(admin->key_pem);

  Result<LoadedPair> apiserver_client = ensure_leaf(
      pki.apiserver_client_cert_path, pki.apiserver_client_key_path, nullptr,
      [&] {
        return CreateClientCertificate(ca->parsed, kApiServerClientUser, {kAdminGroup}, now);
      },
      &pki.issued_apiserver_client_cert);
  if (!apiserver_client.ok()) return apiserver_client.status();
  pki.apiserver_client_cert_pem = std::move(apiserver_client->cert_pem);
  pki.apiserver_client_key_pem = std::move(apiserver_client->key_pem);

  // The service-account signing key: loaded if present, created once otherwise.
  const std::string sa_key_path = path(kServiceAccountKeyFile);
  std::error_code ec;
  if (std::filesystem::exists(sa_key_path, ec)) {
    Result<std::string> pem = ReadWholeFile(sa_key_path);
    if (!pem.ok()) return InPath(sa_key_path, pem.status());
    if (!PrivateKeyFromPem(*pem).ok()) {
      return InvalidArgumentError(sa_key_path + " is not a PEM private key; restore it (tokens "
                                  "issued so far were signed with it)");
    }
    pki.service_account_key_pem = std::move(*pem);
  } else {
    Result<PrivateKey> key = GenerateKey();
    if (!key.ok()) return key.status();
    Result<std::string> pem = PrivateKeyToPem(key->get());
    if (!pem.ok()) return pem.status();
    KITE_RETURN_IF_ERROR(InPath(sa_key_path, WriteFileAtomically(sa_key_path, *pem, 0600)));
    pki.service_account_key_pem = std::move(*pem);
  }
  return pki;
}

Result<PemCertAndKey> IssueClientCertificate(const ClusterPki& pki, const std::string& cn,
                                             const std::vector<std::string>& groups,
                                             const Clock* clock) {
  Result<Certificate> ca_cert = CertificateFromPem(pki.ca_cert_pem);
  if (!ca_cert.ok()) return InPath("CA certificate", ca_cert.status());
  Result<PrivateKey> ca_key = PrivateKeyFromPem(pki.ca_key_pem);
  if (!ca_key.ok()) return InPath("CA key", ca_key.status());
  KeyAndCert ca{std::move(*ca_key), std::move(*ca_cert)};
  Result<KeyAndCert> issued = CreateClientCertificate(ca, cn, groups, NowUnix(clock));
  if (!issued.ok()) return issued.status();
  Result<std::string> cert_pem = CertificateToPem(issued->cert.get());
  if (!cert_pem.ok()) return cert_pem.status();
  Result<std::string> key_pem = PrivateKeyToPem(issued->key.get());
  if (!key_pem.ok()) return key_pem.status();
  return PemCertAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

}  // namespace kite::pki
