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

std::string FormatGoDuration(int64_t millis) {
  if (millis == 0) return "0s";
  std::string sign = millis < 0 ? "-" : "";
  uint64_t ms = millis < 0 ? static_cast<uint64_t>(-(millis + 1)) + 1 : static_cast<uint64_t>(millis);
  if (ms < 1000) return sign + std::to_string(ms) + "ms";
  uint64_t hours = ms / 3'600'000;
  uint64_t minutes = ms / 60'000 % 60;
  uint64_t seconds = ms / 1000 % 60;
  uint64_t fraction = ms % 1000;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(seconds);
  if (fraction > 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out + "s";
}

}  // namespace kite::metrics
