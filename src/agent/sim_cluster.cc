#include "src/agent/sim_cluster.h"

#include <cstdio>

namespace kite::agent {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Hex(uint64_t a, uint64_t b) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

std::string Uuid(uint64_t a, uint64_t b) {
  std::string h = Hex(a, b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string Ip(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

bool ValidPrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 200) return false;
  if (!((prefix[0] >= 'a' && prefix[0] <= 'z') || (prefix[0] >= '0' && prefix[0] <= '9'))) return false;
  for (char c : prefix) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::string SimCluster::NodeName(std::string_view prefix, int64_t index) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%05lld", static_cast<long long>(index));
  return std::string(prefix) + digits;
}

NodeDescription SimCluster::SimNode(const SimClusterOptions& options, int64_t index) {
  NodeDescription node;
  node.name = NodeName(options.name_prefix, index);
  uint32_t i = static_cast<uint32_t>(index);
  node.internal_ip = Ip((172u << 24 | 16u << 16) + (i & 0xfffff));
  uint32_t block = (42u * 256 + i) & 0xffff;  // the /24 inside 10.0.0.0/8
  node.pod_cidr = "10." + std::to_string(block >> 8) + "." + std::to_string(block & 255) + ".0/24";
  node.resources = options.resources;
  uint64_t seed = Mix(static_cast<uint64_t>(index) ^ 0x6b697465ULL);
  node.machine_id = Hex(Mix(seed), Mix(seed + 1));
  node.system_uuid = Uuid(Mix(seed + 2), Mix(seed + 3));
  node.boot_id = Uuid(Mix(seed + 4), Mix(seed + 5));
  node.extra_labels["kite.dev/simulated"] = "true";
  return node;
}

Result<std::unique_ptr<SimCluster>> SimCluster::Create(client::ApiTransport* transport,
                                                       SimClusterOptions options) {
  if (options.nodes < 1) return InvalidArgumentError("a simulated cluster needs at least one node");
  if (!ValidPrefix(options.name_prefix)) {
    return InvalidArgumentError("node name prefix \"" + options.name_prefix +
                                "\" must be lower-case letters, digits, '-' or '.', starting with a letter or digit");
  }
  std::unique_ptr<SimCluster> cluster(new SimCluster());
  ApiPodObjectsOptions object_options;
  object_options.clock = options.clock;
  cluster->objects_ = std::make_unique<ApiPodObjects>(transport, object_options);
  std::vector<std::unique_ptr<NodeAgent>> agents;
  for (int64_t i = 1; i <= options.nodes; ++i) {
    NodeAgentOptions agent;
    agent.node = SimNode(options, i);
    agent.lease_renew_interval = options.lease_renew_interval;
    agent.objects = cluster->objects_.get();
    runtime::FakeRuntimeOptions runtime_options;
    runtime_options.pod_cidr = agent.node.pod_cidr;
    runtime_options.clock = options.clock;
    Result<std::unique_ptr<runtime::FakeRuntime>> rt = runtime::FakeRuntime::Create(runtime_options);
    if (!rt.ok()) return rt.status();
    agents.push_back(std::make_unique<NodeAgent>(std::move(agent), transport, rt->get(), options.clock));
    cluster->runtimes_.push_back(std::move(rt).value());
  }
  AgentRunnerOptions runner;
  runner.workers = options.workers;
  runner.clock = options.clock;
  runner.log = options.log;
  cluster->runner_ = std::make_unique<AgentRunner>(transport, std::move(agents), std::move(runner));
  return cluster;
}

SimCluster::~SimCluster() { Stop(); }

void SimCluster::Start() { runner_->Start(); }

void SimCluster::Stop() {
  if (runner_) runner_->Stop();
}

runtime::FakeRuntime* SimCluster::runtime(int64_t index) {
  if (index < 1 || index > static_cast<int64_t>(runtimes_.size())) return nullptr;
  return runtimes_[static_cast<size_t>(index - 1)].get();
}

}  // namespace kite::agent
