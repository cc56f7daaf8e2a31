// The HTTP vocabulary shared by the HTTPS server and the handlers behind it. Nothing here
// depends on Beast, so handlers compile without it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kite::http {

// Who is on the other end, as far as TLS proved it.
struct PeerIdentity {
  bool has_verified_certificate = false;  // a client certificate that chains to the CA
  std::string common_name;                // subject CN of that certificate
  std::vector<std::string> organizations;  // subject O entries, in order
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded path, without the query
  std::string query;   // raw query string after '?', not decoded ("" when absent)
  HeaderList headers;  // names lower-cased
  std::string body;
  PeerIdentity peer;
  std::string remote_address;  // "127.0.0.1:53412"

  // The first header with this (lower-case) name, or "" when absent.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
};

// A complete response: status, headers and body sent at once (Content-Length).
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;
  std::string body;
};

// A response body produced over time (watch, logs, follow): sent with chunked encoding,
// each Poll result flushed as soon as it is available.
//
// Threading: the server calls Start once, then Poll and Cancel from its connection's
// strand (never concurrently with each other). The stream may call `wake` from any thread,
// any number of times (also before Start returns); each call makes the server Poll soon.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual void Start(std::function<void()> wake) = 0;
  // Appends whatever is ready to `out` (possibly nothing). Returns false once the stream
  // has ended; bytes appended by that last call are still sent.
  virtual bool Poll(std::string& out) = 0;
  // The client went away, a limit was hit, or the server is stopping. No Poll follows.
  // After Cancel returns the stream must not call `wake` any more.
  virtual void Cancel() = 0;
};

struct StreamingResponse {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;
  std::unique_ptr<ResponseStream> stream;
};

// The connection after "101 Switching Protocols" (WebSocket, SPDY): raw bytes both ways,
// TLS already handled. Read and Write may be called from two different threads at once
// (one reader, one writer); each blocks until done.
class UpgradedConnection {
 public:
  virtual ~UpgradedConnection() = default;
  // Reads at least one byte into `buffer` (up to `size`); 0 when the peer closed the
  // connection, the server stopped, or after Close.
  virtual size_t Read(char* buffer, size_t size) = 0;
  // Writes all of `data`; false when the connection is gone.
  virtual bool Write(std::string_view data) = 0;
  // Closes the connection; a blocked Read returns 0 and Write false. Idempotent.
  virtual void Close() = 0;
};

// Takes the connection over: the server answers 101 with `headers` (Upgrade, Connection,
// Sec-WebSocket-Accept, ...), then calls `session` on a thread of its own, which owns the
// connection until it returns; the server closes it afterwards. Stop() closes open
// upgraded connections and waits for their sessions to return.
struct UpgradeResponse {
  HeaderList headers;
  std::function<void(UpgradedConnection& connection)> session;
};

using HandlerResult = std::variant<Response, StreamingResponse, UpgradeResponse>;

// Serves requests. Handle may block (store writes wait for their commit), so the server
// calls it on a worker thread, never on a network thread; many calls run concurrently.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual HandlerResult Handle(Request& request) = 0;
};

}  // namespace kite::http
