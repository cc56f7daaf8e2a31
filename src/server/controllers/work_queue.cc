#include "src/server/controllers/work_queue.h"

#include <algorithm>

namespace kite::controllers {

using Clock = std::chrono::steady_clock;

void WorkQueue::Add(const std::string& key) {
  bool queued;
  {
    MutexLock lock(mu_);
    queued = AddLocked(key);
  }
  // After unlocking: a worker woken under the lock would only block on it again.
  if (queued) cv_.NotifyOne();
}

bool WorkQueue::AddLocked(const std::string& key) {
  if (shut_down_ || dirty_.count(key)) return false;
  dirty_.insert(key);
  waiting_.erase(key);
  if (processing_.count(key)) return false;  // Done queues it again
  queue_.push_back(key);
  return true;
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds(0)) return Add(key);
  MutexLock lock(mu_);
  if (shut_down_ || dirty_.count(key)) return;
  Clock::time_point when = Clock::now() + delay;
  auto [it, inserted] = waiting_.emplace(key, when);
  if (!inserted) {
    if (it->second <= when) return;  // already due earlier
    it->second = when;               // the older heap entry goes stale
  }
  delayed_.push({when, key});
  cv_.NotifyAll();  // a waiting Get may need to wake earlier
}

void WorkQueue::AddRateLimited(const std::string& key, std::chrono::milliseconds cap) {
  std::chrono::milliseconds delay;
  {
    MutexLock lock(mu_);
    int n = failures_[key]++;
    auto d = backoff_.base * (int64_t{1} << std::min(n, 30));
    delay = std::min<std::chrono::milliseconds>({d, backoff_.max, cap});
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  MutexLock lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Retries(const std::string& key) const {
  MutexLock lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.top().when <= now) {
    Delayed due = delayed_.top();
    delayed_.pop();
    auto it = waiting_.find(due.key);
    if (it == waiting_.end() || it->second != due.when) continue;  // stale
    waiting_.erase(it);
    if (AddLocked(due.key)) cv_.NotifyOne();
  }
}

std::optional<Clock::time_point> WorkQueue::NextDueLocked() {
  while (!delayed_.empty()) {
    const Delayed& top = delayed_.top();
    auto it = waiting_.find(top.key);
    if (it != waiting_.end() && it->second == top.when) return top.when;
    delayed_.pop();
  }
  return std::nullopt;
}

std::optional<std::string> WorkQueue::Get() {
  MutexLock lock(mu_);
  while (true) {
    if (shut_down_) return std::nullopt;
    PromoteDueLocked(Clock::now());
    if (!queue_.empty()) break;
    if (std::optional<Clock::time_point> next = NextDueLocked()) {
      cv_.WaitFor(mu_, *next - Clock::now());
    } else {
      cv_.Wait(mu_);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  {
    MutexLock lock(mu_);
    processing_.erase(key);
    if (!dirty_.count(key) || shut_down_) return;
    queue_.push_back(key);
  }
  cv_.NotifyOne();
}

void WorkQueue::ShutDown() {
  MutexLock lock(mu_);
  shut_down_ = true;
  cv_.NotifyAll();
}

size_t WorkQueue::Len() const {
  MutexLock lock(mu_);
  return queue_.size();
}

}  // namespace kite::controllers
