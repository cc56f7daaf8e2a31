#include "src/cli/value_parsers.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

#include "src/base/go_duration.h"

namespace kite::cli {
namespace {

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'z'); }

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool IsCidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  // inet_pton needs a NUL-terminated string.
  std::string address(text.substr(0, slash));
  unsigned char buf[16];
  int max_prefix = 0;
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    max_prefix = 128;
  } else {
    return false;
  }
  std::optional<int64_t> prefix = ParseInteger(text.substr(slash + 1));
  // "-0" parses as 0 but is no prefix length.
  return prefix && *prefix >= 0 && *prefix <= max_prefix && text[slash + 1] != '-';
}

}  // namespace

std::optional<int64_t> ParseInteger(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<int> ParsePort(std::string_view text) {
  // from_chars accepts a leading '-', which a port never has; the range check rejects it.
  std::optional<int64_t> n = ParseInteger(text);
  if (!n || *n < 1 || *n > 65535) return std::nullopt;
  return static_cast<int>(*n);
}

std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  Result<int64_t> nanos = ParseGoDuration(text);
  if (!nanos.ok()) return std::nullopt;
  return std::chrono::nanoseconds(*nanos);
}

std::optional<uint32_t> ParseFileMode(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  // Five digits only with a leading zero ("00644"); the value must fit in 07777.
  if (mode > 07777) return std::nullopt;
  if (text.size() == 5 && text[0] != '0') return std::nullopt;
  return mode;
}

std::optional<bool> ParseBool(std::string_view text) {
  for (std::string_view yes : {"true", "1", "yes"}) {
    if (EqualsIgnoreCase(text, yes)) return true;
  }
  for (std::string_view no : {"false", "0", "no"}) {
    if (EqualsIgnoreCase(text, no)) return false;
  }
  return std::nullopt;
}

bool IsIpAddress(std::string_view text) {
  std::string address(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

bool IsCidrList(std::string_view text) {
  size_t comma = text.find(',');
  if (comma == std::string_view::npos) return IsCidr(text);
  std::string_view second = text.substr(comma + 1);
  return IsCidr(text.substr(0, comma)) && second.find(',') == std::string_view::npos &&
         IsCidr(second);
}

bool IsHttpUrl(std::string_view text) {
  std::string_view rest;
  if (text.starts_with("https://")) {
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else {
    return false;
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority.front() == ':') return false;
  for (char c : authority) {
    if (c == ' ' || c == '\t' || c == '@') return false;  // no spaces, no user:password
  }
  return true;
}

bool IsEndpoint(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  std::string_view scheme = text.substr(0, sep);
  if (!(scheme[0] >= 'a' && scheme[0] <= 'z')) return false;
  for (char c : scheme) {
    if (!IsLowerAlnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsTokenText(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  if (!IsLowerAlnum(text.front()) || !IsLowerAlnum(text.back())) return false;
  for (char c : text) {
    if (!IsLowerAlnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace kite::cli
