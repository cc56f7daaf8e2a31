#include "src/store/latest_values.h"

#include <algorithm>

namespace kite::store {

void LatestValues::Put(const KeyValue& kv) {
  MutexLock lock(mu_);
  auto it = index_.find(kv.key);
  if (it == index_.end() || Cost(kv) > max_bytes_) {
    if (it != index_.end()) Remove(it->second);
    return InsertFront(kv);
  }
  // Replaced in place: on the writer's thread, the entry's value keeps its buffer and the
  // index its node (the key is the same).
  Entries::iterator entry = it->second;
  bytes_ -= Cost(*entry);
  entry->value = kv.value;
  entry->create_revision = kv.create_revision;
  entry->mod_revision = kv.mod_revision;
  entry->expires_at_ms = kv.expires_at_ms;
  bytes_ += Cost(*entry);
  entries_.splice(entries_.begin(), entries_, entry);
  EvictOverBudget();
}

void LatestValues::Erase(std::string_view key, int64_t revision) {
  MutexLock lock(mu_);
  fill_floor_ = std::max(fill_floor_, revision);
  if (auto it = index_.find(key); it != index_.end()) Remove(it->second);
}

void LatestValues::Fill(const KeyValue& kv, int64_t read_from_revision) {
  MutexLock lock(mu_);
  if (read_from_revision < fill_floor_ || index_.count(kv.key)) return;
  InsertFront(kv);
}

std::optional<KeyValue> LatestValues::Find(std::string_view key) {
  MutexLock lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);
  return *it->second;
}

size_t LatestValues::bytes() const {
  MutexLock lock(mu_);
  return bytes_;
}

size_t LatestValues::size() const {
  MutexLock lock(mu_);
  return index_.size();
}

void LatestValues::InsertFront(const KeyValue& kv) {
  if (Cost(kv) > max_bytes_) {
    fill_floor_ = std::max(fill_floor_, kv.mod_revision);
    return;
  }
  entries_.push_front(kv);
  index_.emplace(entries_.front().key, entries_.begin());
  bytes_ += Cost(kv);
  EvictOverBudget();
}

void LatestValues::EvictOverBudget() {
  while (bytes_ > max_bytes_) {
    auto last = std::prev(entries_.end());
    fill_floor_ = std::max(fill_floor_, last->mod_revision);
    Remove(last);
  }
}

void LatestValues::Remove(Entries::iterator it) {
  bytes_ -= Cost(*it);
  index_.erase(std::string_view(it->key));
  entries_.erase(it);
}

}  // namespace kite::store
