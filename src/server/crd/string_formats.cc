#include "src/server/crd/string_formats.h"

#include <array>
#include <cstdlib>
#include <optional>
#include <vector>

#include "src/base/go_duration.h"
#include "src/server/crd/regex.h"

namespace kite::crd {
namespace {

std::string Normalize(std::string_view format) {
  std::string out;
  for (char c : format) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

constexpr std::array<std::string_view, 25> kStringFormats = {
    "bsonobjectid", "uri",      "email",      "hostname", "ipv4",     "ipv6",   "cidr",
    "mac",          "uuid",     "uuid3",      "uuid4",    "uuid5",    "isbn",   "isbn10",
    "isbn13",       "creditcard", "ssn",      "hexcolor", "rgbcolor", "byte",   "password",
    "date",         "duration", "datetime",   "quantity"};

bool IsKnown(std::string_view normalized) {
  for (std::string_view f : kStringFormats) {
    if (f == normalized) return true;
  }
  return false;
}

constexpr std::string_view kHostname =
    R"(^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$)";
constexpr std::string_view kUuid = R"((?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$)";
constexpr std::string_view kUuid3 = R"((?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$)";
constexpr std::string_view kUuid4 =
    R"((?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$)";
constexpr std::string_view kUuid5 =
    R"((?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$)";
constexpr std::string_view kSsn = R"(^\d{3}[- ]?\d{2}[- ]?\d{4}$)";
constexpr std::string_view kHexColor = R"(^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$)";
constexpr std::string_view kRgbColor =
    R"(^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$)";
constexpr std::string_view kBase64 =
    R"(^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$)";
constexpr std::string_view kTimeOfDay =
    R"(^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$)";
constexpr std::string_view kQuantity =
    R"(^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$)";
constexpr std::string_view kEmail = R"(^[^@\s<>()\[\]\\,;:"]+@[^@\s<>()\[\]\\,;:"]+$)";

// Patterns compiled once; a pattern that fails to compile (a bug) matches nothing.
bool Matches(std::string_view pattern, std::string_view value) {
  struct Entry {
    std::string_view pattern;
    std::optional<Regex> re;
  };
  static const std::vector<Entry>* cache = [] {
    auto* v = new std::vector<Entry>;
    for (std::string_view p : {kHostname, kUuid, kUuid3, kUuid4, kUuid5, kSsn, kHexColor, kRgbColor,
                               kBase64, kTimeOfDay, kQuantity, kEmail}) {
      Result<Regex> re = Regex::Compile(p);
      v->push_back({p, re.ok() ? std::optional<Regex>(*re) : std::nullopt});
    }
    return v;
  }();
  for (const Entry& e : *cache) {
    if (e.pattern == pattern) return e.re && e.re->Search(value);
  }
  return false;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// time.Parse("2006-01-02", s): exact width, a real calendar day.
bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(s[i])) return false;
  }
  int year = std::atoi(std::string(s.substr(0, 4)).c_str());
  int month = std::atoi(std::string(s.substr(5, 2)).c_str());
  int day = std::atoi(std::string(s.substr(8, 2)).c_str());
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = kDays[month - 1];
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) max = 29;
  return day <= max;
}

// strfmt.IsDateTime: a date, a 't' (any case), then hh:mm:ss[.frac](z|±hh:mm).
bool IsDateTime(std::string_view s) {
  if (s.size() < 4) return false;
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  size_t t = lower.find('t');
  if (t == std::string::npos || !IsDate(std::string_view(lower).substr(0, t))) return false;
  size_t t2 = lower.find('t', t + 1);
  std::string time = lower.substr(t + 1, t2 == std::string::npos ? std::string::npos : t2 - t - 1);
  if (!Matches(kTimeOfDay, time)) return false;
  return time.substr(0, 2) <= "23" && time.substr(3, 2) <= "59" && time.substr(6, 2) <= "59";
}

