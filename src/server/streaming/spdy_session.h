// A SPDY/3.1 session over a byte stream: streams opened by either side, their data in
// both directions with half-close (FIN) and reset, pings answered, GOAWAY on close. The
// client side of the agent's link to containerd's streaming server and the server side of
// kubectl's port-forward (and SPDY exec/attach) use it.
//
// Operation: Start() runs one reader thread that parses frames and files their data into
// per-stream buffers; application threads Read and Write streams with blocking calls.
// Stream ids: a client opens odd ids from 1, a server even ids from 2; pings from the peer
// (the other parity) are echoed.
//
// Flow control: SPDY/3.1 gives every stream (and the session) a 64 KiB receive window.
// Go's spdystream, which kubectl, client-go and containerd use, implements none of it: it
// never sends WINDOW_UPDATE, never limits what it sends, and never reads the updates it
// gets. So by default (`window_updates` kAuto) this side sends WINDOW_UPDATE for what the
// application consumed only once the peer has shown it does flow control (it sent a
// SETTINGS or WINDOW_UPDATE frame): to a spdystream peer the updates are not just useless
// but harmful — one that arrives as the peer closes its socket sits unread, the kernel
// answers the close with a reset and drops what the peer had not sent yet (the end of a
// command's output and its Status). The peer's windows are not honoured by default
// (`honor_peer_windows`): waiting for spdystream's updates would stall after 64 KiB.
// Backpressure instead: a stream holding `max_stream_buffer` unread bytes stops the reader
// thread (and so the whole connection, as TCP would) until the application reads,
// discards or resets that stream.
//
// Limits: frames up to 16 MiB (the format's maximum), header blocks up to 1 MiB inflated,
// `max_peer_streams` open peer-initiated streams (more are refused with RST_STREAM
// REFUSED_STREAM). No idle timeout: the owner closes the session.
//
// Thread-safety: all methods are thread-safe. Per stream, one thread may Read while
// another Writes. Streams must not be used after their session is destroyed; the session
// must outlive every thread that uses its streams.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/http/http_types.h"
#include "src/server/streaming/spdy_frames.h"

namespace kite::streaming {

class SpdySession;

class SpdyStream {
 public:
  uint32_t id() const { return id_; }
  // The SYN_STREAM's headers (the peer's for accepted streams, ours for opened ones).
  const SpdyHeaders& headers() const { return headers_; }
  // The value of one of those headers ("" when absent), e.g. "streamtype".
  std::string_view Header(std::string_view name) const { return SpdyHeaderValue(headers_, name); }
  bool opened_locally() const { return local_; }

  // Accepts a stream the peer opened (SYN_REPLY). false when the session is gone.
  bool Reply(const SpdyHeaders& headers = {});
  // Waits for the peer's SYN_REPLY to a stream this side opened. kUnavailable when the
  // peer reset the stream before replying, the session ended first, or `timeout` passed.
  // (A reset after the reply is OK here: a fast command's streams are replied to and reset
  // before a slow reader looks.)
  Status WaitForReply(std::chrono::milliseconds timeout);

  // Blocks until data is available and copies up to `size` bytes; 0 once the peer
  // half-closed or reset the stream or the session ended, after the data that arrived
  // before (a local Reset drops buffered data at once).
  size_t Read(char* buffer, size_t size);
  // Sends `data` in data frames. false when this side already half-closed or reset the
  // stream, the peer reset it, or the session is gone.
  bool Write(std::string_view data);
  // Half-closes this side (an empty data frame with FIN). Idempotent; false when the
  // frame could not be sent.
  bool CloseWrite();
  // Sends RST_STREAM with `status` unless the stream is already reset or fully closed;
  // wakes blocked readers and writers, and drops data arriving later. Idempotent.
  void Reset(uint32_t status = kSpdyCancel);
  // Data arriving from now on is dropped instead of buffered (for a stream nobody reads,
  // so it cannot stall the connection).
  void DiscardIncoming();

  // True once either side reset the stream.
  bool was_reset() const;
  // True once the peer half-closed the stream (FIN), reset it, or the session ended.
  bool remote_closed() const;

 private:
  friend class SpdySession;
  SpdyStream(SpdySession* session, uint32_t id, SpdyHeaders headers, bool local,
             int64_t send_window);

  SpdySession* const session_;
  const uint32_t id_;
  const SpdyHeaders headers_;
  const bool local_;

