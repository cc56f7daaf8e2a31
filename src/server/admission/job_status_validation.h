// Internal to kite_admission: the rules Kubernetes 1.32 applies to a Job written through its
// status subresource (pkg/apis/batch/validation ValidateJobStatusUpdate, with the options
// pkg/registry/batch/job getStatusValidationOptions computes while the JobManagedBy feature
// gate is on, its 1.32 default):
//   - the succeeded and failed counters do not decrease (succeeded may, for an Indexed Job
//     whose completions equal its parallelism: it can be scaled down);
//   - the terminal conditions (Complete, Failed, FailureTarget, SuccessCriteriaMet) stay
//     once True, and are combined as the Job controller does: Failed only after
//     FailureTarget, Complete only after SuccessCriteriaMet and never with Failed or
//     FailureTarget;
//   - a finished Job has a startTime and no active, terminating or uncounted pods; ready
//     does not exceed active;
//   - completionTime is set exactly on Complete Jobs, not before startTime, and never
//     changes; startTime is not changed for a Job that is not suspended, except by the
//     write that resumes it (Suspended no longer True: Kubernetes' 1.32.10 fix);
//   - completedIndexes (Indexed Jobs only) and failedIndexes (backoffLimitPerIndex only) are
//     increasing index intervals below completions that do not overlap;
//   - uncountedTerminatedPods lists no empty or repeated uid.
// Most rules fire only when a field they read changed compared with the stored Job, so a
// write that leaves a status already breaking a rule alone still goes through, and the Job
// controller can repair a status a spec change made invalid (completedIndexes beyond
// completions after a scale-down). Causes carry Kubernetes' field paths and messages.
//
// The non-negative counters are checked by ValidateJob (batch_validation.cc), which calls
// this. Limitation: timestamps are shown in messages as Go prints a time in UTC (a server
// whose local zone is UTC).
//
// Thread-safety: pure function.
#pragma once

#include "src/server/admission/json_fields.h"

namespace kite::admission {

// Appends the problems of `job`'s status to `c`. `old` is the stored Job; with nullptr only
// the rules that need no old object apply (no uid listed twice or empty, SuccessCriteriaMet
// with neither Failed nor FailureTarget, Complete only with SuccessCriteriaMet under a
// successPolicy). The spec is read from `old` when there is one: Kubernetes' status
// strategy keeps the stored spec.
void ValidateJobStatusUpdate(Causes& c, const Value& job, const Value* old);

}  // namespace kite::admission
