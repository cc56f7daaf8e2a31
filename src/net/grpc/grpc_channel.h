// GrpcChannel: a blocking client for unary gRPC calls over plaintext HTTP/2, on a unix
// socket or TCP — what Kite needs to talk to containerd's CRI and to run gRPC health
// probes, without the gRPC runtime in the process.
//
// Operation: Call() takes an idle connection from the channel's pool (or opens one: connects
// lazily, nothing happens at Create), sends one request message and waits with poll() until
// the reply's trailers, the deadline, or a failure. The connection goes back to the pool
// when it is still healthy. A pooled connection that turns out dead before any of the reply
// arrived (the server restarted and closed it), or a stream a GOAWAY refused, is retried
// once on a fresh connection, so a call after a server restart succeeds when the server is
// back. There is no reconnect back-off: each call that needs a connection tries to connect.
//
// Outcomes (GrpcReply.code):
//   what the server's grpc-status says, with grpc-message percent-decoded;
//   no grpc-status: the HTTP status mapped (404 → UNIMPLEMENTED, 503 → UNAVAILABLE, ...),
//   a stream reset mapped (REFUSED_STREAM → UNAVAILABLE, ...), otherwise INTERNAL;
//   no connection (refused, no such socket, not resolved, connect_timeout passed) →
//   UNAVAILABLE with connect_failed set (DEADLINE_EXCEEDED when the call's deadline came
//   first); connection lost before the reply was complete → UNAVAILABLE;
//   the deadline → DEADLINE_EXCEEDED (the stream is reset with CANCEL; the connection is
//   kept when the reset could be written);
//   a reply message above max_receive_message_bytes → RESOURCE_EXHAUSTED; a compressed
//   one, or an OK reply without exactly one message → INTERNAL.
//
// Thread-safety: Call() may run from any number of threads at once; each call has its own
// connection for its duration (no multiplexing), so concurrent calls are not serialized.
// The channel must outlive the calls running on it.
// Limits: reply size per options; idle connections kept per options (more concurrent
// calls open more connections, closed again when the pool is full); no limit on the number
// of concurrent calls. Requests are not compressed and compressed replies are refused.
// The one retry cannot know whether a connection that died silently had passed the request
// on, so a request may then reach the server twice (gRPC retries only what it knows was not
// sent; a lost reply is rare enough here to trade for surviving runtime restarts).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/net/grpc/grpc_code.h"

namespace kite::net {

class GrpcConnection;
struct GrpcTarget;

struct GrpcChannelOptions {
  // Largest reply message accepted (gRPC's default is 4 MiB).
  size_t max_receive_message_bytes = 4 << 20;
  // How long opening a connection may take; a call's deadline bounds it too.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(20);
  // Sent as user-agent.
  std::string user_agent = "kite-grpc/1.0";
  // Idle connections kept for reuse.
  size_t max_idle_connections = 8;
};

// The outcome of one call.
struct GrpcReply {
  GrpcCode code = GrpcCode::kOk;
  std::string message;   // grpc-message (decoded) or our description of the failure
  std::string response;  // the reply message (serialized), when code is OK
  // The call failed because no connection could be made (refused, no socket, not resolved,
  // connect timeout); the request never left. False for every other outcome.
  bool connect_failed = false;

  bool ok() const { return code == GrpcCode::kOk; }
};

class GrpcChannel {
 public:
  // A timeout meaning "no deadline": the call waits as long as the server takes.
  static constexpr std::chrono::milliseconds kNoDeadline = std::chrono::milliseconds::max();

  // A channel to `target`: "unix:/path", "unix:///path", "host:port" or "[v6]:port".
  // Does not connect. kInvalidArgument for a malformed target or non-positive limits.
  static Result<std::unique_ptr<GrpcChannel>> Create(std::string_view target,
                                                     GrpcChannelOptions options = {});
  ~GrpcChannel();

  GrpcChannel(const GrpcChannel&) = delete;
  GrpcChannel& operator=(const GrpcChannel&) = delete;

  // One unary call of `method` ("/package.Service/Method") with the serialized request
  // message, bounded by `timeout` (kNoDeadline: none; sent as grpc-timeout otherwise).
  // A method not starting with '/' is INVALID_ARGUMENT without any I/O.
  GrpcReply Call(std::string_view method, std::string_view request,
                 std::chrono::milliseconds timeout) EXCLUDES(mu_);

  const std::string& target() const;

 private:
  GrpcChannel(std::unique_ptr<GrpcTarget> target, GrpcChannelOptions options);
  // An idle connection that is still alive, or null.
  std::unique_ptr<GrpcConnection> TakeIdle() EXCLUDES(mu_);
  void GiveBack(std::unique_ptr<GrpcConnection> connection) EXCLUDES(mu_);
  // Closes every idle connection: after one died, its siblings most likely did too.
  void DiscardIdle() EXCLUDES(mu_);

  const std::unique_ptr<GrpcTarget> target_;
  const GrpcChannelOptions options_;
  Mutex mu_;
  std::vector<std::unique_ptr<GrpcConnection>> idle_ GUARDED_BY(mu_);
};

}  // namespace kite::net
