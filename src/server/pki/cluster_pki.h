// The cluster's PKI on disk: the CA, the API server's serving certificate, the admin
// client certificate and the API server's client certificate for node agents, created at first start and reused afterwards (as k3s keeps them in
// <data-dir>/server/tls).
//
// Operation: EnsureClusterPki makes `tls_dir` (mode 0700) hold
//   server-ca.crt / server-ca.key         the cluster CA (10 years)
//   serving-kite.crt / serving-kite.key   the API server's certificate, CN "kite"
//   client-admin.crt / client-admin.key   CN "system:admin", O "system:masters"
//   client-kube-apiserver.crt / .key      CN "kube-apiserver-kubelet-client",
//                                         O "system:masters": what the API server shows
//                                         agents when it proxies logs, exec, attach and
//                                         port-forward (as kube-apiserver's
//                                         --kubelet-client-certificate)
//   service.key                           signs service-account tokens (ES256); kept for
//                                         ever, since tokens in pods were signed with it
// Keys are written with mode 0600, certificates 0644; every file is written whole or not
// at all (temporary file + rename), key before certificate.
// On later starts the files are loaded and reused. The CA is never replaced once it has a
// certificate on disk. A leaf certificate (serving or admin) is issued anew, with the same
// CA, when it is missing, when its key does not match it or it was not signed by the CA
// (e.g. left over from an interrupted first start), when it expires within
// kRenewBefore (k3s renews on start-up within 90 days too), or — for the serving
// certificate — when a requested SAN is not in it (the new one has exactly `sans`).
// Callers that hand out the admin certificate (the kubeconfig) should rewrite it when
// `issued_admin_cert` is true.
//
// Limitations: the CA itself is not rotated; a CA close to expiry needs manual action.
// Two processes must not run EnsureClusterPki on the same directory at once.
//
// Thread-safety: the functions keep no state; concurrent calls on different directories
// are fine.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/status.h"

namespace kite::pki {

inline constexpr char kCaCertFile[] = "server-ca.crt";
inline constexpr char kCaKeyFile[] = "server-ca.key";
inline constexpr char kServerCertFile[] = "serving-kite.crt";
inline constexpr char kServerKeyFile[] = "serving-kite.key";
inline constexpr char kAdminCertFile[] = "client-admin.crt";
inline constexpr char kAdminKeyFile[] = "client-admin.key";
inline constexpr char kApiServerClientCertFile[] = "client-kube-apiserver.crt";
inline constexpr char kApiServerClientKeyFile[] = "client-kube-apiserver.key";
inline constexpr char kServiceAccountKeyFile[] = "service.key";

inline constexpr char kServerCommonName[] = "kite";
inline constexpr char kAdminUser[] = "system:admin";
inline constexpr char kAdminGroup[] = "system:masters";
inline constexpr char kApiServerClientUser[] = "kube-apiserver-kubelet-client";

// Leaf certificates closer than this to expiry are issued anew at start-up.
inline constexpr std::chrono::seconds kRenewBefore = std::chrono::hours(24 * 90);

// The PEM text and file path of every certificate and key.
struct ClusterPki {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string admin_cert_pem;
  std::string admin_key_pem;
  std::string apiserver_client_cert_pem;  // the API server's client certificate for agents
  std::string apiserver_client_key_pem;
  std::string service_account_key_pem;

  std::string ca_cert_path;
  std::string ca_key_path;
  std::string server_cert_path;
  std::string server_key_path;
  std::string admin_cert_path;
  std::string admin_key_path;
  std::string apiserver_client_cert_path;
  std::string apiserver_client_key_path;

  // What this call wrote; false means reused from disk.
  bool created_ca = false;
  bool issued_server_cert = false;
  bool issued_admin_cert = false;
  bool issued_apiserver_client_cert = false;
};

// A certificate and its private key, PEM-encoded.
struct PemCertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// Creates or loads the PKI in `tls_dir` (created with its parents if missing) as described
// above. `sans` are the serving certificate's subjectAltNames (DNS names and IP literals;
// at least one). `clock` gives the time (nullptr = the system clock).
// Errors: kInvalidArgument when a file holds something unusable — unparsable PEM, a CA
// key that does not match the CA certificate, a CA certificate without its key — with the
// path in the message (nothing is overwritten in that case); kInvalidArgument for bad
// `sans`; kIoError when the directory or a file cannot be created, read or written.
Result<ClusterPki> EnsureClusterPki(const std::string& tls_dir,
                                    const std::vector<std::string>& sans,
                                    const Clock* clock = nullptr);

// A new client certificate for user `cn` in `groups` (subject O entries), signed by the
// CA in `pki`, valid for a year (kLeafValidity). Nothing is written to disk.
// kInvalidArgument if `cn` or a group is empty or the CA PEM in `pki` does not parse.
Result<PemCertAndKey> IssueClientCertificate(const ClusterPki& pki, const std::string& cn,
                                             const std::vector<std::string>& groups,
                                             const Clock* clock = nullptr);

}  // namespace kite::pki
