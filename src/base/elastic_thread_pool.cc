#include "src/base/elastic_thread_pool.h"

#include <algorithm>
#include <utility>

namespace kite {

ElasticThreadPool::ElasticThreadPool(size_t max_threads, std::chrono::milliseconds idle_exit)
    : max_threads_(max_threads == 0 ? 1 : max_threads), idle_exit_(idle_exit) {}

ElasticThreadPool::~ElasticThreadPool() { Stop(); }

bool ElasticThreadPool::Post(std::function<void()> task) {
  std::vector<std::thread> ended;
  Waiter* woken = nullptr;
  {
    MutexLock l(mu_);
    if (stopping_) return false;
    JoinFinished(ended);
    // A worker is idle only while the queue is empty, so handing over keeps the order.
    if (!idle_.empty()) {
      woken = idle_.back();
      idle_.pop_back();
      woken->task = std::move(task);
      woken->handed = true;
    } else {
      queue_.push_back(std::move(task));
      if (workers_.size() - finished_.size() < max_threads_) {
        std::thread worker([this] { Work(); });
        auto id = worker.get_id();
        workers_.emplace(id, std::move(worker));
      }
    }
  }
  // After unlocking: the worker takes its task without the lock.
  if (woken != nullptr) woken->ready.Post();
  for (auto& t : ended) t.join();
  return true;
}

void ElasticThreadPool::Work() {
  Waiter self;  // a worker handed a task waits for the Post before it can end
  MutexLock l(mu_);
  for (;;) {
    std::function<void()> task;
    if (!queue_.empty()) {
      task = std::move(queue_.front());
      queue_.pop_front();
    } else if (stopping_) {
      break;
    } else {
      idle_.push_back(&self);
      mu_.Unlock();
      bool posted = self.ready.WaitFor(idle_exit_);
      mu_.Lock();
      if (!self.handed) {
        // Timed out, or Stop: leave (Stop has emptied idle_ already).
        if (auto it = std::find(idle_.begin(), idle_.end(), &self); it != idle_.end()) idle_.erase(it);
        break;
      }
      // Handed a task just as the wait timed out: its Post is still to come.
      if (!posted) self.ready.Wait();
      self.ready.Reset();
      task = std::move(self.task);
      self.handed = false;
    }
    mu_.Unlock();
    task();
    task = nullptr;  // destroy what the task captured outside the lock
    mu_.Lock();
  }
  finished_.push_back(std::this_thread::get_id());
  worker_gone_.NotifyAll();
}

void ElasticThreadPool::JoinFinished(std::vector<std::thread>& out) {
  for (auto id : finished_) {
    auto it = workers_.find(id);
    if (it == workers_.end()) continue;
    out.push_back(std::move(it->second));
    workers_.erase(it);
  }
  finished_.clear();
}

void ElasticThreadPool::Stop() {
  std::deque<std::function<void()>> dropped;
  std::map<std::thread::id, std::thread> workers;
  {
    MutexLock l(mu_);
    stopping_ = true;
    dropped.swap(queue_);
    for (Waiter* idle : idle_) idle->ready.Post();
    idle_.clear();
    while (finished_.size() < workers_.size()) worker_gone_.Wait(mu_);
    workers.swap(workers_);
    finished_.clear();
  }
  for (auto& [id, t] : workers) t.join();
  // `dropped` goes here, outside the lock: its captures may run destructors that post.
}

size_t ElasticThreadPool::threads() const {
  MutexLock l(mu_);
  return workers_.size() - finished_.size();
}

}  // namespace kite
