// Kubernetes' resource.Quantity (apimachinery/pkg/api/resource): the fixed-point numbers in
// resource requests and limits ("100m", "1Gi", "1e3", "0.5"), parsed with Kubernetes'
// grammar and error texts, compared, added and subtracted exactly, and printed in Kubernetes' canonical form
// (what the API server stores and returns: "0.5" -> "500m", "1024Mi" -> "1Gi").
//
// Representation: sign, a 128-bit mantissa and a base-10 scale, so every value a client can
// reasonably write is exact. As in Kubernetes, parsing rounds values finer than 1n up to 1n,
// and caps binary-suffixed (Ki, Mi, ...) values at 2^63-1. Mantissas longer than 36 digits
// keep their 36 leading digits (rounded up); Kubernetes keeps them all, nobody writes them.
//
// Value type; all functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::admission {

class Quantity {
 public:
  // How the quantity was written; decides the suffix family String() uses.
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  // Kubernetes' ParseQuantity. kInvalidArgument with Kubernetes' own messages:
  // "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
  // or "unable to parse quantity's suffix".
  static Result<Quantity> Parse(std::string_view text);
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI);

  Quantity() = default;  // zero, DecimalSI

  // -1, 0 or 1, comparing values exactly (whatever the formats).
  int Compare(const Quantity& other) const;
  int Sign() const { return mantissa_ == 0 ? 0 : (negative_ ? -1 : 1); }
  bool IsZero() const { return mantissa_ == 0; }
  Format format() const { return format_; }

  // The value rounded up (away from zero) to an integer, or to thousandths; saturates at
  // the int64 range.
  int64_t Value() const;
  int64_t MilliValue() const;

  // apimachinery's Quantity.Add and Quantity.Sub: the exact sum or difference, in this
  // quantity's format, or in other's when this one is zero ("500m" + "500m" = "1",
  // "1Gi" + "512Mi" = "1536Mi", "0" + "1Gi" = "1Gi", "1Ki" + "1" = "1025"). Unlike Parse,
  // the result is not capped at 2^63-1 for binary formats, as in Kubernetes. Exact while the
  // result fits 36 significant digits; beyond that (operands some 10^36 apart) the last
  // digits are rounded, where Kubernetes keeps them all.
  Quantity Add(const Quantity& other) const;
  Quantity Sub(const Quantity& other) const;

  // Rounds up (away from zero) to a multiple of 10^scale when finer; -3 rounds to milli, as
  // Kubernetes' defaulting of resource lists does.
  void RoundUp(int32_t scale);

  // Kubernetes' canonical text: "500m", "1Gi", "1536Mi", "1e3", "0".
  std::string String() const;

 private:
  using U128 = unsigned __int128;
  Quantity(bool negative, U128 mantissa, int32_t scale, Format format)
      : negative_(negative), mantissa_(mantissa), scale_(scale), format_(format) {}
  void Normalize();

  bool negative_ = false;
  U128 mantissa_ = 0;  // value = (negative_ ? -1 : 1) * mantissa_ * 10^scale_
  int32_t scale_ = 0;
  Format format_ = Format::kDecimalSI;
};

}  // namespace kite::admission
