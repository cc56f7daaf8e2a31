// Keys and values the crash writer writes, so the test can check them after reopening.
#pragma once

#include <cstdio>
#include <string>

namespace kite::testing {

inline std::string CrashKey(long n) {
  char key[32];
  std::snprintf(key, sizeof key, "/crash/%09ld", n);
  return key;
}

// Values of a few hundred bytes that differ per key.
inline std::string CrashValue(long n) {
  std::string value = "value-" + std::to_string(n) + "-";
  value.resize(300 + n % 200, static_cast<char>('a' + n % 26));
  return value;
}

// What the key must hold once its write was acknowledged.
inline std::string CrashFinalValue(long n) { return CrashValue(n) + (n % 3 == 0 ? "+" : ""); }

}  // namespace kite::testing
