// ContainerdNode: this machine as a node of the cluster, with real containers — what
// `kite agent` runs, and `kite server` unless --disable-agent. It puts the parts together:
// the agent's own containerd (runtime/containerd), the CRI client (runtime/cri), the
// air-gap image folder, the node agent and its threads (NodeAgent, AgentRunner, probes),
// and the HTTPS endpoint the API server proxies logs, exec, attach and port-forward to.
//
// Start order: containerd (config, and the CNI network for an explicit pod CIDR), the CRI
// client (waits until RuntimeReady, and NetworkReady with an explicit CIDR), one scan of
// <agent-dir>/images so air-gap images exist before any pod starts (then a poll keeps
// importing), the agent's HTTPS endpoint, then the agent (node registration, lease, pods).
// The pod CIDR is the Node's spec.podCIDR — the explicit one, else what the server's node
// IPAM controller assigns; when the agent learns it, the CNI network list is written
// (bridge "kite<third octet of the CIDR>") and the agent waits for NetworkReady before any
// pod starts (NodeAgentOptions::on_pod_cidr). Stop is the reverse; containers keep
// running, and the next Start re-adopts them.
//
// Errors from Start name the part that failed; nothing is left running on error.
// Thread-safety: Start and Stop from one thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/server/client/api_transport.h"

namespace kite::agent {

struct ContainerdNodeOptions {
  std::string data_dir;   // <data-dir>; the agent's files go to <data-dir>/agent
  std::string node_name;
  std::string pod_cidr;   // "" = the one the server assigns (spec.podCIDR)
  std::string node_ip;    // the InternalIP; "" = the first non-loopback IPv4 address
  int kubelet_port = 10250;  // 0 = any free port (tests)
  std::map<std::string, std::string> labels;  // extra node labels (node-role for servers)
  // The cluster CA (PEM): client certificates of callers of the agent's endpoint must chain
  // to it (the API server's).
  std::string cluster_ca_pem;
  client::ApiTransport* transport = nullptr;  // must outlive the node
  // One line per message; stderr with a "kite: " prefix when empty.
  std::function<void(const std::string&)> log;
};

class ContainerdNode {
 public:
  static Result<std::unique_ptr<ContainerdNode>> Start(ContainerdNodeOptions options);
  ~ContainerdNode();  // Stop()
  ContainerdNode(const ContainerdNode&) = delete;
  ContainerdNode& operator=(const ContainerdNode&) = delete;

  void Stop();
  int kubelet_port() const;

  struct Parts;  // in containerd_node.cc

 private:
  explicit ContainerdNode(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// The CNI bridge of a node with `pod_cidr`: "kite" and the CIDR's third octet, so nodes
// with different CIDRs on one host (tests) never share a bridge.
std::string BridgeNameFor(const std::string& pod_cidr);

}  // namespace kite::agent
