// The resource metrics API, metrics.k8s.io/v1beta1, as metrics-server serves it, over a
// MetricsStore:
//   GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]                       NodeMetrics(List)
//   GET /apis/metrics.k8s.io/v1beta1/[namespaces/{ns}/]pods[/{name}]      PodMetrics(List)
// Lists take labelSelector (matched against the node's or pod's labels) and fieldSelector
// (metadata.name, metadata.namespace); malformed selectors answer 400. A node or pod without
// usage yet answers 404 as metrics-server words it (`nodemetrics.metrics.k8s.io "n" not
// found`, `podmetrics.metrics.k8s.io "default/web" not found`) and is left out of lists.
// Objects carry metadata (name, namespace, the labels of the node or pod, creationTimestamp =
// the time of the request, as metrics-server sets it), timestamp, window (a Go duration,
// "15s" or as measured) and usage {cpu: "123456n"/"12m", memory: "1234Ki"}; pods have
// containers [{name, usage}] sorted by name. A request for a Table (kubectl get) gets
// metrics-server's columns: Name, cpu, memory, Window.
// Read-only: the verbs are get and list; the API handler answers 405 for the others.
//
// Thread-safety: Serve may run concurrently (the store is thread-safe).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <vector>

#include "src/base/clock.h"
#include "src/server/apiserver/computed_api.h"
#include "src/server/metrics/metrics_store.h"

namespace kite::metrics {

inline constexpr char kMetricsGroup[] = "metrics.k8s.io";
inline constexpr char kMetricsVersion[] = "v1beta1";

// The objects as served (without kind and apiVersion, as list items carry them; Serve adds
// them to a single object). `now_ms` becomes metadata.creationTimestamp.
rapidjson::Document NodeMetricsObject(const NodeUsage& usage, int64_t now_ms);
rapidjson::Document PodMetricsObject(const PodUsage& usage, int64_t now_ms);

class MetricsApi final : public apiserver::ComputedApi {
 public:
  // `store` (and `clock`, null = the system clock) are not owned and must outlive the API.
  explicit MetricsApi(const MetricsStore* store, const Clock* clock = nullptr);

  const std::vector<resources::ResourceInfo>& Resources() const override { return resources_; }
  http::HandlerResult Serve(const apiserver::RestRequest& request) override;

 private:
  http::HandlerResult ServeNodes(const apiserver::RestRequest& request);
  http::HandlerResult ServePods(const apiserver::RestRequest& request);

  const MetricsStore* const store_;
  const Clock* const clock_;
  const std::vector<resources::ResourceInfo> resources_;
};

}  // namespace kite::metrics
