#include "src/agent/pod_status.h"

#include <map>

#include "src/agent/json_build.h"
#include "src/base/clock.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using namespace jb;  // NOLINT: the builder's few names
using Kind = ContainerStateView::Kind;

// --- Quantities, just enough for QoS: exact values in nano-units. --------------------------
// TODO(lead): use admission::Quantity (src/server/admission/quantity.h) once kite_admission
// builds; this private parser exists because it did not yet.
using Nano = __int128;
constexpr Nano kNanoCap = Nano(1) << 120;  // saturation: larger values compare as equal

std::optional<Nano> ParseQuantityNano(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  Nano mantissa = 0;
  int fraction_digits = 0, digits = 0;
  bool dot = false;
  for (; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); ++i) {
    if (s[i] == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    ++digits;
    if (mantissa < kNanoCap) {
      mantissa = mantissa * 10 + (s[i] - '0');
      if (dot) ++fraction_digits;
    } else if (!dot) {
      return kNanoCap;  // absurdly large
    }
  }
  if (digits == 0) return std::nullopt;
  std::string_view suffix = s.substr(i);
  int exp10 = 0;
  int binary = 0;  // powers of 1024
  static const std::map<std::string_view, int> kDecimal = {
      {"", 0}, {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  static const std::map<std::string_view, int> kBinary = {
      {"Ki", 1}, {"Mi", 2}, {"Gi", 3}, {"Ti", 4}, {"Pi", 5}, {"Ei", 6}};
  if (auto d = kDecimal.find(suffix); d != kDecimal.end()) {
    exp10 = d->second;
  } else if (auto b = kBinary.find(suffix); b != kBinary.end()) {
    binary = b->second;
  } else if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    bool neg_exp = false;
    if (suffix[j] == '+' || suffix[j] == '-') neg_exp = suffix[j++] == '-';
    if (j >= suffix.size()) return std::nullopt;
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9') return std::nullopt;
      e = std::min(e * 10 + (suffix[j] - '0'), 1000);
    }
    exp10 = neg_exp ? -e : e;
  } else {
    return std::nullopt;
  }
  for (int k = 0; k < binary && mantissa < kNanoCap; ++k) mantissa *= 1024;
  int shift = exp10 - fraction_digits + 9;
  for (; shift > 0 && mantissa < kNanoCap; --shift) mantissa *= 10;
  if (shift > 0) mantissa = kNanoCap;
  for (; shift < 0 && mantissa != 0; ++shift) {
    mantissa = (mantissa + 9) / 10;  // Kubernetes rounds finer than 1n up
  }
  if (mantissa > kNanoCap) mantissa = kNanoCap;
  return negative ? -mantissa : mantissa;
}

// The positive cpu and memory quantities of one resource list, added into `sum`; the
// names found go into `found`.
void AddQosResources(const rapidjson::Value* list, std::map<std::string, Nano>& sum,
                     std::map<std::string, bool>* found) {
  if (!list || !list->IsObject()) return;
  for (const char* name : {"cpu", "memory"}) {
    const rapidjson::Value* q = json::Member(*list, name);
    std::optional<Nano> value;
    if (q && q->IsString()) {
      value = ParseQuantityNano(std::string_view(q->GetString(), q->GetStringLength()));
    } else if (q && q->IsInt64()) {
      value = Nano(q->GetInt64()) * 1'000'000'000;
    }
    if (!value || *value <= 0) continue;
    sum[name] += *value;
    if (found) (*found)[name] = true;
  }
}

std::string GoList(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
  return out + "]";
}

std::string Time(int64_t millis) { return FormatRfc3339Seconds(millis); }

Value StateJson(const ContainerStateView& s, Alloc& a) {
  Value inner = Object();
  switch (s.kind) {
    case Kind::kWaiting:
      if (!s.reason.empty()) PutStr(inner, "reason", s.reason, a);
      if (!s.message.empty()) PutStr(inner, "message", s.message, a);
      break;
    case Kind::kRunning:
      PutStr(inner, "startedAt", Time(s.started_at), a);
      break;
    case Kind::kTerminated:
      PutInt(inner, "exitCode", s.exit_code, a);
      if (!s.reason.empty()) PutStr(inner, "reason", s.reason, a);
      if (!s.message.empty()) PutStr(inner, "message", s.message, a);
      if (s.started_at) PutStr(inner, "startedAt", Time(s.started_at), a);
      if (s.finished_at) PutStr(inner, "finishedAt", Time(s.finished_at), a);
      if (!s.container_id.empty()) PutStr(inner, "containerID", s.container_id, a);
      break;
  }
  Value out = Object();
  const char* key = s.kind == Kind::kWaiting ? "waiting" : s.kind == Kind::kRunning ? "running" : "terminated";
  Put(out, key, std::move(inner), a);
  return out;
}

