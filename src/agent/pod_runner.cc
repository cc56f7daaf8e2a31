#include "src/agent/pod_runner.h"

#include <algorithm>
#include <ctime>
#include <set>
#include <vector>

#include "src/runtime/fake_runtime.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using runtime::Container;
using runtime::ContainerState;
using Kind = ContainerStateView::Kind;

// An exit this long after the previous restart starts the back-off afresh (2 × max).
constexpr int64_t kBackoffExpiryMillis = 2 * RestartBackoff::kMaxMillis;

std::string_view Str(const rapidjson::Value* object, std::string_view name) {
  return object ? json::StringMember(*object, name) : std::string_view();
}

std::vector<const rapidjson::Value*> SpecContainers(const rapidjson::Value& pod, const char* list) {
  std::vector<const rapidjson::Value*> out;
  const rapidjson::Value* spec = json::Member(pod, "spec");
  const rapidjson::Value* containers = spec ? json::Member(*spec, list) : nullptr;
  if (!containers || !containers->IsArray()) return out;
  for (const auto& c : containers->GetArray()) {
    if (c.IsObject() && !json::StringMember(c, "name").empty()) out.push_back(&c);
  }
  return out;
}

std::string_view RestartPolicy(const rapidjson::Value& pod) {
  std::string_view policy = Str(json::Member(pod, "spec"), "restartPolicy");
  return policy.empty() ? "Always" : policy;
}

runtime::Labels StringMap(const rapidjson::Value* object) {
  runtime::Labels out;
  if (!object || !object->IsObject()) return out;
  for (const auto& m : object->GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

std::vector<std::string> StringList(const rapidjson::Value* v) {
  std::vector<std::string> out;
  if (!v || !v->IsArray()) return out;
  for (const auto& item : v->GetArray()) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

// "2024-05-01T10:00:00Z" (fractions allowed) → Unix ms; 0 when it does not parse.
int64_t ParseTime(std::string_view text) {
  if (text.size() < 20) return 0;
  struct tm tm_utc = {};
  std::string s(text);
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm_utc)) return 0;
  return static_cast<int64_t>(timegm(&tm_utc)) * 1000;
}

// Go's time.Duration String for whole seconds: "10s", "1m20s", "5m0s".
std::string GoDuration(int64_t millis) {
  int64_t seconds = millis / 1000;
  if (seconds < 60) return std::to_string(seconds) + "s";
  return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
}

// Instances per container name, newest (highest attempt) first.
std::map<std::string, std::vector<Container>> ByName(std::vector<Container> containers) {
  std::map<std::string, std::vector<Container>> out;
  for (Container& c : containers) out[c.metadata.name].push_back(std::move(c));
  for (auto& [name, list] : out) {
    std::sort(list.begin(), list.end(), [](const Container& a, const Container& b) {
      if (a.metadata.attempt != b.metadata.attempt) return a.metadata.attempt > b.metadata.attempt;
      return a.created_at > b.created_at;
    });
  }
  return out;
}

ContainerStateView Terminated(const Container& c, const std::string& runtime_name) {
  ContainerStateView v;
  v.kind = Kind::kTerminated;
  v.exit_code = c.exit_code;
  v.reason = c.reason;
  v.message = c.message;
  v.started_at = c.started_at;
  v.finished_at = c.finished_at;
  v.container_id = runtime_name + "://" + c.id;
  return v;
}

ContainerStateView Waiting(std::string reason, std::string message = "") {
  ContainerStateView v;
  v.kind = Kind::kWaiting;
  v.reason = std::move(reason);
  v.message = std::move(message);
  return v;
}

}  // namespace

bool RestartBackoff::InBackoff(const std::string& key, int64_t finished_at, int64_t now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (finished_at - it->second.last_update > kBackoffExpiryMillis) return false;
  return now - finished_at < it->second.backoff;
}

void RestartBackoff::Next(const std::string& key, int64_t finished_at) {
  auto it = entries_.find(key);
  if (it == entries_.end() || finished_at - it->second.last_update > kBackoffExpiryMillis) {
    entries_[key] = {kInitialMillis, finished_at};
    return;
  }
  it->second.backoff = std::min(it->second.backoff * 2, kMaxMillis);
  it->second.last_update = finished_at;
}

int64_t RestartBackoff::Current(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.backoff;
}

