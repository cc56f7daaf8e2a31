#include "src/server/controllers/pod_failure_policy.h"

#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

struct ExitCodeMatch {
  std::string container;
  int64_t exit_code = 0;
};

bool OperatorAccepts(std::string_view op, const Value* values, int64_t exit_code) {
  bool listed = false;
  if (values && values->IsArray()) {
    for (const Value& v : values->GetArray()) {
      if (v.IsInt64() && v.GetInt64() == exit_code) listed = true;
    }
  }
  if (op == "In") return listed;
  if (op == "NotIn") return !listed;
  return false;
}

// The first terminated container of `list` the requirement matches.
std::optional<ExitCodeMatch> MatchContainers(const Value* list, const Value& requirement) {
  if (!list || !list->IsArray()) return std::nullopt;
  const Value* name = json::Member(requirement, "containerName");
  std::string_view op = json::StringMember(requirement, "operator");
  const Value* values = json::Member(requirement, "values");
  for (const Value& c : list->GetArray()) {
    const Value* state = json::Member(c, "state");
    const Value* terminated = state ? json::Member(*state, "terminated") : nullptr;
    if (!terminated || !terminated->IsObject()) continue;  // no exit code yet
    if (name && name->IsString() && json::StringMember(c, "name") != std::string_view(name->GetString())) continue;
    const Value* code = json::Member(*terminated, "exitCode");
    int64_t exit_code = code && code->IsInt64() ? code->GetInt64() : 0;
    if (exit_code == 0) continue;
    if (OperatorAccepts(op, values, exit_code)) return ExitCodeMatch{std::string(json::StringMember(c, "name")), exit_code};
  }
  return std::nullopt;
}

// The type of the first pod condition that one of `patterns` matches.
std::optional<std::string> MatchConditions(const Value& pod, const Value& patterns) {
  const Value* status = json::Member(pod, "status");
  const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray() || !patterns.IsArray()) return std::nullopt;
  for (const Value& c : conditions->GetArray()) {
    for (const Value& p : patterns.GetArray()) {
      if (json::StringMember(c, "type") == json::StringMember(p, "type") &&
          json::StringMember(c, "status") == json::StringMember(p, "status")) {
        return std::string(json::StringMember(c, "type"));
      }
    }
  }
  return std::nullopt;
}

std::string PodName(const Value& pod) {
  const Value* md = json::Member(pod, "metadata");
  if (!md) return "/";
  return std::string(json::StringMember(*md, "namespace")) + "/" + std::string(json::StringMember(*md, "name"));
}

}  // namespace

PodFailurePolicyMatch MatchPodFailurePolicy(const Value* policy, const Value& pod) {
  PodFailurePolicyMatch out;
  const Value* rules = policy && policy->IsObject() ? json::Member(*policy, "rules") : nullptr;
  if (!rules || !rules->IsArray()) return out;
  const Value* status = json::Member(pod, "status");
  int index = 0;
  for (const Value& rule : rules->GetArray()) {
    int rule_index = index++;
    if (!rule.IsObject()) continue;
    std::string action(json::StringMember(rule, "action"));
    std::optional<std::string> fail_message;
    bool matched = false;
    const Value* on_exit = json::Member(rule, "onExitCodes");
    const Value* on_conditions = json::Member(rule, "onPodConditions");
    if (on_exit && on_exit->IsObject()) {
      std::optional<ExitCodeMatch> m =
          MatchContainers(status ? json::Member(*status, "containerStatuses") : nullptr, *on_exit);
      if (!m) m = MatchContainers(status ? json::Member(*status, "initContainerStatuses") : nullptr, *on_exit);
      if (m) {
        matched = true;
        fail_message = "Container " + m->container + " for pod " + PodName(pod) + " failed with exit code " +
                       std::to_string(m->exit_code) + " matching " + action + " rule at index " +
                       std::to_string(rule_index);
      }
    } else if (on_conditions && !on_conditions->IsNull()) {
      if (std::optional<std::string> type = MatchConditions(pod, *on_conditions)) {
        matched = true;
        fail_message = "Pod " + PodName(pod) + " has condition " + *type + " matching " + action + " rule at index " +
                       std::to_string(rule_index);
      }
    }
    if (!matched) continue;
    // A rule with an unknown action is skipped, as Kubernetes' switch falls through.
    if (action == "Ignore") {
      out.action = action;
      out.count_failed = false;
      return out;
    }
    if (action == "Count" || action == "FailIndex") {
      out.action = action;
      return out;
    }
    if (action == "FailJob") {
      out.action = action;
      out.fail_job_message = std::move(fail_message);
      return out;
    }
  }
  return out;
}

}  // namespace kite::controllers
