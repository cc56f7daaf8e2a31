#include "src/agent/server/resource_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <vector>

namespace kite::agent::server {
namespace {

// Shortest text that reads back as the same double (the scraper rounds CPU seconds back to
// whole nanoseconds, so nothing is lost below 2^53 ns).
std::string Number(double v) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

std::string Seconds(uint64_t nanos) { return Number(static_cast<double>(nanos) / 1e9); }

// A label value with Prometheus' escapes.
std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void Family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " [STABLE] " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string Get(const runtime::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

struct Row {
  std::string namespace_, pod, container;
  int64_t started_ms = 0;
  runtime::ContainerStats stats;
};

}  // namespace

Result<HostUsage> ReadHostUsage(const std::string& proc_dir, int64_t now_ms) {
  HostUsage usage;
  usage.timestamp_ms = now_ms;
  std::ifstream stat(proc_dir + "/stat");
  if (!stat) return UnavailableError("cannot read " + proc_dir + "/stat");
  std::string line;
  bool found = false;
  while (std::getline(stat, line)) {
    if (line.rfind("cpu ", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    uint64_t v[8] = {};
    int n = 0;
    while (n < 8 && fields >> v[n]) ++n;
    if (n < 4) break;
    uint64_t busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    usage.cpu_core_nanos = busy_ticks * (1'000'000'000ull / static_cast<uint64_t>(hz));
    found = true;
    break;
  }
  if (!found) return InternalError(proc_dir + "/stat has no cpu line");
  std::ifstream meminfo(proc_dir + "/meminfo");
  if (!meminfo) return UnavailableError("cannot read " + proc_dir + "/meminfo");
  uint64_t total_kb = 0, available_kb = 0;
  bool has_total = false, has_available = false;
  std::string key;
  uint64_t value = 0;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    if (!(fields >> key >> value)) continue;
    if (key == "MemTotal:") total_kb = value, has_total = true;
    if (key == "MemAvailable:") available_kb = value, has_available = true;
  }
  if (!has_total || !has_available) return InternalError(proc_dir + "/meminfo lacks MemTotal or MemAvailable");
  usage.memory_working_set_bytes = (total_kb > available_kb ? total_kb - available_kb : 0) * 1024;
  return usage;
}

std::string RenderResourceMetrics(runtime::Runtime& runtime, const HostUsage* host) {
  std::vector<Row> rows;
  bool failed = false;
  Result<std::vector<runtime::Container>> containers = runtime.ListContainers("");
  Result<std::vector<runtime::ContainerStats>> stats = runtime.ListContainerStats();
  if (containers.ok() && stats.ok()) {
    std::map<std::string, const runtime::ContainerStats*> by_id;
    for (const runtime::ContainerStats& s : *stats) by_id[s.container_id] = &s;
    for (const runtime::Container& c : *containers) {
      if (c.state != runtime::ContainerState::kRunning) continue;
      auto s = by_id.find(c.id);
      if (s == by_id.end()) continue;
      Row row{Get(c.labels, runtime::kPodNamespaceLabel), Get(c.labels, runtime::kPodNameLabel),
              Get(c.labels, runtime::kContainerNameLabel), c.started_at, *s->second};
      if (row.namespace_.empty() || row.pod.empty() || row.container.empty()) continue;  // not a pod's
      rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return std::tie(a.namespace_, a.pod, a.container) < std::tie(b.namespace_, b.pod, b.container);
    });
  } else {
    failed = true;
  }

  auto labels = [](const Row& r) {
    return "{container=" + Quoted(r.container) + ",namespace=" + Quoted(r.namespace_) + ",pod=" + Quoted(r.pod) + "}";
  };
  auto millis = [](const runtime::ContainerStats& s) { return std::to_string(s.timestamp_nanos / 1'000'000); };
  std::string out;
  Family(out, "container_cpu_usage_seconds_total", "counter",
         "Cumulative cpu time consumed by the container in core-seconds");
  for (const Row& r : rows) {
    out += "container_cpu_usage_seconds_total" + labels(r) + " " + Seconds(r.stats.cpu_usage_core_nanos) + " " +
           millis(r.stats) + "\n";
  }
  Family(out, "container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes");
  for (const Row& r : rows) {
    out += "container_memory_working_set_bytes" + labels(r) + " " +
           Number(static_cast<double>(r.stats.memory_working_set_bytes)) + " " + millis(r.stats) + "\n";
  }
  Family(out, "container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds");
  for (const Row& r : rows) {
    if (r.started_ms > 0) {
      out += "container_start_time_seconds" + labels(r) + " " + Number(static_cast<double>(r.started_ms) / 1e3) + "\n";
    }
  }
  if (host) {
    std::string at = " " + std::to_string(host->timestamp_ms) + "\n";
    Family(out, "node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds");
    out += "node_cpu_usage_seconds_total " + Seconds(host->cpu_core_nanos) + at;
    Family(out, "node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes");
    out += "node_memory_working_set_bytes " + Number(static_cast<double>(host->memory_working_set_bytes)) + at;
  }
  // Pods: the sums of their containers, at the latest of their times.
  struct PodSum {
    uint64_t cpu = 0, memory = 0;
    int64_t nanos = 0;
  };
  std::map<std::pair<std::string, std::string>, PodSum> pods;
  for (const Row& r : rows) {
    PodSum& p = pods[{r.namespace_, r.pod}];
    p.cpu += r.stats.cpu_usage_core_nanos;
    p.memory += r.stats.memory_working_set_bytes;
    p.nanos = std::max(p.nanos, r.stats.timestamp_nanos);
  }
  auto pod_labels = [](const std::pair<std::string, std::string>& key) {
    return "{namespace=" + Quoted(key.first) + ",pod=" + Quoted(key.second) + "}";
  };
  Family(out, "pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds");
  for (const auto& [key, p] : pods) {
    out += "pod_cpu_usage_seconds_total" + pod_labels(key) + " " + Seconds(p.cpu) + " " +
           std::to_string(p.nanos / 1'000'000) + "\n";
  }
  Family(out, "pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes");
  for (const auto& [key, p] : pods) {
    out += "pod_memory_working_set_bytes" + pod_labels(key) + " " + Number(static_cast<double>(p.memory)) + " " +
           std::to_string(p.nanos / 1'000'000) + "\n";
  }
  Family(out, "resource_scrape_error", "gauge", "1 if there was an error while getting container metrics, 0 otherwise");
  out += std::string("resource_scrape_error ") + (failed ? "1" : "0") + "\n";
  return out;
}

}  // namespace kite::agent::server
