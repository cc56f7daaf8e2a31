#include "src/server/streaming/websocket.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "src/base/base64.h"

namespace kite::streaming {
namespace {

constexpr char kAcceptGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::array<uint8_t, 4> RandomMask() {
  std::array<uint8_t, 4> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    // Masking only defeats cache poisoning by proxies; a weak key is not a safety issue
    // for a loopback peer, but keep it varying.
    thread_local uint32_t counter = 0x9e3779b9;
    counter = counter * 1664525u + 1013904223u;
    std::memcpy(key.data(), &counter, 4);
  }
  return key;
}

bool IsControl(WebSocketOpcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

}  // namespace

std::string WebSocketAccept(std::string_view client_key) {
  std::string input(client_key);
  input += kAcceptGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), digest_size));
}

std::string NewWebSocketKey() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    for (size_t i = 0; i < sizeof(raw); ++i) raw[i] = static_cast<unsigned char>(i * 37 + 11);
  }
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof(raw)));
}

std::string EncodeWebSocketFrame(WebSocketOpcode opcode, std::string_view payload, bool fin,
                                 const std::optional<std::array<uint8_t, 4>>& mask_key) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
  uint8_t mask_bit = mask_key ? 0x80 : 0x00;
  uint64_t size = payload.size();
  if (size < 126) {
    out.push_back(static_cast<char>(mask_bit | size));
  } else if (size <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((size >> shift) & 0xFF));
    }
  }
  if (!mask_key) {
    out.append(payload);
    return out;
  }
  out.append(reinterpret_cast<const char*>(mask_key->data()), 4);
  size_t start = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) out[start + i] ^= static_cast<char>((*mask_key)[i % 4]);
  return out;
}

WebSocketFrameParser::WebSocketFrameParser(bool expect_masked, size_t max_payload_bytes)
    : expect_masked_(expect_masked), max_payload_(max_payload_bytes) {}

