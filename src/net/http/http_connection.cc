#include "src/net/http/http_connection.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <vector>

#include "src/net/http/url.h"

namespace kite::net::http {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxChunkLine = 4 * 1024;

// RFC 9110 token characters (method and header names).
bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

bool HasCrLfOrNul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Quoted for an error message, cut short: a garbage answer may be long and binary.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 64)) {
    out += std::isprint(static_cast<unsigned char>(c)) && c != '"' ? c : '?';
  }
  return out + (s.size() > 64 ? "...\"" : "\"");
}

Result<uint64_t> ParseDecimal(std::string_view s) {
  s = TrimSpace(s);
  if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return UnavailableError("invalid Content-Length " + Quote(s));
  }
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

}  // namespace

HttpConnection::HttpConnection(HttpConnectionOptions options) : options_(std::move(options)), stream_(options_.socket) {}

HttpConnection::~HttpConnection() = default;

Status HttpConnection::Fail(Status status) {
  state_ = State::kBroken;
  return status;
}

Status HttpConnection::Connect(Deadline deadline) {
  Status s = stream_.Connect(deadline);
  return s.ok() ? s : Fail(std::move(s));
}

Status HttpConnection::WriteRequest(const HttpRequest& request, Deadline deadline) {
  if (state_ != State::kIdle) return InternalError("HTTP connection: a request is already in progress or the connection failed");
  if (!IsToken(request.method)) return InvalidArgumentError("invalid HTTP method " + Quote(request.method));
  if (request.target.empty() || request.target.find_first_of(std::string_view(" \r\n\0", 4)) != std::string::npos) {
    return InvalidArgumentError("invalid request target " + Quote(request.target));
  }
  for (const auto& [name, value] : request.headers.entries()) {
    if (!IsToken(name)) return InvalidArgumentError("invalid header name " + Quote(name));
    if (HasCrLfOrNul(value)) return InvalidArgumentError("invalid value for header " + Quote(name));
  }
  std::string out;
  out.reserve(256 + request.body.size());
  out += request.method + " " + request.target + " HTTP/1.1\r\n";
  if (!request.headers.Has("Host")) {
    Url where;
    where.host = options_.socket.host;
    where.port = options_.socket.port;
    int default_port = options_.socket.tls ? 443 : 80;
    where.port_given = where.port != default_port;
    out += "Host: " + where.Authority() + "\r\n";
  }
  for (const auto& [name, value] : request.headers.entries()) out += name + ": " + value + "\r\n";
  bool wants_length = !request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (wants_length && !request.headers.Has("Content-Length")) {
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += request.body;
  response_started_ = false;
  head_request_ = request.method == "HEAD";
  state_ = State::kAwaitingHead;
  Status written = stream_.WriteAll(out, deadline);
  return written.ok() ? written : Fail(std::move(written));
}

Result<size_t> HttpConnection::Fill(Deadline deadline) {
  if (in_pos_ > 0 && in_pos_ * 2 >= in_.size()) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  size_t old = in_.size();
  in_.resize(old + kReadChunk);
  Result<size_t> got = stream_.ReadSome(in_.data() + old, kReadChunk, deadline);
  in_.resize(old + (got.ok() ? *got : 0));
  if (got.ok() && *got > 0) response_started_ = true;
  return got;
}

Result<size_t> HttpConnection::ReadRaw(char* buf, size_t n, Deadline deadline) {
  if (in_pos_ < in_.size()) {
    size_t k = std::min(n, in_.size() - in_pos_);
    std::memcpy(buf, in_.data() + in_pos_, k);
    in_pos_ += k;
    return k;
  }
  return stream_.ReadSome(buf, n, deadline);
}

Result<std::string> HttpConnection::ReadLine(size_t max, Deadline deadline) {
  size_t searched = in_pos_;
  while (true) {
    size_t nl = in_.find('\n', searched);
    if (nl != std::string::npos) {
      std::string line = in_.substr(in_pos_, nl - in_pos_);
      in_pos_ = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > max) return UnavailableError("response line longer than " + std::to_string(max) + " bytes");
      return line;
    }
    if (in_.size() - in_pos_ > max) return UnavailableError("response line longer than " + std::to_string(max) + " bytes");
    size_t consumed = in_pos_;
    searched = in_.size();
    Result<size_t> got = Fill(deadline);
    if (!got.ok()) return got.status();
    searched -= consumed - in_pos_;  // Fill may have moved the unread bytes to the front
    if (*got == 0) {
      bool nothing = state_ == State::kAwaitingHead && !response_started_;
      return UnavailableError(nothing ? "EOF" : "unexpected EOF");
    }
  }
}

