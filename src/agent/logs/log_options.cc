#include "src/agent/logs/log_options.h"

#include <cctype>
#include <charconv>
#include <map>
#include <string>

#include "src/agent/logs/cri_log_format.h"
#include "src/base/percent_encoding.h"

namespace kite::agent::logs {
namespace {

// Query decoding: %XX escapes and '+' for space. False on a malformed escape.
bool Decode(std::string_view in, std::string& out) { return PercentDecode(in, /*plus_is_space=*/true, out); }

// The first value of every parameter (Kubernetes reads the first of repeated ones).
Result<std::map<std::string, std::string, std::less<>>> SplitQuery(std::string_view query) {
  std::map<std::string, std::string, std::less<>> values;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!Decode(pair.substr(0, eq), name) ||
        (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), value))) {
      return InvalidArgumentError("malformed query: invalid escape in \"" + std::string(pair) +
                                  "\"");
    }
    values.emplace(std::move(name), std::move(value));
  }
  return values;
}

bool ParseBool(const std::string& value) {
  std::string lower;
  for (char c : value) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower != "0" && lower != "false";
}

Result<std::optional<int64_t>> ParseInt(const std::string& name, const std::string& value) {
  if (value.empty()) return std::optional<int64_t>();
  int64_t out = 0;
  const char* begin = value.data();
  if (*begin == '+') ++begin;  // Go's ParseInt takes a sign
  auto [end, ec] = std::from_chars(begin, value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || begin == end) {
    return InvalidArgumentError("invalid value \"" + value + "\" for query parameter " + name +
                                ": not an integer");
  }
  return std::optional<int64_t>(out);
}

}  // namespace

Result<LogOptions> ParseLogOptions(std::string_view query) {
  auto values = SplitQuery(query);
  if (!values.ok()) return values.status();
  auto get = [&](std::string_view name) -> const std::string* {
    auto it = values->find(name);
    return it == values->end() ? nullptr : &it->second;
  };
  LogOptions o;
  if (const std::string* v = get("follow")) o.follow = ParseBool(*v);
  if (const std::string* v = get("previous")) o.previous = ParseBool(*v);
  if (const std::string* v = get("timestamps")) o.timestamps = ParseBool(*v);

  struct IntParam {
    const char* name;
    std::optional<int64_t>* out;
  };
  for (IntParam p : {IntParam{"tailLines", &o.tail_lines}, IntParam{"sinceSeconds", &o.since_seconds},
                     IntParam{"limitBytes", &o.limit_bytes}}) {
    if (const std::string* v = get(p.name)) {
      Result<std::optional<int64_t>> parsed = ParseInt(p.name, *v);
      if (!parsed.ok()) return parsed.status();
      *p.out = *parsed;
    }
  }
  // The kubelet's older spelling; "all" is the same as no limit.
  if (const std::string* v = get("tail"); v && !v->empty()) {
    if (*v == "all") {
      o.tail_lines.reset();
    } else {
      Result<std::optional<int64_t>> parsed = ParseInt("tail", *v);
      if (!parsed.ok()) return parsed.status();
      o.tail_lines = *parsed;
    }
  }
  if (const std::string* v = get("sinceTime"); v && !v->empty() && *v != "null") {
    std::optional<int64_t> t = ParseRfc3339Nanos(*v);
    if (!t) {
      return InvalidArgumentError("invalid value \"" + *v +
                                  "\" for query parameter sinceTime: not an RFC 3339 time");
    }
    o.since_time = *t;
  }

  // Kubernetes' ValidatePodLogOptions, in its wording.
  if (o.tail_lines && *o.tail_lines < 0) {
    return InvalidArgumentError("tailLines: Invalid value: " + std::to_string(*o.tail_lines) +
                                ": must be greater than or equal to 0");
  }
  if (o.limit_bytes && *o.limit_bytes < 1) {
    return InvalidArgumentError("limitBytes: Invalid value: " + std::to_string(*o.limit_bytes) +
                                ": must be greater than 0");
  }
  if (o.since_seconds && o.since_time) {
    return InvalidArgumentError("Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified");
  }
  if (o.since_seconds && *o.since_seconds < 1) {
    return InvalidArgumentError("sinceSeconds: Invalid value: " + std::to_string(*o.since_seconds) +
                                ": must be greater than 0");
  }
  return o;
}

}  // namespace kite::agent::logs
