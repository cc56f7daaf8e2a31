// The store backends a test runs against: in memory, or SQLite in a fresh directory.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "src/store/open_store.h"
#include "tests/testing/temp_dir.h"

namespace kite::store {

// A backend under test with the directory that holds it.
struct Backend {
  testing::TempDir dir;
  std::unique_ptr<KvStore> store;
};

// `kind` is "memory" or "sqlite".
inline std::unique_ptr<Backend> OpenBackend(const std::string& kind, StoreOptions options = {}) {
  auto b = std::make_unique<Backend>();
  std::string endpoint = kind == "memory" ? "memory://" : "sqlite://" + b->dir.file("state.db");
  // The tests check semantics, not durability: skip the fsyncs to keep them quick.
  options.durability = Durability::kNormal;
  auto store = OpenStore(endpoint, options);
  REQUIRE(store.ok());
  b->store = std::move(store).value();
  return b;
}

}  // namespace kite::store
