// A Job's spec.podFailurePolicy applied to one failed pod (Kubernetes'
// matchPodFailurePolicy, 1.32): the rules are tried in order and the first that matches
// decides.
//  - onExitCodes {containerName?, operator In|NotIn, values}: matches when a terminated
//    container (containers first, then init containers; only the named one when
//    containerName is set) has a non-zero exit code that the operator accepts (exit code 0
//    never matches, neither In nor NotIn);
//  - onPodConditions [{type, status}]: matches when the pod has a condition of that type and
//    status (e.g. DisruptionTarget True).
// Actions: FailJob (the Job fails; the message names the container and exit code, or the
// condition, and the rule's index), Ignore (the failure is not counted toward
// backoffLimit), Count (counted, as without a policy), FailIndex (counted, and with
// backoffLimitPerIndex the pod's index fails at once, without retries: indexed_job.h
// FailsIndex).
//
// Thread-safety: pure functions. Errors: none; a malformed policy or rule (validation's
// job) simply does not match.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>

namespace kite::controllers {

struct PodFailurePolicyMatch {
  // The action of the matching rule ("FailJob", "Ignore", "Count", "FailIndex"); nullopt
  // when no rule matched (or there is no policy).
  std::optional<std::string> action;
  // Whether the failure counts toward backoffLimit (false only for Ignore).
  bool count_failed = true;
  // For FailJob: the Failed condition's message, as Kubernetes words it:
  // "Container <c> for pod <ns>/<pod> failed with exit code <n> matching FailJob rule at
  // index <i>" or "Pod <ns>/<pod> has condition <type> matching FailJob rule at index <i>".
  std::optional<std::string> fail_job_message;
};

// `policy` is spec.podFailurePolicy (nullptr or null: no policy); `pod` a failed pod.
PodFailurePolicyMatch MatchPodFailurePolicy(const rapidjson::Value* policy, const rapidjson::Value& pod);

}  // namespace kite::controllers
