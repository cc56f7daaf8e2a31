#include "src/server/client/https_transport.h"

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "src/base/mutex.h"
#include "src/net/http/http_connection.h"
#include "src/net/http/tls_context.h"
#include "src/net/http/url.h"
#include "src/server/client/resource_client.h"
#include "src/server/json/json_util.h"

namespace kite::client {

using net::http::Deadline;
using net::http::HttpConnection;
using net::http::ResponseHead;

namespace {

using Clock = std::chrono::steady_clock;

// Go's IdleConnTimeout: an idle connection older than this is closed rather than reused,
// well before the server's own idle timeout (120 s for kite) can race a new request.
constexpr std::chrono::seconds kIdleExpiry{90};

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

// Requests that may be sent again when a reused connection turned out to be closed.
bool IsReplayable(const std::string& method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

}  // namespace

struct HttpsTransport::Shared {
  HttpsTransportOptions options;
  net::http::Url url;
  std::shared_ptr<net::http::TlsContext> tls;  // null when the TLS material does not load
  std::string tls_error;

  struct Idle {
    std::unique_ptr<HttpConnection> connection;
    Clock::time_point since;
  };
  Mutex pool_mu;
  std::vector<Idle> idle GUARDED_BY(pool_mu);

  // The most recently used idle connection that is still open, or null.
  std::unique_ptr<HttpConnection> TakeIdle() {
    std::vector<Idle> stale;  // closed outside the lock
    std::unique_ptr<HttpConnection> found;
    {
      MutexLock lock(pool_mu);
      auto now = Clock::now();
      while (!idle.empty() && !found) {
        Idle last = std::move(idle.back());
        idle.pop_back();
        if (now - last.since < kIdleExpiry && last.connection->IdleAndOpen()) {
          found = std::move(last.connection);
        } else {
          stale.push_back(std::move(last));
        }
      }
    }
    return found;
  }

  void Release(std::unique_ptr<HttpConnection> connection) {
    if (!connection->Reusable()) return;
    MutexLock lock(pool_mu);
    if (idle.size() < options.max_idle_connections) idle.push_back({std::move(connection), Clock::now()});
  }

  std::unique_ptr<HttpConnection> NewConnection() const {
    net::http::HttpConnectionOptions o;
    o.socket.host = url.host;
    o.socket.port = url.port;
    o.socket.tls = tls;
    return std::make_unique<HttpConnection>(std::move(o));
  }

  net::http::HttpRequest BuildRequest(const ClientRequest& r) const {
    net::http::HttpRequest req;
    req.method = r.method;
    req.target = r.path + (r.query.empty() ? "" : "?" + r.query);
    req.headers.Add("User-Agent", options.user_agent);
    req.headers.Add("Accept", "application/json");
    if (!r.body.empty()) req.headers.Add("Content-Type", r.content_type);
    if (!options.bearer_token.empty()) req.headers.Add("Authorization", "Bearer " + options.bearer_token);
    req.body = r.body;
    return req;
  }

  struct Started {
    std::unique_ptr<HttpConnection> connection;
    ResponseHead head;
  };

  // Sends the request and reads the response head, on an idle connection (unless
  // `fresh`) or a new one.
  Result<Started> Start(const ClientRequest& r, bool fresh, Deadline connect_deadline, Deadline deadline) {
    if (!tls) return UnavailableError(tls_error);
    net::http::HttpRequest req = BuildRequest(r);
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<HttpConnection> c = fresh || attempt > 0 ? nullptr : TakeIdle();
      bool reused = c != nullptr;
      if (!c) {
        c = NewConnection();
        KITE_RETURN_IF_ERROR(c->Connect(connect_deadline));
      }
      Status written = c->WriteRequest(req, deadline);
      // A failed write delivered no complete request: safe to send again for any method.
      if (!written.ok() && reused && written.code() == StatusCode::kUnavailable && !c->timed_out()) continue;
      KITE_RETURN_IF_ERROR(written);
      Result<ResponseHead> head = c->ReadResponseHead(deadline);
      if (!head.ok()) {
        if (reused && !c->response_started() && !c->timed_out() && IsReplayable(r.method)) continue;
        return head.status();
      }
      return Started{std::move(c), std::move(head).value()};
    }
  }
};

namespace {

using Shared = HttpsTransport::Shared;

// The watch stream: a thread reads the body as it arrives; the reader takes whole lines.
class HttpWatchReader final : public WatchReader {
 public:
  HttpWatchReader(std::shared_ptr<Shared> shared, ClientRequest request)
      : shared_(std::move(shared)), request_(std::move(request)) {}

  ~HttpWatchReader() override {
    cancel_ = true;
    if (connection_) connection_->Shutdown();  // ends the thread's blocked read at once
    if (thread_.joinable()) thread_.join();
  }

  // Connects, sends the request and reads the response head. An answer other than 200 is
  // returned as its Kubernetes Status (kCompacted for 410).
  Status Begin() {
    const HttpsTransportOptions& o = shared_->options;
    auto start = Clock::now();
    Deadline deadline = start + o.connect_timeout + o.request_timeout;
    Result<Shared::Started> started = shared_->Start(request_, /*fresh=*/true, start + o.connect_timeout, deadline);
    if (!started.ok()) return UnavailableError("watch " + request_.path + ": " + started.status().message());
    connection_ = std::move(started->connection);
    int status = started->head.status;
    if (status == 200) {
      thread_ = std::thread([this] { Run(); });
      return Status();
    }
    Result<std::string> body = connection_->ReadBody(o.max_response_bytes, deadline);
    Status s = StatusFromResponse(ClientResponse{status, body.ok() ? *body : ""});
    return Status(s.code(), "watch refused with " + std::to_string(status) + ": " + s.message());
  }

