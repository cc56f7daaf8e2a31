#include "src/store/continue_token.h"

#include <charconv>

namespace kite::store {
namespace {

constexpr std::string_view kPrefix = "c1.";
constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

// Format: "c1.<decimal revision>.<hex key>". Hex keeps arbitrary key bytes printable.
std::string EncodeContinueToken(const ContinuePoint& point) {
  std::string token(kPrefix);
  token += std::to_string(point.revision);
  token += '.';
  for (unsigned char c : point.next_key) {
    token += kHex[c >> 4];
    token += kHex[c & 0xf];
  }
  return token;
}

Result<ContinuePoint> DecodeContinueToken(std::string_view token) {
  auto invalid = [&] {
    return InvalidArgumentError("malformed continue token \"" + std::string(token.substr(0, 64)) +
                                "\": pass back the token a previous page returned");
  };
  if (!token.starts_with(kPrefix)) return invalid();
  token.remove_prefix(kPrefix.size());
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return invalid();
  ContinuePoint point;
  auto [end, ec] = std::from_chars(token.data(), token.data() + dot, point.revision);
  if (ec != std::errc() || end != token.data() + dot || point.revision <= 0) return invalid();
  std::string_view hex = token.substr(dot + 1);
  if (hex.size() % 2 != 0) return invalid();
  point.next_key.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return invalid();
    point.next_key += static_cast<char>(hi << 4 | lo);
  }
  return point;
}

}  // namespace kite::store
