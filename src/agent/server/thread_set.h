// A set of threads a session starts as it goes (one per stream direction), joined when they
// finish or at the end. Thread-safety: all methods may be called from any thread, also from
// threads in the set (Spawn); JoinAll must not be called from a thread in the set.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "src/base/mutex.h"

namespace kite::agent::server {

class ThreadSet {
 public:
  ThreadSet() = default;
  ~ThreadSet() { JoinAll(); }
  ThreadSet(const ThreadSet&) = delete;
  ThreadSet& operator=(const ThreadSet&) = delete;

  void Spawn(std::function<void()> body) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([body = std::move(body), done] {
      body();
      done->store(true);
    });
    MutexLock lock(mu_);
    threads_.push_back(Entry{std::move(thread), done});
  }

  // Joins the threads that have finished (so a long session does not pile them up).
  void ReapFinished() {
    std::list<Entry> finished;
    {
      MutexLock lock(mu_);
      for (auto it = threads_.begin(); it != threads_.end();) {
        auto next = std::next(it);
        if (it->done->load()) finished.splice(finished.end(), threads_, it);
        it = next;
      }
    }
    for (Entry& entry : finished) entry.thread.join();
  }

  // Joins every thread, including ones started meanwhile by threads of the set.
  void JoinAll() {
    while (true) {
      std::list<Entry> all;
      {
        MutexLock lock(mu_);
        all.swap(threads_);
      }
      if (all.empty()) return;
      for (Entry& entry : all) entry.thread.join();
    }
  }

 private:
  struct Entry {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  Mutex mu_;
  std::list<Entry> threads_ GUARDED_BY(mu_);
};

}  // namespace kite::agent::server
