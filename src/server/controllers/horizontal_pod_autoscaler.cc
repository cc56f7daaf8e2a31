#include "src/server/controllers/horizontal_pod_autoscaler.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "src/server/admission/quantity.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_selector.h"

namespace kite::controllers {

using rapidjson::Document;
using rapidjson::Value;

namespace {

constexpr std::string_view kAbleToScale = "AbleToScale";
constexpr std::string_view kScalingActive = "ScalingActive";
constexpr std::string_view kScalingLimited = "ScalingLimited";
// Without spec.behavior one sync scales up to at most max(2 x current, 4) replicas.
constexpr double kScaleUpLimitFactor = 2.0;
constexpr double kScaleUpLimitMinimum = 4.0;

const client::ResourceRef kReplicationControllers{"", "v1", "replicationcontrollers", true};

std::optional<int64_t> IntAt(const Value* object, std::string_view name) {
  const Value* v = object && object->IsObject() ? json::Member(*object, name) : nullptr;
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::string_view StrAt(const Value* object, std::string_view name) {
  return object && object->IsObject() ? json::StringMember(*object, name) : std::string_view();
}

const Value* ObjAt(const Value* object, std::string_view name) {
  const Value* v = object && object->IsObject() ? json::Member(*object, name) : nullptr;
  return v && v->IsObject() ? v : nullptr;
}

int32_t ClampInt32(int64_t v) { return static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX)); }

// A milli-unit count as Kubernetes' NewMilliQuantity(v, DecimalSI) prints it: "450m", "2",
// "1263616".
std::string MilliQuantity(int64_t milli) {
  Result<admission::Quantity> q = admission::Quantity::Parse(std::to_string(milli) + "m");
  return q.ok() ? q->String() : std::to_string(milli) + "m";
}

// One entry of spec.metrics, as far as this controller reads it.
struct MetricSpec {
  std::string type;  // Resource, ContainerResource, Pods, Object, External
  std::string name;  // the resource's or the metric's name
  std::string target_type;
  std::optional<int32_t> average_utilization;
  std::optional<admission::Quantity> average_value;
};

std::vector<MetricSpec> MetricSpecsOf(const Value* spec) {
  std::vector<MetricSpec> out;
  const Value* metrics = spec && spec->IsObject() ? json::Member(*spec, "metrics") : nullptr;
  if (metrics != nullptr && metrics->IsArray() && !metrics->Empty()) {
    for (const Value& m : metrics->GetArray()) {
      MetricSpec ms;
      ms.type = std::string(StrAt(&m, "type"));
      const char* field = ms.type == "Resource"            ? "resource"
                          : ms.type == "ContainerResource" ? "containerResource"
                          : ms.type == "Pods"              ? "pods"
                          : ms.type == "Object"            ? "object"
                          : ms.type == "External"          ? "external"
                                                           : "";
      const Value* source = ObjAt(&m, field);
      bool resource = ms.type == "Resource" || ms.type == "ContainerResource";
      ms.name = std::string(resource ? StrAt(source, "name") : StrAt(ObjAt(source, "metric"), "name"));
      const Value* target = ObjAt(source, "target");
      ms.target_type = std::string(StrAt(target, "type"));
      if (std::optional<int64_t> u = IntAt(target, "averageUtilization")) ms.average_utilization = ClampInt32(*u);
      if (const Value* v = target ? json::Member(*target, "averageValue") : nullptr) {
        std::string text = v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                           : v->IsInt64() ? std::to_string(v->GetInt64())
                                          : std::string();
        if (Result<admission::Quantity> q = admission::Quantity::Parse(text); q.ok()) ms.average_value = *q;
      }
      out.push_back(std::move(ms));
    }
    return out;
  }
  // autoscaling/v1 objects, and v2 ones that were not defaulted: one cpu utilization target,
  // 80% unless targetCPUUtilizationPercentage says otherwise.
  MetricSpec cpu;
  cpu.type = "Resource";
  cpu.name = "cpu";
  cpu.target_type = "Utilization";
  cpu.average_utilization = ClampInt32(IntAt(spec, "targetCPUUtilizationPercentage").value_or(80));
  out.push_back(std::move(cpu));
  return out;
}

struct ScalingPolicy {
  bool pods = false;  // Pods; otherwise Percent
  int32_t value = 0;
  int64_t period_s = 0;
};
struct ScalingRules {
  int64_t window_s = 0;
  std::string select = "Max";
  std::vector<ScalingPolicy> policies;
};
struct Behavior {
  ScalingRules up, down;
};

// A rule set with the API's defaults filled in (and the controller's default scale-down
// window): scale up by 4 pods or 100% per 15 s, down by 100% per 15 s.
ScalingRules RulesOf(const Value* rules, bool up, int64_t default_down_window_s) {
  ScalingRules r;
  r.window_s = up ? 0 : default_down_window_s;
  if (up) {
    r.policies = {{true, 4, 15}, {false, 100, 15}};
  } else {
    r.policies = {{false, 100, 15}};
  }
  if (rules == nullptr) return r;
  if (std::optional<int64_t> window = IntAt(rules, "stabilizationWindowSeconds")) r.window_s = *window;
  if (std::string_view select = StrAt(rules, "selectPolicy"); !select.empty()) r.select = std::string(select);
  if (const Value* policies = json::Member(*rules, "policies"); policies && policies->IsArray()) {
    r.policies.clear();
    for (const Value& p : policies->GetArray()) {
      r.policies.push_back({StrAt(&p, "type") == "Pods", ClampInt32(IntAt(&p, "value").value_or(0)),
                            IntAt(&p, "periodSeconds").value_or(0)});
    }
  }
  return r;
}

struct Condition {
  std::string type, status, reason, message, last_transition;
};

std::vector<Condition> ConditionsOf(const Value* status) {
  std::vector<Condition> out;
  const Value* list = status && status->IsObject() ? json::Member(*status, "conditions") : nullptr;
  if (list == nullptr || !list->IsArray()) return out;
  for (const Value& c : list->GetArray()) {
    out.push_back({std::string(StrAt(&c, "type")), std::string(StrAt(&c, "status")), std::string(StrAt(&c, "reason")),
                   std::string(StrAt(&c, "message")), std::string(StrAt(&c, "lastTransitionTime"))});
  }
  return out;
}

}  // namespace

