// SimCluster: many simulated nodes in one process (`kite sim`), each a NodeAgent over its
// own FakeRuntime, all sharing one transport, one pod informer, one AgentRunner and one
// PodObjects (so one watch of Services and one cache of ConfigMaps and Secrets).
//
// Node i (1-based) is named <prefix><i as 5 digits or more> ("sim-node-00001"), has
// InternalIP 172.16.0.0 + i (172.16.0.0/12 holds 2^20 nodes), pod CIDR
// 10.<42 + i / 256>.<i % 256>.0/24 (unique while i < 54784; further nodes wrap around into
// 10.0.0.0/8 and may share a CIDR — their pods' IPs then repeat across nodes, harmless for
// fakes), the label kite.dev/simulated=true, and the capacity of the options.
//
// Memory: a few kilobytes per node plus the shared pod cache.
// Thread-safety: Start and Stop from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "src/agent/agent_runner.h"
#include "src/agent/node_agent.h"
#include "src/runtime/fake_runtime.h"

namespace kite::agent {

struct SimClusterOptions {
  int64_t nodes = 1;
  std::string name_prefix = "sim-node-";
  NodeResources resources;
  int workers = 4;
  std::chrono::milliseconds lease_renew_interval{10'000};
  const Clock* clock = nullptr;  // null = the system clock
  std::function<void(const std::string&)> log;  // null = stderr
};

class SimCluster {
 public:
  // kInvalidArgument when `nodes` is below 1 or the prefix is not a valid start of a node
  // name (lower-case letters, digits, '-' and '.').
  static Result<std::unique_ptr<SimCluster>> Create(client::ApiTransport* transport,
                                                    SimClusterOptions options);
  ~SimCluster();

  void Start();
  void Stop();

  // "sim-node-00001" for (prefix "sim-node-", 1).
  static std::string NodeName(std::string_view prefix, int64_t index);
  // The description of node `index` (1-based) as described above.
  static NodeDescription SimNode(const SimClusterOptions& options, int64_t index);

  AgentRunner& runner() { return *runner_; }
  // The runtime of node `index` (1-based); null when out of range.
  runtime::FakeRuntime* runtime(int64_t index);

 private:
  SimCluster() = default;

  // Declared before the runner: the agents it owns use them until it is destroyed.
  std::unique_ptr<ApiPodObjects> objects_;
  std::vector<std::unique_ptr<runtime::FakeRuntime>> runtimes_;
  std::unique_ptr<AgentRunner> runner_;
};

}  // namespace kite::agent
