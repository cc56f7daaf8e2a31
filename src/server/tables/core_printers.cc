// Printers for the core ("") group: what `kubectl get pods,nodes,services,...` shows.
// Each follows the matching print function of Kubernetes' internalversion printers, read
// against the v1 JSON field names.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "src/server/tables/json_fields.h"
#include "src/server/tables/kind_printers.h"
#include "src/server/tables/label_format.h"
#include "src/server/tables/print_helpers.h"
#include "src/server/tables/timestamp.h"

namespace kite::tables::internal {
namespace {

using rapidjson::Value;


// ---------------------------------------------------------------------------------------------
// Pod

bool HasCondition(const Value* status, std::string_view type) {
  for (auto& c : Arr(Get(status, "conditions")).GetArray()) {
    if (Str(Get(&c, "type")) == type) return Str(Get(&c, "status")) == "True";
  }
  return false;
}

// Keeps the later of `latest` and the finish time of a container's previous run.
void NoteLastTermination(const Value& container_status, std::optional<Timestamp>& latest) {
  std::optional<Timestamp> finished =
      Time(Dig(&container_status, "lastState", "terminated", "finishedAt"));
  if (finished && !IsZeroTime(*finished) && (!latest || *latest < *finished)) latest = finished;
}

// "Signal:9" / "ExitCode:1" for a terminated state without a reason.
std::string TerminatedWithoutReason(const Value* terminated) {
  const int64_t signal = IntOr(Get(terminated, "signal"), 0);
  if (signal != 0) return "Signal:" + std::to_string(signal);
  return "ExitCode:" + std::to_string(IntOr(Get(terminated, "exitCode"), 0));
}

void PrintPod(const Value& pod, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&pod, "spec");
  const Value* status = Get(&pod, "status");
  const std::string_view phase = Str(Get(status, "phase"));

  int64_t restarts = 0;
  int64_t sidecar_restarts = 0;  // restartable init containers keep counting once initialized
  int64_t total = static_cast<int64_t>(Count(Get(spec, "containers")));
  int64_t ready = 0;
  std::optional<Timestamp> last_restart;
  std::optional<Timestamp> last_sidecar_restart;

  std::string reason(phase);
  if (!Str(Get(status, "reason")).empty()) reason = Str(Get(status, "reason"));
  for (auto& c : Arr(Get(status, "conditions")).GetArray()) {
    if (Str(Get(&c, "type")) == "PodScheduled" && Str(Get(&c, "reason")) == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }

  if (phase == "Succeeded") {
    row.Completed("Succeeded", "The pod has completed successfully.");
  } else if (phase == "Failed") {
    row.Completed("Failed", "The pod failed.");
  }

  // Init containers with restartPolicy Always are sidecars: they count as containers.
  std::set<std::string_view> sidecars;
  const size_t init_count = Count(Get(spec, "initContainers"));
  for (auto& c : Arr(Get(spec, "initContainers")).GetArray()) {
    if (Str(Get(&c, "restartPolicy")) == "Always") {
      sidecars.insert(Str(Get(&c, "name")));
      ++total;
    }
  }

  bool initializing = false;
  size_t index = 0;
  for (auto& cs : Arr(Get(status, "initContainerStatuses")).GetArray()) {
    const size_t i = index++;
    const bool sidecar = sidecars.count(Str(Get(&cs, "name"))) > 0;
    restarts += IntOr(Get(&cs, "restartCount"), 0);
    NoteLastTermination(cs, last_restart);
    if (sidecar) {
      sidecar_restarts += IntOr(Get(&cs, "restartCount"), 0);
      NoteLastTermination(cs, last_sidecar_restart);
    }
    const Value* terminated = Dig(&cs, "state", "terminated");
    const Value* waiting = Dig(&cs, "state", "waiting");
    if (terminated != nullptr && IntOr(Get(terminated, "exitCode"), 0) == 0) continue;
    if (sidecar && Bool(Get(&cs, "started"))) {
      if (Bool(Get(&cs, "ready"))) ++ready;
      continue;
    }
    if (terminated != nullptr) {
      const std::string_view r = Str(Get(terminated, "reason"));
      reason = "Init:" + (r.empty() ? TerminatedWithoutReason(terminated) : std::string(r));
    } else if (waiting != nullptr && !Str(Get(waiting, "reason")).empty() &&
               Str(Get(waiting, "reason")) != "PodInitializing") {
      reason = "Init:" + std::string(Str(Get(waiting, "reason")));
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_count);
    }
    initializing = true;
    break;
  }

