#include "src/agent/prober/http_get.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace kite::agent::prober {
namespace {

constexpr int kMaxRedirects = 10;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct BodySink {
  std::string* body;
  size_t max;
  bool full = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t bytes = size * n;
  size_t room = sink->max - std::min(sink->max, sink->body->size());
  sink->body->append(data, std::min(room, bytes));
  if (bytes > room) {
    sink->full = true;
    return 0;  // stop reading: what the probe needs is here
  }
  return bytes;
}

// The host name of `url` (without port), lower-cased; "" when it does not parse.
std::string HostOf(const std::string& url) {
  CURLU* u = curl_url();
  if (!u) return "";
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
      out = host;
      curl_free(host);
    }
  }
  curl_url_cleanup(u);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

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
  InitCurlOnce();
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  bool has_agent = false, has_accept = false;
  for (const auto& [name, value] : request.headers) {
    if (name.find_first_of(":\r\n") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) {
      continue;  // cannot be sent as a header line
    }
    if (EqualsIgnoreCase(name, "User-Agent")) has_agent = true;
    if (EqualsIgnoreCase(name, "Accept")) {
      has_accept = true;
      if (value.empty()) {
        add_header("Accept:");  // removes libcurl's own
        continue;
      }
    }
    // "Name;" is libcurl's way to send a header with an empty value.
    add_header(value.empty() ? name + ";" : name + ": " + value);
  }
  if (!has_agent) add_header("User-Agent: " + request.user_agent);
  if (!has_accept) add_header("Accept: */*");
  add_header("Connection: close");

  const std::string first_host = HostOf(request.url);
  std::string url = request.url;
  HttpGetResponse response;
  for (int redirects = 0;; ++redirects) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    std::string prefix = "Get \"" + url + "\": ";
    if (remaining.count() <= 0) {
      return UnavailableError(prefix + "context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
    }
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return InternalError("libcurl: cannot create a handle");
    CURL* h = curl.get();
    char error[CURL_ERROR_SIZE] = {0};
    response.body.clear();
    BodySink sink{&response.body, request.max_body};
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_URL_MALFORMAT) return InvalidArgumentError("invalid URL \"" + url + "\"");
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.full)) {
      std::string what = error[0] ? error : curl_easy_strerror(rc);
      if (rc == CURLE_OPERATION_TIMEDOUT) what = "context deadline exceeded (Client.Timeout exceeded: " + what + ")";
      return UnavailableError(prefix + what);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    response.final_url = url;
    char* location = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
    bool redirect = status >= 300 && status < 400 && status != 304 && location && *location;
    if (!redirect) return response;
    std::string next = location;
    if (HostOf(next) != first_host) {
      response.redirect_to_other_host = true;
      return response;
    }
    if (redirects + 1 >= kMaxRedirects) {
      return UnavailableError("Get \"" + next + "\": stopped after 10 redirects");
    }
    url = std::move(next);
  }
}

}  // namespace kite::agent::prober
