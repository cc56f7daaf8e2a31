#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "src/base/base64.h"
#include "src/base/clock.h"
#include "src/server/pki/atomic_file.h"
#include "src/server/pki/certificates.h"
#include "src/server/pki/cluster_pki.h"
#include "src/server/pki/kubeconfig.h"
#include "tests/testing/temp_dir.h"

namespace kite::pki {
namespace {

constexpr int64_t kNow = 1'700'000'000;

const std::vector<std::string> kSans = {"localhost",
                                        "kubernetes",
                                        "kubernetes.default",
                                        "kubernetes.default.svc",
                                        "kubernetes.default.svc.cluster.local",
                                        "127.0.0.1",
                                        "::1",
                                        "myhost"};

// X509_verify_cert of `cert` against `ca` alone, for `purpose` (an X509_PURPOSE_*), at
// `at` (Unix seconds). Returns the verify error code (X509_V_OK on success).
int Verify(X509* cert, X509* ca, int purpose, int64_t at) {
  X509_STORE* store = X509_STORE_new();
  REQUIRE(X509_STORE_add_cert(store, ca) == 1);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  REQUIRE(X509_STORE_CTX_init(ctx, store, cert, nullptr) == 1);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  X509_STORE_CTX_set_time(ctx, 0, static_cast<time_t>(at));
  int ok = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
}

int64_t SystemNow() { return SystemClock::Get()->NowMillis() / 1000; }

Certificate ParseCert(const std::string& pem) {
  Result<Certificate> cert = CertificateFromPem(pem);
  REQUIRE(cert.ok());
  return std::move(*cert);
}

std::string FileContent(const std::string& path) {
  Result<std::string> content = ReadWholeFile(path);
  REQUIRE(content.ok());
  return *content;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A kubeconfig *-data field decoded; base64 itself is tested in tests/base.
std::string DecodeBase64(const std::string& in) {
  std::optional<std::string> out = Base64Decode(in);
  REQUIRE(out.has_value());
  return *out;
}

TEST_CASE("CA certificate is a self-signed P-256 CA") {
  Result<KeyAndCert> ca = CreateCaCertificate(kNow);
  REQUIRE(ca.ok());
  X509* cert = ca->cert.get();
  Result<CertificateSubject> subject = SubjectOf(cert);
  REQUIRE(subject.ok());
  CHECK(subject->common_name == "kite-server-ca@1700000000");
  CHECK(subject->organizations.empty());
  CHECK(X509_check_ca(cert) == 1);
  CHECK(EVP_PKEY_is_a(ca->key.get(), "EC"));
  char group[64] = {0};
  size_t group_len = 0;
  REQUIRE(EVP_PKEY_get_group_name(ca->key.get(), group, sizeof(group), &group_len) == 1);
  CHECK(std::string(group) == "prime256v1");
  // basicConstraints and keyUsage critical, with the bits the brief asks for.
  int crit = -1;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr));
  REQUIRE(bc != nullptr);
  CHECK(bc->ca != 0);
  CHECK(crit == 1);
  BASIC_CONSTRAINTS_free(bc);
  uint32_t usage = X509_get_key_usage(cert);
  CHECK((usage & KU_KEY_CERT_SIGN) != 0);
  CHECK((usage & KU_CRL_SIGN) != 0);
  CHECK((usage & KU_DIGITAL_SIGNATURE) != 0);
  auto* ku = static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert, NID_key_usage, &crit, nullptr));
  REQUIRE(ku != nullptr);
  CHECK(crit == 1);
  ASN1_BIT_STRING_free(ku);
  CHECK(X509_get0_subject_key_id(cert) != nullptr);
  // Self-signed, and valid for ten years from kNow.
  CHECK(CheckSignedBy(cert, cert).ok());
  CHECK(Verify(cert, cert, X509_PURPOSE_ANY, kNow) == X509_V_OK);
  Result<int64_t> not_after = NotAfterUnix(cert);
  REQUIRE(not_after.ok());
  CHECK(*not_after == kNow + kCaValidity.count());
}