  if (!initializing || HasCondition(status, "Initialized")) {
    restarts = sidecar_restarts;
    last_restart = last_sidecar_restart;
    bool has_running = false;
    const Value& statuses = Arr(Get(status, "containerStatuses"));
    // Backwards, so the first container's state has the last word.
    for (rapidjson::SizeType n = statuses.Size(); n > 0; --n) {
      const Value& cs = statuses[n - 1];
      restarts += IntOr(Get(&cs, "restartCount"), 0);
      NoteLastTermination(cs, last_restart);
      const Value* waiting = Dig(&cs, "state", "waiting");
      const Value* terminated = Dig(&cs, "state", "terminated");
      if (waiting != nullptr && !Str(Get(waiting, "reason")).empty()) {
        reason = Str(Get(waiting, "reason"));
      } else if (terminated != nullptr && !Str(Get(terminated, "reason")).empty()) {
        reason = Str(Get(terminated, "reason"));
      } else if (terminated != nullptr) {
        reason = TerminatedWithoutReason(terminated);
      } else if (Bool(Get(&cs, "ready")) && Dig(&cs, "state", "running") != nullptr) {
        has_running = true;
        ++ready;
      }
    }
    // A container still running turns "Completed" back into Running / NotReady.
    if (reason == "Completed" && has_running) {
      reason = HasCondition(status, "Ready") ? "Running" : "NotReady";
    }
  }

  if (HasDeletionTimestamp(pod) && Str(Get(status, "reason")) == "NodeLost") {
    reason = "Unknown";
  } else if (HasDeletionTimestamp(pod) && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts_cell = std::to_string(restarts);
  if (restarts != 0 && last_restart) {
    restarts_cell += " (" + AgeSince(last_restart, ctx.now) + " ago)";
  }

  row.String(Name(pod));
  row.String(std::to_string(ready) + "/" + std::to_string(total));
  row.String(reason);
  row.String(restarts_cell);
  row.String(CreationAge(pod, ctx));

  std::string ip(Str(Get(First(Get(status, "podIPs")), "ip")));
  if (ip.empty()) ip = Str(Get(status, "podIP"));  // v1 objects written without podIPs
  const std::string_view node = Str(Get(spec, "nodeName"));
  const std::string_view nominated = Str(Get(status, "nominatedNodeName"));
  std::string gates = "<none>";
  const Value& gate_list = Arr(Get(spec, "readinessGates"));
  if (!gate_list.Empty()) {
    int true_conditions = 0;
    for (auto& gate : gate_list.GetArray()) {
      if (HasCondition(status, Str(Get(&gate, "conditionType")))) ++true_conditions;
    }
    gates = std::to_string(true_conditions) + "/" + std::to_string(gate_list.Size());
  }
  row.String(ip.empty() ? "<none>" : ip);
  row.String(node.empty() ? "<none>" : node);
  row.String(nominated.empty() ? "<none>" : nominated);
  row.String(gates);
}

// ---------------------------------------------------------------------------------------------
// Node

void PrintNode(const Value& node, const PrintContext& ctx, RowWriter& row) {
  const Value* status = Get(&node, "status");
  std::string state;
  for (auto& c : Arr(Get(status, "conditions")).GetArray()) {
    // The last Ready condition wins, as a map keyed by type would keep it.
    if (Str(Get(&c, "type")) == "Ready") {
      state = Str(Get(&c, "status")) == "True" ? "Ready" : "NotReady";
    }
  }
  if (state.empty()) state = "Unknown";
  if (Bool(Dig(&node, "spec", "unschedulable"))) state += ",SchedulingDisabled";

  std::set<std::string> roles;
  constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
  if (const Value* labels = Dig(&node, "metadata", "labels"); IsObject(labels)) {
    for (auto& m : labels->GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (key.substr(0, kRolePrefix.size()) == kRolePrefix) {
        if (key.size() > kRolePrefix.size()) roles.emplace(key.substr(kRolePrefix.size()));
      } else if (key == "kubernetes.io/role" && !Str(&m.value).empty()) {
        roles.emplace(Str(&m.value));
      }
    }
  }
  std::string role_cell = Join(std::vector<std::string>(roles.begin(), roles.end()), ",");

  const Value* info = Get(status, "nodeInfo");
  auto address = [&](std::string_view type) -> std::string {
    for (auto& a : Arr(Get(status, "addresses")).GetArray()) {
      if (Str(Get(&a, "type")) == type) return std::string(Str(Get(&a, "address")));
    }
    return "<none>";
  };
  auto or_unknown = [](std::string_view s) { return s.empty() ? "<unknown>" : std::string(s); };

  row.String(Name(node));
  row.String(state);
  row.String(role_cell.empty() ? "<none>" : role_cell);
  row.String(CreationAge(node, ctx));
  row.String(Str(Get(info, "kubeletVersion")));
  row.String(address("InternalIP"));
  row.String(address("ExternalIP"));
  row.String(or_unknown(Str(Get(info, "osImage"))));
  row.String(or_unknown(Str(Get(info, "kernelVersion"))));
  row.String(or_unknown(Str(Get(info, "containerRuntimeVersion"))));
}

// ---------------------------------------------------------------------------------------------
// Namespace, ConfigMap, Secret, ServiceAccount

void PrintNamespace(const Value& ns, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(ns));
  row.String(Str(Dig(&ns, "status", "phase")));
  row.String(CreationAge(ns, ctx));
}

void PrintConfigMap(const Value& cm, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(cm));
  row.Int(static_cast<int64_t>(Count(Get(&cm, "data")) + Count(Get(&cm, "binaryData"))));
  row.String(CreationAge(cm, ctx));
}

