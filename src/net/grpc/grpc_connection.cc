#include "src/net/grpc/grpc_connection.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <thread>
#include <vector>

namespace kite::net {

namespace {

// Receive windows: big enough that a reply of several MiB flows without stalls; nghttp2
// sends WINDOW_UPDATE on its own as the application consumes data.
constexpr int32_t kStreamWindow = 8 << 20;
constexpr int32_t kConnectionWindow = 8 << 20;
constexpr size_t kReadChunk = 64 << 10;
// Reads per poll wake-up, so that window updates go out while a big reply streams in.
constexpr int kReadsPerWakeup = 16;
// Generated-but-unsent bytes kept at most before writing (a large request is produced in
// pieces as the socket drains).
constexpr size_t kOutHighWater = 256 << 10;
// Stream ids are odd and below 2^31; a connection near the end is retired.
constexpr uint32_t kLastUsableStreamId = (1u << 31) - 3;

std::string Errno(int error) { return std::string(strerror(error)); }

// Milliseconds until `deadline` for poll(), rounded up; -1 without a deadline.
int PollTimeout(const std::optional<GrpcClock::time_point>& deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - GrpcClock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

bool Expired(const std::optional<GrpcClock::time_point>& deadline) {
  return deadline && GrpcClock::now() >= *deadline;
}

// Waits for a non-blocking connect() to finish; 0 or the errno of the failure (ETIMEDOUT
// when the deadline passed).
int WaitConnected(int fd, GrpcClock::time_point deadline) {
  for (;;) {
    int timeout = PollTimeout(deadline);
    if (timeout == 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) continue;  // the loop re-checks the deadline
    int error = 0;
    socklen_t len = sizeof(error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
    return error;
  }
}

struct Connected {
  int fd = -1;
  int error = 0;  // errno of the last failure when fd < 0
};

Connected ConnectUnix(const std::string& path, GrpcClock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());  // length checked by ParseGrpcTarget
  for (;;) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return {-1, errno};
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return {fd, 0};
    int error = errno;
    if (error == EINPROGRESS) {
      error = WaitConnected(fd, deadline);
      if (error == 0) return {fd, 0};
    }
    close(fd);
    // A unix socket whose listen backlog is full answers EAGAIN: wait a little and retry.
    if (error != EAGAIN) return {-1, error};
    if (GrpcClock::now() + std::chrono::milliseconds(5) >= deadline) return {-1, ETIMEDOUT};
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Connected ConnectTcp(const std::string& host, const std::string& port,
                     GrpcClock::time_point deadline, std::string* resolve_error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    *resolve_error = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    return {-1, 0};
  }
  Connected result{-1, ECONNREFUSED};
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      result.error = errno;
      continue;
    }
    int error = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) error = WaitConnected(fd, deadline);
    }
    if (error == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // small frames go now
      result = {fd, 0};
      break;
    }
    close(fd);
    result.error = error;
    if (error == ETIMEDOUT) break;
  }
  freeaddrinfo(found);
  return result;
}

bool HasGrpcContentType(std::string_view type) {
  // "application/grpc", "application/grpc+proto", "application/grpc;..."
  constexpr std::string_view kBase = "application/grpc";
  if (type.substr(0, kBase.size()) != kBase) return false;
  return type.size() == kBase.size() || type[kBase.size()] == '+' || type[kBase.size()] == ';';
}

}  // namespace

// ---- target ----

