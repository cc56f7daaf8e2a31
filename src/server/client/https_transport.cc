#include "src/server/client/https_transport.h"

#include <curl/curl.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/client/resource_client.h"
#include "src/server/json/json_util.h"

namespace kite::client {

struct HttpsTransport::Shared {
  HttpsTransportOptions options;
  CURLSH* share = nullptr;
  // libcurl locks and unlocks in separate callbacks, which the analysis cannot follow.
  std::mutex share_locks[CURL_LOCK_DATA_LAST];
  Mutex pool_mu;
  std::vector<CURL*> idle GUARDED_BY(pool_mu);

  ~Shared() {
    {
      MutexLock lock(pool_mu);
      for (CURL* h : idle) curl_easy_cleanup(h);
      idle.clear();
    }
    if (share) curl_share_cleanup(share);
  }

  CURL* Acquire() {
    {
      MutexLock lock(pool_mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* h) {
    {
      MutexLock lock(pool_mu);
      if (idle.size() < options.max_idle_connections) {
        idle.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }
};

namespace {

using Shared = HttpsTransport::Shared;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void ShareLock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  static_cast<Shared*>(user)->share_locks[data].lock();
}

void ShareUnlock(CURL*, curl_lock_data data, void* user) {
  static_cast<Shared*>(user)->share_locks[data].unlock();
}

// A Kubernetes Status body for a request that got no HTTP answer.
std::string FailureBody(const std::string& message) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  json::SetStringMember(d, "kind", "Status", a);
  json::SetStringMember(d, "apiVersion", "v1", a);
  json::SetStringMember(d, "status", "Failure", a);
  json::SetStringMember(d, "message", message, a);
  json::SetStringMember(d, "reason", "ServiceUnavailable", a);
  return json::ToJson(d);
}

std::string ErrorText(CURLcode rc, const char* errbuf) {
  return errbuf && errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
}

// Sets everything but the write and header callbacks. Returns the header list to free.
curl_slist* Configure(CURL* h, Shared& s, const ClientRequest& r, bool watch, char* errbuf) {
  const HttpsTransportOptions& o = s.options;
  std::string url = o.server_url + r.path + (r.query.empty() ? "" : "?" + r.query);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_SHARE, s.share);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_blob ca{const_cast<char*>(o.ca_pem.data()), o.ca_pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);  // the cluster CA only, not the system's
  if (!o.client_cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(o.client_cert_pem.data()), o.client_cert_pem.size(), CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(o.client_key_pem.data()), o.client_key_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  if (!watch) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(h, CURLOPT_USERAGENT, o.user_agent.c_str());
  if (r.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    if (r.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (r.method == "POST" || !r.body.empty()) {
      // The body outlives the transfer: Do and the watch reader keep the request.
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    }
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!r.body.empty()) headers = curl_slist_append(headers, ("Content-Type: " + r.content_type).c_str());
  if (!o.bearer_token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + o.bearer_token).c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  return headers;
}

struct Sink {
  std::string body;
  size_t limit = 0;
  bool overflow = false;
};

size_t WriteToSink(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body.size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->body.append(data, bytes);
  return bytes;
}

// The watch stream: a thread runs the transfer on a multi handle; the reader takes lines.
class CurlWatchReader final : public WatchReader {
 public:
  CurlWatchReader(std::shared_ptr<Shared> shared, ClientRequest request)
      : shared_(std::move(shared)), request_(std::move(request)) {}

  ~CurlWatchReader() override {
    cancel_ = true;
    if (multi_) curl_multi_wakeup(multi_);
    if (thread_.joinable()) thread_.join();
    if (multi_ && easy_) curl_multi_remove_handle(multi_, easy_);
    if (easy_) curl_easy_cleanup(easy_);
    if (multi_) curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  // Starts the transfer and waits for the response head. An answer other than 200 is
  // returned as its Kubernetes Status (kCompacted for 410).
  Status Begin() {
    easy_ = curl_easy_init();
    multi_ = curl_multi_init();
    if (!easy_ || !multi_) return InternalError("libcurl could not make a handle");
    headers_ = Configure(easy_, *shared_, request_, true, errbuf_);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlWatchReader::OnData);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &CurlWatchReader::OnHeader);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy_, CURLOPT_XFERINFOFUNCTION, &CurlWatchReader::OnProgress);
    curl_easy_setopt(easy_, CURLOPT_XFERINFODATA, this);
    curl_multi_add_handle(multi_, easy_);
    thread_ = std::thread([this] { Run(); });

    const HttpsTransportOptions& o = shared_->options;
    auto deadline = std::chrono::steady_clock::now() + o.connect_timeout + o.request_timeout;
    MutexLock lock(mu_);
    while (!headers_done_ && !ended_) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return UnavailableError("watch " + request_.path + ": no response in time");
      cv_.WaitFor(mu_, deadline - now);
    }
    if (!headers_done_) return UnavailableError("watch " + request_.path + ": " + error_);
    if (status_ == 200) return Status();
    while (!ended_) {  // collect the error body
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      cv_.WaitFor(mu_, deadline - now);
    }
    Status s = StatusFromResponse(ClientResponse{status_, error_body_});
    return Status(s.code(), "watch refused with " + std::to_string(status_) + ": " + s.message());
  }

  Result<std::vector<std::string>> Next(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    MutexLock lock(mu_);
    while (true) {
      std::vector<std::string> lines = TakeLines();
      if (!lines.empty()) return lines;
      if (ended_) return UnavailableError("the watch ended" + (error_.empty() ? "" : ": " + error_));
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::vector<std::string>{};
      cv_.WaitFor(mu_, deadline - now);
    }
  }

 private:
  std::vector<std::string> TakeLines() REQUIRES(mu_) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start) lines.push_back(pending_.substr(start, nl - start));
    }
    pending_.erase(0, start);
    return lines;
  }

  void Run() {
    int running = 1;
    std::string failure;
    while (running && !cancel_) {
      CURLMcode mc = curl_multi_perform(multi_, &running);
      if (mc != CURLM_OK) {
        failure = curl_multi_strerror(mc);
        break;
      }
      if (!running) break;
      mc = curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
      if (mc != CURLM_OK) {
        failure = curl_multi_strerror(mc);
        break;
      }
    }
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg == CURLMSG_DONE && m->data.result != CURLE_OK && failure.empty()) {
        failure = ErrorText(m->data.result, errbuf_);
      }
    }
    MutexLock lock(mu_);
    ended_ = true;
    if (overflow_) {
      error_ = "more than " + std::to_string(shared_->options.max_watch_buffer_bytes) + " bytes of unread events";
    } else if (cancel_) {
      error_ = "cancelled";
    } else {
      error_ = failure;
    }
    cv_.NotifyAll();
  }

  static size_t OnData(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<CurlWatchReader*>(user);
    size_t bytes = size * n;
    MutexLock lock(self->mu_);
    if (self->status_ != 200) {
      if (self->error_body_.size() + bytes > self->shared_->options.max_response_bytes) return 0;
      self->error_body_.append(data, bytes);
      return bytes;
    }
    if (self->pending_.size() + bytes > self->shared_->options.max_watch_buffer_bytes) {
      self->overflow_ = true;
      return 0;  // aborts the transfer
    }
    self->pending_.append(data, bytes);
    if (std::string_view(data, bytes).find('\n') != std::string_view::npos) self->cv_.NotifyAll();
    return bytes;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<CurlWatchReader*>(user);
    size_t bytes = size * n;
    std::string_view line(data, bytes);
    MutexLock lock(self->mu_);
    if (line.starts_with("HTTP/")) {
      size_t space = line.find(' ');
      self->status_ = space == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(space + 1, 3)).c_str());
    } else if ((line == "\r\n" || line == "\n") && self->status_ >= 200) {
      self->headers_done_ = true;  // (a 1xx interim answer has its own blank line)
      self->cv_.NotifyAll();
    }
    return bytes;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<CurlWatchReader*>(user)->cancel_ ? 1 : 0;
  }

  std::shared_ptr<Shared> shared_;
  const ClientRequest request_;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE] = {};
  std::atomic<bool> cancel_{false};
  std::thread thread_;

  Mutex mu_;
  CondVar cv_;
  int status_ GUARDED_BY(mu_) = 0;
  bool headers_done_ GUARDED_BY(mu_) = false;
  bool ended_ GUARDED_BY(mu_) = false;
  bool overflow_ GUARDED_BY(mu_) = false;
  std::string pending_ GUARDED_BY(mu_);
  std::string error_body_ GUARDED_BY(mu_);
  std::string error_ GUARDED_BY(mu_);
};

}  // namespace