  Result<std::vector<std::string>> Next(std::chrono::milliseconds timeout) override {
    auto deadline = Clock::now() + timeout;
    MutexLock lock(mu_);
    while (true) {
      std::vector<std::string> lines = TakeLines();
      if (!lines.empty()) return lines;
      if (ended_) return UnavailableError("the watch ended" + (error_.empty() ? "" : ": " + error_));
      auto now = Clock::now();
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
    const size_t limit = shared_->options.max_watch_buffer_bytes;
    std::vector<char> buf(16 * 1024);
    std::string failure;
    bool overflow = false;
    while (true) {
      Result<size_t> got = connection_->ReadBodySome(buf.data(), buf.size(), net::http::kNoDeadline);
      if (!got.ok()) {
        failure = got.status().message();
        break;
      }
      if (*got == 0) break;  // the server ended the stream (its timeoutSeconds)
      std::string_view data(buf.data(), *got);
      MutexLock lock(mu_);
      if (pending_.size() + data.size() > limit) {
        overflow = true;
        break;
      }
      pending_.append(data);
      if (data.find('\n') != std::string_view::npos) cv_.NotifyAll();
    }
    MutexLock lock(mu_);
    ended_ = true;
    if (overflow) {
      error_ = "more than " + std::to_string(limit) + " bytes of unread events";
    } else if (cancel_) {
      error_ = "cancelled";
    } else {
      error_ = failure;
    }
    cv_.NotifyAll();
  }

  std::shared_ptr<Shared> shared_;
  const ClientRequest request_;
  // Set by Begin before the thread starts, then only read; Shutdown is thread-safe.
  std::unique_ptr<HttpConnection> connection_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;

  Mutex mu_;
  CondVar cv_;
  bool ended_ GUARDED_BY(mu_) = false;
  std::string pending_ GUARDED_BY(mu_);
  std::string error_ GUARDED_BY(mu_);
};

}  // namespace

Result<std::unique_ptr<HttpsTransport>> HttpsTransport::Create(HttpsTransportOptions options) {
  std::string& url = options.server_url;
  while (url.size() > 8 && url.back() == '/') url.pop_back();
  constexpr std::string_view kScheme = "https://";
  std::string_view rest = std::string_view(url).substr(std::min(url.size(), kScheme.size()));
  if (!std::string_view(url).starts_with(kScheme) || rest.empty() || rest[0] == ':' ||
      rest.find_first_of("/?#") != std::string_view::npos) {
    return InvalidArgumentError("server URL \"" + url + "\" is not of the form https://host[:port]");
  }
  Result<net::http::Url> parsed = net::http::ParseUrl(url);
  if (!parsed.ok()) return InvalidArgumentError("server URL: " + parsed.status().message());
  if (options.ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgumentError("the server CA is not a PEM certificate");
  }
  if (options.client_cert_pem.empty() != options.client_key_pem.empty()) {
    return InvalidArgumentError("a client certificate needs its key, and a key its certificate");
  }
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  shared->url = std::move(parsed).value();
  auto tls = net::http::TlsContext::Create({.verify = true,
                                            .ca_pem = shared->options.ca_pem,
                                            .client_cert_pem = shared->options.client_cert_pem,
                                            .client_key_pem = shared->options.client_key_pem});
  if (tls.ok()) {
    shared->tls = std::move(tls).value();
  } else {
    shared->tls_error = tls.status().message();
  }
  return std::unique_ptr<HttpsTransport>(new HttpsTransport(std::move(shared)));
}

HttpsTransport::~HttpsTransport() = default;

ClientResponse HttpsTransport::Do(const ClientRequest& request) {
  const HttpsTransportOptions& o = shared_->options;
  auto start = Clock::now();
  Deadline deadline = start + o.request_timeout;
  Deadline connect_deadline = std::min(deadline, start + o.connect_timeout);
  auto failure = [&](const std::string& what) {
    return ClientResponse{0, FailureBody(request.method + " " + o.server_url + request.path + ": " + what)};
  };
  Result<Shared::Started> started = shared_->Start(request, /*fresh=*/false, connect_deadline, deadline);
  if (!started.ok()) return failure(started.status().message());
  std::unique_ptr<HttpConnection> connection = std::move(started->connection);
  Result<std::string> body = connection->ReadBody(o.max_response_bytes, deadline);
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kResourceExhausted) {
      return failure("response larger than " + std::to_string(o.max_response_bytes) + " bytes");
    }
    return failure(body.status().message());
  }
  shared_->Release(std::move(connection));
  return {started->head.status, std::move(body).value()};
}

Result<std::unique_ptr<WatchReader>> HttpsTransport::Watch(const ClientRequest& request) {
  auto reader = std::make_unique<HttpWatchReader>(shared_, request);
  KITE_RETURN_IF_ERROR(reader->Begin());
  return std::unique_ptr<WatchReader>(std::move(reader));
}

}  // namespace kite::client
