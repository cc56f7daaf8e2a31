#include "src/agent/node_agent.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "src/agent/json_build.h"
#include "src/server/admission/quantity.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr int64_t kMinRetryMillis = 200;
constexpr int64_t kMaxRetryMillis = 7'000;
constexpr int64_t kDefaultGraceSeconds = 30;

std::string_view MetaString(const Value& object, std::string_view field) {
  const Value* md = json::Member(object, "metadata");
  return md ? json::StringMember(*md, field) : std::string_view();
}

uint64_t Revision(const Value& object) {
  std::string_view rv = MetaString(object, "resourceVersion");
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), out);
  return ec == std::errc() && end == rv.data() + rv.size() ? out : 0;
}

// The node's allocatable resources as numbers (capacity = allocatable here).
volumes::NodeAllocatable Allocatable(const NodeResources& resources) {
  volumes::NodeAllocatable out;
  if (auto q = admission::Quantity::Parse(resources.cpu); q.ok()) out.cpu_millis = q->MilliValue();
  if (auto q = admission::Quantity::Parse(resources.memory); q.ok()) out.memory_bytes = q->Value();
  if (auto q = admission::Quantity::Parse(resources.ephemeral_storage); q.ok()) {
    out.ephemeral_storage_bytes = q->Value();
  }
  return out;
}

bool IsTerminalPhase(std::string_view phase) { return phase == "Succeeded" || phase == "Failed"; }

std::string_view PhaseOf(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  return status ? json::StringMember(*status, "phase") : std::string_view();
}

bool HostNetwork(const Value& pod) {
  const Value* spec = json::Member(pod, "spec");
  const Value* host = spec ? json::Member(*spec, "hostNetwork") : nullptr;
  return host && host->IsBool() && host->GetBool();
}

}  // namespace

NodeAgent::NodeAgent(NodeAgentOptions options, client::ApiTransport* transport,
                     runtime::Runtime* runtime, const Clock* clock)
    : options_(std::move(options)),
      runtime_(runtime),
      clock_(clock ? clock : SystemClock::Get()),
      nodes_(transport, client::kNodes),
      leases_(transport, client::kLeases),
      pods_(transport, client::kPods) {
  PodObjects* objects = options_.objects;
  if (!objects) {
    ApiPodObjectsOptions object_options;
    object_options.clock = clock_;
    own_objects_ = std::make_unique<ApiPodObjects>(transport, object_options);
    objects = own_objects_.get();
  }
  setup_.objects = objects;
  setup_.agent_dir = options_.agent_dir;
  setup_.node = Allocatable(options_.node.resources);
  setup_.memory_capacity_bytes = setup_.node.memory_bytes;
  if (!options_.resolv_conf.empty()) setup_.host_dns = ReadResolvConf(options_.resolv_conf);
  if (!options_.agent_dir.empty()) {
    volumes_ = std::make_unique<volumes::VolumeManager>(
        volumes::VolumeManagerOptions{options_.agent_dir, objects, setup_.node, true});
    setup_.volumes = volumes_.get();
  }
}

// --- Heartbeat ------------------------------------------------------------------------------

Status NodeAgent::Heartbeat() {
  MutexLock heartbeat(heartbeat_mu_);
  int64_t now = clock_->NowMillis();
  bool registered, lease_due, status_due, cidr_due;
  {
    MutexLock lock(mu_);
    if (failures_ > 0 && now < next_attempt_) return Status();
    registered = registered_;
    lease_due = now >= next_lease_;
    status_due = now >= next_status_;
    cidr_due = !network_ready_ && now >= next_cidr_check_;
  }
  if (options_.pressure) {
    NodePressure sampled = options_.pressure();
    if (!(sampled == pressure_)) status_due = true;
    pressure_ = sampled;
  }
  Status s;
  if (!registered) {
    s = Register(now);
    lease_due = true;
    status_due = false;  // registering posted it
    cidr_due = false;    // and read the Node
  }
  if (s.ok() && lease_due) s = RenewLease(now);
  if (s.ok() && cidr_due) s = CheckPodCidr(now);
  // The pod network became ready (or is not what registration expected): post it now, not
  // at the next status report.
  if (s.ok() && posted_ready_ != NetworkReady()) status_due = true;
  if (s.ok() && status_due) s = PostStatus(now);
  MutexLock lock(mu_);
  if (s.ok()) {
    failures_ = 0;
  } else {
    ++failures_;
    next_attempt_ = now + std::min(kMinRetryMillis << std::min(failures_ - 1, 10), kMaxRetryMillis);
  }
  return s;
}

