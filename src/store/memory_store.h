// MemoryStore: a KvStore held in memory, with the same semantics as the SQLite backend.
// For unit tests of the layers above and for simulations; nothing survives the process.
//
// Concurrency: one mutex serializes writes and reads; watch fan-out goes through WatchHub.
// Limitations: history is kept for StoreOptions::history_window_revisions like the SQLite
// backend; TTL expiry runs only when ExpireKeys() is called or a write happens.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/base/mutex.h"
#include "src/store/kv_store.h"
#include "src/store/store_options.h"
#include "src/store/watch_hub.h"

namespace kite::store {

class MemoryStore final : public KvStore, private HistorySource {
 public:
  explicit MemoryStore(const StoreOptions& options = {});
  ~MemoryStore() override;

  Result<int64_t> Create(std::string_view key, std::string_view value,
                         WriteOptions options = {}) override EXCLUDES(mu_);
  Result<int64_t> Update(std::string_view key, std::string_view value,
                         int64_t expected_revision, WriteOptions options = {}) override
      EXCLUDES(mu_);
  Result<int64_t> Delete(std::string_view key, int64_t expected_revision = 0) override
      EXCLUDES(mu_);
  Result<KeyValue> Get(std::string_view key, int64_t revision = 0) override EXCLUDES(mu_);
  Result<RangeResult> Range(const RangeRequest& request) override EXCLUDES(mu_);
  Result<std::unique_ptr<Watcher>> Watch(std::string_view prefix,
                                         int64_t after_revision) override EXCLUDES(mu_);
  Status Compact(int64_t revision) override EXCLUDES(mu_);
  int64_t CurrentRevision() override EXCLUDES(mu_);
  int64_t CompactedRevision() override EXCLUDES(mu_);
  Status ExpireKeys() override EXCLUDES(mu_);

 private:
  // One version of a key; a tombstone marks a delete.
  struct Version {
    KeyValue kv;
    bool tombstone = false;
  };

  Result<std::vector<EventPtr>> ReadHistory(std::string_view prefix, int64_t after,
                                            int64_t up_to, size_t limit) override
      EXCLUDES(mu_);

  // The live version of `key` at `revision`, or nullptr.
  const Version* Find(std::string_view key, int64_t revision) const REQUIRES(mu_);
  // Appends a version at the next revision and records its event.
  EventPtr Apply(Version version, const Version* previous)
      REQUIRES(mu_);
  void ExpireLocked(std::vector<EventPtr>& events) REQUIRES(mu_);
  void CompactLocked(int64_t revision) REQUIRES(mu_);
  void AutoCompact() REQUIRES(mu_);

  const StoreOptions options_;
  const Clock* const clock_;
  // Publishing happens under mu_ so events reach the hub in revision order.
  Mutex mu_;
  std::map<std::string, std::vector<Version>, std::less<>> keys_ GUARDED_BY(mu_);
  // Keys written with a TTL, by expiry time, so a write does not scan every key. An entry
  // whose key was rewritten or deleted since is stale and skipped.
  std::multimap<int64_t, std::string> expiries_ GUARDED_BY(mu_);
  std::vector<EventPtr> log_ GUARDED_BY(mu_);  // events above compacted_, in order
  int64_t revision_ GUARDED_BY(mu_) = 0;
  int64_t compacted_ GUARDED_BY(mu_) = 0;
  WatchHub hub_;
};

}  // namespace kite::store