// Go's time.ParseDuration, or strfmt's lenient "<n> <unit>" form.
bool IsDuration(std::string_view s) {
  if (ParseGoDuration(s).ok()) return true;
  // ((\d+)\s*([A-Za-zµ]+)) anywhere, with a known unit word or prefix.
  static constexpr std::array<std::array<std::string_view, 5>, 8> kUnits = {{
      {"ns", "nanosecond", "nanoseconds", "", ""},
      {"us", "µs", "microsecond", "microseconds", ""},
      {"ms", "millisecond", "milliseconds", "", ""},
      {"s", "sec", "second", "seconds", ""},
      {"m", "min", "minute", "minutes", ""},
      {"h", "hr", "hour", "hours", ""},
      {"d", "day", "days", "", ""},
      {"w", "wk", "week", "weeks", ""},
  }};
  for (size_t i = 0; i < s.size();) {
    if (!IsDigit(s[i])) {
      ++i;
      continue;
    }
    while (i < s.size() && IsDigit(s[i])) ++i;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v')) ++i;
    size_t start = i;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                            (s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xB5'))) {
      i += s[i] == '\xC2' ? 2 : 1;
    }
    if (i == start) continue;
    std::string unit;
    for (char c : s.substr(start, i - start)) unit.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    for (const auto& variants : kUnits) {
      size_t last = 0;
      while (last + 1 < variants.size() && !variants[last + 1].empty()) ++last;
      for (size_t k = 0; k <= last; ++k) {
        if (unit == variants[k] || (k == last && unit.rfind(variants[k], 0) == 0)) return true;
      }
    }
  }
  return false;
}

// net.ParseIP for dotted-quad IPv4 (no leading zeros, as Go 1.17+).
bool IsDottedQuad(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i]) && i - start < 3) v = v * 10 + (s[i++] - '0');
    size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && s[start] == '0')) return false;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

bool IsIPv6Text(std::string_view s) {
  // Up to 8 groups of 1-4 hex digits, one "::", an optional trailing dotted quad.
  if (s.empty()) return false;
  int groups = 0;
  bool double_colon = false;
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    double_colon = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && IsHex(s[i]) && i - start < 5) ++i;
    if (i < s.size() && s[i] == '.') {  // embedded IPv4 ends the address
      if (!IsDottedQuad(s.substr(start))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    if (i == start || i - start > 4) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (double_colon) return false;
      double_colon = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;
    }
  }
  return double_colon ? groups < 8 : groups == 8;
}

bool IsIP(std::string_view s) { return IsDottedQuad(s) || IsIPv6Text(s); }

bool IsCidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view ip = s.substr(0, slash), bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || (bits.size() > 1 && bits[0] == '0')) return false;
  for (char c : bits) {
    if (!IsDigit(c)) return false;
  }
  int n = std::atoi(std::string(bits).c_str());
  if (IsDottedQuad(ip)) return n <= 32;
  return IsIPv6Text(ip) && n <= 128;
}

// net.ParseMAC: 6, 8 or 20 octets as xx:xx.., xx-xx.., or xxxx.xxxx.xxxx.
bool IsMac(std::string_view s) {
  auto octets_ok = [](size_t n) { return n == 6 || n == 8 || n == 20; };
  if (s.size() >= 14 && s[4] == '.') {
    if ((s.size() + 1) % 5 != 0) return false;
    size_t n = 2 * (s.size() + 1) / 5;
    if (!octets_ok(n)) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if ((i + 1) % 5 == 0 ? s[i] != '.' : !IsHex(s[i])) return false;
    }
    return true;
  }
  if (s.size() >= 17 && (s[2] == ':' || s[2] == '-')) {
    if ((s.size() + 1) % 3 != 0) return false;
    size_t n = (s.size() + 1) / 3;
    if (!octets_ok(n)) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if ((i + 1) % 3 == 0 ? s[i] != s[2] : !IsHex(s[i])) return false;
    }
    return true;
  }
  return false;
}

std::string DigitsOnly(std::string_view s, bool allow_x) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '-') continue;
    out.push_back(c);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (!IsDigit(out[i]) && !(allow_x && i + 1 == out.size() && out[i] == 'X')) return "";
  }
  return out;
}

