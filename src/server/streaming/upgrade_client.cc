#include "src/server/streaming/upgrade_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

namespace kite::streaming {
namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxErrorBody = 64 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Reads more bytes into `buffer` before `deadline`. false on timeout, error or EOF.
bool ReadMore(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[8192];
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

}  // namespace

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("stream URL \"" + std::string(url) + "\" is not http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  ParsedUrl parsed;
  if (slash != std::string_view::npos) {
    parsed.path_and_query = std::string(rest.substr(slash));
    if (parsed.path_and_query[0] == '?') parsed.path_and_query.insert(0, "/");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("stream URL \"" + std::string(url) + "\" has a bad host");
    }
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return InvalidArgumentError("stream URL \"" + std::string(url) + "\" has a bad host");
      }
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) {
    return InvalidArgumentError("stream URL \"" + std::string(url) + "\" has no host");
  }
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return InvalidArgumentError("stream URL \"" + std::string(url) + "\" has a bad port");
    }
    parsed.port = port;
  }
  return parsed;
}

Result<UpgradedClient> DialUpgrade(const UpgradeRequest& request) {
  Result<ParsedUrl> url = ParseHttpUrl(request.url);
  if (!url.ok()) return url.status();
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  Result<std::unique_ptr<SocketConnection>> connection =
      ConnectTcp(url->host, url->port, request.timeout);
  if (!connection.ok()) return connection.status();

  std::string host_header = url->host.find(':') != std::string::npos
                                ? "[" + url->host + "]:" + std::to_string(url->port)
                                : url->host + ":" + std::to_string(url->port);
  std::string head = request.method + " " + url->path_and_query + " HTTP/1.1\r\nHost: " +
                     host_header + "\r\n";
  for (const auto& [name, value] : request.headers) head += name + ": " + value + "\r\n";
  head += "Content-Length: 0\r\n\r\n";
  if (!(*connection)->Write(head)) {
    return UnavailableError("cannot send the upgrade request to " + request.url);
  }

  int fd = (*connection)->fd();
  std::string buffer;
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxHead) {
      return InvalidArgumentError("response head from " + request.url + " exceeds 64 KiB");
    }
    if (!ReadMore(fd, buffer, deadline)) {
      return UnavailableError("no upgrade response from " + request.url);
    }
  }
  std::string_view head_view(buffer.data(), head_end);
  size_t line_end = head_view.find("\r\n");
  std::string_view status_line = head_view.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
    return InvalidArgumentError("not an HTTP response from " + request.url);
  }
  int status = 0;
  std::string_view code = status_line.substr(9, 3);
  std::from_chars(code.data(), code.data() + code.size(), status);

  UpgradedClient result;
  size_t content_length = 0;
  std::string_view lines =
      line_end == std::string_view::npos ? std::string_view() : head_view.substr(line_end + 2);
  while (!lines.empty()) {
    size_t end = lines.find("\r\n");
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string value(Trim(line.substr(colon + 1)));
    if (name == "content-length") {
      std::from_chars(value.data(), value.data() + value.size(), content_length);
    }
    result.headers.emplace_back(std::move(name), std::move(value));
  }
  std::string rest = buffer.substr(head_end + 4);
  if (status != 101) {
    content_length = std::min(content_length, kMaxErrorBody);
    while (rest.size() < content_length && ReadMore(fd, rest, deadline)) {
    }
    std::string body = rest.substr(0, std::min(rest.size(), size_t{512}));
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return UnavailableError(request.url.substr(0, request.url.find_last_of('/')) +
                            "/... answered \"" + std::string(status_line.substr(9)) + "\"" +
                            (body.empty() ? "" : ": " + body));
  }
  (*connection)->SetPrefix(std::move(rest));
  result.connection = std::move(*connection);
  return result;
}

std::vector<std::string> HeaderTokens(const http::HeaderList& headers,
                                      std::string_view lower_name) {
  std::vector<std::string> tokens;
  for (const auto& [name, value] : headers) {
    if (name != lower_name) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view token = Trim(rest.substr(0, comma));
      if (!token.empty()) tokens.emplace_back(token);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return tokens;
}

bool HasHeaderToken(const http::HeaderList& headers, std::string_view lower_name,
                    std::string_view token) {
  std::string wanted = Lower(token);
  for (const std::string& t : HeaderTokens(headers, lower_name)) {
    if (Lower(t) == wanted) return true;
  }
  return false;
}

}  // namespace kite::streaming
