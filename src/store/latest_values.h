// LatestValues: the newest committed state of recently written or read keys, so that
// current reads of hot keys (an update reads the object it replaces) skip the database.
//
// Correctness: the store's single writer calls Put/Erase after each commit and before
// acknowledging it, so an entry is never older than an acknowledged write. Readers add
// what they read with Fill, which only inserts when nothing could have changed the key
// since the read began: the key has no entry (the writer's entries always win), and no
// entry was erased or evicted at a revision after `read_from_revision` (a read that began
// before a delete or an eviction could bring back a value that is gone).
//
// Memory: at most `max_bytes` of keys and values (least recently used go first).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "src/base/mutex.h"
#include "src/store/kv_store.h"

namespace kite::store {

class LatestValues {
 public:
  explicit LatestValues(size_t max_bytes) : max_bytes_(max_bytes) {}
  LatestValues(const LatestValues&) = delete;
  LatestValues& operator=(const LatestValues&) = delete;

  // The writer: `kv` is the key's new committed state.
  void Put(const KeyValue& kv) EXCLUDES(mu_);
  // The writer: the key was deleted at `revision`.
  void Erase(std::string_view key, int64_t revision) EXCLUDES(mu_);
  // A reader: `kv` was read from a snapshot at least as new as `read_from_revision` (the
  // store's committed revision taken before the read).
  void Fill(const KeyValue& kv, int64_t read_from_revision) EXCLUDES(mu_);

  std::optional<KeyValue> Find(std::string_view key) EXCLUDES(mu_);

  size_t bytes() const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  using Entries = std::list<KeyValue>;  // most recently used first

  void InsertFront(const KeyValue& kv) REQUIRES(mu_);
  // Least recently used first, until within max_bytes_.
  void EvictOverBudget() REQUIRES(mu_);
  void Remove(Entries::iterator it) REQUIRES(mu_);
  static size_t Cost(const KeyValue& kv) { return kv.key.size() + kv.value.size() + 64; }

  const size_t max_bytes_;
  mutable Mutex mu_;
  Entries entries_ GUARDED_BY(mu_);
  // Keys point into the entries they index.
  std::unordered_map<std::string_view, Entries::iterator> index_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  // Reads that began below this revision may have missed an erase or eviction.
  int64_t fill_floor_ GUARDED_BY(mu_) = 0;
};

}  // namespace kite::store
