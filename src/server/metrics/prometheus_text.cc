#include "src/server/metrics/prometheus_text.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kite::metrics {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelNameStart(char c) { return IsNameStart(c) && c != ':'; }
bool IsLabelNameChar(char c) { return IsNameChar(c) && c != ':'; }

// A cursor over one line.
class LineParser {
 public:
  LineParser(std::string_view line, size_t number) : line_(line), number_(number) {}

  Result<PrometheusSample> Parse() {
    PrometheusSample sample;
    if (pos_ >= line_.size() || !IsNameStart(line_[pos_])) return Error("expected a metric name");
    size_t start = pos_;
    while (pos_ < line_.size() && IsNameChar(line_[pos_])) ++pos_;
    sample.name = std::string(line_.substr(start, pos_ - start));
    SkipSpaces();
    if (pos_ < line_.size() && line_[pos_] == '{') {
      ++pos_;
      KITE_RETURN_IF_ERROR(ParseLabels(sample));
      SkipSpaces();
    }
    std::string_view value = Token();
    if (value.empty()) return Error("expected a value after " + sample.name);
    Result<double> parsed = ParseValue(value);
    if (!parsed.ok()) return parsed.status();
    sample.value = *parsed;
    SkipSpaces();
    std::string_view timestamp = Token();
    if (!timestamp.empty()) {
      int64_t ms = 0;
      auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ms);
      if (ec != std::errc() || end != timestamp.data() + timestamp.size()) {
        return Error("invalid timestamp \"" + std::string(timestamp) + "\"");
      }
      sample.timestamp_ms = ms;
    }
    SkipSpaces();
    if (pos_ < line_.size()) return Error("unexpected text after the timestamp");
    return sample;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgumentError("metrics text line " + std::to_string(number_) + ": " + what);
  }

  void SkipSpaces() {
    while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
  }

  std::string_view Token() {
    size_t start = pos_;
    while (pos_ < line_.size() && line_[pos_] != ' ' && line_[pos_] != '\t') ++pos_;
    return line_.substr(start, pos_ - start);
  }

  Status ParseLabels(PrometheusSample& sample) {
    while (true) {
      SkipSpaces();
      if (pos_ >= line_.size()) return Error("unterminated label set");
      if (line_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      if (!IsLabelNameStart(line_[pos_])) return Error("expected a label name");
      size_t start = pos_;
      while (pos_ < line_.size() && IsLabelNameChar(line_[pos_])) ++pos_;
      std::string name(line_.substr(start, pos_ - start));
      SkipSpaces();
      if (pos_ >= line_.size() || line_[pos_] != '=') return Error("expected '=' after label " + name);
      ++pos_;
      SkipSpaces();
      if (pos_ >= line_.size() || line_[pos_] != '"') return Error("expected '\"' to open the value of label " + name);
      ++pos_;
      std::string value;
      bool closed = false;
      while (pos_ < line_.size()) {
        char c = line_[pos_++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (pos_ >= line_.size()) break;
          char e = line_[pos_++];
          if (e == 'n') {
            value.push_back('\n');
          } else if (e == '\\' || e == '"') {
            value.push_back(e);
          } else {
            return Error(std::string("invalid escape \\") + e + " in label " + name);
          }
          continue;
        }
        value.push_back(c);
      }
      if (!closed) return Error("unterminated value of label " + name);
      sample.labels.emplace_back(std::move(name), std::move(value));
      SkipSpaces();
      if (pos_ < line_.size() && line_[pos_] == ',') {
        ++pos_;
      } else if (pos_ >= line_.size() || line_[pos_] != '}') {
        return Error("expected ',' or '}' after a label");
      }
    }
  }

  Result<double> ParseValue(std::string_view text) const {
    std::string s(text);
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    // strtod would also take hex floats, "inf" and "nan(...)": accept only decimal digits,
    // a sign, a point and an exponent.
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
        return Error("invalid value \"" + s + "\"");
      }
    }
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || s.empty()) return Error("invalid value \"" + s + "\"");
    return v;
  }

  std::string_view line_;
  size_t number_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view PrometheusSample::Label(std::string_view key) const {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

Result<std::vector<PrometheusSample>> ParsePrometheusText(std::string_view text) {
  std::vector<PrometheusSample> samples;
  size_t number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    Result<PrometheusSample> sample = LineParser(line.substr(first), number).Parse();
    if (!sample.ok()) return sample.status();
    samples.push_back(std::move(sample).value());
  }
  return samples;
}

}  // namespace kite::metrics
