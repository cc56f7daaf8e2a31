// Baton: a one-shot hand-off from one thread to one waiting thread — "your result is ready".
//
// Why not std::promise: its set_value goes through std::call_once, whose completion is a
// futex wake even when nobody waits, and then wakes the future: two system calls per
// hand-off where one is needed, and none when the waiter has not gone to sleep yet. The
// store's writer acknowledges every write this way, on the one thread all writes share.
//
// Operation: the state goes 0 (not posted) -> 2 (the waiter sleeps) -> 1 (posted). Post
// stores 1 and wakes the futex only when the waiter announced it sleeps. The waiter may
// return, and destroy the Baton, as soon as it sees 1; Post's wake after that may then land
// on a reused address, which at worst wakes some other futex waiter spuriously — futex
// waiters re-check their condition, so that is harmless.
// Reuse: Reset makes the baton new again. Only the waiter may call it, after its wait saw
// the post and before anyone can Post again (the elastic thread pool's idle workers).
// Thread-safety: one Post and one Wait (or WaitFor), from any two threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace kite {

class Baton {
 public:
  Baton() = default;
  Baton(const Baton&) = delete;
  Baton& operator=(const Baton&) = delete;

  // Marks the baton posted and wakes the waiter if it sleeps. At most once.
  void Post();
  // Returns once Post was called (at once if it already was).
  void Wait();
  // Wait for at most `timeout`: true when posted. After false the baton is as before the
  // wait (a Post may still come).
  bool WaitFor(std::chrono::nanoseconds timeout);
  // Not posted again; see "Reuse" above.
  void Reset() { state_.store(kInitial, std::memory_order_relaxed); }
  bool posted() const { return state_.load(std::memory_order_acquire) == kPosted; }

 private:
  static constexpr uint32_t kInitial = 0;
  static constexpr uint32_t kPosted = 1;
  static constexpr uint32_t kSleeping = 2;

  std::atomic<uint32_t> state_{kInitial};
};

}  // namespace kite
