// The HTTPS front door of the API server: TLS (with optional client certificates), HTTP/1.1
// keep-alive, and a worker pool (growing with demand) that runs the Handler.
//
// Operation: network threads run the TLS handshakes and HTTP parsing, one strand per
// connection and one request at a time per connection (pipelined requests wait in the
// connection's buffer). Each parsed request goes to a worker thread, which calls
// Handler::Handle; the result is written back on the connection's strand. A
// StreamingResponse is sent with chunked encoding: every Poll result becomes one chunk,
// flushed at once. Network threads never block on a handler.
//
// TLS: 1.2 or newer; ALPN offers only "http/1.1" (a client that offers only h2 is refused
// with the no_application_protocol alert). When client_ca_pem is set, client certificates
// are requested but not required: a connection without one is served with an empty
// PeerIdentity (the handler checks bearer tokens), a certificate that does not verify
// against client_ca_pem (chain, dates, clientAuth usage) ends the handshake.
//
// Limits (all from HttpsServerOptions): request body (413 with a Kubernetes Status body),
// request header (431), time to read a request or write a full response (the connection is
// closed), keep-alive idle time, and unsent bytes of a streaming response (the stream is
// cancelled and the connection closed). Malformed HTTP gets 400 and the connection is
// closed. Not limited: the number of connections, the queue of requests waiting for a
// worker (at most one per connection), the time a Handle call takes, and the life of a
// stream that keeps producing (it ends when Poll returns false, the client goes away, the
// backlog limit is hit, or Stop).
//
// Upgrades (UpgradeResponse): the server writes "101 Switching Protocols" with the handler's
// headers (adding "Connection: Upgrade" when missing), then runs the session on a thread of
// its own with the raw TLS byte stream; bytes the client sent after the request head come
// first. Upgraded connections have no timeouts; they end when the session returns (the
// server sends FIN, then closes), when either side closes, or at Stop, which closes them and
// joins their sessions. Not limited: the number of upgraded connections (one thread each).
//
// Responses carry Date, Content-Length (full) or chunked encoding (streams), the handler's
// Content-Type and extra headers, and "Cache-Control: no-cache, private" unless the handler
// sets its own. Framing headers from the handler (Content-Length, Transfer-Encoding,
// Connection) and header lines containing CR/LF are dropped.
//
// Thread-safety: all methods are thread-safe. Stop() must not be called from a Handler, a
// ResponseStream callback or an upgraded session (it waits for them).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::http {

class HttpsServerImpl;  // in https_server.cc

struct HttpsServerOptions {
  std::string bind_address = "127.0.0.1";  // an IP literal; "0.0.0.0" or "::" for all
  int port = 6443;                          // 0 = pick a free port (see HttpsServer::port)
  std::string server_cert_pem;              // serving certificate, then its chain
  std::string server_key_pem;               // its private key (PEM)
  std::string client_ca_pem;                // verifies client certificates; "" = do not ask
  int network_threads = 2;                  // threads running TLS and HTTP parsing
  int handler_threads = 64;  // most workers running Handler::Handle at once (it may block);
                             // they start on demand and end after 30 s idle
  size_t max_body_bytes = 3 * 1024 * 1024;  // 413 beyond (Kubernetes' limit is 3 MiB)
  size_t max_header_bytes = 1024 * 1024;    // 431 beyond
  std::chrono::seconds request_timeout{60};  // handshake, reading a request, writing a
                                             // full response or one streamed chunk
  std::chrono::seconds idle_timeout{120};    // keep-alive connection with no request
  size_t max_stream_backlog_bytes = 16 * 1024 * 1024;  // unsent streaming bytes before
                                                       // the stream is cut
};

class HttpsServer {
 public:
  // Binds, listens and starts the threads; the server accepts connections when this
  // returns. `handler` must outlive the server (until Stop returns). Errors:
  // kInvalidArgument for a bad address, certificate, key or CA, or a non-positive thread
  // count; kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<HttpsServer>> Start(HttpsServerOptions options,
                                                   Handler* handler);

  ~HttpsServer();  // Stop()s
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // The port actually bound (useful with options.port = 0).
  int port() const;

  // Stops accepting, cancels every open ResponseStream (Cancel), closes every connection
  // (upgraded ones too: their blocked Read returns 0), waits for running Handle calls to
  // return (queued ones are dropped), waits for upgraded sessions to return, and joins every
  // thread the server started. Idempotent.
  void Stop();

  // For /metrics. Connections accepted and not yet closed (including those in the TLS
  // handshake).
  int64_t open_connections() const;
  // Responses started: complete, streamed, and the server's own error responses.
  uint64_t requests_served() const;

 private:
  explicit HttpsServer(std::unique_ptr<HttpsServerImpl> impl);
  std::unique_ptr<HttpsServerImpl> impl_;
};

}  // namespace kite::http
