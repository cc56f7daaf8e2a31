#include "src/server/cron/time_zone.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <system_error>

#include "src/base/mutex.h"

namespace kite::cron {
namespace {

// Larger files are refused rather than read (real zone files are a few KiB).
constexpr size_t kMaxZoneFileBytes = 1 << 20;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

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

CivilTime CivilFromSeconds(int64_t s) {
  int64_t z = FloorDiv(s, 86400);
  int64_t secs = s - z * 86400;
  CivilTime c;
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

int64_t ReadBigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Go's text for a system error (syscall.Errno): the C library's, first letter lowered.
std::string ErrnoText(int error) {
  std::string text = std::generic_category().message(error);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

// The file's bytes; kNotFound when it does not exist, else the system error.
Result<std::vector<unsigned char>> ReadWholeFile(const std::string& path, std::string_view name) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT) return NotFoundError("unknown time zone " + std::string(name));
    return InvalidArgumentError(ErrnoText(error));
  }
  std::vector<unsigned char> data;
  unsigned char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return InvalidArgumentError(ErrnoText(error));
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
    if (data.size() > kMaxZoneFileBytes) {
      ::close(fd);
      return InvalidArgumentError("malformed time zone information");
    }
  }
  ::close(fd);
  return data;
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
  // Only zones that load are cached, so the cache is bounded by the zoneinfo database.
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
  if (name.empty() || name == "UTC") return Utc();
  if (name == "Local") {
    // Go's initLocal: $TZ (":" prefix allowed; "" is UTC; an absolute path is a file,
    // anything else a zone name), else /etc/localtime; UTC when that fails.
    const char* tz = std::getenv("TZ");
    Result<std::shared_ptr<const TimeZone>> local = Utc();
    if (tz == nullptr) {
      local = ReadFile("/etc/localtime", "Local");
    } else {
      std::string_view env = tz;
      if (!env.empty() && env[0] == ':') env.remove_prefix(1);
      if (!env.empty() && env[0] == '/') {
        local = ReadFile(std::string(env), "Local");
      } else if (!env.empty() && env != "UTC" && env != "Local") {
        local = Read(env);
      }
    }
    return local.ok() ? local : Utc();
  }
  // As Go: no "..", no leading slash or backslash; a NUL cannot reach open(2).
  if (name.find("..") != std::string_view::npos || name[0] == '/' || name[0] == '\\') {
    return InvalidArgumentError("time: invalid location name");
  }
  if (name.find('\0') != std::string_view::npos) return InvalidArgumentError("invalid argument");
  return ReadFile("/usr/share/zoneinfo/" + std::string(name), name);
}

Result<std::shared_ptr<const TimeZone>> TimeZone::ReadFile(const std::string& path, std::string_view name) {
  Result<std::vector<unsigned char>> read = ReadWholeFile(path, name);
  if (!read.ok()) return read.status();
  const std::vector<unsigned char>& data = *read;
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
  std::optional<TimeZone> zone = parse(0, 4, &end);
  if (!zone) return InvalidArgumentError("malformed time zone information");
  if (data[4] >= '2') {
    size_t end2 = 0;
    if (std::optional<TimeZone> v2 = parse(end, 8, &end2)) zone = std::move(v2);
  }
  zone->name_ = std::string(name);
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

CivilTime TimeZone::WallClock(int64_t unix_seconds) const {
  return CivilFromSeconds(unix_seconds + Lookup(unix_seconds).seconds);
}

int64_t TimeZone::Date(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                       int64_t second) const {
  int64_t m0 = month - 1;
  year += FloorDiv(m0, 12);
  m0 -= FloorDiv(m0, 12) * 12;
  int64_t wall = (DaysFromCivil(year, m0 + 1, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second;
  // Go's time.Date: the offset found for the wall time read as UTC is right unless the
  // instant it gives falls outside that offset's span.
  Offset o = Lookup(wall);
  int64_t offset = o.seconds;
  if (offset != 0) {
    int64_t utc = wall - offset;
    if (utc < o.start || utc >= o.end) offset = Lookup(utc).seconds;
  }
  return wall - offset;
}

std::string FormatRfc3339InZone(int64_t unix_ms, const TimeZone& zone) {
  int64_t unix = FloorDiv(unix_ms, 1000);
  int64_t offset = zone.Lookup(unix).seconds;
  CivilTime c = CivilFromSeconds(unix + offset);
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
  CivilTime c = CivilFromSeconds(FloorDiv(unix_ms, 1000));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02lld %s %04lld %02lld:%02lld:%02lld +0000", kDays[c.weekday],
                static_cast<long long>(c.day), kMonths[c.month - 1], static_cast<long long>(c.year),
                static_cast<long long>(c.hour), static_cast<long long>(c.minute), static_cast<long long>(c.second));
  return buf;
}

}  // namespace kite::cron
