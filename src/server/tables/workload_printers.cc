// Printers for workloads and their helpers: apps (Deployment, ReplicaSet, StatefulSet,
// DaemonSet, ControllerRevision), batch (Job, CronJob), autoscaling (HorizontalPodAutoscaler)
// and policy (PodDisruptionBudget).
#include <string>
#include <vector>

#include "src/server/tables/human_duration.h"
#include "src/server/tables/json_fields.h"
#include "src/server/tables/kind_printers.h"
#include "src/server/tables/label_format.h"
#include "src/server/tables/print_helpers.h"
#include "src/server/tables/timestamp.h"

namespace kite::tables::internal {
namespace {

using rapidjson::Value;


constexpr ColumnDef kContainers =
    Col("Containers", "string", "Container names of the template.", 1);
constexpr ColumnDef kImages = Col("Images", "string", "Container images of the template.", 1);
constexpr ColumnDef kSelector = Col("Selector", "string", "Label selector of the pods.", 1);

// spec.replicas is defaulted to 1 by the API.
int64_t DesiredReplicas(const Value& obj) { return IntOr(Dig(&obj, "spec", "replicas"), 1); }

void PrintDeployment(const Value& d, const PrintContext& ctx, RowWriter& row) {
  const Value* status = Get(&d, "status");
  row.String(Name(d));
  row.String(std::to_string(IntOr(Get(status, "readyReplicas"), 0)) + "/" +
             std::to_string(DesiredReplicas(d)));
  row.Int(IntOr(Get(status, "updatedReplicas"), 0));
  row.Int(IntOr(Get(status, "availableReplicas"), 0));
  row.String(CreationAge(d, ctx));
  AddContainerCells(Dig(&d, "spec", "template", "spec", "containers"), row);
  row.String(LabelSelectorString(Dig(&d, "spec", "selector")));
}

void PrintReplicaSet(const Value& rs, const PrintContext& ctx, RowWriter& row) {
  const Value* status = Get(&rs, "status");
  row.String(Name(rs));
  row.Int(DesiredReplicas(rs));
  row.Int(IntOr(Get(status, "replicas"), 0));
  row.Int(IntOr(Get(status, "readyReplicas"), 0));
  row.String(CreationAge(rs, ctx));
  AddContainerCells(Dig(&rs, "spec", "template", "spec", "containers"), row);
  row.String(FormatLabelSelector(Dig(&rs, "spec", "selector")));
}

void PrintStatefulSet(const Value& sts, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(sts));
  row.String(std::to_string(IntOr(Dig(&sts, "status", "readyReplicas"), 0)) + "/" +
             std::to_string(DesiredReplicas(sts)));
  row.String(CreationAge(sts, ctx));
  AddContainerCells(Dig(&sts, "spec", "template", "spec", "containers"), row);
}

void PrintDaemonSet(const Value& ds, const PrintContext& ctx, RowWriter& row) {
  const Value* status = Get(&ds, "status");
  row.String(Name(ds));
  row.Int(IntOr(Get(status, "desiredNumberScheduled"), 0));
  row.Int(IntOr(Get(status, "currentNumberScheduled"), 0));
  row.Int(IntOr(Get(status, "numberReady"), 0));
  row.Int(IntOr(Get(status, "updatedNumberScheduled"), 0));
  row.Int(IntOr(Get(status, "numberAvailable"), 0));
  row.String(FormatLabels(Dig(&ds, "spec", "template", "spec", "nodeSelector")));
  row.String(CreationAge(ds, ctx));
  AddContainerCells(Dig(&ds, "spec", "template", "spec", "containers"), row);
  row.String(FormatLabelSelector(Dig(&ds, "spec", "selector")));
}

void PrintControllerRevision(const Value& cr, const PrintContext& ctx, RowWriter& row) {
  std::string controller = "<none>";
  for (auto& ref : Arr(Dig(&cr, "metadata", "ownerReferences")).GetArray()) {
    if (!Bool(Get(&ref, "controller"))) continue;
    // "daemonset.apps/name": the lower-cased group kind, then the name.
    const std::string_view api_version = Str(Get(&ref, "apiVersion"));
    const size_t slash = api_version.find('/');
    const std::string_view group =
        slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
    std::string kind(Str(Get(&ref, "kind")));
    if (!group.empty()) kind += "." + std::string(group);
    for (char& c : kind) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    const std::string_view name = Str(Get(&ref, "name"));
    controller = kind.empty() ? std::string(name) : kind + "/" + std::string(name);
    break;
  }
  row.String(Name(cr));
  row.String(controller);
  row.Int(IntOr(Get(&cr, "revision"), 0));
  row.String(CreationAge(cr, ctx));
}

// The status of the first condition of `type`, compared with "True".
bool JobCondition(const Value& job, std::string_view type) {
  for (auto& c : Arr(Dig(&job, "status", "conditions")).GetArray()) {
    if (Str(Get(&c, "type")) == type) return Str(Get(&c, "status")) == "True";
  }
  return false;
}

void PrintJob(const Value& job, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&job, "spec");
  const Value* status = Get(&job, "status");
  const int64_t succeeded = IntOr(Get(status, "succeeded"), 0);
  std::string completions;
  if (auto want = Int(Get(spec, "completions"))) {
    completions = std::to_string(succeeded) + "/" + std::to_string(*want);
  } else if (const int64_t parallelism = IntOr(Get(spec, "parallelism"), 0); parallelism > 1) {
    completions = std::to_string(succeeded) + "/1 of " + std::to_string(parallelism);
  } else {
    completions = std::to_string(succeeded) + "/1";
  }

