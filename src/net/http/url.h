// Absolute http(s) URLs as an HTTP client needs them: scheme, host, port and request
// target, and the resolution of a redirect's Location against the URL it came from.
//
// Accepted: "scheme://host[:port][/path][?query][#fragment]" where host is a DNS name, an
// IPv4 literal or an IPv6 literal in brackets ("[::1]"). The scheme is lower-cased; the
// fragment is dropped (it is never sent). Not accepted: user info ("user@host"), spaces
// or control characters anywhere, an empty host, a port outside 1..65535, an IPv6 zone.
// Any scheme parses; the port defaults to 80 for http and 443 for https and must be given
// for others.
//
// Errors: kInvalidArgument with a message that names the URL and what is wrong.
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::net::http {

struct Url {
  std::string scheme;        // "http", "https" (lower case)
  std::string host;          // "10.0.0.1", "example.com", "::1" (no brackets)
  int port = 0;              // as given, or the scheme's default
  bool port_given = false;   // whether the URL spelled the port out
  std::string target = "/";  // path and query as sent in the request line: "/a/b?c=d"

  // "host:port" with an IPv6 host in brackets, as for "dial tcp 127.0.0.1:80".
  std::string HostPort() const;
  // The Host header: the host (IPv6 in brackets), with ":port" when the URL had one.
  std::string Authority() const;
  // "scheme://authority/target".
  std::string ToString() const;
};

Result<Url> ParseUrl(std::string_view text);

// The URL a reference (an HTTP Location value) points to from `base`, per RFC 3986 §5.2:
// an absolute URL, "//authority/path", "/absolute/path", "?query", or a relative path
// merged with base's directory; "." and ".." segments removed.
Result<Url> ResolveReference(const Url& base, std::string_view reference);

// Whether `host` is an IPv4 or IPv6 literal (without brackets).
bool IsIpLiteral(const std::string& host);

}  // namespace kite::net::http
