#include "src/agent/agent_runner.h"

#include <cctype>
#include <iostream>

#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

constexpr char kSeparator = '|';  // node names and pod keys never contain it

controllers::WorkQueue::BackOff RetryBackOff() {
  controllers::WorkQueue::BackOff b;
  b.base = std::chrono::milliseconds(200);
  b.max = std::chrono::seconds(10);
  return b;
}

std::string NodeOf(const rapidjson::Value& pod) {
  const rapidjson::Value* spec = json::Member(pod, "spec");
  return spec ? std::string(json::StringMember(*spec, "nodeName")) : std::string();
}

}  // namespace

AgentRunner::AgentRunner(client::ApiTransport* transport, std::vector<std::unique_ptr<NodeAgent>> nodes,
                         AgentRunnerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock::Get()),
      queue_(RetryBackOff()) {
  for (auto& node : nodes) {
    std::string name = node->name();
    nodes_.emplace(std::move(name), std::move(node));
  }
  client::ListOptions list;
  // One node: the server filters. Many: every bound pod, routed here by node name.
  list.field_selector = nodes_.size() == 1 ? "spec.nodeName=" + nodes_.begin()->first : "spec.nodeName!=";
  pods_ = std::make_unique<client::Informer>(client::ResourceClient(transport, client::kPods), "", list);
  client::InformerHandlers handlers;
  handlers.on_add = [this](const client::ObjectPtr& pod) { Enqueue(pod); };
  handlers.on_update = [this](const client::ObjectPtr& old, const client::ObjectPtr& pod) {
    if (!old || !IsOwnStatusEcho(*old, *pod)) Enqueue(pod);
  };
  handlers.on_delete = [this](const client::ObjectPtr& pod) { Enqueue(pod); };
  pods_->AddHandlers(std::move(handlers));
  if (options_.record_events) events_ = std::make_unique<client::EventBroadcaster>(transport);
}

AgentRunner::~AgentRunner() { Stop(); }

NodeAgent* AgentRunner::Find(std::string_view node_name) const {
  auto it = nodes_.find(node_name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

void AgentRunner::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "kite: " << line << "\n";
  }
}

bool AgentRunner::IsOwnStatusEcho(const rapidjson::Value& old, const rapidjson::Value& pod) const {
  // The agent's own status write coming back needs no sync (the kubelet does not sync a pod
  // for a change of its status at all); a status someone else changed is synced, and so put
  // right.
  const rapidjson::Value* old_meta = json::Member(old, "metadata");
  const rapidjson::Value* meta = json::Member(pod, "metadata");
  auto same = [](const rapidjson::Value* a, const rapidjson::Value* b, const char* name) {
    const rapidjson::Value* x = a ? json::Member(*a, name) : nullptr;
    const rapidjson::Value* y = b ? json::Member(*b, name) : nullptr;
    return x == y || (x && y && *x == *y);
  };
  if (!same(&old, &pod, "spec")) return false;
  for (const char* field : {"uid", "labels", "annotations", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
    if (!same(old_meta, meta, field)) return false;
  }
  NodeAgent* agent = Find(NodeOf(pod));
  return agent != nullptr && agent->IsOwnStatusWrite(client::ObjectKey(pod), pod);
}

void AgentRunner::Enqueue(const client::ObjectPtr& pod) {
  std::string node = NodeOf(*pod);
  if (nodes_.count(node)) queue_.Add(node + kSeparator + client::ObjectKey(*pod));
}

void AgentRunner::Start() {
  if (started_) return;
  started_ = true;
  if (events_) {
    events_->Start();
    for (const auto& [name, node] : nodes_) node->SetEventRecorder(events_->NewRecorder({"kubelet", name}));
  }
  if (options_.run_probes) {
    prober::ProbeManagerOptions probe_options;
    probe_options.clock = clock_;
    probe_options.pool_threads = options_.probe_threads;
    probe_options.on_change = [this](const prober::ProbeEvent& e) {
      if (nodes_.count(e.node)) queue_.Add(e.node + kSeparator + e.pod_key);
    };
    if (events_) probe_options.on_failure = [this](const prober::ProbeAttemptFailure& f) { RecordUnhealthy(f); };
    probes_ = std::make_unique<prober::ProbeManager>(std::move(probe_options));
    for (const auto& [name, node] : nodes_) node->SetProbeManager(probes_.get());
  }
  for (const auto& [name, node] : nodes_) queue_.Add(name + kSeparator);
  pods_->Start();
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
  ticker_ = std::thread([this] { Tick(); });
}

void AgentRunner::Stop() {
  if (!started_) return;
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    stop_cv_.NotifyAll();
  }
  queue_.ShutDown();
  if (ticker_.joinable()) ticker_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (probes_) probes_->Stop();
  if (events_) events_->Stop();  // nothing records any more
  pods_->Stop();
}