Result<std::unique_ptr<HttpsTransport>> HttpsTransport::Create(HttpsTransportOptions options) {
  std::string& url = options.server_url;
  while (url.size() > 8 && url.back() == '/') url.pop_back();
  constexpr std::string_view kScheme = "https://";
  std::string_view rest = std::string_view(url).substr(std::min(url.size(), kScheme.size()));
  if (!std::string_view(url).starts_with(kScheme) || rest.empty() || rest[0] == ':' ||
      rest.find('/') != std::string_view::npos) {
    return InvalidArgumentError("server URL \"" + url + "\" is not of the form https://host[:port]");
  }
  if (options.ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgumentError("the server CA is not a PEM certificate");
  }
  if (options.client_cert_pem.empty() != options.client_key_pem.empty()) {
    return InvalidArgumentError("a client certificate needs its key, and a key its certificate");
  }
  InitCurlOnce();
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  shared->share = curl_share_init();
  if (!shared->share) return InternalError("libcurl could not make a share handle");
  curl_share_setopt(shared->share, CURLSHOPT_LOCKFUNC, &ShareLock);
  curl_share_setopt(shared->share, CURLSHOPT_UNLOCKFUNC, &ShareUnlock);
  curl_share_setopt(shared->share, CURLSHOPT_USERDATA, shared.get());
  curl_share_setopt(shared->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(shared->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  return std::unique_ptr<HttpsTransport>(new HttpsTransport(std::move(shared)));
}

HttpsTransport::~HttpsTransport() = default;

ClientResponse HttpsTransport::Do(const ClientRequest& request) {
  CURL* h = shared_->Acquire();
  if (!h) return {0, FailureBody("libcurl could not make a handle")};
  curl_easy_reset(h);  // keeps the live connection
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_slist* headers = Configure(h, *shared_, request, false, errbuf);
  Sink sink;
  sink.limit = shared_->options.max_response_bytes;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteToSink);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  std::string error = rc == CURLE_OK ? "" : ErrorText(rc, errbuf);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // errbuf is about to go
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  shared_->Release(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) {
      error = "response larger than " + std::to_string(sink.limit) + " bytes";
    }
    return {0, FailureBody(request.method + " " + shared_->options.server_url + request.path + ": " + error)};
  }
  return {static_cast<int>(code), std::move(sink.body)};
}

Result<std::unique_ptr<WatchReader>> HttpsTransport::Watch(const ClientRequest& request) {
  auto reader = std::make_unique<CurlWatchReader>(shared_, request);
  KITE_RETURN_IF_ERROR(reader->Begin());
  return std::unique_ptr<WatchReader>(std::move(reader));
}

}  // namespace kite::client