struct HorizontalPodAutoscalerController::Sync {
  std::string key;
  std::string ns;
  std::string name;
  Document hpa;  // a copy of the cached object; its status is rewritten at the end
  int64_t now = 0;
  History history;
  // The status being built, starting from the stored one.
  std::vector<Condition> conditions;
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  std::string last_scale_time;
  Document current_metrics;  // an array, or null when absent
  // The target's pods and their usage, fetched once per sync.
  std::string selector;
  std::vector<client::ObjectPtr> pods;
  std::optional<Result<std::vector<PodUsage>>> usage;
  int32_t spec_replicas = 0;

  void SetCondition(std::string_view type, std::string_view status, std::string_view reason, std::string message) {
    auto it = std::find_if(conditions.begin(), conditions.end(), [&](const Condition& c) { return c.type == type; });
    if (it == conditions.end()) {
      conditions.push_back({std::string(type), "", "", "", ""});
      it = conditions.end() - 1;
    }
    if (it->status != status) it->last_transition = FormatRfc3339Seconds(now);
    it->status = std::string(status);
    it->reason = std::string(reason);
    it->message = std::move(message);
  }
};

HorizontalPodAutoscalerController::HorizontalPodAutoscalerController(Options options)
    : options_(std::move(options)), calculator_(options_.calculator), metrics_(options_.metrics) {}

HorizontalPodAutoscalerController::~HorizontalPodAutoscalerController() = default;

