#include "src/store/latest_values.h"

#include <catch2/catch.hpp>

namespace kite::store {
namespace {

KeyValue Kv(std::string key, std::string value, int64_t revision) {
  return KeyValue{std::move(key), std::move(value), 1, revision, 0};
}

TEST_CASE("LatestValues: the writer's entries win over readers' fills") {
  LatestValues latest(1 << 20);
  latest.Put(Kv("/a", "new", 5));
  latest.Fill(Kv("/a", "old", 3), 4);  // a read that began before the write
  REQUIRE(latest.Find("/a").has_value());
  CHECK(latest.Find("/a")->value == "new");
  CHECK(latest.Find("/a")->mod_revision == 5);
  latest.Put(Kv("/a", "newer", 6));
  CHECK(latest.Find("/a")->value == "newer");
  CHECK(latest.size() == 1);
}

TEST_CASE("LatestValues: a read that began before an erase cannot bring the key back") {
  LatestValues latest(1 << 20);
  latest.Put(Kv("/a", "v", 2));
  latest.Erase("/a", 7);
  CHECK_FALSE(latest.Find("/a").has_value());
  latest.Fill(Kv("/a", "v", 2), 6);
  CHECK_FALSE(latest.Find("/a").has_value());
  // A read that began after the erase (a re-created key) may fill.
  latest.Fill(Kv("/a", "again", 8), 8);
  REQUIRE(latest.Find("/a").has_value());
  CHECK(latest.Find("/a")->value == "again");
}

TEST_CASE("LatestValues: least recently used go first, and evictions guard later fills") {
  const size_t one = std::string("/k1").size() + std::string(100, 'x').size() + 64;
  LatestValues latest(3 * one);
  latest.Put(Kv("/k1", std::string(100, 'x'), 1));
  latest.Put(Kv("/k2", std::string(100, 'x'), 2));
  latest.Put(Kv("/k3", std::string(100, 'x'), 3));
  CHECK(latest.Find("/k1").has_value());  // now the most recently used
  latest.Put(Kv("/k4", std::string(100, 'x'), 4));
  CHECK_FALSE(latest.Find("/k2").has_value());
  CHECK(latest.Find("/k1").has_value());
  CHECK(latest.Find("/k3").has_value());
  CHECK(latest.size() == 3);
  CHECK(latest.bytes() <= 3 * one);
  // /k2 was evicted at revision 2: a read that began at revision 1 may be stale.
  latest.Fill(Kv("/k2", std::string(100, 'x'), 1), 1);
  CHECK_FALSE(latest.Find("/k2").has_value());
  // An entry larger than the whole budget is not kept.
  latest.Put(Kv("/big", std::string(1000, 'x'), 9));
  CHECK_FALSE(latest.Find("/big").has_value());
  latest.Fill(Kv("/big", std::string(1000, 'x'), 9), 8);
  CHECK_FALSE(latest.Find("/big").has_value());
}

TEST_CASE("LatestValues: a key written again moves to the front, and growing it evicts others") {
  const size_t one = std::string("/k1").size() + std::string(100, 'x').size() + 64;
  LatestValues latest(3 * one);
  latest.Put(Kv("/k1", std::string(100, 'x'), 1));
  latest.Put(Kv("/k2", std::string(100, 'x'), 2));
  latest.Put(Kv("/k3", std::string(100, 'x'), 3));
  latest.Put(Kv("/k1", std::string(100, 'y'), 4));  // now the most recently used
  latest.Put(Kv("/k4", std::string(100, 'x'), 5));  // evicts /k2, not /k1
  REQUIRE(latest.Find("/k1").has_value());
  CHECK(latest.Find("/k1")->value == std::string(100, 'y'));
  CHECK(latest.Find("/k1")->mod_revision == 4);
  CHECK_FALSE(latest.Find("/k2").has_value());
  // /k4 grows to two entries' worth: the least recently used others go, /k4 stays.
  latest.Put(Kv("/k4", std::string(100 + one, 'z'), 6));
  REQUIRE(latest.Find("/k4").has_value());
  CHECK(latest.Find("/k4")->value.size() == 100 + one);
  CHECK(latest.bytes() <= 3 * one);
  CHECK(latest.size() == 2);
  // Grown past the whole budget: dropped, and later fills from before it are refused.
  latest.Put(Kv("/k4", std::string(4 * one, 'z'), 7));
  CHECK_FALSE(latest.Find("/k4").has_value());
  latest.Fill(Kv("/k4", "old", 6), 6);
  CHECK_FALSE(latest.Find("/k4").has_value());
}

}  // namespace
}  // namespace kite::store