int64_t NodeAgent::NextHeartbeatMillis() const {
  MutexLock lock(mu_);
  if (failures_ > 0) return next_attempt_;
  if (!registered_) return 0;
  int64_t next = std::min(next_lease_, next_status_);
  return network_ready_ ? next : std::min(next, next_cidr_check_);
}

bool NodeAgent::Registered() const {
  MutexLock lock(mu_);
  return registered_;
}

std::string NodeAgent::PodCidr() const {
  MutexLock lock(mu_);
  return pod_cidr_;
}

bool NodeAgent::NetworkReady() const {
  MutexLock lock(mu_);
  return network_ready_;
}

std::vector<std::string> NodeAgent::TakeNetworkWaiters() {
  MutexLock lock(mu_);
  std::vector<std::string> out(network_waiters_.begin(), network_waiters_.end());
  network_waiters_.clear();
  return out;
}

Status NodeAgent::LearnPodCidr(const Value& node) {
  const Value* spec = json::Member(node, "spec");
  std::string cidr(spec ? json::StringMember(*spec, "podCIDR") : std::string_view());
  if (cidr.empty()) return Status();
  {
    MutexLock lock(mu_);
    if (network_ready_) return Status();  // reported once
  }
  if (options_.on_pod_cidr) KITE_RETURN_IF_ERROR(options_.on_pod_cidr(cidr));
  MutexLock lock(mu_);
  pod_cidr_ = std::move(cidr);
  network_ready_ = true;
  return Status();
}

Status NodeAgent::CheckPodCidr(int64_t now) {
  {
    MutexLock lock(mu_);
    next_cidr_check_ = now + options_.pod_cidr_check_interval.count();
  }
  Result<Document> node = nodes_.Get("", options_.node.name);
  if (!node.ok()) {
    if (node.status().code() == StatusCode::kNotFound) {
      MutexLock lock(mu_);
      registered_ = false;  // deleted: register again
    }
    return node.status();
  }
  return LearnPodCidr(*node);
}

Status NodeAgent::Register(int64_t now) {
  NodeDescription node = options_.node;
  // Registering again (the Node was deleted): keep the range the pods already use.
  if (std::string known = PodCidr(); !known.empty()) node.pod_cidr = known;
  Result<Document> existing = nodes_.Get("", node.name);
  if (existing.ok()) {
    // A node registered before (this agent restarted): make its labels and podCIDR ours.
    Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    Document object = NodeObject(node);
    Value metadata = jb::Object();
    jb::Put(metadata, "labels", Value(*json::Member(*json::Member(object, "metadata"), "labels"), a), a);
    if (!node.local_path_root.empty()) {
      Value annotations = jb::Object();
      jb::PutStr(annotations, kLocalPathRootAnnotation, node.local_path_root, a);
      jb::Put(metadata, "annotations", std::move(annotations), a);
    }
    jb::Put(patch, "metadata", std::move(metadata), a);
    const Value* spec = json::Member(*existing, "spec");
    if (!node.pod_cidr.empty() && (!spec || json::StringMember(*spec, "podCIDR").empty())) {
      jb::Put(patch, "spec", Value(*json::Member(object, "spec"), a), a);
    }
    Result<Document> patched = nodes_.Patch("", node.name, client::PatchType::kMerge, json::ToJson(patch));
    if (!patched.ok()) return patched.status();
    node_uid_ = MetaString(*patched, "uid");
    // A failure here leaves the network not ready; the heartbeat's pod CIDR check retries.
    (void)LearnPodCidr(*patched);
    node_status_.reset();
    if (const Value* status = json::Member(*patched, "status")) {
      node_status_.emplace();
      node_status_->CopyFrom(*status, node_status_->GetAllocator());
    }
    KITE_RETURN_IF_ERROR(PostStatus(now));
  } else if (existing.status().code() == StatusCode::kNotFound) {
    Document object = NodeObject(node);
    // A node created with a pod CIDR is Ready as soon as it learns it from the answer
    // below; saying so now spares the status post that would follow at once.
    bool expect_ready = NetworkReady() || !node.pod_cidr.empty();
    Document status = NodeStatus(node, now, nullptr, pressure_, expect_ready);
    jb::Put(object, "status", Value(status, object.GetAllocator()), object.GetAllocator());
    Result<Document> created = nodes_.Create("", object);
    if (!created.ok()) return created.status();
    node_uid_ = MetaString(*created, "uid");
    // On failure the heartbeat sees posted_ready_ differ and posts NotReady.
    (void)LearnPodCidr(*created);
    const Value* stored = json::Member(*created, "status");
    if (stored && json::Member(*stored, "conditions")) {
      node_status_.emplace();
      node_status_->CopyFrom(*stored, node_status_->GetAllocator());
      posted_ready_ = expect_ready;
      MutexLock lock(mu_);
      next_status_ = now + options_.status_report_interval.count();
    } else {
      KITE_RETURN_IF_ERROR(PostStatus(now));  // the server dropped the status on create
    }
  } else {
    return existing.status();
  }
  lease_.reset();  // the Lease's owner may have changed
  MutexLock lock(mu_);
  registered_ = true;
  return Status();
}

