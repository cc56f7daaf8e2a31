// What one node's /metrics/resource says, decoded: the node's and each container's
// cumulative CPU time and memory working set at the times the agent measured them.
//
// Metrics read (the kubelet's names; others are ignored):
//   node_cpu_usage_seconds_total                                  counter, core-seconds
//   node_memory_working_set_bytes                                 gauge, bytes
//   container_cpu_usage_seconds_total{container,namespace,pod}    counter, core-seconds
//   container_memory_working_set_bytes{container,namespace,pod}   gauge, bytes
//   container_start_time_seconds{container,namespace,pod}         gauge, Unix seconds
// A point is kept only when it has both CPU and memory (as metrics-server does); its time is
// the CPU sample's timestamp, else the memory sample's, else `scrape_time_ms`. Negative,
// NaN or infinite values drop the point.
//
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::metrics {

struct ResourcePoint {
  int64_t timestamp_ms = 0;     // when measured (Unix milliseconds)
  uint64_t cpu_core_nanos = 0;  // cumulative CPU time since start, core-nanoseconds
  uint64_t memory_bytes = 0;    // working set
};

struct ContainerSample {
  std::string namespace_;
  std::string pod;
  std::string container;
  int64_t start_time_ms = 0;  // 0 = unknown
  ResourcePoint point;
};

struct NodeSample {
  bool has_node_point = false;
  ResourcePoint node;
  std::vector<ContainerSample> containers;  // sorted by namespace, pod, container
};

// kInvalidArgument when the text does not parse (see prometheus_text.h).
Result<NodeSample> ParseResourceMetrics(std::string_view text, int64_t scrape_time_ms);

}  // namespace kite::metrics
