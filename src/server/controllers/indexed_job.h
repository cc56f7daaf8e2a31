// What the Job controller needs for completionMode Indexed (Kubernetes' indexed_job_utils):
// a pod's completion index, sets of indexes in the compressed interval form of
// status.completedIndexes and status.failedIndexes ("1,3-5,7"), the lowest indexes still to
// start, duplicate pods of one index to delete, how an index's pod differs from the
// template, and the per-index failure counts of backoffLimitPerIndex.
//
// Thread-safety: every function is pure; an IndexIntervals value is not synchronized.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/client/informer.h"

namespace kite::controllers {

// The annotation (and, since PodIndexLabel, label) holding a pod's index.
inline constexpr char kJobCompletionIndexAnnotation[] = "batch.kubernetes.io/job-completion-index";
inline constexpr char kJobCompletionIndexEnv[] = "JOB_COMPLETION_INDEX";

// The index of the pod's completion-index annotation; -1 when absent, not a decimal
// number or negative (Kubernetes' unknownCompletionIndex).
int64_t CompletionIndexOf(const rapidjson::Value& pod);

// A set of non-negative indexes kept as sorted, disjoint, non-adjacent closed intervals.
class IndexIntervals {
 public:
  struct Interval {
    int64_t first = 0;
    int64_t last = 0;
  };

  IndexIntervals() = default;
  // Parses status.completedIndexes ("1,3-5,7"), keeping indexes below `completions`:
  // malformed intervals are skipped (as Kubernetes, which logs and ignores them).
  static IndexIntervals Parse(std::string_view text, int64_t completions);

  // This set plus `indexes` (any order, duplicates allowed).
  IndexIntervals With(std::vector<int64_t> indexes) const;
  // This set plus every index of `other`.
  IndexIntervals Union(const IndexIntervals& other) const;
  bool Has(int64_t index) const;
  // How many indexes the set holds.
  int64_t Total() const;
  // The compressed form: intervals joined by ',', "a-b" for three or more, "a,b" for two.
  std::string ToString() const;
  const std::vector<Interval>& intervals() const { return intervals_; }

 private:
  std::vector<Interval> intervals_;
};

// Up to `count` indexes below `completions`, lowest first, that are neither in `done`
// (succeeded, or otherwise not to be started) nor the index of a pod of `busy`.
std::vector<int64_t> FirstPendingIndexes(const std::vector<client::ObjectPtr>& busy, const IndexIntervals& done,
                                         int64_t count, int64_t completions);

// The active pods of an Indexed Job that must go: those without a valid index, those with
// an index >= `completions`, and all but one pod of each index (the one kept is the one
// Kubernetes' ActivePods order ranks last: scheduled, running, ready longest...).
std::vector<client::ObjectPtr> PodsWithDuplicateIndexes(const std::vector<client::ObjectPtr>& active,
                                                        int64_t completions, int64_t now_ms);

// spec.successPolicy of an Indexed Job (Kubernetes' matchSuccessPolicy): the rules in
// order; a rule with succeededIndexes ("0,2-4", parsed as completedIndexes) is met when all
// of those indexes succeeded, or at least succeededCount of them; a rule with only
// succeededCount when that many indexes succeeded. Returns "Matched rules at index <i>" for
// the first rule met; nullopt without a policy, before any index succeeded, or when none is
// met (a rule whose succeededIndexes parse to nothing is skipped).
std::optional<std::string> MatchSuccessPolicy(const rapidjson::Value* policy, int64_t completions,
                                              const IndexIntervals& succeeded);

// --- backoffLimitPerIndex ------------------------------------------------------------------

// On each pod the controller creates for an index of a Job with backoffLimitPerIndex: how
// many earlier pods of that index failed and counted (always set, "0" on the first pod), and
// how many failed but a podFailurePolicy Ignore rule left uncounted (set only when > 0).
inline constexpr char kJobIndexFailureCountAnnotation[] = "batch.kubernetes.io/job-index-failure-count";
inline constexpr char kJobIndexIgnoredFailureCountAnnotation[] =
    "batch.kubernetes.io/job-index-ignored-failure-count";

struct IndexFailureCounts {
  int32_t failed = 0;   // counted failures (kJobIndexFailureCountAnnotation)
  int32_t ignored = 0;  // Ignore'd failures (kJobIndexIgnoredFailureCountAnnotation)
};

// The pod's counts as its annotations state them; a count that is absent, not a decimal
// number, negative or above the int32 range is 0 (as Kubernetes, which cannot trust
// annotations a user may edit).
IndexFailureCounts IndexFailureCountsOf(const rapidjson::Value& pod);

// The counts for the pod replacing `replaced`, a failed pod of the same index: its counts
// plus its own failure, as counted or (a podFailurePolicy rule Ignores it) ignored. {0, 0}
// when nothing is replaced. `policy` is spec.podFailurePolicy (nullptr: none).
IndexFailureCounts ReplacementIndexFailureCounts(const rapidjson::Value* policy, const rapidjson::Value* replaced);

// Sets the two annotations on a pod (or pod template) to `counts`.
void SetIndexFailureCounts(rapidjson::Value& pod, IndexFailureCounts counts, rapidjson::Document::AllocatorType& a);

// Whether the failed pod `pod` fails its index for good (Kubernetes' isIndexFailed): a
// podFailurePolicy FailIndex rule matches it, or its failure counts and the index had
// already failed `backoff_limit_per_index` times before it.
bool FailsIndex(const rapidjson::Value* policy, const rapidjson::Value& pod, int64_t backoff_limit_per_index);

// Adds env JOB_COMPLETION_INDEX, from the downward API field
// metadata.labels['batch.kubernetes.io/job-completion-index'], to every container and init
// container of the pod (or PodSpec holder) `pod` that does not already define it.
void AddCompletionIndexEnv(rapidjson::Value& pod, rapidjson::Document::AllocatorType& a);

// Makes the pod from a Job's template the pod of `index`: the annotation and label, hostname
// "<job>-<index>", generateName "<job>-<index>-" (the job name shortened so that the prefix
// fits 58 characters).
void SetCompletionIndex(rapidjson::Value& pod, std::string_view job_name, int64_t index,
                        rapidjson::Document::AllocatorType& a);

}  // namespace kite::controllers