void HorizontalPodAutoscalerController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  hpas_ = &informers.For(kHorizontalPodAutoscalers);
  pods_ = &informers.For(client::kPods);
  hpa_client_.emplace(informers.ClientFor(kHorizontalPodAutoscalers));
  hpa_v1_client_.emplace(informers.ClientFor({"autoscaling", "v1", "horizontalpodautoscalers", true}));
  scale_clients_.emplace("apps/Deployment", informers.ClientFor(client::kDeployments));
  scale_clients_.emplace("apps/StatefulSet", informers.ClientFor(client::kStatefulSets));
  scale_clients_.emplace("apps/ReplicaSet", informers.ClientFor(client::kReplicaSets));
  scale_clients_.emplace("/ReplicationController", informers.ClientFor(kReplicationControllers));
  if (metrics_ == nullptr) {
    owned_metrics_ = std::make_unique<MetricsApiPodMetricsLister>(informers.ClientFor(kPodMetrics));
    metrics_ = owned_metrics_.get();
  }
  hpas_->AddHandlers({
      .on_add = [this](const client::ObjectPtr& hpa) { queue_->Add(client::ObjectKey(*hpa)); },
      // Our own status writes come back as updates: only a changed spec is looked at early;
      // everything else waits for the resync.
      .on_update =
          [this](const client::ObjectPtr& old_hpa, const client::ObjectPtr& hpa) {
            const Value* old_spec = json::Member(*old_hpa, "spec");
            const Value* spec = json::Member(*hpa, "spec");
            bool same = old_spec && spec ? *old_spec == *spec : old_spec == spec;
            if (!same) queue_->Add(client::ObjectKey(*hpa));
          },
      .on_delete = [this](const client::ObjectPtr& hpa) { queue_->Add(client::ObjectKey(*hpa)); },
  });
}

const client::ResourceClient* HorizontalPodAutoscalerController::ScaleClientFor(std::string_view api_version,
                                                                                std::string_view kind) const {
  size_t slash = api_version.find('/');
  std::string group(slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash));
  auto it = scale_clients_.find(group + "/" + std::string(kind));
  return it == scale_clients_.end() ? nullptr : &it->second;
}

void HorizontalPodAutoscalerController::RecordEvent(const Sync& sync, client::EventType type, std::string_view reason,
                                                    const std::string& message) const {
  client::ObjectReference ref;
  ref.kind = "HorizontalPodAutoscaler";
  ref.api_version = "autoscaling/v2";
  ref.ns = sync.ns;
  ref.name = sync.name;
  ref.uid = std::string(UidOf(sync.hpa));
  const Value* md = json::Member(sync.hpa, "metadata");
  ref.resource_version = std::string(StrAt(md, "resourceVersion"));
  options_.recorder.Event(std::move(ref), type, reason, message);
}

Status HorizontalPodAutoscalerController::Reconcile(const std::string& key) {
  client::ObjectPtr cached = hpas_->Get(key);
  if (!cached) {
    MutexLock lock(mu_);
    history_.erase(key);
    return Status();
  }
  Sync sync;
  sync.key = key;
  sync.ns = std::string(NamespaceOf(*cached));
  sync.name = std::string(NameOf(*cached));
  sync.now = options_.clock->NowMillis();
  sync.hpa.CopyFrom(*cached, sync.hpa.GetAllocator());
  const Value* status = json::Member(sync.hpa, "status");
  sync.conditions = ConditionsOf(status);
  sync.current_replicas = ClampInt32(IntAt(status, "currentReplicas").value_or(0));
  sync.desired_replicas = ClampInt32(IntAt(status, "desiredReplicas").value_or(0));
  sync.last_scale_time = std::string(StrAt(status, "lastScaleTime"));
  if (const Value* metrics = status && status->IsObject() ? json::Member(*status, "currentMetrics") : nullptr;
      metrics && metrics->IsArray()) {
    sync.current_metrics.CopyFrom(*metrics, sync.current_metrics.GetAllocator());
  }
  {
    MutexLock lock(mu_);
    sync.history = history_[key];
  }
  Status result = SyncHpa(sync);
  {
    MutexLock lock(mu_);
    history_[key] = std::move(sync.history);
  }
  // Every HPA is looked at again after the resync period, whatever happened (as Kubernetes'
  // fixed-interval queue); a failed write is also retried sooner through the error.
  queue_->AddAfter(key, options_.resync_period);
  return result;
}