Result<GrpcTarget> ParseGrpcTarget(std::string_view target) {
  GrpcTarget out;
  out.display = std::string(target);
  if (target.empty()) return InvalidArgumentError("gRPC target is empty");
  if (target.substr(0, 5) == "unix:") {
    std::string_view path = target.substr(5);
    if (path.substr(0, 2) == "//") {
      path.remove_prefix(2);  // unix:///abs/path: an empty authority, then the path
      if (path.empty() || path[0] != '/') {
        return InvalidArgumentError("gRPC target \"" + out.display +
                                    "\": unix:// must be followed by an absolute path");
      }
    }
    if (path.empty()) {
      return InvalidArgumentError("gRPC target \"" + out.display + "\" has an empty socket path");
    }
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return InvalidArgumentError("gRPC target \"" + out.display +
                                  "\": socket path is longer than " +
                                  std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
    }
    out.unix_socket = true;
    out.path = std::string(path);
    out.authority = "localhost";
    return out;
  }
  std::string_view host;
  std::string_view port;
  if (target[0] == '[') {
    size_t close = target.find(']');
    if (close == std::string_view::npos || close + 1 >= target.size() || target[close + 1] != ':') {
      return InvalidArgumentError("gRPC target \"" + out.display + "\" is not \"[address]:port\"");
    }
    host = target.substr(1, close - 1);
    port = target.substr(close + 2);
  } else {
    size_t colon = target.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError("gRPC target \"" + out.display + "\" has no port");
    }
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidArgumentError("gRPC target \"" + out.display +
                                  "\": an IPv6 address must be written in brackets");
    }
  }
  int port_number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      port_number < 1 || port_number > 65535) {
    return InvalidArgumentError("gRPC target \"" + out.display +
                                "\" is not host:port with a port in 1..65535");
  }
  out.host = std::string(host);
  out.port = std::string(port);
  out.authority = out.display;
  return out;
}

// ---- one call's state, filled by nghttp2's callbacks ----

struct GrpcConnection::CallState {
  explicit CallState(const Request& r) : request(r), reader(r.max_receive_bytes) {}

  const Request& request;
  int32_t stream_id = -1;
  size_t sent = 0;  // bytes of the framed message handed to nghttp2
  bool reply_started = false;
  bool closed = false;
  bool remote_ended = false;  // the server ended its side: the reply is complete
  uint32_t close_error = 0;   // RST_STREAM error code; 0 when the stream ended normally
  bool cancelled = false;     // we reset it (deadline, oversized or malformed reply)
  int http_status = 0;
  std::string content_type;
  std::optional<std::string> grpc_status;
  std::string grpc_message;
  GrpcMessageReader reader;
};

struct GrpcConnection::Callbacks {
  static GrpcConnection& Self(void* user_data) { return *static_cast<GrpcConnection*>(user_data); }

  static CallState* Stream(void* user_data, int32_t stream_id) {
    CallState* call = Self(user_data).call_;
    return call != nullptr && call->stream_id == stream_id ? call : nullptr;
  }

  static ssize_t ReadRequest(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                             uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    CallState* call = Stream(user_data, stream_id);
    // No call (it ended while DATA was still queued): reset the stream.
    if (call == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    std::string_view body = call->request.framed_message;
    size_t n = std::min(length, body.size() - call->sent);
    memcpy(buf, body.data() + call->sent, n);
    call->sent += n;
    if (call->sent == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (CallState* call = Stream(user_data, frame->hd.stream_id)) call->reply_started = true;
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    CallState* call = Stream(user_data, frame->hd.stream_id);
    if (call == nullptr) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int status = 0;
      std::from_chars(v.data(), v.data() + v.size(), status);
      if (status >= 200) call->http_status = status;  // 1xx are interim
    } else if (n == "content-type") {
      call->content_type = std::string(v);
    } else if (n == "grpc-status") {
      call->grpc_status = std::string(v);
    } else if (n == "grpc-message") {
      call->grpc_message = PercentDecode(v);
    }
    return 0;
  }

  static int OnData(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                    size_t len, void* user_data) {
    CallState* call = Stream(user_data, stream_id);
    if (call == nullptr || call->cancelled) return 0;
    call->reply_started = true;
    // The body of a non-200 reply is not gRPC framing; the HTTP status decides.
    if (call->http_status != 200) return 0;
    if (!call->reader.Feed(std::string_view(reinterpret_cast<const char*>(data), len))) {
      call->cancelled = true;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    }
    return 0;
  }

  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type == NGHTTP2_GOAWAY) Self(user_data).goaway_ = true;
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      if (CallState* call = Stream(user_data, frame->hd.stream_id)) call->remote_ended = true;
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data) {
    if (CallState* call = Stream(user_data, stream_id)) {
      call->closed = true;
      call->close_error = error_code;
    }
    return 0;
  }
};

// ---- connection ----

GrpcConnection::GrpcConnection(int fd, const GrpcTarget& target)
    : fd_(fd), display_(target.display), authority_(target.authority) {}

GrpcConnection::~GrpcConnection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
  close(fd_);
}

