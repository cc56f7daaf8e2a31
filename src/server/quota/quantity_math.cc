#include "src/server/quota/quantity_math.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace kite::quota {
namespace {

using admission::Quantity;
using U128 = unsigned __int128;

constexpr U128 kMaxU128 = ~static_cast<U128>(0);

// value = (negative ? -1 : 1) * mantissa * 10^scale, exactly.
struct Exact {
  bool negative = false;
  U128 mantissa = 0;
  int64_t scale = 0;
};

std::string ToDecimal(U128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

// The exact value behind Quantity::String()'s canonical text: digits followed by a decimal
// SI suffix, a binary suffix, or an "e<exponent>".
Exact Decompose(const Quantity& q) {
  Exact e;
  if (q.IsZero()) return e;
  std::string text = q.String();
  std::string_view s(text);
  if (!s.empty() && s[0] == '-') {
    e.negative = true;
    s.remove_prefix(1);
  }
  size_t pos = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    e.mantissa = e.mantissa * 10 + static_cast<U128>(s[pos] - '0');
    ++pos;
  }
  std::string_view suffix = s.substr(pos);
  static constexpr struct {
    std::string_view text;
    int exponent;
  } kDecimal[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
                  {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  for (const auto& d : kDecimal) {
    if (suffix == d.text) {
      e.scale = d.exponent;
      return e;
    }
  }
  static constexpr std::string_view kBinary[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (int i = 0; i < 6; ++i) {
    if (suffix == kBinary[i]) {
      e.mantissa <<= 10 * (i + 1);
      return e;
    }
  }
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view digits = suffix.substr(1);
    bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    int64_t v = 0;
    for (char c : digits) v = v * 10 + (c - '0');
    e.scale = negative ? -v : v;
  }
  return e;
}

// Brings both values to one scale, exactly when the digits fit, else rounding the finer
// one up.
void Align(Exact& a, Exact& b) {
  Exact* coarse = a.scale > b.scale ? &a : &b;
  Exact* fine = a.scale > b.scale ? &b : &a;
  while (coarse->scale > fine->scale && coarse->mantissa <= kMaxU128 / 10) {
    coarse->mantissa *= 10;
    --coarse->scale;
  }
  while (coarse->scale > fine->scale) {
    U128 q = fine->mantissa / 10;
    fine->mantissa = fine->mantissa % 10 != 0 ? q + 1 : q;
    ++fine->scale;
  }
  if (a.mantissa == 0) a.scale = b.scale;
  if (b.mantissa == 0) b.scale = a.scale;
}

Exact Sum(Exact a, Exact b) {
  if (a.mantissa == 0) return b;
  if (b.mantissa == 0) return a;
  Align(a, b);
  Exact r;
  r.scale = a.scale;
  if (a.negative == b.negative) {
    while (a.mantissa > kMaxU128 - b.mantissa) {  // never for real quantities
      a.mantissa = a.mantissa / 10 + 1;
      b.mantissa = b.mantissa / 10 + 1;
      ++r.scale;
    }
    r.negative = a.negative;
    r.mantissa = a.mantissa + b.mantissa;
  } else if (a.mantissa >= b.mantissa) {
    r.negative = a.negative;
    r.mantissa = a.mantissa - b.mantissa;
  } else {
    r.negative = b.negative;
    r.mantissa = b.mantissa - a.mantissa;
  }
  if (r.mantissa == 0) r.negative = false;
  return r;
}

// "<digits>" shifted by 10^shift as plain decimal text: (123, -2) -> "1.23", (5, 2) -> "500".
std::string DecimalText(U128 digits, int64_t shift) {
  std::string s = ToDecimal(digits);
  if (shift >= 0) return s + std::string(static_cast<size_t>(std::min<int64_t>(shift, 400)), '0');
  size_t fraction = static_cast<size_t>(-shift);
  if (s.size() <= fraction) s.insert(0, fraction - s.size() + 1, '0');
  s.insert(s.size() - fraction, ".");
  return s;
}

Quantity Build(Exact e, Quantity::Format format) {
  if (e.mantissa == 0) return Quantity();
  while (e.mantissa % 10 == 0) {
    e.mantissa /= 10;
    ++e.scale;
  }
  std::string sign = e.negative ? "-" : "";
  std::string text;
  constexpr U128 kFivePow10 = 9765625;
  if (format == Quantity::Format::kBinarySI && e.mantissa <= kMaxU128 / kFivePow10) {
    // v / 1024 = v * 5^10 / 10^10: exact in decimal, and the "Ki" suffix makes it binary.
    text = sign + DecimalText(e.mantissa * kFivePow10, e.scale - 10) + "Ki";
  } else if (format == Quantity::Format::kDecimalExponent) {
    text = sign + ToDecimal(e.mantissa) + "e" + std::to_string(e.scale);
  } else {
    static constexpr const char* kSuffix[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    int64_t exponent = std::clamp<int64_t>(e.scale, -9, 18);
    exponent -= ((exponent % 3) + 3) % 3;  // down to a multiple of three
    text = sign + DecimalText(e.mantissa, e.scale - exponent) + kSuffix[(exponent + 9) / 3];
  }
  Result<Quantity> q = Quantity::Parse(text);
  return q.ok() ? *q : Quantity();
}

Exact Negate(Exact e) {
  if (e.mantissa != 0) e.negative = !e.negative;
  return e;
}

}  // namespace

Quantity AddQuantities(const Quantity& a, const Quantity& b) {
  Quantity::Format format = a.IsZero() ? b.format() : a.format();
  return Build(Sum(Decompose(a), Decompose(b)), format);
}

Quantity SubtractQuantities(const Quantity& a, const Quantity& b) {
  Quantity::Format format = a.IsZero() ? b.format() : a.format();
  return Build(Sum(Decompose(a), Negate(Decompose(b))), format);
}

}  // namespace kite::quota
