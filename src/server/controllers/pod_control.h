// What workload controllers (ReplicaSet, and later Job, StatefulSet, DaemonSet) need to make
// and judge pods: pod status predicates as Kubernetes' podutil defines them, the pod a
// controller creates from its template, the order in which surplus pods are deleted
// (Kubernetes' ActivePodsWithRanks), and slow-start batching of creates.
//
// Thread-safety: every function is pure or, for SlowStartBatch, runs `fn` concurrently
// (it must be thread-safe).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/client/informer.h"

namespace kite::controllers {

// Not Succeeded, not Failed and not being deleted: a pod that counts as a replica.
bool IsPodActive(const rapidjson::Value& pod);
// The Ready condition is True.
bool IsPodReady(const rapidjson::Value& pod);
// Milliseconds since the Unix epoch of the Ready condition's lastTransitionTime when the pod
// is ready; nullopt when it is not ready or the time is absent or malformed.
std::optional<int64_t> PodReadySinceMillis(const rapidjson::Value& pod);
// Ready for at least `min_ready_seconds` at `now_ms` (ready is enough when it is 0).
bool IsPodAvailable(const rapidjson::Value& pod, int64_t min_ready_seconds, int64_t now_ms);
// For a pod that is ready but not yet available: how long until it is (ms, >= 1).
std::optional<int64_t> MillisUntilAvailable(const rapidjson::Value& pod, int64_t min_ready_seconds,
                                            int64_t now_ms);

// RFC 3339 ("2024-01-02T03:04:05Z", fraction and offset allowed) as Unix milliseconds.
std::optional<int64_t> ParseTimeMillis(std::string_view text);

// The pod a controller named `controller_name` creates from `pod_template` (a
// PodTemplateSpec): generateName "<controller_name>-", the template's labels, annotations,
// finalizers and spec, and `controller_ref` as its only owner reference.
rapidjson::Document PodFromTemplate(const rapidjson::Value& pod_template,
                                    std::string_view controller_name,
                                    const rapidjson::Value& controller_ref);

// The `count` pods of `pods` to delete first when scaling down, in Kubernetes' order:
// unscheduled before scheduled; Pending before Unknown before Running; not ready before
// ready; lower controller.kubernetes.io/pod-deletion-cost first; pods sharing their node
// with more `related` active pods first; ready for a shorter time first (compared in
// power-of-two age buckets, then by uid); more container restarts first; newer first
// (again in age buckets). `related` is every active pod of the controller's family (its
// own pods and those of sibling ReplicaSets of the same Deployment).
std::vector<client::ObjectPtr> PodsToDelete(const std::vector<client::ObjectPtr>& pods,
                                            const std::vector<client::ObjectPtr>& related,
                                            size_t count, int64_t now_ms);

struct BatchResult {
  int successes = 0;
  Status error;  // the first failure, OK when every call succeeded
};
// Calls `fn` `count` times in batches of initial_batch, then twice as many, and so on (each
// batch concurrently); stops after the first batch with a failure, so a request that will
// fail every time (quota, admission) is sent a handful of times instead of `count` times.
BatchResult SlowStartBatch(int count, int initial_batch, const std::function<Status()>& fn);

}  // namespace kite::controllers