Result<std::string> PodRunner::EnsureSandbox(const rapidjson::Value& pod, runtime::Runtime& rt,
                                             bool create) {
  if (!sandbox_id_.empty()) {
    Result<runtime::PodSandbox> status = rt.PodSandboxStatus(sandbox_id_);
    if (status.ok()) return sandbox_id_;
    if (status.status().code() != StatusCode::kNotFound) return status.status();
    sandbox_id_.clear();
  }
  // After an agent restart the sandbox is found by the pod uid label.
  Result<std::vector<runtime::PodSandbox>> all = rt.ListPodSandbox();
  if (!all.ok()) return all.status();
  for (const runtime::PodSandbox& s : *all) {
    auto uid = s.labels.find(runtime::kPodUidLabel);
    if (uid != s.labels.end() && uid->second == uid_) {
      sandbox_id_ = s.id;
      return sandbox_id_;
    }
  }
  if (!create) return std::string();
  const rapidjson::Value* md = json::Member(pod, "metadata");
  runtime::PodSandboxConfig config;
  config.metadata.name = Str(md, "name");
  config.metadata.namespace_ = Str(md, "namespace");
  config.metadata.uid = uid_;
  std::string_view hostname = Str(json::Member(pod, "spec"), "hostname");
  config.hostname = hostname.empty() ? config.metadata.name : std::string(hostname);
  config.labels = StringMap(md ? json::Member(*md, "labels") : nullptr);
  config.labels[runtime::kPodNameLabel] = config.metadata.name;
  config.labels[runtime::kPodNamespaceLabel] = config.metadata.namespace_;
  config.labels[runtime::kPodUidLabel] = uid_;
  config.annotations = StringMap(md ? json::Member(*md, "annotations") : nullptr);
  Result<std::string> id = rt.RunPodSandbox(config);
  if (!id.ok()) return id.status();
  sandbox_id_ = *id;
  return sandbox_id_;
}