Result<ResponseHead> HttpConnection::ReadResponseHead(Deadline deadline) {
  if (state_ != State::kAwaitingHead) return InternalError("HTTP connection: no request awaits a response");
  while (true) {
    ResponseHead head;
    size_t budget = options_.max_header_bytes;
    Result<std::string> status_line = ReadLine(budget, deadline);
    if (!status_line.ok()) return Fail(status_line.status());
    budget -= std::min(budget, status_line->size() + 2);
    const std::string& line = *status_line;
    // "HTTP/1.1 200 OK"
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || !std::isdigit(static_cast<unsigned char>(line[7])) ||
        line[8] != ' ' || !std::all_of(line.begin() + 9, line.begin() + 12, [](char c) { return c >= '0' && c <= '9'; }) ||
        (line.size() > 12 && line[12] != ' ') || line[9] == '0') {
      return Fail(UnavailableError("malformed HTTP response " + Quote(line)));
    }
    head.minor_version = line[7] - '0';
    head.status = std::stoi(line.substr(9, 3));
    head.reason = line.size() > 13 ? line.substr(13) : "";
    while (true) {
      Result<std::string> field = ReadLine(budget, deadline);
      if (!field.ok()) {
        if (field.status().message().starts_with("response line longer")) {
          return Fail(UnavailableError("response head larger than " + std::to_string(options_.max_header_bytes) + " bytes"));
        }
        return Fail(field.status());
      }
      if (field->empty()) break;
      budget -= std::min(budget, field->size() + 2);
      size_t colon = field->find(':');
      if (colon == std::string::npos || !IsToken(std::string_view(*field).substr(0, colon))) {
        return Fail(UnavailableError("malformed MIME header line: " + Quote(*field)));
      }
      head.headers.Add(field->substr(0, colon), std::string(TrimSpace(std::string_view(*field).substr(colon + 1))));
    }
    if (head.status >= 100 && head.status < 200 && head.status != 101) continue;  // interim answer
    KITE_RETURN_IF_ERROR(ParseFraming(head));
    return head;
  }
}