  mutable Mutex mu_;
  CondVar cv_;
  std::string buffer_ GUARDED_BY(mu_);
  size_t buffer_offset_ GUARDED_BY(mu_) = 0;
  bool replied_ GUARDED_BY(mu_) = false;
  bool remote_fin_ GUARDED_BY(mu_) = false;
  bool local_fin_ GUARDED_BY(mu_) = false;
  bool reset_ GUARDED_BY(mu_) = false;
  bool discard_ GUARDED_BY(mu_) = false;
  bool session_ended_ GUARDED_BY(mu_) = false;  // the connection is gone or closing
  int64_t send_window_ GUARDED_BY(mu_);
  uint32_t unacknowledged_ GUARDED_BY(mu_) = 0;  // consumed bytes not yet in a WINDOW_UPDATE
};

struct SpdySessionOptions {
  bool server = false;  // which side of the connection this is (stream id parity)
  size_t max_stream_buffer = 1024 * 1024;
  bool honor_peer_windows = false;  // see the class comment
  enum class WindowUpdates { kAuto, kAlways, kNever };
  WindowUpdates window_updates = WindowUpdates::kAuto;  // see the class comment
  size_t max_peer_streams = 1000;
};

class SpdySession {
 public:
  // `connection` is not owned and must outlive the session.
  SpdySession(http::UpgradedConnection& connection, SpdySessionOptions options);
  ~SpdySession();  // Close()s and joins the reader thread
  SpdySession(const SpdySession&) = delete;
  SpdySession& operator=(const SpdySession&) = delete;

  // Starts the reader thread. Call once, before anything else that expects answers.
  void Start();

  // Opens a stream (SYN_STREAM with `headers`; FIN when `fin`, for a stream that will
  // only receive). kUnavailable when the session ended or the peer sent GOAWAY.
  Result<std::shared_ptr<SpdyStream>> OpenStream(SpdyHeaders headers, bool fin = false);

  // The next stream the peer opened, in order; blocks. nullptr once the session ended.
  // The caller must Reply (or Reset) it.
  std::shared_ptr<SpdyStream> AcceptStream();
  // The same with a time limit: nullptr also on timeout (check ended()).
  std::shared_ptr<SpdyStream> AcceptStream(std::chrono::milliseconds timeout);

  // Sends GOAWAY (once), closes the connection and wakes every blocked call. Idempotent.
  // Must not be called from the reader thread (no callback runs there, so it cannot be).
  void Close();

  // Blocks until the reader thread has seen the end of the connection (peer closed, error
  // or Close); returns at once if Start was never called.
  void WaitUntilEnded();
  bool ended() const;
  // Why the session ended, for logs ("" while it runs or after a clean end of stream).
  std::string end_reason() const;

 private:
  friend class SpdyStream;

  void ReadLoop();
  void HandleFrame(SpdyFrame& frame);
  void HandleData(SpdyFrame& frame);
  void HandleSynStream(SpdyFrame& frame);
  void EndAll(const std::string& reason);
  bool SendFrame(const SpdyFrame& frame) EXCLUDES(write_mu_);
  std::shared_ptr<SpdyStream> FindStream(uint32_t id) EXCLUDES(mu_);
  void ForgetIfDone(SpdyStream& stream) EXCLUDES(mu_);
  void Consumed(size_t n) EXCLUDES(mu_);  // session-level WINDOW_UPDATE bookkeeping
  bool SendsWindowUpdates() const EXCLUDES(mu_);

  http::UpgradedConnection& connection_;
  const SpdySessionOptions options_;

  // Lock order: write_mu_ before mu_ before any stream's mu_.
  Mutex write_mu_;
  SpdyFramer framer_ GUARDED_BY(write_mu_);
  uint32_t next_stream_id_ GUARDED_BY(write_mu_);
  bool goaway_sent_ GUARDED_BY(write_mu_) = false;

  mutable Mutex mu_;
  CondVar cv_;  // accept queue and end of session
  std::map<uint32_t, std::shared_ptr<SpdyStream>> streams_ GUARDED_BY(mu_);
  std::deque<std::shared_ptr<SpdyStream>> accept_queue_ GUARDED_BY(mu_);
  uint32_t last_peer_stream_id_ GUARDED_BY(mu_) = 0;
  size_t open_peer_streams_ GUARDED_BY(mu_) = 0;
  bool peer_goaway_ GUARDED_BY(mu_) = false;
  bool ended_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::string end_reason_ GUARDED_BY(mu_);
  uint32_t session_unacknowledged_ GUARDED_BY(mu_) = 0;
  int64_t initial_send_window_ GUARDED_BY(mu_) = kSpdyInitialWindow;
  bool peer_does_flow_control_ GUARDED_BY(mu_) = false;  // it sent SETTINGS or WINDOW_UPDATE

  SpdyFrameParser parser_;  // reader thread only
  std::thread reader_;
};

}  // namespace kite::streaming
