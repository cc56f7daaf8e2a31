// CronJob schedules: robfig/cron v3 ParseStandard rules and error texts.
#include <catch2/catch.hpp>

#include "src/server/admission/cron_schedule.h"

using kite::admission::CronScheduleError;

TEST_CASE("valid schedules parse") {
  for (const char* ok : {"*/5 * * * *", "0 0 * * 0", "@hourly", "@daily", "@every 1h30m",
                         "0 9-17 * * mon-fri", "15 3 1,15 jan-jun ?", "TZ=UTC 0 * * * *",
                         "  0  0  *  *  *  ", "30 2 */2 * SUN", "0-59/15 * * * *", "5/10 * * * *"}) {
    INFO(ok);
    CHECK_FALSE(CronScheduleError(ok).has_value());
  }
}

TEST_CASE("invalid schedules give robfig's messages") {
  auto error = [](const char* s) { return CronScheduleError(s).value_or("<ok>"); };
  CHECK(error("foo") == "expected exactly 5 fields, found 1: [foo]");
  CHECK(error("* * * *") == "expected exactly 5 fields, found 4: [* * * *]");
  CHECK(error("* * * * * *") == "expected exactly 5 fields, found 6: [* * * * * *]");
  CHECK(error("61 * * * *") == "end of range (61) above maximum (59): 61");
  CHECK(error("0 0 0 * *") == "beginning of range (0) below minimum (1): 0");
  CHECK(error("5-1 * * * *") == "beginning of range (5) beyond end of range (1): 5-1");
  CHECK(error("*/0 * * * *") == "step of range should be a positive number: */0");
  CHECK(error("x * * * *") == "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
  CHECK(error("1-2-3 * * * *") == "too many hyphens: 1-2-3");
  CHECK(error("1/2/3 * * * *") == "too many slashes: 1/2/3");
  CHECK(error("@foo") == "unrecognized descriptor: @foo");
  CHECK(error("@every 5") == "failed to parse duration @every 5: time: missing unit in duration \"5\"");
  CHECK(error("@every 5x") == "failed to parse duration @every 5x: time: unknown unit \"x\" in duration \"5x\"");
  CHECK(error("0 0 * foo *") == "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax");
  CHECK(error("TZ=Nowhere/Land 0 * * * *") ==
        "provided bad location Nowhere/Land: unknown time zone Nowhere/Land");
}
