#include "src/store/sqlite_store.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "src/base/baton.h"
#include "src/store/continue_token.h"
#include "src/store/store_errors.h"

namespace kite::store {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS history(
  rev        INTEGER PRIMARY KEY,
  name       BLOB NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_rev   INTEGER NOT NULL,
  deleted    INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  value      BLOB);
CREATE TABLE IF NOT EXISTS current(
  name       BLOB PRIMARY KEY,
  rev        INTEGER NOT NULL,
  expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS current_expiry ON current(expires_at) WHERE expires_at > 0;
CREATE TABLE IF NOT EXISTS meta(
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// The WAL is truncated back to this size after a checkpoint, so one burst does not leave a
// large file behind.
constexpr int64_t kJournalSizeLimitBytes = 64 << 20;
// Most keys expired in one TTL pass.
constexpr int64_t kExpireBatch = 1000;

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

struct SqliteStore::Op {
  enum class Kind { kCreate, kUpdate, kDelete, kCompact, kExpire };
  explicit Op(Kind kind, std::string_view key = {}, std::string_view value = {},
              int64_t expected_revision = 0)
      : kind(kind), key(key), value(value), expected_revision(expected_revision) {}

  Kind kind;
  std::string_view key;
  std::string_view value;
  int64_t expected_revision = 0;  // kUpdate/kDelete condition; kCompact target
  int64_t expires_at_ms = 0;
  // Set by the writer before it posts `done`.
  std::optional<Result<int64_t>> result;
  Baton done;

  void Finish(Result<int64_t> r) {
    result.emplace(std::move(r));
    done.Post();
  }
};

// The writer thread's connection and statements.
struct SqliteStore::Writer {
  std::unique_ptr<SqliteDb> db;
  SqliteStatement begin, commit, rollback;
  SqliteStatement lookup, insert_history, upsert_current, delete_current, set_meta;
  SqliteStatement expired, compact_superseded, compact_tombstones;
  int64_t revision = 0;        // last revision handed out
  int64_t compact_target = 0;  // history at or below this should go
  int64_t compact_done = 0;    // history at or below this is gone
  int64_t compacted = 0;       // logical compaction point, as stored in meta
  std::chrono::steady_clock::time_point next_ttl_check;
};

// A read connection and its statements.
struct SqliteStore::Reader {
  std::unique_ptr<SqliteDb> db;
  SqliteStatement begin, end;
  SqliteStatement meta, history;
  // Index 0: ranges with an end; 1: ranges without one (see RangeStatements).
  SqliteStatement range_current[2], count_current[2], range_past[2], count_past[2];
};

SqliteStore::SqliteStore(const std::string& path, const StoreOptions& options)
    : path_(path),
      options_(options),
      clock_(options.clock ? options.clock : SystemClock::Get()),
      hub_(this, options.watch_buffer_events) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const StoreOptions& options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options));
  KITE_RETURN_IF_ERROR(store->Init());
  store->writer_thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Status SqliteStore::Init() {
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path_, /*read_only=*/false);
  if (!db.ok()) return db.status();
  writer_ = std::make_unique<Writer>();
  Writer& w = *writer_;
  w.db = std::move(db).value();
  // auto_vacuum must be chosen before the first table exists; it lets us give pages back
  // after a large compaction.
  KITE_RETURN_IF_ERROR(w.db->Exec("PRAGMA auto_vacuum=INCREMENTAL"));
  Result<std::string> mode = w.db->QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") return IoError("cannot put " + path_ + " in WAL mode (got " + *mode + ")");
  KITE_RETURN_IF_ERROR(w.db->Exec(options_.durability == Durability::kFull
                                      ? "PRAGMA synchronous=FULL"
                                      : "PRAGMA synchronous=NORMAL"));
  KITE_RETURN_IF_ERROR(
      w.db->Exec("PRAGMA journal_size_limit=" + std::to_string(kJournalSizeLimitBytes)));
  KITE_RETURN_IF_ERROR(w.db->Exec(kSchema));