Status NodeAgent::PostStatus(int64_t now) {
  bool ready = NetworkReady();
  Document status = NodeStatus(options_.node, now, node_status_ ? &*node_status_ : nullptr, pressure_, ready);
  Document patch(rapidjson::kObjectType);
  jb::Put(patch, "status", Value(status, patch.GetAllocator()), patch.GetAllocator());
  Result<Document> patched =
      nodes_.Patch("", options_.node.name, client::PatchType::kMerge, json::ToJson(patch), "status");
  if (!patched.ok()) {
    if (patched.status().code() == StatusCode::kNotFound) {
      // Someone deleted the Node: register it again on the next heartbeat.
      MutexLock lock(mu_);
      registered_ = false;
    }
    return patched.status();
  }
  posted_ready_ = ready;
  node_status_.emplace();
  if (const Value* stored = json::Member(*patched, "status")) {
    node_status_->CopyFrom(*stored, node_status_->GetAllocator());
  } else {
    node_status_->CopyFrom(status, node_status_->GetAllocator());
  }
  MutexLock lock(mu_);
  next_status_ = now + options_.status_report_interval.count();
  return Status();
}

Status NodeAgent::RenewLease(int64_t now) {
  const std::string& name = options_.node.name;
  Document fresh = LeaseObject(name, node_uid_, options_.lease_duration_seconds, now);
  Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!lease_) {
      Result<Document> got = leases_.Get(kNodeLeaseNamespace, name);
      if (got.status().code() == StatusCode::kNotFound) {
        Result<Document> created = leases_.Create(kNodeLeaseNamespace, fresh);
        if (created.ok()) {
          lease_ = std::move(created).value();
          MutexLock lock(mu_);
          next_lease_ = now + options_.lease_renew_interval.count();
          return Status();
        }
        last = created.status();
        if (last.code() == StatusCode::kAlreadyExists) continue;
        return last;
      }
      if (!got.ok()) return got.status();
      lease_ = std::move(got).value();
    }
    Document updated;
    updated.CopyFrom(*lease_, updated.GetAllocator());
    auto& a = updated.GetAllocator();
    json::SetMember(updated, "spec", Value(*json::Member(fresh, "spec"), a), a);
    Value& md = json::EnsureObjectMember(updated, "metadata", a);
    const Value* owners = json::Member(md, "ownerReferences");
    if ((!owners || !owners->IsArray() || owners->Empty()) && !node_uid_.empty()) {
      json::SetMember(md, "ownerReferences", Value(*json::Member(*json::Member(fresh, "metadata"), "ownerReferences"), a), a);
    }
    Result<Document> stored = leases_.Update(updated);
    if (stored.ok()) {
      lease_ = std::move(stored).value();
      MutexLock lock(mu_);
      next_lease_ = now + options_.lease_renew_interval.count();
      return Status();
    }
    lease_.reset();
    last = stored.status();
    if (last.code() != StatusCode::kConflict && last.code() != StatusCode::kNotFound) return last;
  }
  return last;
}

