#include "src/base/percent_encoding.h"

#include <catch2/catch.hpp>

namespace kite {
namespace {

TEST_CASE("hex digits of either case; anything else is -1") {
  CHECK(HexDigitValue('0') == 0);
  CHECK(HexDigitValue('9') == 9);
  CHECK(HexDigitValue('a') == 10);
  CHECK(HexDigitValue('F') == 15);
  CHECK(HexDigitValue('g') == -1);
  CHECK(HexDigitValue('%') == -1);
}

TEST_CASE("strict decoding fails on a malformed escape") {
  std::string out;
  CHECK(PercentDecode("a%2Fb%c3%A9", false, out));
  CHECK(out == "a/b\xc3\xa9");
  CHECK(PercentDecode("a+b", false, out));
  CHECK(out == "a+b");
  CHECK(PercentDecode("a+b%2B", true, out));
  CHECK(out == "a b+");
  CHECK_FALSE(PercentDecode("%4", false, out));
  CHECK_FALSE(PercentDecode("x%zz", true, out));
  CHECK_FALSE(PercentDecode("%", false, out));
}

TEST_CASE("lenient decoding keeps a malformed escape as it is") {
  CHECK(PercentDecodeLenient("100%25 sure%0D%0a", false) == "100% sure\r\n");
  CHECK(PercentDecodeLenient("50% off", false) == "50% off");
  CHECK(PercentDecodeLenient("trailing %4", false) == "trailing %4");
  CHECK(PercentDecodeLenient("%", true) == "%");
  CHECK(PercentDecodeLenient("a+b%zz", true) == "a b%zz");
  CHECK(PercentDecodeLenient("a+b", false) == "a+b");
}

}  // namespace
}  // namespace kite