bool IsIsbn10(std::string_view s) {
  std::string d = DigitsOnly(s, true);
  if (d.size() != 10) return false;
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += (i + 1) * (d[static_cast<size_t>(i)] == 'X' ? 10 : d[static_cast<size_t>(i)] - '0');
  return sum % 11 == 0;
}

bool IsIsbn13(std::string_view s) {
  std::string d = DigitsOnly(s, false);
  if (d.size() != 13) return false;
  int sum = 0;
  for (int i = 0; i < 12; ++i) sum += (i % 2 == 0 ? 1 : 3) * (d[static_cast<size_t>(i)] - '0');
  return (10 - sum % 10) % 10 == d[12] - '0';
}

// Luhn checksum over 12-19 digits (separators ignored).
bool IsCreditCard(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (IsDigit(c)) {
      d.push_back(c);
    } else if (c != ' ' && c != '-') {
      return false;
    }
  }
  if (d.size() < 12 || d.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = d.size(); i-- > 0;) {
    int v = d[i] - '0';
    if (twice) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// url.ParseRequestURI: an absolute URI ("scheme:...") or an absolute path; no spaces or
// control characters.
bool IsRequestUri(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F) return false;
  }
  if (s[0] == '/') return true;
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && (IsDigit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

bool IsHostname(std::string_view s) {
  if (!Matches(kHostname, s) || s.size() > 255) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    size_t len = (dot == std::string_view::npos ? s.size() : dot) - start;
    if (len > 63) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::string EffectiveFormat(std::string_view type, std::string_view format) {
  if (format.empty()) return "";
  if (type.empty() || type == "string") return IsKnown(Normalize(format)) ? std::string(format) : "";
  if (type == "integer") return format == "int32" || format == "int64" ? std::string(format) : "";
  if (type == "number") return format == "float" || format == "double" ? std::string(format) : "";
  return "";
}

bool IsStringFormat(std::string_view format) { return IsKnown(Normalize(format)); }

bool IsValidStringFormat(std::string_view format, std::string_view v) {
  std::string f = Normalize(format);
  if (f == "bsonobjectid") {
    if (v.size() != 24) return false;
    for (char c : v) {
      if (!IsHex(c)) return false;
    }
    return true;
  }
  if (f == "uri") return IsRequestUri(v);
  if (f == "email") {
    size_t lt = v.find('<');
    if (lt != std::string_view::npos && !v.empty() && v.back() == '>') v = v.substr(lt + 1, v.size() - lt - 2);
    return Matches(kEmail, v);
  }
  if (f == "hostname") return IsHostname(v);
  if (f == "ipv4") return IsIP(v) && v.find('.') != std::string_view::npos;
  if (f == "ipv6") return IsIP(v) && v.find(':') != std::string_view::npos;
  if (f == "cidr") return IsCidr(v);
  if (f == "mac") return IsMac(v);
  if (f == "uuid") return Matches(kUuid, v);
  if (f == "uuid3") return Matches(kUuid3, v);
  if (f == "uuid4") return Matches(kUuid4, v);
  if (f == "uuid5") return Matches(kUuid5, v);
  if (f == "isbn") return IsIsbn10(v) || IsIsbn13(v);
  if (f == "isbn10") return IsIsbn10(v);
  if (f == "isbn13") return IsIsbn13(v);
  if (f == "creditcard") return IsCreditCard(v);
  if (f == "ssn") return Matches(kSsn, v);
  if (f == "hexcolor") return Matches(kHexColor, v);
  if (f == "rgbcolor") return Matches(kRgbColor, v);
  if (f == "byte") return Matches(kBase64, v);
  if (f == "password") return true;
  if (f == "date") return IsDate(v);
  if (f == "duration") return IsDuration(v);
  if (f == "datetime") return IsDateTime(v);
  if (f == "quantity") return Matches(kQuantity, v);
  return true;
}

}  // namespace kite::crd
