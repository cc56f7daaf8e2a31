#include "src/server/controllers/replica_calculator.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "src/server/admission/quantity.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

Status Error(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }

std::string_view PodPhase(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  return status ? json::StringMember(*status, "phase") : std::string_view();
}

const Value* ReadyCondition(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (conditions == nullptr || !conditions->IsArray()) return nullptr;
  for (const Value& c : conditions->GetArray()) {
    if (c.IsObject() && json::StringMember(c, "type") == "Ready") return &c;
  }
  return nullptr;
}

struct PodGroups {
  int ready = 0;
  std::set<std::string, std::less<>> unready, missing, ignored;
};

// Kubernetes' groupPods.
PodGroups GroupPods(const std::vector<client::ObjectPtr>& pods, const PodMetricsInfo& metrics,
                    std::string_view resource, const ReplicaCalculator::Options& options, int64_t now_ms) {
  PodGroups g;
  for (const client::ObjectPtr& pod : pods) {
    std::string name(NameOf(*pod));
    std::string_view phase = PodPhase(*pod);
    if (IsBeingDeleted(*pod) || phase == "Failed") {
      g.ignored.insert(name);
      continue;
    }
    if (phase == "Pending") {
      g.unready.insert(name);
      continue;
    }
    auto metric = metrics.find(name);
    if (metric == metrics.end()) {
      g.missing.insert(name);
      continue;
    }
    if (resource == "cpu") {
      const Value* condition = ReadyCondition(*pod);
      const Value* status = json::Member(*pod, "status");
      std::optional<int64_t> start = status ? ParseTimeMillis(json::StringMember(*status, "startTime")) : std::nullopt;
      bool unready = true;
      if (condition != nullptr && start) {
        bool is_false = json::StringMember(*condition, "status") == "False";
        int64_t transition = ParseTimeMillis(json::StringMember(*condition, "lastTransitionTime")).value_or(0);
        if (*start + options.cpu_initialization_period_ms > now_ms) {
          // Within the initialization period: a sample must cover a whole window of readiness.
          unready = is_false || metric->second.timestamp_ms < transition + metric->second.window_ms;
        } else {
          // Afterwards only a pod that never became ready after starting is left out.
          unready = is_false && *start + options.initial_readiness_delay_ms > transition;
        }
      }
      if (unready) {
        g.unready.insert(name);
        continue;
      }
    }
    ++g.ready;
  }
  return g;
}

void RemoveMetrics(PodMetricsInfo& metrics, const std::set<std::string, std::less<>>& pods) {
  for (const std::string& pod : pods) metrics.erase(pod);
}

Result<std::map<std::string, int64_t, std::less<>>> Requests(const std::vector<client::ObjectPtr>& pods,
                                                              std::string_view resource) {
  std::map<std::string, int64_t, std::less<>> out;
  for (const client::ObjectPtr& pod : pods) {
    Result<int64_t> request = PodRequestMilli(*pod, resource);
    if (!request.ok()) return request.status();
    out[std::string(NameOf(*pod))] = *request;
  }
  return out;
}

struct Utilization {
  double ratio = 0;
  int32_t utilization = 0;
  int64_t raw_average = 0;
};

// Kubernetes' GetResourceUtilizationRatio: metrics of pods without a known request are
// extraneous and skipped.
Result<Utilization> UtilizationRatio(const PodMetricsInfo& metrics,
                                     const std::map<std::string, int64_t, std::less<>>& requests,
                                     int32_t target_utilization) {
  int64_t metrics_total = 0, requests_total = 0, entries = 0;
  for (const auto& [pod, metric] : metrics) {
    auto request = requests.find(pod);
    if (request == requests.end()) continue;
    metrics_total += metric.value;
    requests_total += request->second;
    ++entries;
  }
  if (requests_total == 0) return Error("no metrics returned matched known pods");
  Utilization u;
  u.utilization = static_cast<int32_t>(metrics_total * 100 / requests_total);
  u.ratio = static_cast<double>(u.utilization) / static_cast<double>(target_utilization);
  u.raw_average = metrics_total / entries;
  return u;
}

// Kubernetes' GetMetricUsageRatio.
std::pair<double, int64_t> UsageRatio(const PodMetricsInfo& metrics, int64_t target) {
  int64_t total = 0;
  for (const auto& [pod, metric] : metrics) total += metric.value;
  int64_t average = total / static_cast<int64_t>(metrics.size());
  return {static_cast<double>(average) / static_cast<double>(target), average};
}

int32_t Ceil(double v) { return static_cast<int32_t>(std::ceil(v)); }

}  // namespace

PodMetricsInfo ResourceMetrics(const std::vector<PodUsage>& usage, std::string_view resource) {
  PodMetricsInfo out;
  for (const PodUsage& u : usage) {
    std::optional<int64_t> milli;
    if (resource == "cpu") milli = u.cpu_millicores;
    if (resource == "memory" && u.memory_bytes) milli = *u.memory_bytes * 1000;
    if (milli) out[u.pod] = PodMetric{*milli, u.timestamp_ms, u.window_ms};
  }
  return out;
}

