// PodDisruptionBudgets (policy/v1), PriorityClasses (scheduling.k8s.io/v1) and Leases
// (coordination.k8s.io/v1).
#include <string>

#include "src/server/admission/kinds.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"

namespace kite::admission {

void DefaultPodDisruptionBudget(Value&, Allocator&) {}

void ValidatePodDisruptionBudget(Causes& c, const Value& object, const Value*, std::string_view sub) {
  const Value* status = GetObject(&c, &object, "status", "status");
  for (const char* f : {"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"}) {
    CheckNonNegative(c, Child("status", f), GetInt32(&c, status, f, Child("status", f)));
  }
  if (sub == "status") return;
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  std::optional<IntOrString> min_available = GetIntOrString(&c, spec, "minAvailable", "spec.minAvailable");
  std::optional<IntOrString> max_unavailable = GetIntOrString(&c, spec, "maxUnavailable", "spec.maxUnavailable");
  if (min_available && max_unavailable) {
    c.InvalidRaw("spec", "policy.PodDisruptionBudgetSpec" + CompactJson(spec),
                 "minAvailable and maxUnavailable cannot be both set");
  }
  for (const auto& [v, path] : {std::pair{min_available, "spec.minAvailable"}, std::pair{max_unavailable, "spec.maxUnavailable"}}) {
    if (!v) continue;
    CheckPositiveIntOrPercent(c, *v, path);
    CheckNotMoreThan100Percent(c, *v, path);
  }
  CheckLabelSelector(c, GetObject(&c, spec, "selector", "spec.selector"), "spec.selector");
  if (std::optional<std::string_view> policy =
          GetString(&c, spec, "unhealthyPodEvictionPolicy", "spec.unhealthyPodEvictionPolicy")) {
    if (*policy != "AlwaysAllow" && *policy != "IfHealthyBudget") {
      c.NotSupported("spec.unhealthyPodEvictionPolicy", *policy, {"AlwaysAllow", "IfHealthyBudget"});
    }
  }
}

void DefaultPriorityClass(Value& object, Allocator& a) {
  DefaultString(object, "preemptionPolicy", "PreemptLowerPriority", a);
}

void ValidatePriorityClass(Causes& c, const Value& object, const Value* old, std::string_view) {
  const Value* md = Get(&object, "metadata");
  std::string_view name = md ? json::StringMember(*md, "name") : "";
  int64_t value = GetInt32(&c, &object, "value", "value").value_or(0);
  bool global_default = GetBool(&c, &object, "globalDefault", "globalDefault").value_or(false);
  if (name.substr(0, 7) == "system-") {
    std::string error;
    if (name == "system-cluster-critical" || name == "system-node-critical") {
      int64_t expected = name == "system-cluster-critical" ? 2000000000 : 2000001000;
      if (value != expected) {
        error = "value of " + std::string(name) + " PriorityClass must be " + std::to_string(expected);
      } else if (global_default) {
        error = "globalDefault of " + std::string(name) + " PriorityClass must be false";
      }
    } else {
      error = std::string(name) + " is not a known system priority class";
    }
    if (!error.empty()) {
      c.Forbidden("metadata.name",
                  "priority class names with 'system-' prefix are reserved for system use only. error: " + error);
    }
  } else if (value > 1000000000) {
    c.Forbidden("value", "maximum allowed value of a user defined priority is 1000000000");
  }
  if (std::optional<std::string_view> policy = GetString(&c, &object, "preemptionPolicy", "preemptionPolicy")) {
    if (policy->empty()) {
      c.Required("preemptionPolicy");
    } else if (*policy != "PreemptLowerPriority" && *policy != "Never") {
      c.NotSupported("preemptionPolicy", *policy, {"PreemptLowerPriority", "Never"});
    }
  }
  if (old == nullptr) return;
  if (GetInt(nullptr, old, "value", "").value_or(0) != value) c.Forbidden("value", "may not be changed in an update.");
  const Value* policy = Get(&object, "preemptionPolicy");
  if (!SemanticEqual(policy, Get(old, "preemptionPolicy"))) {
    c.InvalidRaw("preemptionPolicy", policy ? CompactJson(policy) : "null", kFieldImmutableErrorMsg);
  }
}

void DefaultLease(Value&, Allocator&) {}

void ValidateLease(Causes& c, const Value& object, const Value*, std::string_view) {
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  std::optional<int64_t> duration = GetInt32(&c, spec, "leaseDurationSeconds", "spec.leaseDurationSeconds");
  if (duration && *duration <= 0) c.InvalidInt("spec.leaseDurationSeconds", *duration, "must be greater than 0");
  std::optional<int64_t> transitions = GetInt32(&c, spec, "leaseTransitions", "spec.leaseTransitions");
  if (transitions && *transitions < 0) {
    c.InvalidInt("spec.leaseTransitions", *transitions, "must be greater than or equal to 0");
  }
}

}  // namespace kite::admission