void PrintSecret(const Value& secret, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(secret));
  row.String(Str(Get(&secret, "type")));
  row.Int(static_cast<int64_t>(Count(Get(&secret, "data"))));
  row.String(CreationAge(secret, ctx));
}

void PrintServiceAccount(const Value& sa, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(sa));
  row.Int(static_cast<int64_t>(Count(Get(&sa, "secrets"))));
  row.String(CreationAge(sa, ctx));
}

// ---------------------------------------------------------------------------------------------
// Service, Endpoints

std::string ServiceExternalIP(const Value* spec, const Value* status, std::string_view type) {
  std::vector<std::string> external;
  for (auto& ip : Arr(Get(spec, "externalIPs")).GetArray()) external.emplace_back(Str(&ip));
  if (type == "ClusterIP" || type == "NodePort") {
    return external.empty() ? "<none>" : Join(external, ",");
  }
  if (type == "LoadBalancer") {
    const std::string lb = LoadBalancerAddresses(Get(status, "loadBalancer"));
    if (!external.empty()) return lb.empty() ? Join(external, ",") : lb + "," + Join(external, ",");
    return lb.empty() ? "<pending>" : lb;
  }
  if (type == "ExternalName") return std::string(Str(Get(spec, "externalName")));
  return "<unknown>";
}

// "80/TCP,443:30443/TCP": port, then node port when allocated, then protocol.
std::string ServicePorts(const Value* ports) {
  std::vector<std::string> pieces;
  for (auto& p : Arr(ports).GetArray()) {
    std::string_view protocol = Str(Get(&p, "protocol"));
    if (protocol.empty()) protocol = "TCP";  // the API default
    std::string piece = std::to_string(IntOr(Get(&p, "port"), 0));
    if (const int64_t node_port = IntOr(Get(&p, "nodePort"), 0); node_port > 0) {
      piece += ":" + std::to_string(node_port);
    }
    pieces.push_back(piece + "/" + std::string(protocol));
  }
  return Join(pieces, ",");
}