  auto prepare = [&](SqliteStatement& stmt, std::string_view sql) -> Status {
    Result<SqliteStatement> s = w.db->Prepare(sql);
    if (!s.ok()) return s.status();
    stmt = std::move(s).value();
    return Status::Ok();
  };
  KITE_RETURN_IF_ERROR(prepare(w.begin, "BEGIN IMMEDIATE"));
  KITE_RETURN_IF_ERROR(prepare(w.commit, "COMMIT"));
  KITE_RETURN_IF_ERROR(prepare(w.rollback, "ROLLBACK"));
  KITE_RETURN_IF_ERROR(prepare(w.lookup,
      "SELECT c.rev, h.create_rev, h.expires_at, h.value FROM current c "
      "JOIN history h ON h.rev = c.rev WHERE c.name = ?1"));
  KITE_RETURN_IF_ERROR(prepare(w.insert_history,
      "INSERT INTO history(rev, name, create_rev, prev_rev, deleted, expires_at, value) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  KITE_RETURN_IF_ERROR(prepare(w.upsert_current,
      "INSERT INTO current(name, rev, expires_at) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(name) DO UPDATE SET rev = excluded.rev, expires_at = excluded.expires_at"));
  KITE_RETURN_IF_ERROR(prepare(w.delete_current, "DELETE FROM current WHERE name = ?1"));
  KITE_RETURN_IF_ERROR(prepare(w.set_meta,
      "INSERT INTO meta(key, value) VALUES(?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  KITE_RETURN_IF_ERROR(prepare(w.expired,
      "SELECT name, rev FROM current WHERE expires_at > 0 AND expires_at <= ?1 "
      "ORDER BY expires_at LIMIT ?2"));
  // Compacting (lo, hi] deletes the rows that the writes in (lo, hi] superseded, and the
  // tombstones among those writes: what remains at or below hi is each live key's value as
  // of hi. Each row is visited once, when its successor's step runs.
  KITE_RETURN_IF_ERROR(prepare(w.compact_superseded,
      "DELETE FROM history WHERE rev IN (SELECT prev_rev FROM history "
      "WHERE rev > ?1 AND rev <= ?2 AND prev_rev > 0)"));
  KITE_RETURN_IF_ERROR(prepare(w.compact_tombstones,
      "DELETE FROM history WHERE rev > ?1 AND rev <= ?2 AND deleted = 1"));

