// CronSchedule: when a CronJob fires. Parses spec.schedule the way Kubernetes' CronJob
// controller does (robfig/cron v3 ParseStandard) and computes activations as robfig's
// Next does.
//
// Accepted: five fields (minute, hour, day of month, month, day of week; "*", "?", ranges
// "a-b", steps "/n", lists "a,b", month and weekday names), the descriptors @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly and "@every <Go duration>", and
// a leading "TZ=<zone> " or "CRON_TZ=<zone> ". As in robfig, a day matches when both the
// day-of-month and day-of-week fields match if either is "*" (or "?"), and when either
// matches otherwise.
//
// Time zones: a schedule is evaluated in its zone's wall-clock time. Zones are read from the
// system's zoneinfo database (TZif files, /usr/share/zoneinfo) as Go's time.LoadLocation
// does; "UTC" (and "") is UTC and "Local" is $TZ or /etc/localtime. Around daylight-saving
// changes the arithmetic is robfig's (absolute hour steps, Go's time.Date normalisation).
// Limitation: instants after a zone file's last transition use that transition's offset
// (Debian's "fat" zone files list transitions up to 2037).
//
// Thread-safety: a CronSchedule is immutable after Parse; any thread may call Next.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::controllers {

// A time zone: the UTC offset in force at any instant.
class TimeZone {
 public:
  // kNotFound for a zone the database does not have (Go's "unknown time zone <name>").
  // Zones are cached for the life of the process; thread-safe.
  static Result<std::shared_ptr<const TimeZone>> Load(std::string_view name);
  static std::shared_ptr<const TimeZone> Utc();

  struct Offset {
    int64_t seconds = 0;  // east of UTC
    // The offset holds for instants in [start, end) (Unix seconds).
    int64_t start = INT64_MIN;
    int64_t end = INT64_MAX;
  };
  Offset Lookup(int64_t unix_seconds) const;
  const std::string& name() const { return name_; }

 private:
  struct Transition {
    int64_t at;       // Unix seconds
    int64_t offset;   // seconds east of UTC from `at` on
  };
  // Load without the cache.
  static Result<std::shared_ptr<const TimeZone>> Read(std::string_view name);

  std::string name_;
  int64_t initial_offset_ = 0;  // before the first transition
  std::vector<Transition> transitions_;
};

class CronSchedule {
 public:
  // `time_zone`: CronJob spec.timeZone; when set it takes the place of a TZ= prefix (as
  // Kubernetes' formatSchedule does). Without either the schedule runs in "Local".
  // kInvalidArgument for a malformed schedule, kNotFound for an unknown zone.
  static Result<CronSchedule> Parse(std::string_view schedule,
                                    std::optional<std::string_view> time_zone = std::nullopt);

  // The first activation after `after_ms` (Unix ms), always on a whole second and at least
  // one second later than the whole second `after_ms` falls in; nullopt when there is none
  // within five years (a date that never comes, such as February 30).
  std::optional<int64_t> Next(int64_t after_ms) const;

  const TimeZone& zone() const { return *zone_; }

 private:
  bool DayMatches(int64_t wall_seconds) const;

  uint64_t minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;  // bit sets; bit 63 = "*"
  int64_t every_seconds_ = 0;  // > 0 for "@every"
  std::shared_ptr<const TimeZone> zone_;
};

// `unix_ms` in Go's time.RFC3339 form in `zone` ("2024-05-01T10:00:00+02:00", "…Z" at UTC):
// the form of the batch.kubernetes.io/cronjob-scheduled-timestamp annotation.
std::string FormatRfc3339InZone(int64_t unix_ms, const TimeZone& zone);
// `unix_ms` in Go's time.RFC1123Z form at UTC ("Mon, 02 Jan 2006 15:04:05 +0000").
std::string FormatRfc1123Z(int64_t unix_ms);

}  // namespace kite::controllers
