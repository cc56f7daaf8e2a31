#include "src/base/baton.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

namespace kite {
namespace {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "a futex word is 32 bits");

long Futex(std::atomic<uint32_t>* word, int op, uint32_t value, const timespec* timeout = nullptr) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op | FUTEX_PRIVATE_FLAG, value,
                 timeout, nullptr, 0);
}

}  // namespace

void Baton::Post() {
  if (state_.exchange(kPosted, std::memory_order_acq_rel) == kSleeping) {
    Futex(&state_, FUTEX_WAKE, INT_MAX);
  }
}

void Baton::Wait() {
  uint32_t state = state_.load(std::memory_order_acquire);
  if (state == kPosted) return;
  // Announce the sleep; a Post in between turns the state into kPosted and the CAS fails.
  if (state == kInitial &&
      !state_.compare_exchange_strong(state, kSleeping, std::memory_order_acq_rel)) {
    return;  // `state` is kPosted now
  }
  // FUTEX_WAIT returns at once when the word is no longer kSleeping, and may wake
  // spuriously (EINTR, a stale wake): loop on the state.
  while (state_.load(std::memory_order_acquire) == kSleeping) {
    Futex(&state_, FUTEX_WAIT, kSleeping);
  }
}

bool Baton::WaitFor(std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  uint32_t state = state_.load(std::memory_order_acquire);
  if (state == kPosted) return true;
  if (state == kInitial &&
      !state_.compare_exchange_strong(state, kSleeping, std::memory_order_acq_rel)) {
    return true;
  }
  while (state_.load(std::memory_order_acquire) == kSleeping) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      // Take the sleep back; when a Post got in first, it wins.
      uint32_t sleeping = kSleeping;
      return !state_.compare_exchange_strong(sleeping, kInitial, std::memory_order_acq_rel);
    }
    timespec relative{static_cast<time_t>(left.count() / 1'000'000'000),
                      static_cast<long>(left.count() % 1'000'000'000)};
    Futex(&state_, FUTEX_WAIT, kSleeping, &relative);
  }
  return true;
}

}  // namespace kite
