// The agent's serving certificate for its HTTPS endpoint (port 10250): the files the
// operator gave, or a self-signed pair kept under <data-dir>/agent/tls/, as the kubelet
// makes one when it has none.
//
// Self-signed: a throwaway CA of its own (pki::CreateCaCertificate, CN
// "kite-server-ca@<unix time>"; its key is not kept) and a serving certificate it signs (CN the
// node name; SANs the node name, "localhost", 127.0.0.1 and the node's addresses), written
// as kubelet.crt (the serving certificate, then the CA) and kubelet.key (0600). Reused on
// later starts; issued anew when missing, unparsable, not matching its key, expiring within
// 30 days, or missing one of the requested SANs (the node's address changed).
//
// Errors: kInvalidArgument for an empty node name or bad addresses, or when only one of
// cert_file/key_file is set, or they do not parse or match; kIoError when the folder or a
// file cannot be written or read. Thread-safety: no shared state; two processes must not
// create the pair in the same folder at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/base/status.h"

namespace kite::agent::server {

inline constexpr char kServingCertFile[] = "kubelet.crt";
inline constexpr char kServingKeyFile[] = "kubelet.key";

struct ServingCertificateOptions {
  std::string cert_file;  // both set: load these
  std::string key_file;
  std::string tls_dir;    // otherwise: the self-signed pair lives here (created if missing)
  std::string node_name;
  std::vector<std::string> addresses;  // the node's IPs
  int64_t now_unix = 0;                // 0 = the current time
};

struct ServingCertificate {
  std::string cert_pem;  // serving certificate, then its chain
  std::string key_pem;
  bool issued = false;   // created by this call
};

Result<ServingCertificate> LoadOrCreateServingCertificate(const ServingCertificateOptions& options);

}  // namespace kite::agent::server
