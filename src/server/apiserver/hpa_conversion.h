// HorizontalPodAutoscaler conversion between autoscaling/v2 (the storage version) and
// autoscaling/v1, as Kubernetes converts (pkg/apis/autoscaling/v1/conversion.go).
//
// v1 has one metric, spec.targetCPUUtilizationPercentage, and status
// currentCPUUtilizationPercentage. What v1 cannot hold travels in annotations, so that
// v2 -> v1 -> v2 keeps everything:
//   autoscaling.alpha.kubernetes.io/metrics          spec.metrics other than cpu utilization,
//                                                     as a JSON array of v1 MetricSpecs
//   autoscaling.alpha.kubernetes.io/behavior         spec.behavior (JSON, v2 field names)
//   autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics (v1 MetricStatuses)
//   autoscaling.alpha.kubernetes.io/conditions       status.conditions
// Converting to v2 consumes these annotations (they are not stored). A v1 object without
// any metric gets Kubernetes' implicit 80% cpu utilization target. The order of metrics is
// not kept: the v1 cpu target comes after the annotation's metrics, as in Kubernetes.
//
// Thread-safety: stateless functions. Errors: kInvalidArgument (with the annotation named)
// for round-trip annotations that are not the JSON they should be; nothing else fails.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "src/base/status.h"

namespace kite::apiserver {

inline constexpr std::string_view kHpaMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
inline constexpr std::string_view kHpaBehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
inline constexpr std::string_view kHpaCurrentMetricsAnnotation =
    "autoscaling.alpha.kubernetes.io/current-metrics";
inline constexpr std::string_view kHpaConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";

// Rewrites an autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1, in place.
Status HpaV2ToV1(rapidjson::Document& object);
// Rewrites an autoscaling/v1 HorizontalPodAutoscaler as autoscaling/v2, in place.
Status HpaV1ToV2(rapidjson::Document& object);

// A ConvertFunc (version_conversion.h) for versions "v1" and "v2"; other pairs are
// kInvalidArgument.
Status ConvertHorizontalPodAutoscaler(rapidjson::Document& object, std::string_view from_version,
                                      std::string_view to_version);

}  // namespace kite::apiserver