Status HorizontalPodAutoscalerController::SyncHpa(Sync& s) {
  const Value* spec = ObjAt(&s.hpa, "spec");
  const Value* ref = ObjAt(spec, "scaleTargetRef");
  std::string api_version(StrAt(ref, "apiVersion"));
  std::string kind(StrAt(ref, "kind"));
  std::string target(StrAt(ref, "name"));

  auto failed_get_scale = [&](const std::string& error) {
    RecordEvent(s, client::EventType::kWarning, "FailedGetScale", error);
    s.SetCondition(kAbleToScale, "False", "FailedGetScale",
                   "the HPA controller was unable to get the target's current scale: " + error);
    return WriteStatus(s);
  };
  const client::ResourceClient* scales = ScaleClientFor(api_version, kind);
  if (scales == nullptr) {
    size_t slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    return failed_get_scale("no matches for kind \"" + kind + "\" in group \"" + group + "\"");
  }
  Result<Document> scale = scales->GetSubresource(s.ns, target, "scale");
  if (!scale.ok()) return failed_get_scale(scale.status().message());
  s.SetCondition(kAbleToScale, "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale");

  const Value* scale_spec = ObjAt(&*scale, "spec");
  const int32_t current = ClampInt32(IntAt(scale_spec, "replicas").value_or(0));
  s.spec_replicas = current;
  if (s.history.recommendations.empty()) s.history.recommendations.push_back({current, s.now});
  const int32_t min_replicas = ClampInt32(IntAt(spec, "minReplicas").value_or(1));
  const int32_t max_replicas = ClampInt32(IntAt(spec, "maxReplicas").value_or(0));

  int32_t desired = 0;
  std::string reason;
  bool rescale = true;
  if (current == 0 && min_replicas != 0) {
    // Someone scaled the target to zero by hand: autoscaling pauses.
    rescale = false;
    s.SetCondition(kScalingActive, "False", "ScalingDisabled",
                   "scaling is disabled since the replica count of the target is zero");
  } else if (current > max_replicas) {
    reason = "Current number of replicas above Spec.MaxReplicas";
    desired = max_replicas;
  } else if (current < min_replicas) {
    reason = "Current number of replicas below Spec.MinReplicas";
    desired = min_replicas;
  } else {
    s.selector = std::string(StrAt(ObjAt(&*scale, "status"), "selector"));
    std::string metric_name;
    std::string error;
    int32_t proposal = ComputeMetrics(s, spec, &metric_name, &error);
    if (proposal < 0) {
      s.current_replicas = current;
      Status written = WriteStatus(s);
      RecordEvent(s, client::EventType::kWarning, "FailedComputeMetricsReplicas", error);
      return written;
    }
    desired = proposal;
    if (desired > current) reason = metric_name + " above target";
    if (desired < current) reason = "All metrics below target";
    const Value* behavior = ObjAt(spec, "behavior");
    desired = behavior ? NormalizeWithBehavior(s, *behavior, current, desired, min_replicas, max_replicas)
                       : Normalize(s, current, desired, min_replicas, max_replicas);
    rescale = desired != current;
  }

  if (rescale) {
    Value& scale_spec_mut = json::EnsureObjectMember(*scale, "spec", scale->GetAllocator());
    json::SetMember(scale_spec_mut, "replicas", Value(desired), scale->GetAllocator());
    Result<Document> written = scales->UpdateSubresource(s.ns, target, "scale", *scale);
    if (!written.ok()) {
      RecordEvent(s, client::EventType::kWarning, "FailedRescale",
                  "New size: " + std::to_string(desired) + "; reason: " + reason +
                      "; error: " + written.status().message());
      s.SetCondition(kAbleToScale, "False", "FailedUpdateScale",
                     "the HPA controller was unable to update the target scale: " + written.status().message());
      s.current_replicas = current;
      Status status_written = WriteStatus(s);
      return status_written.ok() ? written.status() : status_written;
    }
    s.SetCondition(kAbleToScale, "True", "SucceededRescale",
                   "the HPA controller was able to update the target scale to " + std::to_string(desired));
    RecordEvent(s, client::EventType::kNormal, "SuccessfulRescale",
                "New size: " + std::to_string(desired) + "; reason: " + reason);
    StoreScaleEvent(s, ObjAt(spec, "behavior"), current, desired);
    s.last_scale_time = FormatRfc3339Seconds(s.now);
  } else {
    desired = current;
  }
  s.current_replicas = current;
  s.desired_replicas = desired;
  return WriteStatus(s);
}