  auto meta = [&](std::string_view key) -> Result<int64_t> {
    return w.db->QueryInt("SELECT COALESCE((SELECT value FROM meta WHERE key = '" +
                          std::string(key) + "'), 0)");
  };
  Result<int64_t> revision = meta("revision");
  Result<int64_t> max_row = w.db->QueryInt("SELECT COALESCE(MAX(rev), 0) FROM history");
  Result<int64_t> compacted = meta("compacted");
  Result<int64_t> compact_done = meta("compact_done");
  for (const Status& s : {revision.status(), max_row.status(), compacted.status(),
                          compact_done.status()}) {
    KITE_RETURN_IF_ERROR(s);
  }
  w.revision = std::max(*revision, *max_row);
  w.compacted = *compacted;
  w.compact_done = *compact_done;
  w.compact_target = *compacted;
  w.next_ttl_check = std::chrono::steady_clock::now();
  committed_revision_ = w.revision;
  compacted_ = w.compacted;
  compact_done_published_ = w.compact_done;
  hub_.SetPublished(w.revision);
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  {
    MutexLock lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.NotifyAll();
  if (writer_thread_.joinable()) writer_thread_.join();
  hub_.Close();
}

Result<int64_t> SqliteStore::Submit(Op& op) {
  {
    MutexLock lock(queue_mu_);
    if (stopping_) return UnavailableError("the store is closed");
    queue_.push_back(&op);
  }
  queue_cv_.NotifyOne();
  op.done.Wait();
  return std::move(*op.result);
}

Result<int64_t> SqliteStore::Create(std::string_view key, std::string_view value,
                                    WriteOptions options) {
  if (key.empty()) return EmptyKey();
  Op op(Op::Kind::kCreate, key, value);
  if (options.ttl.count() > 0) op.expires_at_ms = clock_->NowMillis() + options.ttl.count();
  return Submit(op);
}

Result<int64_t> SqliteStore::Update(std::string_view key, std::string_view value,
                                    int64_t expected_revision, WriteOptions options) {
  if (key.empty()) return EmptyKey();
  Op op(Op::Kind::kUpdate, key, value, expected_revision);
  if (options.ttl.count() > 0) op.expires_at_ms = clock_->NowMillis() + options.ttl.count();
  return Submit(op);
}

Result<int64_t> SqliteStore::Delete(std::string_view key, int64_t expected_revision) {
  if (key.empty()) return EmptyKey();
  Op op(Op::Kind::kDelete, key, {}, expected_revision);
  return Submit(op);
}

Status SqliteStore::Compact(int64_t revision) {
  Op op(Op::Kind::kCompact, {}, {}, revision);
  return Submit(op).status();
}

Status SqliteStore::ExpireKeys() {
  Op op(Op::Kind::kExpire);
  return Submit(op).status();
}

void SqliteStore::WriterLoop() {
  std::vector<Op*> group;
  while (true) {
    group.clear();
    {
      MutexLock lock(queue_mu_);
      bool compaction_pending = writer_->compact_done < writer_->compact_target;
      if (queue_.empty() && !stopping_ && !compaction_pending) {
        auto wait = writer_->next_ttl_check - std::chrono::steady_clock::now();
        if (wait > std::chrono::steady_clock::duration::zero()) queue_cv_.WaitFor(queue_mu_, wait);
      }
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && group.size() < options_.max_group_commit) {
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    if (!group.empty()) CommitGroup(group);
    Maintain();
  }
}

void SqliteStore::CommitGroup(std::vector<Op*>& ops) {
  Writer& w = *writer_;
  const int64_t start_revision = w.revision;
  const int64_t start_target = w.compact_target;
  const int64_t start_compacted = w.compacted;
  std::vector<Result<int64_t>> results;
  results.reserve(ops.size());
  std::vector<EventPtr> events;

  // The newest event of each key written in this group (keys point into the events);
  // `latest_` learns them only after the commit.
  std::unordered_map<std::string_view, const Event*> written;
  // Current state of `key` inside this transaction, or nullopt. A hot key comes from
  // `latest_`, whose entries are never older than a commit: reading its previous value
  // back from the history table cost a page read from the file for most updates.
  auto lookup = [&](std::string_view key) -> Result<std::optional<KeyValue>> {
    if (auto it = written.find(key); it != written.end()) {
      const Event& last = *it->second;
      if (last.type == Event::Type::kDelete) return std::optional<KeyValue>();
      return std::optional<KeyValue>(last.kv);
    }
    if (std::optional<KeyValue> hot = latest_.Find(key)) return hot;
    w.lookup.Reset();
    w.lookup.BindBlob(1, key);
    Result<bool> row = w.lookup.Step();
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<KeyValue>();
    KeyValue kv{std::string(key), w.lookup.ColumnBlob(3), w.lookup.ColumnInt(1),
                w.lookup.ColumnInt(0), w.lookup.ColumnInt(2)};
    w.lookup.Reset();
    return std::optional<KeyValue>(std::move(kv));
  };
  // Writes one new row for `key`; `prev` is its state before (nullopt for a create).
  auto write = [&](std::string_view key, std::string_view value, bool deleted,
                   int64_t expires_at, const std::optional<KeyValue>& prev) -> Result<int64_t> {
    int64_t rev = ++w.revision;
    int64_t create_rev = prev ? prev->create_revision : rev;
    w.insert_history.Reset();
    w.insert_history.BindInt(1, rev);
    w.insert_history.BindBlob(2, key);
    w.insert_history.BindInt(3, create_rev);
    w.insert_history.BindInt(4, prev ? prev->mod_revision : 0);
    w.insert_history.BindInt(5, deleted ? 1 : 0);
    w.insert_history.BindInt(6, expires_at);
    if (deleted) {
      w.insert_history.BindNull(7);
    } else {
      w.insert_history.BindBlob(7, value);
    }
    KITE_RETURN_IF_ERROR(w.insert_history.Run());
    SqliteStatement& index = deleted ? w.delete_current : w.upsert_current;
    index.Reset();
    index.BindBlob(1, key);
    if (!deleted) {
      index.BindInt(2, rev);
      index.BindInt(3, expires_at);
    }
    KITE_RETURN_IF_ERROR(index.Run());
    auto event = std::make_shared<Event>();
    event->type = deleted ? Event::Type::kDelete : Event::Type::kPut;
    event->kv = KeyValue{std::string(key), deleted ? prev->value : std::string(value),
                         create_rev, rev, expires_at};
    event->prev = prev;
    written[event->kv.key] = event.get();
    events.push_back(std::move(event));
    return rev;
  };
  // Applies one op; a failed precondition fails the op alone, an I/O error the group.
  auto apply = [&](Op& op) -> Result<int64_t> {
    switch (op.kind) {
      case Op::Kind::kCreate: {
        Result<std::optional<KeyValue>> cur = lookup(op.key);
        if (!cur.ok()) return cur.status();
        if (*cur) return KeyExists(op.key);
        return write(op.key, op.value, false, op.expires_at_ms, std::nullopt);
      }
      case Op::Kind::kUpdate:
      case Op::Kind::kDelete: {
        Result<std::optional<KeyValue>> cur = lookup(op.key);
        if (!cur.ok()) return cur.status();
        if (!*cur) return KeyNotFound(op.key);
        if (op.expected_revision != 0 && (*cur)->mod_revision != op.expected_revision) {
          return RevisionMismatch(op.key, (*cur)->mod_revision, op.expected_revision);
        }
        bool deleted = op.kind == Op::Kind::kDelete;
        return write(op.key, op.value, deleted, deleted ? 0 : op.expires_at_ms, *cur);
      }
      case Op::Kind::kCompact: {
        int64_t rev = op.expected_revision;
        if (rev > w.revision) return FutureRevision(rev, w.revision);
        if (rev <= w.compacted) return RevisionCompacted(rev, w.compacted);
        w.compacted = rev;
        w.compact_target = std::max(w.compact_target, rev);
        return rev;
      }
      case Op::Kind::kExpire: {
        w.expired.Reset();
        w.expired.BindInt(1, clock_->NowMillis());
        w.expired.BindInt(2, kExpireBatch);
        std::vector<std::string> keys;
        while (true) {
          Result<bool> row = w.expired.Step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          keys.push_back(w.expired.ColumnBlob(0));
        }
        w.expired.Reset();
        for (const std::string& key : keys) {
          Result<std::optional<KeyValue>> cur = lookup(key);
          if (!cur.ok()) return cur.status();
          if (!*cur) continue;
          Result<int64_t> rev = write(key, {}, true, 0, *cur);
          if (!rev.ok()) return rev.status();
        }
        return w.revision;
      }
    }
    return InternalError("unknown store op");
  };

  auto fail_all = [&](const Status& status) {
    (void)w.rollback.Run();
    w.rollback.Reset();
    w.revision = start_revision;
    w.compact_target = start_target;
    w.compacted = start_compacted;
    for (Op* op : ops) op->Finish(status);
  };

  Status status = w.begin.Run();
  w.begin.Reset();
  if (!status.ok()) return fail_all(status);
  for (Op* op : ops) {
    Result<int64_t> result = apply(*op);
    if (!result.ok() && result.status().code() == StatusCode::kIoError) {
      return fail_all(result.status());
    }
    results.push_back(std::move(result));
  }
  auto set_meta = [&](std::string_view key, int64_t value) {
    w.set_meta.Reset();
    w.set_meta.BindText(1, key);
    w.set_meta.BindInt(2, value);
    return w.set_meta.Run();
  };
  if (w.revision != start_revision) status = set_meta("revision", w.revision);
  if (status.ok() && w.compacted != start_compacted) status = set_meta("compacted", w.compacted);
  if (status.ok()) {
    status = w.commit.Run();
    w.commit.Reset();
  }
  if (!status.ok()) return fail_all(status);

  // Before acknowledging, so no reader finds an entry older than a write it saw succeed.
  for (const EventPtr& event : events) {
    if (event->type == Event::Type::kPut) {
      latest_.Put(event->kv);
    } else {
      latest_.Erase(event->kv.key, event->kv.mod_revision);
    }
  }
  // Publish before acknowledging: any revision a caller has seen is visible to watches.
  hub_.Publish(events);
  if (!events.empty()) {
    groups_.fetch_add(1, std::memory_order_relaxed);
    writes_.fetch_add(static_cast<int64_t>(events.size()), std::memory_order_relaxed);
  }
  committed_revision_ = w.revision;
  compacted_ = w.compacted;
  // Compact in steps of a batch, not after every group: each step is a transaction.
  int64_t window = options_.history_window_revisions;
  if (window > 0 && w.revision - window >= w.compact_target + options_.compaction_batch_revisions) {
    w.compact_target = w.revision - window;
  }
  for (size_t i = 0; i < ops.size(); ++i) ops[i]->Finish(std::move(results[i]));
}

void SqliteStore::Maintain() {
  Writer& w = *writer_;
  if (w.compact_done < w.compact_target) {
    Status status = CompactStep();
    if (!status.ok()) {
      std::fprintf(stderr, "kite: store compaction step failed: %s\n", status.ToString().c_str());
    }
  }
  auto now = std::chrono::steady_clock::now();
  if (now >= w.next_ttl_check) {
    w.next_ttl_check = now + options_.ttl_check_interval;
    Op op(Op::Kind::kExpire);
    std::vector<Op*> group{&op};
    CommitGroup(group);  // finishes `op` on this thread
    Status status = op.result->status();
    if (!status.ok()) {
      std::fprintf(stderr, "kite: store TTL expiry failed: %s\n", status.ToString().c_str());
    }
  }
}

Status SqliteStore::CompactStep() {
  Writer& w = *writer_;
  auto start = std::chrono::steady_clock::now();
  int64_t hi = std::min(w.compact_done + options_.compaction_batch_revisions, w.compact_target);
  Status status = w.begin.Run();
  w.begin.Reset();
  KITE_RETURN_IF_ERROR(status);
  for (SqliteStatement* step : {&w.compact_superseded, &w.compact_tombstones}) {
    if (!status.ok()) break;
    step->Reset();
    step->BindInt(1, w.compact_done);
    step->BindInt(2, hi);
    status = step->Run();
  }
  int64_t compacted = std::max(w.compacted, hi);
  for (auto [key, value] : {std::pair<std::string_view, int64_t>{"compact_done", hi},
                            {"compacted", compacted}}) {
    if (!status.ok()) break;
    w.set_meta.Reset();
    w.set_meta.BindText(1, key);
    w.set_meta.BindInt(2, value);
    status = w.set_meta.Run();
  }
  if (status.ok()) {
    status = w.commit.Run();
    w.commit.Reset();
  }
  if (!status.ok()) {
    (void)w.rollback.Run();
    w.rollback.Reset();
    return status;
  }
  w.compact_done = hi;
  w.compacted = compacted;
  compacted_ = compacted;
  compact_done_published_ = hi;
  int64_t micros = MicrosSince(start);
  if (micros > max_compaction_step_us_.load()) max_compaction_step_us_ = micros;
  return Status::Ok();
}

// ---- Reads ----

Result<std::unique_ptr<SqliteStore::Reader>> SqliteStore::AcquireReader() {
  {
    MutexLock lock(readers_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path_, /*read_only=*/false);
  if (!db.ok()) return db.status();
  auto r = std::make_unique<Reader>();
  r->db = std::move(db).value();
  auto prepare = [&](SqliteStatement& stmt, std::string_view sql) -> Status {
    Result<SqliteStatement> s = r->db->Prepare(sql);
    if (!s.ok()) return s.status();
    stmt = std::move(s).value();
    return Status::Ok();
  };
  // ?2 is the exclusive end of the key range. Ranges without an end get their own statements:
  // "(length(?2) = 0 OR name < ?2)" would keep SQLite from bounding the index scan, and a
  // single-key read would then walk every key after it.
  KITE_RETURN_IF_ERROR(prepare(r->begin, "BEGIN"));
  KITE_RETURN_IF_ERROR(prepare(r->end, "COMMIT"));
  KITE_RETURN_IF_ERROR(prepare(r->meta,
      "SELECT COALESCE((SELECT value FROM meta WHERE key = 'revision'), 0), "
      "COALESCE((SELECT value FROM meta WHERE key = 'compacted'), 0)"));
  for (int open = 0; open < 2; ++open) {
    // The open form still names ?2, so both forms take the same bindings.
    auto below_end = [&](std::string_view column) {
      return open ? std::string("length(?2) >= 0") : std::string(column) + " < ?2";
    };
    KITE_RETURN_IF_ERROR(prepare(r->range_current[open],
        "SELECT h.name, h.value, h.create_rev, h.rev, h.expires_at FROM current c "
        "JOIN history h ON h.rev = c.rev "
        "WHERE c.name >= ?1 AND " + below_end("c.name") + " ORDER BY c.name LIMIT ?3"));
    KITE_RETURN_IF_ERROR(prepare(r->count_current[open],
        "SELECT COUNT(*) FROM current WHERE name >= ?1 AND " + below_end("name")));
    // A key's state at a past revision R is its current row when that is not newer than R;
    // otherwise the row its first write after R replaced (none if that write was a create).
    // History after R is bounded by the compaction window, so this needs no index by name.
    const std::string state_at_revision =
        "SELECT h.name AS name, h.value, h.create_rev, h.rev, h.expires_at FROM current c "
        "JOIN history h ON h.rev = c.rev "
        "WHERE c.name >= ?1 AND " + below_end("c.name") + " AND c.rev <= ?3 "
        "UNION ALL "
        "SELECT p.name AS name, p.value, p.create_rev, p.rev, p.expires_at FROM "
        "(SELECT MIN(rev) AS first FROM history WHERE rev > ?3 AND name >= ?1 "
        " AND " + below_end("name") + " GROUP BY name) t "
        "JOIN history f ON f.rev = t.first JOIN history p ON p.rev = f.prev_rev "
        "WHERE p.deleted = 0";
    KITE_RETURN_IF_ERROR(prepare(r->range_past[open],
        "SELECT * FROM (" + state_at_revision + ") ORDER BY name LIMIT ?4"));
    KITE_RETURN_IF_ERROR(prepare(r->count_past[open], "SELECT COUNT(*) FROM (" + state_at_revision + ")"));
  }
  KITE_RETURN_IF_ERROR(prepare(r->history,
      "SELECT h.rev, h.name, h.create_rev, h.deleted, h.expires_at, h.value, "
      "p.rev, p.create_rev, p.expires_at, p.value "
      "FROM history h LEFT JOIN history p ON p.rev = h.prev_rev "
      "WHERE h.rev > ?1 AND h.rev <= ?2 AND h.name >= ?3 AND (length(?4) = 0 OR h.name < ?4) "
      "ORDER BY h.rev LIMIT ?5"));
  return r;
}

void SqliteStore::ReleaseReader(std::unique_ptr<Reader> reader) {
  MutexLock lock(readers_mu_);
  idle_readers_.push_back(std::move(reader));
}

namespace {

// Runs `body` inside a read transaction on `reader`, so every query sees one snapshot.
template <class Reader, class Body>
auto InSnapshot(Reader& reader, int64_t& revision, int64_t& compacted, Body body)
    -> decltype(body()) {
  Status status = reader.begin.Run();
  reader.begin.Reset();
  if (!status.ok()) return status;
  Result<bool> row = reader.meta.Step();
  if (row.ok() && *row) {
    revision = reader.meta.ColumnInt(0);
    compacted = reader.meta.ColumnInt(1);
  }
  reader.meta.Reset();
  auto result = row.ok() ? body() : decltype(body())(row.status());
  (void)reader.end.Run();
  reader.end.Reset();
  return result;
}

}  // namespace

Result<RangeResult> SqliteStore::Range(const RangeRequest& request) {
  std::string start = request.key;
  int64_t revision = request.revision;
  if (!request.continue_token.empty()) {
    Result<ContinuePoint> point = DecodeContinueToken(request.continue_token);
    if (!point.ok()) return point.status();
    start = point->next_key;
    revision = point->revision;
  }
  if (request.limit < 0) return InvalidArgumentError("limit must not be negative");
  const std::string end =
      request.EffectiveEnd();

  Result<std::unique_ptr<Reader>> acquired = AcquireReader();
  if (!acquired.ok()) return acquired.status();
  Reader& r = **acquired;
  int64_t current = 0, compacted = 0;
  Result<RangeResult> result = InSnapshot(r, current, compacted, [&]() -> Result<RangeResult> {
    int64_t at = revision == 0 ? current : revision;
    KITE_RETURN_IF_ERROR(CheckReadRevision(at, current, compacted));
    const bool past = at != current;
    RangeResult out;
    out.revision = at;
    if (!request.count_only) {
      SqliteStatement& q = past ? r.range_past[end.empty()] : r.range_current[end.empty()];
      q.Reset();
      q.BindBlob(1, start);
      q.BindBlob(2, end);
      int next = 3;
      if (past) q.BindInt(next++, at);
      q.BindInt(next, request.limit > 0 ? request.limit + 1 : -1);
      while (true) {
        Result<bool> row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        if (request.limit > 0 && static_cast<int64_t>(out.kvs.size()) == request.limit) {
          out.continue_token = EncodeContinueToken({at, KeySuccessor(out.kvs.back().key)});
          break;
        }
        out.kvs.push_back(
            KeyValue{q.ColumnBlob(0), q.ColumnBlob(1), q.ColumnInt(2), q.ColumnInt(3),
                     q.ColumnInt(4)});
      }
      q.Reset();
    }
    if (request.count_only || !out.continue_token.empty()) {
      SqliteStatement& q = past ? r.count_past[end.empty()] : r.count_current[end.empty()];
      q.Reset();
      q.BindBlob(1, start);
      q.BindBlob(2, end);
      if (past) q.BindInt(3, at);
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      out.count = q.ColumnInt(0);
      q.Reset();
    } else {
      out.count = static_cast<int64_t>(out.kvs.size());
    }
    return out;
  });
  ReleaseReader(std::move(acquired).value());
  return result;
}

Result<KeyValue> SqliteStore::Get(std::string_view key, int64_t revision) {
  if (key.empty()) return EmptyKey();
  RangeRequest request;
  request.key = std::string(key);
  request.revision = revision;
  int64_t read_from = 0;
  if (revision == 0) {
    if (std::optional<KeyValue> hit = latest_.Find(key)) return std::move(*hit);
    read_from = committed_revision_.load();
  }
  Result<RangeResult> result = Range(request);
  if (!result.ok()) return result.status();
  if (result->kvs.empty()) return KeyNotFound(key);
  if (revision == 0) latest_.Fill(result->kvs.front(), read_from);
  return std::move(result->kvs.front());
}

Result<std::unique_ptr<Watcher>> SqliteStore::Watch(std::string_view prefix,
                                                    int64_t after_revision) {
  int64_t compacted = compacted_.load();
  if (after_revision < compacted) return RevisionCompacted(after_revision, compacted);
  return hub_.Add(std::string(prefix), after_revision);
}

Result<std::vector<EventPtr>> SqliteStore::ReadHistory(std::string_view prefix, int64_t after,
                                                       int64_t up_to, size_t limit) {
  Result<std::unique_ptr<Reader>> acquired = AcquireReader();
  if (!acquired.ok()) return acquired.status();
  Reader& r = **acquired;
  const std::string end = PrefixEnd(prefix);
  int64_t current = 0, compacted = 0;
  auto result = InSnapshot(r, current, compacted, [&]() -> Result<std::vector<EventPtr>> {
    if (after < compacted) return RevisionCompacted(after, compacted);
    SqliteStatement& q = r.history;
    q.Reset();
    q.BindInt(1, after);
    q.BindInt(2, up_to);
    q.BindBlob(3, prefix);
    q.BindBlob(4, end);
    q.BindInt(5, static_cast<int64_t>(limit));
    std::vector<EventPtr> events;
    while (true) {
      Result<bool> row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      auto event = std::make_shared<Event>();
      bool deleted = q.ColumnInt(3) != 0;
      event->type = deleted ? Event::Type::kDelete : Event::Type::kPut;
      event->kv = KeyValue{q.ColumnBlob(1), q.ColumnBlob(5), q.ColumnInt(2), q.ColumnInt(0),
                           q.ColumnInt(4)};
      if (!q.ColumnIsNull(6)) {
        event->prev = KeyValue{event->kv.key, q.ColumnBlob(9), q.ColumnInt(7), q.ColumnInt(6),
                               q.ColumnInt(8)};
        if (deleted) event->kv.value = event->prev->value;
      }
      events.push_back(std::move(event));
    }
    q.Reset();
    return events;
  });
  ReleaseReader(std::move(acquired).value());
  return result;
}

}  // namespace kite::store
