#include "src/agent/prober/prober_manager.h"

#include <algorithm>

#include "src/server/json/json_util.h"

namespace kite::agent::prober {
namespace {

constexpr ProbeKind kKinds[] = {ProbeKind::kLiveness, ProbeKind::kReadiness, ProbeKind::kStartup};
// The timer re-reads the clock at least this often (a clock may jump, or be a fake).
constexpr int64_t kMaxTimerWaitMillis = 1000;

std::string_view MetaString(const rapidjson::Value& pod, std::string_view field) {
  const rapidjson::Value* md = json::Member(pod, "metadata");
  return md ? json::StringMember(*md, field) : std::string_view();
}

}  // namespace

struct ProbeManager::Worker {
  std::string uid;
  std::string container;
  ProbeKind kind = ProbeKind::kReadiness;
  std::string node;
  std::string pod_key;
  ProbeSpec spec;
  ProbeTarget target;
  bool deleting = false;  // the pod has a deletionTimestamp

  // The container instance probed.
  std::string container_id;
  int64_t started_at = 0;
  bool running = false;
  uint64_t generation = 0;  // grows with every new instance; stale results are dropped

  Reported reported = Reported::kUnknown;
  ProbeResult last = ProbeResult::kUnknown;  // the latest result, and how many in a row
  int64_t run = 0;
  std::string last_failure;
  bool on_hold = false;    // a liveness/startup failure: wait for a new instance
  bool done = false;       // stopped for good (pod terminating)
  bool removed = false;    // dropped from the manager
  bool in_flight = false;  // a probe is running
  int64_t next_due = 0;
  int64_t last_probe_at = 0;  // when the latest probe started (0 = never)

  int64_t period_millis() const { return spec.period_seconds * 1000; }
};

struct ProbeManager::Task {
  std::shared_ptr<Worker> worker;
  uint64_t generation = 0;
  Action action;
  ProbeTarget target;
  std::chrono::milliseconds timeout{1000};
  int64_t started = 0;  // the clock's time when the probe was due
};

ProbeManager::Reported ProbeManager::Initial(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kReadiness:
      return Reported::kFailure;  // not ready until the first success
    case ProbeKind::kLiveness:
      return Reported::kSuccess;  // alive until proven otherwise
    case ProbeKind::kStartup:
      return Reported::kUnknown;
  }
  return Reported::kUnknown;
}

ProbeManager::ProbeManager(ProbeManagerOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : SystemClock::Get()) {
  if (!options_.start_threads) return;
  timer_ = std::thread([this] { TimerLoop(); });
  for (int i = 0; i < std::max(1, options_.pool_threads); ++i) pool_.emplace_back([this] { PoolLoop(); });
}

ProbeManager::~ProbeManager() { Stop(); }

void ProbeManager::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (Task& t : queue_) t.worker->in_flight = false;
    queue_.clear();
    timer_cv_.NotifyAll();
    pool_cv_.NotifyAll();
  }
  if (timer_.joinable()) timer_.join();
  for (std::thread& t : pool_) t.join();
  pool_.clear();
}

std::shared_ptr<ProbeManager::Worker> ProbeManager::Find(const std::string& uid, const std::string& name,
                                                         ProbeKind kind) const {
  auto it = workers_.find(Key(uid, name, kind));
  return it == workers_.end() ? nullptr : it->second;
}

