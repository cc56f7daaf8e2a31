#include "src/server/schema/well_known_types.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace kite::schema {
namespace {

TEST_CASE("RFC 3339 times format in UTC") {
  CHECK(FormatRfc3339(0, 0, false) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(1704164645, 0, false) == "2024-01-02T03:04:05Z");
  CHECK(FormatRfc3339(1704164645, 987654321, false) == "2024-01-02T03:04:05Z");
  CHECK(FormatRfc3339(1704164645, 987654321, true) == "2024-01-02T03:04:05.987654Z");
  CHECK(FormatRfc3339(1704164645, 0, true) == "2024-01-02T03:04:05.000000Z");
  CHECK(FormatRfc3339(951782400, 0, false) == "2000-02-29T00:00:00Z");  // leap day
  CHECK(FormatRfc3339(-1, 0, false) == "1969-12-31T23:59:59Z");
  CHECK(FormatRfc3339(-62135596800, 0, false) == "0001-01-01T00:00:00Z");  // Go's zero time
  CHECK(FormatRfc3339(253402300799, 0, false) == "9999-12-31T23:59:59Z");
  CHECK_FALSE(FormatRfc3339(253402300800, 0, false).has_value());
  CHECK_FALSE(FormatRfc3339(INT64_MIN, 0, false).has_value());
  CHECK_FALSE(FormatRfc3339(INT64_MAX, 1999999999, true).has_value());
  // Nanos outside [0, 1e9) carry into the seconds.
  CHECK(FormatRfc3339(10, -1000, true) == "1970-01-01T00:00:09.999999Z");
}

TEST_CASE("RFC 3339 times parse with fractions and offsets") {
  int64_t s;
  int32_t n;
  REQUIRE(ParseRfc3339("2024-01-02T03:04:05Z", &s, &n));
  CHECK(s == 1704164645);
  CHECK(n == 0);
  REQUIRE(ParseRfc3339("2024-01-02T03:04:05.5Z", &s, &n));
  CHECK(n == 500000000);
  REQUIRE(ParseRfc3339("2024-01-02T03:04:05.123456789123Z", &s, &n));
  CHECK(n == 123456789);
  REQUIRE(ParseRfc3339("2024-01-02T05:04:05+02:00", &s, &n));
  CHECK(s == 1704164645);
  REQUIRE(ParseRfc3339("2024-01-01T23:04:05-04:00", &s, &n));
  CHECK(s == 1704164645);
  REQUIRE(ParseRfc3339("0001-01-01T00:00:00Z", &s, &n));
  CHECK(s == -62135596800);
  for (const char* bad :
       {"", "2024-01-02", "2024-01-02T03:04:05", "2024-13-02T03:04:05Z", "2023-02-29T00:00:00Z",
        "2024-01-02T24:00:00Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05Zjunk",
        "2024-01-02T03:04:05+0200", "24-01-02T03:04:05Z", "2024-01-02 03:04:05Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseRfc3339(bad, &s, &n));
  }
}

}  // namespace
}  // namespace kite::schema
