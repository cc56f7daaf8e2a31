// The client side of an HTTP/1.1 protocol upgrade over plain TCP: how the agent reaches a
// container runtime's streaming server (containerd's CRI stream URLs are
// http://127.0.0.1:<port>/<exec|attach|portforward>/<token>) before speaking SPDY or
// WebSocket on the same connection.
//
// Operation: connects, sends `method path HTTP/1.1` with Host, the caller's headers and
// Content-Length: 0, reads the response head (at most 64 KiB) and, for a non-101 answer, a
// body of up to 64 KiB. Bytes that arrived after the 101 head stay in the connection and
// are the first ones its Read returns. Every step is bounded by `timeout`.
//
// Errors: kInvalidArgument for a URL that is not http://host[:port]/path; kUnavailable when
// the server cannot be reached, closes early, times out, or answers something other than
// 101 (the message carries the status line and the start of the body); kInvalidArgument
// for a response that is not HTTP.
// Thread-safety: DialUpgrade is a free function; the returned connection follows
// SocketConnection's rules.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/http/http_types.h"
#include "src/server/streaming/socket_connection.h"

namespace kite::streaming {

struct ParsedUrl {
  std::string host;  // without brackets for IPv6
  int port = 80;
  std::string path_and_query = "/";
};
// http://host[:port][/path][?query]. kInvalidArgument otherwise (https is not supported:
// the runtime's streaming server listens on loopback without TLS).
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

struct UpgradeRequest {
  std::string url;
  std::string method = "POST";
  http::HeaderList headers;  // e.g. Connection, Upgrade, X-Stream-Protocol-Version
  std::chrono::milliseconds timeout{10000};
};

struct UpgradedClient {
  std::unique_ptr<SocketConnection> connection;
  http::HeaderList headers;  // the 101 response's headers, names lower-cased
};

Result<UpgradedClient> DialUpgrade(const UpgradeRequest& request);

// Every value of a header that may be repeated and comma-separated (Sec-WebSocket-Protocol,
// X-Stream-Protocol-Version, Connection): the tokens of all its lines, trimmed, in order.
// `lower_name` is the lower-cased header name.
std::vector<std::string> HeaderTokens(const http::HeaderList& headers,
                                      std::string_view lower_name);

// True when `token` is among HeaderTokens(headers, lower_name), compared without case.
bool HasHeaderToken(const http::HeaderList& headers, std::string_view lower_name,
                    std::string_view token);

}  // namespace kite::streaming
