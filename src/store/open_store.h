// Opens the store a --datastore-endpoint names.
#pragma once

#include <memory>
#include <string_view>

#include "src/base/status.h"
#include "src/store/kv_store.h"
#include "src/store/store_options.h"

namespace kite::store {

// Accepted endpoints:
//   sqlite:///absolute/path/state.db   the embedded SQLite store (parent dirs are created)
//   memory://                          in-memory, lost at exit (tests, simulations)
// Anything else fails with kInvalidArgument and a message naming the accepted forms.
Result<std::unique_ptr<KvStore>> OpenStore(std::string_view endpoint,
                                           const StoreOptions& options = {});

}  // namespace kite::store
