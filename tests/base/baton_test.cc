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

TEST_CASE("a timed wait: false without a post, true with one, and a reset baton is new again", "[baton]") {
  using namespace std::chrono_literals;
  Baton baton;
  CHECK_FALSE(baton.WaitFor(5ms));
  CHECK_FALSE(baton.posted());  // the timed-out wait left no trace
  baton.Post();
  CHECK(baton.WaitFor(5ms));
  baton.Reset();
  CHECK_FALSE(baton.posted());

  std::thread poster([&] {
    std::this_thread::sleep_for(20ms);
    baton.Post();
  });
  CHECK(baton.WaitFor(10s));
  poster.join();
}

TEST_CASE("one baton reused: timed waits racing posts lose no hand-off", "[baton]") {
  // The elastic thread pool's pattern: the waiter waits with a timeout, and when it timed
  // out but a post is known to come, waits for it; then resets for the next round.
  using namespace std::chrono_literals;
  constexpr int kRounds = 5000;
  Baton baton;
  std::atomic<int> round{0};  // the poster posts round r once the waiter has reset for it
  std::thread poster([&] {
    for (int i = 0; i < kRounds; ++i) {
      while (round.load() != i) std::this_thread::yield();
      baton.Post();
    }
  });
  int timeouts = 0;
  for (int i = 0; i < kRounds; ++i) {
    if (!baton.WaitFor(std::chrono::microseconds(i % 7))) {
      ++timeouts;
      baton.Wait();
    }
    baton.Reset();
    round.store(i + 1);
  }
  poster.join();
  CHECK(round.load() == kRounds);
  CHECK(timeouts > 0);  // the timeout path was taken, not only the quick one
}

}  // namespace
}  // namespace kite
