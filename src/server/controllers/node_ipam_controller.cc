#include "src/server/controllers/node_ipam_controller.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

using rapidjson::Value;

constexpr int kMaxBlockBits = 16;  // upstream cidrset: at most 2^16 node CIDRs per cluster CIDR

struct Ipv4Prefix {
  uint32_t address = 0;  // masked to the prefix
  int prefix = 0;
};

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  uint32_t out = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (text.empty() || text[0] != '.') return std::nullopt;
      text.remove_prefix(1);
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    size_t used = static_cast<size_t>(end - text.data());
    if (ec != std::errc() || used == 0 || used > 3 || value > 255) return std::nullopt;
    out = (out << 8) | value;
    text.remove_prefix(used);
  }
  if (!text.empty()) return std::nullopt;
  return out;
}

uint32_t MaskOf(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

// "a.b.c.d/n" (surrounding blanks allowed), the address masked to n bits.
std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::optional<uint32_t> address = ParseIpv4(text.substr(0, slash));
  std::string_view bits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (!address || ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 || prefix > 32) {
    return std::nullopt;
  }
  return Ipv4Prefix{*address & MaskOf(prefix), prefix};
}

std::string FormatIpv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
         "." + std::to_string(ip & 255);
}

// Every IPv4 entry of a comma-separated list of CIDRs (the others are skipped).
std::vector<Ipv4Prefix> Ipv4Entries(std::string_view list) {
  std::vector<Ipv4Prefix> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (std::optional<Ipv4Prefix> p = ParseIpv4Prefix(list.substr(0, comma))) out.push_back(*p);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// The first IPv4 entry of a CIDR or a comma-separated (dual-stack) list of CIDRs.
std::optional<Ipv4Prefix> Ipv4Entry(std::string_view list) {
  std::vector<Ipv4Prefix> all = Ipv4Entries(list);
  if (all.empty()) return std::nullopt;
  return all.front();
}

// The last address of a prefix, wide: a /0 ends at 2^32 - 1 without wrapping.
uint64_t LastOf(const Ipv4Prefix& p) { return uint64_t{p.address} + (uint64_t{1} << (32 - p.prefix)) - 1; }

const Value* Spec(const Value& node) { return json::Member(node, "spec"); }

// spec.podCIDRs, or spec.podCIDR when the list is absent: what the node was given.
std::vector<std::string_view> PodCidrs(const Value& node) {
  std::vector<std::string_view> out;
  const Value* spec = Spec(node);
  if (!spec) return out;
  if (const Value* list = json::Member(*spec, "podCIDRs"); list && list->IsArray()) {
    for (const Value& v : list->GetArray()) {
      if (v.IsString() && v.GetStringLength() > 0) out.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  if (out.empty()) {
    std::string_view single = json::StringMember(*spec, "podCIDR");
    if (!single.empty()) out.push_back(single);
  }
  return out;
}

std::string_view Meta(const Value& node, std::string_view field) {
  const Value* md = json::Member(node, "metadata");
  return md ? json::StringMember(*md, field) : std::string_view();
}

Result<Ipv4Prefix> ParseClusterCidr(const std::string& cluster_cidr, int node_mask_size) {
  std::optional<Ipv4Prefix> cluster = Ipv4Entry(cluster_cidr);
  if (!cluster) {
    return InvalidArgumentError("cluster CIDR \"" + cluster_cidr +
                                "\" has no IPv4 entry: node pod CIDRs are allocated from an IPv4 range");
  }
  if (node_mask_size < cluster->prefix || node_mask_size > 30) {
    return InvalidArgumentError("node CIDR mask size " + std::to_string(node_mask_size) +
                                " must be between the cluster CIDR's prefix length (" +
                                std::to_string(cluster->prefix) + ") and 30");
  }
  if (node_mask_size - cluster->prefix > kMaxBlockBits) {
    return InvalidArgumentError("node CIDR mask size " + std::to_string(node_mask_size) +
                                " is too big for the cluster CIDR " + FormatIpv4(cluster->address) + "/" +
                                std::to_string(cluster->prefix) + ": at most " + std::to_string(kMaxBlockBits) +
                                " bits longer than its prefix");
  }
  return *cluster;
}

}  // namespace

Status NodeIpamController::Validate(const std::string& cluster_cidr, int node_mask_size) {
  return ParseClusterCidr(cluster_cidr, node_mask_size).status();
}

Result<std::unique_ptr<NodeIpamController>> NodeIpamController::Create(NodeIpamOptions options) {
  Result<Ipv4Prefix> cluster = ParseClusterCidr(options.cluster_cidr, options.node_mask_size);
  if (!cluster.ok()) return cluster.status();
  Pool pool;
  pool.base = cluster->address;
  pool.cluster_prefix = cluster->prefix;
  pool.node_prefix = options.node_mask_size;
  pool.blocks = uint32_t{1} << (pool.node_prefix - pool.cluster_prefix);
  return std::unique_ptr<NodeIpamController>(new NodeIpamController(std::move(options), pool));
}

NodeIpamController::NodeIpamController(NodeIpamOptions options, Pool pool)
    : options_(std::move(options)), pool_(pool) {
  MutexLock lock(mu_);
  refs_.assign(pool_.blocks, 0);
  // filterOutServiceRange: Service IPs are never part of a node's pod range. The blocks
  // keep this reference for the controller's lifetime, whoever else takes or frees them.
  for (const Ipv4Prefix& service : Ipv4Entries(options_.service_cidr)) {
    Take(BlocksTouching(service.address, LastOf(service)));
  }
}

std::string NodeIpamController::BlockCidr(uint32_t block) const {
  uint32_t ip = pool_.base + (block << (32 - pool_.node_prefix));
  return FormatIpv4(ip) + "/" + std::to_string(pool_.node_prefix);
}

std::vector<uint32_t> NodeIpamController::BlocksTouching(uint64_t first, uint64_t last) const {
  std::vector<uint32_t> out;
  // Wide arithmetic: a /0 range ends past 2^32.
  const uint64_t pool_first = pool_.base;
  const uint64_t pool_last = pool_first + (uint64_t{1} << (32 - pool_.cluster_prefix)) - 1;
  if (last < pool_first || first > pool_last) return out;  // outside the cluster CIDR
  first = std::max(first, pool_first);
  last = std::min(last, pool_last);
  // Every block the range touches, as upstream's cidrset.Occupy marks them.
  for (uint64_t b = (first - pool_first) >> (32 - pool_.node_prefix);
       b <= (last - pool_first) >> (32 - pool_.node_prefix); ++b) {
    out.push_back(static_cast<uint32_t>(b));
  }
  return out;
}

std::vector<uint32_t> NodeIpamController::BlocksOf(const Value& node) const {
  std::vector<uint32_t> out;
  for (std::string_view cidr : PodCidrs(node)) {
    std::optional<Ipv4Prefix> p = ParseIpv4Prefix(cidr);
    if (!p) continue;  // IPv6, or garbage the API would not have accepted
    std::vector<uint32_t> blocks = BlocksTouching(p->address, LastOf(*p));
    out.insert(out.end(), blocks.begin(), blocks.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void NodeIpamController::Take(const std::vector<uint32_t>& blocks) {
  for (uint32_t b : blocks) ++refs_[b];
}

void NodeIpamController::Release(const std::vector<uint32_t>& blocks) {
  for (uint32_t b : blocks) {
    if (refs_[b] > 0) --refs_[b];
  }
}

bool NodeIpamController::Observe(const Value& node) {
  std::string name(Meta(node, "name"));
  std::string uid(Meta(node, "uid"));
  bool has_cidr = !PodCidrs(node).empty();
  std::vector<uint32_t> blocks = BlocksOf(node);
  bool freed = false;
  MutexLock lock(mu_);
  auto held = held_.find(name);
  if (held != held_.end() && held->second.uid != uid) {
    // Another node under the same name: what the old one held is free.
    Release(held->second.blocks);
    freed = freed || !held->second.blocks.empty();
    held_.erase(held);
    held = held_.end();
  }
  // A node without a CIDR changes nothing: the API never clears a podCIDR, so this is an
  // older state than one already seen (our own patch's answer comes before the informer's
  // event for it).
  if (!has_cidr) return freed;
  Take(blocks);
  if (held != held_.end()) {
    Release(held->second.blocks);
    held->second.blocks = blocks;
  } else {
    held_[name] = Holding{uid, blocks};
  }
  if (auto chosen = in_flight_.find(name); chosen != in_flight_.end()) {
    Release({chosen->second});
    freed = freed || refs_[chosen->second] == 0;
    in_flight_.erase(chosen);
  }
  waiting_.erase(name);
  return freed;
}

bool NodeIpamController::Forget(const std::string& name, const std::string& uid) {
  bool freed = false;
  MutexLock lock(mu_);
  if (auto held = held_.find(name); held != held_.end() && (uid.empty() || held->second.uid == uid)) {
    Release(held->second.blocks);
    freed = !held->second.blocks.empty();
    held_.erase(held);
  }
  if (auto chosen = in_flight_.find(name); chosen != in_flight_.end()) {
    Release({chosen->second});
    freed = true;
    in_flight_.erase(chosen);
  }
  waiting_.erase(name);
  return freed;
}

void NodeIpamController::RequeueWaiting() {
  std::set<std::string> waiting;
  {
    MutexLock lock(mu_);
    waiting = waiting_;
  }
  for (const std::string& name : waiting) queue_->Add(name);
}

void NodeIpamController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  nodes_ = &informers.For(client::kNodes);
  client_.emplace(informers.ClientFor(client::kNodes));
  nodes_->AddHandlers({
      .on_add =
          [this](const client::ObjectPtr& node) {
            if (Observe(*node)) RequeueWaiting();
            queue_->Add(client::ObjectKey(*node));
          },
      .on_update =
          [this](const client::ObjectPtr&, const client::ObjectPtr& node) {
            if (Observe(*node)) RequeueWaiting();
            queue_->Add(client::ObjectKey(*node));
          },
      .on_delete =
          [this](const client::ObjectPtr& node) {
            if (Forget(std::string(Meta(*node, "name")), std::string(Meta(*node, "uid")))) RequeueWaiting();
          },
  });
}

Status NodeIpamController::Reconcile(const std::string& node_name) {
  bool prime = false;
  {
    MutexLock lock(mu_);
    prime = !primed_;
    primed_ = true;
  }
  // Every node the cache holds is counted before the first block is handed out (the
  // handlers normally saw them all already; this makes it independent of that).
  if (prime) {
    for (const client::ObjectPtr& node : nodes_->List()) Observe(*node);
  }

  client::ObjectPtr node = nodes_->Get(node_name);
  if (!node) return Status();
  if (!PodCidrs(*node).empty()) {
    Observe(*node);
    return Status();
  }
  const Value* md = json::Member(*node, "metadata");
  if (md && json::Member(*md, "deletionTimestamp")) return Status();
  std::string uid(Meta(*node, "uid"));

  std::optional<uint32_t> block;
  {
    MutexLock lock(mu_);
    if (auto held = held_.find(node_name);
        held != held_.end() && held->second.uid == uid && !held->second.blocks.empty()) {
      return Status();  // our patch landed; the cache has not caught up yet
    }
    if (auto chosen = in_flight_.find(node_name); chosen != in_flight_.end()) {
      block = chosen->second;  // a retry: the same block again
    } else {
      // Round-robin from after the block handed out last, wrapping around (AllocateNext).
      for (uint32_t i = 0, b = next_candidate_; i < pool_.blocks; ++i, b = (b + 1) % pool_.blocks) {
        if (refs_[b] == 0) {
          block = b;
          break;
        }
      }
      if (block) {
        next_candidate_ = (*block + 1) % pool_.blocks;
        ++refs_[*block];
        in_flight_[node_name] = *block;
        waiting_.erase(node_name);
      } else {
        waiting_.insert(node_name);
      }
    }
  }
  if (!block) {
    options_.recorder.Event(*node, client::EventType::kWarning, "CIDRNotAvailable",
                            "Node " + node_name + " status is now: CIDRNotAvailable");
    return ResourceExhaustedError("no pod CIDR left for node " + node_name + ": every /" +
                                  std::to_string(pool_.node_prefix) + " of " + FormatIpv4(pool_.base) + "/" +
                                  std::to_string(pool_.cluster_prefix) + " is taken");
  }

  std::string cidr = BlockCidr(*block);
  rapidjson::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  // The resourceVersion makes the patch conditional: a podCIDR set since the cache's copy
  // (by the node's agent, say) is never overwritten.
  Value metadata(rapidjson::kObjectType);
  json::SetStringMember(metadata, "resourceVersion", Meta(*node, "resourceVersion"), a);
  json::SetMember(patch, "metadata", std::move(metadata), a);
  Value spec(rapidjson::kObjectType);
  json::SetStringMember(spec, "podCIDR", cidr, a);
  Value list(rapidjson::kArrayType);
  list.PushBack(Value(cidr.c_str(), static_cast<rapidjson::SizeType>(cidr.size()), a), a);
  json::SetMember(spec, "podCIDRs", std::move(list), a);
  json::SetMember(patch, "spec", std::move(spec), a);
  Result<rapidjson::Document> patched = client_->Patch("", node_name, client::PatchType::kMerge, json::ToJson(patch));
  if (patched.ok()) {
    if (Observe(*patched)) RequeueWaiting();
    return Status();
  }
  if (patched.status().code() == StatusCode::kNotFound) {
    // Gone meanwhile: the block goes back (the delete event may have done it already).
    bool freed = false;
    {
      MutexLock lock(mu_);
      if (auto chosen = in_flight_.find(node_name); chosen != in_flight_.end() && chosen->second == *block) {
        Release({chosen->second});
        in_flight_.erase(chosen);
        freed = true;
      }
    }
    if (freed) RequeueWaiting();
    return Status();
  }
  // Kept in flight: the retry patches the same block, and no one else can take it.
  return patched.status();
}

}  // namespace kite::controllers
