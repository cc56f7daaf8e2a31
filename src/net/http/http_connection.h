// One HTTP/1.1 client connection (TCP, optionally TLS): write a request, read the
// response head, read the body whole or as it arrives. Several requests go one after the
// other over the same connection while it stays reusable (keep-alive); there is no
// pipelining.
//
// Operation: WriteRequest sends the request line, a Host header (unless the request has
// one), the request's headers in order, Content-Length (for a body, or a POST, PUT or
// PATCH, unless given) and the body. ReadResponseHead skips 1xx interim answers (except
// 101) and works out the body's framing: none (HEAD, 1xx, 204, 304), chunked (chunk
// extensions ignored, trailers read and dropped), Content-Length, or until the server
// closes. ReadBodySome hands out the body as it arrives (watch streams); ReadBody
// collects all of it. Every call is bounded by a deadline.
//
// Reuse: Reusable() is true once a response was read to its end, the framing was not
// "until close", the server did not say "Connection: close" (or spoke HTTP/1.0 without
// keep-alive), nothing unexpected followed, and no call failed. Any failure leaves the
// connection unusable. IdleAndOpen() checks a pooled connection before reuse.
//
// Limits: the response head (status line and headers, and separately the trailers) at most
// max_header_bytes; a chunk-size line at most 4 KiB; ReadBody at most its max_bytes. A
// malformed response (bad status line, header line, Content-Length or chunk framing) is a
// kUnavailable error saying what was wrong, never a crash.
// Errors: kInvalidArgument for a request that cannot be sent (a CR or LF in a header, a
// bad method or target); kResourceExhausted for a body over ReadBody's limit; kUnavailable
// for everything the network or the server did; kInternal for calls out of order.
// Thread-safety: one thread at a time, except Shutdown (any thread, any time), which makes
// a blocked or later call fail promptly; that is how a watch is cancelled.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/net/http/headers.h"
#include "src/net/http/socket_stream.h"

namespace kite::net::http {

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  // "/api/v1/pods?watch=true"
  Headers headers;
  std::string body;
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  int minor_version = 1;  // HTTP/1.<minor_version>
  Headers headers;
};

struct HttpConnectionOptions {
  SocketOptions socket;
  size_t max_header_bytes = size_t{256} << 10;
};

class HttpConnection {
 public:
  explicit HttpConnection(HttpConnectionOptions options);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  Status Connect(Deadline deadline);
  Status WriteRequest(const HttpRequest& request, Deadline deadline);
  Result<ResponseHead> ReadResponseHead(Deadline deadline);
  // Up to `n` bytes of the body into `buf` once at least one is there; 0 at its end.
  Result<size_t> ReadBodySome(char* buf, size_t n, Deadline deadline);
  // The rest of the body; kResourceExhausted when it is longer than `max_bytes`.
  Result<std::string> ReadBody(size_t max_bytes, Deadline deadline);

  bool Reusable() const;
  // For a reusable connection that sat idle: whether the server has not closed it.
  bool IdleAndOpen();
  // Whether any byte of a response to the last request arrived (a request that failed
  // before that on a reused connection may be retried on a new one).
  bool response_started() const { return response_started_; }
  bool timed_out() const { return stream_.timed_out(); }
  bool tls_session_reused() const { return stream_.tls_session_reused(); }
  const HttpConnectionOptions& options() const { return options_; }

  void Shutdown() { stream_.Shutdown(); }

 private:
  enum class State { kIdle, kAwaitingHead, kBody, kBroken };
  enum class Framing { kNone, kLength, kChunked, kUntilClose };
  enum class ChunkState { kSize, kData, kDataEnd };

  Status Fail(Status status);
  // Reads more bytes into in_; 0 at the end of the stream.
  Result<size_t> Fill(Deadline deadline);
  // Bytes from in_ if there are any, else straight from the socket; 0 at the end.
  Result<size_t> ReadRaw(char* buf, size_t n, Deadline deadline);
  // One line without its CR LF; error when longer than `max` or the stream ends first.
  Result<std::string> ReadLine(size_t max, Deadline deadline);
  Status ParseFraming(const ResponseHead& head);
  Status ReadTrailers(Deadline deadline);
  void FinishBody();

  const HttpConnectionOptions options_;
  SocketStream stream_;
  State state_ = State::kIdle;
  std::string in_;     // bytes read but not consumed, from in_pos_
  size_t in_pos_ = 0;
  bool response_started_ = false;
  bool head_request_ = false;
  bool close_ = false;  // the server will close after this response
  Framing framing_ = Framing::kNone;
  uint64_t remaining_ = 0;  // kLength: body bytes left; kChunked: bytes left in the chunk
  ChunkState chunk_state_ = ChunkState::kSize;
};

}  // namespace kite::net::http
