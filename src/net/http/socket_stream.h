// A TCP connection to a host and port, optionally with TLS on top: blocking reads and
// writes, each bounded by a deadline, that another thread can cancel.
//
// Operation: Connect resolves the host (getaddrinfo; an IP literal is not looked up),
// tries each address in turn until one accepts within the deadline, sets TCP_NODELAY and
// TCP keep-alive, then runs the TLS handshake when a TlsContext is given. The socket is
// non-blocking underneath; waits are poll(2) calls that also watch an eventfd, which is
// how Shutdown wakes a blocked call. TLS writes go through our own BIO with
// send(MSG_NOSIGNAL), so a peer that went away never raises SIGPIPE.
//
// Errors: kUnavailable with Go's wording where there is one: "dial tcp 10.0.0.1:80:
// connect: connection refused", "... i/o timeout", "tls: failed to verify certificate:
// ...", "read: connection reset by peer", "use of closed network connection" (after
// Shutdown). timed_out() tells whether the last failure was the deadline passing.
// Limitations: the name lookup is not bounded by the deadline and cannot be cancelled (it
// is the resolver's own timeouts); the hosts kite dials are IP literals in practice.
//
// Thread-safety: one thread at a time uses a stream; Shutdown may be called from any
// thread at any time, including while Connect, ReadSome or WriteAll are blocked.
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/net/http/tls_context.h"

namespace kite::net::http {

using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

struct SocketOptions {
  std::string host;                   // name or IP literal (IPv6 without brackets)
  int port = 0;
  std::shared_ptr<TlsContext> tls;    // null: plain TCP
  std::chrono::seconds keepalive_idle{30};
  std::chrono::seconds keepalive_interval{15};
};

class SocketStream {
 public:
  explicit SocketStream(SocketOptions options);
  ~SocketStream();  // sends TLS close_notify when it can do so without waiting
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;

  // Connects (and handshakes) by `deadline`. Called once.
  Status Connect(Deadline deadline);
  // Up to `n` bytes into `buf`, waiting until at least one is there: the count, or 0 at
  // the end of the stream.
  Result<size_t> ReadSome(char* buf, size_t n, Deadline deadline);
  Status WriteAll(std::string_view data, Deadline deadline);
  // Wakes every blocked and later call, which then fail. Idempotent.
  void Shutdown();

  // For a kept-alive idle connection: true when nothing arrived and the peer has not
  // closed, so a new request may go out on it. Never blocks.
  bool IdleAndOpen();

  bool timed_out() const { return timed_out_; }
  bool tls_session_reused() const;
  const SocketOptions& options() const { return options_; }

 private:
  // Waits until the socket has `events` (POLLIN/POLLOUT), the deadline passes or
  // Shutdown is called. `what` names the operation in the error ("read", "write").
  Status Wait(short events, Deadline deadline, const std::string& what);
  Status ConnectTcp(Deadline deadline);
  Status Handshake(Deadline deadline);
  Status Error(const std::string& what, int err);
  friend struct SocketBio;

  const SocketOptions options_;
  int fd_ = -1;
  const int wake_fd_;  // eventfd written by Shutdown
  std::atomic<bool> shut_down_{false};
  SSL* ssl_ = nullptr;
  int bio_errno_ = 0;  // the errno our BIO saw last (an SSL "syscall" error's cause)
  bool timed_out_ = false;
  bool broken_ = false;  // a TLS error: no close_notify on destruction
  // The last call wrote: the peer has yet to answer, so a read waits before trying.
  bool awaiting_answer_ = false;
};

}  // namespace kite::net::http
