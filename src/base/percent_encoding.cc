#include "src/base/percent_encoding.h"

namespace kite {
namespace {

// The byte of the escape at in[i] ('%' then two hex digits), or -1 when malformed.
int EscapedByte(std::string_view in, size_t i) {
  if (i + 2 >= in.size()) return -1;
  int hi = HexDigitValue(in[i + 1]);
  int lo = HexDigitValue(in[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      int byte = EscapedByte(in, i);
      if (byte < 0) return false;
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(in[i] == '+' && plus_is_space ? ' ' : in[i]);
    }
  }
  return true;
}

std::string PercentDecodeLenient(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (int byte = in[i] == '%' ? EscapedByte(in, i) : -1; byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(in[i] == '+' && plus_is_space ? ' ' : in[i]);
    }
  }
  return out;
}

}  // namespace kite
