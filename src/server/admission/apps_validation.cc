// apps/v1 validation (pkg/apis/apps/validation) and the update rules of the apps registry
// strategies (selectors are immutable in apps/v1).
#include <initializer_list>
#include <string>

#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_validation.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {
namespace {

constexpr char kSelectorMismatch[] = "`selector` does not match template `labels`";

std::string_view Str(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

// Required when absent, label-selector rules, and the "empty selector" rule.
const Value* CheckSelector(Causes& c, const Value* spec, bool required, const char* kind_word) {
  const Value* selector = GetObject(&c, spec, "selector", "spec.selector");
  if (selector == nullptr) {
    if (required && Get(spec, "selector") == nullptr) c.Required("spec.selector");
    return nullptr;
  }
  CheckLabelSelector(c, selector, "spec.selector");
  if (SelectorIsEmpty(selector)) {
    c.InvalidRaw("spec.selector", GoLabelSelector(selector),
                 std::string("empty selector is invalid for ") + kind_word);
  }
  return selector;
}

// The selector (nil selects nothing) must select the template's labels.
void CheckTemplateLabelsMatch(Causes& c, const Value* selector, const Value* tmpl) {
  if (selector != nullptr && SelectorIsEmpty(selector)) return;  // selects everything
  const Value* labels = Get(Get(tmpl, "metadata"), "labels");
  if (!SelectorMatches(selector, labels)) {
    c.InvalidRaw("spec.template.metadata.labels", GoStringMap(labels), kSelectorMismatch);
  }
}

void CheckAlwaysRestart(Causes& c, const Value* tmpl, const char* kind) {
  const Value* pod_spec = Get(tmpl, "spec");
  std::string_view restart = pod_spec ? json::StringMember(*pod_spec, "restartPolicy") : "";
  if (restart != "Always") c.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
  if (Get(pod_spec, "activeDeadlineSeconds") != nullptr) {
    c.Forbidden("spec.template.spec.activeDeadlineSeconds",
                std::string("activeDeadlineSeconds in ") + kind + " is not Supported");
  }
}

// ValidatePodTemplateSpecForReplicaSet (Deployments and ReplicaSets).
void CheckReplicaSetTemplate(Causes& c, const Value* spec, const Value* selector) {
  const Value* selector_field = Get(spec, "selector");
  if (selector_field != nullptr && selector_field->IsObject() && !SelectorConvertible(selector_field)) {
    c.InvalidRaw("spec.selector", GoLabelSelector(selector_field), "invalid label selector");
    return;
  }
  const Value* tmpl = GetObject(&c, spec, "template", "spec.template");
  CheckTemplateLabelsMatch(c, selector, tmpl);
  ValidatePodTemplateSpec(c, tmpl, "spec.template");
  CheckAlwaysRestart(c, tmpl, "ReplicaSet");
}

void CheckSelectorImmutable(Causes& c, const Value& object, const Value& old) {
  const Value* selector = Get(Get(&object, "spec"), "selector");
  const Value* old_selector = Get(Get(&old, "spec"), "selector");
  if (!SemanticEqual(selector, old_selector)) {
    c.InvalidRaw("spec.selector", selector ? GoLabelSelector(selector) : "null", kFieldImmutableErrorMsg);
  }
}

void CheckNonNegativeFields(Causes& c, const Value* parent, const std::string& path,
                            std::initializer_list<const char*> fields) {
  for (const char* f : fields) CheckNonNegative(c, Child(path, f), GetInt(&c, parent, f, Child(path, f)));
}

int64_t Int(const Value* parent, const char* name) { return GetInt(nullptr, parent, name, "").value_or(0); }

// Counts in status that may not exceed status.replicas, and availableReplicas <= ready.
void CheckReplicaCounts(Causes& c, const Value* status, std::initializer_list<const char*> fields,
                        const char* ready_message) {
  int64_t replicas = Int(status, "replicas");
  for (const char* f : fields) {
    if (Int(status, f) > replicas) {
      c.InvalidInt(Child("status", f), Int(status, f), "cannot be greater than status.replicas");
    }
  }
  if (Int(status, "availableReplicas") > Int(status, "readyReplicas")) {
    c.InvalidInt("status.availableReplicas", Int(status, "availableReplicas"), ready_message);
  }
}

void CheckCollisionCount(Causes& c, const Value* status, const Value* old) {
  CheckNonNegative(c, "status.collisionCount", GetInt32(&c, status, "collisionCount", "status.collisionCount"));
  if (old == nullptr) return;
  std::optional<int64_t> now = GetInt(nullptr, status, "collisionCount", "");
  std::optional<int64_t> before = GetInt(nullptr, Get(old, "status"), "collisionCount", "");
  if (before && (!now || *now < *before)) {
    c.InvalidInt("status.collisionCount", now.value_or(0), "cannot be decremented");
  }
}

std::string GoStrategy(const char* type_name, const char* rolling_type, const Value* strategy) {
  const Value* rolling = Get(strategy, "rollingUpdate");
  return std::string(type_name) + "{Type:" +
         selection::GoQuote(GetString(nullptr, strategy, "type", "").value_or("")) + ", RollingUpdate:" +
         (rolling == nullptr ? std::string("(*") + rolling_type + ")(nil)" : "&" + std::string(rolling_type) + "{...}") +
         "}";
}

}  // namespace

// Deployment --------------------------------------------------------------------------

void ValidateDeployment(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    CheckNonNegativeFields(c, status, "status", {"observedGeneration", "replicas", "updatedReplicas",
                                                 "readyReplicas", "availableReplicas", "unavailableReplicas"});
    CheckCollisionCount(c, status, old);
    CheckReplicaCounts(c, status, {"updatedReplicas", "readyReplicas", "availableReplicas"},
                       "cannot be greater than readyReplicas");
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckNonNegative(c, "spec.replicas", GetInt32(&c, spec, "replicas", "spec.replicas"));
  const Value* selector = CheckSelector(c, spec, true, "deployment");
  CheckReplicaSetTemplate(c, spec, selector);

  const Value* strategy = GetObject(&c, spec, "strategy", "spec.strategy");
  std::string_view type = Str(c, strategy, "type", "spec.strategy.type");
  const Value* rolling = GetObject(&c, strategy, "rollingUpdate", "spec.strategy.rollingUpdate");
  if (type == "Recreate") {
    if (rolling != nullptr) {
      c.Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
    }
  } else if (type == "RollingUpdate") {
    if (rolling == nullptr) {
      c.Required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil");
    } else {
      const std::string p = "spec.strategy.rollingUpdate";
      IntOrString max_unavailable =
          GetIntOrString(&c, rolling, "maxUnavailable", Child(p, "maxUnavailable")).value_or(IntOrString{});
      IntOrString max_surge = GetIntOrString(&c, rolling, "maxSurge", Child(p, "maxSurge")).value_or(IntOrString{});
      CheckPositiveIntOrPercent(c, max_unavailable, Child(p, "maxUnavailable"));
      CheckPositiveIntOrPercent(c, max_surge, Child(p, "maxSurge"));
      if (IntOrPercentValue(max_unavailable) == 0 && IntOrPercentValue(max_surge) == 0) {
        c.InvalidRaw(Child(p, "maxUnavailable"), GoIntOrString(max_unavailable), "may not be 0 when `maxSurge` is 0");
      }
      CheckNotMoreThan100Percent(c, max_unavailable, Child(p, "maxUnavailable"));
    }
  } else {
    c.NotSupportedRaw("spec.strategy",
                      GoStrategy("apps.DeploymentStrategy", "apps.RollingUpdateDeployment", strategy),
                      {"Recreate", "RollingUpdate"});
  }
  std::optional<int64_t> min_ready = GetInt32(&c, spec, "minReadySeconds", "spec.minReadySeconds");
  CheckNonNegative(c, "spec.minReadySeconds", min_ready);
  CheckNonNegative(c, "spec.revisionHistoryLimit", GetInt32(&c, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit"));
  if (std::optional<int64_t> deadline = GetInt32(&c, spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds")) {
    CheckNonNegative(c, "spec.progressDeadlineSeconds", deadline);
    if (*deadline <= min_ready.value_or(0)) {
      c.InvalidInt("spec.progressDeadlineSeconds", *deadline, "must be greater than minReadySeconds");
    }
  }
  if (old != nullptr) CheckSelectorImmutable(c, object, *old);
}

// ReplicaSet --------------------------------------------------------------------------

void ValidateReplicaSet(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    CheckNonNegativeFields(c, status, "status", {"replicas", "fullyLabeledReplicas", "readyReplicas",
                                                 "availableReplicas", "observedGeneration"});
    CheckReplicaCounts(c, status, {"fullyLabeledReplicas", "readyReplicas", "availableReplicas"},
                       "cannot be greater than readyReplicas");
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckNonNegative(c, "spec.replicas", GetInt32(&c, spec, "replicas", "spec.replicas"));
  CheckNonNegative(c, "spec.minReadySeconds", GetInt32(&c, spec, "minReadySeconds", "spec.minReadySeconds"));
  // Kubernetes' ReplicaSet message says "deployment" too.
  const Value* selector = CheckSelector(c, spec, true, "deployment");
  CheckReplicaSetTemplate(c, spec, selector);
  if (old != nullptr) CheckSelectorImmutable(c, object, *old);
}

// StatefulSet -------------------------------------------------------------------------

void ValidateStatefulSet(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    CheckNonNegativeFields(c, status, "status", {"replicas", "readyReplicas", "currentReplicas",
                                                 "updatedReplicas", "availableReplicas", "observedGeneration"});
    CheckCollisionCount(c, status, old);
    CheckReplicaCounts(c, status, {"readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"},
                       "cannot be greater than status.readyReplicas");
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  std::string_view policy = Str(c, spec, "podManagementPolicy", "spec.podManagementPolicy");
  if (policy.empty()) {
    c.Required("spec.podManagementPolicy");
  } else if (policy != "OrderedReady" && policy != "Parallel") {
    c.Invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'");
  }
  const Value* strategy = GetObject(&c, spec, "updateStrategy", "spec.updateStrategy");
  std::string_view type = Str(c, strategy, "type", "spec.updateStrategy.type");
  const std::string rp = "spec.updateStrategy.rollingUpdate";
  const Value* rolling = GetObject(&c, strategy, "rollingUpdate", rp);
  if (type.empty()) {
    c.Required("spec.updateStrategy");
  } else if (type == "OnDelete") {
    if (rolling != nullptr) c.InvalidRaw(rp, CompactJson(rolling), "only allowed for updateStrategy 'RollingUpdate'");
  } else if (type == "RollingUpdate") {
    if (rolling != nullptr) {
      CheckNonNegative(c, Child(rp, "partition"), GetInt32(&c, rolling, "partition", Child(rp, "partition")));
      if (std::optional<IntOrString> mu = GetIntOrString(&c, rolling, "maxUnavailable", Child(rp, "maxUnavailable"))) {
        CheckPositiveIntOrPercent(c, *mu, Child(rp, "maxUnavailable"));
        if (IntOrPercentValue(*mu) == 0) c.InvalidRaw(Child(rp, "maxUnavailable"), GoIntOrString(*mu), "cannot be 0");
        CheckNotMoreThan100Percent(c, *mu, Child(rp, "maxUnavailable"));
      }
    }
  } else {
    c.InvalidRaw("spec.updateStrategy",
                 GoStrategy("apps.StatefulSetUpdateStrategy", "apps.RollingUpdateStatefulSetStrategy", strategy),
                 "must be 'RollingUpdate' or 'OnDelete'");
  }
  const std::string retention_path = "spec.persistentVolumeClaimRetentionPolicy";
  if (const Value* retention = GetObject(&c, spec, "persistentVolumeClaimRetentionPolicy", retention_path)) {
    for (const char* f : {"whenDeleted", "whenScaled"}) {
      std::string_view v = Str(c, retention, f, Child(retention_path, f));
      if (v != "Retain" && v != "Delete") c.NotSupported(Child(retention_path, f), v, {"Retain", "Delete"});
    }
  }
  CheckNonNegative(c, "spec.replicas", GetInt32(&c, spec, "replicas", "spec.replicas"));
  CheckNonNegative(c, "spec.minReadySeconds", GetInt32(&c, spec, "minReadySeconds", "spec.minReadySeconds"));
  if (const Value* ordinals = GetObject(&c, spec, "ordinals", "spec.ordinals")) {
    CheckNonNegative(c, "spec.ordinals.start", GetInt32(&c, ordinals, "start", "spec.ordinals.start"));
  }
  const Value* selector = CheckSelector(c, spec, true, "statefulset");
  const Value* selector_field = Get(spec, "selector");
  const Value* tmpl = GetObject(&c, spec, "template", "spec.template");
  if (selector_field != nullptr && selector_field->IsObject() && !SelectorConvertible(selector_field)) {
    c.InvalidRaw("spec.selector", GoLabelSelector(selector_field), "");
  } else {
    // Kubernetes checks only the template's labels and annotations here, not its pod spec.
    CheckTemplateLabelsMatch(c, selector, tmpl);
    const Value* md = GetObject(&c, tmpl, "metadata", "spec.template.metadata");
    CheckLabels(c, md, "labels", "spec.template.labels");
    CheckAnnotations(c, md, "annotations", "spec.template.annotations");
  }
  const Value* pod_spec = Get(tmpl, "spec");
  std::string_view restart = pod_spec ? json::StringMember(*pod_spec, "restartPolicy") : "";
  if (restart != "Always") c.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
  if (Get(pod_spec, "activeDeadlineSeconds") != nullptr) {
    c.Forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is not Supported");
  }
  if (old != nullptr) {
    const Value* old_spec = Get(old, "spec");
    bool same = true;
    std::vector<std::string_view> names;
    for (const Value* s : {spec, old_spec}) {
      if (s == nullptr || !s->IsObject()) continue;
      for (const auto& m : s->GetObject()) names.emplace_back(m.name.GetString(), m.name.GetStringLength());
    }
    for (std::string_view n : names) {
      if (n == "replicas" || n == "ordinals" || n == "template" || n == "updateStrategy" ||
          n == "persistentVolumeClaimRetentionPolicy" || n == "minReadySeconds") {
        continue;
      }
      same &= SemanticEqual(Get(spec, n), Get(old_spec, n));
    }
    if (!same) {
      c.Forbidden("spec",
                  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                  "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
    }
  }
}

// DaemonSet ---------------------------------------------------------------------------

void ValidateDaemonSet(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    CheckNonNegativeFields(c, status, "status",
                           {"currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
                            "numberReady", "observedGeneration", "updatedNumberScheduled", "numberAvailable",
                            "numberUnavailable"});
    CheckCollisionCount(c, status, old);
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  const Value* selector = GetObject(&c, spec, "selector", "spec.selector");
  CheckLabelSelector(c, selector, "spec.selector");
  const Value* tmpl = GetObject(&c, spec, "template", "spec.template");
  if (selector == nullptr || SelectorConvertible(selector)) CheckTemplateLabelsMatch(c, selector, tmpl);
  if (selector != nullptr && SelectorIsEmpty(selector)) {
    c.InvalidRaw("spec.selector", GoLabelSelector(selector), "empty selector is invalid for daemonset");
  }
  ValidatePodTemplateSpec(c, tmpl, "spec.template");
  CheckAlwaysRestart(c, tmpl, "DaemonSet");
  CheckNonNegative(c, "spec.minReadySeconds", GetInt32(&c, spec, "minReadySeconds", "spec.minReadySeconds"));
  const std::string sp = "spec.updateStrategy";
  const Value* strategy = GetObject(&c, spec, "updateStrategy", sp);
  std::string_view type = Str(c, strategy, "type", Child(sp, "type"));
  if (type == "RollingUpdate") {
    const std::string rp = Child(sp, "rollingUpdate");
    const Value* rolling = GetObject(&c, strategy, "rollingUpdate", rp);
    if (rolling == nullptr) {
      c.Required(rp);
    } else {
      IntOrString mu = GetIntOrString(&c, rolling, "maxUnavailable", Child(rp, "maxUnavailable")).value_or(IntOrString{});
      IntOrString ms = GetIntOrString(&c, rolling, "maxSurge", Child(rp, "maxSurge")).value_or(IntOrString{});
      CheckPositiveIntOrPercent(c, mu, Child(rp, "maxUnavailable"));
      CheckPositiveIntOrPercent(c, ms, Child(rp, "maxSurge"));
      CheckNotMoreThan100Percent(c, mu, Child(rp, "maxUnavailable"));
      CheckNotMoreThan100Percent(c, ms, Child(rp, "maxSurge"));
      bool has_unavailable = IntOrPercentValue(mu) != 0, has_surge = IntOrPercentValue(ms) != 0;
      if (has_unavailable && has_surge) {
        c.InvalidRaw(Child(rp, "maxSurge"), GoIntOrString(ms), "may not be set when maxUnavailable is non-zero");
      } else if (!has_unavailable && !has_surge) {
        c.Required(Child(rp, "maxUnavailable"), "cannot be 0 when maxSurge is 0");
      }
    }
  } else if (type != "OnDelete") {
    c.NotSupportedRaw(sp, GoStrategy("apps.DaemonSetUpdateStrategy", "apps.RollingUpdateDaemonSet", strategy),
                      {"RollingUpdate", "OnDelete"});
  }
  CheckNonNegative(c, "spec.revisionHistoryLimit", GetInt32(&c, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit"));
  if (old != nullptr) CheckSelectorImmutable(c, object, *old);
}

}  // namespace kite::admission
