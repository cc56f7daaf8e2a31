#include "src/store/watch_hub.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>

namespace kite::store {

namespace {
// History is replayed in pages of this many events, so a watcher from far back does not
// load all of it at once.
constexpr size_t kHistoryPage = 1000;
// At most this many queued events are handed out per Next().
constexpr size_t kMaxBatch = 4096;
}  // namespace

class HubWatcher final : public Watcher {
 public:
  HubWatcher(WatchHub* hub, std::string prefix, int64_t after, int64_t history_up_to)
      : hub_(hub), prefix_(std::move(prefix)), after_(after), history_up_to_(history_up_to) {
    history_done_after_ = after;
  }
  ~HubWatcher() override { hub_->Remove(this); }

  Result<std::vector<EventPtr>> Next(std::chrono::milliseconds timeout) override;
  void SetReadyCallback(std::function<void()> callback) override {
    MutexLock lock(mu_);
    ready_ = std::move(callback);
  }

  const std::string& prefix() const { return prefix_; }

  // Called by the hub (under its lock) for each published event under our prefix.
  void Deliver(const EventPtr& event, size_t limit) {
    MutexLock lock(mu_);
    if (!error_.ok() || event->revision() <= after_) return;
    if (queue_.size() >= limit) {
      Fail(ResourceExhaustedError("watch of \"" + prefix_ + "\" fell more than " +
                                  std::to_string(limit) +
                                  " events behind and was cut off; list again and re-watch"));
      return;
    }
    queue_.push_back(event);
    Signal();
  }

  void Fail(Status status) REQUIRES(mu_) {
    if (!error_.ok()) return;
    error_ = std::move(status);
    queue_.clear();
    queue_.shrink_to_fit();
    Signal();
  }
  void FailLocked(Status status) {
    MutexLock lock(mu_);
    Fail(std::move(status));
  }

 private:
  void Signal() REQUIRES(mu_) {
    cv_.NotifyOne();
    if (ready_) ready_();
  }

  WatchHub* const hub_;
  const std::string prefix_;
  const int64_t after_;
  // History in (after_, history_up_to_] comes from the HistorySource, later events from the
  // queue.
  const int64_t history_up_to_;
  // Touched only by the thread calling Next().
  int64_t history_done_after_;

  Mutex mu_;
  CondVar cv_;
  std::deque<EventPtr> queue_ GUARDED_BY(mu_);
  Status error_ GUARDED_BY(mu_);
  std::function<void()> ready_ GUARDED_BY(mu_);
};

Result<std::vector<EventPtr>> HubWatcher::Next(std::chrono::milliseconds timeout) {
  while (history_done_after_ < history_up_to_) {
    {
      MutexLock lock(mu_);
      if (!error_.ok()) return error_;
    }
    Result<std::vector<EventPtr>> page =
        hub_->history_->ReadHistory(prefix_, history_done_after_, history_up_to_, kHistoryPage);
    if (!page.ok()) {
      MutexLock lock(mu_);
      Fail(page.status());
      return error_;
    }
    history_done_after_ =
        page->size() < kHistoryPage ? history_up_to_ : page->back()->revision();
    if (!page->empty()) return page;
  }

  MutexLock lock(mu_);
  if (queue_.empty() && error_.ok() && timeout.count() > 0) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (queue_.empty() && error_.ok()) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      cv_.WaitFor(mu_, left);
    }
  }
  if (!error_.ok()) return error_;
  std::vector<EventPtr> batch;
  size_t n = std::min(queue_.size(), kMaxBatch);
  batch.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

WatchHub::WatchHub(HistorySource* history, size_t buffer_limit)
    : history_(history), buffer_limit_(buffer_limit) {}

WatchHub::~WatchHub() {
  MutexLock lock(mu_);
  if (!watchers_.empty()) {
    std::fprintf(stderr, "kite: store destroyed with %zu live watchers\n", watchers_.size());
    std::abort();  // a watcher would dangle: destroy watchers before their store
  }
}

std::unique_ptr<Watcher> WatchHub::Add(std::string prefix, int64_t after_revision) {
  MutexLock lock(mu_);
  auto watcher = std::make_unique<HubWatcher>(this, std::move(prefix), after_revision,
                                              std::max(after_revision, published_));
  if (closed_) watcher->FailLocked(UnavailableError("the store is closed"));
  watchers_.push_back(watcher.get());
  return watcher;
}

void WatchHub::Remove(HubWatcher* watcher) {
  MutexLock lock(mu_);
  auto it = std::find(watchers_.begin(), watchers_.end(), watcher);
  if (it != watchers_.end()) {
    *it = watchers_.back();
    watchers_.pop_back();
  }
}

void WatchHub::Publish(const std::vector<EventPtr>& events) {
  if (events.empty()) return;
  MutexLock lock(mu_);
  for (HubWatcher* watcher : watchers_) {
    for (const EventPtr& event : events) {
      if (event->kv.key.starts_with(watcher->prefix())) watcher->Deliver(event, buffer_limit_);
    }
  }
  published_ = events.back()->revision();
}

int64_t WatchHub::published_revision() {
  MutexLock lock(mu_);
  return published_;
}

void WatchHub::SetPublished(int64_t revision) {
  MutexLock lock(mu_);
  published_ = revision;
}

void WatchHub::Close() {
  MutexLock lock(mu_);
  closed_ = true;
  for (HubWatcher* watcher : watchers_) watcher->FailLocked(UnavailableError("the store is closed"));
}

size_t WatchHub::watcher_count() {
  MutexLock lock(mu_);
  return watchers_.size();
}

}  // namespace kite::store