void PrintService(const Value& svc, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&svc, "spec");
  std::string_view type = Str(Get(spec, "type"));
  if (type.empty()) type = "ClusterIP";  // the API default
  std::string cluster_ip(Str(First(Get(spec, "clusterIPs"))));
  if (cluster_ip.empty()) cluster_ip = Str(Get(spec, "clusterIP"));
  const std::string ports = ServicePorts(Get(spec, "ports"));

  row.String(Name(svc));
  row.String(type);
  row.String(cluster_ip.empty() ? "<none>" : cluster_ip);
  row.String(ServiceExternalIP(spec, Get(&svc, "status"), type));
  row.String(ports.empty() ? "<none>" : ports);
  row.String(CreationAge(svc, ctx));
  row.String(FormatLabels(Get(spec, "selector")));
}

void PrintEndpoints(const Value& ep, const PrintContext& ctx, RowWriter& row) {
  const Value& subsets = Arr(Get(&ep, "subsets"));
  std::string cell;
  if (subsets.Empty()) {
    cell = "<none>";
  } else {
    constexpr size_t kMax = 3;
    std::vector<std::string> list;
    bool more = false;
    size_t count = 0;
    for (auto& ss : subsets.GetArray()) {
      const Value& addresses = Arr(Get(&ss, "addresses"));
      const Value& ports = Arr(Get(&ss, "ports"));
      if (ports.Empty()) {  // headless services may have no ports
        count += addresses.Size();
        for (auto& a : addresses.GetArray()) {
          if (list.size() == kMax) {
            more = true;
            break;
          }
          list.emplace_back(Str(Get(&a, "ip")));
        }
        continue;
      }
      for (auto& port : ports.GetArray()) {
        count += addresses.Size();
        for (auto& a : addresses.GetArray()) {
          if (list.size() == kMax) {
            more = true;
            break;
          }
          list.push_back(JoinHostPort(Str(Get(&a, "ip")), IntOr(Get(&port, "port"), 0)));
        }
      }
    }
    cell = Join(list, ",");
    if (more) cell += " + " + std::to_string(count - kMax) + " more...";
  }
  row.String(Name(ep));
  row.String(cell);
  row.String(CreationAge(ep, ctx));
}

// ---------------------------------------------------------------------------------------------
// Event (core/v1 and events.k8s.io/v1 name the same fields differently)

struct EventFields {
  std::string_view involved;
  std::string_view message;
  std::string_view source;
  std::string_view first;
  std::string_view last;
  std::string_view count;
  std::string_view reporting_controller;
};
constexpr EventFields kCoreEvent{"involvedObject",    "message",       "source",
                                 "firstTimestamp",    "lastTimestamp", "count",
                                 "reportingComponent"};
constexpr EventFields kEventsEvent{"regarding",
                                   "note",
                                   "deprecatedSource",
                                   "deprecatedFirstTimestamp",
                                   "deprecatedLastTimestamp",
                                   "deprecatedCount",
                                   "reportingController"};

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\n\r\v\f");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\n\r\v\f");
  return std::string(s.substr(first, last - first + 1));
}

