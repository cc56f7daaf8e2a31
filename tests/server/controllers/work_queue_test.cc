#include <catch2/catch.hpp>

#include <thread>

#include "src/server/controllers/work_queue.h"

namespace kite::controllers {
namespace {

TEST_CASE("a key is queued once however often it is added") {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  CHECK(q.Len() == 2);
  CHECK(*q.Get() == "a");
  CHECK(*q.Get() == "b");
  CHECK(q.Len() == 0);
}

TEST_CASE("a key added while processing comes back after Done, not to a second worker") {
  WorkQueue q;
  q.Add("a");
  REQUIRE(*q.Get() == "a");
  q.Add("a");
  CHECK(q.Len() == 0);  // not handed out twice concurrently
  q.Done("a");
  CHECK(q.Len() == 1);
  CHECK(*q.Get() == "a");
  q.Done("a");
  CHECK(q.Len() == 0);
}

TEST_CASE("rate-limited keys back off exponentially until forgotten") {
  WorkQueue q(WorkQueue::BackOff{std::chrono::milliseconds(20), std::chrono::milliseconds(1000)});
  auto start = std::chrono::steady_clock::now();
  q.AddRateLimited("a");  // 20 ms
  REQUIRE(*q.Get() == "a");
  q.Done("a");
  q.AddRateLimited("a");  // 40 ms
  REQUIRE(*q.Get() == "a");
  q.Done("a");
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= std::chrono::milliseconds(60));
  CHECK(q.Retries("a") == 2);
  q.Forget("a");
  CHECK(q.Retries("a") == 0);
}

TEST_CASE("a cap bounds the back-off however many failures came before") {
  WorkQueue q(WorkQueue::BackOff{std::chrono::milliseconds(20), std::chrono::seconds(300)});
  for (int i = 0; i < 12; ++i) {
    q.AddRateLimited("a", std::chrono::milliseconds(1));
    REQUIRE(*q.Get() == "a");
    q.Done("a");
  }
  // Uncapped, the 13th would wait 20 ms * 2^12 (82 s); capped it comes within moments.
  auto start = std::chrono::steady_clock::now();
  q.AddRateLimited("a", std::chrono::milliseconds(30));
  REQUIRE(*q.Get() == "a");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(q.Retries("a") == 13);
}

TEST_CASE("AddAfter orders by due time and shutdown wakes waiting workers") {
  WorkQueue q;
  q.AddAfter("late", std::chrono::milliseconds(80));
  q.AddAfter("early", std::chrono::milliseconds(10));
  CHECK(*q.Get() == "early");
  CHECK(*q.Get() == "late");
  std::thread waiter([&] { CHECK_FALSE(q.Get().has_value()); });
  q.ShutDown();
  waiter.join();
  q.Add("ignored");
  CHECK(q.Len() == 0);
}

TEST_CASE("an earlier AddAfter wins, a later one is ignored, and Add ends the wait") {
  WorkQueue q;
  auto start = std::chrono::steady_clock::now();
  q.AddAfter("a", std::chrono::seconds(30));
  q.AddAfter("a", std::chrono::milliseconds(20));  // earlier: replaces the 30 s wait
  q.AddAfter("a", std::chrono::seconds(60));       // later: ignored
  REQUIRE(*q.Get() == "a");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  q.Done("a");
  CHECK(q.Len() == 0);  // the replaced entries do not bring "a" back

  q.AddAfter("b", std::chrono::seconds(30));
  q.Add("b");  // due now: the delayed entry must not deliver it a second time
  REQUIRE(*q.Get() == "b");
  q.Done("b");
  q.AddAfter("c", std::chrono::milliseconds(30));
  REQUIRE(*q.Get() == "c");  // the next key is "c", not a stale "b"
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(q.Len() == 0);
}

TEST_CASE("thousands of delayed keys come out in due order") {
  WorkQueue q;
  for (int i = 0; i < 5000; ++i) q.AddAfter("k" + std::to_string(i), std::chrono::milliseconds(100 + 5000 - i));
  q.AddAfter("first", std::chrono::milliseconds(1));
  CHECK(*q.Get() == "first");
  q.Done("first");
}

}  // namespace
}  // namespace kite::controllers