Result<PodRunner::Outcome> PodRunner::Sync(const rapidjson::Value& pod, runtime::Runtime& rt,
                                           const std::string& host_ip, int64_t now) {
  if (start_time_ == 0) {
    start_time_ = ParseTime(Str(json::Member(pod, "status"), "startTime"));
    if (start_time_ == 0) start_time_ = now;
  }
  Result<std::string> sandbox = EnsureSandbox(pod, rt, true);
  if (!sandbox.ok()) return sandbox.status();
  Result<runtime::PodSandbox> sandbox_status = rt.PodSandboxStatus(*sandbox);
  if (!sandbox_status.ok()) return sandbox_status.status();
  Result<std::vector<Container>> listed = rt.ListContainers(*sandbox);
  if (!listed.ok()) return listed.status();
  std::map<std::string, std::vector<Container>> instances = ByName(std::move(listed).value());

  const rapidjson::Value* md = json::Member(pod, "metadata");
  std::string pod_label = std::string(Str(md, "name")) + "_" + std::string(Str(md, "namespace")) + "(" + uid_ + ")";
  std::string_view policy = RestartPolicy(pod);
  int64_t wake_at = 0;
  auto wake = [&wake_at](int64_t at) { wake_at = wake_at == 0 ? at : std::min(wake_at, at); };
  crash_loop_.clear();
  std::set<std::string> restarted;

  // Creates and starts instance `attempt` of `spec`; a refusal is reported, not returned.
  auto start = [&](const rapidjson::Value& spec, uint32_t attempt, bool init) -> Status {
    std::string name(json::StringMember(spec, "name"));
    runtime::ContainerConfig config;
    config.metadata = {name, attempt};
    config.image = json::StringMember(spec, "image");
    config.command = StringList(json::Member(spec, "command"));
    config.args = StringList(json::Member(spec, "args"));
    config.labels = {{runtime::kPodNameLabel, std::string(Str(md, "name"))},
                     {runtime::kPodNamespaceLabel, std::string(Str(md, "namespace"))},
                     {runtime::kPodUidLabel, uid_},
                     {runtime::kContainerNameLabel, name}};
    if (init) config.labels[runtime::kInitContainerLabel] = "true";
    runtime::PodSandboxConfig sandbox_config;
    sandbox_config.metadata = sandbox_status->metadata;
    sandbox_config.labels = sandbox_status->labels;
    sandbox_config.annotations = sandbox_status->annotations;
    Result<std::string> id = rt.CreateContainer(*sandbox, config, sandbox_config);
    if (!id.ok()) {
      if (id.status().code() != StatusCode::kInvalidArgument) return id.status();
      create_errors_[name] = id.status().message();
      return Status();
    }
    create_errors_.erase(name);
    return rt.StartContainer(*id);
  };
  // An exited instance that should run again: restarts it or, in back-off, reports so.
  auto restart = [&](const rapidjson::Value& spec, const Container& latest, bool init) -> Status {
    std::string name(json::StringMember(spec, "name"));
    if (backoff_.InBackoff(name, latest.finished_at, now)) {
      int64_t wait = backoff_.Current(name);
      crash_loop_[name] = "back-off " + GoDuration(wait) + " restarting failed container=" + name +
                          " pod=" + pod_label;
      wake(latest.finished_at + wait);
      return Status();
    }
    backoff_.Next(name, latest.finished_at);
    restarted.insert(name);
    return start(spec, latest.metadata.attempt + 1, init);
  };

  bool initialized = true;
  for (const rapidjson::Value* spec : SpecContainers(pod, "initContainers")) {
    std::string name(json::StringMember(*spec, "name"));
    auto it = instances.find(name);
    if (it == instances.end()) {
      KITE_RETURN_IF_ERROR(start(*spec, 0, true));
      initialized = false;
      break;
    }
    const Container& latest = it->second.front();
    if (latest.state == ContainerState::kExited && latest.exit_code == 0) continue;
    initialized = false;
    if (latest.state == ContainerState::kCreated) {
      KITE_RETURN_IF_ERROR(rt.StartContainer(latest.id));
    } else if (latest.state == ContainerState::kExited && policy != "Never") {
      KITE_RETURN_IF_ERROR(restart(*spec, latest, true));
    }
    break;  // one init container at a time
  }
  if (initialized) {
    for (const rapidjson::Value* spec : SpecContainers(pod, "containers")) {
      std::string name(json::StringMember(*spec, "name"));
      auto it = instances.find(name);
      if (it == instances.end()) {
        KITE_RETURN_IF_ERROR(start(*spec, 0, false));
        continue;
      }
      const Container& latest = it->second.front();
      if (latest.state == ContainerState::kCreated) {
        KITE_RETURN_IF_ERROR(rt.StartContainer(latest.id));
      } else if (latest.state == ContainerState::kExited) {
        bool again = policy == "Always" || (policy == "OnFailure" && latest.exit_code != 0);
        if (again) KITE_RETURN_IF_ERROR(restart(*spec, latest, false));
      }
    }
  }
  // Keep the current instance and the one before it (lastState); drop older ones. For a
  // container restarted just now the newest listed instance became the previous one.
  for (const auto& [name, list] : instances) {
    size_t keep = restarted.count(name) ? 1 : 2;
    for (size_t i = keep; i < list.size(); ++i) (void)rt.RemoveContainer(list[i].id);
  }

  Outcome outcome;
  Result<PodReport> report = BuildReport(pod, rt, host_ip, now, wake_at);
  if (!report.ok()) return report.status();
  outcome.report = std::move(report).value();
  outcome.wake_at = wake_at;
  return outcome;
}

