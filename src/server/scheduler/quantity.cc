#include "src/server/scheduler/quantity.h"

#include <limits>

namespace kite::scheduler {
namespace {

using U128 = unsigned __int128;

// Far above any int64 while leaving room to multiply by 10 or 2 without overflow.
constexpr U128 kSaturated = static_cast<U128>(1) << 120;

U128 MulSat(U128 v, U128 m) {
  if (v == 0 || m == 0) return 0;
  if (v >= kSaturated / m) return kSaturated;
  return v * m;
}

}  // namespace

std::optional<int64_t> ParseQuantity(std::string_view text, QuantityScale scale) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';

  // The digits of the number as one integer (saturating), and how many were after the point.
  U128 mantissa = 0;
  int fraction_digits = 0;
  bool any_digit = false;
  bool seen_point = false;
  bool dropped = false;  // nonzero fraction digits beyond the precision kept
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any_digit = true;
    if (mantissa < kSaturated / 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(c - '0');
      if (seen_point) ++fraction_digits;
    } else if (!seen_point) {
      mantissa = kSaturated;  // an integer part this long cannot fit anyway
    } else if (c != '0') {
      // Fraction digits beyond 36 significant ones cannot move an int64 result by a whole
      // unit, except through rounding up.
      dropped = true;
    }
  }
  if (!any_digit) return std::nullopt;

  int exp10 = -fraction_digits;
  int exp2 = 0;
  std::string_view suffix = text.substr(i);
  if (suffix.empty()) {
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    switch (suffix[0]) {
      case 'K': exp2 = 10; break;
      case 'M': exp2 = 20; break;
      case 'G': exp2 = 30; break;
      case 'T': exp2 = 40; break;
      case 'P': exp2 = 50; break;
      case 'E': exp2 = 60; break;
      default: return std::nullopt;
    }
  } else if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'n': exp10 -= 9; break;
      case 'u': exp10 -= 6; break;
      case 'm': exp10 -= 3; break;
      case 'k': exp10 += 3; break;
      case 'M': exp10 += 6; break;
      case 'G': exp10 += 9; break;
      case 'T': exp10 += 12; break;
      case 'P': exp10 += 15; break;
      case 'E': exp10 += 18; break;
      default: return std::nullopt;
    }
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    size_t j = 1;
    bool exp_negative = false;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) exp_negative = suffix[j++] == '-';
    if (j == suffix.size()) return std::nullopt;
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9') return std::nullopt;
      if (e < 10000) e = e * 10 + (suffix[j] - '0');
    }
    exp10 += exp_negative ? -e : e;
  } else {
    return std::nullopt;
  }
  if (scale == QuantityScale::kMilli) exp10 += 3;

  U128 value = MulSat(mantissa, static_cast<U128>(1) << exp2);
  bool remainder = dropped;
  for (; exp10 > 0; --exp10) value = MulSat(value, 10);
  for (; exp10 < 0 && value != 0; ++exp10) {
    if (value % 10 != 0) remainder = true;
    value /= 10;
  }
  constexpr U128 kMax = static_cast<U128>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (remainder) ++value;  // round up, as Quantity.Value() does
    return value >= kMax ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(value);
  }
  // Rounding a negative value towards +infinity drops the remainder.
  if (value > kMax) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(value);
}

}  // namespace kite::scheduler
