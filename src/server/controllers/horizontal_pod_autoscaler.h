// The HorizontalPodAutoscaler controller (Kubernetes' pkg/controller/podautoscaler,
// horizontal.go, as of 1.32): sets the replicas of a Deployment, StatefulSet, ReplicaSet or
// ReplicationController from its pods' CPU and memory use.
//
// Operation, per HPA key ("namespace/name"), on every change of its spec and every resync
// period (15 s by default):
//  - the target's scale subresource (autoscaling/v1 Scale) gives spec.replicas ("current")
//    and status.selector; failing that, AbleToScale=False FailedGetScale;
//  - current 0 (with minReplicas > 0) disables scaling (ScalingActive=False
//    ScalingDisabled); current above maxReplicas / below minReplicas (default 1) is set to
//    the bound;
//  - otherwise each metric proposes a count (ReplicaCalculator, replica_calculator.h) from
//    the selector's pods and their usage (PodMetricsLister): Resource metrics cpu or memory
//    with target type Utilization (averageUtilization, % of the pods' requests) or
//    AverageValue. The highest proposal wins; when every metric fails, or some fail and the
//    rest would scale down, nothing is scaled and ScalingActive=False carries the first
//    failure (e.g. FailedGetResourceMetric "the HPA was unable to compute the replica count:
//    failed to get cpu utilization: missing request for cpu in container app of Pod web-1").
//    Pods, Object, External and ContainerResource metrics are not available here and fail
//    that way too (FailedGet<Type>Metric);
//  - the proposal is stabilized and limited. Without spec.behavior: the highest
//    recommendation of the downscale stabilization window (default 300 s) is used, and a
//    scale-up is limited to max(2 x current, 4). With spec.behavior (defaults filled in as
//    the API does): the lowest recommendation of scaleUp's window and the highest of
//    scaleDown's window (default 300 s) bound it, then the scaleUp / scaleDown policies
//    (Pods / Percent per periodSeconds, selectPolicy Max / Min / Disabled) limit the change
//    against the scale events of their periods; finally minReplicas / maxReplicas clamp it.
//    AbleToScale (ReadyForNewScale / ScaleUpStabilized / ScaleDownStabilized) and
//    ScalingLimited (DesiredWithinRange / TooFewReplicas / TooManyReplicas / ScaleUpLimit /
//    ScaleDownLimit) tell which applied, with Kubernetes' reasons and messages;
//  - a changed count is written with PUT .../scale (AbleToScale=True SucceededRescale,
//    status.lastScaleTime, event SuccessfulRescale "New size: 4; reason: cpu resource
//    utilization (percentage of request) above target"); then status (currentReplicas,
//    desiredReplicas, currentMetrics, conditions, observedGeneration) is written when it
//    changed.
// Recommendations and scale events are kept in memory per HPA (as Kubernetes does), so a
// restart forgets the stabilization window. Times come from Options::clock, so tests move a
// FakeClock through windows without sleeping. Events (SuccessfulRescale, FailedRescale,
// FailedGetScale, FailedGetResourceMetric, FailedComputeMetricsReplicas, ...) go to
// Options::recorder, whose broadcaster folds repeats.
//
// Objects created through autoscaling/v1 (stored in that form: the API server does not
// convert between versions) are read as one cpu utilization target and get the v1 status
// (currentCPUUtilizationPercentage, no conditions) through the v1 endpoint.
//
// Limitations: no custom or external metrics APIs; scale targets are the four built-in
// kinds (custom resources with a scale subresource are reported as FailedGetScale); the
// "AmbiguousSelector" check (two HPAs on the same pods) is not made.
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (the work queue never hands one key to two workers; the per-HPA history is
// guarded by a mutex).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"
#include "src/server/controllers/pod_metrics_lister.h"
#include "src/server/controllers/replica_calculator.h"

namespace kite::controllers {

inline const client::ResourceRef kHorizontalPodAutoscalers{"autoscaling", "v2", "horizontalpodautoscalers", true};

class HorizontalPodAutoscalerController final : public Controller {
 public:
  struct Options {
    // "Now" for stabilization windows, policy periods, pod readiness and timestamps; must
    // outlive the controller.
    const Clock* clock = SystemClock::Get();
    // Where pods' usage comes from; must outlive the controller. nullptr: the metrics API
    // (metrics.k8s.io/v1beta1 PodMetrics) through the controller's own client.
    PodMetricsLister* metrics = nullptr;
    // --horizontal-pod-autoscaler-sync-period: how often every HPA is looked at (real time).
    std::chrono::milliseconds resync_period{std::chrono::seconds(15)};
    // --horizontal-pod-autoscaler-downscale-stabilization (clock time).
    std::chrono::milliseconds downscale_stabilization{std::chrono::minutes(5)};
    // Tolerance, cpu initialization period, initial readiness delay.
    ReplicaCalculator::Options calculator;
    // Where Events go (source "horizontal-pod-autoscaler"); the default records nothing.
    client::EventRecorder recorder;
  };

  HorizontalPodAutoscalerController() : HorizontalPodAutoscalerController(Options{}) {}
  explicit HorizontalPodAutoscalerController(Options options);
  ~HorizontalPodAutoscalerController() override;

  std::string_view Name() const override { return "horizontal-pod-autoscaler"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& key) override;

 private:
  struct Recommendation {
    int32_t replicas = 0;
    int64_t at_ms = 0;
  };
  struct ScaleEvent {
    int32_t change = 0;  // replicas added (scale-up list) or removed (scale-down list)
    int64_t at_ms = 0;
  };
  // What Kubernetes keeps per HPA between syncs.
  struct History {
    std::vector<Recommendation> recommendations;
    std::vector<ScaleEvent> scale_ups, scale_downs;
  };
  struct Sync;

  Status SyncHpa(Sync& sync);
  // Kubernetes' computeReplicasForMetrics: the highest proposal of spec.metrics (sets the
  // ScalingActive condition and the metric statuses), or -1 with `error` set.
  int32_t ComputeMetrics(Sync& sync, const rapidjson::Value* spec, std::string* metric_name, std::string* error);
  // The proposal stabilized and clamped: Kubernetes' normalizeDesiredReplicas (no
  // spec.behavior) and normalizeDesiredReplicasWithBehaviors.
  int32_t Normalize(Sync& sync, int32_t current, int32_t proposal, int32_t min_replicas, int32_t max_replicas);
  int32_t NormalizeWithBehavior(Sync& sync, const rapidjson::Value& behavior, int32_t current, int32_t proposal,
                                int32_t min_replicas, int32_t max_replicas);
  // Remembers a rescale for the behavior policies' periods (only with spec.behavior).
  void StoreScaleEvent(Sync& sync, const rapidjson::Value* behavior, int32_t from, int32_t to);
  // Writes the built status when it differs from the stored one.
  Status WriteStatus(Sync& sync);
  void RecordEvent(const Sync& sync, client::EventType type, std::string_view reason, const std::string& message) const;
  const client::ResourceClient* ScaleClientFor(std::string_view api_version, std::string_view kind) const;

  const Options options_;
  const ReplicaCalculator calculator_;
  std::unique_ptr<PodMetricsLister> owned_metrics_;
  PodMetricsLister* metrics_ = nullptr;
  WorkQueue* queue_ = nullptr;
  client::Informer* hpas_ = nullptr;
  client::Informer* pods_ = nullptr;
  std::optional<client::ResourceClient> hpa_client_;
  std::optional<client::ResourceClient> hpa_v1_client_;  // for objects stored in the v1 form
  // Scale clients by "<group>/<Kind>".
  std::map<std::string, client::ResourceClient, std::less<>> scale_clients_;

  Mutex mu_;
  std::map<std::string, History, std::less<>> history_ GUARDED_BY(mu_);
};

}  // namespace kite::controllers
