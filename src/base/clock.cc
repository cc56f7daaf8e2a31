#include "src/base/clock.h"

#include <ctime>

namespace kite {

SystemClock* SystemClock::Get() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

std::string FormatRfc3339Seconds(int64_t unix_millis) {
  time_t seconds = static_cast<time_t>(unix_millis / 1000);
  struct tm tm_utc;
  gmtime_r(&seconds, &tm_utc);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

}  // namespace kite
