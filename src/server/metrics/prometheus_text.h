// A parser for the Prometheus text exposition format (version 0.0.4), what a kubelet's
// /metrics/resource answers:
//
//   # HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time ...
//   # TYPE container_cpu_usage_seconds_total counter
//   container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-1"} 12.5 1700000000123
//
// Each sample line is a metric name, optional labels in braces (values in double quotes with
// \\, \" and \n escapes; a trailing comma allowed), a value (a Go float: decimal, exponent,
// NaN, +Inf, -Inf) and an optional timestamp in Unix milliseconds. Comment lines (#) and
// blank lines are skipped; HELP and TYPE are not kept.
//
// Errors: kInvalidArgument naming the line number and what is wrong; the parser never
// crashes on any input. Limits: none here (the caller bounds the body's size).
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/status.h"

namespace kite::metrics {

struct PrometheusSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in the order written
  double value = 0;
  std::optional<int64_t> timestamp_ms;

  // The value of label `key`, or "" when absent.
  std::string_view Label(std::string_view key) const;
};

Result<std::vector<PrometheusSample>> ParsePrometheusText(std::string_view text);

}  // namespace kite::metrics
