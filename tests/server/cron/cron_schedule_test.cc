// CronJob schedules (robfig/cron v3 ParseStandard rules, error texts and Next) and time
// zones (Go's time.LoadLocation and formats).
#include "src/server/cron/cron_schedule.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <ctime>

#include "src/server/cron/time_zone.h"

namespace kite::cron {
namespace {

// Unix ms of a UTC wall time.
int64_t Utc(int year, int month, int day, int hour, int minute, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::optional<int64_t> Next(std::string_view schedule, int64_t after, std::string_view zone = "UTC") {
  Result<CronSchedule> s = CronSchedule::Parse(schedule, zone);
  REQUIRE(s.ok());
  return s->Next(after);
}

// The error message of parsing `schedule` (without a spec.timeZone), or "<ok>".
std::string Error(std::string_view schedule) {
  Result<CronSchedule> s = CronSchedule::Parse(schedule);
  return s.ok() ? "<ok>" : s.status().message();
}

bool HaveZone(const char* name) {
  struct stat st;
  return stat((std::string("/usr/share/zoneinfo/") + name).c_str(), &st) == 0;
}

TEST_CASE("valid schedules parse") {
  for (const char* ok : {"*/5 * * * *", "0 0 * * 0", "@hourly", "@daily", "@every 1h30m",
                         "0 9-17 * * mon-fri", "15 3 1,15 jan-jun ?", "TZ=UTC 0 * * * *",
                         "  0  0  *  *  *  ", "30 2 */2 * SUN", "0-59/15 * * * *", "5/10 * * * *"}) {
    INFO(ok);
    CHECK(Error(ok) == "<ok>");
  }
  // Go accepts these too: a sign, an empty list element, an empty TZ= (UTC).
  for (const char* ok : {"+5 * * * *", "1,,2 * * * *", "*/+2 * * * *", "TZ= @daily", "CRON_TZ=UTC @every 1.5s"}) {
    INFO(ok);
    CHECK(Error(ok) == "<ok>");
  }
}

TEST_CASE("invalid schedules give robfig's messages") {
  CHECK(Error("foo") == "expected exactly 5 fields, found 1: [foo]");
  CHECK(Error("* * * *") == "expected exactly 5 fields, found 4: [* * * *]");
  CHECK(Error("* * * * * *") == "expected exactly 5 fields, found 6: [* * * * * *]");
  CHECK(Error("61 * * * *") == "end of range (61) above maximum (59): 61");
  CHECK(Error("0 0 0 * *") == "beginning of range (0) below minimum (1): 0");
  CHECK(Error("5-1 * * * *") == "beginning of range (5) beyond end of range (1): 5-1");
  CHECK(Error("*/0 * * * *") == "step of range should be a positive number: */0");
  CHECK(Error("x * * * *") == "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
  CHECK(Error("1-2-3 * * * *") == "too many hyphens: 1-2-3");
  CHECK(Error("1/2/3 * * * *") == "too many slashes: 1/2/3");
  CHECK(Error("@foo") == "unrecognized descriptor: @foo");
  CHECK(Error("@every 5") == "failed to parse duration @every 5: time: missing unit in duration \"5\"");
  CHECK(Error("@every 5x") == "failed to parse duration @every 5x: time: unknown unit \"x\" in duration \"5x\"");
  CHECK(Error("0 0 * foo *") == "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax");
  CHECK(Error("TZ=Nowhere/Land 0 * * * *") ==
        "provided bad location Nowhere/Land: unknown time zone Nowhere/Land");
}

TEST_CASE("edge cases keep Go's texts") {
  CHECK(Error("") == "empty spec string");
  // A leading '-' is a range with an empty start; only a step reaches Atoi's sign.
  CHECK(Error("-5 * * * *") == "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax");
  CHECK(Error("*/-5 * * * *") == "negative number (-5) not allowed: -5");
  CHECK(Error("*/-9223372036854775808 * * * *") ==
        "negative number (-9223372036854775808) not allowed: -9223372036854775808");
  CHECK(Error("99999999999999999999 * * * *") ==
        "failed to parse int from 99999999999999999999: strconv.Atoi: parsing \"99999999999999999999\": "
        "value out of range");
  // Beyond 32 bits the number is still shown as Go shows it.
  CHECK(Error("4294967296 * * * *") == "end of range (4294967296) above maximum (59): 4294967296");
  CHECK(Error("\"a * * * *") ==
        "failed to parse int from \"a: strconv.Atoi: parsing \"\\\"a\": invalid syntax");
  CHECK(Error("\xff * * * *") == "failed to parse int from \xff: strconv.Atoi: parsing \"\\xff\": invalid syntax");
  CHECK(Error("- * * * *") == "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax");
  // Descriptors are case-sensitive and not trimmed, as in robfig.
  CHECK(Error("@DAILY") == "unrecognized descriptor: @DAILY");
  CHECK(Error(" @daily") == "expected exactly 5 fields, found 1: [@daily]");
  CHECK(Error("@every ") == "failed to parse duration @every : time: invalid duration \"\"");
  CHECK(Error("@every .s") == "failed to parse duration @every .s: time: invalid duration \".s\"");
  CHECK(Error("@every 9999999999h") ==
        "failed to parse duration @every 9999999999h: time: invalid duration \"9999999999h\"");
  CHECK(Error("TZ=UTC") == "provided bad location UTC: unknown time zone UTC");
  CHECK(Error("TZ=../etc/passwd * * * * *") ==
        "provided bad location ../etc/passwd: time: invalid location name");
  if (HaveZone("Europe")) {
    CHECK(Error("TZ=Europe * * * * *") == "provided bad location Europe: is a directory");
  }
  if (HaveZone("zone.tab")) {
    CHECK(Error("TZ=zone.tab * * * * *") == "provided bad location zone.tab: malformed time zone information");
  }
  // spec.timeZone reads as a TZ= prefix, as the CronJob controller builds it.
  Result<CronSchedule> mars = CronSchedule::Parse("@daily", "Mars/Olympus");
  CHECK(mars.status().message() == "provided bad location Mars/Olympus: unknown time zone Mars/Olympus");
}

TEST_CASE("five-field schedules find the next matching minute") {
  int64_t t = Utc(2024, 5, 1, 10, 7, 30);  // a Wednesday
  CHECK(Next("* * * * *", t) == Utc(2024, 5, 1, 10, 8));
  CHECK(Next("*/15 * * * *", t) == Utc(2024, 5, 1, 10, 15));
  CHECK(Next("5 * * * *", t) == Utc(2024, 5, 1, 11, 5));
  CHECK(Next("0 9 * * 1-5", Utc(2024, 5, 4, 12, 0)) == Utc(2024, 5, 6, 9, 0));  // Saturday → Monday
  CHECK(Next("30 2 1 * *", t) == Utc(2024, 6, 1, 2, 30));
  CHECK(Next("0 0 1 jan *", t) == Utc(2025, 1, 1, 0, 0));
  CHECK(Next("0 12 * * SUN", t) == Utc(2024, 5, 5, 12, 0));
  CHECK(Next("0 0 29 2 *", t) == Utc(2028, 2, 29, 0, 0));
  CHECK(Next("10-20/5 3 * * *", t) == Utc(2024, 5, 2, 3, 10));
  CHECK(Next("0 8,20 * * *", t) == Utc(2024, 5, 1, 20, 0));
  // Exactly on a match: the next one, not the same.
  CHECK(Next("* * * * *", Utc(2024, 5, 1, 10, 8)) == Utc(2024, 5, 1, 10, 9));
  // February 30 never comes.
  CHECK(Next("0 0 30 2 *", t) == std::nullopt);
}

TEST_CASE("day of month and day of week: either matches unless one is a star") {
  int64_t t = Utc(2024, 5, 2, 0, 0);  // Thursday 2 May
  // The 1st or any Monday: Monday 6 May comes first.
  CHECK(Next("0 0 1 * 1", t) == Utc(2024, 5, 6, 0, 0));
  // Every day of the month that is a Monday (dom is "*").
  CHECK(Next("0 0 * * 1", t) == Utc(2024, 5, 6, 0, 0));
  // "*/1" keeps the star, "*/2" does not (robfig): odd days or Mondays.
  CHECK(Next("0 0 */2 * 1", Utc(2024, 5, 3, 1, 0)) == Utc(2024, 5, 5, 0, 0));
}

TEST_CASE("descriptors") {
  int64_t t = Utc(2024, 5, 1, 10, 7, 30);
  CHECK(Next("@hourly", t) == Utc(2024, 5, 1, 11, 0));
  CHECK(Next("@daily", t) == Utc(2024, 5, 2, 0, 0));
  CHECK(Next("@midnight", t) == Utc(2024, 5, 2, 0, 0));
  CHECK(Next("@weekly", t) == Utc(2024, 5, 5, 0, 0));
  CHECK(Next("@monthly", t) == Utc(2024, 6, 1, 0, 0));
  CHECK(Next("@yearly", t) == Utc(2025, 1, 1, 0, 0));
  CHECK(Next("@annually", t) == Utc(2025, 1, 1, 0, 0));
  CHECK(Next("@every 90m", t + 250) == t + 90 * 60 * 1000);
  CHECK(Next("@every 1h30m", t) == t + 90 * 60 * 1000);
  // robfig's Every: whole seconds, at least one.
  CHECK(Next("@every 1.5s", t) == t + 1000);
  CHECK(Next("@every 10ms", t) == t + 1000);
  CHECK(Next("@every 2.5m", t) == t + 150 * 1000);
}

TEST_CASE("malformed schedules are refused") {
  for (const char* bad : {"", "* * * *", "* * * * * *", "61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                          "* * * * 7", "5-1 * * * *", "*/0 * * * *", "a * * * *", "@often", "@every later"}) {
    INFO(bad);
    CHECK(CronSchedule::Parse(bad, "UTC").status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(CronSchedule::Parse("* * * * *", "Mars/Olympus").status().code() == StatusCode::kNotFound);
  CHECK(CronSchedule::Parse("TZ=Nowhere/Land * * * * *").status().code() == StatusCode::kNotFound);
}

TEST_CASE("time zones: wall-clock schedules across daylight-saving time") {
  if (!HaveZone("Europe/Berlin")) return;  // no zoneinfo database on this machine
  // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
  CHECK(Next("0 9 * * *", Utc(2024, 1, 10, 12, 0), "Europe/Berlin") == Utc(2024, 1, 11, 8, 0));
  CHECK(Next("0 9 * * *", Utc(2024, 7, 10, 12, 0), "Europe/Berlin") == Utc(2024, 7, 11, 7, 0));
  // Across the spring change (31 March 2024).
  CHECK(Next("0 9 * * *", Utc(2024, 3, 30, 12, 0), "Europe/Berlin") == Utc(2024, 3, 31, 7, 0));
  // The prefix form, and spec.timeZone taking its place.
  Result<CronSchedule> prefixed = CronSchedule::Parse("CRON_TZ=Europe/Berlin 0 9 * * *");
  REQUIRE(prefixed.ok());
  CHECK(prefixed->zone().name() == "Europe/Berlin");
  CHECK(prefixed->Next(Utc(2024, 1, 10, 12, 0)) == Utc(2024, 1, 11, 8, 0));
  if (HaveZone("America/New_York")) {
    CHECK(Next("30 6 * * *", Utc(2024, 1, 10, 0, 0), "America/New_York") == Utc(2024, 1, 10, 11, 30));
  }
}

TEST_CASE("time zones load as Go loads them") {
  CHECK(TimeZone::Load("").value()->name() == "UTC");
  CHECK(TimeZone::Load("UTC").value() == TimeZone::Utc());
  REQUIRE(TimeZone::Load("Local").ok());  // $TZ, /etc/localtime or UTC: never an error
  CHECK(TimeZone::Load("Mars/Olympus").status().code() == StatusCode::kNotFound);
  CHECK(TimeZone::Load("Mars/Olympus").status().message() == "unknown time zone Mars/Olympus");
  CHECK(TimeZone::Load("/etc/localtime").status().message() == "time: invalid location name");
  CHECK(TimeZone::Load("Europe/../UTC").status().message() == "time: invalid location name");
  CHECK(TimeZone::Load(std::string_view("UTC\0x", 5)).status().code() == StatusCode::kInvalidArgument);
  if (!HaveZone("Europe/Berlin")) return;
  Result<std::shared_ptr<const TimeZone>> berlin = TimeZone::Load("Europe/Berlin");
  REQUIRE(berlin.ok());
  CHECK(TimeZone::Load("Europe/Berlin").value() == *berlin);  // cached
  const TimeZone& z = **berlin;
  CHECK(z.Lookup(Utc(2024, 1, 10, 0, 0) / 1000).seconds == 3600);
  CHECK(z.Lookup(Utc(2024, 7, 10, 0, 0) / 1000).seconds == 7200);
  CivilTime c = z.WallClock(Utc(2024, 7, 10, 22, 30) / 1000);
  CHECK((c.year == 2024 && c.month == 7 && c.day == 11 && c.hour == 0 && c.minute == 30 && c.weekday == 4));
  // time.Date normalises: 31 April is 1 May, month 13 is January.
  CHECK(z.Date(2024, 4, 31, 12, 0, 0) * 1000 == Utc(2024, 5, 1, 10, 0));
  CHECK(z.Date(2023, 13, 1, 0, 0, 0) * 1000 == Utc(2023, 12, 31, 23, 0));
  // 02:30 on 31 March 2024 does not exist in Berlin: Go gives 03:30 CEST (01:30 UTC).
  CHECK(z.Date(2024, 3, 31, 2, 30, 0) * 1000 == Utc(2024, 3, 31, 1, 30));
}

TEST_CASE("timestamps as Go formats them") {
  int64_t t = Utc(2024, 5, 1, 10, 7, 0);
  CHECK(FormatRfc3339InZone(t, *TimeZone::Utc()) == "2024-05-01T10:07:00Z");
  CHECK(FormatRfc1123Z(t) == "Wed, 01 May 2024 10:07:00 +0000");
  if (HaveZone("Europe/Berlin")) {
    Result<std::shared_ptr<const TimeZone>> berlin = TimeZone::Load("Europe/Berlin");
    REQUIRE(berlin.ok());
    CHECK(FormatRfc3339InZone(t, **berlin) == "2024-05-01T12:07:00+02:00");
  }
}

}  // namespace
}  // namespace kite::cron
