// How the API server reaches a node's agent (its kubelet endpoint, port 10250 by default)
// for pods/log, exec, attach and port-forward: HTTPS with the API server's own client
// certificate (pki: client-kube-apiserver.crt, CN kube-apiserver-kubelet-client,
// O system:masters).
//
// Operation: every call opens a new TLS connection. Get sends a GET and returns the
// response head with the body as an http::ResponseStream, which the API server returns as
// its own StreamingResponse (chunked or not, the body is decoded and relayed as it
// arrives). Upgrade sends the client's upgrade request and, on 101, returns the agent's
// headers and the connection for raw bytes both ways. Any other answer comes back as
// status, content type and body (at most max_error_body_bytes).
//
// Trust: the agent's serving certificate is NOT verified, as kube-apiserver behaves without
// --kubelet-certificate-authority: agents make their own self-signed serving certificates
// and the cluster has no CA for them yet. The agent, in turn, checks this client
// certificate against the cluster CA.
//
// Limits: dial_timeout bounds connecting, the TLS handshake, sending the request and reading
// the response head (and an error body). After that there is none: a log stream or an
// upgraded connection lasts until either side closes it (or the stream is cancelled). A
// response head over 64 KiB is an error. The relay buffers at most 1 MiB of body ahead of
// Poll, then pauses reading from the agent.
//
// Thread-safety: all methods are thread-safe and may block (call them from handler
// threads). Every stream and connection returned must be destroyed before the client.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::apiserver {

inline constexpr int kDefaultKubeletPort = 10250;

// Where a node's agent listens.
struct NodeEndpoint {
  std::string host;  // an IP literal (IPv6 without brackets) or a host name
  int port = kDefaultKubeletPort;
};

// From a Node object: the first InternalIP of status.addresses, else the first Hostname;
// the port from status.daemonEndpoints.kubeletEndpoint.Port (10250 when absent or 0).
// kInvalidArgument when the node has neither, with Kubernetes' message
// `no preferred addresses found; known addresses: [...]`.
Result<NodeEndpoint> NodeEndpointOf(const rapidjson::Value& node);

struct KubeletClientOptions {
  std::string client_cert_pem;  // the API server's client certificate (then its chain)
  std::string client_key_pem;
  std::chrono::milliseconds dial_timeout{10000};
  size_t max_error_body_bytes = 64 * 1024;
};

// A GET's answer.
struct KubeletResponse {
  int status = 0;
  std::string content_type;
  // Set for 2xx answers: the body, as it arrives; ends when the agent's response ends.
  std::unique_ptr<http::ResponseStream> stream;
  // Other answers: the body (cut at max_error_body_bytes).
  std::string body;
};

// An upgrade's answer.
struct KubeletUpgrade {
  int status = 0;            // 101 when upgraded
  http::HeaderList headers;  // the agent's response headers, as sent (names not lower-cased)
  std::string content_type;
  std::string body;  // for a status other than 101
  // Set for 101: the raw connection (bytes the agent sent right after its 101 come first).
  // Read, Write and Close follow http::UpgradedConnection's contract.
  std::unique_ptr<http::UpgradedConnection> connection;
};

class KubeletClient {
 public:
  // kInvalidArgument when the certificate or key does not load.
  static Result<std::unique_ptr<KubeletClient>> Create(KubeletClientOptions options);
  ~KubeletClient();
  KubeletClient(const KubeletClient&) = delete;
  KubeletClient& operator=(const KubeletClient&) = delete;

  // GET https://<node>/<path_and_query>. kUnavailable when the agent cannot be reached, the
  // TLS handshake fails, the dial timeout passes or the answer is not HTTP; the message
  // reads like Go's: `Get "https://10.0.0.5:10250/containerLogs/...": connection refused`.
  Result<KubeletResponse> Get(const NodeEndpoint& node, const std::string& path_and_query);

  // `method` (GET or POST) https://<node>/<path_and_query> with `headers` (the client's
  // Connection, Upgrade, Sec-WebSocket-*, X-Stream-Protocol-Version, ...). Errors as Get.
  Result<KubeletUpgrade> Upgrade(const NodeEndpoint& node, const std::string& method,
                                 const std::string& path_and_query,
                                 const http::HeaderList& headers);

 private:
  struct Impl;
  explicit KubeletClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kite::apiserver
