// HorizontalPodAutoscalers (autoscaling/v2 and autoscaling/v1): Kubernetes' defaults
// (pkg/apis/autoscaling/v2/defaults.go) and validation (pkg/apis/autoscaling/validation).
#include <algorithm>
#include <string>
#include <vector>

#include "src/server/admission/kinds.h"
#include "src/server/admission/quantity.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"
#include "src/server/validation/object_meta_validation.h"

namespace kite::admission {
namespace {

constexpr int64_t kMaxPeriodSeconds = 1800;
constexpr int64_t kMaxStabilizationWindowSeconds = 3600;
constexpr int64_t kDefaultCpuUtilization = 80;

Value Policy(std::string_view type, int64_t value, int64_t period, Allocator& a) {
  Value p(rapidjson::kObjectType);
  SetStringField(p, "type", type, a);
  p.AddMember("value", Value(value), a);
  p.AddMember("periodSeconds", Value(period), a);
  return p;
}

// GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: the rule's own fields over the
// defaults (scale up: 4 pods or 100% per 15 s, no stabilization; scale down: 100% per 15 s,
// stabilization left to the controller's --horizontal-pod-autoscaler-downscale-stabilization).
void DefaultScalingRules(Value& behavior, std::string_view name, bool up, Allocator& a) {
  Value* rules = DefaultObject(behavior, name, a);
  if (rules == nullptr) return;
  DefaultString(*rules, "selectPolicy", "Max", a);
  if (up) DefaultInt(*rules, "stabilizationWindowSeconds", 0, a);
  if (Get(rules, "policies") == nullptr) {
    Value policies(rapidjson::kArrayType);
    if (up) {
      policies.PushBack(Policy("Pods", 4, 15, a), a);
      policies.PushBack(Policy("Percent", 100, 15, a), a);
    } else {
      policies.PushBack(Policy("Percent", 100, 15, a), a);
    }
    json::SetMember(*rules, "policies", std::move(policies), a);
  }
}

void CheckCrossVersionObjectReference(Causes& c, const Value* ref, const std::string& path) {
  for (const char* field : {"kind", "name"}) {
    std::string child = Child(path, field);
    std::string_view value = GetString(&c, ref, field, child).value_or("");
    if (value.empty()) {
      c.Required(child);
      continue;
    }
    for (const std::string& msg : validation::ValidateName(value, validation::NameRule::kPathSegment)) {
      c.Invalid(child, value, msg);
    }
  }
}

// A resource.Quantity field: nullopt when absent; reports a malformed one.
std::optional<Quantity> GetQuantity(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  std::optional<std::string> text = QuantityText(*v);
  if (!text) {
    c.TypeInvalid(path, *v, "string");
    return std::nullopt;
  }
  Result<Quantity> q = Quantity::Parse(*text);
  if (!q.ok()) {
    c.Invalid(path, *text, q.status().message());
    return std::nullopt;
  }
  return *q;
}

void CheckMetricTarget(Causes& c, const Value* target, const std::string& path) {
  std::string_view type = GetString(&c, target, "type", Child(path, "type")).value_or("");
  if (type.empty()) c.Required(Child(path, "type"), "must specify a metric target type");
  if (type != "Utilization" && type != "Value" && type != "AverageValue") {
    c.Invalid(Child(path, "type"), type, "must be either Utilization, Value, or AverageValue");
  }
  for (const char* field : {"value", "averageValue"}) {
    std::optional<Quantity> q = GetQuantity(c, target, field, Child(path, field));
    if (q && q->Sign() != 1) c.InvalidRaw(Child(path, field), q->String(), "must be positive");
  }
  std::optional<int64_t> utilization = GetInt32(&c, target, "averageUtilization", Child(path, "averageUtilization"));
  if (utilization && *utilization < 1) c.InvalidInt(Child(path, "averageUtilization"), *utilization, "must be greater than 0");
}

// Resource and ContainerResource sources: a name and an average target.
void CheckResourceSource(Causes& c, const Value* source, const std::string& path, bool container) {
  std::string_view name = GetString(&c, source, "name", Child(path, "name")).value_or("");
  if (name.empty()) c.Required(Child(path, "name"), "must specify a resource name");
  if (container && GetString(&c, source, "container", Child(path, "container")).value_or("").empty()) {
    c.Required(Child(path, "container"), "must specify a container");
  }
  std::string target_path = Child(path, "target");
  const Value* target = GetObject(&c, source, "target", target_path);
  CheckMetricTarget(c, target, target_path);
  bool has_utilization = Get(target, "averageUtilization") != nullptr;
  bool has_average = Get(target, "averageValue") != nullptr;
  if (!has_utilization && !has_average) {
    c.Required(Child(target_path, "averageUtilization"), "must set either a target raw value or a target utilization");
  }
  if (has_utilization && has_average) {
    c.Forbidden(Child(target_path, "averageValue"), "may not set both a target raw value and a target utilization");
  }
}

// Pods, Object and External sources: a metric identifier and a target.
void CheckMetricSource(Causes& c, const Value* source, const std::string& path) {
  std::string metric_path = Child(path, "metric");
  const Value* metric = GetObject(&c, source, "metric", metric_path);
  if (GetString(&c, metric, "name", Child(metric_path, "name")).value_or("").empty()) {
    c.Required(Child(metric_path, "name"), "must specify a metric name");
  }
  if (const Value* selector = GetObject(&c, metric, "selector", Child(metric_path, "selector"))) {
    CheckLabelSelector(c, selector, Child(metric_path, "selector"));
  }
  CheckMetricTarget(c, GetObject(&c, source, "target", Child(path, "target")), Child(path, "target"));
}

void CheckMetricSpec(Causes& c, const Value* metric, const std::string& path) {
  static const std::vector<std::string> kTypes = {"ContainerResource", "External", "Object", "Pods", "Resource"};
  std::string_view type = GetString(&c, metric, "type", Child(path, "type")).value_or("");
  if (type.empty()) c.Required(Child(path, "type"), "must specify a metric source type");
  if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) c.NotSupported(Child(path, "type"), type, kTypes);
  // The member each type names ("Resource" -> "resource", ...), and which are present.
  struct Source {
    std::string_view type;
    const char* field;
  };
  static constexpr Source kSources[] = {{"Object", "object"},
                                        {"Pods", "pods"},
                                        {"Resource", "resource"},
                                        {"ContainerResource", "containerResource"},
                                        {"External", "external"}};
  const char* expected = nullptr;
  int present = 0;
  for (const Source& s : kSources) {
    if (s.type == type) expected = s.field;
    const Value* source = GetObject(&c, metric, s.field, Child(path, s.field));
    if (source == nullptr) continue;
    if (++present > 1) continue;  // only the first present source is checked, as Kubernetes
    std::string source_path = Child(path, s.field);
    if (s.type == "Resource" || s.type == "ContainerResource") {
      CheckResourceSource(c, source, source_path, s.type == "ContainerResource");
    } else {
      if (s.type == "Object") {
        CheckCrossVersionObjectReference(c, GetObject(&c, source, "describedObject", Child(source_path, "describedObject")),
                                         Child(source_path, "describedObject"));
      }
      CheckMetricSource(c, source, source_path);
    }
  }
  if (expected != nullptr && Get(metric, expected) == nullptr) {
    c.Required(Child(path, expected), "must populate information for the given metric source");
  }
  if (present > 1) {
    for (const Source& s : kSources) {
      if (s.field != expected && Get(metric, s.field) != nullptr) {
        c.Forbidden(Child(path, s.field), "must populate the given metric source only");
      }
    }
  }
}

void CheckScalingRules(Causes& c, const Value* rules, const std::string& path) {
  if (rules == nullptr) return;
  std::string window_path = Child(path, "stabilizationWindowSeconds");
  if (std::optional<int64_t> window = GetInt32(&c, rules, "stabilizationWindowSeconds", window_path)) {
    if (*window < 0) c.InvalidInt(window_path, *window, "must be greater than or equal to zero");
    if (*window > kMaxStabilizationWindowSeconds) {
      c.InvalidInt(window_path, *window, "must be less than or equal to " + std::to_string(kMaxStabilizationWindowSeconds));
    }
  }
  if (std::optional<std::string_view> select = GetString(&c, rules, "selectPolicy", Child(path, "selectPolicy"))) {
    if (*select != "Max" && *select != "Min" && *select != "Disabled") {
      c.NotSupported(Child(path, "selectPolicy"), *select, {"Disabled", "Max", "Min"});
    }
  }
  std::string policies_path = Child(path, "policies");
  const Value* policies = GetArray(&c, rules, "policies", policies_path);
  if (policies == nullptr || policies->Empty()) {
    c.Required(policies_path, "must specify at least one Policy");
    return;
  }
  for (rapidjson::SizeType i = 0; i < policies->Size(); ++i) {
    std::string p = Index(policies_path, i);
    const Value* policy = ElementObject(&c, (*policies)[i], p);
    if (policy == nullptr) continue;
    std::string_view type = GetString(&c, policy, "type", Child(p, "type")).value_or("");
    if (type != "Pods" && type != "Percent") c.NotSupported(Child(p, "type"), type, {"Percent", "Pods"});
    int64_t value = GetInt32(&c, policy, "value", Child(p, "value")).value_or(0);
    if (value <= 0) c.InvalidInt(Child(p, "value"), value, "must be greater than zero");
    int64_t period = GetInt32(&c, policy, "periodSeconds", Child(p, "periodSeconds")).value_or(0);
    if (period <= 0) c.InvalidInt(Child(p, "periodSeconds"), period, "must be greater than zero");
    if (period > kMaxPeriodSeconds) {
      c.InvalidInt(Child(p, "periodSeconds"), period, "must be less than or equal to " + std::to_string(kMaxPeriodSeconds));
    }
  }
}

// The checks both versions share: replica bounds and the target reference.
const Value* CheckCommonSpec(Causes& c, const Value& object) {
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  std::optional<int64_t> min = GetInt32(&c, spec, "minReplicas", "spec.minReplicas");
  int64_t max = GetInt32(&c, spec, "maxReplicas", "spec.maxReplicas").value_or(0);
  if (min && *min < 1) c.InvalidInt("spec.minReplicas", *min, "must be greater than or equal to 1");
  if (max < 1) c.InvalidInt("spec.maxReplicas", max, "must be greater than 0");
  if (min && max < *min) c.InvalidInt("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
  CheckCrossVersionObjectReference(c, GetObject(&c, spec, "scaleTargetRef", "spec.scaleTargetRef"),
                                   "spec.scaleTargetRef");
  return spec;
}

void CheckStatus(Causes& c, const Value& object) {
  const Value* status = GetObject(&c, &object, "status", "status");
  CheckNonNegative(c, "status.currentReplicas", GetInt32(&c, status, "currentReplicas", "status.currentReplicas"));
  CheckNonNegative(c, "status.desiredReplicas", GetInt32(&c, status, "desiredReplicas", "status.desiredReplicas"));
}

}  // namespace

void DefaultHorizontalPodAutoscaler(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultInt(*spec, "minReplicas", 1, a);
  const Value* metrics = Get(spec, "metrics");
  if (metrics == nullptr || (metrics->IsArray() && metrics->Empty())) {
    Value target(rapidjson::kObjectType);
    SetStringField(target, "type", "Utilization", a);
    target.AddMember("averageUtilization", Value(kDefaultCpuUtilization), a);
    Value resource(rapidjson::kObjectType);
    SetStringField(resource, "name", "cpu", a);
    resource.AddMember("target", std::move(target), a);
    Value metric(rapidjson::kObjectType);
    SetStringField(metric, "type", "Resource", a);
    metric.AddMember("resource", std::move(resource), a);
    Value list(rapidjson::kArrayType);
    list.PushBack(std::move(metric), a);
    json::SetMember(*spec, "metrics", std::move(list), a);
  }
  // Only a behavior that is given gets its rules filled in; without one the controller
  // keeps its classic limits.
  if (Value* behavior = MutableObject(*spec, "behavior")) {
    DefaultScalingRules(*behavior, "scaleUp", true, a);
    DefaultScalingRules(*behavior, "scaleDown", false, a);
  }
}

void ValidateHorizontalPodAutoscaler(Causes& c, const Value& object, const Value*, std::string_view sub) {
  if (sub == "status") {
    CheckStatus(c, object);
    return;
  }
  const Value* spec = CheckCommonSpec(c, object);
  if (const Value* metrics = GetArray(&c, spec, "metrics", "spec.metrics")) {
    for (rapidjson::SizeType i = 0; i < metrics->Size(); ++i) {
      std::string path = Index("spec.metrics", i);
      if (const Value* metric = ElementObject(&c, (*metrics)[i], path)) CheckMetricSpec(c, metric, path);
    }
  }
  if (const Value* behavior = GetObject(&c, spec, "behavior", "spec.behavior")) {
    CheckScalingRules(c, GetObject(&c, behavior, "scaleUp", "spec.behavior.scaleUp"), "spec.behavior.scaleUp");
    CheckScalingRules(c, GetObject(&c, behavior, "scaleDown", "spec.behavior.scaleDown"), "spec.behavior.scaleDown");
  }
}

void DefaultHorizontalPodAutoscalerV1(Value& object, Allocator& a) {
  if (Value* spec = DefaultObject(object, "spec", a)) DefaultInt(*spec, "minReplicas", 1, a);
}

void ValidateHorizontalPodAutoscalerV1(Causes& c, const Value& object, const Value*, std::string_view sub) {
  if (sub == "status") {
    CheckStatus(c, object);
    return;
  }
  const Value* spec = CheckCommonSpec(c, object);
  std::optional<int64_t> target =
      GetInt32(&c, spec, "targetCPUUtilizationPercentage", "spec.targetCPUUtilizationPercentage");
  if (target && *target < 1) c.InvalidInt("spec.targetCPUUtilizationPercentage", *target, "must be greater than 0");
}

}  // namespace kite::admission