  std::string duration;
  if (auto start = Time(Get(status, "startTime"))) {
    if (auto done = Time(Get(status, "completionTime"))) {
      duration = HumanDuration(*done - *start);
    } else {
      duration = HumanDuration(std::chrono::time_point_cast<std::chrono::microseconds>(ctx.now) -
                               *start);
    }
  }

  std::string state;
  if (JobCondition(job, "Complete")) {
    state = "Complete";
  } else if (JobCondition(job, "Failed")) {
    state = "Failed";
  } else if (HasDeletionTimestamp(job)) {
    state = "Terminating";
  } else if (JobCondition(job, "Suspended")) {
    state = "Suspended";
  } else if (JobCondition(job, "FailureTarget")) {
    state = "FailureTarget";
  } else {
    state = "Running";
  }

  row.String(Name(job));
  row.String(state);
  row.String(completions);
  row.String(duration);
  row.String(CreationAge(job, ctx));
  AddContainerCells(Dig(spec, "template", "spec", "containers"), row);
  row.String(FormatLabelSelector(Get(spec, "selector")));
}

void PrintCronJob(const Value& cj, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&cj, "spec");
  const Value* last = Dig(&cj, "status", "lastScheduleTime");
  const Value* tz = Get(spec, "timeZone");
  row.String(Name(cj));
  row.String(Str(Get(spec, "schedule")));
  row.String(tz != nullptr && tz->IsString() ? std::string(Str(tz)) : "<none>");
  row.String(BoolPtrString(Get(spec, "suspend")));
  row.Int(static_cast<int64_t>(Count(Dig(&cj, "status", "active"))));
  row.String(last == nullptr ? "<none>" : AgeSince(Time(last), ctx.now));
  row.String(CreationAge(cj, ctx));
  const Value* job_spec = Dig(spec, "jobTemplate", "spec");
  AddContainerCells(Dig(job_spec, "template", "spec", "containers"), row);
  row.String(FormatLabelSelector(Get(job_spec, "selector")));
}

// A resource.Quantity as printed; Kubernetes prints an unset quantity pointer as "<nil>".
std::string Quantity(const Value* v) {
  if (v == nullptr) return "<nil>";
  if (v->IsString()) return std::string(Str(v));
  if (auto n = Int(v)) return std::to_string(*n);
  return "<nil>";
}

