#include "src/agent/pod_runner.h"

#include <algorithm>
#include <ctime>
#include <set>
#include <thread>
#include <vector>

#include "src/agent/prober/lifecycle_hooks.h"
#include "src/base/go_duration.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using runtime::Container;
using runtime::ContainerState;
using Kind = ContainerStateView::Kind;

// An exit this long after the previous restart starts the back-off afresh (2 × max).
constexpr int64_t kBackoffExpiryMillis = 2 * RestartBackoff::kMaxMillis;
// Volumes not ready yet (a claim not bound, a ConfigMap missing): look again this soon.
constexpr int64_t kVolumeRetryMillis = 2'000;
// A config that could not be built: the kubelet's pod worker retries after 10 s.
constexpr int64_t kConfigRetryMillis = 10'000;

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

bool Bool(const rapidjson::Value* object, std::string_view name) {
  const rapidjson::Value* v = object ? json::Member(*object, name) : nullptr;
  return v && v->IsBool() && v->GetBool();
}

// "2024-05-01T10:00:00Z" (fractions allowed) → Unix ms; 0 when it does not parse.
int64_t ParseTime(std::string_view text) {
  if (text.size() < 20) return 0;
  struct tm tm_utc = {};
  std::string s(text);
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm_utc)) return 0;
  return static_cast<int64_t>(timegm(&tm_utc)) * 1000;
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

void PodRunner::ContainerEvent(const rapidjson::Value& pod, std::string_view name, client::EventType type,
                               std::string_view reason, const std::string& message) const {
  if (recorder_.enabled()) recorder_.Event(client::ContainerReferenceTo(pod, name), type, reason, message);
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
  Result<std::string> id = rt.RunPodSandbox(SandboxConfig(pod));
  if (!id.ok()) {
    recorder_.Event(pod, client::EventType::kWarning, "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: " + id.status().message());
    return id.status();
  }
  sandbox_id_ = *id;
  return sandbox_id_;
}

