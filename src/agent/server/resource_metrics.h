// GET /metrics/resource on the agent's endpoint: CPU and memory of the node, its pods and
// their containers in the Prometheus text format, with the kubelet's metric names
// (pkg/kubelet/metrics/collectors/resource_metrics.go), what metrics-server and Kite's own
// scraper read:
//   node_cpu_usage_seconds_total                                counter  core-seconds
//   node_memory_working_set_bytes                               gauge    bytes
//   container_cpu_usage_seconds_total{container,namespace,pod}  counter  core-seconds
//   container_memory_working_set_bytes{container,namespace,pod} gauge    bytes
//   container_start_time_seconds{container,namespace,pod}       gauge    Unix seconds
//   pod_cpu_usage_seconds_total{namespace,pod}                  counter  (sum of its containers)
//   pod_memory_working_set_bytes{namespace,pod}                 gauge    (sum of its containers)
//   resource_scrape_error                                       gauge    1 when the runtime failed
// Samples carry the time they were measured, in Unix milliseconds.
//
// Containers: the running ones the runtime lists, named by the kubelet's labels
// (io.kubernetes.pod.namespace/name, io.kubernetes.container.name), with the runtime's
// ListContainerStats (CRI: cpu.usage_core_nano_seconds, memory.working_set_bytes).
// Node: from /proc, as HostUsage below: CPU is the non-idle time of /proc/stat's "cpu" line
// (user + nice + system + irq + softirq + steal; iowait counts as idle), memory the
// working set as MemTotal - MemAvailable of /proc/meminfo (the kubelet reads the root
// cgroup instead; on a host this is close and needs no cgroup).
//
// Thread-safety: the functions are thread-safe when the runtime is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::agent::server {

struct HostUsage {
  int64_t timestamp_ms = 0;
  uint64_t cpu_core_nanos = 0;          // cumulative non-idle CPU time of all cores
  uint64_t memory_working_set_bytes = 0;
};

// Reads <proc_dir>/stat and <proc_dir>/meminfo. kUnavailable when a file cannot be read,
// kInternal when it does not have the expected lines.
Result<HostUsage> ReadHostUsage(const std::string& proc_dir, int64_t now_ms);

// The /metrics/resource body. `host` null leaves the node metrics out.
std::string RenderResourceMetrics(runtime::Runtime& runtime, const HostUsage* host);

}  // namespace kite::agent::server
