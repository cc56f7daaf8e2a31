#include "src/server/controllers/cron_schedule.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "src/base/mutex.h"

namespace kite::controllers {
namespace {

constexpr uint64_t kStarBit = uint64_t{1} << 63;

// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (H. Hinnant's
// algorithms).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year, month, day, hour, minute, second, weekday;  // weekday: 0 = Sunday
};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil CivilFromSeconds(int64_t s) {
  int64_t z = FloorDiv(s, 86400);
  int64_t secs = s - z * 86400;
  Civil c;
  c.hour = secs / 3600;
  c.minute = secs / 60 % 60;
  c.second = secs % 60;
  c.weekday = ((z % 7) + 11) % 7;  // 1970-01-01 was a Thursday
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = yoe + era * 400 + (c.month <= 2);
  return c;
}

// Wall-clock fields of `unix` in `zone`.
Civil WallOf(int64_t unix, const TimeZone& zone) { return CivilFromSeconds(unix + zone.Lookup(unix).seconds); }

// Go's time.Date: the instant with these (possibly out-of-range, normalised) wall fields.
int64_t DateIn(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second,
               const TimeZone& zone) {
  int64_t m0 = month - 1;
  year += FloorDiv(m0, 12);
  m0 -= FloorDiv(m0, 12) * 12;
  int64_t wall = (DaysFromCivil(year, m0 + 1, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second;
  TimeZone::Offset o = zone.Lookup(wall);
  int64_t offset = o.seconds;
  if (offset != 0) {
    int64_t utc = wall - offset;
    if (utc < o.start || utc >= o.end) offset = zone.Lookup(utc).seconds;
  }
  return wall - offset;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

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

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Bounds {
  unsigned min, max;
  const std::map<std::string, unsigned>* names;
};

const std::map<std::string, unsigned> kMonthNames = {
    {"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},  {"may", 5},  {"jun", 6},
    {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, unsigned> kDayNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                   {"thu", 4}, {"fri", 5}, {"sat", 6}};

Result<unsigned> ParseNumber(std::string_view expr, const std::map<std::string, unsigned>* names) {
  if (names) {
    auto it = names->find(Lower(expr));
    if (it != names->end()) return it->second;
  }
  if (expr.empty() || expr.size() > 9) return InvalidArgumentError("failed to parse int from " + std::string(expr));
  unsigned v = 0;
  for (char c : expr) {
    if (c < '0' || c > '9') return InvalidArgumentError("failed to parse int from " + std::string(expr));
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// One comma-separated element of a field: "*", "a", "a-b", each optionally "/step".
Result<uint64_t> ParseRange(std::string_view expr, const Bounds& r) {
  std::vector<std::string_view> range_and_step = Split(expr, '/');
  std::vector<std::string_view> low_high = Split(range_and_step[0], '-');
  unsigned start = 0, end = 0, step = 1;
  uint64_t extra = 0;
  if (low_high[0] == "*" || low_high[0] == "?") {
    start = r.min;
    end = r.max;
    extra = kStarBit;
  } else {
    Result<unsigned> s = ParseNumber(low_high[0], r.names);
    if (!s.ok()) return s.status();
    start = end = *s;
    if (low_high.size() == 2) {
      Result<unsigned> e = ParseNumber(low_high[1], r.names);
      if (!e.ok()) return e.status();
      end = *e;
    } else if (low_high.size() > 2) {
      return InvalidArgumentError("too many hyphens: " + std::string(expr));
    }
  }
  if (range_and_step.size() == 2) {
    Result<unsigned> s = ParseNumber(range_and_step[1], nullptr);
    if (!s.ok()) return s.status();
    step = *s;
    if (low_high.size() == 1) end = r.max;  // "N/step" means "N-max/step"
    if (step > 1) extra = 0;
  } else if (range_and_step.size() > 2) {
    return InvalidArgumentError("too many slashes: " + std::string(expr));
  }
  if (start < r.min) return InvalidArgumentError("beginning of range below minimum: " + std::string(expr));
  if (end > r.max) return InvalidArgumentError("end of range above maximum: " + std::string(expr));
  if (start > end) return InvalidArgumentError("beginning of range beyond end of range: " + std::string(expr));
  if (step == 0) return InvalidArgumentError("step of range should be a positive number: " + std::string(expr));
  uint64_t bits = extra;
  for (unsigned i = start; i <= end; i += step) bits |= uint64_t{1} << i;
  return bits;
}

Result<uint64_t> ParseField(std::string_view field, const Bounds& r) {
  uint64_t bits = 0;
  for (std::string_view expr : Split(field, ',')) {
    Result<uint64_t> b = ParseRange(expr, r);
    if (!b.ok()) return b.status();
    bits |= *b;
  }
  return bits;
}

uint64_t All(const Bounds& r) {
  uint64_t bits = kStarBit;
  for (unsigned i = r.min; i <= r.max; ++i) bits |= uint64_t{1} << i;
  return bits;
}

// Go's time.ParseDuration, in nanoseconds.
Result<int64_t> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return InvalidArgumentError("time: invalid duration \"" + std::string(text) + "\"");
  static const std::map<std::string, double> kUnits = {
      {"ns", 1.0}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return InvalidArgumentError("time: invalid duration \"" + std::string(text) + "\"");
    double value = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) ++u;
    auto unit = kUnits.find(std::string(s.substr(0, u)));
    if (u == 0 || unit == kUnits.end()) {
      return InvalidArgumentError("time: unknown unit in duration \"" + std::string(text) + "\"");
    }
    total += value * unit->second;
    s.remove_prefix(u);
  }
  if (total > 9.2e18) return InvalidArgumentError("time: invalid duration \"" + std::string(text) + "\"");
  return static_cast<int64_t>(negative ? -total : total);
}

int64_t ReadBigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> utc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return std::shared_ptr<const TimeZone>(std::move(z));
  }();
  return utc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name) {
  // Zone files are read once per process (a tzdata update needs a restart, as in Go).
  struct Cache {
    Mutex mu;
    std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> zones GUARDED_BY(mu);
  };
  static Cache* cache = new Cache();
  {
    MutexLock lock(cache->mu);
    if (auto it = cache->zones.find(name); it != cache->zones.end()) return it->second;
  }
  Result<std::shared_ptr<const TimeZone>> zone = Read(name);
  if (zone.ok()) {
    MutexLock lock(cache->mu);
    cache->zones.emplace(std::string(name), *zone);
  }
  return zone;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Read(std::string_view name) {
  std::string path;
  std::string shown(name);
  if (name.empty() || name == "UTC") return Utc();
  if (name == "Local") {
    const char* tz = std::getenv("TZ");
    if (tz == nullptr) {
      path = "/etc/localtime";
    } else {
      std::string_view env = tz;
      if (!env.empty() && env[0] == ':') env.remove_prefix(1);
      if (env.empty() || env == "UTC") return Utc();
      if (env[0] == '/') {
        path = std::string(env);
      } else {
        return Read(env);
      }
    }
  } else {
    // As Go: no absolute paths, no "..", no backslashes.
    if (name[0] == '/' || name.find("..") != std::string_view::npos || name.find('\\') != std::string_view::npos ||
        name.size() > 255) {
      return Status(StatusCode::kNotFound, "unknown time zone " + shown);
    }
    path = "/usr/share/zoneinfo/" + shown;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (name == "Local") return Utc();  // no local zone configured: Go's Local is UTC then
    return Status(StatusCode::kNotFound, "unknown time zone " + shown);
  }
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&] { return Status(StatusCode::kNotFound, "unknown time zone " + shown); };
  // RFC 8536: a 44-byte header, then the data; version 2+ repeats both with 64-bit times.
  auto parse = [&](size_t at, int time_size, size_t* end) -> std::optional<TimeZone> {
    if (data.size() < at + 44 || data[at] != 'T' || data[at + 1] != 'Z' || data[at + 2] != 'i' || data[at + 3] != 'f') {
      return std::nullopt;
    }
    const unsigned char* h = data.data() + at + 20;
    int64_t isutcnt = ReadBigEndian(h, 4), isstdcnt = ReadBigEndian(h + 4, 4), leapcnt = ReadBigEndian(h + 8, 4),
            timecnt = ReadBigEndian(h + 12, 4), typecnt = ReadBigEndian(h + 16, 4), charcnt = ReadBigEndian(h + 20, 4);
    if (isutcnt < 0 || isstdcnt < 0 || leapcnt < 0 || timecnt < 0 || typecnt <= 0 || charcnt < 0) return std::nullopt;
    size_t body = at + 44;
    size_t size = static_cast<size_t>(timecnt * time_size + timecnt + typecnt * 6 + charcnt +
                                      leapcnt * (time_size + 4) + isstdcnt + isutcnt);
    if (data.size() < body + size) return std::nullopt;
    const unsigned char* times = data.data() + body;
    const unsigned char* indices = times + timecnt * time_size;
    const unsigned char* types = indices + timecnt;
    TimeZone z;
    z.initial_offset_ = ReadBigEndian(types, 4);
    for (int64_t i = 0; i < timecnt; ++i) {
      unsigned idx = indices[i];
      if (idx >= typecnt) return std::nullopt;
      z.transitions_.push_back({ReadBigEndian(times + i * time_size, time_size), ReadBigEndian(types + idx * 6, 4)});
    }
    *end = body + size;
    return z;
  };
  size_t end = 0;
  std::optional<TimeZone> v1 = parse(0, 4, &end);
  if (!v1) return bad();
  std::optional<TimeZone> zone = v1;
  if (data[4] >= '2') {
    size_t end2 = 0;
    if (std::optional<TimeZone> v2 = parse(end, 8, &end2)) zone = std::move(v2);
  }
  zone->name_ = shown;
  std::sort(zone->transitions_.begin(), zone->transitions_.end(),
            [](const Transition& a, const Transition& b) { return a.at < b.at; });
  return std::shared_ptr<const TimeZone>(std::make_shared<TimeZone>(std::move(*zone)));
}

TimeZone::Offset TimeZone::Lookup(int64_t unix_seconds) const {
  Offset o;
  if (transitions_.empty()) {
    o.seconds = initial_offset_;
    return o;
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds,
                             [](int64_t t, const Transition& tr) { return t < tr.at; });
  if (it == transitions_.begin()) {
    o.seconds = initial_offset_;
    o.end = it->at;
    return o;
  }
  const Transition& in_force = *(it - 1);
  o.seconds = in_force.offset;
  o.start = in_force.at;
  if (it != transitions_.end()) o.end = it->at;
  return o;
}

Result<CronSchedule> CronSchedule::Parse(std::string_view schedule, std::optional<std::string_view> time_zone) {
  std::string_view spec = Trim(schedule);
  if (spec.empty()) return InvalidArgumentError("empty spec string");
  std::string zone_name = "Local";
  if (spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=")) {
    size_t eq = spec.find('=');
    size_t space = spec.find(' ');
    if (space == std::string_view::npos) return InvalidArgumentError("provided bad location " + std::string(spec.substr(eq + 1)));
    zone_name = std::string(spec.substr(eq + 1, space - eq - 1));
    spec = Trim(spec.substr(space));
  }
  if (time_zone) zone_name = std::string(*time_zone);
  Result<std::shared_ptr<const TimeZone>> zone = TimeZone::Load(zone_name);
  if (!zone.ok()) return zone.status();

  const Bounds minutes{0, 59, nullptr}, hours{0, 23, nullptr}, doms{1, 31, nullptr}, months{1, 12, &kMonthNames},
      dows{0, 6, &kDayNames};
  CronSchedule s;
  s.zone_ = *zone;
  if (spec.starts_with("@")) {
    std::string d = Lower(spec);
    s.minute_ = 1;  // minute 0
    s.hour_ = 1;
    s.dom_ = All(doms);
    s.month_ = All(months);
    s.dow_ = All(dows);
    if (d == "@yearly" || d == "@annually") {
      s.dom_ = uint64_t{1} << 1;
      s.month_ = uint64_t{1} << 1;
    } else if (d == "@monthly") {
      s.dom_ = uint64_t{1} << 1;
    } else if (d == "@weekly") {
      s.dow_ = 1;
    } else if (d == "@daily" || d == "@midnight") {
    } else if (d == "@hourly") {
      s.hour_ = All(hours);
    } else if (spec.starts_with("@every ")) {
      Result<int64_t> ns = ParseGoDuration(spec.substr(7));
      if (!ns.ok()) return InvalidArgumentError("failed to parse duration " + std::string(spec) + ": " + ns.status().message());
      // robfig: at least a second, whole seconds only.
      s.every_seconds_ = std::max<int64_t>(1, *ns / 1'000'000'000);
    } else {
      return InvalidArgumentError("unrecognized descriptor: " + std::string(spec));
    }
    return s;
  }
  std::vector<std::string_view> fields = Fields(spec);
  if (fields.size() != 5) {
    return InvalidArgumentError("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + std::string(spec));
  }
  uint64_t* targets[5] = {&s.minute_, &s.hour_, &s.dom_, &s.month_, &s.dow_};
  const Bounds* bounds[5] = {&minutes, &hours, &doms, &months, &dows};
  for (int i = 0; i < 5; ++i) {
    Result<uint64_t> bits = ParseField(fields[i], *bounds[i]);
    if (!bits.ok()) return bits.status();
    *targets[i] = *bits;
  }
  return s;
}

bool CronSchedule::DayMatches(int64_t unix) const {
  Civil c = WallOf(unix, *zone_);
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
  const int64_t year_limit = WallOf(t, z).year + 5;
  auto bit = [](uint64_t set, int64_t i) { return ((uint64_t{1} << i) & set) != 0; };
  // robfig/cron's SpecSchedule.Next: from the largest field down, step to the next match,
  // restarting from the top whenever a field wraps around.
wrap:
  Civil c = WallOf(t, z);
  if (c.year > year_limit) return std::nullopt;
  while (!bit(month_, c.month)) {
    if (!added) {
      added = true;
      t = DateIn(c.year, c.month, 1, 0, 0, 0, z);
      c = WallOf(t, z);
    }
    t = DateIn(c.year, c.month + 1, c.day, c.hour, c.minute, c.second, z);
    c = WallOf(t, z);
    if (c.month == 1) goto wrap;
  }
  while (!DayMatches(t)) {
    if (!added) {
      added = true;
      t = DateIn(c.year, c.month, c.day, 0, 0, 0, z);
      c = WallOf(t, z);
    }
    t = DateIn(c.year, c.month, c.day + 1, c.hour, c.minute, c.second, z);
    c = WallOf(t, z);
    // A daylight-saving change can move midnight: step back onto it.
    if (c.hour != 0) {
      t += c.hour > 12 ? (24 - c.hour) * 3600 : -c.hour * 3600;
      c = WallOf(t, z);
    }
    if (c.day == 1) goto wrap;
  }
  while (!bit(hour_, c.hour)) {
    if (!added) {
      added = true;
      t = DateIn(c.year, c.month, c.day, c.hour, 0, 0, z);
    }
    t += 3600;
    c = WallOf(t, z);
    if (c.hour == 0) goto wrap;
  }
  while (!bit(minute_, c.minute)) {
    if (!added) {
      added = true;
      t = FloorDiv(t, 60) * 60;
    }
    t += 60;
    c = WallOf(t, z);
    if (c.minute == 0) goto wrap;
  }
  // The seconds field of a standard schedule is 0.
  while (c.second != 0) {
    added = true;
    t += 1;
    c = WallOf(t, z);
    if (c.second == 0) goto wrap;
  }
  return t * 1000;
}

std::string FormatRfc3339InZone(int64_t unix_ms, const TimeZone& zone) {
  int64_t unix = FloorDiv(unix_ms, 1000);
  int64_t offset = zone.Lookup(unix).seconds;
  Civil c = CivilFromSeconds(unix + offset);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", static_cast<long long>(c.year),
                static_cast<long long>(c.month), static_cast<long long>(c.day), static_cast<long long>(c.hour),
                static_cast<long long>(c.minute), static_cast<long long>(c.second));
  std::string out = buf;
  if (offset == 0) return out + "Z";
  int64_t a = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof(buf), "%c%02lld:%02lld", offset < 0 ? '-' : '+', static_cast<long long>(a / 3600),
                static_cast<long long>(a / 60 % 60));
  return out + buf;
}

std::string FormatRfc1123Z(int64_t unix_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Civil c = CivilFromSeconds(FloorDiv(unix_ms, 1000));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02lld %s %04lld %02lld:%02lld:%02lld +0000", kDays[c.weekday],
                static_cast<long long>(c.day), kMonths[c.month - 1], static_cast<long long>(c.year),
                static_cast<long long>(c.hour), static_cast<long long>(c.minute), static_cast<long long>(c.second));
  return buf;
}

}  // namespace kite::controllers
