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

TEST_CASE("Go durations format like time.Duration.String") {
  CHECK(FormatGoDuration(0) == "0s");
  CHECK(FormatGoDuration(1) == "1ns");
  CHECK(FormatGoDuration(1100) == "1.1\xc2\xb5s");
  CHECK(FormatGoDuration(2200000) == "2.2ms");
  CHECK(FormatGoDuration(3300000000) == "3.3s");
  CHECK(FormatGoDuration(4 * 60 * 1000000000LL + 5000000000LL) == "4m5s");
  CHECK(FormatGoDuration(4 * 60 * 1000000000LL + 5001000000LL) == "4m5.001s");
  CHECK(FormatGoDuration(5LL * 3600 * 1000000000LL + 6 * 60 * 1000000000LL + 7001000000LL) ==
        "5h6m7.001s");
  CHECK(FormatGoDuration(3600 * 1000000000LL) == "1h0m0s");
  CHECK(FormatGoDuration(-1500000000) == "-1.5s");
  CHECK(FormatGoDuration(INT64_MIN) == "-2562047h47m16.854775808s");
  CHECK(FormatGoDuration(INT64_MAX) == "2562047h47m16.854775807s");
}

TEST_CASE("Go durations parse like time.ParseDuration") {
  auto parse = [](std::string_view s) -> std::optional<int64_t> {
    int64_t d;
    if (!ParseGoDuration(s, &d)) return std::nullopt;
    return d;
  };
  CHECK(parse("0") == 0);
  CHECK(parse("5s") == 5000000000LL);
  CHECK(parse("1h30m") == 5400000000000LL);
  CHECK(parse("1.5h") == 5400000000000LL);
  CHECK(parse("-1.5s") == -1500000000LL);
  CHECK(parse("+2ms") == 2000000LL);
  CHECK(parse("3us") == 3000LL);
  CHECK(parse("3\xc2\xb5s") == 3000LL);
  CHECK(parse(".5s") == 500000000LL);
  CHECK(parse("1h0m0s") == 3600000000000LL);
  CHECK(parse("2562047h47m16.854775807s") == INT64_MAX);
  CHECK(parse("-2562047h47m16.854775808s") == INT64_MIN);
  for (const char* bad : {"", "s", "1", "1x", "1.s.", "-", "2562047h47m16.854775808s",
                          "9999999999999999999h", "1 s"}) {
    INFO(bad);
    CHECK_FALSE(parse(bad).has_value());
  }
  for (int64_t d : {0LL, 1LL, 999LL, 1234567LL, 3300000000LL, 86400000000000LL, -42LL}) {
    CHECK(parse(FormatGoDuration(d)) == d);
  }
}

TEST_CASE("base64 is the standard alphabet with padding") {
  CHECK(Base64Encode("") == "");
  CHECK(Base64Encode("f") == "Zg==");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("foo") == "Zm9v");
  CHECK(Base64Encode(std::string("\x00\xff\xfe", 3)) == "AP/+");
  std::string out;
  REQUIRE(Base64Decode("Zm9vYmFy", &out));
  CHECK(out == "foobar");
  REQUIRE(Base64Decode("Zm9v\r\nYg==", &out));
  CHECK(out == "foob");
  REQUIRE(Base64Decode("", &out));
  CHECK(out.empty());
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9*", "Zm9v=", "=Zm9"}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad, &out));
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  REQUIRE(Base64Decode(Base64Encode(all), &out));
  CHECK(out == all);
}

}  // namespace
}  // namespace kite::schema
