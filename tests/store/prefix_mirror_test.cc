#include "src/store/prefix_mirror.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/store/store_backends.h"

namespace kite::store {
namespace {

std::vector<std::string> Keys(const Result<std::vector<KeyValue>>& kvs) {
  REQUIRE(kvs.ok());
  std::vector<std::string> keys;
  for (const KeyValue& kv : *kvs) keys.push_back(kv.key + "=" + kv.value);
  return keys;
}

TEST_CASE("PrefixMirror: each read sees the writes acknowledged before it", "[store]") {
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})));
  KvStore& s = *b->store;
  REQUIRE(s.Create("/lr/a/1", "a1").ok());
  REQUIRE(s.Create("/other/a/1", "x").ok());
  {
    PrefixMirror mirror(&s, "/lr/");
    CHECK(Keys(mirror.Range("/lr/")) == std::vector<std::string>{"/lr/a/1=a1"});

    REQUIRE(s.Create("/lr/b/2", "b2").ok());
    REQUIRE(s.Create("/lr/a/0", "a0").ok());
    REQUIRE(s.Create("/other/a/2", "y").ok());
    CHECK(Keys(mirror.Range("/lr/a/")) == std::vector<std::string>{"/lr/a/0=a0", "/lr/a/1=a1"});
    CHECK(Keys(mirror.Range("/lr/b/")) == std::vector<std::string>{"/lr/b/2=b2"});
    CHECK(Keys(mirror.Range("/lr/c/")).empty());

    Result<int64_t> updated = s.Update("/lr/a/1", "a1'", 0);
    REQUIRE(updated.ok());
    REQUIRE(s.Delete("/lr/a/0").ok());
    Result<std::vector<KeyValue>> a = mirror.Range("/lr/a/");
    CHECK(Keys(a) == std::vector<std::string>{"/lr/a/1=a1'"});
    CHECK(a->front().mod_revision == *updated);

    Result<std::vector<KeyValue>> outside = mirror.Range("/other/");
    REQUIRE_FALSE(outside.ok());
    CHECK(outside.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("PrefixMirror: a mirror whose watch was cut off lists again", "[store]") {
  StoreOptions options;
  options.watch_buffer_events = 4;
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  PrefixMirror mirror(&s, "/q/");
  CHECK(Keys(mirror.Range("/q/")).empty());
  for (int i = 0; i < 20; ++i) REQUIRE(s.Create("/q/" + std::to_string(100 + i), std::to_string(i)).ok());
  REQUIRE(s.Delete("/q/105").ok());
  Result<std::vector<KeyValue>> all = mirror.Range("/q/");
  REQUIRE(all.ok());
  CHECK(all->size() == 19);
  CHECK(all->front().key == "/q/100");
  CHECK(all->back().key == "/q/119");
  // And it follows the new watch from there.
  REQUIRE(s.Delete("/q/100").ok());
  CHECK(mirror.Range("/q/")->size() == 18);
}

TEST_CASE("PrefixMirror: concurrent writers each read their own write back", "[store]") {
  StoreOptions options;
  options.watch_buffer_events = 16;  // cut off now and then, under load
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  PrefixMirror mirror(&s, "/p/");
  std::atomic<int> misses{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string prefix = "/p/" + std::to_string(t) + "/";
        std::string key = prefix + std::to_string(i);
        if (!s.Create(key, "v").ok()) misses++;
        Result<std::vector<KeyValue>> mine = mirror.Range(prefix);
        if (!mine.ok() || mine->size() != static_cast<size_t>(i + 1)) misses++;
        if (i % 3 == 0) {
          if (!s.Delete(key).ok()) misses++;
          Result<std::vector<KeyValue>> after = mirror.Range(key);
          if (!after.ok() || !after->empty()) misses++;
          if (!s.Create(key, "v").ok()) misses++;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(misses == 0);
  CHECK(mirror.Range("/p/")->size() == 800);
}

}  // namespace
}  // namespace kite::store
