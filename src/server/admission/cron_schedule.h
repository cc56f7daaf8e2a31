// Internal to kite_admission: checks a CronJob schedule the way Kubernetes does, with
// robfig/cron v3's ParseStandard rules and error texts: five fields (minute, hour,
// day-of-month, month, day-of-week; names like "jan" and "mon" allowed; "*", "?",
// ranges, lists and steps), or a descriptor (@yearly, @annually, @monthly, @weekly,
// @daily, @midnight, @hourly, @every <duration>), optionally after "TZ=zone " or
// "CRON_TZ=zone ". Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kite::admission {

// robfig/cron's error for `schedule`, e.g. "expected exactly 5 fields, found 1: [foo]",
// or nullopt when it parses.
std::optional<std::string> CronScheduleError(std::string_view schedule);

// Whether `zone` names a time zone Go's time.LoadLocation would load ("UTC", "Local" or a
// file of the system's zoneinfo database).
bool IsKnownTimeZone(std::string_view zone);

}  // namespace kite::admission
