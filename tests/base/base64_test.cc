#include "src/base/base64.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

namespace kite {
namespace {

using Bytes = std::optional<std::string>;

std::string AllBytes() {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  return all;
}

TEST_CASE("standard base64 encodes with padding") {
  CHECK(Base64Encode("") == "");
  CHECK(Base64Encode("f") == "Zg==");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("foo") == "Zm9v");
  CHECK(Base64Encode("foob") == "Zm9vYg==");
  CHECK(Base64Encode("true") == "dHJ1ZQ==");
  CHECK(Base64Encode(std::string("\x00\xff\xfe", 3)) == "AP/+");
  CHECK(Base64Encode("\xfb\xff") == "+/8=");
  // 57 bytes encode to 76 characters: no MIME line break is inserted.
  CHECK(Base64Encode(std::string(57, 'a')).size() == 76);
  CHECK(Base64Encode(std::string(100, 'a')).find('\n') == std::string::npos);
}

TEST_CASE("standard base64 decodes as Go's StdEncoding") {
  CHECK(Base64Decode("") == Bytes(""));
  CHECK(Base64Decode("Zm9vYmFy") == Bytes("foobar"));
  CHECK(Base64Decode("dHJ1ZQ==") == Bytes("true"));
  CHECK(Base64Decode("YWJj") == Bytes("abc"));
  CHECK(Base64Decode("+/8=") == Bytes("\xfb\xff"));
  // CR and LF are skipped anywhere, also inside and after the padding.
  CHECK(Base64Decode("Zm9v\r\nYg==") == Bytes("foob"));
  CHECK(Base64Decode("\nZ\nm\r8\n=\n") == Bytes("fo"));
  CHECK(Base64Decode("Zg=\n=\r\n") == Bytes("f"));
  CHECK(Base64Decode("\n") == Bytes(""));
  // Non-zero unused bits are accepted (StdEncoding is not Strict): "Zh==" is also "f".
  CHECK(Base64Decode("Zh==") == Bytes("f"));
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9*", "Zm9v=", "=Zm9", "dHJ1ZQ",
                          "dHJ1Z-==", "d===", "Zm 9v", "Zm9v\t", "Zg==\nx"}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad).has_value());
  }
  const std::string all = AllBytes();
  CHECK(Base64Decode(Base64Encode(all)) == Bytes(all));
  for (size_t n = 0; n < 8; ++n) {
    std::string s = all.substr(250 - n, n);
    CHECK(Base64Decode(Base64Encode(s)) == Bytes(s));
  }
}

TEST_CASE("padding can be made optional for lenient readers") {
  constexpr Base64Padding kOptional = Base64Padding::kOptional;
  CHECK(Base64Decode("aGVsbG8=", kOptional) == Bytes("hello"));
  CHECK(Base64Decode("aGVsbG8", kOptional) == Bytes("hello"));
  CHECK(Base64Decode("Zg", kOptional) == Bytes("f"));
  CHECK(Base64Decode("Zg==", kOptional) == Bytes("f"));
  CHECK(Base64Decode("Zm9v\nYg", kOptional) == Bytes("foob"));
  CHECK(Base64Decode("", kOptional) == Bytes(""));
  for (const char* bad : {"a$==", "Z", "Zm9vY", "Zg=", "Zg==Zg"}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad, kOptional).has_value());
  }
  // The default still requires it.
  CHECK_FALSE(Base64Decode("aGVsbG8").has_value());
}

TEST_CASE("decode errors name the byte Go names") {
  auto offset = [](std::string_view text) -> std::string {
    Result<std::string> r = Base64DecodeOrError(text);
    if (r.ok()) return "ok";
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return r.status().message();
  };
  auto at = [](int n) { return "illegal base64 data at input byte " + std::to_string(n); };
  // Go's own table (encoding/base64 TestDecodeCorrupt).
  CHECK(offset("") == "ok");
  CHECK(offset("\n") == "ok");
  CHECK(offset("AAA=\n") == "ok");
  CHECK(offset("AAAA\n") == "ok");
  CHECK(offset("!!!!") == at(0));
  CHECK(offset("====") == at(0));
  CHECK(offset("x===") == at(1));
  CHECK(offset("=AAA") == at(0));
  CHECK(offset("A=AA") == at(1));
  CHECK(offset("AA=A") == at(2));
  CHECK(offset("AA==A") == at(4));
  CHECK(offset("AAA=AAAA") == at(4));
  CHECK(offset("AAAAA") == at(4));
  CHECK(offset("AAAAAA") == at(4));
  CHECK(offset("A=") == at(1));
  CHECK(offset("A==") == at(1));
  CHECK(offset("AA=") == at(3));
  CHECK(offset("AA==") == "ok");
  CHECK(offset("AAA=") == "ok");
  CHECK(offset("AAAA") == "ok");
  CHECK(offset("AAAAAA=") == at(7));
  CHECK(offset("YWJjZA=====") == at(8));
  CHECK(offset("A!\n") == at(1));
  CHECK(offset("A=\n") == at(1));
  // The first bad byte wins over a bad length, and skipped newlines still count.
  CHECK(offset("not base64!") == at(3));
  CHECK(offset("AAAA\n\nA") == at(6));
  Result<std::string> good = Base64DecodeOrError("Zm9v\nYmFy");
  REQUIRE(good.ok());
  CHECK(*good == "foobar");
}

TEST_CASE("base64url encodes without padding and decodes strictly") {
  CHECK(Base64UrlEncode("") == "");
  CHECK(Base64UrlEncode("f") == "Zg");
  CHECK(Base64UrlEncode("fo") == "Zm8");
  CHECK(Base64UrlEncode("foo") == "Zm9v");
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(Base64UrlDecode("") == Bytes(""));
  CHECK(Base64UrlDecode("-_8") == Bytes("\xfb\xff"));
  CHECK(Base64UrlDecode("Zm9vYg") == Bytes("foob"));
  CHECK_FALSE(Base64UrlDecode("Zg=="));  // padding
  CHECK_FALSE(Base64UrlDecode("Zh"));    // non-zero unused bits: a second spelling of "f"
  CHECK_FALSE(Base64UrlDecode("Zm9"));   // the same, two bits
  CHECK_FALSE(Base64UrlDecode("Z"));     // impossible length
  CHECK_FALSE(Base64UrlDecode("+/8"));   // standard alphabet
  CHECK_FALSE(Base64UrlDecode("Zm 9v"));
  CHECK_FALSE(Base64UrlDecode("Zm9v\nYg"));  // no newlines in a token
  for (std::string s : {std::string("\x00\x01\x02", 3), std::string(100, '\xff'), std::string("a"),
                        AllBytes()}) {
    CHECK(Base64UrlDecode(Base64UrlEncode(s)) == Bytes(s));
  }
}

}  // namespace
}  // namespace kite