void ProbeManager::Update(const PodObservation& pod) {
  struct Wanted {
    ProbeSpec spec;
    std::map<std::string, int64_t> named_ports;
  };
  std::map<std::pair<std::string, ProbeKind>, Wanted> wanted;
  std::string node, pod_key;
  bool deleting = false;
  if (pod.pod) {
    const rapidjson::Value& object = *pod.pod;
    const rapidjson::Value* spec = json::Member(object, "spec");
    if (spec) node = json::StringMember(*spec, "nodeName");
    pod_key = std::string(MetaString(object, "namespace")) + "/" + std::string(MetaString(object, "name"));
    const rapidjson::Value* md = json::Member(object, "metadata");
    deleting = md && json::Member(*md, "deletionTimestamp") && !json::Member(*md, "deletionTimestamp")->IsNull();
    const rapidjson::Value* containers = spec ? json::Member(*spec, "containers") : nullptr;
    if (containers && containers->IsArray()) {
      for (const auto& c : containers->GetArray()) {
        std::string name(c.IsObject() ? json::StringMember(c, "name") : std::string_view());
        if (name.empty()) continue;
        for (ProbeKind kind : kKinds) {
          std::optional<ProbeSpec> probe = ContainerProbe(c, kind);
          if (!probe || probe->action.kind == ActionKind::kNone || probe->action.kind == ActionKind::kSleep) continue;
          if (pod.exec_only && probe->action.kind != ActionKind::kExec) continue;
          wanted[{name, kind}] = Wanted{std::move(*probe), NamedPorts(c)};
        }
      }
    }
  }

  MutexLock lock(mu_);
  const int64_t now = clock_->NowMillis();
  for (auto it = workers_.lower_bound(Key(pod.uid, "", ProbeKind::kLiveness));
       it != workers_.end() && std::get<0>(it->first) == pod.uid;) {
    if (!wanted.count({std::get<1>(it->first), std::get<2>(it->first)})) {
      it->second->removed = true;
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [what, want] : wanted) {
    const std::string name = what.first;
    const ProbeKind kind = what.second;
    std::shared_ptr<Worker>& slot = workers_[Key(pod.uid, name, kind)];
    if (!slot) {
      slot = std::make_shared<Worker>();
      slot->uid = pod.uid;
      slot->container = name;
      slot->kind = kind;
      slot->reported = Initial(kind);
    }
    Worker& w = *slot;
    w.node = node;
    w.pod_key = pod_key;
    w.spec = std::move(want.spec);
    w.deleting = deleting;
    w.target.runtime = pod.runtime;
    w.target.container_name = name;
    w.target.pod_ip = pod.pod_ip;
    w.target.named_ports = std::move(want.named_ports);
    auto obs = std::find_if(pod.containers.begin(), pod.containers.end(),
                            [&](const ContainerObservation& c) { return c.name == name; });
    if (obs == pod.containers.end()) {
      w.running = false;
      continue;
    }
    bool fresh = !obs->id.empty() && obs->id != w.container_id;
    if (fresh) {
      // A new instance: count afresh from the kind's initial result.
      w.container_id = obs->id;
      w.target.container_id = obs->id;
      ++w.generation;
      w.reported = Initial(kind);
      w.last = ProbeResult::kUnknown;
      w.run = 0;
      w.last_failure.clear();
      w.on_hold = false;
      w.done = false;
      // Readiness probes a new container at once (the kubelet triggers it); liveness and
      // startup keep their period's rhythm, as a kubelet worker notices the new container
      // on its next tick.
      w.next_due = kind == ProbeKind::kReadiness || w.last_probe_at == 0 ? 0 : w.last_probe_at + w.period_millis();
    }
    if (!fresh && obs->running && !w.running) w.next_due = std::min(w.next_due, now);  // it runs now
    w.running = obs->running;
    w.started_at = obs->started_at;
  }
  timer_cv_.NotifyAll();
}

void ProbeManager::Remove(const std::string& uid) {
  MutexLock lock(mu_);
  for (auto it = workers_.lower_bound(Key(uid, "", ProbeKind::kLiveness));
       it != workers_.end() && std::get<0>(it->first) == uid;) {
    it->second->removed = true;
    it = workers_.erase(it);
  }
}

bool ProbeManager::Started(const std::string& uid, const std::string& name, const std::string& container_id) const {
  MutexLock lock(mu_);
  std::shared_ptr<Worker> w = Find(uid, name, ProbeKind::kStartup);
  return !w || (w->container_id == container_id && w->reported == Reported::kSuccess);
}

bool ProbeManager::Ready(const std::string& uid, const std::string& name, const std::string& container_id) const {
  MutexLock lock(mu_);
  std::shared_ptr<Worker> w = Find(uid, name, ProbeKind::kReadiness);
  return !w || (w->container_id == container_id && w->reported == Reported::kSuccess);
}

std::optional<ProbeFailure> ProbeManager::FailedProbe(const std::string& uid, const std::string& name,
                                                      const std::string& container_id) const {
  MutexLock lock(mu_);
  for (ProbeKind kind : {ProbeKind::kLiveness, ProbeKind::kStartup}) {
    std::shared_ptr<Worker> w = Find(uid, name, kind);
    if (w && w->container_id == container_id && w->reported == Reported::kFailure) {
      return ProbeFailure{kind, "Container " + name + " failed " + KindName(kind) + " probe", w->last_failure};
    }
  }
  return std::nullopt;
}

bool ProbeManager::HasProbe(const std::string& uid, const std::string& name, ProbeKind kind) const {
  MutexLock lock(mu_);
  return Find(uid, name, kind) != nullptr;
}

size_t ProbeManager::WorkerCount() const {
  MutexLock lock(mu_);
  return workers_.size();
}

void ProbeManager::SetReported(Worker& w, Reported value, std::vector<ProbeEvent>& events) {
  if (w.reported == value) return;
  w.reported = value;
  events.push_back({w.node, w.pod_key, w.uid});
}

std::optional<ProbeManager::Task> ProbeManager::Prepare(const std::shared_ptr<Worker>& worker, int64_t now,
                                                        std::vector<ProbeEvent>& events) {
  Worker& w = *worker;
  if (w.done || w.removed || w.in_flight) return std::nullopt;
  if (w.container_id.empty() || !w.running || w.on_hold) {
    w.next_due = now + w.period_millis();
    return std::nullopt;
  }
  if (w.deleting && w.kind != ProbeKind::kReadiness) {
    // A terminating pod: a quiet shutdown, no restarts.
    SetReported(w, Reported::kSuccess, events);
    w.done = true;
    return std::nullopt;
  }
  int64_t delay_over = w.started_at + w.spec.initial_delay_seconds * 1000;
  if (now < delay_over) {
    w.next_due = delay_over;
    return std::nullopt;
  }
  if (w.kind == ProbeKind::kStartup) {
    if (w.reported == Reported::kSuccess) {  // started: nothing more to learn
      w.next_due = now + w.period_millis();
      return std::nullopt;
    }
  } else if (std::shared_ptr<Worker> s = Find(w.uid, w.container, ProbeKind::kStartup);
             s && !(s->container_id == w.container_id && s->reported == Reported::kSuccess)) {
    w.next_due = now + w.period_millis();  // wait for the startup probe
    return std::nullopt;
  }
  w.in_flight = true;
  w.last_probe_at = now;
  Task task;
  task.worker = worker;
  task.generation = w.generation;
  task.action = w.spec.action;
  task.target = w.target;
  task.timeout = std::chrono::milliseconds(w.spec.timeout_seconds * 1000);
  task.started = now;
  return task;
}

void ProbeManager::Apply(const Task& task, const ProbeOutcome& outcome, int64_t now, std::vector<ProbeEvent>& events,
                         std::vector<ProbeAttemptFailure>& failures) {
  Worker& w = *task.worker;
  w.in_flight = false;
  if (w.removed || w.done || task.generation != w.generation) return;
  w.next_due = task.started + w.period_millis();
  if (outcome.result == ProbeResult::kUnknown) return;  // could not probe: no verdict
  ProbeResult result = outcome.result == ProbeResult::kWarning ? ProbeResult::kSuccess : outcome.result;
  if (result == w.last) {
    ++w.run;
  } else {
    w.last = result;
    w.run = 1;
  }
  if (result == ProbeResult::kFailure) {
    w.last_failure = outcome.output;
    if (options_.on_failure) failures.push_back({{w.node, w.pod_key, w.uid}, w.container, w.kind, outcome.output});
  }
  if ((result == ProbeResult::kFailure && w.run < w.spec.failure_threshold) ||
      (result == ProbeResult::kSuccess && w.run < w.spec.success_threshold)) {
    return;  // below the threshold: the previous result stands
  }
  SetReported(w, result == ProbeResult::kSuccess ? Reported::kSuccess : Reported::kFailure, events);
  if (w.kind != ProbeKind::kReadiness && result == ProbeResult::kFailure) {
    // The container will be killed; probe again only once a new one runs.
    w.on_hold = true;
    w.run = 0;
  }
  if (w.kind == ProbeKind::kStartup && result == ProbeResult::kSuccess) {
    for (ProbeKind kind : {ProbeKind::kLiveness, ProbeKind::kReadiness}) {
      if (std::shared_ptr<Worker> other = Find(w.uid, w.container, kind)) other->next_due = now;
    }
  }
}

std::vector<ProbeManager::Task> ProbeManager::CollectDue(int64_t now, std::vector<ProbeEvent>& events) {
  std::vector<Task> out;
  for (auto& [key, w] : workers_) {
    if (w->in_flight || w->done || w->next_due > now) continue;
    if (std::optional<Task> task = Prepare(w, now, events)) out.push_back(std::move(*task));
  }
  return out;
}

ProbeOutcome ProbeManager::Execute(const Task& task) const {
  if (options_.run_probe) return options_.run_probe(task.action, task.target, task.timeout);
  return RunProbe(task.action, task.target, task.timeout);
}

void ProbeManager::NotifyFailures(const std::vector<ProbeAttemptFailure>& failures) const {
  if (!options_.on_failure) return;
  for (const ProbeAttemptFailure& f : failures) options_.on_failure(f);
}

void ProbeManager::Notify(const std::vector<ProbeEvent>& events) const {
  if (!options_.on_change) return;
  for (const ProbeEvent& e : events) options_.on_change(e);
}

int ProbeManager::RunDue() {
  std::vector<Task> tasks;
  std::vector<ProbeEvent> events;
  {
    MutexLock lock(mu_);
    tasks = CollectDue(clock_->NowMillis(), events);
  }
  Notify(events);
  events.clear();
  std::vector<ProbeAttemptFailure> failures;
  for (const Task& task : tasks) {
    ProbeOutcome outcome = Execute(task);
    MutexLock lock(mu_);
    Apply(task, outcome, clock_->NowMillis(), events, failures);
  }
  NotifyFailures(failures);
  Notify(events);
  return static_cast<int>(tasks.size());
}

void ProbeManager::TimerLoop() {
  mu_.Lock();
  while (!stopping_) {
    int64_t now = clock_->NowMillis();
    std::vector<ProbeEvent> events;
    for (Task& task : CollectDue(now, events)) queue_.push_back(std::move(task));
    if (!queue_.empty()) pool_cv_.NotifyAll();
    if (!events.empty()) {
      mu_.Unlock();
      Notify(events);
      mu_.Lock();
      continue;
    }
    int64_t wait = kMaxTimerWaitMillis;
    for (const auto& [key, w] : workers_) {
      if (!w->in_flight && !w->done) wait = std::min(wait, w->next_due - now);
    }
    timer_cv_.WaitFor(mu_, std::chrono::milliseconds(std::max<int64_t>(wait, 1)));
  }
  mu_.Unlock();
}

void ProbeManager::PoolLoop() {
  mu_.Lock();
  while (true) {
    while (!stopping_ && queue_.empty()) pool_cv_.Wait(mu_);
    if (stopping_) break;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    mu_.Unlock();
    ProbeOutcome outcome = Execute(task);
    mu_.Lock();
    std::vector<ProbeEvent> events;
    std::vector<ProbeAttemptFailure> failures;
    Apply(task, outcome, clock_->NowMillis(), events, failures);
    timer_cv_.NotifyAll();
    if ((!events.empty() || !failures.empty()) && !stopping_) {
      mu_.Unlock();
      NotifyFailures(failures);
      Notify(events);
      mu_.Lock();
    }
  }
  mu_.Unlock();
}

}  // namespace kite::agent::prober
