// Tuning and policy knobs shared by the store backends.
#pragma once

#include <chrono>
#include <cstdint>

#include "src/base/clock.h"

namespace kite::store {

// How a SQLite commit reaches the disk.
enum class Durability {
  // fsync the WAL at every commit (SQLite synchronous=FULL): an acknowledged write survives
  // kill -9 and power loss. The default.
  kFull,
  // No fsync at commit (synchronous=NORMAL): survives kill -9 of the process, but the last
  // commits may be lost on power loss. For throwaway clusters and tests.
  kNormal,
};

struct StoreOptions {
  // Time source for TTLs. Not owned; must outlive the store. nullptr = the system clock.
  const Clock* clock = nullptr;
  // Revisions of history kept for watches and past reads; older ones are compacted away
  // automatically. 0 disables automatic compaction.
  int64_t history_window_revisions = 10'000;
  // Events buffered per watcher before it is cut off with kResourceExhausted.
  size_t watch_buffer_events = 10'000;
  // How often keys with a TTL are checked for expiry.
  std::chrono::milliseconds ttl_check_interval{1000};
  // SQLite only.
  Durability durability = Durability::kFull;
  // SQLite only: most writes committed in one transaction.
  size_t max_group_commit = 1024;
  // SQLite only: history rows examined per compaction transaction, which bounds how long a
  // compaction step holds up writers.
  int64_t compaction_batch_revisions = 500;
  // SQLite only: memory for the newest values of recently used keys, which current reads
  // of single keys take instead of the database.
  size_t latest_values_bytes = 32 << 20;
};

}  // namespace kite::store
