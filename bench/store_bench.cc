// store_bench: the SQLite store's write throughput, range reads and watch latency, each
// beside a reference run in the same process.
//
//   store_bench [--seconds S] [--dir DIR]
//
// - durable writes/s of 1 KiB values with 1 and 32 writers (default durability: fsync per
//   commit), beside raw SQLite inserts of the same rows with the same durability and the
//   same transaction sizes (our measured group-commit size);
// - a range read of 10,000 keys, beside a raw SQLite SELECT of the same rows;
// - watch delivery latency with 1,000 watchers, from the start of each write to its
//   delivery to each watcher, beside the write's own acknowledgement latency.
// Ends with one RESULT line.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/store/sqlite_store.h"

namespace {

using kite::store::SqliteStore;
using kite::store::StoreOptions;
using Clock = std::chrono::steady_clock;

const std::string kValue(1024, 'v');

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Key(int writer, long n) {
  char key[64];
  std::snprintf(key, sizeof key, "/registry/bench/w%02d/%010ld", writer, n);
  return key;
}

std::unique_ptr<SqliteStore> OpenStore(const std::filesystem::path& path,
                                       const StoreOptions& options = {}) {
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  auto store = SqliteStore::Open(path.string(), options);
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), store.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(store).value();
}

struct WriteRun {
  double writes_per_s = 0;
  double group_size = 0;
};

WriteRun DurableWrites(const std::filesystem::path& dir, int writers, double seconds) {
  auto store = OpenStore(dir / "writes.db");
  std::atomic<long> total{0};
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds));
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      long n = 0;
      while (Clock::now() < deadline) {
        if (!store->Create(Key(t, n++), kValue).ok()) std::abort();
      }
      total += n;
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = Seconds(Clock::now() - start);
  auto stats = store->commit_stats();
  return {total / elapsed, stats.groups ? double(stats.writes) / stats.groups : 0};
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

sqlite3* OpenRaw(const std::filesystem::path& path) {
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  sqlite3* db = nullptr;
  Check(sqlite3_open(path.c_str(), &db), db, "open raw");
  Check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE kv(key BLOB PRIMARY KEY, value BLOB);",
                     nullptr, nullptr, nullptr),
        db, "schema");
  return db;
}

// Raw SQLite: the same rows (keys of `writers` interleaved writers), one thread,
// `rows_per_txn` rows per transaction.
double RawInserts(const std::filesystem::path& dir, int writers, int rows_per_txn,
                  double seconds) {
  sqlite3* db = OpenRaw(dir / "raw.db");
  sqlite3_stmt* insert = nullptr;
  Check(sqlite3_prepare_v2(db, "INSERT INTO kv(key, value) VALUES(?1, ?2)", -1, &insert, nullptr),
        db, "prepare");
  long n = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(seconds));
  while (Clock::now() < deadline) {
    Check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
    for (int i = 0; i < rows_per_txn; ++i) {
      std::string key = Key(n % writers, n / writers);
      ++n;
      sqlite3_bind_blob(insert, 1, key.data(), key.size(), SQLITE_TRANSIENT);
      sqlite3_bind_blob(insert, 2, kValue.data(), kValue.size(), SQLITE_STATIC);
      Check(sqlite3_step(insert), db, "insert");
      sqlite3_reset(insert);
    }
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  double rate = n / Seconds(Clock::now() - start);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return rate;
}