int32_t HorizontalPodAutoscalerController::ComputeMetrics(Sync& s, const Value* spec, std::string* metric_name,
                                                          std::string* error) {
  if (s.selector.empty()) {
    *error = "selector is required";
    RecordEvent(s, client::EventType::kWarning, "SelectorRequired", *error);
    s.SetCondition(kScalingActive, "False", "InvalidSelector", "the HPA target's scale is missing a selector");
    s.current_metrics.SetNull();
    return -1;
  }
  Result<selection::LabelSelector> selector = selection::LabelSelector::Parse(s.selector);
  if (!selector.ok()) {
    *error = "couldn't convert selector into a corresponding internal selector object: " + selector.status().message();
    RecordEvent(s, client::EventType::kWarning, "InvalidSelector", *error);
    s.SetCondition(kScalingActive, "False", "InvalidSelector", *error);
    s.current_metrics.SetNull();
    return -1;
  }
  const std::string selector_text = selector->ToString();
  for (const client::ObjectPtr& pod : pods_->List(s.ns)) {
    if (selector->Matches(LabelsOf(*pod))) s.pods.push_back(pod);
  }

  // The pods' metric of `resource`, from one lister call per sync.
  auto resource_metrics = [&](const std::string& resource) -> Result<PodMetricsInfo> {
    if (!s.usage) s.usage = metrics_->List(s.ns, selector_text);
    const std::string prefix = "unable to get metrics for resource " + resource + ": ";
    if (!s.usage->ok()) {
      return Status(StatusCode::kUnavailable,
                    prefix + "unable to fetch metrics from resource metrics API: " + s.usage->status().message());
    }
    if ((*s.usage)->empty()) return Status(StatusCode::kUnavailable, prefix + "no metrics returned from resource metrics API");
    return ResourceMetrics(**s.usage, resource);
  };

  const std::vector<MetricSpec> specs = MetricSpecsOf(spec);
  Document statuses(rapidjson::kArrayType);
  auto& a = statuses.GetAllocator();
  int32_t replicas = 0;
  size_t invalid = 0;
  std::string first_error;
  Condition first_condition;
  for (const MetricSpec& ms : specs) {
    std::string reason;   // the condition reason when the metric fails
    std::string wrap;     // how the reconcile error names the metric
    std::string failure;  // why it failed ("" = it did not)
    int32_t proposal = 0;
    std::string name;
    Value current(rapidjson::kObjectType);
    if (ms.type == "Resource") {
      reason = "FailedGetResourceMetric";
      wrap = "failed to get " + ms.name + " resource metric value: ";
      if (ms.average_value) {
        Result<PodMetricsInfo> m = resource_metrics(ms.name);
        Result<ReplicaCalculator::AverageValueResult> r =
            m.ok() ? calculator_.RawResourceReplicas(s.spec_replicas, ms.average_value->MilliValue(), ms.name,
                                                     std::move(m).value(), s.pods, s.now)
                   : Result<ReplicaCalculator::AverageValueResult>(m.status());
        if (!r.ok()) {
          failure = "failed to get " + ms.name + " usage: " + r.status().message();
        } else {
          proposal = r->replicas;
          name = ms.name + " resource";
          json::SetStringMember(current, "averageValue", MilliQuantity(r->average), a);
        }
      } else if (!ms.average_utilization) {
        failure = "invalid resource metric source: neither an average utilization target nor an average value "
                  "(usage) target was set";
      } else {
        Result<PodMetricsInfo> m = resource_metrics(ms.name);
        Result<ReplicaCalculator::UtilizationResult> r =
            m.ok() ? calculator_.ResourceReplicas(s.spec_replicas, *ms.average_utilization, ms.name,
                                                  std::move(m).value(), s.pods, s.now)
                   : Result<ReplicaCalculator::UtilizationResult>(m.status());
        if (!r.ok()) {
          failure = "failed to get " + ms.name + " utilization: " + r.status().message();
        } else {
          proposal = r->replicas;
          name = ms.name + " resource utilization (percentage of request)";
          current.AddMember("averageUtilization", Value(r->utilization), a);
          json::SetStringMember(current, "averageValue", MilliQuantity(r->raw_average), a);
        }
      }
    } else if (ms.type == "ContainerResource") {
      reason = "FailedGetContainerResourceMetric";
      wrap = "failed to get " + ms.name + " container resource metric value: ";
      failure = "failed to get " + ms.name + " container resource utilization: per-container metrics are not available";
    } else if (ms.type == "Pods" || ms.type == "Object") {
      reason = ms.type == "Pods" ? "FailedGetPodsMetric" : "FailedGetObjectMetric";
      wrap = ms.type == "Pods" ? "failed to get pods metric value: " : "failed to get object metric value: ";
      failure = "unable to get metric " + ms.name +
                ": unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) "
                "registered";
    } else if (ms.type == "External") {
      reason = "FailedGetExternalMetric";
      wrap = "failed to get external metric value: ";
      failure = "unable to get external metric " + s.ns + "/" + ms.name +
                ": unable to fetch metrics from external metrics API: no external metrics API "
                "(external.metrics.k8s.io) registered";
    } else {
      reason = "InvalidMetricSourceType";
      failure = "unknown metric source type \"" + ms.type + "\"";
    }
    if (!failure.empty()) {
      RecordEvent(s, client::EventType::kWarning, reason, failure);
      if (invalid == 0) {
        first_error = wrap + failure;
        first_condition = {std::string(kScalingActive), "False", reason,
                           "the HPA was unable to compute the replica count: " + failure, ""};
      }
      ++invalid;
      // Kubernetes keeps an empty status in the failed metric's place.
      Value empty(rapidjson::kObjectType);
      json::SetStringMember(empty, "type", "", a);
      statuses.PushBack(empty, a);
      continue;
    }
    Value resource(rapidjson::kObjectType);
    json::SetStringMember(resource, "name", ms.name, a);
    resource.AddMember("current", current, a);
    Value status(rapidjson::kObjectType);
    json::SetStringMember(status, "type", "Resource", a);
    status.AddMember("resource", resource, a);
    statuses.PushBack(status, a);
    if (replicas == 0 || proposal > replicas) {
      replicas = proposal;
      *metric_name = name;
    }
  }
  s.current_metrics = std::move(statuses);
  // Every metric failed, or some did and the others would scale down: better do nothing.
  if (invalid >= specs.size() || (invalid > 0 && replicas < s.spec_replicas)) {
    *error = "invalid metrics (" + std::to_string(invalid) + " invalid out of " + std::to_string(specs.size()) +
             "), first error is: " + first_error;
    s.SetCondition(first_condition.type, first_condition.status, first_condition.reason, first_condition.message);
    return -1;
  }
  s.SetCondition(kScalingActive, "True", "ValidMetricFound",
                 "the HPA was able to successfully calculate a replica count from " + *metric_name);
  return replicas;
}

