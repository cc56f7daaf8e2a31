#include "src/base/go_duration.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace kite {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;

std::optional<int64_t> Parse(std::string_view s) {
  Result<int64_t> d = ParseGoDuration(s);
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::string ParseError(std::string_view s) {
  Result<int64_t> d = ParseGoDuration(s);
  if (d.ok()) return "ok";
  CHECK(d.status().code() == StatusCode::kInvalidArgument);
  return d.status().message();
}

TEST_CASE("Go durations format like time.Duration.String") {
  CHECK(FormatGoDuration(0) == "0s");
  CHECK(FormatGoDuration(1) == "1ns");
  CHECK(FormatGoDuration(999) == "999ns");
  CHECK(FormatGoDuration(1000) == "1\xc2\xb5s");
  CHECK(FormatGoDuration(1100) == "1.1\xc2\xb5s");
  CHECK(FormatGoDuration(2200000) == "2.2ms");
  CHECK(FormatGoDuration(3300000000) == "3.3s");
  CHECK(FormatGoDuration(4 * 60 * kSecond + 5 * kSecond) == "4m5s");
  CHECK(FormatGoDuration(4 * 60 * kSecond + 5001 * kMs) == "4m5.001s");
  CHECK(FormatGoDuration(5LL * 3600 * kSecond + 6 * 60 * kSecond + 7001 * kMs) == "5h6m7.001s");
  CHECK(FormatGoDuration(3600 * kSecond) == "1h0m0s");
  CHECK(FormatGoDuration(-1500000000) == "-1.5s");
  CHECK(FormatGoDuration(-4) == "-4ns");
  CHECK(FormatGoDuration(INT64_MIN) == "-2562047h47m16.854775808s");
  CHECK(FormatGoDuration(INT64_MAX) == "2562047h47m16.854775807s");
}

TEST_CASE("metrics windows and back-offs in milliseconds") {
  CHECK(FormatGoDuration(15000 * kMs) == "15s");
  CHECK(FormatGoDuration(15012 * kMs) == "15.012s");
  CHECK(FormatGoDuration(15100 * kMs) == "15.1s");
  CHECK(FormatGoDuration(500 * kMs) == "500ms");
  CHECK(FormatGoDuration(60000 * kMs) == "1m0s");
  CHECK(FormatGoDuration(90500 * kMs) == "1m30.5s");
  CHECK(FormatGoDuration(3723500 * kMs) == "1h2m3.5s");
  CHECK(FormatGoDuration(-1500 * kMs) == "-1.5s");
  CHECK(FormatGoDuration(300000 * kMs) == "5m0s");
}

TEST_CASE("Go durations parse like time.ParseDuration") {
  CHECK(Parse("0") == 0);
  CHECK(Parse("-0") == 0);
  CHECK(Parse("+0") == 0);
  CHECK(Parse("0s") == 0);
  CHECK(Parse("5s") == 5 * kSecond);
  CHECK(Parse("1h30m") == 5400 * kSecond);
  CHECK(Parse("1.5h") == 5400 * kSecond);
  CHECK(Parse("-1.5s") == -1500 * kMs);
  CHECK(Parse("+2ms") == 2 * kMs);
  CHECK(Parse("3ns") == 3);
  CHECK(Parse("3us") == 3000);
  CHECK(Parse("3\xc2\xb5s") == 3000);  // U+00B5
  CHECK(Parse("3\xce\xbcs") == 3000);  // U+03BC
  CHECK(Parse(".5s") == 500 * kMs);
  CHECK(Parse("5.s") == 5 * kSecond);
  CHECK(Parse("1h0m0s") == 3600 * kSecond);
  CHECK(Parse("1s1s") == 2 * kSecond);  // units may repeat, in any order
  CHECK(Parse("0.100000000000000000000h") == 360 * kSecond);  // digits past 2^63 dropped
  CHECK(Parse("2562047h47m16.854775807s") == INT64_MAX);
  CHECK(Parse("-2562047h47m16.854775808s") == INT64_MIN);
  CHECK(Parse("9223372036854775807ns") == INT64_MAX);
  CHECK(Parse("-9223372036854775808ns") == INT64_MIN);
  for (const char* bad : {"", "s", "1", "1x", "1.s.", "-", "+", ".", ".s", "-.s", "00", "1 s",
                          "2562047h47m16.854775808s", "9223372036854775808ns",
                          "9999999999999999999h", "1s-1s"}) {
    INFO(bad);
    CHECK_FALSE(Parse(bad).has_value());
  }
  for (int64_t d : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1234567}, int64_t{3300000000},
                    int64_t{86400} * kSecond, int64_t{-42}, INT64_MAX, INT64_MIN}) {
    CHECK(Parse(FormatGoDuration(d)) == d);
  }
}

TEST_CASE("parse errors carry Go's texts and quoting") {
  CHECK(ParseError("") == "time: invalid duration \"\"");
  CHECK(ParseError(".s") == "time: invalid duration \".s\"");
  CHECK(ParseError("9999999999h") == "time: invalid duration \"9999999999h\"");
  CHECK(ParseError("5") == "time: missing unit in duration \"5\"");
  CHECK(ParseError("1h5") == "time: missing unit in duration \"1h5\"");
  CHECK(ParseError("5x") == "time: unknown unit \"x\" in duration \"5x\"");
  CHECK(ParseError("5S") == "time: unknown unit \"S\" in duration \"5S\"");
  // Bytes outside printable ASCII as \xNN; quotes and backslashes escaped.
  CHECK(ParseError("5\xc3\xa9") == "time: unknown unit \"\\xc3\\xa9\" in duration \"5\\xc3\\xa9\"");
  CHECK(ParseError("\"1\"") == "time: invalid duration \"\\\"1\\\"\"");
  CHECK(ParseError("1\\s") == "time: unknown unit \"\\\\s\" in duration \"1\\\\s\"");
}

}  // namespace
}  // namespace kite
