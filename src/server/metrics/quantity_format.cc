#include "src/server/metrics/quantity_format.h"

namespace kite::metrics {
namespace {

// DecimalSI canonical form of amount × 10^exponent (amount > 0, exponent a multiple of 3).
std::string DecimalSi(int64_t amount, int exponent) {
  while (amount % 1000 == 0 && exponent < 18) {
    amount /= 1000;
    exponent += 3;
  }
  const char* suffix = "";
  switch (exponent) {
    case -9: suffix = "n"; break;
    case -6: suffix = "u"; break;
    case -3: suffix = "m"; break;
    case 0: suffix = ""; break;
    case 3: suffix = "k"; break;
    case 6: suffix = "M"; break;
    case 9: suffix = "G"; break;
    case 12: suffix = "T"; break;
    case 15: suffix = "P"; break;
    default: suffix = "E"; break;
  }
  return std::to_string(amount) + suffix;
}

}  // namespace

std::string FormatCpuNanocores(int64_t nanocores) {
  if (nanocores <= 0) return "0";
  return DecimalSi(nanocores, -9);
}

std::string FormatMemoryBytes(int64_t bytes) {
  if (bytes <= 0) return "0";
  if (bytes < 1024) return DecimalSi(bytes, 0);
  static const char* const kSuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int index = 0;
  while (bytes % 1024 == 0 && index < 6) {
    bytes /= 1024;
    ++index;
  }
  return std::to_string(bytes) + kSuffixes[index];
}

}  // namespace kite::metrics
