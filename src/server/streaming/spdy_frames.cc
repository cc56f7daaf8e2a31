#include "src/server/streaming/spdy_frames.h"

#include <cctype>
#include <cstring>

namespace kite::streaming {
namespace {

constexpr uint16_t kSpdyVersion = 3;

// The SPDY/3 dictionary: length-prefixed header names and common values, then a run of
// status codes, reason phrases, dates and content types (draft 3, section 2.6.10.1).
std::string BuildDictionary() {
  static const char* const kWords[] = {
      "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
      "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
      "cache-control", "connection", "content-base", "content-encoding", "content-language",
      "content-length", "content-location", "content-md5", "content-range", "content-type",
      "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
      "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
      "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range",
      "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
      "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status",
      "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"};
  std::string dict;
  for (const char* word : kWords) {
    uint32_t n = static_cast<uint32_t>(std::strlen(word));
    dict.push_back(static_cast<char>(n >> 24));
    dict.push_back(static_cast<char>(n >> 16));
    dict.push_back(static_cast<char>(n >> 8));
    dict.push_back(static_cast<char>(n));
    dict += word;
  }
  dict +=
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502"
      "504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
      "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
      "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
      "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
      "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
      "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8"
      "charset=iso-8859-1,utf-,*,enq=0.";
  return dict;
}

void Put32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t Get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void PutControlHeader(std::string& out, SpdyFrameType type, uint8_t flags, uint32_t length) {
  out.push_back(static_cast<char>(0x80 | (kSpdyVersion >> 8)));
  out.push_back(static_cast<char>(kSpdyVersion & 0xFF));
  uint16_t t = static_cast<uint16_t>(type);
  out.push_back(static_cast<char>(t >> 8));
  out.push_back(static_cast<char>(t & 0xFF));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(length >> 16));
  out.push_back(static_cast<char>(length >> 8));
  out.push_back(static_cast<char>(length));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view SpdyDictionary() {
  static const std::string dict = BuildDictionary();
  return dict;
}

std::string_view SpdyHeaderValue(const SpdyHeaders& headers, std::string_view name) {
  std::string wanted = Lower(name);
  for (const auto& [n, v] : headers) {
    if (Lower(n) == wanted) return v;
  }
  return {};
}

std::string EncodeSpdyHeaderBlock(const SpdyHeaders& headers) {
  std::string out;
  Put32(out, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    std::string lower = Lower(name);
    Put32(out, static_cast<uint32_t>(lower.size()));
    out += lower;
    Put32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  return out;
}

Result<SpdyHeaders> DecodeSpdyHeaderBlock(std::string_view block) {
  const auto* p = reinterpret_cast<const uint8_t*>(block.data());
  size_t size = block.size();
  if (size < 4) return InvalidArgumentError("SPDY header block is shorter than its count");
  uint32_t count = Get32(p);
  size_t pos = 4;
  // Each header takes at least 8 bytes, which bounds the count by the block's size.
  if (count > (size - 4) / 8) {
    return InvalidArgumentError("SPDY header block claims " + std::to_string(count) +
                                " headers in " + std::to_string(size) + " bytes");
  }
  SpdyHeaders headers;
  headers.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string parts[2];
    for (std::string& part : parts) {
      if (size - pos < 4) return InvalidArgumentError("SPDY header block is truncated");
      uint32_t n = Get32(p + pos);
      pos += 4;
      if (n > size - pos) return InvalidArgumentError("SPDY header block is truncated");
      part.assign(block.data() + pos, n);
      pos += n;
    }
    if (parts[0].empty()) return InvalidArgumentError("SPDY header with an empty name");
    headers.emplace_back(std::move(parts[0]), std::move(parts[1]));
  }
  return headers;
}

SpdyFramer::SpdyFramer() {
  if (deflateInit(&deflate_, Z_BEST_COMPRESSION) == Z_OK) {
    std::string_view dict = SpdyDictionary();
    deflate_ready_ = deflateSetDictionary(&deflate_, reinterpret_cast<const Bytef*>(dict.data()),
                                          static_cast<uInt>(dict.size())) == Z_OK;
  }
}

SpdyFramer::~SpdyFramer() { deflateEnd(&deflate_); }

Result<std::string> SpdyFramer::CompressHeaders(const SpdyHeaders& headers) {
  if (!deflate_ready_) return InternalError("zlib deflate could not be set up");
  std::string block = EncodeSpdyHeaderBlock(headers);
  deflate_.next_in = reinterpret_cast<Bytef*>(block.data());
  deflate_.avail_in = static_cast<uInt>(block.size());
  std::string out;
  char chunk[4096];
  do {
    deflate_.next_out = reinterpret_cast<Bytef*>(chunk);
    deflate_.avail_out = sizeof(chunk);
    int rc = deflate(&deflate_, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return InternalError("zlib deflate failed: " + std::to_string(rc));
    }
    out.append(chunk, sizeof(chunk) - deflate_.avail_out);
  } while (deflate_.avail_out == 0);
  return out;
}

Result<std::string> SpdyFramer::Encode(const SpdyFrame& frame) {
  if (frame.stream_id > 0x7FFFFFFF || frame.associated_stream_id > 0x7FFFFFFF) {
    return InvalidArgumentError("SPDY stream id above 2^31-1");
  }
  std::string out;
  switch (frame.type) {
    case SpdyFrameType::kData: {
      if (frame.data.size() > kSpdyMaxDataLength) {
        return InvalidArgumentError("SPDY data frame above 16 MiB");
      }
      Put32(out, frame.stream_id);
      out.push_back(static_cast<char>(frame.flags));
      uint32_t n = static_cast<uint32_t>(frame.data.size());
      out.push_back(static_cast<char>(n >> 16));
      out.push_back(static_cast<char>(n >> 8));
      out.push_back(static_cast<char>(n));
      out += frame.data;
      return out;
    }
    case SpdyFrameType::kSynStream: {
      Result<std::string> block = CompressHeaders(frame.headers);
      if (!block.ok()) return block.status();
      PutControlHeader(out, frame.type, frame.flags, static_cast<uint32_t>(10 + block->size()));
      Put32(out, frame.stream_id);
      Put32(out, frame.associated_stream_id);
      out.push_back(static_cast<char>((frame.priority & 0x7) << 5));
      out.push_back(0);  // slot
      out += *block;
      return out;
    }
    case SpdyFrameType::kSynReply:
    case SpdyFrameType::kHeaders: {
      Result<std::string> block = CompressHeaders(frame.headers);
      if (!block.ok()) return block.status();
      PutControlHeader(out, frame.type, frame.flags, static_cast<uint32_t>(4 + block->size()));
      Put32(out, frame.stream_id);
      out += *block;
      return out;
    }
    case SpdyFrameType::kRstStream:
      PutControlHeader(out, frame.type, 0, 8);
      Put32(out, frame.stream_id);
      Put32(out, frame.status);
      return out;
    case SpdyFrameType::kSettings:
      PutControlHeader(out, frame.type, frame.flags,
                       static_cast<uint32_t>(4 + 8 * frame.settings.size()));
      Put32(out, static_cast<uint32_t>(frame.settings.size()));
      for (const SpdySetting& s : frame.settings) {
        Put32(out, (uint32_t{s.flags} << 24) | (s.id & 0xFFFFFF));
        Put32(out, s.value);
      }
      return out;
    case SpdyFrameType::kPing:
      PutControlHeader(out, frame.type, 0, 4);
      Put32(out, frame.ping_id);
      return out;
    case SpdyFrameType::kGoAway:
      PutControlHeader(out, frame.type, 0, 8);
      Put32(out, frame.last_good_stream_id & 0x7FFFFFFF);
      Put32(out, frame.status);
      return out;
    case SpdyFrameType::kWindowUpdate:
      PutControlHeader(out, frame.type, 0, 8);
      Put32(out, frame.stream_id);
      Put32(out, frame.delta_window & 0x7FFFFFFF);
      return out;
    case SpdyFrameType::kUnknown:
      break;
  }
  return InvalidArgumentError("cannot encode a SPDY frame of unknown type");
}

SpdyFrame SpdyFramer::Data(uint32_t stream_id, std::string data, bool fin) {
  SpdyFrame f;
  f.type = SpdyFrameType::kData;
  f.stream_id = stream_id;
  f.data = std::move(data);
  f.flags = fin ? kSpdyFlagFin : 0;
  return f;
}

SpdyFrame SpdyFramer::SynStream(uint32_t stream_id, SpdyHeaders headers, bool fin) {
  SpdyFrame f;
  f.type = SpdyFrameType::kSynStream;
  f.stream_id = stream_id;
  f.headers = std::move(headers);
  f.flags = fin ? kSpdyFlagFin : 0;
  return f;
}

SpdyFrame SpdyFramer::SynReply(uint32_t stream_id, SpdyHeaders headers, bool fin) {
  SpdyFrame f;
  f.type = SpdyFrameType::kSynReply;
  f.stream_id = stream_id;
  f.headers = std::move(headers);
  f.flags = fin ? kSpdyFlagFin : 0;
  return f;
}

SpdyFrame SpdyFramer::RstStream(uint32_t stream_id, uint32_t status) {
  SpdyFrame f;
  f.type = SpdyFrameType::kRstStream;
  f.stream_id = stream_id;
  f.status = status;
  return f;
}

SpdyFrame SpdyFramer::Ping(uint32_t id) {
  SpdyFrame f;
  f.type = SpdyFrameType::kPing;
  f.ping_id = id;
  return f;
}

SpdyFrame SpdyFramer::GoAway(uint32_t last_good_stream_id, uint32_t status) {
  SpdyFrame f;
  f.type = SpdyFrameType::kGoAway;
  f.last_good_stream_id = last_good_stream_id;
  f.status = status;
  return f;
}

SpdyFrame SpdyFramer::WindowUpdate(uint32_t stream_id, uint32_t delta) {
  SpdyFrame f;
  f.type = SpdyFrameType::kWindowUpdate;
  f.stream_id = stream_id;
  f.delta_window = delta;
  return f;
}

SpdyFrameParser::SpdyFrameParser(size_t max_header_bytes) : max_header_bytes_(max_header_bytes) {
  inflate_ready_ = inflateInit(&inflate_) == Z_OK;
}

SpdyFrameParser::~SpdyFrameParser() { inflateEnd(&inflate_); }

void SpdyFrameParser::Append(std::string_view bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.append(bytes);
}

Result<SpdyHeaders> SpdyFrameParser::DecompressHeaders(std::string_view block) {
  if (!inflate_ready_) return InternalError("zlib inflate could not be set up");
  inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  inflate_.avail_in = static_cast<uInt>(block.size());
  std::string out;
  char chunk[4096];
  while (true) {
    inflate_.next_out = reinterpret_cast<Bytef*>(chunk);
    inflate_.avail_out = sizeof(chunk);
    int rc = inflate(&inflate_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      std::string_view dict = SpdyDictionary();
      if (inflateSetDictionary(&inflate_, reinterpret_cast<const Bytef*>(dict.data()),
                               static_cast<uInt>(dict.size())) != Z_OK) {
        return InvalidArgumentError("SPDY header block uses a dictionary other than SPDY/3's");
      }
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return InvalidArgumentError("SPDY header block does not inflate (zlib error " +
                                  std::to_string(rc) + ")");
    }
    out.append(chunk, sizeof(chunk) - inflate_.avail_out);
    if (out.size() > max_header_bytes_) {
      return InvalidArgumentError("SPDY header block inflates beyond " +
                                  std::to_string(max_header_bytes_) + " bytes");
    }
    if (inflate_.avail_in == 0 && inflate_.avail_out != 0) break;
    if (rc == Z_BUF_ERROR && inflate_.avail_out != 0) {
      return InvalidArgumentError("SPDY header block is truncated");
    }
  }
  return DecodeSpdyHeaderBlock(out);
}

Result<std::optional<SpdyFrame>> SpdyFrameParser::Next() {
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data()) + offset_;
  size_t available = buffer_.size() - offset_;
  if (available < 8) return std::optional<SpdyFrame>();
  uint32_t length = (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7];
  if (available < 8 + size_t{length}) return std::optional<SpdyFrame>();
  const uint8_t* body = p + 8;
  SpdyFrame frame;
  frame.flags = p[4];
  auto consume = [&] {
    offset_ += 8 + length;
    if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
  };
  if ((p[0] & 0x80) == 0) {
    frame.type = SpdyFrameType::kData;
    frame.stream_id = Get32(p) & 0x7FFFFFFF;
    frame.data.assign(reinterpret_cast<const char*>(body), length);
    consume();
    return std::optional<SpdyFrame>(std::move(frame));
  }
  uint16_t version = static_cast<uint16_t>(((p[0] & 0x7F) << 8) | p[1]);
  if (version != kSpdyVersion) {
    return InvalidArgumentError("SPDY frame of version " + std::to_string(version) +
                                " (only 3 is spoken)");
  }
  frame.raw_type = static_cast<uint16_t>((p[2] << 8) | p[3]);
  std::string_view rest(reinterpret_cast<const char*>(body), length);
  auto bad_length = [&](const char* what) {
    return InvalidArgumentError(std::string("SPDY ") + what + " frame with bad length " +
                                std::to_string(length));
  };
  switch (frame.raw_type) {
    case 1: {  // SYN_STREAM
      if (length < 10) return bad_length("SYN_STREAM");
      frame.type = SpdyFrameType::kSynStream;
      frame.stream_id = Get32(body) & 0x7FFFFFFF;
      frame.associated_stream_id = Get32(body + 4) & 0x7FFFFFFF;
      frame.priority = static_cast<uint8_t>(body[8] >> 5);
      Result<SpdyHeaders> headers = DecompressHeaders(rest.substr(10));
      if (!headers.ok()) return headers.status();
      frame.headers = std::move(*headers);
      break;
    }
    case 2:    // SYN_REPLY
    case 8: {  // HEADERS
      if (length < 4) return bad_length(frame.raw_type == 2 ? "SYN_REPLY" : "HEADERS");
      frame.type = frame.raw_type == 2 ? SpdyFrameType::kSynReply : SpdyFrameType::kHeaders;
      frame.stream_id = Get32(body) & 0x7FFFFFFF;
      Result<SpdyHeaders> headers = DecompressHeaders(rest.substr(4));
      if (!headers.ok()) return headers.status();
      frame.headers = std::move(*headers);
      break;
    }
    case 3:  // RST_STREAM
      if (length != 8) return bad_length("RST_STREAM");
      frame.type = SpdyFrameType::kRstStream;
      frame.stream_id = Get32(body) & 0x7FFFFFFF;
      frame.status = Get32(body + 4);
      break;
    case 4: {  // SETTINGS
      if (length < 4) return bad_length("SETTINGS");
      uint32_t count = Get32(body);
      if (size_t{length} != 4 + 8 * size_t{count}) return bad_length("SETTINGS");
      frame.type = SpdyFrameType::kSettings;
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t flags_id = Get32(body + 4 + 8 * i);
        frame.settings.push_back(SpdySetting{static_cast<uint8_t>(flags_id >> 24),
                                             flags_id & 0xFFFFFF, Get32(body + 8 + 8 * i)});
      }
      break;
    }
    case 6:  // PING
      if (length != 4) return bad_length("PING");
      frame.type = SpdyFrameType::kPing;
      frame.ping_id = Get32(body);
      break;
    case 7:  // GOAWAY (SPDY/3 carries a status; tolerate the 4-byte SPDY/2 form)
      if (length != 8 && length != 4) return bad_length("GOAWAY");
      frame.type = SpdyFrameType::kGoAway;
      frame.last_good_stream_id = Get32(body) & 0x7FFFFFFF;
      frame.status = length == 8 ? Get32(body + 4) : 0;
      break;
    case 9:  // WINDOW_UPDATE
      if (length != 8) return bad_length("WINDOW_UPDATE");
      frame.type = SpdyFrameType::kWindowUpdate;
      frame.stream_id = Get32(body) & 0x7FFFFFFF;
      frame.delta_window = Get32(body + 4) & 0x7FFFFFFF;
      break;
    default:
      frame.type = SpdyFrameType::kUnknown;
      break;
  }
  consume();
  return std::optional<SpdyFrame>(std::move(frame));
}

}  // namespace kite::streaming
