// TimeZone: wall-clock time in a named zone, as Go's time package gives it (CronJob
// schedules and their timestamps are computed in Go's terms).
//
// Zones are read from the system's zoneinfo database (TZif files under /usr/share/zoneinfo)
// as Go's time.LoadLocation does: "" and "UTC" are UTC; "Local" is $TZ, else /etc/localtime,
// else UTC. Loaded zones are cached for the life of the process (a tzdata update needs a
// restart, as in Go); the cache holds at most the zones the database has.
// Limitation: instants after a zone file's last transition keep that transition's offset
// (the file's POSIX TZ footer is not read; Debian's "fat" files list transitions to 2037).
//
// Thread-safety: a TimeZone is immutable; Load, Utc and every const method are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::cron {

// Wall-clock fields of an instant in some zone (proleptic Gregorian calendar).
struct CivilTime {
  int64_t year = 1970;
  int64_t month = 1;  // 1..12
  int64_t day = 1;    // 1..31
  int64_t hour = 0, minute = 0, second = 0;
  int64_t weekday = 4;  // 0 = Sunday
};

class TimeZone {
 public:
  // The zone `name`, or Go's time.LoadLocation error text as the message:
  //   kNotFound        "unknown time zone <name>" (no such file);
  //   kInvalidArgument "time: invalid location name" (contains "..", starts with '/' or
  //                    '\'), "malformed time zone information" (not a TZif file), or the
  //                    system error reading the file ("is a directory", ...).
  static Result<std::shared_ptr<const TimeZone>> Load(std::string_view name);
  static std::shared_ptr<const TimeZone> Utc();

  struct Offset {
    int64_t seconds = 0;  // east of UTC
    // The offset holds for instants in [start, end) (Unix seconds).
    int64_t start = INT64_MIN;
    int64_t end = INT64_MAX;
  };
  Offset Lookup(int64_t unix_seconds) const;

  // The wall clock here at `unix_seconds`.
  CivilTime WallClock(int64_t unix_seconds) const;
  // Go's time.Date(year, month, day, hour, minute, second, 0, zone) in Unix seconds: fields
  // out of range are normalised (month 13 is January of the next year, day 0 the last day
  // of the previous month); a wall time that a daylight-saving change skips or repeats is
  // resolved as Go resolves it (the offset found for the wall time read as UTC, unless the
  // result falls outside that offset's span).
  int64_t Date(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second) const;

  // The name it was loaded by ("Local" for the local zone).
  const std::string& name() const { return name_; }

 private:
  struct Transition {
    int64_t at;      // Unix seconds
    int64_t offset;  // seconds east of UTC from `at` on
  };
  // Load without the cache.
  static Result<std::shared_ptr<const TimeZone>> Read(std::string_view name);
  static Result<std::shared_ptr<const TimeZone>> ReadFile(const std::string& path, std::string_view name);

  std::string name_;
  int64_t initial_offset_ = 0;  // before the first transition
  std::vector<Transition> transitions_;
};

// `unix_ms` in Go's time.RFC3339 form in `zone` ("2024-05-01T10:00:00+02:00", "…Z" at UTC):
// the form of the batch.kubernetes.io/cronjob-scheduled-timestamp annotation.
std::string FormatRfc3339InZone(int64_t unix_ms, const TimeZone& zone);
// `unix_ms` in Go's time.RFC1123Z form at UTC ("Mon, 02 Jan 2006 15:04:05 +0000").
std::string FormatRfc1123Z(int64_t unix_ms);

}  // namespace kite::cron
