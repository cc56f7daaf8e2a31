// The gRPC-over-HTTP/2 wire details that are not HTTP/2 itself (grpc/doc/PROTOCOL-HTTP2.md):
// the length-prefixed message framing, the grpc-timeout header value and the
// percent-encoding of grpc-message.
//
// Thread-safety: the functions are pure; a GrpcMessageReader belongs to one call.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "src/net/grpc/grpc_code.h"

namespace kite::net {

// Bytes of the prefix in front of every message: a compressed flag and a 4-byte big-endian
// length.
inline constexpr size_t kGrpcPrefixBytes = 5;

// `message` as one uncompressed Length-Prefixed-Message.
std::string FrameGrpcMessage(std::string_view message);

// A grpc-timeout value: at most 8 digits and a unit, in the finest unit that fits
// ("1500m", "100000S", "1666667M", ...; rounded up, so the server never sees a shorter
// deadline than the client's). Negative timeouts are sent as "0m".
std::string EncodeGrpcTimeout(std::chrono::milliseconds timeout);

// grpc-message as received: "%XX" (hex, either case) becomes that byte; a '%' not followed
// by two hex digits is kept as it is, as the spec asks of receivers.
std::string PercentDecode(std::string_view text);

// Splits the bytes of a reply body (DATA frames, in order, in any chunks) into messages.
// Operation: Feed() as data arrives; each message is checked against the limit as soon as
// its prefix is complete, so an oversized reply is refused before it is buffered.
// Errors (the reader then ignores further input): a message above `max_message_bytes` →
// RESOURCE_EXHAUSTED; a compressed message → INTERNAL (no compression is ever offered).
class GrpcMessageReader {
 public:
  explicit GrpcMessageReader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // False once the body is broken; error_code()/error_message() say why.
  bool Feed(std::string_view bytes);

  bool failed() const { return error_code_ != GrpcCode::kOk; }
  GrpcCode error_code() const { return error_code_; }
  const std::string& error_message() const { return error_message_; }

  // The messages completed so far, in order (the caller may move them out).
  std::vector<std::string>& messages() { return messages_; }
  // True while part of a message (or of its prefix) has arrived but not all of it.
  bool mid_message() const { return prefix_.size() > 0 || in_message_; }

 private:
  bool Fail(GrpcCode code, std::string message);

  size_t max_message_bytes_;
  std::string prefix_;       // bytes of the current prefix while fewer than 5 arrived
  bool in_message_ = false;  // the prefix is complete; `current_` fills up
  size_t expected_ = 0;      // the current message's length
  std::string current_;
  std::vector<std::string> messages_;
  GrpcCode error_code_ = GrpcCode::kOk;
  std::string error_message_;
};

}  // namespace kite::net
