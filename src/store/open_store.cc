#include "src/store/open_store.h"

#include <filesystem>
#include <system_error>

#include "src/store/memory_store.h"
#include "src/store/sqlite_store.h"

namespace kite::store {

Result<std::unique_ptr<KvStore>> OpenStore(std::string_view endpoint,
                                           const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (endpoint == "memory://") return std::unique_ptr<KvStore>(new MemoryStore(options));
  if (endpoint.starts_with(kSqlite)) {
    std::filesystem::path path(endpoint.substr(kSqlite.size()));
    if (!path.is_absolute()) {
      return InvalidArgumentError("datastore endpoint \"" + std::string(endpoint) +
                                  "\": the path must be absolute, as in sqlite:///var/lib/kite/"
                                  "server/db/state.db");
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return IoError("cannot create " + path.parent_path().string() + ": " + ec.message());
    }
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path.string(), options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<KvStore>(std::move(store).value());
  }
  return InvalidArgumentError("unsupported datastore endpoint \"" + std::string(endpoint) +
                              "\": use sqlite:///absolute/path.db or memory://");
}

}  // namespace kite::store
