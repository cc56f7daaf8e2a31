// MetricsStore: the latest resource usage of every node and pod, as the metrics API
// (metrics.k8s.io) and the HorizontalPodAutoscaler read it.
//
// Operation: the scraper (scraper.h) hands it one batch per round (every node scraped, with
// the labels of the node and its pods). For each node and container the store keeps the
// last two points, as metrics-server does, and computes on read:
//   cpu    = (cpu_core_nanos[last] - cpu_core_nanos[prev]) / (time[last] - time[prev]),
//            in nanocores (truncated);
//   memory = the last working set;
//   window = time[last] - time[prev]; timestamp = time[last].
// A point replaces `last` only when it is newer; `prev` is dropped when the container
// restarted (its start time is after the last point, or its CPU counter went down). So a
// node or pod has usage from the second round it was seen in. A pod is reported only when
// every container it has in the last round has usage (its timestamp and window are those of
// its earliest container). Nodes and pods missing from a batch (node not scraped, pod gone)
// are forgotten.
//
// Thread-safety: every method may be called from any thread. Reads copy out what they return.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/metrics/resource_metrics.h"
#include "src/server/selection/label_selector.h"

namespace kite::metrics {

using Labels = std::map<std::string, std::string>;

struct Usage {
  int64_t cpu_nanocores = 0;  // cores × 1e9, averaged over the window
  int64_t memory_bytes = 0;   // working set at the timestamp
};

struct NodeUsage {
  std::string name;
  Labels labels;              // the Node's, as of the last scrape
  int64_t timestamp_ms = 0;   // the usage covers [timestamp - window, timestamp]
  int64_t window_ms = 0;
  Usage usage;
};

struct ContainerUsage {
  std::string name;
  Usage usage;
};

struct PodUsage {
  std::string namespace_;
  std::string name;
  Labels labels;  // the Pod's, as of the last scrape
  int64_t timestamp_ms = 0;
  int64_t window_ms = 0;
  std::vector<ContainerUsage> containers;  // sorted by name

  // The sum over the containers.
  Usage Total() const;
};

// One node's scrape, as the scraper hands it over.
struct NodeScrape {
  std::string node;
  Labels node_labels;
  NodeSample sample;
  // "namespace/name" → labels of the pods in `sample` that exist; containers of pods not
  // listed here are dropped (the pod was deleted).
  std::map<std::string, Labels> pod_labels;
};

class MetricsStore {
 public:
  MetricsStore() = default;
  MetricsStore(const MetricsStore&) = delete;
  MetricsStore& operator=(const MetricsStore&) = delete;

  // The node's usage; nullopt while it has fewer than two points (or is unknown).
  std::optional<NodeUsage> NodeMetrics(std::string_view name) const;
  // Every node with usage, sorted by name.
  std::vector<NodeUsage> ListNodeMetrics() const;
  // The pod's usage; nullopt while any of its containers has fewer than two points.
  std::optional<PodUsage> PodMetrics(std::string_view namespace_, std::string_view name) const;
  // The pods of `namespace_` ("" = every namespace) whose labels `selector` matches, with
  // usage, sorted by namespace then name.
  std::vector<PodUsage> ListPodMetrics(std::string_view namespace_,
                                       const selection::LabelSelector& selector) const;

  // Replaces the store's view with one round of scrapes (see the file comment).
  void Store(std::vector<NodeScrape> batch);

 private:
  struct Points {
    ResourcePoint last;
    std::optional<ResourcePoint> prev;
  };
  struct NodeState {
    Labels labels;
    Points points;
  };
  struct ContainerState {
    int64_t start_time_ms = 0;
    Points points;
  };
  struct PodState {
    Labels labels;
    std::map<std::string, ContainerState> containers;
  };
  using PodKey = std::pair<std::string, std::string>;  // namespace, name

  static std::optional<PodUsage> PodUsageOf(const PodKey& key, const PodState& pod);

  mutable Mutex mu_;
  std::map<std::string, NodeState, std::less<>> nodes_ GUARDED_BY(mu_);
  std::map<PodKey, PodState> pods_ GUARDED_BY(mu_);
};

struct MeasuredUsage {
  Usage usage;
  int64_t timestamp_ms = 0;  // last's time
  int64_t window_ms = 0;     // last's time - prev's time
};

// The usage between two points of one node or container, or nullopt when `last` is not
// newer than `prev` or its CPU counter is lower.
std::optional<MeasuredUsage> UsageBetween(const ResourcePoint& prev, const ResourcePoint& last);

}  // namespace kite::metrics