Status HttpConnection::ParseFraming(const ResponseHead& head) {
  close_ = head.headers.HasToken("Connection", "close") ||
           (head.minor_version == 0 && !head.headers.HasToken("Connection", "keep-alive"));
  remaining_ = 0;
  chunk_state_ = ChunkState::kSize;
  if (head_request_ || (head.status >= 100 && head.status < 200) || head.status == 204 || head.status == 304) {
    framing_ = Framing::kNone;
    if (head.status == 101) close_ = true;  // the connection now speaks another protocol
    FinishBody();
    return Status();
  }
  std::vector<std::string> codings = head.headers.GetAll("Transfer-Encoding");
  if (!codings.empty()) {
    std::string_view last = codings.back();
    last = TrimSpace(last.substr(last.rfind(',') == std::string_view::npos ? 0 : last.rfind(',') + 1));
    framing_ = EqualsIgnoreCase(last, "chunked") ? Framing::kChunked : Framing::kUntilClose;
    if (framing_ == Framing::kUntilClose) close_ = true;
    state_ = State::kBody;
    return Status();
  }
  std::vector<std::string> lengths = head.headers.GetAll("Content-Length");
  if (!lengths.empty()) {
    std::optional<uint64_t> length;
    for (const std::string& value : lengths) {
      std::string_view rest = value;
      while (true) {  // "5, 5" is allowed, "5, 6" is not
        size_t comma = rest.find(',');
        Result<uint64_t> n = ParseDecimal(rest.substr(0, comma));
        if (!n.ok()) return Fail(n.status());
        if (length && *length != *n) return Fail(UnavailableError("conflicting Content-Length values"));
        length = *n;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
    framing_ = Framing::kLength;
    remaining_ = *length;
    if (remaining_ == 0) {
      FinishBody();
    } else {
      state_ = State::kBody;
    }
    return Status();
  }
  framing_ = Framing::kUntilClose;
  close_ = true;
  state_ = State::kBody;
  return Status();
}

void HttpConnection::FinishBody() {
  framing_ = Framing::kNone;
  state_ = State::kIdle;
}

Status HttpConnection::ReadTrailers(Deadline deadline) {
  size_t budget = options_.max_header_bytes;
  while (true) {
    Result<std::string> line = ReadLine(budget, deadline);
    if (!line.ok()) return line.status();
    if (line->empty()) return Status();
    budget -= std::min(budget, line->size() + 2);
  }
}

Result<size_t> HttpConnection::ReadBodySome(char* buf, size_t n, Deadline deadline) {
  if (state_ == State::kIdle) return size_t{0};  // the body ended (or there was none)
  if (state_ != State::kBody) return InternalError("HTTP connection: no response body to read");
  if (n == 0) return size_t{0};
  switch (framing_) {
    case Framing::kNone:
      return size_t{0};
    case Framing::kLength: {
      Result<size_t> got = ReadRaw(buf, static_cast<size_t>(std::min<uint64_t>(n, remaining_)), deadline);
      if (!got.ok()) return Fail(got.status());
      if (*got == 0) return Fail(UnavailableError("unexpected EOF"));
      remaining_ -= *got;
      if (remaining_ == 0) FinishBody();
      return got;
    }
    case Framing::kUntilClose: {
      Result<size_t> got = ReadRaw(buf, n, deadline);
      if (!got.ok()) return Fail(got.status());
      if (*got == 0) {
        FinishBody();
        close_ = true;
      }
      return got;
    }
    case Framing::kChunked:
      break;
  }
  while (true) {
    if (chunk_state_ == ChunkState::kDataEnd) {
      Result<std::string> end = ReadLine(kMaxChunkLine, deadline);
      if (!end.ok()) return Fail(end.status());
      if (!end->empty()) return Fail(UnavailableError("malformed chunked encoding: no CRLF after a chunk"));
      chunk_state_ = ChunkState::kSize;
    }
    if (chunk_state_ == ChunkState::kSize) {
      Result<std::string> line = ReadLine(kMaxChunkLine, deadline);
      if (!line.ok()) return Fail(line.status());
      std::string_view size_text = std::string_view(*line).substr(0, line->find(';'));  // extensions ignored
      size_text = TrimSpace(size_text);
      if (size_text.empty() || size_text.size() > 15 || !std::all_of(size_text.begin(), size_text.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c));
          })) {
        return Fail(UnavailableError("malformed chunked encoding: bad chunk size " + Quote(*line)));
      }
      remaining_ = std::stoull(std::string(size_text), nullptr, 16);
      if (remaining_ == 0) {
        Status trailers = ReadTrailers(deadline);
        if (!trailers.ok()) return Fail(trailers);
        FinishBody();
        return size_t{0};
      }
      chunk_state_ = ChunkState::kData;
    }
    Result<size_t> got = ReadRaw(buf, static_cast<size_t>(std::min<uint64_t>(n, remaining_)), deadline);
    if (!got.ok()) return Fail(got.status());
    if (*got == 0) return Fail(UnavailableError("unexpected EOF"));
    remaining_ -= *got;
    if (remaining_ == 0) chunk_state_ = ChunkState::kDataEnd;
    return got;
  }
}

Result<std::string> HttpConnection::ReadBody(size_t max_bytes, Deadline deadline) {
  std::string body;
  if (state_ == State::kBody && framing_ == Framing::kLength && remaining_ > max_bytes) {
    return Fail(ResourceExhaustedError("response body larger than " + std::to_string(max_bytes) + " bytes"));
  }
  while (true) {
    size_t old = body.size();
    // One byte past the limit tells a body of exactly max_bytes from a longer one.
    size_t room = std::min(kReadChunk, max_bytes + 1 - old);
    body.resize(old + room);
    Result<size_t> got = ReadBodySome(body.data() + old, room, deadline);
    body.resize(old + (got.ok() ? *got : 0));
    if (!got.ok()) return got.status();
    if (*got == 0) return body;
    if (body.size() > max_bytes) {
      return Fail(ResourceExhaustedError("response body larger than " + std::to_string(max_bytes) + " bytes"));
    }
  }
}

bool HttpConnection::Reusable() const { return state_ == State::kIdle && !close_ && in_pos_ == in_.size(); }

bool HttpConnection::IdleAndOpen() { return Reusable() && stream_.IdleAndOpen(); }

}  // namespace kite::net::http