Value ContainerJson(const ContainerReport& c, Alloc& a) {
  Value out = Object();
  PutStr(out, "name", c.name, a);
  Put(out, "state", StateJson(c.state, a), a);
  Put(out, "lastState", c.last_state ? StateJson(*c.last_state, a) : Object(), a);
  PutBool(out, "ready", c.ready, a);
  PutInt(out, "restartCount", c.restart_count, a);
  PutStr(out, "image", c.image, a);
  PutStr(out, "imageID", c.image_id, a);
  if (!c.container_id.empty()) PutStr(out, "containerID", c.container_id, a);
  PutBool(out, "started", c.started, a);
  return out;
}

struct Condition {
  std::string type;
  bool status = false;
  std::string reason;
  std::string message;
};

bool IsKubeletCondition(std::string_view type) {
  return type == "PodScheduled" || type == "Ready" || type == "Initialized" ||
         type == "ContainersReady" || type == "PodReadyToStartContainers";
}

// The previous lastTransitionTime of `type`, when its status was `status`.
std::string_view PreviousTransition(const rapidjson::Value* old_status, std::string_view type,
                                    std::string_view status) {
  const rapidjson::Value* conditions = old_status ? json::Member(*old_status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return {};
  for (const auto& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == type) {
      return json::StringMember(c, "status") == status ? json::StringMember(c, "lastTransitionTime")
                                                       : std::string_view();
    }
  }
  return {};
}

std::string_view RestartPolicy(const rapidjson::Value& pod) {
  const rapidjson::Value* spec = json::Member(pod, "spec");
  std::string_view policy = spec ? json::StringMember(*spec, "restartPolicy") : std::string_view();
  return policy.empty() ? "Always" : policy;
}

bool InitComplete(const ContainerReport& c) {
  return c.state.kind == Kind::kTerminated && c.state.exit_code == 0;
}

}  // namespace

