// ApiTransport over HTTPS, on our own HTTP/1.1 client (src/net/http): how remote agents and
// `kite sim` reach a kite server, with the plain Kubernetes API as kubectl uses it.
//
// Security: the server certificate is verified against the given CA only (no system CAs)
// and must match the host name (or IP) of the URL. The client authenticates with a bearer
// token, or a client certificate and key (PEM), or both.
//
// Operation: Do runs one request on a pooled connection, so connections are kept alive and
// reused (up to max_idle_connections idle ones are kept, each for at most 90 s, and checked
// for a server-side close before reuse; a request whose reused connection turns out closed
// is sent once more on a new one when that is safe: its write failed, or it is a GET that
// got no byte of an answer). TLS sessions are resumed on new connections. Watch makes
// its own connection and starts a thread per watch that streams the response into the
// reader; destroying the reader shuts the connection down, which ends the blocked read at
// once, and joins the thread.
// A request that gets no HTTP response (connection refused, TLS failure, timeout, a
// malformed answer) answers status 0 with a Kubernetes Status body whose message says what
// went wrong, so ResourceClient reports it as kUnavailable. A CA or client key that does
// not parse is reported that way on every request.
//
// Limits: response bodies above max_response_bytes fail the request; a watch reader holding
// more than max_watch_buffer_bytes of unread events ends its watch (the informer then
// re-lists); requests time out after request_timeout, watches only by the server's
// timeoutSeconds (TCP keep-alive detects dead peers). The server's host name is looked up
// with getaddrinfo, which the timeouts do not bound.
// Thread-safety: Do and Watch may be called from any thread; readers may outlive the
// transport.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/server/client/api_transport.h"

namespace kite::client {

struct HttpsTransportOptions {
  std::string server_url;  // "https://host:port", no path
  std::string ca_pem;      // the cluster CA (server-ca.crt); required
  std::string bearer_token;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};
  size_t max_response_bytes = size_t{256} << 20;
  size_t max_watch_buffer_bytes = size_t{64} << 20;
  size_t max_idle_connections = 16;
  std::string user_agent = "kite";
};

class HttpsTransport final : public ApiTransport {
 public:
  // kInvalidArgument when the URL is not https://host[:port], the CA is not PEM, or only
  // one of the client certificate and key is given.
  static Result<std::unique_ptr<HttpsTransport>> Create(HttpsTransportOptions options);
  ~HttpsTransport() override;

  ClientResponse Do(const ClientRequest& request) override;
  Result<std::unique_ptr<WatchReader>> Watch(const ClientRequest& request) override;

  struct Shared;  // what readers share with the transport (options, TLS context, the pool)

 private:
  explicit HttpsTransport(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  std::shared_ptr<Shared> shared_;
};

}  // namespace kite::client
