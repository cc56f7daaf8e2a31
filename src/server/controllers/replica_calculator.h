// The HorizontalPodAutoscaler's replica count for one resource metric, as Kubernetes'
// ReplicaCalculator (pkg/controller/podautoscaler/replica_calculator.go, 1.32) computes it
// from the target's pods and their metrics.
//
// Operation: the pods are grouped first — being deleted or Failed: ignored; Pending:
// unready; no metric: missing; for cpu also unready when not Ready (or without a start
// time), when still within the cpu initialization period and either not Ready or sampled
// before one metric window after becoming Ready, or when it never became Ready within the
// initial readiness delay. The usage ratio (current / target) of the ready pods with
// metrics decides: within the tolerance nothing changes; without unready or missing pods the
// count is ceil(ratio * ready pods). Otherwise it is computed again with missing pods
// counted at 100% of their request (or of the target when higher) on a scale-down, and
// missing and unready pods at 0 on a scale-up; a result inside the tolerance, or one that
// flips the direction, keeps the current count.
//
// Errors (kInvalidArgument) carry Kubernetes' messages, which the HPA shows in its
// ScalingActive condition: "no pods returned by selector while calculating replica count",
// "missing request for cpu in container app of Pod web-1", "did not receive metrics for
// targeted pods (pods might be unready)", "no metrics returned matched known pods".
//
// Thread-safety: immutable; the functions are pure (time comes in as `now_ms`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/client/informer.h"
#include "src/server/controllers/pod_metrics_lister.h"

namespace kite::controllers {

// One pod's metric value in thousandths of the unit (millicores, millibytes), as Kubernetes'
// metrics client keeps them, with when and over how long it was sampled.
struct PodMetric {
  int64_t value = 0;
  int64_t timestamp_ms = 0;
  int64_t window_ms = 0;
};
using PodMetricsInfo = std::map<std::string, PodMetric, std::less<>>;

// The `resource` ("cpu" or "memory") metric of every pod in `usage` that reports it.
PodMetricsInfo ResourceMetrics(const std::vector<PodUsage>& usage, std::string_view resource);

class ReplicaCalculator {
 public:
  struct Options {
    // A usage ratio within 1 ± tolerance changes nothing.
    double tolerance = 0.1;
    // --horizontal-pod-autoscaler-cpu-initialization-period.
    int64_t cpu_initialization_period_ms = 5 * 60 * 1000;
    // --horizontal-pod-autoscaler-initial-readiness-delay.
    int64_t initial_readiness_delay_ms = 30 * 1000;
  };

  struct UtilizationResult {
    int32_t replicas = 0;
    int32_t utilization = 0;   // percent of the pods' requests
    int64_t raw_average = 0;   // average use per pod, milli-units
  };
  struct AverageValueResult {
    int32_t replicas = 0;
    int64_t average = 0;  // average use per pod, milli-units
  };

  ReplicaCalculator() : ReplicaCalculator(Options{}) {}
  explicit ReplicaCalculator(Options options) : options_(options) {}

  // A target of `target_utilization` percent of the pods' `resource` requests. `pods` are
  // the target's pods (matching its selector, in its namespace); `current_replicas` its
  // scale's spec.replicas.
  Result<UtilizationResult> ResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                             std::string_view resource, PodMetricsInfo metrics,
                                             const std::vector<client::ObjectPtr>& pods, int64_t now_ms) const;
  // A target average use per pod of `target_milli` (milli-units).
  Result<AverageValueResult> RawResourceReplicas(int32_t current_replicas, int64_t target_milli,
                                                 std::string_view resource, PodMetricsInfo metrics,
                                                 const std::vector<client::ObjectPtr>& pods, int64_t now_ms) const;

 private:
  const Options options_;
};

// The sum of the pod's containers' (and restartable init containers') requests of
// `resource`, milli-units; kInvalidArgument "missing request for <resource> in container
// <c> of Pod <pod>" when one lacks it.
Result<int64_t> PodRequestMilli(const rapidjson::Value& pod, std::string_view resource);

}  // namespace kite::controllers
