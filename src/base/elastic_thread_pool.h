// Worker threads that come with demand and go when idle: a task posted while every worker
// is busy starts a new one (up to max_threads), and a worker idle for idle_exit ends. An
// idle server thus holds no workers, while a burst of blocking tasks (handlers waiting on
// the store) still runs in parallel.
//
// A task posted while a worker is idle goes straight to the worker that became idle last:
// it wakes alone (no other worker contends for the pool's lock), its cache is the warmest,
// and the workers idle longest are the ones that end.
//
// Order: tasks start in the order posted. Stop drops the tasks not yet started, waits for
// the running ones and joins every thread; Post returns false from then on.
// Thread-safety: all methods are thread-safe; Stop must not be called from a task.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "src/base/baton.h"
#include "src/base/mutex.h"

namespace kite {

class ElasticThreadPool {
 public:
  ElasticThreadPool(size_t max_threads, std::chrono::milliseconds idle_exit);
  ~ElasticThreadPool();  // Stop()
  ElasticThreadPool(const ElasticThreadPool&) = delete;
  ElasticThreadPool& operator=(const ElasticThreadPool&) = delete;

  bool Post(std::function<void()> task);
  void Stop();

  size_t threads() const;  // live workers, for tests and metrics

 private:
  // An idle worker's hand-off slot: Post sets `task`, then posts `ready`.
  struct Waiter {
    Baton ready;
    std::function<void()> task;  // under mu_
    bool handed = false;         // under mu_: `task` is there to take
  };

  void Work();
  void JoinFinished(std::vector<std::thread>& out) REQUIRES(mu_);

  const size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable Mutex mu_;
  CondVar worker_gone_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  std::map<std::thread::id, std::thread> workers_ GUARDED_BY(mu_);
  std::vector<std::thread::id> finished_ GUARDED_BY(mu_);  // ended, not yet joined
  std::vector<Waiter*> idle_ GUARDED_BY(mu_);  // the worker idle last at the back
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace kite