std::string Percent(const Value* v) { return std::to_string(IntOr(v, 0)) + "%"; }

// One entry of the TARGETS cell for metric spec `spec`, with `status` (may be null) the
// current value reported at the same index.
std::string FormatMetric(const Value& spec, const Value* status) {
  const std::string_view type = Str(Get(&spec, "type"));
  auto value_or_avg = [&](std::string_view key) {
    const Value* target = Dig(&spec, key, "target");
    const Value* current_status = Get(status, key);
    if (Get(target, "averageValue") != nullptr) {
      const Value* current = Dig(current_status, "current", "averageValue");
      return (current != nullptr ? Quantity(current) : "<unknown>") + "/" +
             Quantity(Get(target, "averageValue")) + " (avg)";
    }
    std::string current = "<unknown>";
    if (current_status != nullptr) current = Quantity(Dig(current_status, "current", "value"));
    return current + "/" + Quantity(Get(target, "value"));
  };
  auto resource = [&](std::string_view key) {
    const Value* target = Dig(&spec, key, "target");
    const Value* current_status = Get(status, key);
    const std::string name(Str(Dig(&spec, key, "name")));
    if (Get(target, "averageValue") != nullptr) {
      const std::string current = current_status != nullptr
                                      ? Quantity(Dig(current_status, "current", "averageValue"))
                                      : "<unknown>";
      return name + ": " + current + "/" + Quantity(Get(target, "averageValue"));
    }
    const Value* utilization = Dig(current_status, "current", "averageUtilization");
    const std::string current = utilization != nullptr ? Percent(utilization) : "<unknown>";
    const Value* want = Get(target, "averageUtilization");
    return name + ": " + current + "/" + (want != nullptr ? Percent(want) : "<auto>");
  };
  if (type == "External") return value_or_avg("external");
  if (type == "Object") return value_or_avg("object");
  if (type == "Pods") {
    const Value* current_status = Get(status, "pods");
    const std::string current = current_status != nullptr
                                    ? Quantity(Dig(current_status, "current", "averageValue"))
                                    : "<unknown>";
    return current + "/" + Quantity(Dig(&spec, "pods", "target", "averageValue"));
  }
  if (type == "Resource") return resource("resource");
  if (type == "ContainerResource") return resource("containerResource");
  return "<unknown type>";
}

std::string FormatHPAMetrics(const Value& hpa) {
  const Value* spec = Get(&hpa, "spec");
  const Value& metrics = Arr(Get(spec, "metrics"));
  if (metrics.Empty()) {
    // autoscaling/v1 objects carry a single CPU utilization target instead.
    if (const Value* target = Get(spec, "targetCPUUtilizationPercentage")) {
      const Value* current = Dig(&hpa, "status", "currentCPUUtilizationPercentage");
      return "cpu: " + (current != nullptr ? Percent(current) : "<unknown>") + "/" +
             Percent(target);
    }
    return "<none>";
  }
  const Value& statuses = Arr(Dig(&hpa, "status", "currentMetrics"));
  constexpr size_t kMax = 2;
  std::vector<std::string> list;
  for (rapidjson::SizeType i = 0; i < metrics.Size(); ++i) {
    const Value* status = i < statuses.Size() ? &statuses[i] : nullptr;
    list.push_back(FormatMetric(metrics[i], status));
  }
  const size_t count = list.size();
  if (count > kMax) list.resize(kMax);
  std::string out = Join(list, ", ");
  if (count > kMax) out += " + " + std::to_string(count - kMax) + " more...";
  return out;
}

void PrintHPA(const Value& hpa, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&hpa, "spec");
  const Value* ref = Get(spec, "scaleTargetRef");
  const auto min = Int(Get(spec, "minReplicas"));
  row.String(Name(hpa));
  row.String(std::string(Str(Get(ref, "kind"))) + "/" + std::string(Str(Get(ref, "name"))));
  row.String(FormatHPAMetrics(hpa));
  row.String(min ? std::to_string(*min) : "<unset>");
  row.Int(IntOr(Get(spec, "maxReplicas"), 0));
  row.Int(IntOr(Dig(&hpa, "status", "currentReplicas"), 0));
  row.String(CreationAge(hpa, ctx));
}

