// WorkQueue: the keys of objects that need reconciling, as client-go's rate-limited
// workqueue behaves: a key is queued at most once however often it is added; a key being
// processed is not handed to a second worker, and if it is added meanwhile it comes back
// once Done is called; failed keys come back after a per-key exponential back-off.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "src/base/mutex.h"

namespace kite::controllers {

class WorkQueue {
 public:
  struct BackOff {
    std::chrono::milliseconds base{5};
    std::chrono::milliseconds max{std::chrono::seconds(300)};
  };
  WorkQueue() : WorkQueue(BackOff{}) {}
  explicit WorkQueue(BackOff backoff) : backoff_(backoff) {}

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (an earlier pending time wins).
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Adds `key` after its back-off, which doubles with every call until Forget, up to the
  // queue's maximum or `cap`, whichever is smaller.
  void AddRateLimited(const std::string& key, std::chrono::milliseconds cap = std::chrono::milliseconds::max());
  // Resets the back-off of `key` (after a success).
  void Forget(const std::string& key);
  int Retries(const std::string& key) const;

  // Blocks until a key is ready, returns it and marks it processing; nullopt once the queue
  // is shut down.
  std::optional<std::string> Get();
  // The worker finished `key`; if it was added meanwhile it is queued again.
  void Done(const std::string& key);
  // Wakes every Get with nullopt; later Adds are ignored.
  void ShutDown();

  size_t Len() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  // A delayed key; entries whose time no longer matches waiting_ are stale and skipped.
  struct Delayed {
    TimePoint when;
    std::string key;
    bool operator>(const Delayed& other) const { return when > other.when; }
  };

  // Marks `key` dirty; true when it joined the queue, so a worker should be woken.
  bool AddLocked(const std::string& key) REQUIRES(mu_);
  // Queues the delayed keys that are due: O(log n) per due key, whatever number wait.
  void PromoteDueLocked(TimePoint now) REQUIRES(mu_);
  // When the earliest delayed key is due (dropping stale entries); nullopt when none waits.
  std::optional<TimePoint> NextDueLocked() REQUIRES(mu_);

  const BackOff backoff_;
  mutable Mutex mu_;
  CondVar cv_;
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  std::unordered_set<std::string> dirty_ GUARDED_BY(mu_);  // queued or to requeue after Done
  std::unordered_set<std::string> processing_ GUARDED_BY(mu_);
  std::unordered_map<std::string, TimePoint> waiting_ GUARDED_BY(mu_);
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_ GUARDED_BY(mu_);
  std::unordered_map<std::string, int> failures_ GUARDED_BY(mu_);
  bool shut_down_ GUARDED_BY(mu_) = false;
};

}  // namespace kite::controllers
