// SPDY/3.1 framing (the draft-3.1 wire format kubectl, client-go and containerd speak
// through Go's spdystream): frame encoding, an incremental frame parser, and the zlib
// header-block compression with the SPDY/3 dictionary.
//
// Frame layout (all integers big-endian):
//   control: 1 bit C=1 | 15 bits version (3) | 16 bits type | 8 bits flags | 24 bits length
//   data:    1 bit C=0 | 31 bits stream id                  | 8 bits flags | 24 bits length
// Control types: SYN_STREAM 1, SYN_REPLY 2, RST_STREAM 3, SETTINGS 4, PING 6, GOAWAY 7,
// HEADERS 8, WINDOW_UPDATE 9. Flags: FIN 0x01 (data, SYN_STREAM, SYN_REPLY, HEADERS),
// UNIDIRECTIONAL 0x02 (SYN_STREAM).
//
// Header blocks (SYN_STREAM, SYN_REPLY, HEADERS): a 32-bit count, then per header a 32-bit
// length and name, a 32-bit length and value (several values joined by NUL), compressed as
// one zlib stream per direction of a connection, each block ending in a sync flush. The
// compressor and decompressor are primed with the SPDY/3 dictionary (1423 bytes).
//
// Thread-safety: a SpdyFramer or SpdyFrameParser is used by one thread at a time (its zlib
// state follows the connection's byte order).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/status.h"

namespace kite::streaming {

enum class SpdyFrameType : uint16_t {
  kData = 0,  // not a control type: data frames have C=0
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
  kUnknown = 0xFFFF,  // a control type this code does not know (NOOP, CREDENTIAL, ...)
};

inline constexpr uint8_t kSpdyFlagFin = 0x01;
inline constexpr uint8_t kSpdyFlagUnidirectional = 0x02;

// RST_STREAM status codes.
inline constexpr uint32_t kSpdyProtocolError = 1;
inline constexpr uint32_t kSpdyInvalidStream = 2;
inline constexpr uint32_t kSpdyRefusedStream = 3;
inline constexpr uint32_t kSpdyCancel = 5;
inline constexpr uint32_t kSpdyInternalError = 6;
inline constexpr uint32_t kSpdyFlowControlError = 7;

// SETTINGS ids.
inline constexpr uint32_t kSpdySettingsInitialWindowSize = 7;

inline constexpr uint32_t kSpdyMaxDataLength = (1u << 24) - 1;
inline constexpr uint32_t kSpdyInitialWindow = 64 * 1024;

// Header names are lower-case on the wire; a header with several values carries them
// joined by '\0'.
using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of `name` (compared without case), or "" when absent.
std::string_view SpdyHeaderValue(const SpdyHeaders& headers, std::string_view name);

struct SpdySetting {
  uint8_t flags = 0;
  uint32_t id = 0;  // 24 bits
  uint32_t value = 0;
};

// One frame, flattened: which fields matter depends on `type`.
struct SpdyFrame {
  SpdyFrameType type = SpdyFrameType::kData;
  uint16_t raw_type = 0;  // the control type as received (unknown types are reported)
  uint8_t flags = 0;
  uint32_t stream_id = 0;             // data, SYN_*, RST, HEADERS, WINDOW_UPDATE (0 = session)
  uint32_t associated_stream_id = 0;  // SYN_STREAM
  uint8_t priority = 0;               // SYN_STREAM, 0 (highest) .. 7
  SpdyHeaders headers;                // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;                   // data frames
  uint32_t status = 0;                // RST_STREAM and GOAWAY status codes
  uint32_t last_good_stream_id = 0;   // GOAWAY
  uint32_t ping_id = 0;               // PING
  uint32_t delta_window = 0;          // WINDOW_UPDATE
  std::vector<SpdySetting> settings;  // SETTINGS

  bool fin() const { return (flags & kSpdyFlagFin) != 0; }
};

// The SPDY/3 header compression dictionary.
std::string_view SpdyDictionary();

// Encodes frames; owns the sending direction's header compressor.
class SpdyFramer {
 public:
  SpdyFramer();
  ~SpdyFramer();
  SpdyFramer(const SpdyFramer&) = delete;
  SpdyFramer& operator=(const SpdyFramer&) = delete;

  // kInvalidArgument for a frame that cannot be encoded (data above 16 MiB, a stream id
  // above 2^31-1, an unknown type); kInternal if zlib fails.
  Result<std::string> Encode(const SpdyFrame& frame);

  // Convenience constructors for the frames a session sends.
  static SpdyFrame Data(uint32_t stream_id, std::string data, bool fin);
  static SpdyFrame SynStream(uint32_t stream_id, SpdyHeaders headers, bool fin);
  static SpdyFrame SynReply(uint32_t stream_id, SpdyHeaders headers, bool fin);
  static SpdyFrame RstStream(uint32_t stream_id, uint32_t status);
  static SpdyFrame Ping(uint32_t id);
  static SpdyFrame GoAway(uint32_t last_good_stream_id, uint32_t status);
  static SpdyFrame WindowUpdate(uint32_t stream_id, uint32_t delta);

 private:
  Result<std::string> CompressHeaders(const SpdyHeaders& headers);
  z_stream deflate_{};
  bool deflate_ready_ = false;
};

// Splits a byte stream into frames; owns the receiving direction's header decompressor.
class SpdyFrameParser {
 public:
  // Header blocks may not inflate beyond `max_header_bytes`.
  explicit SpdyFrameParser(size_t max_header_bytes = 1024 * 1024);
  ~SpdyFrameParser();
  SpdyFrameParser(const SpdyFrameParser&) = delete;
  SpdyFrameParser& operator=(const SpdyFrameParser&) = delete;

  void Append(std::string_view bytes);
  // The next complete frame, nullopt when more bytes are needed. kInvalidArgument for a
  // malformed frame (wrong version, bad length for its type, a header block that does not
  // inflate or parse); the connection cannot continue after that (the zlib state is lost).
  // Control frames of unknown types come back as kUnknown with raw_type set (SPDY says to
  // ignore them).
  Result<std::optional<SpdyFrame>> Next();

 private:
  Result<SpdyHeaders> DecompressHeaders(std::string_view block);

  const size_t max_header_bytes_;
  std::string buffer_;
  size_t offset_ = 0;
  z_stream inflate_{};
  bool inflate_ready_ = false;
};

// Encodes / decodes an uncompressed header block (exposed for tests).
std::string EncodeSpdyHeaderBlock(const SpdyHeaders& headers);
Result<SpdyHeaders> DecodeSpdyHeaderBlock(std::string_view block);

}  // namespace kite::streaming