void PrintEventWith(const EventFields& f, const Value& ev, const PrintContext& ctx,
                    RowWriter& row) {
  std::optional<Timestamp> first_time = Time(Get(&ev, f.first));
  if (first_time && IsZeroTime(*first_time)) first_time.reset();
  std::optional<Timestamp> last_time = Time(Get(&ev, f.last));
  if (last_time && IsZeroTime(*last_time)) last_time.reset();

  std::string first = first_time ? AgeSince(first_time, ctx.now)
                                 : AgeSince(Time(Get(&ev, "eventTime")), ctx.now);
  std::string last = last_time ? AgeSince(last_time, ctx.now) : first;
  int64_t count = IntOr(Get(&ev, f.count), 0);
  if (const Value* series = Get(&ev, "series"); IsObject(series)) {
    last = AgeSince(Time(Get(series, "lastObservedTime")), ctx.now);
    count = IntOr(Get(series, "count"), 0);
  } else if (count == 0) {
    count = 1;  // singleton events of the new API carry no count
  }

  const Value* involved = Get(&ev, f.involved);
  std::string target;
  for (char c : Str(Get(involved, "kind"))) {
    target += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (!Str(Get(involved, "name")).empty()) target += "/" + std::string(Str(Get(involved, "name")));

  const Value* source = Get(&ev, f.source);
  std::string component(Str(Get(source, "component")));
  if (component.empty()) component = Str(Get(&ev, f.reporting_controller));
  std::string host(Str(Get(source, "host")));
  if (host.empty()) host = Str(Get(&ev, "reportingInstance"));

  row.String(last);
  row.String(Str(Get(&ev, "type")));
  row.String(Str(Get(&ev, "reason")));
  row.String(target);
  row.String(Str(Get(involved, "fieldPath")));
  row.String(host.empty() ? component : component + ", " + host);
  row.String(Trim(Str(Get(&ev, f.message))));
  row.String(first);
  row.Int(count);
  row.String(Name(ev));
}

void PrintCoreEvent(const Value& ev, const PrintContext& ctx, RowWriter& row) {
  PrintEventWith(kCoreEvent, ev, ctx, row);
}
void PrintEventsEvent(const Value& ev, const PrintContext& ctx, RowWriter& row) {
  PrintEventWith(kEventsEvent, ev, ctx, row);
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume, PersistentVolumeClaim

// "RWO,ROX,RWX,RWOP" in that fixed order, each at most once.
std::string AccessModes(const Value* modes) {
  std::set<std::string_view> present;
  for (auto& m : Arr(modes).GetArray()) present.insert(Str(&m));
  std::vector<std::string> out;
  if (present.count("ReadWriteOnce")) out.push_back("RWO");
  if (present.count("ReadOnlyMany")) out.push_back("ROX");
  if (present.count("ReadWriteMany")) out.push_back("RWX");
  if (present.count("ReadWriteOncePod")) out.push_back("RWOP");
  return Join(out, ",");
}

// The beta annotation, when present, overrides spec.storageClassName.
std::string StorageClassOf(const Value& obj) {
  const Value* annotation =
      Dig(&obj, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class");
  if (annotation != nullptr && annotation->IsString()) return std::string(Str(annotation));
  return std::string(Str(Dig(&obj, "spec", "storageClassName")));
}

std::string OrUnset(const Value* v) {
  return v != nullptr && v->IsString() ? std::string(Str(v)) : "<unset>";
}

void PrintPersistentVolume(const Value& pv, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&pv, "spec");
  std::string claim;
  if (const Value* ref = Get(spec, "claimRef"); IsObject(ref)) {
    claim = std::string(Str(Get(ref, "namespace"))) + "/" + std::string(Str(Get(ref, "name")));
  }
  std::string capacity(Str(Dig(spec, "capacity", "storage")));
  if (capacity.empty()) capacity = "0";
  std::string phase(Str(Dig(&pv, "status", "phase")));
  if (HasDeletionTimestamp(pv)) phase = "Terminating";

  row.String(Name(pv));
  row.String(capacity);
  row.String(AccessModes(Get(spec, "accessModes")));
  row.String(Str(Get(spec, "persistentVolumeReclaimPolicy")));
  row.String(phase);
  row.String(claim);
  row.String(StorageClassOf(pv));
  row.String(OrUnset(Get(spec, "volumeAttributesClassName")));
  row.String(Str(Dig(&pv, "status", "reason")));
  row.String(CreationAge(pv, ctx));
  row.String(OrUnset(Get(spec, "volumeMode")));
}

void PrintPersistentVolumeClaim(const Value& pvc, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&pvc, "spec");
  const Value* status = Get(&pvc, "status");
  std::string phase(Str(Get(status, "phase")));
  if (HasDeletionTimestamp(pvc)) phase = "Terminating";
  const std::string_view volume = Str(Get(spec, "volumeName"));
  std::string capacity, modes;
  if (!volume.empty()) {  // capacity and modes are those of the bound volume
    modes = AccessModes(Get(status, "accessModes"));
    capacity = Str(Dig(status, "capacity", "storage"));
    if (capacity.empty()) capacity = "0";
  }
  row.String(Name(pvc));
  row.String(phase);
  row.String(volume);
  row.String(capacity);
  row.String(modes);
  row.String(StorageClassOf(pvc));
  row.String(OrUnset(Get(spec, "volumeAttributesClassName")));
  row.String(CreationAge(pvc, ctx));
  row.String(OrUnset(Get(spec, "volumeMode")));
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota, ReplicationController, PodTemplate

void PrintResourceQuota(const Value& quota, const PrintContext& ctx, RowWriter& row) {
  const Value* hard = Dig(&quota, "status", "hard");
  const Value* used = Dig(&quota, "status", "used");
  std::map<std::string, std::string> sorted;  // resource name -> "used/hard"
  if (IsObject(hard)) {
    for (auto& m : hard->GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      std::string used_value(Str(Get(used, name)));
      if (used_value.empty()) used_value = "0";
      sorted[name] = used_value + "/" + std::string(Str(&m.value));
    }
  }
  std::vector<std::string> requests, limits;
  for (auto& [name, usage] : sorted) {
    auto& column = name.rfind("limits.", 0) == 0 ? limits : requests;
    column.push_back(name + ": " + usage);
  }
  row.String(Name(quota));
  row.String(Join(requests, ", "));
  row.String(Join(limits, ", "));
  row.String(CreationAge(quota, ctx));
}

void PrintReplicationController(const Value& rc, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&rc, "spec");
  row.String(Name(rc));
  row.Int(IntOr(Get(spec, "replicas"), 1));
  row.Int(IntOr(Dig(&rc, "status", "replicas"), 0));
  row.Int(IntOr(Dig(&rc, "status", "readyReplicas"), 0));
  row.String(CreationAge(rc, ctx));
  AddContainerCells(Dig(spec, "template", "spec", "containers"), row);
  row.String(FormatLabels(Get(spec, "selector")));
}

void PrintPodTemplate(const Value& pt, const PrintContext&, RowWriter& row) {
  row.String(Name(pt));
  AddContainerCells(Dig(&pt, "template", "spec", "containers"), row);
  row.String(FormatLabels(Dig(&pt, "template", "metadata", "labels")));
}

}  // namespace

