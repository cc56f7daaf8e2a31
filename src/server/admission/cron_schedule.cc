#include "src/server/admission/cron_schedule.h"

#include <sys/stat.h>

#include <cctype>
#include <map>
#include <vector>

namespace kite::admission {
namespace {

struct Bounds {
  unsigned min, max;
  const std::map<std::string, unsigned>* names;
};

const std::map<std::string, unsigned> kMonths = {
    {"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},  {"may", 5},  {"jun", 6},
    {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, unsigned> kDays = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                               {"thu", 4}, {"fri", 5}, {"sat", 6}};

std::vector<std::string_view> Split(std::string_view s, char sep, bool drop_empty) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    std::string_view part = s.substr(start, at == std::string_view::npos ? at : at - start);
    if (!drop_empty || !part.empty()) out.push_back(part);
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// strconv.Atoi, then robfig's non-negative rule.
std::optional<std::string> ParseUint(std::string_view expr, unsigned& out) {
  std::string_view digits = expr;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return "failed to parse int from " + std::string(expr) +
                              ": strconv.Atoi: parsing " + Quoted(expr) + ": invalid syntax";
  unsigned long long v = 0;
  bool overflow = false;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return "failed to parse int from " + std::string(expr) + ": strconv.Atoi: parsing " +
             Quoted(expr) + ": invalid syntax";
    }
    if (v > 922337203685477580ULL) overflow = true;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (overflow || v > 9223372036854775807ULL) {
    return "failed to parse int from " + std::string(expr) + ": strconv.Atoi: parsing " +
           Quoted(expr) + ": value out of range";
  }
  if (negative && v != 0) {
    return "negative number (-" + std::to_string(v) + ") not allowed: " + std::string(expr);
  }
  out = v > 0xffffffffULL ? 0xffffffffU : static_cast<unsigned>(v);
  return std::nullopt;
}

std::optional<std::string> ParseIntOrName(std::string_view expr, const Bounds& r, unsigned& out) {
  if (r.names != nullptr) {
    std::string lower(expr);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = r.names->find(lower);
    if (it != r.names->end()) {
      out = it->second;
      return std::nullopt;
    }
  }
  return ParseUint(expr, out);
}

std::optional<std::string> CheckRange(std::string_view expr, const Bounds& r) {
  std::vector<std::string_view> range_and_step = Split(expr, '/', false);
  std::vector<std::string_view> low_and_high = Split(range_and_step[0], '-', false);
  bool single = low_and_high.size() == 1;
  unsigned start = 0, end = 0, step = 1;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = r.min;
    end = r.max;
  } else {
    if (auto e = ParseIntOrName(low_and_high[0], r, start)) return e;
    if (low_and_high.size() == 1) {
      end = start;
    } else if (low_and_high.size() == 2) {
      if (auto e = ParseIntOrName(low_and_high[1], r, end)) return e;
    } else {
      return "too many hyphens: " + std::string(expr);
    }
  }
  if (range_and_step.size() == 2) {
    if (auto e = ParseUint(range_and_step[1], step)) return e;
    if (single) end = r.max;  // "N/step" means "N-max/step"
  } else if (range_and_step.size() > 2) {
    return "too many slashes: " + std::string(expr);
  }
  if (start < r.min) {
    return "beginning of range (" + std::to_string(start) + ") below minimum (" +
           std::to_string(r.min) + "): " + std::string(expr);
  }
  if (end > r.max) {
    return "end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(r.max) +
           "): " + std::string(expr);
  }
  if (start > end) {
    return "beginning of range (" + std::to_string(start) + ") beyond end of range (" +
           std::to_string(end) + "): " + std::string(expr);
  }
  if (step == 0) return "step of range should be a positive number: " + std::string(expr);
  return std::nullopt;
}

// Go's time.ParseDuration, for "@every <duration>".
std::optional<std::string> DurationError(std::string_view text) {
  std::string quoted = Quoted(text);
  std::string_view s = text;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s == "0") return std::nullopt;
  if (s.empty()) return "time: invalid duration " + quoted;
  while (!s.empty()) {
    size_t i = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
    }
    if (!digits) return "time: invalid duration " + quoted;
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) ++u;
    if (u == 0) return "time: missing unit in duration " + quoted;
    std::string_view unit = s.substr(0, u);
    if (unit != "ns" && unit != "us" && unit != "\xc2\xb5s" && unit != "\xce\xbcs" && unit != "ms" &&
        unit != "s" && unit != "m" && unit != "h") {
      return "time: unknown unit " + Quoted(unit) + " in duration " + quoted;
    }
    s.remove_prefix(u);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CronScheduleError(std::string_view spec) {
  if (spec.empty()) return "empty spec string";
  if (spec.substr(0, 3) == "TZ=" || spec.substr(0, 8) == "CRON_TZ=") {
    size_t space = spec.find(' ');
    size_t eq = spec.find('=');
    if (space == std::string_view::npos) return "provided bad location " + std::string(spec.substr(eq + 1)) + ": unknown time zone " + std::string(spec.substr(eq + 1));
    std::string_view zone = spec.substr(eq + 1, space - eq - 1);
    if (!IsKnownTimeZone(zone)) {
      return "provided bad location " + std::string(zone) + ": unknown time zone " + std::string(zone);
    }
    spec = spec.substr(space);
    while (!spec.empty() && std::isspace(static_cast<unsigned char>(spec.front()))) spec.remove_prefix(1);
    while (!spec.empty() && std::isspace(static_cast<unsigned char>(spec.back()))) spec.remove_suffix(1);
  }
  if (!spec.empty() && spec[0] == '@') {
    static constexpr const char* kDescriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                                   "@daily",  "@midnight", "@hourly"};
    for (const char* d : kDescriptors) {
      if (spec == d) return std::nullopt;
    }
    if (spec.substr(0, 7) == "@every ") {
      if (auto e = DurationError(spec.substr(7))) {
        return "failed to parse duration " + std::string(spec) + ": " + *e;
      }
      return std::nullopt;
    }
    return "unrecognized descriptor: " + std::string(spec);
  }
  std::vector<std::string_view> fields = Fields(spec);
  if (fields.size() != 5) {
    std::string list = "[";
    for (size_t i = 0; i < fields.size(); ++i) list += (i ? " " : "") + std::string(fields[i]);
    return "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + list + "]";
  }
  const Bounds bounds[5] = {{0, 59, nullptr}, {0, 23, nullptr}, {1, 31, nullptr}, {1, 12, &kMonths},
                            {0, 6, &kDays}};
  for (size_t f = 0; f < 5; ++f) {
    for (std::string_view expr : Split(fields[f], ',', true)) {
      if (auto e = CheckRange(expr, bounds[f])) return e;
    }
  }
  return std::nullopt;
}

bool IsKnownTimeZone(std::string_view zone) {
  if (zone == "UTC" || zone == "Local") return true;
  if (zone.empty() || zone.size() > 255 || zone.find("..") != std::string_view::npos || zone[0] == '/' ||
      zone.find('\0') != std::string_view::npos) {
    return false;
  }
  std::string path = "/usr/share/zoneinfo/" + std::string(zone);
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace kite::admission
