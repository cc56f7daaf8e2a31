#include "src/server/controllers/cron_schedule.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <ctime>

namespace kite::controllers {
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

bool HaveZone(const char* name) {
  struct stat st;
  return stat((std::string("/usr/share/zoneinfo/") + name).c_str(), &st) == 0;
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
}  // namespace kite::controllers
