#include "src/server/cron/cron_schedule.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "src/base/go_duration.h"

namespace kite::cron {
namespace {

constexpr uint64_t kStarBit = uint64_t{1} << 63;
constexpr uint64_t kTwoTo63 = uint64_t{1} << 63;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Hex(unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
}

// Length of the valid UTF-8 sequence at the start of `s`, 0 when there is none.
size_t Utf8Length(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = b(0);
  size_t len = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (len == 0 || s.size() < len) return 0;
  unsigned char lo = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
  unsigned char hi = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (b(i) < 0x80 || b(i) > 0xbf) return 0;
  }
  return len;
}

// Go's strconv.Quote (in strconv's error texts). Characters beyond ASCII that form valid
// UTF-8 are kept as they are (Go would escape the few of them that are not printable).
std::string StrconvQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8Length(s.substr(i));
      out += len == 0 ? Hex(c) : std::string(s.substr(i, len));
      i += len == 0 ? 1 : len;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default: out += c < 0x20 || c == 0x7f ? Hex(c) : std::string(1, static_cast<char>(c));
    }
    ++i;
  }
  return out + "\"";
}

// robfig's mustParseInt: strconv.Atoi (64-bit int), then no negative numbers.
Result<uint64_t> ParseInt(std::string_view expr) {
  auto atoi_error = [&](const char* what) {
    return InvalidArgumentError("failed to parse int from " + std::string(expr) + ": strconv.Atoi: parsing " +
                                StrconvQuote(expr) + ": " + what);
  };
  std::string_view digits = expr;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return atoi_error("invalid syntax");
  // strconv.ParseUint: a bad character is a syntax error, overflowing 64 bits a range
  // error, whichever comes first.
  uint64_t n = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return atoi_error("invalid syntax");
    if (n >= UINT64_MAX / 10 + 1) return atoi_error("value out of range");
    uint64_t next = n * 10 + static_cast<uint64_t>(c - '0');
    if (next < n) return atoi_error("value out of range");
    n = next;
  }
  if (negative ? n > kTwoTo63 : n >= kTwoTo63) return atoi_error("value out of range");
  if (negative && n != 0) {
    std::string shown = n == kTwoTo63 ? "9223372036854775808" : std::to_string(n);
    return InvalidArgumentError("negative number (-" + shown + ") not allowed: " + std::string(expr));
  }
  return n;
}

struct Bounds {
  uint64_t min, max;
  const std::map<std::string, uint64_t>* names;
};

const std::map<std::string, uint64_t> kMonthNames = {
    {"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},  {"may", 5},  {"jun", 6},
    {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, uint64_t> kDayNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                   {"thu", 4}, {"fri", 5}, {"sat", 6}};
const Bounds kMinutes{0, 59, nullptr}, kHours{0, 23, nullptr}, kDoms{1, 31, nullptr}, kMonths{1, 12, &kMonthNames},
    kDows{0, 6, &kDayNames};

Result<uint64_t> ParseIntOrName(std::string_view expr, const Bounds& r) {
  if (r.names != nullptr) {
    std::string lower(expr);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto it = r.names->find(lower); it != r.names->end()) return it->second;
  }
  return ParseInt(expr);
}

// strings.Split.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// strings.Fields, for ASCII white space.
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

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// robfig's getRange: one element of a list, "*", "?", "a" or "a-b", each optionally "/step".
Result<uint64_t> ParseRange(std::string_view expr, const Bounds& r) {
  std::vector<std::string_view> range_and_step = Split(expr, '/');
  std::vector<std::string_view> low_and_high = Split(range_and_step[0], '-');
  bool single = low_and_high.size() == 1;
  uint64_t start = 0, end = 0, step = 1, extra = 0;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = r.min;
    end = r.max;
    extra = kStarBit;
  } else {
    Result<uint64_t> low = ParseIntOrName(low_and_high[0], r);
    if (!low.ok()) return low.status();
    start = end = *low;
    if (low_and_high.size() == 2) {
      Result<uint64_t> high = ParseIntOrName(low_and_high[1], r);
      if (!high.ok()) return high.status();
      end = *high;
    } else if (low_and_high.size() > 2) {
      return InvalidArgumentError("too many hyphens: " + std::string(expr));
    }
  }
  if (range_and_step.size() == 2) {
    Result<uint64_t> s = ParseInt(range_and_step[1]);
    if (!s.ok()) return s.status();
    step = *s;
    if (single) end = r.max;  // "N/step" means "N-max/step"
    if (step > 1) extra = 0;  // "*/1" stays a star, "*/2" does not
  } else if (range_and_step.size() > 2) {
    return InvalidArgumentError("too many slashes: " + std::string(expr));
  }
  if (start < r.min) {
    return InvalidArgumentError("beginning of range (" + std::to_string(start) + ") below minimum (" +
                                std::to_string(r.min) + "): " + std::string(expr));
  }
  if (end > r.max) {
    return InvalidArgumentError("end of range (" + std::to_string(end) + ") above maximum (" +
                                std::to_string(r.max) + "): " + std::string(expr));
  }
  if (start > end) {
    return InvalidArgumentError("beginning of range (" + std::to_string(start) + ") beyond end of range (" +
                                std::to_string(end) + "): " + std::string(expr));
  }
  if (step == 0) return InvalidArgumentError("step of range should be a positive number: " + std::string(expr));
  uint64_t bits = extra;
  for (uint64_t i = start; i <= end; i += step) bits |= uint64_t{1} << i;  // end <= 59: no overflow
  return bits;
}