Result<int64_t> PodRequestMilli(const Value& pod, std::string_view resource) {
  const Value* spec = json::Member(pod, "spec");
  std::vector<const Value*> containers;
  if (const Value* list = spec ? json::Member(*spec, "containers") : nullptr; list && list->IsArray()) {
    for (const Value& c : list->GetArray()) containers.push_back(&c);
  }
  // Sidecars (init containers that keep running) count as well.
  if (const Value* list = spec ? json::Member(*spec, "initContainers") : nullptr; list && list->IsArray()) {
    for (const Value& c : list->GetArray()) {
      if (c.IsObject() && json::StringMember(c, "restartPolicy") == "Always") containers.push_back(&c);
    }
  }
  int64_t sum = 0;
  for (const Value* c : containers) {
    if (!c->IsObject()) continue;
    const Value* resources = json::Member(*c, "resources");
    const Value* requests = resources ? json::Member(*resources, "requests") : nullptr;
    const Value* request = requests ? json::Member(*requests, resource) : nullptr;
    std::optional<int64_t> milli;
    if (request != nullptr) {
      std::string text = request->IsString() ? std::string(request->GetString(), request->GetStringLength())
                         : request->IsInt64() ? std::to_string(request->GetInt64())
                                              : std::string();
      if (Result<admission::Quantity> q = admission::Quantity::Parse(text); q.ok()) milli = q->MilliValue();
    }
    if (!milli) {
      return Error("missing request for " + std::string(resource) + " in container " +
                   std::string(json::StringMember(*c, "name")) + " of Pod " + std::string(NameOf(pod)));
    }
    sum += *milli;
  }
  return sum;
}

Result<ReplicaCalculator::UtilizationResult> ReplicaCalculator::ResourceReplicas(
    int32_t current_replicas, int32_t target_utilization, std::string_view resource, PodMetricsInfo metrics,
    const std::vector<client::ObjectPtr>& pods, int64_t now_ms) const {
  if (pods.empty()) return Error("no pods returned by selector while calculating replica count");
  PodGroups g = GroupPods(pods, metrics, resource, options_, now_ms);
  RemoveMetrics(metrics, g.ignored);
  RemoveMetrics(metrics, g.unready);
  Result<std::map<std::string, int64_t, std::less<>>> requests = Requests(pods, resource);
  if (!requests.ok()) return requests.status();
  if (metrics.empty()) return Error("did not receive metrics for targeted pods (pods might be unready)");

  Result<Utilization> usage = UtilizationRatio(metrics, *requests, target_utilization);
  if (!usage.ok()) return usage.status();
  UtilizationResult result{current_replicas, usage->utilization, usage->raw_average};
  const double ratio = usage->ratio;

  bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (std::abs(1.0 - ratio) > options_.tolerance) result.replicas = Ceil(ratio * g.ready);
    return result;
  }
  if (!g.missing.empty()) {
    if (ratio < 1.0) {
      // Scale-down: pods without metrics are assumed at their full request (or the target,
      // when that is higher), which dampens the change.
      int64_t fallback = std::max<int64_t>(100, target_utilization);
      for (const std::string& pod : g.missing) {
        auto request = requests->find(pod);
        int64_t r = request != requests->end() ? request->second : 0;
        metrics[pod] = PodMetric{r * fallback / 100, 0, 0};
      }
    } else if (ratio > 1.0) {
      for (const std::string& pod : g.missing) metrics[pod] = PodMetric{};
    }
  }
  if (scale_up_with_unready) {
    for (const std::string& pod : g.unready) metrics[pod] = PodMetric{};
  }
  Result<Utilization> again = UtilizationRatio(metrics, *requests, target_utilization);
  if (!again.ok()) return again.status();
  const double new_ratio = again->ratio;
  if (std::abs(1.0 - new_ratio) <= options_.tolerance || (ratio < 1.0 && new_ratio > 1.0) ||
      (ratio > 1.0 && new_ratio < 1.0)) {
    return result;
  }
  int32_t replicas = Ceil(new_ratio * static_cast<double>(metrics.size()));
  if ((new_ratio < 1.0 && replicas > current_replicas) || (new_ratio > 1.0 && replicas < current_replicas)) {
    return result;
  }
  result.replicas = replicas;
  return result;
}

Result<ReplicaCalculator::AverageValueResult> ReplicaCalculator::RawResourceReplicas(
    int32_t current_replicas, int64_t target_milli, std::string_view resource, PodMetricsInfo metrics,
    const std::vector<client::ObjectPtr>& pods, int64_t now_ms) const {
  if (pods.empty()) return Error("no pods returned by selector while calculating replica count");
  PodGroups g = GroupPods(pods, metrics, resource, options_, now_ms);
  RemoveMetrics(metrics, g.ignored);
  RemoveMetrics(metrics, g.unready);
  if (metrics.empty()) return Error("did not receive metrics for targeted pods (pods might be unready)");

  auto [ratio, average] = UsageRatio(metrics, target_milli);
  AverageValueResult result{current_replicas, average};
  bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (std::abs(1.0 - ratio) > options_.tolerance) result.replicas = Ceil(ratio * g.ready);
    return result;
  }
  if (!g.missing.empty()) {
    // Scale-down: missing pods at the target; scale-up: at zero.
    for (const std::string& pod : g.missing) metrics[pod] = PodMetric{ratio < 1.0 ? target_milli : 0, 0, 0};
  }
  if (scale_up_with_unready) {
    for (const std::string& pod : g.unready) metrics[pod] = PodMetric{};
  }
  const double new_ratio = UsageRatio(metrics, target_milli).first;
  if (std::abs(1.0 - new_ratio) <= options_.tolerance || (ratio < 1.0 && new_ratio > 1.0) ||
      (ratio > 1.0 && new_ratio < 1.0)) {
    return result;
  }
  result.replicas = Ceil(new_ratio * static_cast<double>(metrics.size()));
  return result;
}

}  // namespace kite::controllers