TEST_CASE("serial numbers are random positive 128-bit numbers") {
  Result<KeyAndCert> a = CreateCaCertificate(kNow);
  Result<KeyAndCert> b = CreateCaCertificate(kNow);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const ASN1_INTEGER* sa = X509_get0_serialNumber(a->cert.get());
  const ASN1_INTEGER* sb = X509_get0_serialNumber(b->cert.get());
  CHECK(ASN1_INTEGER_cmp(sa, sb) != 0);
  BIGNUM* bn = ASN1_INTEGER_to_BN(sa, nullptr);
  REQUIRE(bn != nullptr);
  CHECK(!BN_is_negative(bn));
  CHECK(!BN_is_zero(bn));
  CHECK(BN_num_bits(bn) <= 127);
  BN_free(bn);
}

TEST_CASE("server certificate verifies against the CA and carries the SANs") {
  Result<KeyAndCert> ca = CreateCaCertificate(kNow);
  REQUIRE(ca.ok());
  Result<KeyAndCert> server = CreateServerCertificate(*ca, "kite", kSans, kNow);
  REQUIRE(server.ok());
  X509* cert = server->cert.get();

  CHECK(Verify(cert, ca->cert.get(), X509_PURPOSE_SSL_SERVER, kNow) == X509_V_OK);
  // It is not a client certificate, and not valid before issue or after a year.
  CHECK(Verify(cert, ca->cert.get(), X509_PURPOSE_SSL_CLIENT, kNow) != X509_V_OK);
  CHECK(Verify(cert, ca->cert.get(), X509_PURPOSE_SSL_SERVER, kNow - 3600) ==
        X509_V_ERR_CERT_NOT_YET_VALID);
  CHECK(Verify(cert, ca->cert.get(), X509_PURPOSE_SSL_SERVER,
               kNow + kLeafValidity.count() + 60) == X509_V_ERR_CERT_HAS_EXPIRED);
  // Another CA does not vouch for it.
  Result<KeyAndCert> other = CreateCaCertificate(kNow);
  REQUIRE(other.ok());
  CHECK(Verify(cert, other->cert.get(), X509_PURPOSE_SSL_SERVER, kNow) != X509_V_OK);
  CHECK(!CheckSignedBy(cert, other->cert.get()).ok());
  CHECK(CheckSignedBy(cert, ca->cert.get()).ok());

  Result<CertificateSubject> subject = SubjectOf(cert);
  REQUIRE(subject.ok());
  CHECK(subject->common_name == "kite");
  CHECK(SubjectAltNamesOf(cert) == kSans);
  // Hostname checks as a TLS client would do them.
  CHECK(X509_check_host(cert, "kubernetes.default.svc", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert, "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert, "example.com", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(cert, "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(cert, "::1", 0) == 1);
  CHECK(X509_check_ip_asc(cert, "10.0.0.1", 0) == 0);
  CHECK(X509_get0_authority_key_id(cert) != nullptr);
  CHECK(CheckKeyMatches(cert, server->key.get()).ok());
  CHECK(!CheckKeyMatches(cert, ca->key.get()).ok());
}

TEST_CASE("server certificate rejects bad SANs") {
  Result<KeyAndCert> ca = CreateCaCertificate(kNow);
  REQUIRE(ca.ok());
  CHECK(CreateServerCertificate(*ca, "kite", {}, kNow).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(CreateServerCertificate(*ca, "kite", {"ok", ""}, kNow).status().code() ==
        StatusCode::kInvalidArgument);
  Result<KeyAndCert> spaced = CreateServerCertificate(*ca, "kite", {"a b"}, kNow);
  CHECK(spaced.status().code() == StatusCode::kInvalidArgument);
  CHECK(spaced.status().message().find("a b") != std::string::npos);
  KeyAndCert empty;
  CHECK(CreateServerCertificate(empty, "kite", {"x"}, kNow).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("client certificates carry the user as CN and groups as O") {
  Result<KeyAndCert> ca = CreateCaCertificate(kNow);
  REQUIRE(ca.ok());
  Result<KeyAndCert> admin =
      CreateClientCertificate(*ca, "system:admin", {"system:masters"}, kNow);
  REQUIRE(admin.ok());
  CHECK(Verify(admin->cert.get(), ca->cert.get(), X509_PURPOSE_SSL_CLIENT, kNow) == X509_V_OK);
  CHECK(Verify(admin->cert.get(), ca->cert.get(), X509_PURPOSE_SSL_SERVER, kNow) != X509_V_OK);
  CHECK(SubjectOf(admin->cert.get()).value() ==
        CertificateSubject{"system:admin", {"system:masters"}});

  Result<KeyAndCert> node = CreateClientCertificate(
      *ca, "system:node:n1", {"system:nodes", "team-a", "émigré"}, kNow);
  REQUIRE(node.ok());
  Result<std::string> pem = CertificateToPem(node->cert.get());
  REQUIRE(pem.ok());
  Result<CertificateSubject> parsed = ParseCertificateSubject(*pem);
  REQUIRE(parsed.ok());
  CHECK(parsed->common_name == "system:node:n1");
  CHECK(parsed->organizations == std::vector<std::string>{"system:nodes", "team-a", "émigré"});
  CHECK(SubjectAltNamesOf(node->cert.get()).empty());

  CHECK(CreateClientCertificate(*ca, "", {}, kNow).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(CreateClientCertificate(*ca, "u", {""}, kNow).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("PEM round trips and garbage is an error") {
  Result<KeyAndCert> ca = CreateCaCertificate(kNow);
  REQUIRE(ca.ok());
  Result<std::string> key_pem = PrivateKeyToPem(ca->key.get());
  REQUIRE(key_pem.ok());
  CHECK(key_pem->rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  Result<PrivateKey> key = PrivateKeyFromPem(*key_pem);
  REQUIRE(key.ok());
  CHECK(CheckKeyMatches(ca->cert.get(), key->get()).ok());

  Result<std::string> cert_pem = CertificateToPem(ca->cert.get());
  REQUIRE(cert_pem.ok());
  CHECK(cert_pem->rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  Result<Certificate> cert = CertificateFromPem(*cert_pem);
  REQUIRE(cert.ok());
  CHECK(X509_cmp(cert->get(), ca->cert.get()) == 0);

  CHECK(PrivateKeyFromPem("not a key").status().code() == StatusCode::kInvalidArgument);
  CHECK(PrivateKeyFromPem(*cert_pem).status().code() == StatusCode::kInvalidArgument);
  CHECK(CertificateFromPem("").status().code() == StatusCode::kInvalidArgument);
  std::string truncated = cert_pem->substr(0, cert_pem->size() / 2);
  Result<Certificate> bad = CertificateFromPem(truncated);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(!bad.status().message().empty());
  CHECK(ParseCertificateSubject("garbage").status().code() == StatusCode::kInvalidArgument);
  CHECK(SubjectOf(nullptr).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("CanonicalSan normalises IPs and DNS case") {
  CHECK(CanonicalSan("0:0:0:0:0:0:0:1") == "::1");
  CHECK(CanonicalSan("127.0.0.1") == "127.0.0.1");
  CHECK(CanonicalSan("Kubernetes.Default") == "kubernetes.default");
}

TEST_CASE("EnsureClusterPki creates the files once and reuses them") {
  testing::TempDir tmp;
  std::string dir = tmp.file("server/tls");
  Result<ClusterPki> first = EnsureClusterPki(dir, kSans);
  REQUIRE(first.ok());
  CHECK(first->created_ca);
  CHECK(first->issued_server_cert);
  CHECK(first->issued_admin_cert);

  CHECK(ModeOf(dir) == 0700);
  CHECK(first->ca_key_path == dir + "/server-ca.key");
  for (const std::string& key : {first->ca_key_path, first->server_key_path,
                                 first->admin_key_path}) {
    CHECK(ModeOf(key) == 0600);
  }
  for (const std::string& cert : {first->ca_cert_path, first->server_cert_path,
                                  first->admin_cert_path}) {
    CHECK(ModeOf(cert) == 0644);
  }
  CHECK(FileContent(first->ca_cert_path) == first->ca_cert_pem);
  CHECK(FileContent(first->server_key_path) == first->server_key_pem);
  CHECK(FileContent(first->admin_cert_path) == first->admin_cert_pem);
  // The service-account signing key: private, and a key.
  CHECK(ModeOf(dir + "/service.key") == 0600);
  CHECK(FileContent(dir + "/service.key") == first->service_account_key_pem);
  CHECK(first->service_account_key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  // No temporary files left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator()) == 9);

  Certificate ca = ParseCert(first->ca_cert_pem);
  Certificate server = ParseCert(first->server_cert_pem);
  Certificate admin = ParseCert(first->admin_cert_pem);
  int64_t now = SystemNow();
  CHECK(Verify(server.get(), ca.get(), X509_PURPOSE_SSL_SERVER, now) == X509_V_OK);
  CHECK(Verify(admin.get(), ca.get(), X509_PURPOSE_SSL_CLIENT, now) == X509_V_OK);
  CHECK(SubjectOf(server.get())->common_name == "kite");
  CHECK(SubjectAltNamesOf(server.get()) == kSans);
  CHECK(SubjectOf(admin.get()).value() == CertificateSubject{"system:admin", {"system:masters"}});
  // The API server's client certificate for agents.
  CHECK(first->issued_apiserver_client_cert);
  CHECK(first->apiserver_client_cert_path == dir + "/client-kube-apiserver.crt");
  CHECK(ModeOf(first->apiserver_client_key_path) == 0600);
  CHECK(FileContent(first->apiserver_client_cert_path) == first->apiserver_client_cert_pem);
  CHECK(FileContent(first->apiserver_client_key_path) == first->apiserver_client_key_pem);
  Certificate apiserver_client = ParseCert(first->apiserver_client_cert_pem);
  CHECK(Verify(apiserver_client.get(), ca.get(), X509_PURPOSE_SSL_CLIENT, now) == X509_V_OK);
  CHECK(SubjectOf(apiserver_client.get()).value() ==
        CertificateSubject{"kube-apiserver-kubelet-client", {"system:masters"}});

  // A key loosened by hand is tightened again on reuse.
  REQUIRE(chmod(first->admin_key_path.c_str(), 0644) == 0);

  Result<ClusterPki> second = EnsureClusterPki(dir, kSans);
  REQUIRE(second.ok());
  CHECK_FALSE(second->created_ca);
  CHECK_FALSE(second->issued_server_cert);
  CHECK_FALSE(second->issued_admin_cert);
  CHECK(second->ca_cert_pem == first->ca_cert_pem);
  CHECK(second->ca_key_pem == first->ca_key_pem);
  CHECK(second->server_cert_pem == first->server_cert_pem);
  CHECK(second->server_key_pem == first->server_key_pem);
  CHECK(second->admin_cert_pem == first->admin_cert_pem);
  CHECK(second->admin_key_pem == first->admin_key_pem);
  CHECK_FALSE(second->issued_apiserver_client_cert);
  CHECK(second->apiserver_client_cert_pem == first->apiserver_client_cert_pem);
  CHECK(second->apiserver_client_key_pem == first->apiserver_client_key_pem);
  CHECK(second->service_account_key_pem == first->service_account_key_pem);  // tokens stay valid
  CHECK(ModeOf(first->admin_key_path) == 0600);

  // SAN lists compare by meaning: another spelling of ::1 and another case are present.
  std::vector<std::string> respelled = kSans;
  respelled.push_back("0:0:0:0:0:0:0:1");
  respelled.push_back("LOCALHOST");
  Result<ClusterPki> third = EnsureClusterPki(dir, respelled);
  REQUIRE(third.ok());
  CHECK_FALSE(third->issued_server_cert);
}

TEST_CASE("EnsureClusterPki reissues the serving certificate for a new SAN, keeping the CA") {
  testing::TempDir tmp;
  std::string dir = tmp.file("tls");
  Result<ClusterPki> first = EnsureClusterPki(dir, {"localhost", "127.0.0.1"});
  REQUIRE(first.ok());
  Result<ClusterPki> second = EnsureClusterPki(dir, {"localhost", "127.0.0.1", "10.1.2.3",
                                                    "newhost"});
  REQUIRE(second.ok());
  CHECK_FALSE(second->created_ca);
  CHECK(second->issued_server_cert);
  CHECK_FALSE(second->issued_admin_cert);
  CHECK(second->ca_cert_pem == first->ca_cert_pem);
  CHECK(second->admin_cert_pem == first->admin_cert_pem);
  CHECK(second->server_cert_pem != first->server_cert_pem);
  CHECK(second->server_key_pem != first->server_key_pem);
  CHECK(FileContent(second->server_cert_path) == second->server_cert_pem);
  Certificate ca = ParseCert(second->ca_cert_pem);
  Certificate server = ParseCert(second->server_cert_pem);
  CHECK(SubjectAltNamesOf(server.get()) ==
        std::vector<std::string>{"localhost", "127.0.0.1", "10.1.2.3", "newhost"});
  CHECK(Verify(server.get(), ca.get(), X509_PURPOSE_SSL_SERVER, SystemNow()) == X509_V_OK);
}

TEST_CASE("EnsureClusterPki renews leaf certificates close to expiry") {
  testing::TempDir tmp;
  std::string dir = tmp.file("tls");
  FakeClock clock(kNow * 1000);
  Result<ClusterPki> first = EnsureClusterPki(dir, kSans, &clock);
  REQUIRE(first.ok());

  clock.Advance(std::chrono::hours(24 * 200));  // 165 days left: still reused
  Result<ClusterPki> second = EnsureClusterPki(dir, kSans, &clock);
  REQUIRE(second.ok());
  CHECK_FALSE(second->issued_server_cert);
  CHECK_FALSE(second->issued_admin_cert);

  clock.Advance(std::chrono::hours(24 * 100));  // 65 days left: renewed
  Result<ClusterPki> third = EnsureClusterPki(dir, kSans, &clock);
  REQUIRE(third.ok());
  CHECK_FALSE(third->created_ca);
  CHECK(third->issued_server_cert);
  CHECK(third->issued_admin_cert);
  CHECK(third->issued_apiserver_client_cert);
  CHECK(third->ca_cert_pem == first->ca_cert_pem);
  Certificate admin = ParseCert(third->admin_cert_pem);
  Result<int64_t> not_after = NotAfterUnix(admin.get());
  REQUIRE(not_after.ok());
  CHECK(*not_after == kNow + 300 * 86400 + kLeafValidity.count());
}

TEST_CASE("EnsureClusterPki repairs missing or mismatched leaves") {
  testing::TempDir tmp;
  std::string dir = tmp.file("tls");
  Result<ClusterPki> first = EnsureClusterPki(dir, kSans);
  REQUIRE(first.ok());

  SECTION("missing serving certificate") {
    std::filesystem::remove(first->server_cert_path);
    Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
    REQUIRE(again.ok());
    CHECK(again->issued_server_cert);
    CHECK_FALSE(again->issued_admin_cert);
    CHECK(std::filesystem::exists(first->server_cert_path));
  }
  SECTION("serving key replaced by another valid key (interrupted write)") {
    Result<PrivateKey> other = GenerateKey();
    REQUIRE(other.ok());
    REQUIRE(WriteFileAtomically(first->server_key_path, PrivateKeyToPem(other->get()).value(),
                                0600)
                .ok());
    Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
    REQUIRE(again.ok());
    CHECK(again->issued_server_cert);
    Certificate cert = ParseCert(again->server_cert_pem);
    CHECK(CheckKeyMatches(cert.get(), PrivateKeyFromPem(again->server_key_pem)->get()).ok());
  }
  SECTION("admin certificate from another CA") {
    Result<KeyAndCert> other_ca = CreateCaCertificate(SystemNow());
    REQUIRE(other_ca.ok());
    Result<KeyAndCert> foreign =
        CreateClientCertificate(*other_ca, "system:admin", {"system:masters"}, SystemNow());
    REQUIRE(foreign.ok());
    REQUIRE(WriteFileAtomically(first->admin_key_path,
                                PrivateKeyToPem(foreign->key.get()).value(), 0600)
                .ok());
    REQUIRE(WriteFileAtomically(first->admin_cert_path,
                                CertificateToPem(foreign->cert.get()).value(), 0644)
                .ok());
    Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
    REQUIRE(again.ok());
    CHECK(again->issued_admin_cert);
    Certificate ca = ParseCert(again->ca_cert_pem);
    Certificate admin = ParseCert(again->admin_cert_pem);
    CHECK(Verify(admin.get(), ca.get(), X509_PURPOSE_SSL_CLIENT, SystemNow()) == X509_V_OK);
  }
  SECTION("a lone CA key from an interrupted first start is replaced") {
    std::filesystem::remove(first->ca_cert_path);
    Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
    REQUIRE(again.ok());
    CHECK(again->created_ca);
    CHECK(again->issued_server_cert);
    CHECK(again->issued_admin_cert);
    CHECK(again->ca_key_pem != first->ca_key_pem);
  }
}

TEST_CASE("EnsureClusterPki reports corrupt or incomplete files without overwriting them") {
  testing::TempDir tmp;
  std::string dir = tmp.file("tls");
  Result<ClusterPki> first = EnsureClusterPki(dir, kSans);
  REQUIRE(first.ok());

  std::string path;
  SECTION("serving key") { path = first->server_key_path; }
  SECTION("CA key") { path = first->ca_key_path; }
  SECTION("CA certificate") { path = first->ca_cert_path; }
  SECTION("admin certificate") { path = first->admin_cert_path; }
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
  REQUIRE(WriteFileAtomically(path, garbage, 0600).ok());

  Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == StatusCode::kInvalidArgument);
  CHECK(again.status().message().find(path) != std::string::npos);
  CHECK(FileContent(path) == garbage);
}

TEST_CASE("EnsureClusterPki refuses a CA certificate without its key or with the wrong key") {
  testing::TempDir tmp;
  std::string dir = tmp.file("tls");
  Result<ClusterPki> first = EnsureClusterPki(dir, kSans);
  REQUIRE(first.ok());

  SECTION("missing key") {
    std::filesystem::remove(first->ca_key_path);
    Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().message().find(first->ca_key_path) != std::string::npos);
    CHECK(FileContent(first->ca_cert_path) == first->ca_cert_pem);
  }
  SECTION("mismatched key") {
    REQUIRE(WriteFileAtomically(first->ca_key_path, first->server_key_pem, 0600).ok());
    Result<ClusterPki> again = EnsureClusterPki(dir, kSans);
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == StatusCode::kInvalidArgument);
    CHECK(again.status().message().find("is not the key of") != std::string::npos);
  }
}

TEST_CASE("EnsureClusterPki validates its arguments") {
  testing::TempDir tmp;
  CHECK(EnsureClusterPki(tmp.file("tls"), {}).status().code() == StatusCode::kInvalidArgument);
  CHECK(EnsureClusterPki("", kSans).status().code() == StatusCode::kInvalidArgument);
  CHECK(EnsureClusterPki(tmp.file("tls2"), {"bad name"}).status().code() ==
        StatusCode::kInvalidArgument);
  // A regular file where the directory should be.
  REQUIRE(WriteFileAtomically(tmp.file("file"), "x", 0600).ok());
  CHECK(EnsureClusterPki(tmp.file("file"), kSans).status().code() == StatusCode::kIoError);
}

TEST_CASE("IssueClientCertificate signs with the cluster CA") {
  testing::TempDir tmp;
  Result<ClusterPki> pki = EnsureClusterPki(tmp.file("tls"), kSans);
  REQUIRE(pki.ok());
  Result<PemCertAndKey> issued =
      IssueClientCertificate(*pki, "system:node:worker-1", {"system:nodes"});
  REQUIRE(issued.ok());
  Certificate ca = ParseCert(pki->ca_cert_pem);
  Certificate cert = ParseCert(issued->cert_pem);
  CHECK(Verify(cert.get(), ca.get(), X509_PURPOSE_SSL_CLIENT, SystemNow()) == X509_V_OK);
  CHECK(ParseCertificateSubject(issued->cert_pem).value() ==
        CertificateSubject{"system:node:worker-1", {"system:nodes"}});
  Result<PrivateKey> key = PrivateKeyFromPem(issued->key_pem);
  REQUIRE(key.ok());
  CHECK(CheckKeyMatches(cert.get(), key->get()).ok());

  ClusterPki broken = *pki;
  broken.ca_key_pem = "garbage";
  Result<PemCertAndKey> bad = IssueClientCertificate(broken, "u", {});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("CA key") != std::string::npos);
}

TEST_CASE("kubeconfig has k3s's shape and embeds the PEMs") {
  testing::TempDir tmp;
  Result<ClusterPki> pki = EnsureClusterPki(tmp.file("tls"), kSans);
  REQUIRE(pki.ok());
  std::string yaml = RenderKubeconfig("https://127.0.0.1:6443", pki->ca_cert_pem,
                                      pki->admin_cert_pem, pki->admin_key_pem);
  YAML::Node doc = YAML::Load(yaml);
  CHECK(doc["apiVersion"].as<std::string>() == "v1");
  CHECK(doc["kind"].as<std::string>() == "Config");
  CHECK(doc["current-context"].as<std::string>() == "default");
  CHECK(doc["preferences"].IsMap());
  CHECK(doc["preferences"].size() == 0);

  REQUIRE(doc["clusters"].IsSequence());
  REQUIRE(doc["clusters"].size() == 1);
  YAML::Node cluster = doc["clusters"][0];
  CHECK(cluster["name"].as<std::string>() == "default");
  CHECK(cluster["cluster"]["server"].as<std::string>() == "https://127.0.0.1:6443");
  CHECK(DecodeBase64(cluster["cluster"]["certificate-authority-data"].as<std::string>()) ==
        pki->ca_cert_pem);

  REQUIRE(doc["contexts"].size() == 1);
  YAML::Node context = doc["contexts"][0];
  CHECK(context["name"].as<std::string>() == "default");
  CHECK(context["context"]["cluster"].as<std::string>() == "default");
  CHECK(context["context"]["user"].as<std::string>() == "default");

  REQUIRE(doc["users"].size() == 1);
  YAML::Node user = doc["users"][0];
  CHECK(user["name"].as<std::string>() == "default");
  CHECK(DecodeBase64(user["user"]["client-certificate-data"].as<std::string>()) ==
        pki->admin_cert_pem);
  CHECK(DecodeBase64(user["user"]["client-key-data"].as<std::string>()) == pki->admin_key_pem);

  // The exact text for a short input, so key order and indentation are pinned.
  CHECK(RenderKubeconfig("https://127.0.0.1:6443", "ca", "crt", "key") ==
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority-data: Y2E=\n"
        "    server: https://127.0.0.1:6443\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        "    client-certificate-data: Y3J0\n"
        "    client-key-data: a2V5\n");
}

TEST_CASE("kubeconfig quotes a server URL that is not a safe plain scalar") {
  // Plain where safe.
  CHECK(RenderKubeconfig("https://[::1]:6443", "a", "b", "c")
            .find("    server: https://[::1]:6443\n") != std::string::npos);
  for (const std::string url : {"https://[::1]:6443", "https://h:6443/a b", "true", "6443",
                                "x\"y\\z", "https://h:6443/ #frag", "- x", "a:\tb"}) {
    YAML::Node doc = YAML::Load(RenderKubeconfig(url, "a", "b", "c"));
    YAML::Node server = doc["clusters"][0]["cluster"]["server"];
    CHECK(server.as<std::string>() == url);
    // "?" = a plain scalar a reader may resolve to a bool or number; "!" = a quoted string.
    if (url.find('/') == std::string::npos) CHECK(server.Tag() == "!");
  }
}

TEST_CASE("WriteKubeconfig creates parents, writes atomically and sets the mode") {
  testing::TempDir tmp;
  std::string path = tmp.file("etc/kite/kite.yaml");
  REQUIRE(WriteKubeconfig(path, "first\n").ok());
  CHECK(FileContent(path) == "first\n");
  CHECK(ModeOf(path) == 0600);

  REQUIRE(WriteKubeconfig(path, "second\n", 0644).ok());
  CHECK(FileContent(path) == "second\n");
  CHECK(ModeOf(path) == 0644);
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.file("etc/kite")),
                      std::filesystem::directory_iterator()) == 1);

  REQUIRE(WriteFileAtomically(tmp.file("blocker"), "x", 0600).ok());
  Status blocked = WriteKubeconfig(tmp.file("blocker/kite.yaml"), "x");
  CHECK(blocked.code() == StatusCode::kIoError);
  CHECK(blocked.message().find("blocker") != std::string::npos);
}

TEST_CASE("ReadWholeFile distinguishes missing and oversized files") {
  testing::TempDir tmp;
  CHECK(ReadWholeFile(tmp.file("nope")).status().code() == StatusCode::kNotFound);
  REQUIRE(WriteFileAtomically(tmp.file("big"), std::string(100, 'x'), 0600).ok());
  CHECK(ReadWholeFile(tmp.file("big"), 10).status().code() == StatusCode::kInvalidArgument);
  CHECK(ReadWholeFile(tmp.file("big")).value().size() == 100);
}

}  // namespace
}  // namespace kite::pki