int32_t HorizontalPodAutoscalerController::Normalize(Sync& s, int32_t current, int32_t proposal, int32_t min_replicas,
                                                     int32_t max_replicas) {
  // The highest recommendation of the downscale window (Kubernetes' stabilizeRecommendation).
  const int64_t cutoff = s.now - options_.downscale_stabilization.count();
  auto& recommendations = s.history.recommendations;
  int32_t stabilized = proposal;
  for (const Recommendation& r : recommendations) {
    if (r.at_ms >= cutoff) stabilized = std::max(stabilized, r.replicas);
  }
  std::erase_if(recommendations, [&](const Recommendation& r) { return r.at_ms < cutoff; });
  recommendations.push_back({proposal, s.now});
  if (stabilized != proposal) {
    s.SetCondition(kAbleToScale, "True", "ScaleDownStabilized",
                   "recent recommendations were higher than current one, applying the highest recent recommendation");
  } else {
    s.SetCondition(kAbleToScale, "True", "ReadyForNewScale", "recommended size matches current size");
  }
  // convertDesiredReplicasWithRules.
  const int32_t scale_up_limit =
      static_cast<int32_t>(std::max(kScaleUpLimitFactor * static_cast<double>(current), kScaleUpLimitMinimum));
  int32_t max_allowed = max_replicas;
  std::string reason = "TooManyReplicas";
  std::string message = "the desired replica count is more than the maximum replica count";
  if (max_replicas > scale_up_limit) {
    max_allowed = scale_up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  }
  int32_t desired = stabilized;
  if (stabilized < min_replicas) {
    desired = min_replicas;
    reason = "TooFewReplicas";
    message = "the desired replica count is less than the minimum replica count";
  } else if (stabilized > max_allowed) {
    desired = max_allowed;
  } else {
    reason = "DesiredWithinRange";
    message = "the desired count is within the acceptable range";
  }
  s.SetCondition(kScalingLimited, desired == stabilized ? "False" : "True", reason, message);
  return desired;
}

