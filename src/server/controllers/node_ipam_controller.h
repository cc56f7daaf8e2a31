// Node IPAM: every Node gets a pod CIDR — kube-controller-manager's node-ipam controller
// with the range allocator (--allocate-node-cidrs, --cluster-cidr, --node-cidr-mask-size),
// as k3s runs it.
//
// Operation:
//   - The cluster CIDR (IPv4) is cut into blocks of `node_mask_size` bits ("10.42.0.0/16"
//     with 24: 256 blocks 10.42.0.0/24 ... 10.42.255.0/24).
//   - Taken blocks are those the Nodes' spec.podCIDR(s) cover, learned from every node the
//     informer shows (the initial list included, before the first Reconcile) — a node's
//     existing CIDR is kept and its block is never handed out again. A CIDR outside the
//     cluster CIDR (or not IPv4) is ignored, not an error: the node keeps it, no block is
//     taken.
//   - The service CIDR(s) (--service-cidr, its IPv4 entries) are filtered out of the pool
//     when they overlap the cluster CIDR, as upstream's filterOutServiceRange does: every
//     block the service range touches is taken for good, so no node's pod range overlaps
//     Service IPs (a service CIDR holding the whole cluster CIDR leaves no block at all).
//   - Reconcile(node name): a node without a podCIDR (and not being deleted) gets a free
//     block through a JSON merge patch of spec.podCIDR and spec.podCIDRs that carries the
//     node's resourceVersion as a precondition, so a CIDR somebody else set in the meantime
//     is never overwritten (409: the retry re-reads).
//   - Blocks are handed out round-robin, as upstream's cidrset (nextCandidate): the search
//     starts after the block handed out last and wraps around at the end of the pool, so a
//     freed block is not given to the next node at once (a node's address range is not
//     reused while stale routes or conntrack entries for it may linger), but is reused once
//     the search comes round again. The position starts at the first block when the
//     controller starts, as upstream's does.
//   - Allocation runs under one mutex and remembers the block chosen for each node until
//     the node is seen carrying it (or is deleted): two nodes never get the same block,
//     also with concurrent workers, and a retried patch reuses its block.
//   - A deleted Node frees its block (by uid: a node re-created under the same name is a
//     new node). Nodes waiting for a block are queued again when one is freed.
//   - No free block: a Warning Event CIDRNotAvailable on the Node ("Node <name> status is
//     now: CIDRNotAvailable", as upstream's RecordNodeStatusChange words it) and an error,
//     so the node is retried with back-off.
//
// Not done (as upstream's range allocator does not either): the NetworkUnavailable
// condition (the network plugin's business), and releasing the block of a node that has a
// deletionTimestamp before it is gone.
// Dual-stack cluster CIDRs ("10.42.0.0/16,fd00::/56"): only the IPv4 entry is used; nodes
// get IPv4 pod CIDRs only. Service CIDR entries that are not IPv4 are ignored.
//
// Thread-safety: Reconcile may run on several workers at once; the informer's handlers
// run on its thread. Queue keys are node names.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/client/event_recorder.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

struct NodeIpamOptions {
  // The range node CIDRs come from: IPv4 "a.b.c.d/n", or a dual-stack list of which the
  // IPv4 entry is used.
  std::string cluster_cidr = "10.42.0.0/16";
  // The prefix length of each node's CIDR; at least the cluster CIDR's, at most 30, and at
  // most 16 bits longer (65,536 blocks, upstream's limit).
  int node_mask_size = 24;
  // The Service IP range(s) (--service-cidr: a CIDR or a dual-stack list); the blocks its
  // IPv4 entries overlap are never handed out. "" = none.
  std::string service_cidr;
  int workers = 2;
  // Gets CIDRNotAvailable (upstream's component name is "cidrAllocator"); default: none.
  client::EventRecorder recorder;
};

class NodeIpamController final : public Controller {
 public:
  // kInvalidArgument, saying what is wrong, when the cluster CIDR has no IPv4 entry or the
  // mask size does not fit it.
  static Result<std::unique_ptr<NodeIpamController>> Create(NodeIpamOptions options);
  // The same checks without building a controller (for flag validation).
  static Status Validate(const std::string& cluster_cidr, int node_mask_size);

  std::string_view Name() const override { return "nodeipam"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& node_name) override;
  int Workers() const override { return options_.workers; }

 private:
  // The pool of blocks: block i is base + i * 2^(32 - node_prefix), /node_prefix.
  struct Pool {
    uint32_t base = 0;
    int cluster_prefix = 0;
    int node_prefix = 0;
    uint32_t blocks = 0;
  };
  // What a node (one uid) holds.
  struct Holding {
    std::string uid;
    std::vector<uint32_t> blocks;
  };

  NodeIpamController(NodeIpamOptions options, Pool pool);

  std::string BlockCidr(uint32_t block) const;
  // The blocks a node's spec.podCIDR(s) cover inside the pool (none when outside).
  std::vector<uint32_t> BlocksOf(const rapidjson::Value& node) const;
  // The blocks the IPv4 range first..last (inclusive) touches inside the pool, ascending.
  std::vector<uint32_t> BlocksTouching(uint64_t first, uint64_t last) const;
  // Records what the node holds (informer events, our own patch's answer). Returns true
  // when blocks were freed (a node re-created under the same name).
  bool Observe(const rapidjson::Value& node) EXCLUDES(mu_);
  // The node (uid) is gone: frees what it held and what was chosen for it.
  bool Forget(const std::string& name, const std::string& uid) EXCLUDES(mu_);
  void Take(const std::vector<uint32_t>& blocks) REQUIRES(mu_);
  void Release(const std::vector<uint32_t>& blocks) REQUIRES(mu_);
  void RequeueWaiting() EXCLUDES(mu_);

  const NodeIpamOptions options_;
  const Pool pool_;
  WorkQueue* queue_ = nullptr;
  client::Informer* nodes_ = nullptr;
  std::optional<client::ResourceClient> client_;

  Mutex mu_;
  bool primed_ GUARDED_BY(mu_) = false;  // the informer's nodes were all observed once
  std::vector<uint32_t> refs_ GUARDED_BY(mu_);  // per block: holders + in-flight choices
  std::map<std::string, Holding> held_ GUARDED_BY(mu_);         // node name → its blocks
  std::map<std::string, uint32_t> in_flight_ GUARDED_BY(mu_);   // node name → chosen block
  std::set<std::string> waiting_ GUARDED_BY(mu_);               // found no free block
  uint32_t next_candidate_ GUARDED_BY(mu_) = 0;                 // where the next search starts
};

}  // namespace kite::controllers
