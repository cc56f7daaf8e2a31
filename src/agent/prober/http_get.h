// One HTTP GET as the kubelet's probes and lifecycle hooks send it (pkg/probe/http): plain
// HTTP or HTTPS without certificate verification, no proxy, no keep-alive, redirects to
// the same host name followed (at most 10), a redirect to another host not followed (the
// 3xx answer is returned, with `redirect_to_other_host` set). As Go's client, 301, 302,
// 303, 307 and 308 with a Location are followed; other 3xx answers are returned.
//
// Operation: blocking, on src/net/http (a new connection per request); the timeout bounds
// the whole exchange including redirects and the body (not the host name lookup, which
// getaddrinfo bounds). At most `max_body` bytes of the body are kept; reading stops there.
// Headers: "Host" (the URL's host and port unless a non-empty one is given), those given,
// in order (an empty value is sent empty; a name that is not a valid token or a value
// with CR or LF is skipped), then "User-Agent" and "Accept: */*" unless given (a given
// empty Accept removes the header), "Connection: close".
// Errors: kUnavailable when no HTTP answer came (refused, reset, TLS failure, timeout, a
// malformed answer, too many redirects, a Location that does not parse), with a message in
// Go's style: `Get "URL": what went wrong`; kInvalidArgument for a URL that does not parse.
// Thread-safety: may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "src/base/status.h"

namespace kite::agent::prober {

struct HttpGetRequest {
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string user_agent = "kube-probe/1.32";
  std::chrono::milliseconds timeout{1000};
  size_t max_body = 10 * 1024;
};

struct HttpGetResponse {
  int status = 0;
  std::string body;  // at most max_body bytes
  bool redirect_to_other_host = false;
  std::string final_url;
};

Result<HttpGetResponse> HttpGet(const HttpGetRequest& request);

// "scheme://host:port/path" as Kubernetes' formatURL builds it: scheme lower-cased, an
// IPv6 host in brackets, a "/" added before a path that does not start with one.
std::string FormatUrl(std::string scheme, const std::string& host, int port, const std::string& path);

}  // namespace kite::agent::prober