GrpcConnection::Opened GrpcConnection::Open(const GrpcTarget& target,
                                            GrpcClock::time_point connect_deadline) {
  Opened out;
  std::string resolve_error;
  Connected c = target.unix_socket
                    ? ConnectUnix(target.path, connect_deadline)
                    : ConnectTcp(target.host, target.port, connect_deadline, &resolve_error);
  if (c.fd < 0) {
    out.timed_out = c.error == ETIMEDOUT;
    out.error = "failed to connect to " + target.display + ": " +
                (!resolve_error.empty() ? resolve_error
                 : out.timed_out        ? std::string("timed out")
                                        : Errno(c.error));
    return out;
  }
  std::unique_ptr<GrpcConnection> connection(new GrpcConnection(c.fd, target));
  if (!connection->Start()) {
    out.error =
        "failed to set up HTTP/2 with " + target.display + ": " + connection->broken_reason_;
    return out;
  }
  out.connection = std::move(connection);
  return out;
}

bool GrpcConnection::Start() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    MarkBroken("out of memory");
    return false;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::OnData);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::OnFrame);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::OnStreamClose);
  int rc = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rc != 0) {
    session_ = nullptr;
    MarkBroken(nghttp2_strerror(rc));
    return false;
  }
  std::array<nghttp2_settings_entry, 2> settings = {{
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  }};
  rc = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (rc == 0) {
    rc = nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  }
  if (rc != 0) {
    MarkBroken(nghttp2_strerror(rc));
    return false;
  }
  // The preface goes out with the first request; writing now would only add a wake-up.
  return true;
}

void GrpcConnection::MarkBroken(std::string why) {
  if (!broken_) broken_reason_ = std::move(why);
  broken_ = true;
}

bool GrpcConnection::reusable() const {
  return !broken_ && !goaway_ && out_sent_ == out_.size() &&
         nghttp2_session_want_read(session_) != 0 &&
         static_cast<uint32_t>(nghttp2_session_get_next_stream_id(session_)) < kLastUsableStreamId;
}

bool GrpcConnection::Flush() {
  if (broken_) return false;
  for (;;) {
    while (out_.size() - out_sent_ < kOutHighWater) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        MarkBroken(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
        return false;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
      return true;
    }
    ssize_t w = send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (w > 0) {
      out_sent_ += static_cast<size_t>(w);
      if (out_sent_ == out_.size()) {
        out_.clear();
        out_sent_ = 0;
      }
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    MarkBroken("write: " + Errno(errno));
    return false;
  }
}

bool GrpcConnection::ReadAvailable() {
  if (broken_) return false;
  std::vector<uint8_t> buf(kReadChunk);
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n > 0) {
      ssize_t used = nghttp2_session_mem_recv(session_, buf.data(), static_cast<size_t>(n));
      if (used < 0) {
        MarkBroken(std::string("HTTP/2 protocol error: ") +
                   nghttp2_strerror(static_cast<int>(used)));
        return false;
      }
      // The rest can wait for the next call.
      if (call_ != nullptr && (call_->closed || call_->remote_ended)) return true;
      continue;
    }
    if (n == 0) {
      MarkBroken("connection closed by the server");
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    MarkBroken("read: " + Errno(errno));
    return false;
  }
  return true;
}

bool GrpcConnection::CheckIdle() {
  pollfd p{fd_, POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) MarkBroken("poll: " + Errno(errno));
  if (n > 0) ReadAvailable();
  if (!broken_) Flush();  // PING and SETTINGS acknowledgements
  return reusable();
}

