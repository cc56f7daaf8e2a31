#include "src/net/http/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace kite::net::http {
namespace {

Status Invalid(std::string_view url, const std::string& what) {
  return InvalidArgumentError("invalid URL \"" + std::string(url) + "\": " + what);
}

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Length of the scheme when `text` starts with "scheme:", else 0.
size_t SchemeLength(std::string_view text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return 0;
  size_t i = 1;
  while (i < text.size() && IsSchemeChar(text[i])) ++i;
  return i < text.size() && text[i] == ':' ? i : 0;
}

// "/a/./b/../c" -> "/a/c" (RFC 3986 §5.2.4, for paths that start with "/").
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 1;  // after the leading '/'
  bool trailing_slash = false;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(pos, end - pos);
    bool last = end == path.size();
    if (seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(seg);
      trailing_slash = false;
    }
    pos = end + 1;
  }
  std::string result;
  for (std::string_view seg : out) {
    result += '/';
    result += seg;
  }
  if (trailing_slash || result.empty()) result += '/';
  return result;
}

}  // namespace

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string Url::HostPort() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::Authority() const {
  bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  return port_given ? h + ":" + std::to_string(port) : h;
}

std::string Url::ToString() const { return scheme + "://" + Authority() + target; }

Result<Url> ParseUrl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Invalid(text, "contains a space or control character");
  }
  size_t scheme_len = SchemeLength(text);
  if (scheme_len == 0 || text.substr(scheme_len, 3) != "://") return Invalid(text, "not of the form scheme://host");
  Url url;
  url.scheme = std::string(text.substr(0, scheme_len));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view rest = text.substr(scheme_len + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return Invalid(text, "user information is not supported");

  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid(text, "missing ']' in host");
    url.host = std::string(authority.substr(1, close - 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, url.host.c_str(), buf) != 1) return Invalid(text, "invalid IPv6 address");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Invalid(text, "unexpected text after ']'");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.empty()) return Invalid(text, "missing host");
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) return Invalid(text, "invalid character in host");
    url.host = std::string(host);
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Invalid(text, "invalid port \"" + std::string(port_text) + "\"");
    }
    url.port = std::stoi(std::string(port_text));
    if (url.port < 1 || url.port > 65535) return Invalid(text, "port out of range");
    url.port_given = true;
  } else if (url.scheme == "http") {
    url.port = 80;
  } else if (url.scheme == "https") {
    url.port = 443;
  } else {
    return Invalid(text, "no port, and none is known for scheme \"" + url.scheme + "\"");
  }

  tail = tail.substr(0, tail.find('#'));
  if (tail.empty() || tail[0] == '?') {
    url.target = "/" + std::string(tail);
  } else {
    url.target = std::string(tail);
  }
  return url;
}

Result<Url> ResolveReference(const Url& base, std::string_view reference) {
  std::string_view ref = reference.substr(0, reference.find('#'));
  if (SchemeLength(ref) > 0) return ParseUrl(ref);
  if (ref.starts_with("//")) return ParseUrl(base.scheme + ":" + std::string(ref));
  for (char c : ref) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return InvalidArgumentError("invalid URL reference \"" + std::string(reference) + "\": contains a space or control character");
    }
  }
  Url url = base;
  std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
  if (ref.empty()) return url;
  if (ref[0] == '?') {
    url.target = std::string(base_path) + std::string(ref);
    return url;
  }
  size_t q = ref.find('?');
  std::string_view path = ref.substr(0, q);
  std::string_view query = q == std::string_view::npos ? "" : ref.substr(q);
  std::string merged;
  if (path.starts_with("/")) {
    merged = std::string(path);
  } else {
    merged = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(path);
    if (merged.empty() || merged[0] != '/') merged.insert(merged.begin(), '/');
  }
  url.target = RemoveDotSegments(merged) + std::string(query);
  return url;
}

}  // namespace kite::net::http
