#include "src/server/metrics/resource_metrics.h"

#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "src/server/metrics/prometheus_text.h"

namespace kite::metrics {
namespace {

struct Partial {
  std::optional<double> cpu_seconds;
  std::optional<int64_t> cpu_time;
  std::optional<double> memory;
  std::optional<int64_t> memory_time;
  std::optional<double> start_seconds;
};

bool Usable(double v) { return std::isfinite(v) && v >= 0; }

// Core-seconds → core-nanoseconds, rounded: the agent prints nanosecond counts divided by
// 1e9, and rounding recovers them exactly below 2^53 ns (about 104 core-days).
uint64_t ToNanos(double seconds) { return static_cast<uint64_t>(std::llround(seconds * 1e9)); }

std::optional<ResourcePoint> PointOf(const Partial& p, int64_t scrape_time_ms) {
  if (!p.cpu_seconds || !p.memory || !Usable(*p.cpu_seconds) || !Usable(*p.memory)) return std::nullopt;
  // Values beyond what fits in 64 bits are nonsense from a broken agent.
  if (*p.cpu_seconds > 9.0e9 || *p.memory > 9.0e18) return std::nullopt;
  ResourcePoint point;
  point.timestamp_ms = p.cpu_time ? *p.cpu_time : p.memory_time ? *p.memory_time : scrape_time_ms;
  point.cpu_core_nanos = ToNanos(*p.cpu_seconds);
  point.memory_bytes = static_cast<uint64_t>(std::llround(*p.memory));
  return point;
}

}  // namespace

Result<NodeSample> ParseResourceMetrics(std::string_view text, int64_t scrape_time_ms) {
  Result<std::vector<PrometheusSample>> samples = ParsePrometheusText(text);
  if (!samples.ok()) return samples.status();
  Partial node;
  std::map<std::tuple<std::string, std::string, std::string>, Partial> containers;
  for (const PrometheusSample& s : *samples) {
    if (s.name == "node_cpu_usage_seconds_total") {
      node.cpu_seconds = s.value;
      node.cpu_time = s.timestamp_ms;
    } else if (s.name == "node_memory_working_set_bytes") {
      node.memory = s.value;
      node.memory_time = s.timestamp_ms;
    } else if (s.name == "container_cpu_usage_seconds_total" ||
               s.name == "container_memory_working_set_bytes" ||
               s.name == "container_start_time_seconds") {
      std::tuple<std::string, std::string, std::string> key{
          std::string(s.Label("namespace")), std::string(s.Label("pod")), std::string(s.Label("container"))};
      if (std::get<0>(key).empty() || std::get<1>(key).empty() || std::get<2>(key).empty()) continue;
      Partial& c = containers[key];
      if (s.name == "container_cpu_usage_seconds_total") {
        c.cpu_seconds = s.value;
        c.cpu_time = s.timestamp_ms;
      } else if (s.name == "container_memory_working_set_bytes") {
        c.memory = s.value;
        c.memory_time = s.timestamp_ms;
      } else {
        c.start_seconds = s.value;
      }
    }
  }
  NodeSample out;
  if (std::optional<ResourcePoint> p = PointOf(node, scrape_time_ms)) {
    out.has_node_point = true;
    out.node = *p;
  }
  for (const auto& [key, partial] : containers) {
    std::optional<ResourcePoint> p = PointOf(partial, scrape_time_ms);
    if (!p) continue;
    ContainerSample c;
    std::tie(c.namespace_, c.pod, c.container) = key;
    if (partial.start_seconds && Usable(*partial.start_seconds) && *partial.start_seconds < 1e12) {
      c.start_time_ms = std::llround(*partial.start_seconds * 1000);
    }
    c.point = *p;
    out.containers.push_back(std::move(c));
  }
  return out;
}

}  // namespace kite::metrics
