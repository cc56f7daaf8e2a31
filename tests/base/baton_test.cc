#include "src/base/baton.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace kite {
namespace {

TEST_CASE("a baton posted before the wait returns at once", "[baton]") {
  Baton baton;
  CHECK_FALSE(baton.posted());
  baton.Post();
  CHECK(baton.posted());
  baton.Wait();
  CHECK(baton.posted());
}

TEST_CASE("a waiter sleeps until the post and sees what was written before it", "[baton]") {
  Baton baton;
  int result = 0;  // plain: the baton must order it
  std::atomic<bool> waiting{false};
  std::thread waiter([&] {
    waiting = true;
    baton.Wait();
    CHECK(result == 42);
  });
  while (!waiting) std::this_thread::yield();
  // Give the waiter the chance to sleep in the futex, so the wake path is taken too.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(baton.posted());
  result = 42;
  baton.Post();
  waiter.join();
}

TEST_CASE("many hand-offs racing post against wait all complete", "[baton]") {
  // Each round a fresh baton on the waiter's side, destroyed as soon as Wait returns — as
  // the store's per-write batons are. A lost wake would hang this test.
  constexpr int kRounds = 20000;
  std::atomic<Baton*> current{nullptr};
  std::atomic<int> done{0};
  std::thread poster([&] {
    for (int i = 0; i < kRounds; ++i) {
      Baton* baton;
      while ((baton = current.exchange(nullptr)) == nullptr) std::this_thread::yield();
      baton->Post();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    auto baton = std::make_unique<Baton>();
    current = baton.get();
    baton->Wait();
    done.fetch_add(1);
  }
  poster.join();
  CHECK(done.load() == kRounds);
}

}  // namespace
}  // namespace kite
