// SqliteStore: the KvStore on an embedded SQLite database — Kite's default datastore.
//
// Operation: the database is a log. `history` holds every write (one row per revision,
// deletes as tombstones); `current` maps each live key to its newest row; `meta` holds the
// revision counter and the compaction point. One writer thread owns the only write
// connection: callers queue their writes and wait; the writer commits every write waiting
// at that moment in one transaction (group commit: one fsync for many writers), publishes
// the events to the WatchHub, then acknowledges. Reads run on a pool of read connections
// against WAL snapshots and never wait for the writer.
//
// Current reads of single keys are served from LatestValues (latest_values.h) when the key
// was written or read recently.
//
// Durability: WAL journal. With Durability::kFull (the default, synchronous=FULL) the WAL is
// fsynced before a write is acknowledged, so an acknowledged write survives kill -9 and
// power loss. Durability::kNormal skips that fsync: survives kill -9, not power loss.
//
// Compaction: history older than StoreOptions::history_window_revisions is deleted by the
// writer thread in steps of compaction_batch_revisions rows, each its own short
// transaction, between write groups — so compaction never holds writers up for long.
// Freed pages are reused, and the WAL is checkpointed and truncated, which keeps the files
// bounded under steady churn.
//
// Concurrency: all public methods are thread-safe. Limitations: one writer thread, so write
// throughput is bounded by one core plus the fsync rate; no backpressure on the write
// queue beyond the callers blocking.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/store/kv_store.h"
#include "src/store/latest_values.h"
#include "src/store/sqlite_db.h"
#include "src/store/store_options.h"
#include "src/store/watch_hub.h"

namespace kite::store {

class SqliteStore final : public KvStore, private HistorySource {
 public:
  // Opens or creates the database at `path` (its directory must exist).
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const StoreOptions& options = {});
  // Finishes queued writes, stops the writer and closes every watcher.
  ~SqliteStore() override;

  Result<int64_t> Create(std::string_view key, std::string_view value,
                         WriteOptions options = {}) override;
  Result<int64_t> Update(std::string_view key, std::string_view value,
                         int64_t expected_revision, WriteOptions options = {}) override;
  Result<int64_t> Delete(std::string_view key, int64_t expected_revision = 0) override;
  Result<KeyValue> Get(std::string_view key, int64_t revision = 0) override;
  Result<RangeResult> Range(const RangeRequest& request) override;
  Result<std::unique_ptr<Watcher>> Watch(std::string_view prefix,
                                         int64_t after_revision) override;
  Status Compact(int64_t revision) override;
  int64_t CurrentRevision() override { return committed_revision_.load(); }
  int64_t CompactedRevision() override { return compacted_.load(); }
  Status ExpireKeys() override;

  // Revision up to which old history rows have actually been deleted.
  int64_t PhysicallyCompactedRevision() { return compact_done_published_.load(); }
  // Write transactions committed and writes acknowledged in them: writes / groups is the
  // average group-commit size.
  struct CommitStats {
    int64_t groups = 0;
    int64_t writes = 0;
  };
  CommitStats commit_stats() { return {groups_.load(), writes_.load()}; }
  // The longest single compaction step so far, in microseconds (how long it held writers).
  int64_t MaxCompactionStepMicros() { return max_compaction_step_us_.load(); }

 private:
  struct Op;
  struct Reader;
  struct Writer;

  SqliteStore(const std::string& path, const StoreOptions& options);
  Status Init();

  // Queues `op` for the writer thread and waits for its result.
  Result<int64_t> Submit(Op& op) EXCLUDES(queue_mu_);
  void WriterLoop() EXCLUDES(queue_mu_);
  void CommitGroup(std::vector<Op*>& ops);
  // One compaction step and/or TTL check, when due.
  void Maintain();
  Status CompactStep();

  Result<std::unique_ptr<Reader>> AcquireReader() EXCLUDES(readers_mu_);
  void ReleaseReader(std::unique_ptr<Reader> reader) EXCLUDES(readers_mu_);

  Result<std::vector<EventPtr>> ReadHistory(std::string_view prefix, int64_t after,
                                            int64_t up_to, size_t limit) override;

  const std::string path_;
  const StoreOptions options_;
  const Clock* const clock_;

  Mutex queue_mu_;
  CondVar queue_cv_;
  std::deque<Op*> queue_ GUARDED_BY(queue_mu_);
  bool stopping_ GUARDED_BY(queue_mu_) = false;

  // Owned by the writer thread once it runs.
  std::unique_ptr<Writer> writer_;
  std::thread writer_thread_;

  Mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_ GUARDED_BY(readers_mu_);

  std::atomic<int64_t> committed_revision_{0};
  std::atomic<int64_t> compacted_{0};
  std::atomic<int64_t> compact_done_published_{0};
  std::atomic<int64_t> max_compaction_step_us_{0};
  std::atomic<int64_t> groups_{0};
  std::atomic<int64_t> writes_{0};

  WatchHub hub_;
  LatestValues latest_{options_.latest_values_bytes};
};

}  // namespace kite::store