// --- Pods -----------------------------------------------------------------------------------

std::shared_ptr<NodeAgent::PodEntry> NodeAgent::Entry(const std::string& key) const {
  MutexLock lock(mu_);
  auto it = pods_running_.find(key);
  return it == pods_running_.end() ? nullptr : it->second;
}

bool NodeAgent::IsOwnStatusWrite(const std::string& key, const Value& pod) const {
  std::shared_ptr<PodEntry> entry = Entry(key);
  if (entry == nullptr) return false;
  const Value* status = json::Member(pod, "status");
  MutexLock lock(entry->sent_mu);
  return status != nullptr && entry->sent != nullptr && *status == *entry->sent;
}

Result<NodeAgent::SyncResult> NodeAgent::SyncPod(const std::string& key, const client::ObjectPtr& cached) {
  int64_t now = clock_->NowMillis();
  const std::string& host_ip = options_.node.internal_ip;
  const Value* pod = cached.get();
  if (pod) {
    const Value* spec = json::Member(*pod, "spec");
    if (!spec || json::StringMember(*spec, "nodeName") != name()) pod = nullptr;  // not ours
  }
  std::string uid = pod ? std::string(MetaString(*pod, "uid")) : std::string();
  std::shared_ptr<PodEntry> entry = Entry(key);
  if (!pod || (entry && entry->runner->uid() != uid)) {
    // Gone from the API, or replaced by a new pod of the same name: stop what ran.
    if (entry) {
      KITE_RETURN_IF_ERROR(entry->runner->Remove(*runtime_));
      MutexLock lock(mu_);
      pods_running_.erase(key);
      entry.reset();
    }
    if (!pod) return SyncResult{};
  }
  if (!entry) {
    entry = std::make_shared<PodEntry>();
    entry->runner = std::make_unique<PodRunner>(uid, probes_);
    entry->runner->SetSetup(&setup_);
    entry->runner->SetRecorder(recorder_);
    MutexLock lock(mu_);
    pods_running_[key] = entry;
  }
  PodRunner& runner = *entry->runner;

  const Value* md = json::Member(*pod, "metadata");
  if (md && json::Member(*md, "deletionTimestamp")) {
    int64_t grace = kDefaultGraceSeconds;
    if (const Value* g = json::Member(*md, "deletionGracePeriodSeconds"); g && g->IsInt64()) {
      grace = g->GetInt64();
    }
    Result<PodRunner::Outcome> killed = runner.Kill(*pod, *runtime_, host_ip, grace, now);
    if (!killed.ok()) return killed.status();
    Status written = WriteStatus(*pod, *entry, PodStatus(*pod, killed->report, now));
    if (!written.ok() && written.code() == StatusCode::kUnavailable) return written;
    KITE_RETURN_IF_ERROR(runner.Remove(*runtime_));
    KITE_RETURN_IF_ERROR(DeletePod(*pod));
    MutexLock lock(mu_);
    pods_running_.erase(key);
    return SyncResult{};
  }

  std::string_view api_phase = PhaseOf(*pod);
  if (IsTerminalPhase(api_phase)) {
    // Finished for good: nothing runs again, and the phase does not change any more.
    Result<PodRunner::Outcome> killed = runner.Kill(*pod, *runtime_, host_ip, 0, now);
    if (!killed.ok()) return killed.status();
    Document status = PodStatus(*pod, killed->report, now);
    json::SetStringMember(status, "phase", api_phase, status.GetAllocator());
    KITE_RETURN_IF_ERROR(WriteStatus(*pod, *entry, std::move(status)));
    return SyncResult{};
  }

  // Without the pod network no sandbox starts (the kubelet's "network is not ready"), unless
  // the pod uses the host's network. The key is remembered under the same lock that marks
  // the network ready, so a pod waiting here is always synced again (TakeNetworkWaiters).
  if (!HostNetwork(*pod)) {
    bool waiting = false;
    {
      MutexLock lock(mu_);
      waiting = !network_ready_;
      if (waiting) network_waiters_.insert(key);
    }
    if (waiting) {
      recorder_.Event(*pod, client::EventType::kWarning, "NetworkNotReady",
                      std::string("network is not ready: ") + kNetworkNotReadyMessage);
      return SyncResult{};
    }
  }

  Result<PodRunner::Outcome> synced = runner.Sync(*pod, *runtime_, host_ip, now);
  if (!synced.ok()) return synced.status();
  Document status = PodStatus(*pod, synced->report, now);
  std::string phase(json::StringMember(status, "phase"));
  if (IsTerminalPhase(phase)) {
    // The kubelet stops a finished pod's sandbox (PodReadyToStartContainers goes False).
    Result<PodRunner::Outcome> killed = runner.Kill(*pod, *runtime_, host_ip, 0, now);
    if (!killed.ok()) return killed.status();
    status = PodStatus(*pod, killed->report, now);
    json::SetStringMember(status, "phase", phase, status.GetAllocator());
  }
  KITE_RETURN_IF_ERROR(WriteStatus(*pod, *entry, std::move(status)));
  return SyncResult{synced->wake_at};
}

