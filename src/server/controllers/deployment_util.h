// The arithmetic and bookkeeping of Deployments, as Kubernetes' deployment/util does it:
// the pod-template-hash, revisions and the annotations a Deployment keeps on its
// ReplicaSets, maxSurge/maxUnavailable resolution, how far a new ReplicaSet may grow, how a
// scaling event is shared among ReplicaSets, and the status conditions.
//
// Deployments and ReplicaSets are their JSON objects (rapidjson Values) as the API serves
// them. Absent fields take Kubernetes' defaults (spec.replicas 1, strategy RollingUpdate
// with 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600), so objects that were
// stored before defaulting are read as Kubernetes would have defaulted them.
//
// Thread-safety: pure functions on values the caller owns.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/client/informer.h"

namespace kite::controllers {

inline constexpr std::string_view kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr std::string_view kRevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
inline constexpr std::string_view kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
inline constexpr std::string_view kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
inline constexpr std::string_view kPodTemplateHashLabel = "pod-template-hash";
// The revision-history annotation is trimmed (oldest first) to stay within this length.
inline constexpr size_t kMaxRevisionHistoryChars = 2000;

// ---- Templates ----

// A short, stable name for a pod template (plus the Deployment's collisionCount, which
// changes it after a name collision): FNV-1a over the template's canonical JSON (sorted
// keys, empty values dropped), printed in decimal and mapped onto Kubernetes' safe
// alphabet "bcdfghjklmnpqrstvwxz2456789", like "5d59d67564". Not bit-identical to
// Kubernetes' hash (which hashes Go's printout of the struct), but the same shape.
std::string ComputeTemplateHash(const rapidjson::Value& pod_template,
                                std::optional<int64_t> collision_count);

// Semantic equality of two JSON values as Kubernetes' apiequality.Semantic compares
// decoded objects: an absent member, null, {} and [] are the same (nil and empty maps and
// slices are), recursively.
bool SemanticEqual(const rapidjson::Value& a, const rapidjson::Value& b);
// The two pod templates are equal apart from the pod-template-hash label.
bool EqualIgnoreHash(const rapidjson::Value& template_a, const rapidjson::Value& template_b);

// ---- Reading a Deployment ----

int32_t DeploymentReplicas(const rapidjson::Value& deployment);  // spec.replicas, default 1
bool IsRollingUpdate(const rapidjson::Value& deployment);        // strategy.type != Recreate
bool IsPaused(const rapidjson::Value& deployment);
int32_t MinReadySeconds(const rapidjson::Value& object);
// spec.revisionHistoryLimit: how many old ReplicaSets to keep (default 10).
int32_t RevisionHistoryLimit(const rapidjson::Value& deployment);
// nullopt when there is no deadline (Kubernetes' MaxInt32 meaning "never").
std::optional<int32_t> ProgressDeadlineSeconds(const rapidjson::Value& deployment);

// An IntOrString: an integer, or "N%" of `total` rounded up (maxSurge) or down
// (maxUnavailable). kInvalidArgument for anything else. `value` nullptr means absent.
Result<int32_t> ScaledValueFromIntOrPercent(const rapidjson::Value* value, int32_t total, bool round_up);
struct Fenceposts {
  int32_t max_surge = 0;
  int32_t max_unavailable = 0;
};
// maxSurge and maxUnavailable of a rolling Deployment for `desired` replicas (absent = 25%);
// when both resolve to 0, maxUnavailable becomes 1 so the rollout can move.
Result<Fenceposts> ResolveFenceposts(const rapidjson::Value& deployment, int32_t desired);
// 0 for Recreate; malformed values count as their 25% default.
int32_t MaxSurge(const rapidjson::Value& deployment);
// 0 for Recreate and for 0 replicas; at most spec.replicas.
int32_t MaxUnavailable(const rapidjson::Value& deployment);

// ---- Reading a ReplicaSet ----

int32_t RsSpecReplicas(const rapidjson::Value& rs);  // spec.replicas, default 1
int32_t RsStatusCount(const rapidjson::Value& rs, std::string_view field);
// The revision annotation as a number: 0 when absent, nullopt when malformed.
std::optional<int64_t> Revision(const rapidjson::Value& rs);
int64_t MaxRevision(const std::vector<client::ObjectPtr>& replica_sets);
std::optional<int32_t> IntAnnotation(const rapidjson::Value& object, std::string_view key);

// Sums over the ReplicaSets (nullptr entries skipped).
int32_t SpecReplicaSum(const std::vector<client::ObjectPtr>& replica_sets);
int32_t StatusSum(const std::vector<client::ObjectPtr>& replica_sets, std::string_view field);
// Those with spec.replicas > 0.
std::vector<client::ObjectPtr> ActiveReplicaSets(const std::vector<client::ObjectPtr>& replica_sets);
// `a` was created before `b` (creationTimestamp, then name).
bool CreatedBefore(const rapidjson::Value& a, const rapidjson::Value& b);
// Oldest first (creationTimestamp, then name).
void SortByCreation(std::vector<client::ObjectPtr>& replica_sets);
// Lowest revision first (then oldest).
void SortByRevision(std::vector<client::ObjectPtr>& replica_sets);

// ---- Writing a ReplicaSet ----

// Sets (adding or replacing) annotation `key` of `object`; true when it changed.
bool SetAnnotation(rapidjson::Document& object, std::string_view key, std::string_view value);
// desired-replicas and max-replicas; true when either changed.
bool SetReplicasAnnotations(rapidjson::Document& rs, int32_t desired, int32_t max_replicas);
bool ReplicasAnnotationsNeedUpdate(const rapidjson::Value& rs, int32_t desired, int32_t max_replicas);
// What a Deployment writes on its new ReplicaSet: the Deployment's annotations (except
// kubectl's last-applied-configuration and the deployment.kubernetes.io ones), the revision
// `new_revision` when it is higher than the one there (the previous one then goes to
// revision-history: a rollback reusing an old ReplicaSet), and, for a ReplicaSet about to be
// created (`exists` false), the replicas annotations. True when something changed.
bool SetNewReplicaSetAnnotations(const rapidjson::Value& deployment, rapidjson::Document& rs,
                                 int64_t new_revision, bool exists);

// ---- Rollout arithmetic ----

// The size the new ReplicaSet may grow to now: for RollingUpdate, up to replicas + maxSurge
// pods in all (`current_pods`, counted by the caller) but never above spec.replicas; for
// Recreate, spec.replicas.
int32_t NewRsNewReplicas(const rapidjson::Value& deployment, int32_t current_pods, int32_t new_rs_replicas);
// The new ReplicaSet has all the Deployment's replicas, knows it (desired-replicas), and
// they are all available.
bool IsSaturated(const rapidjson::Value& deployment, const rapidjson::Value* rs);
// How many replicas `rs` gains (or loses, negative) when a scaling event of `to_add` replicas
// is shared proportionally, `added` of them having gone to other ReplicaSets already.
int32_t ReplicaSetProportion(const rapidjson::Value& rs, const rapidjson::Value& deployment, int32_t to_add,
                             int32_t added);

// ---- Status ----

struct DeploymentCondition {
  std::string type;
  std::string status;
  std::string last_update_time;
  std::string last_transition_time;
  std::string reason;
  std::string message;
  bool operator==(const DeploymentCondition&) const = default;
};

struct DeploymentStatus {
  int64_t observed_generation = 0;
  int32_t replicas = 0;
  int32_t updated_replicas = 0;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  int32_t unavailable_replicas = 0;
  std::optional<int32_t> collision_count;
  std::vector<DeploymentCondition> conditions;
  bool operator==(const DeploymentStatus&) const = default;

