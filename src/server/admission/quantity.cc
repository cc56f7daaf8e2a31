#include "src/server/admission/quantity.h"

#include <algorithm>
#include <limits>

namespace kite::admission {
namespace {

using U128 = unsigned __int128;

constexpr char kFormatWrong[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kSuffixWrong[] = "unable to parse quantity's suffix";
constexpr int kMaxDigits = 36;
constexpr int32_t kNanoScale = -9;
constexpr U128 kMaxBinary = static_cast<U128>(std::numeric_limits<int64_t>::max());

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

U128 Pow10(int n) {  // n in [0, 38]
  U128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

int DigitCount(U128 v) {
  int n = 0;
  while (v != 0) {
    v /= 10;
    ++n;
  }
  return n;
}

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

// Divides by 10^n rounding up (away from zero) when anything non-zero is dropped.
U128 DivPow10RoundUp(U128 v, int64_t n) {
  if (v == 0 || n <= 0) return v;
  if (n > 38) return 1;
  U128 p = Pow10(static_cast<int>(n));
  U128 q = v / p;
  return v % p != 0 ? q + 1 : q;
}

// The pieces of a quantity's text, split as Kubernetes' parseQuantityString does.
struct Pieces {
  bool positive = true;
  std::string_view num;    // integer digits, leading zeros stripped ("" for zero)
  std::string_view denom;  // fraction digits
  std::string_view suffix;
};

bool Split(std::string_view s, Pieces& out) {
  size_t pos = 0;
  const size_t end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    out.positive = s[0] != '-';
    ++pos;
  }
  while (pos < end && s[pos] == '0') ++pos;
  size_t start = pos;
  while (pos < end && IsDigit(s[pos])) ++pos;
  out.num = s.substr(start, pos - start);
  if (pos < end && s[pos] == '.') {
    ++pos;
    start = pos;
    while (pos < end && IsDigit(s[pos])) ++pos;
    out.denom = s.substr(start, pos - start);
  }
  size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos) {
    ++pos;
  }
  if (pos < end && (s[pos] == '-' || s[pos] == '+')) ++pos;
  while (pos < end && IsDigit(s[pos])) ++pos;
  if (pos != end) return false;
  out.suffix = s.substr(suffix_start);
  return true;
}

// Kubernetes' suffixer: base 10 or 2, the exponent, and the format the suffix implies.
bool Interpret(std::string_view suffix, int& base, int64_t& exponent, Quantity::Format& format) {
  static constexpr struct {
    const char* text;
    int base;
    int exponent;
  } kTable[] = {{"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"k", 10, 3},
                {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18},
                {"Ki", 2, 10}, {"Mi", 2, 20}, {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50},
                {"Ei", 2, 60}};
  for (const auto& e : kTable) {
    if (suffix == e.text) {
      base = e.base;
      exponent = e.exponent;
      format = e.base == 2 ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI;
      return true;
    }
  }
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view digits = suffix.substr(1);
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 18) return false;  // Go's ParseInt would overflow
    int64_t v = 0;
    for (char c : digits) {
      if (!IsDigit(c)) return false;
      v = v * 10 + (c - '0');
    }
    base = 10;
    exponent = negative ? -v : v;
    format = Quantity::Format::kDecimalExponent;
    return true;
  }
  return false;
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgumentError(kFormatWrong);
  if (text == "0") return Quantity();
  Pieces p;
  if (!Split(text, p)) return InvalidArgumentError(kFormatWrong);
  int base = 10;
  int64_t exponent = 0;
  Format format = Format::kDecimalSI;
  if (!Interpret(p.suffix, base, exponent, format)) return InvalidArgumentError(kSuffixWrong);

  // Mantissa from the integer and fraction digits; beyond kMaxDigits significant digits the
  // rest is dropped (rounding up) and counted into the scale.
  U128 mantissa = 0;
  int64_t scale = -static_cast<int64_t>(p.denom.size());
  int significant = 0;
  bool dropped_nonzero = false;
  for (std::string_view part : {p.num, p.denom}) {
    for (char c : part) {
      if (significant == 0 && c == '0') continue;  // leading zeros of a fraction
      if (significant < kMaxDigits) {
        mantissa = mantissa * 10 + static_cast<U128>(c - '0');
        ++significant;
      } else {
        ++scale;
        dropped_nonzero |= c != '0';
      }
    }
  }
  if (dropped_nonzero) ++mantissa;

