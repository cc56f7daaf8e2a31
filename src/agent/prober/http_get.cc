#include "src/agent/prober/http_get.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>

#include "src/net/http/headers.h"
#include "src/net/http/http_connection.h"
#include "src/net/http/tls_context.h"
#include "src/net/http/url.h"

namespace kite::agent::prober {
namespace {

using net::http::EqualsIgnoreCase;
using net::http::Url;

constexpr int kMaxRedirects = 10;

// HTTPS probes do not verify the server (as the kubelet's InsecureSkipVerify). One
// context for every probe; no session resumption (pods come and go).
Result<std::shared_ptr<net::http::TlsContext>> ProbeTls() {
  static const Result<std::shared_ptr<net::http::TlsContext>> context =
      net::http::TlsContext::Create({.verify = false, .resume_sessions = false});
  return context;
}

bool IsHeaderName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Go's redirect rule: these codes with a Location are followed (GET has no body to resend).
bool IsFollowedRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

struct Hop {
  int status = 0;
  std::string location;
  std::string body;
};

// One GET on a new connection. The body of an answer that `followed` says will be
// followed is not read.
Result<Hop> Exchange(const Url& url, const net::http::Headers& headers, size_t max_body, net::http::Deadline deadline,
                     const std::function<bool(const Hop&)>& followed) {
  net::http::HttpConnectionOptions options;
  options.socket.host = url.host;
  options.socket.port = url.port;
  if (url.scheme == "https") {
    Result<std::shared_ptr<net::http::TlsContext>> tls = ProbeTls();
    if (!tls.ok()) return tls.status();
    options.socket.tls = *tls;
  }
  net::http::HttpConnection connection(std::move(options));
  auto timeout = [&] {
    return UnavailableError("context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
  };
  Status connected = connection.Connect(deadline);
  if (!connected.ok()) return connection.timed_out() ? timeout() : connected;
  net::http::HttpRequest request;
  request.target = url.target;
  request.headers = headers;
  if (!request.headers.Has("Host")) {
    request.headers = {{"Host", url.Authority()}};
    for (const auto& [name, value] : headers.entries()) request.headers.Add(name, value);
  }
  Status written = connection.WriteRequest(request, deadline);
  if (!written.ok()) return connection.timed_out() ? timeout() : written;
  Result<net::http::ResponseHead> head = connection.ReadResponseHead(deadline);
  if (!head.ok()) return connection.timed_out() ? timeout() : head.status();
  Hop hop;
  hop.status = head->status;
  hop.location = head->headers.Get("Location");
  if (followed(hop)) return hop;
  char buf[16 * 1024];
  while (hop.body.size() < max_body) {
    Result<size_t> got = connection.ReadBodySome(buf, std::min(sizeof(buf), max_body - hop.body.size()), deadline);
    if (!got.ok()) {
      if (connection.timed_out()) {
        return UnavailableError("context deadline exceeded (Client.Timeout or context cancellation while reading body)");
      }
      return got.status();
    }
    if (*got == 0) break;
    hop.body.append(buf, *got);
  }
  return hop;
}

}  // namespace

std::string FormatUrl(std::string scheme, const std::string& host, int port, const std::string& path) {
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme.empty()) scheme = "http";
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string out = scheme + "://" + h + ":" + std::to_string(port);
  if (!path.empty() && path[0] != '/') out += '/';
  return out + path;
}

Result<HttpGetResponse> HttpGet(const HttpGetRequest& request) {
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  Result<Url> first = net::http::ParseUrl(request.url);
  if (!first.ok()) return InvalidArgumentError(first.status().message());

  net::http::Headers headers;
  bool has_agent = false, has_accept = false;
  for (const auto& [name, value] : request.headers) {
    if (!IsHeaderName(name) || value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      continue;  // cannot be sent as a header line
    }
    if (EqualsIgnoreCase(name, "Host") && value.empty()) continue;  // the URL's host then
    if (EqualsIgnoreCase(name, "User-Agent")) has_agent = true;
    if (EqualsIgnoreCase(name, "Accept")) {
      has_accept = true;
      if (value.empty()) continue;  // a given empty Accept removes the header
    }
    headers.Add(name, value);
  }
  if (!has_agent) headers.Add("User-Agent", request.user_agent);
  if (!has_accept) headers.Add("Accept", "*/*");
  headers.Add("Connection", "close");

  const std::string first_host = Lower(first->host);
  Url url = *first;
  std::string url_text = request.url;  // as given, for messages (Go prints it unchanged)
  HttpGetResponse response;
  for (int redirects = 0;; ++redirects) {
    std::string prefix = "Get \"" + url_text + "\": ";
    if (url.scheme != "http" && url.scheme != "https") {
      return UnavailableError(prefix + "unsupported protocol scheme \"" + url.scheme + "\"");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return UnavailableError(prefix + "context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
    }
    // Where a redirect goes, and whether it is followed (same host) or returned.
    std::optional<Result<Url>> next;
    auto followed = [&](const Hop& hop) {
      if (!IsFollowedRedirect(hop.status) || hop.location.empty()) return false;
      next = net::http::ResolveReference(url, hop.location);
      return !next->ok() || Lower((*next)->host) == first_host;
    };
    Result<Hop> hop = Exchange(url, headers, request.max_body, deadline, followed);
    if (!hop.ok()) return UnavailableError(prefix + hop.status().message());
    response.status = hop->status;
    response.body = std::move(hop->body);
    response.final_url = url_text;
    if (!next) return response;
    if (!next->ok()) {
      return UnavailableError(prefix + "failed to parse Location header \"" + hop->location +
                              "\": " + next->status().message());
    }
    if (Lower((**next).host) != first_host) {
      response.redirect_to_other_host = true;  // the 3xx answer with its body, not followed
      return response;
    }
    if (redirects + 1 >= kMaxRedirects) {
      return UnavailableError("Get \"" + (**next).ToString() + "\": stopped after 10 redirects");
    }
    url = **next;
    url_text = url.ToString();
  }
}

}  // namespace kite::agent::prober
