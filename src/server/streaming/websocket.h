// WebSocket (RFC 6455): the opening handshake's key math, a frame encoder and an
// incremental frame parser, and a message-level connection over any byte stream.
//
// What kubectl's streams need and no more: no extensions (permessage-deflate is never
// negotiated, so RSV bits must be zero), text messages are not checked for valid UTF-8.
//
// Frames from a client are masked, frames from a server are not; the parser enforces the
// direction it is told to expect (a violation is a protocol error, as the RFC requires).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::streaming {

enum class WebSocketOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes used here (RFC 6455 section 7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseGoingAway = 1001;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsCloseTooBig = 1009;
inline constexpr uint16_t kWsCloseInternalError = 1011;

// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key: base64(SHA-1(key +
// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string WebSocketAccept(std::string_view client_key);

// A fresh Sec-WebSocket-Key: 16 random bytes, base64.
std::string NewWebSocketKey();

// One frame on the wire. The payload is always the unmasked data.
struct WebSocketFrame {
  bool fin = true;
  WebSocketOpcode opcode = WebSocketOpcode::kBinary;
  bool masked = false;  // decoded frames: whether it arrived masked
  std::string payload;
};

// Encodes one frame; the payload is masked with `mask_key` when one is given (a client's
// frames must be). Lengths use the shortest of the 7-bit, 16-bit and 64-bit forms.
std::string EncodeWebSocketFrame(WebSocketOpcode opcode, std::string_view payload, bool fin,
                                 const std::optional<std::array<uint8_t, 4>>& mask_key);

// Splits a byte stream into frames. Not thread-safe.
class WebSocketFrameParser {
 public:
  // `expect_masked`: true on a server (client frames must be masked), false on a client.
  WebSocketFrameParser(bool expect_masked, size_t max_payload_bytes);

  void Append(std::string_view bytes);
  // The next complete frame, or nullopt when more bytes are needed. kInvalidArgument for a
  // protocol violation (reserved bits set, unknown opcode, fragmented or oversized control
  // frame, masking other than expected, a 64-bit length with its top bit set), and
  // kResourceExhausted for a payload above the limit. After an error the parser is dead.
  Result<std::optional<WebSocketFrame>> Next();

 private:
  const bool expect_masked_;
  const size_t max_payload_;
  std::string buffer_;
  size_t offset_ = 0;  // bytes of buffer_ already consumed
};

struct WebSocketMessage {
  WebSocketOpcode type = WebSocketOpcode::kBinary;  // kText or kBinary
  std::string data;
};

// Messages over a byte stream (an upgraded HTTP connection, a socket).
//
// Operation: Read assembles fragmented messages, answers pings with pongs, drops pongs,
// and on a close frame answers with a close (once) and reports the end. Send* frame the
// data (masked in the client role) and write it at once. The connection is not owned.
//
// Thread-safety: one thread calls Read; any threads may call Send* (serialized inside).
// Limits: a message larger than `max_message_bytes` ends the connection with close code
// 1009. No timeouts: the byte stream's owner bounds idleness and closes it.
class WebSocketConnection {
 public:
  enum class Role { kServer, kClient };

  WebSocketConnection(http::UpgradedConnection& connection, Role role,
                      size_t max_message_bytes = 32 * 1024 * 1024);

  // The next text or binary message. kUnavailable once the connection has ended: the peer
  // sent a close frame (see peer_close_code), the stream ended, or Read failed earlier;
  // kInvalidArgument for a protocol error (a close frame with 1002 was sent);
  // kResourceExhausted for an oversized message (1009 was sent).
  Result<WebSocketMessage> Read();

  bool SendBinary(std::string_view data);
  bool SendText(std::string_view data);
  bool SendPing(std::string_view data = "");
  // Sends a close frame the first time; later calls do nothing and return true.
  bool SendClose(uint16_t code = kWsCloseNormal, std::string_view reason = "");
  // A raw frame, for tests of fragmentation (payload masked in the client role).
  bool SendFrame(WebSocketOpcode opcode, std::string_view payload, bool fin);

  // The status code of the peer's close frame (1005 when it carried none); nullopt before.
  std::optional<uint16_t> peer_close_code() const;
  bool close_sent() const;

 private:
  bool Write(WebSocketOpcode opcode, std::string_view payload, bool fin);

  http::UpgradedConnection& connection_;
  const Role role_;
  const size_t max_message_;
  WebSocketFrameParser parser_;  // used by the reading thread only
  bool ended_ = false;           // reading thread only

  mutable Mutex mu_;
  bool close_sent_ GUARDED_BY(mu_) = false;
  std::optional<uint16_t> peer_close_code_ GUARDED_BY(mu_);
  Mutex write_mu_;  // one frame at a time on the wire
};

// Bytes carried in binary messages: the SPDY-over-WebSocket tunnel that kubectl's
// port-forward opens ("SPDY/3.1+portforward.k8s.io"). Every Write is one binary message;
// Read hands out message bytes as a stream, ignoring message boundaries.
// Thread-safety: one reader and one writer at once, as UpgradedConnection requires. A text
// message or a protocol error ends the stream (Read returns 0).
class WebSocketByteStream final : public http::UpgradedConnection {
 public:
  // `websocket` and the connection below it are not owned and must outlive this.
  WebSocketByteStream(WebSocketConnection& websocket, http::UpgradedConnection& underlying);

  size_t Read(char* buffer, size_t size) override;
  bool Write(std::string_view data) override;
  // Sends a normal close frame and closes the underlying connection.
  void Close() override;

 private:
  WebSocketConnection& websocket_;
  http::UpgradedConnection& underlying_;
  std::string pending_;  // reader thread only
  size_t pending_offset_ = 0;
  bool ended_ = false;
};

}  // namespace kite::streaming