GrpcCallResult GrpcConnection::Call(const Request& request) {
  CallState call(request);
  call_ = &call;
  struct Clear {
    GrpcConnection* self;
    ~Clear() { self->call_ = nullptr; }
  } clear{this};

  std::string timeout;
  if (request.deadline) {
    timeout = EncodeGrpcTimeout(
        std::chrono::ceil<std::chrono::milliseconds>(*request.deadline - GrpcClock::now()));
  }
  auto header = [](std::string_view name, std::string_view value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                      value.size(), NGHTTP2_NV_FLAG_NONE};
  };
  std::vector<nghttp2_nv> headers = {
      header(":method", "POST"),
      header(":scheme", "http"),
      header(":path", request.method),
      header(":authority", authority_),
      header("te", "trailers"),
      header("content-type", "application/grpc"),
      header("user-agent", request.user_agent),
  };
  if (!timeout.empty()) headers.push_back(header("grpc-timeout", timeout));
  nghttp2_data_provider body{};
  body.read_callback = &Callbacks::ReadRequest;
  int32_t stream_id =
      nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &body, nullptr);
  if (stream_id < 0) {
    MarkBroken(std::string("HTTP/2: ") + nghttp2_strerror(stream_id));
    return {GrpcCode::kUnavailable, "cannot start a stream on " + display_ + ": " + broken_reason_,
            "", /*retryable=*/true};
  }
  call.stream_id = stream_id;

  while (!call.closed && !call.remote_ended) {
    if (!Flush()) break;
    if (call.closed) break;  // a reset we queued closes the stream when it is written
    if (Expired(request.deadline)) {
      call.cancelled = true;
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
      Flush();  // best effort: unsent bytes make the connection unusable (reusable())
      return {GrpcCode::kDeadlineExceeded, "Deadline Exceeded", "", false};
    }
    pollfd p{fd_, static_cast<short>(POLLIN | (out_sent_ < out_.size() ? POLLOUT : 0)), 0};
    int n = poll(&p, 1, PollTimeout(request.deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      MarkBroken("poll: " + Errno(errno));
      break;
    }
    if (n == 0) continue;  // the deadline check above ends the call
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!ReadAvailable()) break;
    }
  }
  if (call.remote_ended && !call.closed) {
    // The server answered before taking all of the request (e.g. an unknown method): stop
    // sending it, as HTTP/2 lets a client do.
    call.cancelled = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    call.closed = true;
  }
  if (!call.closed) {
    // The connection broke under the call.
    bool nothing_back = !call.reply_started;
    std::string message =
        (nothing_back ? "connection to " + display_ + " failed before the reply: "
                      : "connection to " + display_ + " failed during the reply: ") +
        broken_reason_;
    return {GrpcCode::kUnavailable, std::move(message), "", nothing_back};
  }
  Flush();  // acknowledgements and window updates, if the socket takes them now
  return Finish(call);
}

GrpcCallResult GrpcConnection::Finish(CallState& call) {
  GrpcCallResult out;
  if (call.reader.failed()) {
    out.code = call.reader.error_code();
    out.message = call.reader.error_message();
    return out;
  }
  if (call.grpc_status) {
    int64_t number = -1;
    const std::string& s = *call.grpc_status;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
    if (ec != std::errc() || end != s.data() + s.size()) {
      out.code = GrpcCode::kUnknown;
      out.message = "reply has a malformed grpc-status \"" + s + "\"";
      return out;
    }
    out.code = GrpcCodeFromNumber(number);
    out.message = call.grpc_message;
    if (out.code != GrpcCode::kOk) return out;
    std::vector<std::string>& messages = call.reader.messages();
    if (call.reader.mid_message()) {
      out.code = GrpcCode::kInternal;
      out.message = "reply ended inside a message";
    } else if (messages.size() != 1) {
      out.code = GrpcCode::kInternal;
      out.message = messages.empty() ? "no message in the reply to a unary call"
                                     : "more than one message in the reply to a unary call";
    } else {
      out.response = std::move(messages.front());
    }
    return out;
  }
  if (call.close_error != 0 && !call.cancelled) {
    out.code = GrpcCodeFromHttp2Error(call.close_error);
    out.message =
        std::string("stream reset by the server: ") + nghttp2_http2_strerror(call.close_error);
    // REFUSED_STREAM (also how nghttp2 closes streams a GOAWAY left unprocessed): the
    // server did not act on the request.
    out.retryable = call.close_error == NGHTTP2_REFUSED_STREAM;
    return out;
  }
  if (call.http_status != 200) {
    out.code = GrpcCodeFromHttpStatus(call.http_status);
    out.message = "reply has HTTP status " + std::to_string(call.http_status);
    return out;
  }
  if (!HasGrpcContentType(call.content_type)) {
    out.code = GrpcCode::kUnknown;
    out.message = "reply has content-type \"" + call.content_type + "\", not application/grpc";
    return out;
  }
  out.code = GrpcCode::kInternal;
  out.message = "server closed the stream without a grpc-status";
  return out;
}

}  // namespace kite::net
