#include "src/server/client/in_process_transport.h"

#include <variant>

#include "src/base/mutex.h"

namespace kite::client {
namespace {

// Collects a streaming response's chunks and hands out complete lines.
class InProcessWatchReader final : public WatchReader {
 public:
  explicit InProcessWatchReader(std::unique_ptr<http::ResponseStream> stream)
      : stream_(std::move(stream)) {
    stream_->Start([this] {
      MutexLock lock(mu_);
      woken_ = true;
      cv_.NotifyAll();
    });
  }
  ~InProcessWatchReader() override { stream_->Cancel(); }

  Result<std::vector<std::string>> Next(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (!ended_) {
        // Poll is never concurrent with itself: this reader has one user at a time.
        std::string out;
        ended_ = !stream_->Poll(out);
        pending_ += out;
      }
      std::vector<std::string> lines = TakeLines();
      if (!lines.empty()) return lines;
      if (ended_) return Status(StatusCode::kUnavailable, "the watch ended");
      MutexLock lock(mu_);
      while (!woken_) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::vector<std::string>{};
        cv_.WaitFor(mu_, deadline - now);
      }
      woken_ = false;
    }
  }

 private:
  std::vector<std::string> TakeLines() {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start) lines.push_back(pending_.substr(start, nl - start));
    }
    pending_.erase(0, start);
    return lines;
  }

  std::unique_ptr<http::ResponseStream> stream_;
  std::string pending_;
  bool ended_ = false;
  Mutex mu_;
  CondVar cv_;
  bool woken_ GUARDED_BY(mu_) = false;
};

}  // namespace

InProcessTransport::InProcessTransport(http::Handler* handler, std::string user,
                                       std::vector<std::string> groups)
    : handler_(handler) {
  identity_.has_verified_certificate = true;
  identity_.common_name = std::move(user);
  identity_.organizations = std::move(groups);
}

http::Request InProcessTransport::ToHttp(const ClientRequest& request) const {
  http::Request r;
  r.method = request.method;
  r.path = request.path;
  r.query = request.query;
  r.target = request.query.empty() ? request.path : request.path + "?" + request.query;
  r.body = request.body;
  r.headers = {{"accept", "application/json"},
               {"content-type", request.content_type},
               {"user-agent", "kite-in-process"}};
  r.peer = identity_;
  r.remote_address = "in-process";
  return r;
}

ClientResponse InProcessTransport::Do(const ClientRequest& request) {
  http::Request r = ToHttp(request);
  http::HandlerResult result = handler_->Handle(r);
  if (auto* response = std::get_if<http::Response>(&result)) {
    return {response->status, std::move(response->body)};
  }
  // A streaming answer to a plain request (a watch asked through Do): not what the caller
  // meant, and it cannot be collected without blocking forever.
  if (auto* streaming = std::get_if<http::StreamingResponse>(&result)) streaming->stream->Cancel();
  return {500, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"streaming response to a plain request"})"};
}

Result<std::unique_ptr<WatchReader>> InProcessTransport::Watch(const ClientRequest& request) {
  http::Request r = ToHttp(request);
  http::HandlerResult result = handler_->Handle(r);
  if (auto* response = std::get_if<http::Response>(&result)) {
    return Status(response->status == 410 ? StatusCode::kCompacted : StatusCode::kUnavailable,
                  "watch refused with " + std::to_string(response->status) + ": " + response->body);
  }
  auto* streaming_result = std::get_if<http::StreamingResponse>(&result);
  if (streaming_result == nullptr) return UnavailableError("watch answered with a protocol upgrade");
  auto& streaming = *streaming_result;
  return std::unique_ptr<WatchReader>(std::make_unique<InProcessWatchReader>(std::move(streaming.stream)));
}

}  // namespace kite::client