void WebSocketFrameParser::Append(std::string_view bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<WebSocketFrame>> WebSocketFrameParser::Next() {
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data()) + offset_;
  size_t available = buffer_.size() - offset_;
  if (available < 2) return std::optional<WebSocketFrame>();
  uint8_t b0 = p[0], b1 = p[1];
  if ((b0 & 0x70) != 0) {
    return InvalidArgumentError("WebSocket frame with reserved bits set (no extension was "
                                "negotiated)");
  }
  auto opcode = static_cast<WebSocketOpcode>(b0 & 0x0F);
  switch (opcode) {
    case WebSocketOpcode::kContinuation:
    case WebSocketOpcode::kText:
    case WebSocketOpcode::kBinary:
    case WebSocketOpcode::kClose:
    case WebSocketOpcode::kPing:
    case WebSocketOpcode::kPong:
      break;
    default:
      return InvalidArgumentError("WebSocket frame with unknown opcode " +
                                  std::to_string(b0 & 0x0F));
  }
  bool fin = (b0 & 0x80) != 0;
  bool masked = (b1 & 0x80) != 0;
  if (masked != expect_masked_) {
    return InvalidArgumentError(expect_masked_ ? "WebSocket frame from a client is not masked"
                                               : "WebSocket frame from a server is masked");
  }
  uint64_t length = b1 & 0x7F;
  size_t header = 2;
  if (length == 126) {
    if (available < 4) return std::optional<WebSocketFrame>();
    length = (uint64_t{p[2]} << 8) | p[3];
    header = 4;
  } else if (length == 127) {
    if (available < 10) return std::optional<WebSocketFrame>();
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
    if (length >> 63) return InvalidArgumentError("WebSocket frame length has its top bit set");
    header = 10;
  }
  if (IsControl(opcode) && (!fin || length > 125)) {
    return InvalidArgumentError("WebSocket control frame is fragmented or longer than 125 bytes");
  }
  if (length > max_payload_) {
    return ResourceExhaustedError("WebSocket frame of " + std::to_string(length) +
                                  " bytes exceeds the limit of " + std::to_string(max_payload_));
  }
  size_t mask_size = masked ? 4 : 0;
  if (available < header + mask_size + length) return std::optional<WebSocketFrame>();
  WebSocketFrame frame;
  frame.fin = fin;
  frame.opcode = opcode;
  frame.masked = masked;
  const uint8_t* data = p + header + mask_size;
  frame.payload.assign(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  if (masked) {
    const uint8_t* key = p + header;
    for (size_t i = 0; i < frame.payload.size(); ++i) {
      frame.payload[i] = static_cast<char>(static_cast<uint8_t>(frame.payload[i]) ^ key[i % 4]);
    }
  }
  offset_ += header + mask_size + static_cast<size_t>(length);
  if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return std::optional<WebSocketFrame>(std::move(frame));
}

WebSocketConnection::WebSocketConnection(http::UpgradedConnection& connection, Role role,
                                         size_t max_message_bytes)
    : connection_(connection),
      role_(role),
      max_message_(max_message_bytes),
      parser_(role == Role::kServer, max_message_bytes) {}

Result<WebSocketMessage> WebSocketConnection::Read() {
  if (ended_) return UnavailableError("the WebSocket connection has ended");
  std::optional<WebSocketOpcode> type;  // of the message being assembled
  std::string message;
  char chunk[16 * 1024];
  while (true) {
    Result<std::optional<WebSocketFrame>> next = parser_.Next();
    if (!next.ok()) {
      ended_ = true;
      bool too_big = next.status().code() == StatusCode::kResourceExhausted;
      (void)SendClose(too_big ? kWsCloseTooBig : kWsCloseProtocolError);
      return next.status();
    }
    if (!next->has_value()) {
      size_t n = connection_.Read(chunk, sizeof(chunk));
      if (n == 0) {
        ended_ = true;
        return UnavailableError("the WebSocket connection ended without a close frame");
      }
      parser_.Append(std::string_view(chunk, n));
      continue;
    }
    WebSocketFrame& frame = **next;
    switch (frame.opcode) {
      case WebSocketOpcode::kPing:
        (void)Write(WebSocketOpcode::kPong, frame.payload, true);
        continue;
      case WebSocketOpcode::kPong:
        continue;
      case WebSocketOpcode::kClose: {
        uint16_t code = 1005;  // "no status received"
        if (frame.payload.size() >= 2) {
          code = static_cast<uint16_t>((static_cast<uint8_t>(frame.payload[0]) << 8) |
                                       static_cast<uint8_t>(frame.payload[1]));
        }
        {
          MutexLock lock(mu_);
          peer_close_code_ = code;
        }
        (void)SendClose(code == 1005 ? kWsCloseNormal : code);
        ended_ = true;
        return UnavailableError("the peer closed the WebSocket connection (code " +
                                std::to_string(code) + ")");
      }
      case WebSocketOpcode::kText:
      case WebSocketOpcode::kBinary:
        if (type) {
          ended_ = true;
          (void)SendClose(kWsCloseProtocolError);
          return InvalidArgumentError("a new WebSocket message began inside a fragmented one");
        }
        type = frame.opcode;
        message = std::move(frame.payload);
        break;
      case WebSocketOpcode::kContinuation:
        if (!type) {
          ended_ = true;
          (void)SendClose(kWsCloseProtocolError);
          return InvalidArgumentError("a WebSocket continuation frame without a message");
        }
        if (message.size() + frame.payload.size() > max_message_) {
          ended_ = true;
          (void)SendClose(kWsCloseTooBig);
          return ResourceExhaustedError("WebSocket message exceeds " +
                                        std::to_string(max_message_) + " bytes");
        }
        message += frame.payload;
        break;
    }
    if (frame.fin) return WebSocketMessage{*type, std::move(message)};
  }
}

bool WebSocketConnection::Write(WebSocketOpcode opcode, std::string_view payload, bool fin) {
  std::optional<std::array<uint8_t, 4>> mask;
  if (role_ == Role::kClient) mask = RandomMask();
  std::string frame = EncodeWebSocketFrame(opcode, payload, fin, mask);
  MutexLock lock(write_mu_);
  return connection_.Write(frame);
}

bool WebSocketConnection::SendBinary(std::string_view data) {
  return Write(WebSocketOpcode::kBinary, data, true);
}

bool WebSocketConnection::SendText(std::string_view data) {
  return Write(WebSocketOpcode::kText, data, true);
}

bool WebSocketConnection::SendPing(std::string_view data) {
  return Write(WebSocketOpcode::kPing, data.substr(0, 125), true);
}

bool WebSocketConnection::SendFrame(WebSocketOpcode opcode, std::string_view payload, bool fin) {
  return Write(opcode, payload, fin);
}

bool WebSocketConnection::SendClose(uint16_t code, std::string_view reason) {
  {
    MutexLock lock(mu_);
    if (close_sent_) return true;
    close_sent_ = true;
  }
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  return Write(WebSocketOpcode::kClose, payload, true);
}

std::optional<uint16_t> WebSocketConnection::peer_close_code() const {
  MutexLock lock(mu_);
  return peer_close_code_;
}

bool WebSocketConnection::close_sent() const {
  MutexLock lock(mu_);
  return close_sent_;
}

WebSocketByteStream::WebSocketByteStream(WebSocketConnection& websocket,
                                         http::UpgradedConnection& underlying)
    : websocket_(websocket), underlying_(underlying) {}

size_t WebSocketByteStream::Read(char* buffer, size_t size) {
  while (pending_offset_ >= pending_.size()) {
    if (ended_) return 0;
    Result<WebSocketMessage> message = websocket_.Read();
    if (!message.ok() || message->type != WebSocketOpcode::kBinary) {
      ended_ = true;
      return 0;
    }
    pending_ = std::move(message->data);
    pending_offset_ = 0;
  }
  size_t n = std::min(size, pending_.size() - pending_offset_);
  std::memcpy(buffer, pending_.data() + pending_offset_, n);
  pending_offset_ += n;
  return n;
}

bool WebSocketByteStream::Write(std::string_view data) { return websocket_.SendBinary(data); }

void WebSocketByteStream::Close() {
  (void)websocket_.SendClose(kWsCloseNormal);
  underlying_.Close();
}

}  // namespace kite::streaming
