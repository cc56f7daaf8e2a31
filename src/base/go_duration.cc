#include "src/base/go_duration.h"

#include <array>

namespace kite {
namespace {

constexpr uint64_t kTwoTo63 = uint64_t{1} << 63;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Writes the fraction of v / 10^prec backwards into buf ending at w, without trailing zeros
// and without the dot when the fraction is zero; returns v / 10^prec.
uint64_t FormatFraction(char* buf, int* w, uint64_t v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) buf[--*w] = static_cast<char>('0' + digit);
    v /= 10;
  }
  if (print) buf[--*w] = '.';
  return v;
}

void FormatInt(char* buf, int* w, uint64_t v) {
  do {
    buf[--*w] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
}

// The time package's quoting in its error texts: bytes outside printable ASCII as \xNN.
std::string TimeQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c < 0x20) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += ch;
    }
  }
  return out + "\"";
}

// The unit's length in nanoseconds; 0 when it is not one.
uint64_t UnitNanos(std::string_view unit) {
  struct Unit {
    std::string_view name;
    uint64_t nanos;
  };
  static constexpr std::array<Unit, 8> kUnits = {{
      {"ns", 1},
      {"us", 1000},
      {"\xc2\xb5s", 1000},  // U+00B5 micro sign
      {"\xce\xbcs", 1000},  // U+03BC Greek small letter mu
      {"ms", 1000 * 1000},
      {"s", 1000 * 1000 * 1000},
      {"m", uint64_t{60} * 1000 * 1000 * 1000},
      {"h", uint64_t{3600} * 1000 * 1000 * 1000},
  }};
  for (const Unit& u : kUnits) {
    if (u.name == unit) return u.nanos;
  }
  return 0;
}

}  // namespace

std::string FormatGoDuration(int64_t nanos) {
  char buf[32];
  int w = sizeof(buf);
  const bool neg = nanos < 0;
  // Unsigned negation: exact for INT64_MIN too.
  uint64_t u = neg ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  if (u < 1'000'000'000ULL) {
    if (u == 0) return "0s";
    int prec;
    buf[--w] = 's';
    if (u < 1000ULL) {
      prec = 0;
      buf[--w] = 'n';
    } else if (u < 1'000'000ULL) {
      prec = 3;
      buf[--w] = '\xb5';  // U+00B5 MICRO SIGN in UTF-8: C2 B5
      buf[--w] = '\xc2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    u = FormatFraction(buf, &w, u, prec);
    FormatInt(buf, &w, u);
  } else {
    buf[--w] = 's';
    u = FormatFraction(buf, &w, u, 9);
    FormatInt(buf, &w, u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      FormatInt(buf, &w, u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        FormatInt(buf, &w, u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  return std::string(buf + w, sizeof(buf) - static_cast<size_t>(w));
}

Result<int64_t> ParseGoDuration(std::string_view text) {
  auto invalid = [&] { return InvalidArgumentError("time: invalid duration " + TimeQuote(text)); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  uint64_t total = 0;  // at most 2^63, the magnitude of INT64_MIN
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) return invalid();
    uint64_t v = 0;  // the integer part; more than 2^63 is an error
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (v > kTwoTo63 / 10) return invalid();
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kTwoTo63) return invalid();
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    uint64_t f = 0;  // the fraction is f / scale; digits past 2^63 are dropped, not errors
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < s.size() && IsDigit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (kTwoTo63 - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kTwoTo63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();  // no digits, as in ".s"
    size_t k = 0;
    while (k < s.size() && s[k] != '.' && !IsDigit(s[k])) ++k;
    if (k == 0) return InvalidArgumentError("time: missing unit in duration " + TimeQuote(text));
    const std::string_view unit_name = s.substr(0, k);
    s.remove_prefix(k);
    const uint64_t unit = UnitNanos(unit_name);
    if (unit == 0) {
      return InvalidArgumentError("time: unknown unit " + TimeQuote(unit_name) + " in duration " +
                                  TimeQuote(text));
    }
    if (v > kTwoTo63 / unit) return invalid();
    v *= unit;
    if (f > 0) {
      // A double is exact to the nanosecond here: f * unit / scale is at most 3.6e12.
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kTwoTo63) return invalid();
    }
    total += v;
    if (total > kTwoTo63) return invalid();
  }
  if (negative) return static_cast<int64_t>(0 - total);  // total <= 2^63: wraps exactly
  if (total > kTwoTo63 - 1) return invalid();
  return static_cast<int64_t>(total);
}

}  // namespace kite