void AddCorePrinters(std::vector<KindPrinter>& out) {
  out.push_back({"", "Pod",
                 {kName,
                  Col("Ready", "string", "Ready containers out of all containers."),
                  Col("Status", "string", "Summary of the pod's and its containers' state."),
                  Col("Restarts", "string",
                      "Container restarts, with the time since the last one."),
                  kAge,
                  Col("IP", "string", "The pod's first IP address.", 1),
                  Col("Node", "string", "The node the pod is bound to.", 1),
                  Col("Nominated Node", "string", "The node preemption made room on.", 1),
                  Col("Readiness Gates", "string", "Readiness gates whose condition is True.", 1)},
                 PrintPod});
  out.push_back({"", "Node",
                 {kName,
                  Col("Status", "string", "Node readiness; SchedulingDisabled when cordoned."),
                  Col("Roles", "string", "Roles from node-role.kubernetes.io/ labels."),
                  kAge,
                  Col("Version", "string", "Kubelet version."),
                  Col("Internal-IP", "string", "First InternalIP address.", 1),
                  Col("External-IP", "string", "First ExternalIP address.", 1),
                  Col("OS-Image", "string", "Operating system image.", 1),
                  Col("Kernel-Version", "string", "Kernel version.", 1),
                  Col("Container-Runtime", "string", "Container runtime and version.", 1)},
                 PrintNode});
  out.push_back({"", "Namespace",
                 {kName, Col("Status", "string", "Namespace phase."), kAge},
                 PrintNamespace});
  out.push_back({"", "ConfigMap",
                 {kName, Col("Data", "string", "Number of data and binaryData keys."), kAge},
                 PrintConfigMap});
  out.push_back({"", "Secret",
                 {kName, Col("Type", "string", "Secret type."),
                  Col("Data", "string", "Number of data keys."), kAge},
                 PrintSecret});
  out.push_back({"", "ServiceAccount",
                 {kName, Col("Secrets", "string", "Number of referenced secrets."), kAge},
                 PrintServiceAccount});
  out.push_back({"", "Service",
                 {kName,
                  Col("Type", "string", "Service type."),
                  Col("Cluster-IP", "string", "First cluster IP."),
                  Col("External-IP", "string", "External IPs or load balancer addresses."),
                  Col("Port(s)", "string", "Ports: port[:nodePort]/protocol."),
                  kAge,
                  Col("Selector", "string", "Pod label selector.", 1)},
                 PrintService});
  out.push_back({"", "Endpoints",
                 {kName, Col("Endpoints", "string", "Up to three ip:port endpoints."), kAge},
                 PrintEndpoints});
  const std::vector<ColumnDef> event_columns = {
      Col("Last Seen", "string", "Time since the event was last observed."),
      Col("Type", "string", "Event type: Normal or Warning."),
      Col("Reason", "string", "Short reason for the event."),
      Col("Object", "string", "The object the event is about."),
      Col("Subobject", "string", "Field path within the object.", 1),
      Col("Source", "string", "Reporting component and host.", 1),
      Col("Message", "string", "Event message."),
      Col("First Seen", "string", "Time since the event was first observed.", 1),
      Col("Count", "string", "Times the event was observed.", 1),
      ColumnDef{"Name", "string", "name", "Name of the event object.", 1}};
  out.push_back({"", "Event", event_columns, PrintCoreEvent});
  out.push_back({"events.k8s.io", "Event", event_columns, PrintEventsEvent});
  out.push_back({"", "PersistentVolume",
                 {kName,
                  Col("Capacity", "string", "Storage capacity."),
                  Col("Access Modes", "string", "Access modes."),
                  Col("Reclaim Policy", "string", "What happens when the claim is released."),
                  Col("Status", "string", "Volume phase."),
                  Col("Claim", "string", "Bound claim, namespace/name."),
                  Col("StorageClass", "string", "Storage class."),
                  Col("VolumeAttributesClass", "string", "Volume attributes class."),
                  Col("Reason", "string", "Reason for the phase."),
                  kAge,
                  Col("VolumeMode", "string", "Filesystem or Block.", 1)},
                 PrintPersistentVolume});
  out.push_back({"", "PersistentVolumeClaim",
                 {kName,
                  Col("Status", "string", "Claim phase."),
                  Col("Volume", "string", "Bound volume."),
                  Col("Capacity", "string", "Capacity of the bound volume."),
                  Col("Access Modes", "string", "Access modes of the bound volume."),
                  Col("StorageClass", "string", "Storage class."),
                  Col("VolumeAttributesClass", "string", "Volume attributes class."),
                  kAge,
                  Col("VolumeMode", "string", "Filesystem or Block.", 1)},
                 PrintPersistentVolumeClaim});
  out.push_back({"", "ResourceQuota",
                 {kName, Col("Request", "string", "Used/hard for non-limit resources."),
                  Col("Limit", "string", "Used/hard for limits.* resources."), kAge},
                 PrintResourceQuota});
  out.push_back({"", "ReplicationController",
                 {kName, Col("Desired", "integer", "Desired replicas."),
                  Col("Current", "integer", "Current replicas."),
                  Col("Ready", "integer", "Ready replicas."), kAge,
                  Col("Containers", "string", "Container names of the template.", 1),
                  Col("Images", "string", "Container images of the template.", 1),
                  Col("Selector", "string", "Pod label selector.", 1)},
                 PrintReplicationController});
  out.push_back({"", "PodTemplate",
                 {kName, Col("Containers", "string", "Container names of the template."),
                  Col("Images", "string", "Container images of the template."),
                  Col("Pod Labels", "string", "Labels of the pod template.")},
                 PrintPodTemplate});
}

}  // namespace kite::tables::internal
