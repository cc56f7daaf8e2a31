#include "src/server/tables/human_duration.h"

#include <catch2/catch.hpp>

#include "src/server/tables/timestamp.h"

namespace kite::tables {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("HumanDuration keeps about two significant units", "[tables]") {
  CHECK(HumanDuration(seconds(0)) == "0s");
  CHECK(HumanDuration(seconds(5)) == "5s");
  CHECK(HumanDuration(seconds(119)) == "119s");
  CHECK(HumanDuration(seconds(120)) == "2m");
  CHECK(HumanDuration(minutes(3) + seconds(2)) == "3m2s");
  CHECK(HumanDuration(minutes(9) + seconds(59)) == "9m59s");
  CHECK(HumanDuration(minutes(10) + seconds(30)) == "10m");
  CHECK(HumanDuration(minutes(179)) == "179m");
  CHECK(HumanDuration(hours(3)) == "3h");
  CHECK(HumanDuration(hours(5) + minutes(20)) == "5h20m");
  CHECK(HumanDuration(hours(8) + minutes(20)) == "8h");
  CHECK(HumanDuration(hours(47)) == "47h");
  CHECK(HumanDuration(hours(48)) == "2d");
  CHECK(HumanDuration(hours(51)) == "2d3h");
  CHECK(HumanDuration(hours(24 * 8)) == "8d");
  CHECK(HumanDuration(hours(24 * 729)) == "729d");
  CHECK(HumanDuration(hours(24 * 730)) == "2y");
  CHECK(HumanDuration(hours(24 * (730 + 30))) == "2y30d");
  CHECK(HumanDuration(hours(24 * 365 * 9)) == "9y");
}

TEST_CASE("HumanDuration tolerates a second of clock skew only", "[tables]") {
  CHECK(HumanDuration(milliseconds(-500)) == "0s");
  CHECK(HumanDuration(milliseconds(-1999)) == "0s");
  CHECK(HumanDuration(seconds(-2)) == "<invalid>");
}

TEST_CASE("Timestamps parse RFC 3339 as Kubernetes writes them", "[tables]") {
  auto t = ParseTimestamp("2024-05-01T12:00:00Z");
  REQUIRE(t.has_value());
  CHECK(FormatTimestamp(*t) == "2024-05-01T12:00:00Z");
  CHECK(t->time_since_epoch() == seconds(1714564800));

  auto micro = ParseTimestamp("2024-05-01T12:00:00.250000Z");
  REQUIRE(micro.has_value());
  CHECK(*micro - *t == milliseconds(250));

  auto offset = ParseTimestamp("2024-05-01T14:30:00+02:30");
  REQUIRE(offset.has_value());
  CHECK(FormatTimestamp(*offset) == "2024-05-01T12:00:00Z");

  auto zero = ParseTimestamp("0001-01-01T00:00:00Z");
  REQUIRE(zero.has_value());
  CHECK(IsZeroTime(*zero));
  CHECK(FormatTimestamp(*zero) == "0001-01-01T00:00:00Z");

  CHECK_FALSE(ParseTimestamp("2024-05-01").has_value());
  CHECK_FALSE(ParseTimestamp("2024-13-01T00:00:00Z").has_value());
  CHECK_FALSE(ParseTimestamp("2023-02-29T00:00:00Z").has_value());
  CHECK(ParseTimestamp("2024-02-29T00:00:00Z").has_value());
  CHECK_FALSE(ParseTimestamp("2024-05-01T12:00:00").has_value());
  CHECK_FALSE(ParseTimestamp("2024-05-01T12:00:00Zjunk").has_value());
}

TEST_CASE("AgeSince reads <unknown> without a timestamp", "[tables]") {
  const auto now = std::chrono::system_clock::time_point(seconds(1714564800));
  CHECK(AgeSince(std::nullopt, now) == "<unknown>");
  CHECK(AgeSince(ParseTimestamp("0001-01-01T00:00:00Z"), now) == "<unknown>");
  CHECK(AgeSince(ParseTimestamp("2024-05-01T11:55:00Z"), now) == "5m");
}

}  // namespace
}  // namespace kite::tables
