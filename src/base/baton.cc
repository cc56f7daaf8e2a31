#include "src/base/baton.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace kite {
namespace {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "a futex word is 32 bits");

long Futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op | FUTEX_PRIVATE_FLAG, value,
                 nullptr, nullptr, 0);
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

}  // namespace kite
