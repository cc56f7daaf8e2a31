#include "src/server/controllers/pod_control_expectations.h"

namespace kite::controllers {

void PodExpectations::ExpectCreations(const std::string& key, int count) {
  MutexLock lock(mu_);
  records_[key] = Record{count, {}, clock_->NowMillis()};
}

void PodExpectations::ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys) {
  MutexLock lock(mu_);
  records_[key] = Record{0, std::set<std::string>(pod_keys.begin(), pod_keys.end()), clock_->NowMillis()};
}

void PodExpectations::CreationObserved(const std::string& key) {
  MutexLock lock(mu_);
  auto it = records_.find(key);
  if (it != records_.end() && it->second.adds > 0) --it->second.adds;
}

void PodExpectations::DeletionObserved(const std::string& key, const std::string& pod_key) {
  MutexLock lock(mu_);
  auto it = records_.find(key);
  if (it != records_.end()) it->second.deletes.erase(pod_key);
}

bool PodExpectations::Satisfied(const std::string& key) const {
  MutexLock lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return true;
  const Record& r = it->second;
  if (r.adds <= 0 && r.deletes.empty()) return true;
  return clock_->NowMillis() - r.set_at_ms > ttl_.count();
}

void PodExpectations::Delete(const std::string& key) {
  MutexLock lock(mu_);
  records_.erase(key);
}

}  // namespace kite::controllers
