#include "src/base/elastic_thread_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace kite {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) until `done` holds; the pool's threads come and go asynchronously.
template <class Pred>
bool Eventually(Pred done) {
  for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;) {
    if (done()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return done();
}

TEST_CASE("an idle pool holds no threads and starts one per busy task up to the maximum") {
  ElasticThreadPool pool(3, 50ms);
  CHECK(pool.threads() == 0);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> started{0};
  for (int i = 0; i < 5; ++i) {
    REQUIRE(pool.Post([&, gate] {
      ++started;
      gate.wait();
    }));
  }
  REQUIRE(Eventually([&] { return started == 3; }));
  CHECK(pool.threads() == 3);  // two tasks wait: the maximum is reached
  release.set_value();
  REQUIRE(Eventually([&] { return started == 5; }));
  // Idle workers end after idle_exit.
  REQUIRE(Eventually([&] { return pool.threads() == 0; }));
}

TEST_CASE("an idle worker takes the next task instead of a new thread starting") {
  ElasticThreadPool pool(8, 10s);
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) {
    REQUIRE(pool.Post([&] { ++ran; }));
    REQUIRE(Eventually([&] { return ran == i + 1; }));
  }
  CHECK(pool.threads() == 1);
}

TEST_CASE("tasks start in the order posted") {
  ElasticThreadPool pool(1, 10s);
  std::vector<int> order;
  std::promise<void> done;
  for (int i = 0; i < 20; ++i) pool.Post([&, i] { order.push_back(i); });
  pool.Post([&] { done.set_value(); });
  done.get_future().wait();
  std::vector<int> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(i);
  CHECK(order == expected);
}

TEST_CASE("Stop waits for running tasks, drops queued ones and refuses new ones") {
  ElasticThreadPool pool(1, 10s);
  std::promise<void> running;
  std::atomic<bool> finished{false}, queued_ran{false};
  pool.Post([&] {
    running.set_value();
    std::this_thread::sleep_for(50ms);
    finished = true;
  });
  pool.Post([&] { queued_ran = true; });
  running.get_future().wait();
  pool.Stop();
  CHECK(finished);
  CHECK_FALSE(queued_ran);
  CHECK(pool.threads() == 0);
  CHECK_FALSE(pool.Post([] {}));
}

TEST_CASE("workers that ended on idle are joined and replaced under load") {
  ElasticThreadPool pool(4, 1ms);
  std::atomic<int> ran{0};
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 4; ++i) pool.Post([&] { ++ran; });
    REQUIRE(Eventually([&] { return ran == (round + 1) * 4; }));
    REQUIRE(Eventually([&] { return pool.threads() == 0; }));
  }
}

TEST_CASE("tasks handed to workers whose idle wait is timing out all run") {
  // An idle exit of 1 ms makes workers time out all the time, so hand-offs race the
  // timeouts: a worker handed a task as its wait ends must still run it.
  ElasticThreadPool pool(3, 1ms);
  constexpr int kPosters = 4, kTasks = 3000;
  std::atomic<int> ran{0};
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kTasks; ++i) {
        REQUIRE(pool.Post([&] { ++ran; }));
        if ((i + p) % 97 == 0) std::this_thread::sleep_for(2ms);  // let workers go idle and time out
      }
    });
  }
  for (std::thread& t : posters) t.join();
  REQUIRE(Eventually([&] { return ran == kPosters * kTasks; }));
  CHECK(pool.threads() <= 3);
}

}  // namespace
}  // namespace kite
