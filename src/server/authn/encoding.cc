#include "src/server/authn/encoding.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "src/base/clock.h"
#include "src/server/schema/well_known_types.h"

namespace kite::authn {

// The time formats are the server's: one spelling of Kubernetes' metav1.Time everywhere.
std::string FormatRfc3339(int64_t unix_seconds) { return FormatRfc3339Seconds(unix_seconds * 1000); }

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  if (!schema::ParseRfc3339(s, &seconds, &nanos)) return std::nullopt;
  return seconds;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // lengths are not secret (fixed by the format)
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return InternalError("RAND_bytes failed");
  }
  return out;
}

Result<std::string> RandomUuid() {
  Result<std::string> bytes = RandomBytes(16);
  if (!bytes.ok()) return bytes.status();
  std::string& b = *bytes;
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    unsigned char c = static_cast<unsigned char>(b[i]);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<std::string> RandomLowerAlnum(size_t n) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  constexpr unsigned kCount = sizeof(kChars) - 1;           // 36
  constexpr unsigned kLimit = 256 - (256 % kCount);         // 252: accept bytes below this
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    Result<std::string> bytes = RandomBytes(n - out.size() + 8);
    if (!bytes.ok()) return bytes.status();
    for (char c : *bytes) {
      unsigned v = static_cast<unsigned char>(c);
      if (v >= kLimit) continue;
      out += kChars[v % kCount];
      if (out.size() == n) break;
    }
  }
  return out;
}

}  // namespace kite::authn
