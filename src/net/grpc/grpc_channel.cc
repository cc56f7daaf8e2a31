#include "src/net/grpc/grpc_channel.h"

#include <optional>
#include <utility>

#include "src/net/grpc/grpc_connection.h"
#include "src/net/grpc/grpc_wire.h"

namespace kite::net {

namespace {

// Timeouts beyond this count as none: adding them to now() would overflow.
constexpr std::chrono::hours kLongestDeadline(24 * 365 * 100);

}  // namespace

Result<std::unique_ptr<GrpcChannel>> GrpcChannel::Create(std::string_view target,
                                                         GrpcChannelOptions options) {
  Result<GrpcTarget> parsed = ParseGrpcTarget(target);
  if (!parsed.ok()) return parsed.status();
  if (options.max_receive_message_bytes == 0 || options.max_receive_message_bytes > 0xffffffffu) {
    return InvalidArgumentError("gRPC max receive message size must be in 1..4294967295 bytes");
  }
  if (options.connect_timeout <= std::chrono::milliseconds::zero()) {
    return InvalidArgumentError("gRPC connect timeout must be positive");
  }
  auto owned = std::make_unique<GrpcTarget>(std::move(parsed).value());
  return std::unique_ptr<GrpcChannel>(new GrpcChannel(std::move(owned), std::move(options)));
}

GrpcChannel::GrpcChannel(std::unique_ptr<GrpcTarget> target, GrpcChannelOptions options)
    : target_(std::move(target)), options_(std::move(options)) {}

GrpcChannel::~GrpcChannel() = default;

const std::string& GrpcChannel::target() const { return target_->display; }

std::unique_ptr<GrpcConnection> GrpcChannel::TakeIdle() {
  for (;;) {
    std::unique_ptr<GrpcConnection> connection;
    {
      MutexLock lock(mu_);
      if (idle_.empty()) return nullptr;
      connection = std::move(idle_.back());  // the most recently used: likeliest alive
      idle_.pop_back();
    }
    // Outside the lock: it reads from the socket.
    if (connection->CheckIdle()) return connection;
  }
}

void GrpcChannel::DiscardIdle() {
  std::vector<std::unique_ptr<GrpcConnection>> dropped;
  MutexLock lock(mu_);
  dropped.swap(idle_);
}

void GrpcChannel::GiveBack(std::unique_ptr<GrpcConnection> connection) {
  if (!connection->reusable()) return;
  MutexLock lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(connection));
}

GrpcReply GrpcChannel::Call(std::string_view method, std::string_view request,
                            std::chrono::milliseconds timeout) {
  GrpcReply reply;
  if (method.empty() || method[0] != '/') {
    reply.code = GrpcCode::kInvalidArgument;
    reply.message = "gRPC method \"" + std::string(method) + "\" does not start with '/'";
    return reply;
  }
  const GrpcClock::time_point start = GrpcClock::now();
  std::optional<GrpcClock::time_point> deadline;
  if (timeout != kNoDeadline && timeout < kLongestDeadline) deadline = start + timeout;
  if (deadline && start >= *deadline) {
    reply.code = GrpcCode::kDeadlineExceeded;
    reply.message = "Deadline Exceeded";
    return reply;
  }
  const std::string framed = FrameGrpcMessage(request);

  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<GrpcConnection> connection = attempt == 0 ? TakeIdle() : nullptr;
    if (connection == nullptr) {
      GrpcClock::time_point connect_by = GrpcClock::now() + options_.connect_timeout;
      const bool deadline_first = deadline && *deadline < connect_by;
      if (deadline_first) connect_by = *deadline;
      GrpcConnection::Opened opened = GrpcConnection::Open(*target_, connect_by);
      if (opened.connection == nullptr) {
        reply.connect_failed = true;
        reply.message = std::move(opened.error);
        reply.code = opened.timed_out && deadline_first ? GrpcCode::kDeadlineExceeded
                                                        : GrpcCode::kUnavailable;
        return reply;
      }
      connection = std::move(opened.connection);
    }
    GrpcConnection::Request call{method, options_.user_agent, framed, deadline,
                                 options_.max_receive_message_bytes};
    GrpcCallResult result = connection->Call(call);
    GiveBack(std::move(connection));
    // A pooled connection may have died while idle without our noticing (the peer's close
    // still in flight), or a GOAWAY refused the stream: the request was not acted on as far
    // as we can tell, so it goes once more, on a fresh connection.
    if (attempt == 0 && result.retryable && !(deadline && GrpcClock::now() >= *deadline)) {
      DiscardIdle();
      continue;
    }
    reply.code = result.code;
    reply.message = std::move(result.message);
    reply.response = std::move(result.response);
    return reply;
  }
}

}  // namespace kite::net