std::string QosClass(const rapidjson::Value& pod) {
  const rapidjson::Value* spec = json::Member(pod, "spec");
  std::map<std::string, Nano> requests, limits;
  bool guaranteed = true;
  for (const char* list : {"containers", "initContainers"}) {
    const rapidjson::Value* containers = spec ? json::Member(*spec, list) : nullptr;
    if (!containers || !containers->IsArray()) continue;
    for (const auto& c : containers->GetArray()) {
      const rapidjson::Value* resources = json::Member(c, "resources");
      const rapidjson::Value* req = resources ? json::Member(*resources, "requests") : nullptr;
      const rapidjson::Value* lim = resources ? json::Member(*resources, "limits") : nullptr;
      // Defaulting copies a limit into an absent request; do the same here.
      std::map<std::string, Nano> own_requests, own_limits;
      std::map<std::string, bool> limits_found;
      AddQosResources(req, own_requests, nullptr);
      AddQosResources(lim, own_limits, &limits_found);
      for (const auto& [name, value] : own_limits) {
        bool requested = req && json::Member(*req, name) != nullptr;
        if (!requested) own_requests[name] = value;
      }
      for (const auto& [name, value] : own_requests) requests[name] += value;
      for (const auto& [name, value] : own_limits) limits[name] += value;
      if (!limits_found.count("cpu") || !limits_found.count("memory")) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, value] : requests) {
      auto it = limits.find(name);
      if (it == limits.end() || it->second != value) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

std::string PodPhase(const rapidjson::Value& pod, const PodReport& report) {
  std::string_view policy = RestartPolicy(pod);
  int pending_init = 0, failed_init = 0;
  for (const ContainerReport& c : report.init_containers) {
    switch (c.state.kind) {
      case Kind::kRunning:
        ++pending_init;
        break;
      case Kind::kTerminated:
        if (c.state.exit_code != 0) ++failed_init;
        break;
      case Kind::kWaiting:
        if (c.last_state && c.last_state->kind == Kind::kTerminated) {
          if (c.last_state->exit_code != 0) ++failed_init;
        } else {
          ++pending_init;
        }
        break;
    }
  }
  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const ContainerReport& c : report.containers) {
    switch (c.state.kind) {
      case Kind::kRunning:
        ++running;
        break;
      case Kind::kTerminated:
        ++stopped;
        if (c.state.exit_code == 0) ++succeeded;
        break;
      case Kind::kWaiting:
        if (c.last_state && c.last_state->kind == Kind::kTerminated) {
          ++stopped;
        } else {
          ++waiting;
        }
        break;
    }
  }
  if (failed_init > 0 && policy == "Never") return "Failed";
  if (pending_init > 0 || waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (report.terminal) return stopped == succeeded ? "Succeeded" : "Failed";
    if (policy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policy == "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

rapidjson::Document PodStatus(const rapidjson::Value& pod, const PodReport& report,
                              int64_t now_millis) {
  rapidjson::Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  const rapidjson::Value* old_status = json::Member(pod, "status");
  std::string phase = PodPhase(pod, report);
  std::string now = Time(now_millis);

  std::vector<Condition> conditions;
  conditions.push_back({"PodReadyToStartContainers", report.sandbox_ready, "", ""});
  {
    std::vector<std::string> incomplete;
    for (const ContainerReport& c : report.init_containers) {
      if (!InitComplete(c)) incomplete.push_back(c.name);
    }
    bool regular_started = false;
    for (const ContainerReport& c : report.containers) {
      regular_started = regular_started || c.state.kind != Kind::kWaiting || c.last_state.has_value();
    }
    if (phase == "Succeeded") {
      conditions.push_back({"Initialized", true, "PodCompleted", ""});
    } else if (regular_started || incomplete.empty()) {
      conditions.push_back({"Initialized", true, "", ""});
    } else {
      conditions.push_back({"Initialized", false, "ContainersNotInitialized",
                            "containers with incomplete status: " + GoList(incomplete)});
    }
  }
  Condition containers_ready{"ContainersReady", true, "", ""};
  if (phase == "Succeeded" || phase == "Failed") {
    containers_ready = {"ContainersReady", false, phase == "Succeeded" ? "PodCompleted" : "PodFailed", ""};
  } else {
    std::vector<std::string> unready;
    for (const ContainerReport& c : report.containers) {
      if (!c.ready) unready.push_back(c.name);
    }
    if (!unready.empty()) {
      containers_ready = {"ContainersReady", false, "ContainersNotReady",
                          "containers with unready status: " + GoList(unready)};
    }
  }
  Condition ready = containers_ready;
  ready.type = "Ready";
  conditions.push_back(ready);
  conditions.push_back(containers_ready);
  conditions.push_back({"PodScheduled", true, "", ""});

  PutStr(d, "phase", phase, a);
  Value conditions_json = Array();
  // Conditions the kubelet does not own (DisruptionTarget, readiness gates') stay, first.
  if (const rapidjson::Value* old = old_status ? json::Member(*old_status, "conditions") : nullptr;
      old && old->IsArray()) {
    for (const auto& c : old->GetArray()) {
      if (!IsKubeletCondition(json::StringMember(c, "type"))) conditions_json.PushBack(Value(c, a), a);
    }
  }
  for (const Condition& c : conditions) {
    Value v = Object();
    const char* status = c.status ? "True" : "False";
    PutStr(v, "type", c.type, a);
    PutStr(v, "status", status, a);
    Put(v, "lastProbeTime", Value(rapidjson::kNullType), a);
    std::string_view since = PreviousTransition(old_status, c.type, status);
    PutStr(v, "lastTransitionTime", since.empty() ? std::string_view(now) : since, a);
    if (!c.reason.empty()) PutStr(v, "reason", c.reason, a);
    if (!c.message.empty()) PutStr(v, "message", c.message, a);
    conditions_json.PushBack(std::move(v), a);
  }
  Put(d, "conditions", std::move(conditions_json), a);
  auto ip_list = [&a](const std::string& ip) {
    Value list = Array();
    Value entry = Object();
    PutStr(entry, "ip", ip, a);
    list.PushBack(std::move(entry), a);
    return list;
  };
  if (!report.host_ip.empty()) {
    PutStr(d, "hostIP", report.host_ip, a);
    Put(d, "hostIPs", ip_list(report.host_ip), a);
  }
  if (!report.pod_ip.empty()) {
    PutStr(d, "podIP", report.pod_ip, a);
    Put(d, "podIPs", ip_list(report.pod_ip), a);
  }
  if (report.start_time) PutStr(d, "startTime", Time(report.start_time), a);
  if (!report.init_containers.empty()) {
    Value list = Array();
    for (const ContainerReport& c : report.init_containers) list.PushBack(ContainerJson(c, a), a);
    Put(d, "initContainerStatuses", std::move(list), a);
  }
  Value list = Array();
  for (const ContainerReport& c : report.containers) list.PushBack(ContainerJson(c, a), a);
  Put(d, "containerStatuses", std::move(list), a);
  PutStr(d, "qosClass", QosClass(pod), a);
  return d;
}

}  // namespace kite::agent