  // From a Deployment's status (nullptr or malformed members read as zero/absent).
  static DeploymentStatus FromJson(const rapidjson::Value* status);
  // Zero counts are omitted, as Go's omitempty does.
  rapidjson::Value ToJson(rapidjson::Document::AllocatorType& allocator) const;
};

const DeploymentCondition* FindCondition(const DeploymentStatus& status, std::string_view type);
// Kubernetes' SetDeploymentCondition: no change when the status and reason are the same;
// lastTransitionTime kept when only the reason changes; otherwise replaced and moved last.
void SetCondition(DeploymentStatus& status, DeploymentCondition condition);
void RemoveCondition(DeploymentStatus& status, std::string_view type);
DeploymentCondition NewCondition(std::string type, std::string status, std::string reason,
                                 std::string message, int64_t now_ms);

// Every replica is updated, there are no old ones, all are available, and the status is of
// the current generation.
bool DeploymentComplete(const rapidjson::Value& deployment, const DeploymentStatus& status);
// New replicas were added, old ones removed, or more are available than in `old_status`.
bool DeploymentProgressing(const DeploymentStatus& old_status, const DeploymentStatus& status);
// The Progressing condition was last updated more than progressDeadlineSeconds before
// `now_ms`, or already says ProgressDeadlineExceeded.
bool DeploymentTimedOut(const rapidjson::Value& deployment, const DeploymentStatus& status, int64_t now_ms);

}  // namespace kite::controllers