int32_t HorizontalPodAutoscalerController::NormalizeWithBehavior(Sync& s, const Value& behavior, int32_t current,
                                                                 int32_t proposal, int32_t min_replicas,
                                                                 int32_t max_replicas) {
  const int64_t default_down_s = options_.downscale_stabilization.count() / 1000;
  const ScalingRules up = RulesOf(ObjAt(&behavior, "scaleUp"), true, default_down_s);
  const ScalingRules down = RulesOf(ObjAt(&behavior, "scaleDown"), false, default_down_s);

  // Stabilization: no higher than the lowest recommendation of the scale-up window, no
  // lower than the highest of the scale-down window.
  const int64_t up_cutoff = s.now - up.window_s * 1000;
  const int64_t down_cutoff = s.now - down.window_s * 1000;
  auto& recommendations = s.history.recommendations;
  int32_t up_recommendation = proposal;
  int32_t down_recommendation = proposal;
  for (const Recommendation& r : recommendations) {
    if (r.at_ms > up_cutoff) up_recommendation = std::min(up_recommendation, r.replicas);
    if (r.at_ms > down_cutoff) down_recommendation = std::max(down_recommendation, r.replicas);
  }
  int32_t stabilized = std::min(std::max(current, up_recommendation), down_recommendation);
  std::erase_if(recommendations, [&](const Recommendation& r) { return r.at_ms < up_cutoff && r.at_ms < down_cutoff; });
  recommendations.push_back({proposal, s.now});
  if (stabilized != proposal) {
    if (proposal >= current) {
      s.SetCondition(kAbleToScale, "True", "ScaleUpStabilized",
                     "recent recommendations were lower than current one, applying the lowest recent recommendation");
    } else {
      s.SetCondition(kAbleToScale, "True", "ScaleDownStabilized",
                     "recent recommendations were higher than current one, applying the highest recent recommendation");
    }
  } else {
    s.SetCondition(kAbleToScale, "True", "ReadyForNewScale", "recommended size matches current size");
  }

  // Rate limits (convertDesiredReplicasWithBehaviorRate): each policy allows a change
  // relative to the replicas at the start of its period.
  auto changed_in = [&](int64_t period_s, const std::vector<ScaleEvent>& events) {
    int32_t sum = 0;
    for (const ScaleEvent& e : events) {
      if (e.at_ms > s.now - period_s * 1000) sum += e.change;
    }
    return sum;
  };
  auto period_start = [&](const ScalingPolicy& p) {
    return current - changed_in(p.period_s, s.history.scale_ups) + changed_in(p.period_s, s.history.scale_downs);
  };
  int32_t desired = stabilized;
  std::string reason = "DesiredWithinRange";
  std::string message = "the desired count is within the acceptable range";
  if (stabilized > current) {
    int32_t limit = current;
    if (up.select != "Disabled") {
      const bool pick_min = up.select == "Min";
      limit = pick_min ? INT32_MAX : INT32_MIN;
      for (const ScalingPolicy& p : up.policies) {
        int32_t start = period_start(p);
        int32_t proposed = p.pods ? start + p.value
                                  : static_cast<int32_t>(std::ceil(static_cast<double>(start) * (1 + p.value / 100.0)));
        limit = pick_min ? std::min(limit, proposed) : std::max(limit, proposed);
      }
    }
    limit = std::max(limit, current);  // no further scale-up until older events leave their periods
    int32_t max_allowed = max_replicas;
    std::string limit_reason = "TooManyReplicas";
    std::string limit_message = "the desired replica count is more than the maximum replica count";
    if (max_allowed > limit) {
      max_allowed = limit;
      limit_reason = "ScaleUpLimit";
      limit_message = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (stabilized > max_allowed) {
      desired = max_allowed;
      reason = limit_reason;
      message = limit_message;
    }
  } else if (stabilized < current) {
    int32_t limit = current;
    if (down.select != "Disabled") {
      const bool pick_min = down.select == "Min";  // the smallest change: the highest count
      limit = pick_min ? INT32_MIN : INT32_MAX;
      for (const ScalingPolicy& p : down.policies) {
        int32_t start = period_start(p);
        int32_t proposed =
            p.pods ? start - p.value : static_cast<int32_t>(static_cast<double>(start) * (1 - p.value / 100.0));
        limit = pick_min ? std::max(limit, proposed) : std::min(limit, proposed);
      }
    }
    limit = std::min(limit, current);
    int32_t min_allowed = min_replicas;
    std::string limit_reason = "TooFewReplicas";
    std::string limit_message = "the desired replica count is less than the minimum replica count";
    if (min_allowed < limit) {
      min_allowed = limit;
      limit_reason = "ScaleDownLimit";
      limit_message = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (stabilized < min_allowed) {
      desired = min_allowed;
      reason = limit_reason;
      message = limit_message;
    }
  }
  s.SetCondition(kScalingLimited, desired == stabilized ? "False" : "True", reason, message);
  return desired;
}

void HorizontalPodAutoscalerController::StoreScaleEvent(Sync& s, const Value* behavior, int32_t from, int32_t to) {
  if (behavior == nullptr || from == to) return;
  const int64_t default_down_s = options_.downscale_stabilization.count() / 1000;
  const bool up = to > from;
  const ScalingRules rules = RulesOf(ObjAt(behavior, up ? "scaleUp" : "scaleDown"), up, default_down_s);
  int64_t longest_s = 0;
  for (const ScalingPolicy& p : rules.policies) longest_s = std::max(longest_s, p.period_s);
  // Events older than every period no longer limit anything.
  std::vector<ScaleEvent>& events = up ? s.history.scale_ups : s.history.scale_downs;
  std::erase_if(events, [&](const ScaleEvent& e) { return e.at_ms < s.now - longest_s * 1000; });
  events.push_back({up ? to - from : from - to, s.now});
}

Status HorizontalPodAutoscalerController::WriteStatus(Sync& s) {
  auto& a = s.hpa.GetAllocator();
  // The API server stores HPAs as they were written, without converting between versions:
  // an object created through autoscaling/v1 keeps the v1 form, and its status is written
  // in that form through the v1 endpoint (which accepts only v1 objects).
  const bool v1 = StrAt(&s.hpa, "apiVersion") == "autoscaling/v1";
  Value status(rapidjson::kObjectType);
  if (int64_t generation = GenerationOf(s.hpa); generation > 0) status.AddMember("observedGeneration", Value(generation), a);
  if (!s.last_scale_time.empty()) json::SetStringMember(status, "lastScaleTime", s.last_scale_time, a);
  if (s.current_replicas != 0) status.AddMember("currentReplicas", Value(s.current_replicas), a);
  status.AddMember("desiredReplicas", Value(s.desired_replicas), a);
  if (v1) {
    // v1 knows only the cpu utilization (and no conditions).
    if (s.current_metrics.IsArray()) {
      for (const Value& m : s.current_metrics.GetArray()) {
        const Value* resource = ObjAt(&m, "resource");
        std::optional<int64_t> utilization = IntAt(ObjAt(resource, "current"), "averageUtilization");
        if (StrAt(resource, "name") == "cpu" && utilization) {
          status.AddMember("currentCPUUtilizationPercentage", Value(*utilization), a);
          break;
        }
      }
    }
  } else {
    if (s.current_metrics.IsArray() && !s.current_metrics.Empty()) {
      json::SetMember(status, "currentMetrics", Value(s.current_metrics, a), a);
    }
    if (!s.conditions.empty()) {
      Value conditions(rapidjson::kArrayType);
      for (const Condition& c : s.conditions) {
        Value v(rapidjson::kObjectType);
        json::SetStringMember(v, "type", c.type, a);
        json::SetStringMember(v, "status", c.status, a);
        if (!c.last_transition.empty()) json::SetStringMember(v, "lastTransitionTime", c.last_transition, a);
        json::SetStringMember(v, "reason", c.reason, a);
        json::SetStringMember(v, "message", c.message, a);
        conditions.PushBack(v, a);
      }
      status.AddMember("conditions", conditions, a);
    }
  }
  const Value* old = json::Member(s.hpa, "status");
  if (old != nullptr && *old == status) return Status();
  json::SetMember(s.hpa, "status", std::move(status), a);
  Result<Document> written = (v1 ? *hpa_v1_client_ : *hpa_client_).UpdateStatus(s.hpa);
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) return written.status();
  return Status();
}

}  // namespace kite::controllers