void PrintPDB(const Value& pdb, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&pdb, "spec");
  const Value* min = Get(spec, "minAvailable");
  const Value* max = Get(spec, "maxUnavailable");
  row.String(Name(pdb));
  row.String(min != nullptr ? IntOrString(min) : "N/A");
  row.String(max != nullptr ? IntOrString(max) : "N/A");
  row.Int(IntOr(Dig(&pdb, "status", "disruptionsAllowed"), 0));
  row.String(CreationAge(pdb, ctx));
}

}  // namespace

void AddWorkloadPrinters(std::vector<KindPrinter>& out) {
  out.push_back({"apps", "Deployment",
                 {kName, Col("Ready", "string", "Ready replicas out of desired replicas."),
                  Col("Up-to-date", "string", "Replicas running the latest template."),
                  Col("Available", "string", "Replicas available to serve."), kAge, kContainers,
                  kImages, kSelector},
                 PrintDeployment});
  out.push_back({"apps", "ReplicaSet",
                 {kName, Col("Desired", "integer", "Desired replicas."),
                  Col("Current", "integer", "Current replicas."),
                  Col("Ready", "integer", "Ready replicas."), kAge, kContainers, kImages,
                  kSelector},
                 PrintReplicaSet});
  out.push_back({"apps", "StatefulSet",
                 {kName, Col("Ready", "string", "Ready replicas out of desired replicas."), kAge,
                  kContainers, kImages},
                 PrintStatefulSet});
  out.push_back({"apps", "DaemonSet",
                 {kName, Col("Desired", "integer", "Nodes that should run the daemon pod."),
                  Col("Current", "integer", "Nodes running the daemon pod."),
                  Col("Ready", "integer", "Nodes with a ready daemon pod."),
                  Col("Up-to-date", "integer", "Nodes running the latest template."),
                  Col("Available", "integer", "Nodes with an available daemon pod."),
                  Col("Node Selector", "string", "Node selector of the pod template."), kAge,
                  kContainers, kImages, kSelector},
                 PrintDaemonSet});
  out.push_back({"apps", "ControllerRevision",
                 {kName, Col("Controller", "string", "The controlling owner, kind/name."),
                  Col("Revision", "string", "Revision number."), kAge},
                 PrintControllerRevision});
  out.push_back({"batch", "Job",
                 {kName, Col("Status", "string", "Job state."),
                  Col("Completions", "string", "Succeeded pods out of completions wanted."),
                  Col("Duration", "string", "Time the job ran or has been running."), kAge,
                  kContainers, kImages, kSelector},
                 PrintJob});
  out.push_back({"batch", "CronJob",
                 {kName, Col("Schedule", "string", "Cron schedule."),
                  Col("Timezone", "string", "Time zone of the schedule."),
                  Col("Suspend", "boolean", "Whether new runs are suspended."),
                  Col("Active", "integer", "Jobs running now."),
                  Col("Last Schedule", "string", "Time since the last scheduled run."), kAge,
                  kContainers, kImages, kSelector},
                 PrintCronJob});
  out.push_back({"autoscaling", "HorizontalPodAutoscaler",
                 {kName, Col("Reference", "string", "The scaled object, kind/name."),
                  Col("Targets", "string", "Current/target metric values."),
                  Col("MinPods", "string", "Minimum replicas."),
                  Col("MaxPods", "string", "Maximum replicas."),
                  Col("Replicas", "string", "Current replicas."), kAge},
                 PrintHPA});
  out.push_back({"policy", "PodDisruptionBudget",
                 {kName, Col("Min Available", "string", "Pods that must stay available."),
                  Col("Max Unavailable", "string", "Pods that may be unavailable."),
                  Col("Allowed Disruptions", "integer", "Disruptions allowed right now."), kAge},
                 PrintPDB});
}

}  // namespace kite::tables::internal