Result<PodReport> PodRunner::BuildReport(const rapidjson::Value& pod, runtime::Runtime& rt,
                                         const std::string& host_ip, int64_t now, int64_t& wake_at) {
  PodReport report;
  report.host_ip = host_ip;
  report.start_time = start_time_;
  std::map<std::string, std::vector<Container>> instances;
  if (!sandbox_id_.empty()) {
    Result<runtime::PodSandbox> sandbox = rt.PodSandboxStatus(sandbox_id_);
    if (!sandbox.ok()) return sandbox.status();
    report.sandbox_ready = sandbox->state == runtime::SandboxState::kReady;
    report.pod_ip = sandbox->ip;
    Result<std::vector<Container>> listed = rt.ListContainers(sandbox_id_);
    if (!listed.ok()) return listed.status();
    instances = ByName(std::move(listed).value());
  }
  const std::string runtime_name = rt.Version().runtime_name;
  const rapidjson::Value* md = json::Member(pod, "metadata");
  const rapidjson::Value* annotations = md ? json::Member(*md, "annotations") : nullptr;
  bool never_ready = annotations && json::StringMember(*annotations, runtime::kReadyAnnotation) == "false";
  auto wake = [&wake_at](int64_t at) { wake_at = wake_at == 0 ? at : std::min(wake_at, at); };

  bool init_done = true;
  for (const rapidjson::Value* spec : SpecContainers(pod, "initContainers")) {
    auto it = instances.find(std::string(json::StringMember(*spec, "name")));
    bool ok = it != instances.end() && it->second.front().state == ContainerState::kExited &&
              it->second.front().exit_code == 0;
    init_done = init_done && ok;
  }

  auto report_one = [&](const rapidjson::Value& spec, bool init) {
    ContainerReport r;
    r.name = json::StringMember(spec, "name");
    r.image = json::StringMember(spec, "image");
    auto it = instances.find(r.name);
    if (it == instances.end()) {
      auto error = create_errors_.find(r.name);
      if (error != create_errors_.end()) {
        r.state = Waiting("CreateContainerError", error->second);
      } else {
        r.state = Waiting(init || !init_done ? "PodInitializing" : "ContainerCreating");
      }
      return r;
    }
    const Container& latest = it->second.front();
    const Container* previous = it->second.size() > 1 ? &it->second[1] : nullptr;
    r.container_id = runtime_name + "://" + latest.id;
    r.image_id = latest.image_ref;
    r.restart_count = static_cast<int32_t>(latest.metadata.attempt);
    if (previous && previous->state == ContainerState::kExited) {
      r.last_state = Terminated(*previous, runtime_name);
    }
    switch (latest.state) {
      case ContainerState::kCreated:
        r.state = Waiting("ContainerCreating");
        break;
      case ContainerState::kRunning: {
        r.state.kind = Kind::kRunning;
        r.state.started_at = latest.started_at;
        r.started = true;
        if (!init && !never_ready) {
          int64_t delay = 0;
          if (const rapidjson::Value* probe = json::Member(spec, "readinessProbe")) {
            const rapidjson::Value* d = json::Member(*probe, "initialDelaySeconds");
            if (d && d->IsInt64() && d->GetInt64() > 0) delay = std::min<int64_t>(d->GetInt64(), 1'000'000) * 1000;
          }
          r.ready = now >= latest.started_at + delay;
          if (!r.ready) wake(latest.started_at + delay);
        }
        break;
      }
      case ContainerState::kExited: {
        auto crash = crash_loop_.find(r.name);
        if (crash != crash_loop_.end()) {
          r.state = Waiting("CrashLoopBackOff", crash->second);
          r.last_state = Terminated(latest, runtime_name);
        } else {
          r.state = Terminated(latest, runtime_name);
          r.ready = init && latest.exit_code == 0;
        }
        break;
      }
      case ContainerState::kUnknown:
        r.state = Waiting("ContainerStatusUnknown", "the container state could not be read");
        break;
    }
    return r;
  };
  for (const rapidjson::Value* spec : SpecContainers(pod, "initContainers")) {
    report.init_containers.push_back(report_one(*spec, true));
  }
  for (const rapidjson::Value* spec : SpecContainers(pod, "containers")) {
    report.containers.push_back(report_one(*spec, false));
  }
  return report;
}

Result<PodRunner::Outcome> PodRunner::Kill(const rapidjson::Value& pod, runtime::Runtime& rt,
                                           const std::string& host_ip, int64_t grace_seconds,
                                           int64_t now) {
  Result<std::string> sandbox = EnsureSandbox(pod, rt, false);
  if (!sandbox.ok()) return sandbox.status();
  if (!sandbox->empty()) {
    Result<std::vector<Container>> listed = rt.ListContainers(*sandbox);
    if (!listed.ok()) return listed.status();
    for (const Container& c : *listed) {
      if (c.state == ContainerState::kRunning) {
        Status s = rt.StopContainer(c.id, grace_seconds);
        if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      }
    }
    Status s = rt.StopPodSandbox(*sandbox);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  crash_loop_.clear();  // nothing restarts any more
  if (start_time_ == 0) start_time_ = ParseTime(Str(json::Member(pod, "status"), "startTime"));
  Outcome outcome;
  Result<PodReport> report = BuildReport(pod, rt, host_ip, now, outcome.wake_at);
  if (!report.ok()) return report.status();
  outcome.report = std::move(report).value();
  outcome.report.terminal = true;
  outcome.wake_at = 0;
  return outcome;
}

Status PodRunner::Remove(runtime::Runtime& rt) {
  rapidjson::Value none(rapidjson::kObjectType);
  Result<std::string> sandbox = EnsureSandbox(none, rt, false);
  if (!sandbox.ok()) return sandbox.status();
  if (sandbox->empty()) return Status();
  KITE_RETURN_IF_ERROR(rt.RemovePodSandbox(*sandbox));
  sandbox_id_.clear();
  return Status();
}

}  // namespace kite::agent
