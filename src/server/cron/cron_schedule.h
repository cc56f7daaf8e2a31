// CronSchedule: when a CronJob fires. Parses spec.schedule as Kubernetes does (robfig/cron
// v3 ParseStandard: the API server validates with it, the CronJob controller schedules with
// it), with robfig's error texts, and computes activations as robfig's Next does.
//
// Accepted: five fields (minute, hour, day of month, month, day of week; "*", "?", ranges
// "a-b", steps "/n", lists "a,b", month and weekday names in any case), the descriptors
// @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly and "@every <Go
// duration>", each optionally after "TZ=<zone> " or "CRON_TZ=<zone> ". As in robfig, a day
// matches when both the day-of-month and day-of-week fields match if either is "*" (or
// "?"), and when either matches otherwise.
//
// Schedules are evaluated in their zone's wall-clock time (time_zone.h); around
// daylight-saving changes the arithmetic is robfig's (absolute hour steps, Go's time.Date
// normalisation).
//
// Thread-safety: a CronSchedule is immutable after Parse; any thread may call Next.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "src/base/status.h"
#include "src/server/cron/time_zone.h"

namespace kite::cron {

class CronSchedule {
 public:
  // `time_zone`: a CronJob's spec.timeZone. When set, the schedule is read as Kubernetes'
  // CronJob controller reads it, "TZ=<time_zone> <schedule>" (so callers leave it unset when
  // the schedule has its own TZ= or CRON_TZ= prefix, as Kubernetes does). Without a zone
  // the schedule runs in "Local".
  // Errors carry robfig's message, e.g. "expected exactly 5 fields, found 1: [foo]",
  // "end of range (61) above maximum (59): 61", "failed to parse int from x:
  // strconv.Atoi: parsing \"x\": invalid syntax", "provided bad location Mars/Olympus:
  // unknown time zone Mars/Olympus". The code is kNotFound for a zone that does not exist
  // and kInvalidArgument for everything else.
  static Result<CronSchedule> Parse(std::string_view schedule,
                                    std::optional<std::string_view> time_zone = std::nullopt);

  // The first activation after `after_ms` (Unix ms), always on a whole second and at least
  // one second later than the whole second `after_ms` falls in; nullopt when there is none
  // within five years (a date that never comes, such as February 30).
  std::optional<int64_t> Next(int64_t after_ms) const;

  const TimeZone& zone() const { return *zone_; }

 private:
  bool DayMatches(int64_t unix_seconds) const;

  uint64_t minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;  // bit sets; bit 63 = "*"
  int64_t every_seconds_ = 0;  // > 0 for "@every"
  std::shared_ptr<const TimeZone> zone_;
};

}  // namespace kite::cron
