// Where the HorizontalPodAutoscaler controller gets pods' CPU and memory use: a small
// interface with one production implementation that reads the resource metrics API
// (metrics.k8s.io/v1beta1 PodMetrics, as metrics-server serves them) through the API client,
// and fakes in tests.
//
// Thread-safety: implementations must allow List from any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/client/resource_client.h"

namespace kite::controllers {

// One pod's use, summed over its containers. A resource is nullopt when some container did
// not report it (the pod then counts as having no metric for that resource, as Kubernetes'
// metrics client treats it).
struct PodUsage {
  std::string pod;  // the pod's name
  std::optional<int64_t> cpu_millicores;
  std::optional<int64_t> memory_bytes;
  int64_t timestamp_ms = 0;  // when the sample window ended (Unix milliseconds)
  int64_t window_ms = 0;     // how long the sample window was
};

class PodMetricsLister {
 public:
  virtual ~PodMetricsLister() = default;
  // The usage of the pods of namespace `ns` that match `label_selector` (the labelSelector
  // query syntax, "" = all). Pods the metrics source knows nothing about are absent. An
  // error means the source could not be asked (the HPA reports it in its conditions).
  virtual Result<std::vector<PodUsage>> List(std::string_view ns, std::string_view label_selector) = 0;
};

// metrics.k8s.io/v1beta1 pods.
inline const client::ResourceRef kPodMetrics{"metrics.k8s.io", "v1beta1", "pods", true};

// PodMetrics objects into PodUsage: containers[].usage.cpu ("12m", "123456n") rounded up to
// millicores, usage.memory ("1234Ki") in bytes, timestamp (RFC 3339) and window ("15s",
// "1m0.5s"). Items that are not objects or lack a name are skipped; a malformed quantity
// makes that resource absent for the pod.
std::vector<PodUsage> PodUsageFromList(const rapidjson::Value& pod_metrics_list);

// The production lister: GET /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods?labelSelector=…
class MetricsApiPodMetricsLister final : public PodMetricsLister {
 public:
  explicit MetricsApiPodMetricsLister(client::ResourceClient client) : client_(std::move(client)) {}
  Result<std::vector<PodUsage>> List(std::string_view ns, std::string_view label_selector) override;

 private:
  const client::ResourceClient client_;
};

}  // namespace kite::controllers