// robfig's getField: a comma-separated list (empty elements skipped, as strings.FieldsFunc).
Result<uint64_t> ParseField(std::string_view field, const Bounds& r) {
  uint64_t bits = 0;
  for (std::string_view expr : Split(field, ',')) {
    if (expr.empty()) continue;
    Result<uint64_t> b = ParseRange(expr, r);
    if (!b.ok()) return b.status();
    bits |= *b;
  }
  return bits;
}

uint64_t All(const Bounds& r) {
  uint64_t bits = kStarBit;
  for (uint64_t i = r.min; i <= r.max; ++i) bits |= uint64_t{1} << i;
  return bits;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view schedule, std::optional<std::string_view> time_zone) {
  if (time_zone) return Parse("TZ=" + std::string(*time_zone) + " " + std::string(schedule), std::nullopt);
  std::string_view spec = schedule;
  if (spec.empty()) return InvalidArgumentError("empty spec string");
  CronSchedule s;
  if (spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=")) {
    size_t eq = spec.find('=');
    size_t space = spec.find(' ');
    if (space == std::string_view::npos) {
      // robfig slices up to the first space and panics without one; refuse it instead.
      std::string rest(spec.substr(eq + 1));
      return InvalidArgumentError("provided bad location " + rest + ": unknown time zone " + rest);
    }
    std::string_view name = spec.substr(eq + 1, space - eq - 1);
    Result<std::shared_ptr<const TimeZone>> zone = TimeZone::Load(name);
    if (!zone.ok()) {
      return Status(zone.status().code(), "provided bad location " + std::string(name) + ": " + zone.status().message());
    }
    s.zone_ = *zone;
    spec = TrimSpace(spec.substr(space));
  } else {
    Result<std::shared_ptr<const TimeZone>> local = TimeZone::Load("Local");  // falls back to UTC
    s.zone_ = local.ok() ? *local : TimeZone::Utc();
  }

  if (spec.starts_with("@")) {
    s.minute_ = 1;  // minute 0
    s.hour_ = 1;
    s.dom_ = All(kDoms);
    s.month_ = All(kMonths);
    s.dow_ = All(kDows);
    if (spec == "@yearly" || spec == "@annually") {
      s.dom_ = uint64_t{1} << 1;
      s.month_ = uint64_t{1} << 1;
    } else if (spec == "@monthly") {
      s.dom_ = uint64_t{1} << 1;
    } else if (spec == "@weekly") {
      s.dow_ = 1;
    } else if (spec == "@daily" || spec == "@midnight") {
    } else if (spec == "@hourly") {
      s.hour_ = All(kHours);
    } else if (spec.starts_with("@every ")) {
      Result<int64_t> ns = ParseGoDuration(spec.substr(7));
      if (!ns.ok()) {
        return InvalidArgumentError("failed to parse duration " + std::string(spec) + ": " + ns.status().message());
      }
      // robfig's Every: at least a second, whole seconds only.
      s.every_seconds_ = std::max<int64_t>(1, *ns / 1'000'000'000);
    } else {
      return InvalidArgumentError("unrecognized descriptor: " + std::string(spec));
    }
    return s;
  }

  std::vector<std::string_view> fields = Fields(spec);
  if (fields.size() != 5) {
    std::string list;
    for (std::string_view f : fields) list += (list.empty() ? "" : " ") + std::string(f);
    return InvalidArgumentError("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": [" + list + "]");
  }
  uint64_t* targets[5] = {&s.minute_, &s.hour_, &s.dom_, &s.month_, &s.dow_};
  const Bounds* bounds[5] = {&kMinutes, &kHours, &kDoms, &kMonths, &kDows};
  for (int i = 0; i < 5; ++i) {
    Result<uint64_t> bits = ParseField(fields[i], *bounds[i]);
    if (!bits.ok()) return bits.status();
    *targets[i] = *bits;
  }
  return s;
}

bool CronSchedule::DayMatches(int64_t unix_seconds) const {
  CivilTime c = zone_->WallClock(unix_seconds);
  bool dom = (uint64_t{1} << c.day) & dom_;
  bool dow = (uint64_t{1} << c.weekday) & dow_;
  if ((dom_ & kStarBit) || (dow_ & kStarBit)) return dom && dow;
  return dom || dow;
}

std::optional<int64_t> CronSchedule::Next(int64_t after_ms) const {
  int64_t whole = FloorDiv(after_ms, 1000);
  if (every_seconds_ > 0) return (whole + every_seconds_) * 1000;
  const TimeZone& z = *zone_;
  int64_t t = whole + 1;
  bool added = false;
  const int64_t year_limit = z.WallClock(t).year + 5;
  auto bit = [](uint64_t set, int64_t i) { return ((uint64_t{1} << i) & set) != 0; };
  // robfig/cron's SpecSchedule.Next: from the largest field down, step to the next match,
  // restarting from the top whenever a field wraps around.
wrap:
  CivilTime c = z.WallClock(t);
  if (c.year > year_limit) return std::nullopt;
  while (!bit(month_, c.month)) {
    if (!added) {
      added = true;
      t = z.Date(c.year, c.month, 1, 0, 0, 0);
      c = z.WallClock(t);
    }
    t = z.Date(c.year, c.month + 1, c.day, c.hour, c.minute, c.second);
    c = z.WallClock(t);
    if (c.month == 1) goto wrap;
  }
  while (!DayMatches(t)) {
    if (!added) {
      added = true;
      t = z.Date(c.year, c.month, c.day, 0, 0, 0);
      c = z.WallClock(t);
    }
    t = z.Date(c.year, c.month, c.day + 1, c.hour, c.minute, c.second);
    c = z.WallClock(t);
    // A daylight-saving change can move midnight: step back onto it.
    if (c.hour != 0) {
      t += c.hour > 12 ? (24 - c.hour) * 3600 : -c.hour * 3600;
      c = z.WallClock(t);
    }
    if (c.day == 1) goto wrap;
  }
  while (!bit(hour_, c.hour)) {
    if (!added) {
      added = true;
      t = z.Date(c.year, c.month, c.day, c.hour, 0, 0);
    }
    t += 3600;
    c = z.WallClock(t);
    if (c.hour == 0) goto wrap;
  }
  while (!bit(minute_, c.minute)) {
    if (!added) {
      added = true;
      t = FloorDiv(t, 60) * 60;
    }
    t += 60;
    c = z.WallClock(t);
    if (c.minute == 0) goto wrap;
  }
  // The seconds field of a standard schedule is 0.
  while (c.second != 0) {
    added = true;
    t += 1;
    c = z.WallClock(t);
    if (c.second == 0) goto wrap;
  }
  return t * 1000;
}

}  // namespace kite::cron
