// The admin kubeconfig that `kite server` writes for kubectl, in the shape k3s writes
// (/etc/rancher/k3s/k3s.yaml): one cluster, one user and one context, all named
// "default", with the CA and the client credentials embedded as base64 data.
//
// Thread-safety: the functions keep no state.
#pragma once

#include <sys/types.h>

#include <string>

#include "src/base/status.h"

namespace kite::pki {

// The kubeconfig YAML (keys in the order kubectl's own writer uses):
//   apiVersion: v1
//   clusters:
//   - cluster:
//       certificate-authority-data: <base64 of ca_pem>
//       server: <server_url>
//     name: default
//   contexts:
//   - context:
//       cluster: default
//       user: default
//     name: default
//   current-context: default
//   kind: Config
//   preferences: {}
//   users:
//   - name: default
//     user:
//       client-certificate-data: <base64 of client_cert_pem>
//       client-key-data: <base64 of client_key_pem>
// `server_url` is written as a plain scalar when that is safe (e.g.
// "https://127.0.0.1:6443"), else double-quoted.
std::string RenderKubeconfig(const std::string& server_url, const std::string& ca_pem,
                             const std::string& client_cert_pem,
                             const std::string& client_key_pem);

// Writes `content` to `path` atomically (WriteFileAtomically), creating the parent
// directories if missing, with mode `mode` (also when the file existed with another).
// kIoError naming the path on failure.
Status WriteKubeconfig(const std::string& path, const std::string& content, mode_t mode = 0600);

}  // namespace kite::pki