template <class F>
double MedianMillis(int runs, F f) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f();
    ms.push_back(Seconds(Clock::now() - start) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct RangeRun {
  double ours_ms = 0;
  double raw_ms = 0;
};

RangeRun RangeRead(const std::filesystem::path& dir) {
  constexpr int kKeys = 10'000;
  StoreOptions options;
  options.durability = kite::store::Durability::kNormal;  // loading is not what we measure
  auto store = OpenStore(dir / "range.db", options);
  sqlite3* raw = OpenRaw(dir / "range-raw.db");
  sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(raw, "INSERT INTO kv(key, value) VALUES(?1, ?2)", -1, &insert, nullptr);
  for (int i = 0; i < kKeys; ++i) {
    std::string key = Key(0, i);
    if (!store->Create(key, kValue).ok()) std::abort();
    sqlite3_bind_blob(insert, 1, key.data(), key.size(), SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 2, kValue.data(), kValue.size(), SQLITE_STATIC);
    Check(sqlite3_step(insert), raw, "insert");
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);

  RangeRun run;
  auto request = kite::store::RangeRequest::Prefix("/registry/bench/");
  run.ours_ms = MedianMillis(15, [&] {
    auto result = store->Range(request);
    if (!result.ok() || result->kvs.size() != kKeys) std::abort();
  });
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(raw, "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key",
                     -1, &select, nullptr);
  std::string lo = "/registry/bench/", hi = kite::store::PrefixEnd(lo);
  run.raw_ms = MedianMillis(15, [&] {
    sqlite3_bind_blob(select, 1, lo.data(), lo.size(), SQLITE_STATIC);
    sqlite3_bind_blob(select, 2, hi.data(), hi.size(), SQLITE_STATIC);
    std::vector<std::pair<std::string, std::string>> rows;
    while (sqlite3_step(select) == SQLITE_ROW) {
      rows.emplace_back(
          std::string(static_cast<const char*>(sqlite3_column_blob(select, 0)),
                      sqlite3_column_bytes(select, 0)),
          std::string(static_cast<const char*>(sqlite3_column_blob(select, 1)),
                      sqlite3_column_bytes(select, 1)));
    }
    sqlite3_reset(select);
    if (rows.size() != kKeys) std::abort();
  });
  sqlite3_finalize(select);
  sqlite3_close(raw);
  return run;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

struct WatchRun {
  double p50_ms = 0, p99_ms = 0, ack_p50_ms = 0, ack_p99_ms = 0;
  long delivered = 0, expected = 0;
};

// 1,000 watchers on one prefix, served by two consumer threads woken through the ready
// callbacks (as an event loop would), while one writer writes timestamped values.
WatchRun WatchLatency(const std::filesystem::path& dir) {
  constexpr int kWatchers = 1000, kEvents = 400;
  auto store = OpenStore(dir / "watch.db");
  std::vector<std::unique_ptr<kite::store::Watcher>> watchers;
  std::vector<std::atomic<bool>> queued(kWatchers);
  kite::Mutex mu;
  kite::CondVar cv;
  std::vector<int> ready;  // guarded by mu
  for (int i = 0; i < kWatchers; ++i) {
    watchers.push_back(std::move(store->Watch("/registry/watched/", store->CurrentRevision())).value());
    watchers.back()->SetReadyCallback([&, i] {
      if (queued[i].exchange(true)) return;
      kite::MutexLock lock(mu);
      ready.push_back(i);
      cv.NotifyOne();
    });
  }
  std::atomic<bool> done{false};
  std::vector<std::vector<double>> latencies(2);
  std::atomic<long> delivered{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 2; ++c) {
    consumers.emplace_back([&, c] {
      while (true) {
        int i;
        {
          kite::MutexLock lock(mu);
          while (ready.empty() && !done) cv.WaitFor(mu, std::chrono::milliseconds(50));
          if (ready.empty()) return;
          i = ready.back();
          ready.pop_back();
        }
        queued[i] = false;
        auto events = watchers[i]->Next(std::chrono::milliseconds(0));
        if (!events.ok()) std::abort();
        auto now = Clock::now().time_since_epoch().count();
        for (const auto& e : *events) {
          int64_t sent;
          std::memcpy(&sent, e->kv.value.data(), sizeof sent);
          latencies[c].push_back((now - sent) / 1e6);
        }
        delivered += events->size();
      }
    });
  }
  std::vector<double> acks;
  std::string value = kValue;
  for (int n = 0; n < kEvents; ++n) {
    int64_t sent = Clock::now().time_since_epoch().count();
    std::memcpy(value.data(), &sent, sizeof sent);
    auto start = Clock::now();
    if (!store->Create("/registry/watched/" + std::to_string(n), value).ok()) std::abort();
    acks.push_back(Seconds(Clock::now() - start) * 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a steady trickle, not a flood
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (delivered < long(kWatchers) * kEvents && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done = true;
  for (auto& t : consumers) t.join();
  WatchRun run;
  std::vector<double> all = latencies[0];
  all.insert(all.end(), latencies[1].begin(), latencies[1].end());
  run.delivered = delivered;
  run.expected = long(kWatchers) * kEvents;
  run.p50_ms = Percentile(all, 0.50);
  run.p99_ms = Percentile(all, 0.99);
  run.ack_p50_ms = Percentile(acks, 0.50);
  run.ack_p99_ms = Percentile(acks, 0.99);
  watchers.clear();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::filesystem::path dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    char pattern[] = "/var/tmp/kite-bench-XXXXXX";  // on disk, not tmpfs: fsync must be real
    if (!mkdtemp(pattern)) return 1;
    dir = pattern;
  }
  std::filesystem::create_directories(dir);
  std::printf("store_bench in %s, %.1f s per write run (medians of 3 alternating runs)\n\n", dir.c_str(), seconds);

  // The disk's fsync rate drifts over seconds, so ours and raw alternate, three runs
  // each, and the medians are compared.
  auto compare = [&](int writers, WriteRun& ours, double& raw, int& txn) {
    std::vector<double> ours_rates, raw_rates, groups;
    for (int round = 0; round < 3; ++round) {
      WriteRun run = DurableWrites(dir, writers, seconds);
      ours_rates.push_back(run.writes_per_s);
      groups.push_back(run.group_size);
      txn = std::max(1, static_cast<int>(run.group_size + 0.5));
      raw_rates.push_back(RawInserts(dir, writers, txn, seconds));
    }
    ours.writes_per_s = Percentile(ours_rates, 0.5);
    ours.group_size = Percentile(groups, 0.5);
    raw = Percentile(raw_rates, 0.5);
  };
  WriteRun one, many;
  double raw_one = 0, raw_many = 0;
  int txn_one = 1, txn = 1;
  compare(1, one, raw_one, txn_one);
  std::printf("durable writes, 1 writer:   %8.0f/s  (group %.1f)   raw SQLite, 1 row/txn:  %8.0f/s  ratio %.2f\n",
              one.writes_per_s, one.group_size, raw_one, one.writes_per_s / raw_one);
  compare(32, many, raw_many, txn);
  std::printf("durable writes, 32 writers: %8.0f/s  (group %.1f)   raw SQLite, %d rows/txn: %8.0f/s  ratio %.2f\n",
              many.writes_per_s, many.group_size, txn, raw_many, many.writes_per_s / raw_many);

  RangeRun range = RangeRead(dir);
  std::printf("range read of 10,000 keys:  %8.2f ms            raw SQLite SELECT:      %8.2f ms  time ratio %.2f\n",
              range.ours_ms, range.raw_ms, range.ours_ms / range.raw_ms);

  WatchRun watch = WatchLatency(dir);
  std::printf("watch, 1,000 watchers:      p50 %.2f ms  p99 %.2f ms   (write ack p50 %.2f ms  p99 %.2f ms; delivered %ld of %ld)\n",
              watch.p50_ms, watch.p99_ms, watch.ack_p50_ms, watch.ack_p99_ms, watch.delivered,
              watch.expected);

  std::printf(
      "RESULT writes_per_s_1=%.0f raw_writes_per_s_1=%.0f ratio_vs_raw_1=%.2f "
      "writes_per_s_32=%.0f group_size_32=%.1f raw_writes_per_s_32=%.0f ratio_vs_raw_32=%.2f "
      "range_10k_ms=%.2f raw_range_10k_ms=%.2f range_time_ratio_vs_raw=%.2f watch_p50_ms=%.2f watch_p99_ms=%.2f "
      "write_ack_p99_ms=%.2f watch_delivered_fraction=%.4f\n",
      one.writes_per_s, raw_one, one.writes_per_s / raw_one, many.writes_per_s,
      many.group_size, raw_many, many.writes_per_s / raw_many, range.ours_ms, range.raw_ms,
      range.ours_ms / range.raw_ms, watch.p50_ms, watch.p99_ms, watch.ack_p99_ms, double(watch.delivered) / watch.expected);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
