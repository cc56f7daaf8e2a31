#include "src/base/base64.h"

#include <cstdint>

namespace kite {
namespace {

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += alphabet[v & 63];
  }
  const size_t rest = in.size() - i;
  if (rest == 0) return out;
  uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
  out += alphabet[v >> 18 & 63];
  out += alphabet[v >> 12 & 63];
  if (rest == 2) out += alphabet[v >> 6 & 63];
  if (pad) out.append(3 - rest, '=');
  return out;
}

// The 6-bit value of `c` in the standard or URL-safe alphabet; -1 when it has none.
int SextetOf(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

bool IsNewline(char c) { return c == '\r' || c == '\n'; }

// Appends the n-1 bytes that n sextets (2..4) carry.
void EmitQuantum(const uint32_t (&s)[4], int n, std::string* out) {
  uint32_t v = s[0] << 18 | s[1] << 12 | s[2] << 6 | s[3];
  out->push_back(static_cast<char>(v >> 16 & 0xff));
  if (n >= 3) out->push_back(static_cast<char>(v >> 8 & 0xff));
  if (n == 4) out->push_back(static_cast<char>(v & 0xff));
}

// Standard-alphabet decoding quantum by quantum, with Go's rules and Go's error offsets.
// Returns the offset of the failure, or nullopt when `in` decoded completely into `out`.
std::optional<size_t> DecodeStd(std::string_view in, Base64Padding padding, std::string* out) {
  out->reserve(in.size() / 4 * 3 + 2);
  size_t i = 0;
  while (true) {
    uint32_t s[4] = {0, 0, 0, 0};
    int n = 0;  // sextets read into this quantum
    bool last = false;
    while (n < 4) {
      if (i == in.size()) {
        if (n == 0) return std::nullopt;
        // Go reports "si - j": the end less the sextets read (newlines are not counted).
        if (n == 1 || padding == Base64Padding::kRequired) return i - static_cast<size_t>(n);
        last = true;  // an unpadded tail of 2 or 3 characters
        break;
      }
      const char c = in[i++];
      if (int v = SextetOf(c, /*url=*/false); v >= 0) {
        s[n++] = static_cast<uint32_t>(v);
        continue;
      }
      if (IsNewline(c)) continue;
      if (c != '=' || n < 2) return i - 1;
      if (n == 2) {  // a second '=' must follow, newlines aside
        while (i < in.size() && IsNewline(in[i])) ++i;
        if (i == in.size()) return in.size();
        if (in[i] != '=') return i - 1;
        ++i;
      }
      while (i < in.size() && IsNewline(in[i])) ++i;
      if (i < in.size()) return i;  // data after the padding
      last = true;
      break;
    }
    EmitQuantum(s, n, out);
    if (last) return std::nullopt;
  }
}

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, kStdAlphabet, true); }

std::optional<std::string> Base64Decode(std::string_view text, Base64Padding padding) {
  std::string out;
  if (DecodeStd(text, padding, &out)) return std::nullopt;
  return out;
}

Result<std::string> Base64DecodeOrError(std::string_view text) {
  std::string out;
  if (std::optional<size_t> bad = DecodeStd(text, Base64Padding::kRequired, &out)) {
    return InvalidArgumentError("illegal base64 data at input byte " + std::to_string(*bad));
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrlAlphabet, false); }

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = SextetOf(c, /*url=*/true);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // The unused low bits of the last character must be zero (one spelling per byte string).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace kite
