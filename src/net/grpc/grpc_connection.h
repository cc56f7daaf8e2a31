// One plaintext HTTP/2 connection (h2c with prior knowledge, as gRPC speaks it) to a gRPC
// server, carrying one unary call at a time. nghttp2 does the framing, HPACK and flow
// control; this class owns the socket and drives it with poll() until the call's deadline.
// GrpcChannel keeps a pool of these; nothing else should need this header.
//
// Operation: Open() connects (unix socket or TCP) and queues the client preface, SETTINGS
// (no push, 8 MiB stream window) and a connection WINDOW_UPDATE to 8 MiB, so replies of
// many MiB stream without waiting on window updates. Call() sends the request (HEADERS and
// DATA, as the peer's windows allow), reads until the stream closes and derives the status
// as grpc/doc/PROTOCOL-HTTP2.md says. At the deadline the stream is reset with CANCEL.
//
// Thread-safety: none; one thread at a time (the pool hands a connection to one caller).
// Limits: the reply message size (`max_receive_bytes`); a call without deadline may block
// for as long as the server takes. Host names are resolved with getaddrinfo(), which the
// deadline does not bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/net/grpc/grpc_code.h"
#include "src/net/grpc/grpc_wire.h"

struct nghttp2_session;

namespace kite::net {

using GrpcClock = std::chrono::steady_clock;

// Where a channel connects: "unix:/abs/path", "unix:///abs/path", "unix:relative/path",
// "host:port" or "[v6-address]:port".
struct GrpcTarget {
  bool unix_socket = false;
  std::string path;       // unix socket path
  std::string host;       // TCP host, without brackets
  std::string port;       // TCP port (digits)
  std::string authority;  // the :authority header: "host:port" as given, "localhost" for unix
  std::string display;    // the target as given, for messages
};

// kInvalidArgument naming what is wrong (empty, no port, port not a number in 1..65535,
// unix path empty or longer than sun_path allows).
Result<GrpcTarget> ParseGrpcTarget(std::string_view target);

// How one call on a connection ended.
struct GrpcCallResult {
  GrpcCode code = GrpcCode::kOk;
  std::string message;
  std::string response;  // the reply message when code is OK
  // Nothing of the reply arrived and the connection failed (closed, reset, GOAWAY that
  // refused the stream): the caller may try once more on a fresh connection.
  bool retryable = false;
};

class GrpcConnection {
 public:
  struct Opened {
    std::unique_ptr<GrpcConnection> connection;  // null on failure
    std::string error;                           // why it failed
    bool timed_out = false;                      // `connect_deadline` passed
  };
  // Connects to `target` by `connect_deadline`. Failure: refused, no such socket, host not
  // resolved, timed out, or nghttp2 could not be set up.
  static Opened Open(const GrpcTarget& target, GrpcClock::time_point connect_deadline);
  ~GrpcConnection();

  GrpcConnection(const GrpcConnection&) = delete;
  GrpcConnection& operator=(const GrpcConnection&) = delete;

  struct Request {
    std::string_view method;  // the :path, "/package.Service/Method"
    std::string_view user_agent;
    std::string_view framed_message;                // FrameGrpcMessage(request)
    std::optional<GrpcClock::time_point> deadline;  // none: wait as long as it takes
    size_t max_receive_bytes = 0;
  };
  // One unary call. Never fails silently: every outcome is a GrpcCallResult. UNAVAILABLE
  // when the connection breaks, DEADLINE_EXCEEDED at the deadline, otherwise what the
  // server's grpc-status (or HTTP status, or RST_STREAM) says.
  GrpcCallResult Call(const Request& request);

  // Whether another call may use this connection: no GOAWAY, no I/O or protocol error, no
  // unsent bytes left behind by a cancelled call, stream ids not exhausted.
  bool reusable() const;

  // For a pooled connection before reuse: processes what arrived while it sat idle (PINGs,
  // SETTINGS, GOAWAY, EOF) without blocking. False when the connection is dead.
  bool CheckIdle();

 private:
  struct CallState;
  struct Callbacks;

  GrpcConnection(int fd, const GrpcTarget& target);
  bool Start();
  // Generates frames and writes them until nothing is left or the socket would block.
  // False on a write error or an nghttp2 error (the connection is broken then).
  bool Flush();
  // Reads what the socket has (bounded per call) and hands it to nghttp2.
  // Returns false on EOF, read error or protocol error (broken_ then says which).
  bool ReadAvailable();
  GrpcCallResult Finish(CallState& call);
  void MarkBroken(std::string why);

  int fd_;
  std::string display_;
  std::string authority_;
  nghttp2_session* session_ = nullptr;
  std::string out_;      // generated frames not yet written
  size_t out_sent_ = 0;  // bytes of out_ already written
  bool broken_ = false;
  std::string broken_reason_;
  bool goaway_ = false;
  CallState* call_ = nullptr;  // the call in progress, for nghttp2's callbacks
};

}  // namespace kite::net