  if (base == 10) {
    scale += exponent;
  } else if (mantissa != 0) {
    // Make room for the binary factor by dropping (rounding up) trailing precision.
    while (mantissa > (~static_cast<U128>(0) >> exponent)) {
      mantissa = DivPow10RoundUp(mantissa, 1);
      ++scale;
    }
    mantissa <<= exponent;
  }
  // Keep the scale in a range where arithmetic cannot overflow; such values are absurd.
  scale = std::clamp<int64_t>(scale, -1'000'000'000, 1'000'000'000);
  if (mantissa != 0 && scale < kNanoScale) {
    mantissa = DivPow10RoundUp(mantissa, kNanoScale - scale);
    scale = kNanoScale;
  }
  Quantity q(!p.positive, mantissa, static_cast<int32_t>(scale), format);
  if (format == Format::kBinarySI) {
    Quantity cap(false, kMaxBinary, 0, format);
    Quantity magnitude(false, mantissa, q.scale_, format);
    if (magnitude.Compare(cap) > 0) {
      q.mantissa_ = kMaxBinary;
      q.scale_ = 0;
    } else if (!q.IsZero() && magnitude.Compare(Quantity(false, 1, 0, format)) < 0) {
      q.format_ = Format::kDecimalSI;
    }
  }
  q.Normalize();
  return q;
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  bool negative = value < 0;
  U128 magnitude = negative ? static_cast<U128>(-(value + 1)) + 1 : static_cast<U128>(value);
  Quantity q(negative, magnitude, 0, format);
  q.Normalize();
  return q;
}

void Quantity::Normalize() {
  if (mantissa_ == 0) {
    negative_ = false;
    scale_ = 0;
  }
}

int Quantity::Compare(const Quantity& other) const {
  int a = Sign(), b = other.Sign();
  if (a != b) return a < b ? -1 : 1;
  if (a == 0) return 0;
  // Compare magnitudes, then flip for negatives.
  int64_t ma = DigitCount(mantissa_) + static_cast<int64_t>(scale_);
  int64_t mb = DigitCount(other.mantissa_) + static_cast<int64_t>(other.scale_);
  int cmp;
  if (ma != mb) {
    cmp = ma < mb ? -1 : 1;
  } else {
    U128 x = mantissa_, y = other.mantissa_;
    // Same order of magnitude: aligning the scales keeps both within 39 digits.
    if (scale_ > other.scale_) {
      x *= Pow10(scale_ - other.scale_);
    } else if (other.scale_ > scale_) {
      y *= Pow10(other.scale_ - scale_);
    }
    cmp = x == y ? 0 : (x < y ? -1 : 1);
  }
  return a < 0 ? -cmp : cmp;
}

namespace {

int64_t ScaledCeil(bool negative, U128 mantissa, int64_t scale) {
  constexpr U128 kMax = static_cast<U128>(std::numeric_limits<int64_t>::max());
  U128 v;
  if (scale >= 0) {
    if (scale > 38 || mantissa > kMax / Pow10(static_cast<int>(std::min<int64_t>(scale, 38)))) {
      v = kMax;
    } else {
      v = mantissa * Pow10(static_cast<int>(scale));
    }
  } else {
    v = DivPow10RoundUp(mantissa, -scale);
  }
  if (v > kMax) v = kMax;
  return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

}  // namespace

int64_t Quantity::Value() const { return ScaledCeil(negative_, mantissa_, scale_); }
int64_t Quantity::MilliValue() const {
  return ScaledCeil(negative_, mantissa_, static_cast<int64_t>(scale_) + 3);
}

void Quantity::RoundUp(int32_t scale) {
  if (mantissa_ == 0 || scale_ >= scale) return;
  mantissa_ = DivPow10RoundUp(mantissa_, static_cast<int64_t>(scale) - scale_);
  scale_ = scale;
}

namespace {

// A magnitude and its base-10 scale, for addition.
struct Scaled {
  U128 mantissa;
  int64_t scale;
};

// Drops trailing digits (rounding up) until at most `digits` remain.
Scaled Shorten(Scaled v, int digits) {
  int excess = DigitCount(v.mantissa) - digits;
  if (excess <= 0) return v;
  return {DivPow10RoundUp(v.mantissa, excess), v.scale + excess};
}

// Brings two magnitudes below 10^37 to one scale: the coarser one is multiplied out while
// it stays below 10^37, which is exact; only when that is not enough is the finer one
// rounded up to the common scale. Both stay below 10^37, so their sum fits 128 bits.
void Align(Scaled& a, Scaled& b) {
  Scaled& coarse = a.scale > b.scale ? a : b;
  Scaled& fine = a.scale > b.scale ? b : a;
  const U128 limit = Pow10(kMaxDigits);
  while (coarse.scale > fine.scale && coarse.mantissa < limit) {
    coarse.mantissa *= 10;
    --coarse.scale;
  }
  if (coarse.scale > fine.scale) {
    fine.mantissa = DivPow10RoundUp(fine.mantissa, coarse.scale - fine.scale);
    fine.scale = coarse.scale;
  }
}

}  // namespace

Quantity Quantity::Add(const Quantity& other) const {
  Format format = IsZero() ? other.format_ : format_;
  if (IsZero() || other.IsZero()) {
    Quantity r = IsZero() ? other : *this;
    r.format_ = format;
    return r;
  }
  // Parse can leave up to 39 digits in a binary mantissa; 37 keep the sum in range.
  Scaled a = Shorten({mantissa_, scale_}, kMaxDigits + 1);
  Scaled b = Shorten({other.mantissa_, other.scale_}, kMaxDigits + 1);
  Align(a, b);
  bool negative;
  U128 sum;
  if (negative_ == other.negative_) {
    negative = negative_;
    sum = a.mantissa + b.mantissa;
  } else if (a.mantissa >= b.mantissa) {
    negative = negative_;
    sum = a.mantissa - b.mantissa;
  } else {
    negative = other.negative_;
    sum = b.mantissa - a.mantissa;
  }
  Scaled result{sum, a.scale};
  while (result.mantissa != 0 && result.mantissa % 10 == 0) {
    result.mantissa /= 10;
    ++result.scale;
  }
  result = Shorten(result, kMaxDigits);
  Quantity r(negative, result.mantissa, static_cast<int32_t>(result.scale), format);
  r.Normalize();
  return r;
}

Quantity Quantity::Sub(const Quantity& other) const {
  Quantity negated = other;
  negated.negative_ = !other.negative_;
  negated.Normalize();
  return Add(negated);
}

std::string Quantity::String() const {
  if (mantissa_ == 0) return "0";
  std::string sign = negative_ ? "-" : "";
  Format format = format_;
  if (format == Format::kBinarySI) {
    // Small or fractional binary values print in decimal, as Kubernetes does.
    bool integral = scale_ >= 0 || (-scale_ <= 38 && mantissa_ % Pow10(-scale_) == 0);
    Quantity bound(false, 1024, 0, format);
    Quantity magnitude(false, mantissa_, scale_, format);
    if (magnitude.Compare(bound) < 0 || !integral) {
      format = Format::kDecimalSI;
    } else {
      U128 v = scale_ >= 0 ? mantissa_ * Pow10(scale_) : mantissa_ / Pow10(-scale_);
      int exponent = 0;
      while (v % 1024 == 0 && exponent < 6) {
        v /= 1024;
        ++exponent;
      }
      static constexpr const char* kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      return sign + ToDecimal(v) + kBinary[exponent];
    }
  }
  U128 m = mantissa_;
  int64_t exponent = scale_;
  while (m % 10 == 0) {
    m /= 10;
    ++exponent;
  }
  // Exponent down to a multiple of three (Go's % keeps the dividend's sign).
  switch (exponent % 3) {
    case 1:
    case -2:
      m *= 10;
      exponent -= 1;
      break;
    case 2:
    case -1:
      m *= 100;
      exponent -= 2;
      break;
    default:
      break;
  }
  std::string number = sign + ToDecimal(m);
  if (format == Format::kDecimalExponent) {
    return exponent == 0 ? number : number + "e" + std::to_string(exponent);
  }
  static constexpr const char* kDecimal[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  if (exponent >= -9 && exponent <= 18) return number + kDecimal[(exponent + 9) / 3];
  return number + "e" + std::to_string(exponent);
}

}  // namespace kite::admission
