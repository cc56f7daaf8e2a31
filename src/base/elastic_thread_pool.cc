#include "src/base/elastic_thread_pool.h"

#include <utility>

namespace kite {

ElasticThreadPool::ElasticThreadPool(size_t max_threads, std::chrono::milliseconds idle_exit)
    : max_threads_(max_threads == 0 ? 1 : max_threads), idle_exit_(idle_exit) {}

ElasticThreadPool::~ElasticThreadPool() { Stop(); }

bool ElasticThreadPool::Post(std::function<void()> task) {
  std::vector<std::thread> ended;
  bool wake = false;
  {
    MutexLock l(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
    JoinFinished(ended);
    // Idle workers take queued tasks one each; start another only when they cannot.
    if (queue_.size() <= idle_) {
      wake = true;
    } else if (workers_.size() - finished_.size() < max_threads_) {
      std::thread worker([this] { Work(); });
      auto id = worker.get_id();
      workers_.emplace(id, std::move(worker));
    }
  }
  // After unlocking: a worker woken under the lock would only block on it again.
  if (wake) work_ready_.NotifyOne();
  for (auto& t : ended) t.join();
  return true;
}

void ElasticThreadPool::Work() {
  MutexLock l(mu_);
  for (;;) {
    while (queue_.empty() && !stopping_) {
      ++idle_;
      bool woken = work_ready_.WaitFor(mu_, idle_exit_);
      --idle_;
      if (!woken && queue_.empty() && !stopping_) break;
    }
    if (stopping_ || queue_.empty()) break;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
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
    work_ready_.NotifyAll();
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
