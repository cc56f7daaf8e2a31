// Time behind a small interface, so tests can drive TTL expiry and timeouts by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace kite {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch. Thread-safe.
  virtual int64_t NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // The process-wide instance; never destroyed.
  static SystemClock* Get();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_millis = 1'700'000'000'000) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Advance(std::chrono::milliseconds d) { now_ += d.count(); }

 private:
  std::atomic<int64_t> now_;
};

// `unix_millis` as an RFC 3339 UTC time to the second, "2026-11-24T07:02:47Z": the form of
// Kubernetes' metav1.Time (creationTimestamp, deletionTimestamp, condition times).
std::string FormatRfc3339Seconds(int64_t unix_millis);

}  // namespace kite