Result<PodRunner::Outcome> PodRunner::Sync(const rapidjson::Value& pod, runtime::Runtime& rt,
                                           const std::string& host_ip, int64_t now) {
  if (start_time_ == 0) {
    start_time_ = ParseTime(Str(json::Member(pod, "status"), "startTime"));
    if (start_time_ == 0) start_time_ = now;
  }
  // Volumes first, on every sync, so projected files follow their sources. Until they are
  // ready no container starts (running ones go on), as the kubelet waits for its mounts.
  volume_error_.clear();
  if (setup_ && setup_->volumes) {
    Result<volumes::VolumeMap> mounted = setup_->volumes->SetUp(pod);
    if (mounted.ok()) {
      volumes_ = std::move(mounted).value();
    } else {
      volume_error_ = mounted.status().message();
      recorder_.Event(pod, client::EventType::kWarning, "FailedMount", volume_error_);
      Result<std::string> existing = EnsureSandbox(pod, rt, false);
      if (!existing.ok()) return existing.status();
      Outcome waiting;
      waiting.wake_at = now + kVolumeRetryMillis;
      Result<PodReport> report = BuildReport(pod, rt, host_ip, now, waiting.wake_at);
      if (!report.ok()) return report.status();
      waiting.report = std::move(report).value();
      return waiting;
    }
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
    Result<std::optional<runtime::ContainerConfig>> made =
        ContainerConfigFor(pod, spec, attempt, *sandbox_status, host_ip, rt, now, wake_at);
    if (!made.ok()) return made.status();
    if (!*made) {  // waiting: the reason is in create_errors_
      if (auto error = create_errors_.find(name); error != create_errors_.end()) {
        // The kubelet's "Error: ErrImagePull", "Error: ImagePullBackOff", "Error: <config error>".
        bool image = error->second.first != "CreateContainerConfigError";
        ContainerEvent(pod, name, client::EventType::kWarning, "Failed",
                       "Error: " + (image ? error->second.first : error->second.second));
      }
      return Status();
    }
    runtime::ContainerConfig config = std::move(**made);
    if (init) config.labels[runtime::kInitContainerLabel] = "true";
    runtime::PodSandboxConfig sandbox_config = SandboxConfig(pod);
    sandbox_config.metadata = sandbox_status->metadata;
    Result<std::string> id = rt.CreateContainer(*sandbox, config, sandbox_config);
    if (!id.ok()) {
      ContainerEvent(pod, name, client::EventType::kWarning, "Failed", "Error: " + id.status().message());
      if (id.status().code() != StatusCode::kInvalidArgument) return id.status();
      create_errors_[name] = {"CreateContainerError", id.status().message()};
      return Status();
    }
    create_errors_.erase(name);
    ContainerEvent(pod, name, client::EventType::kNormal, "Created", "Created container " + name);
    if (Status started = rt.StartContainer(*id); !started.ok()) {
      ContainerEvent(pod, name, client::EventType::kWarning, "Failed", "Error: " + started.message());
      return started;
    }
    ContainerEvent(pod, name, client::EventType::kNormal, "Started", "Started container " + name);
    return init ? Status() : PostStart(pod, spec, *id, sandbox_status->ip, rt);
  };
  // An exited instance that should run again: restarts it or, in back-off, reports so.
  auto restart = [&](const rapidjson::Value& spec, const Container& latest, bool init) -> Status {
    std::string name(json::StringMember(spec, "name"));
    if (backoff_.InBackoff(name, latest.finished_at, now)) {
      int64_t wait = backoff_.Current(name);
      crash_loop_[name] = "back-off " + FormatGoDuration(wait * 1'000'000) +
                          " restarting failed container=" + name + " pod=" + pod_label;
      ContainerEvent(pod, name, client::EventType::kWarning, "BackOff",
                     "Back-off restarting failed container " + name + " in pod " + pod_label);
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
      } else if (latest.state == ContainerState::kRunning && probes_) {
        // A failed liveness or startup probe: kill, and restart at once unless Never
        // (the kubelet restarts without back-off: the container was running).
        if (std::optional<prober::ProbeFailure> failed = probes_->FailedProbe(uid_, name, latest.id)) {
          bool again = policy != "Never";
          kill_notes_[latest.id] = {"", failed->message + (again ? ", will be restarted" : "")};
          ContainerEvent(pod, name, client::EventType::kNormal, "Killing", kill_notes_[latest.id].message);
          std::optional<prober::ProbeSpec> probe = prober::ContainerProbe(*spec, failed->kind);
          int64_t grace = probe && probe->termination_grace_period_seconds ? *probe->termination_grace_period_seconds
                                                                            : prober::PodGracePeriodSeconds(pod);
          prober::HookContainer target{&rt, latest.id, spec, &pod, sandbox_status->ip, rt.Version().runtime_name == "fake"};
          KITE_RETURN_IF_ERROR(prober::StopContainer(target, grace));
          if (again) {
            restarted.insert(name);
            KITE_RETURN_IF_ERROR(start(*spec, latest.metadata.attempt + 1, false));
          }
        }
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
    if (report.pod_ip.empty() && Bool(json::Member(pod, "spec"), "hostNetwork")) report.pod_ip = host_ip;
    Result<std::vector<Container>> listed = rt.ListContainers(sandbox_id_);
    if (!listed.ok()) return listed.status();
    instances = ByName(std::move(listed).value());
  }
  UpdateProbes(pod, report.pod_ip, instances, rt);
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
        r.state = Waiting(error->second.first, error->second.second);
      } else {
        r.state = Waiting(init || !init_done ? "PodInitializing" : "ContainerCreating", volume_error_);
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
      ApplyKillNote(*previous, *r.last_state);
    }
    switch (latest.state) {
      case ContainerState::kCreated:
        r.state = Waiting("ContainerCreating");
        break;
      case ContainerState::kRunning: {
        r.state.kind = Kind::kRunning;
        r.state.started_at = latest.started_at;
        r.started = init || !probes_ || probes_->Started(uid_, r.name, latest.id);
        if (!init && !never_ready && probes_ && probes_->HasProbe(uid_, r.name, prober::ProbeKind::kReadiness)) {
          r.ready = r.started && probes_->Ready(uid_, r.name, latest.id);
        } else if (!init && !never_ready && r.started) {
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
        if (auto error = create_errors_.find(r.name); error != create_errors_.end()) {
          // Its next instance could not be created (image, config).
          r.state = Waiting(error->second.first, error->second.second);
          r.last_state = Terminated(latest, runtime_name);
          ApplyKillNote(latest, *r.last_state);
        } else if (crash != crash_loop_.end()) {
          r.state = Waiting("CrashLoopBackOff", crash->second);
          r.last_state = Terminated(latest, runtime_name);
          ApplyKillNote(latest, *r.last_state);
        } else {
          r.state = Terminated(latest, runtime_name);
          ApplyKillNote(latest, r.state);
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
    // Each running container gets its preStop hook and the grace period, all at once.
    std::string pod_ip;
    if (Result<runtime::PodSandbox> status = rt.PodSandboxStatus(*sandbox); status.ok()) pod_ip = status->ip;
    std::vector<const Container*> running;
    for (const Container& c : *listed) {
      if (c.state != ContainerState::kRunning) continue;
      running.push_back(&c);
      ContainerEvent(pod, c.metadata.name, client::EventType::kNormal, "Killing", "Stopping container " + c.metadata.name);
    }
    std::vector<Status> stopped(running.size());
    auto stop = [&](size_t i) {
      const Container& c = *running[i];
      const rapidjson::Value* spec = nullptr;
      for (const char* list : {"containers", "initContainers"}) {
        for (const rapidjson::Value* candidate : SpecContainers(pod, list)) {
          if (json::StringMember(*candidate, "name") == c.metadata.name) spec = candidate;
        }
      }
      if (!spec) {
        stopped[i] = rt.StopContainer(c.id, grace_seconds);
        return;
      }
      prober::HookContainer target{&rt, c.id, spec, &pod, pod_ip, rt.Version().runtime_name == "fake"};
      stopped[i] = prober::StopContainer(target, grace_seconds);
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < running.size(); ++i) threads.emplace_back(stop, i);
    if (!running.empty()) stop(0);
    for (std::thread& t : threads) t.join();
    for (const Status& s : stopped) {
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    Status s = rt.StopPodSandbox(*sandbox);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  crash_loop_.clear();  // nothing restarts any more
  if (start_time_ == 0) start_time_ = ParseTime(Str(json::Member(pod, "status"), "startTime"));
  Outcome outcome;
  Result<PodReport> report = BuildReport(pod, rt, host_ip, now, outcome.wake_at);
  if (probes_) probes_->Remove(uid_);  // nothing runs any more
  if (!report.ok()) return report.status();
  outcome.report = std::move(report).value();
  outcome.report.terminal = true;
  outcome.wake_at = 0;
  return outcome;
}

Status PodRunner::Remove(runtime::Runtime& rt) {
  if (probes_) probes_->Remove(uid_);
  rapidjson::Value none(rapidjson::kObjectType);
  Result<std::string> sandbox = EnsureSandbox(none, rt, false);
  if (!sandbox.ok()) return sandbox.status();
  if (!sandbox->empty()) {
    KITE_RETURN_IF_ERROR(rt.RemovePodSandbox(*sandbox));
    sandbox_id_.clear();
  }
  // With the containers gone nothing uses the volumes any more.
  if (setup_ && setup_->volumes) return setup_->volumes->TearDown(uid_);
  return Status();
}

// --- Container creation ----------------------------------------------------------------------

runtime::PodSandboxConfig PodRunner::SandboxConfig(const rapidjson::Value& pod) const {
  SandboxContext context;
  if (setup_) {
    context.agent_dir = setup_->agent_dir;
    context.host_dns = setup_->host_dns;
  }
  runtime::PodSandboxConfig config = BuildSandboxConfig(pod, context);
  config.metadata.uid = uid_;
  config.labels[runtime::kPodUidLabel] = uid_;
  return config;
}

Result<std::optional<runtime::ContainerConfig>> PodRunner::ContainerConfigFor(
    const rapidjson::Value& pod, const rapidjson::Value& spec, uint32_t attempt, const runtime::PodSandbox& sandbox,
    const std::string& host_ip, runtime::Runtime& rt, int64_t now, int64_t& wake_at) {
  auto wake = [&wake_at](int64_t at) { wake_at = wake_at == 0 ? at : std::min(wake_at, at); };
  std::string name(json::StringMember(spec, "name"));
  static const PodSetup kNoSetup;
  const PodSetup& setup = setup_ ? *setup_ : kNoSetup;
  ImagePullOutcome image = images_.Ensure(pod, spec, rt, setup.objects, now);
  if (!image.ok) {
    create_errors_[name] = {image.reason, image.message};
    if (image.retry_at > 0) wake(image.retry_at);
    return std::optional<runtime::ContainerConfig>();
  }
  ContainerContext context;
  context.objects = setup.objects;
  context.volumes = setup.volumes && volumes_ ? &*volumes_ : nullptr;
  if (setup.volumes) context.pod_dir = setup.volumes->PodDir(uid_);
  if (!sandbox.ip.empty()) {
    context.pod_ips.push_back(sandbox.ip);
  } else if (Bool(json::Member(pod, "spec"), "hostNetwork") && !host_ip.empty()) {
    context.pod_ips.push_back(host_ip);
  }
  if (!host_ip.empty()) context.host_ips.push_back(host_ip);
  context.node = setup.node;
  context.memory_capacity_bytes = setup.memory_capacity_bytes;
  Result<runtime::ContainerConfig> config = BuildContainerConfig(pod, spec, attempt, context);
  if (!config.ok()) {
    create_errors_[name] = {"CreateContainerConfigError", config.status().message()};
    wake(now + kConfigRetryMillis);
    return std::optional<runtime::ContainerConfig>();
  }
  return std::optional<runtime::ContainerConfig>(std::move(config).value());
}

// --- Probes and hooks ------------------------------------------------------------------------

Status PodRunner::PostStart(const rapidjson::Value& pod, const rapidjson::Value& spec, const std::string& container_id,
                            const std::string& pod_ip, runtime::Runtime& rt) {
  bool exec_only = rt.Version().runtime_name == "fake";
  prober::HookContainer target{&rt, container_id, &spec, &pod, pod_ip, exec_only};
  Status hook = prober::RunPostStart(target);
  if (hook.ok()) return Status();
  // Kubernetes kills the container (event FailedPostStartHook); the restart policy and
  // back-off then decide what comes next.
  kill_notes_[container_id] = {"FailedPostStartHook", hook.message()};
  ContainerEvent(pod, json::StringMember(spec, "name"), client::EventType::kWarning, "FailedPostStartHook",
                 hook.message());
  return prober::StopContainer(target, prober::PodGracePeriodSeconds(pod));
}

void PodRunner::UpdateProbes(const rapidjson::Value& pod, const std::string& pod_ip,
                             const std::map<std::string, std::vector<Container>>& instances, runtime::Runtime& rt) {
  // Forget notes of instances that are gone.
  for (auto it = kill_notes_.begin(); it != kill_notes_.end();) {
    bool present = false;
    for (const auto& [name, list] : instances) {
      for (const Container& c : list) present = present || c.id == it->first;
    }
    it = present ? std::next(it) : kill_notes_.erase(it);
  }
  if (!probes_) return;
  prober::PodObservation observed;
  observed.uid = uid_;
  observed.pod = &pod;
  observed.pod_ip = pod_ip;
  observed.runtime = &rt;
  observed.exec_only = rt.Version().runtime_name == "fake";
  for (const rapidjson::Value* spec : SpecContainers(pod, "containers")) {
    prober::ContainerObservation c;
    c.name = json::StringMember(*spec, "name");
    auto it = instances.find(c.name);
    if (it != instances.end()) {
      const Container& latest = it->second.front();
      c.id = latest.id;
      c.started_at = latest.started_at;
      c.running = latest.state == ContainerState::kRunning;
    }
    observed.containers.push_back(std::move(c));
  }
  probes_->Update(observed);
}

void PodRunner::ApplyKillNote(const Container& c, ContainerStateView& view) const {
  auto it = kill_notes_.find(c.id);
  if (it == kill_notes_.end()) return;
  if (!it->second.reason.empty()) view.reason = it->second.reason;
  if (view.message.empty()) view.message = it->second.message;
}

}  // namespace kite::agent