void AgentRunner::RecordUnhealthy(const prober::ProbeAttemptFailure& f) const {
  NodeAgent* agent = Find(f.pod.node);
  client::ObjectPtr pod = agent ? pods_->Get(f.pod.pod_key) : nullptr;
  if (!pod || !agent->events().enabled()) return;
  std::string kind = prober::KindName(f.kind);
  if (!kind.empty()) kind[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(kind[0])));
  agent->events().Event(client::ContainerReferenceTo(*pod, f.container), client::EventType::kWarning, "Unhealthy",
                        kind + " probe failed: " + f.output);
}

void AgentRunner::NoteHeartbeat(const std::string& node, const Status& s) {
  MutexLock lock(mu_);
  if (s.ok()) {
    if (failing_.erase(node)) Log("node " + node + ": heartbeat recovered");
  } else if (failing_.insert(node).second) {
    Log("node " + node + ": heartbeat failed (retrying): " + s.message());
  }
}

void AgentRunner::Work() {
  while (std::optional<std::string> key = queue_.Get()) {
    size_t bar = key->find(kSeparator);
    NodeAgent* agent = bar == std::string::npos ? nullptr : Find(std::string_view(*key).substr(0, bar));
    if (!agent) {
      queue_.Done(*key);
      continue;
    }
    std::string pod_key = key->substr(bar + 1);
    if (pod_key.empty()) {
      // The ticker queues heartbeats when due; a failure has its own back-off inside.
      NoteHeartbeat(agent->name(), agent->Heartbeat());
      // Pods that waited for the node's pod network go again once the heartbeat learned it.
      if (agent->NetworkReady()) {
        for (const std::string& waiter : agent->TakeNetworkWaiters()) queue_.Add(agent->name() + kSeparator + waiter);
      }
    } else if (!pods_->HasSynced()) {
      // Absent from a cache that is still filling does not mean deleted.
      queue_.AddAfter(*key, std::chrono::milliseconds(500));
    } else {
      Result<NodeAgent::SyncResult> r = agent->SyncPod(pod_key, pods_->Get(pod_key));
      if (r.ok()) {
        queue_.Forget(*key);
        if (r->wake_at > 0) {
          queue_.AddAfter(*key, std::chrono::milliseconds(std::max<int64_t>(1, r->wake_at - clock_->NowMillis())));
        }
      } else {
        if (r.status().code() != StatusCode::kConflict && queue_.Retries(*key) >= 3) {
          Log("node " + agent->name() + ": pod " + pod_key + ": " + r.status().message());
        }
        queue_.AddRateLimited(*key);
      }
    }
    queue_.Done(*key);
  }
}

void AgentRunner::Tick() {
  auto last_resync = std::chrono::steady_clock::now();
  while (true) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      stop_cv_.WaitFor(mu_, options_.tick);
      if (stopping_) return;
    }
    int64_t now = clock_->NowMillis();
    for (const auto& [name, node] : nodes_) {
      if (node->NextHeartbeatMillis() <= now) queue_.Add(name + kSeparator);
      for (const std::string& key : node->Relist()) queue_.Add(name + kSeparator + key);
    }
    auto steady = std::chrono::steady_clock::now();
    if (steady - last_resync >= options_.resync && pods_->HasSynced()) {
      last_resync = steady;
      for (const client::ObjectPtr& pod : pods_->List()) Enqueue(pod);
      for (const auto& [name, node] : nodes_) {
        for (const std::string& key : node->PodKeys()) queue_.Add(name + kSeparator + key);
      }
    }
  }
}

}  // namespace kite::agent