Status NodeAgent::WriteStatus(const Value& pod, PodEntry& entry, Document status) {
  const Value* current = json::Member(pod, "status");
  if (current && *current == status) return Status();
  std::string text = json::ToJson(status);
  // Our own last write, not yet in the cache the pod came from: nothing to do.
  if (text == entry.last_status && Revision(pod) <= entry.last_revision) return Status();
  Document patch(rapidjson::kArrayType);
  auto& a = patch.GetAllocator();
  Value test = jb::Object();
  jb::PutStr(test, "op", "test", a);
  jb::PutStr(test, "path", "/metadata/uid", a);
  jb::PutStr(test, "value", MetaString(pod, "uid"), a);
  patch.PushBack(std::move(test), a);
  Value replace = jb::Object();
  jb::PutStr(replace, "op", "add", a);
  jb::PutStr(replace, "path", "/status", a);
  jb::Put(replace, "value", Value(status, a), a);
  patch.PushBack(std::move(replace), a);
  {
    auto sent = std::make_shared<Document>();
    sent->Swap(status);
    MutexLock lock(entry.sent_mu);
    entry.sent = std::move(sent);
  }
  Result<Document> patched = pods_.Patch(MetaString(pod, "namespace"), MetaString(pod, "name"),
                                         client::PatchType::kJson, json::ToJson(patch), "status");
  if (!patched.ok()) return patched.status();
  entry.last_status = std::move(text);
  entry.last_revision = Revision(*patched);
  return Status();
}

Status NodeAgent::DeletePod(const Value& pod) {
  Document options(rapidjson::kObjectType);
  auto& a = options.GetAllocator();
  jb::PutInt(options, "gracePeriodSeconds", 0, a);
  Value preconditions = jb::Object();
  jb::PutStr(preconditions, "uid", MetaString(pod, "uid"), a);
  jb::Put(options, "preconditions", std::move(preconditions), a);
  Status s = pods_.Delete(MetaString(pod, "namespace"), MetaString(pod, "name"), json::ToJson(options));
  // Gone already, or replaced by a new pod (the uid precondition failed): done either way.
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kConflict) return Status();
  return s;
}

std::vector<std::string> NodeAgent::Relist() {
  Result<std::vector<runtime::Container>> all = runtime_->ListContainers("");
  if (!all.ok()) return {};
  std::map<std::string, std::pair<std::string, runtime::ContainerState>> seen;
  for (const runtime::Container& c : *all) {
    auto ns = c.labels.find(runtime::kPodNamespaceLabel);
    auto name = c.labels.find(runtime::kPodNameLabel);
    if (ns == c.labels.end() || name == c.labels.end()) continue;
    seen[c.id] = {client::ObjectKey(ns->second, name->second), c.state};
  }
  std::set<std::string> changed;
  MutexLock lock(mu_);
  for (const auto& [id, now] : seen) {
    auto it = pleg_.find(id);
    if (it == pleg_.end() || it->second.second != now.second) changed.insert(now.first);
  }
  for (const auto& [id, before] : pleg_) {
    if (!seen.count(id)) changed.insert(before.first);
  }
  pleg_ = std::move(seen);
  return {changed.begin(), changed.end()};
}

std::vector<std::string> NodeAgent::PodKeys() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, entry] : pods_running_) out.push_back(key);
  return out;
}

}  // namespace kite::agent
