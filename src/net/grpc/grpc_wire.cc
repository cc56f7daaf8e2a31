#include "src/net/grpc/grpc_wire.h"

#include <algorithm>
#include <cstdint>

#include "src/base/percent_encoding.h"

namespace kite::net {

std::string FrameGrpcMessage(std::string_view message) {
  std::string out;
  out.reserve(kGrpcPrefixBytes + message.size());
  uint32_t length = static_cast<uint32_t>(message.size());
  out.push_back('\0');  // not compressed
  out.push_back(static_cast<char>(length >> 24));
  out.push_back(static_cast<char>(length >> 16));
  out.push_back(static_cast<char>(length >> 8));
  out.push_back(static_cast<char>(length));
  out.append(message);
  return out;
}

std::string EncodeGrpcTimeout(std::chrono::milliseconds timeout) {
  constexpr int64_t kMaxValue = 99999999;  // the spec allows at most 8 digits
  int64_t value = std::max<int64_t>(timeout.count(), 0);
  if (value <= kMaxValue) return std::to_string(value) + "m";
  struct Unit {
    int64_t millis;
    char name;
  };
  for (Unit unit : {Unit{1000, 'S'}, Unit{60000, 'M'}, Unit{3600000, 'H'}}) {
    int64_t scaled = value / unit.millis + (value % unit.millis != 0 ? 1 : 0);
    if (scaled <= kMaxValue) return std::to_string(scaled) + unit.name;
  }
  return std::to_string(kMaxValue) + "H";
}

namespace {

}  // namespace

std::string PercentDecode(std::string_view text) { return PercentDecodeLenient(text, false); }

bool GrpcMessageReader::Fail(GrpcCode code, std::string message) {
  error_code_ = code;
  error_message_ = std::move(message);
  current_.clear();
  current_.shrink_to_fit();
  return false;
}

bool GrpcMessageReader::Feed(std::string_view bytes) {
  if (failed()) return false;
  while (!bytes.empty()) {
    if (!in_message_) {
      size_t take = std::min(kGrpcPrefixBytes - prefix_.size(), bytes.size());
      prefix_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (prefix_.size() < kGrpcPrefixBytes) return true;
      const auto* p = reinterpret_cast<const unsigned char*>(prefix_.data());
      uint8_t flags = p[0];
      expected_ = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
      prefix_.clear();
      if (flags & 1) {
        return Fail(GrpcCode::kInternal,
                    "reply message is compressed, but the client offered no compression");
      }
      if (expected_ > max_message_bytes_) {
        return Fail(GrpcCode::kResourceExhausted, "Received message larger than max (" +
                                                      std::to_string(expected_) + " vs. " +
                                                      std::to_string(max_message_bytes_) + ")");
      }
      in_message_ = true;
      current_.clear();
      current_.reserve(expected_);
    }
    size_t take = std::min(expected_ - current_.size(), bytes.size());
    current_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (current_.size() == expected_) {
      messages_.push_back(std::move(current_));
      current_ = std::string();
      in_message_ = false;
    }
  }
  return true;
}

}  // namespace kite::net
