// Thin RAII wrappers over the SQLite C API: a connection and its prepared statements.
// Errors come back as Status with SQLite's own message. Not thread-safe: one thread uses a
// connection at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kite::store {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;

  // Parameters are 1-based. Bound text/blobs are copied by SQLite only if they must outlive
  // the step: callers keep them alive until Reset().
  void BindInt(int index, int64_t value);
  void BindBlob(int index, std::string_view value);
  void BindText(int index, std::string_view value);
  void BindNull(int index);

  // True when a row is ready, false when done; an error Status otherwise.
  Result<bool> Step();
  // Runs to completion, discarding rows.
  Status Run();
  void Reset();

  int64_t ColumnInt(int index) const;
  std::string ColumnBlob(int index) const;
  bool ColumnIsNull(int index) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database file at `path`.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows we need.
  Status Exec(std::string_view sql);
  Result<SqliteStatement> Prepare(std::string_view sql);
  // Runs a single-value query such as "PRAGMA freelist_count".
  Result<int64_t> QueryInt(std::string_view sql);
  Result<std::string> QueryText(std::string_view sql);

  sqlite3* raw() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace kite::store
