#include "src/cli/agent_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstring>
#include <iostream>

#include "src/agent/agent_runner.h"
#include "src/agent/host/containerd_node.h"
#include "src/agent/local_node.h"
#include "src/agent/node_agent.h"
#include "src/agent/server/agent_server.h"
#include "src/agent/server/pod_lookup.h"
#include "src/agent/sim_cluster.h"
#include "src/cli/agent_config.h"
#include "src/cli/exit_code.h"
#include "src/cli/flag_parser.h"
#include "src/cli/help.h"
#include "src/cli/host_facts.h"
#include "src/cli/sim_config.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/client/https_transport.h"

namespace kite::cli {
namespace {

// Blocks SIGINT and SIGTERM before any thread exists, so every thread inherits the mask
// and only WaitForShutdown receives them.
Status BlockShutdownSignals(sigset_t& signals) {
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
    return InternalError(std::string("cannot block signals: ") + strerror(err));
  }
  // A shell starts background jobs with SIGINT ignored, and an ignored signal is dropped
  // instead of pending: restore the defaults (harmless while blocked).
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return Status();
}

const char* WaitForShutdown(const sigset_t& signals) {
  int signal_number = 0;
  if (sigwait(&signals, &signal_number) != 0) return "a failed sigwait";
  return signal_number == SIGINT ? "SIGINT" : "SIGTERM";
}

// The HTTPS transport to `server_url`, verified by the CA in `ca_path`, with `token`,
// keeping up to `max_idle_connections` connections for reuse.
Result<std::unique_ptr<client::HttpsTransport>> Connect(const std::string& server_url,
                                                        const std::string& token,
                                                        const std::string& ca_path,
                                                        size_t max_idle_connections =
                                                            client::HttpsTransportOptions{}.max_idle_connections) {
  Result<std::optional<std::string>> ca = ReadFileIfExists(ca_path);
  if (!ca.ok()) return ca.status();
  if (!ca->has_value()) return InvalidArgumentError("--server-ca " + ca_path + ": no such file");
  client::HttpsTransportOptions options;
  options.server_url = server_url;
  options.ca_pem = std::move(**ca);
  options.bearer_token = token;
  options.user_agent = "kite-agent";
  options.max_idle_connections = max_idle_connections;
  Result<std::unique_ptr<client::HttpsTransport>> transport = client::HttpsTransport::Create(std::move(options));
  if (!transport.ok() && transport.status().code() == StatusCode::kInvalidArgument &&
      transport.status().message().find("CA") != std::string::npos) {
    return InvalidArgumentError("--server-ca " + ca_path + ": " + transport.status().message());
  }
  return transport;
}

// `kite agent` with real containers: this machine joins as a node with its own containerd.
int RunContainerdNode(const AgentConfig& config, client::ApiTransport* transport,
                      const sigset_t& signals) {
  Result<std::optional<std::string>> ca = ReadFileIfExists(config.server_ca);
  if (!ca.ok() || !ca->has_value()) {
    std::cerr << "kite agent: --server-ca " << config.server_ca << ": cannot read it\n";
    return ExitCode::kFailure;
  }
  agent::ContainerdNodeOptions options;
  options.data_dir = config.data_dir;
  options.node_name = config.node_name;
  options.pod_cidr = config.node_pod_cidr;
  options.node_ip = config.node_ip;
  options.kubelet_port = config.kubelet_port;
  options.cluster_ca_pem = **ca;
  options.transport = transport;
  Result<std::unique_ptr<agent::ContainerdNode>> node = agent::ContainerdNode::Start(options);
  if (!node.ok()) {
    std::cerr << "kite agent: " << node.status().message() << "\n";
    return ExitCode::kFailure;
  }
  std::cerr << "kite agent: node " << config.node_name << " joining " << config.server_url
            << " (containerd), agent endpoint on port " << (*node)->kubelet_port() << "\n";
  const char* why = WaitForShutdown(signals);
  std::cerr << "kite agent: received " << why << ", stopping (containers keep running)\n";
  (*node)->Stop();
  std::cerr << "kite agent: stopped\n";
  return ExitCode::kOk;
}

}  // namespace

int RunAgent(const std::vector<std::string>& args) {
  HostFacts facts = ReadHostFacts();
  if (WantsHelp(args)) {
    std::cout << FormatCommandHelp(AgentCommandSpec(facts));
    return ExitCode::kOk;
  }
  Result<AgentConfig> config = ParseAgentConfig(args, facts);
  if (!config.ok()) {
    std::cerr << "kite: " << config.status().message() << "\n";
    return ExitCode::kUsage;
  }
  sigset_t signals;
  if (Status s = BlockShutdownSignals(signals); !s.ok()) {
    std::cerr << "kite: " << s.message() << "\n";
    return ExitCode::kFailure;
  }
  Result<std::unique_ptr<client::HttpsTransport>> transport =
      Connect(config->server_url, config->token, config->server_ca);
  if (!transport.ok()) {
    std::cerr << "kite agent: " << transport.status().message() << "\n";
    return ExitCode::kFailure;
  }
  if (config->runtime == RuntimeKind::kContainerd) {
    return RunContainerdNode(*config, transport->get(), signals);
  }
  runtime::FakeRuntimeOptions runtime_options;
  agent::NodeAgentOptions node;
  node.node = agent::LocalNodeDescription(config->node_name, "fake://1.0");
  if (!config->node_ip.empty()) node.node.internal_ip = config->node_ip;
  // Without --node-pod-cidr the server assigns one; pods wait until the node knows it.
  node.node.pod_cidr = config->node_pod_cidr;
  runtime_options.pod_cidr = node.node.pod_cidr;
  Result<std::unique_ptr<runtime::FakeRuntime>> rt = runtime::FakeRuntime::Create(runtime_options);
  if (!rt.ok()) {
    std::cerr << "kite agent: " << rt.status().message() << "\n";
    return ExitCode::kFailure;
  }
  node.on_pod_cidr = [fake = rt->get()](const std::string& cidr) { return fake->SetPodCidr(cidr); };
  // The agent endpoint, as on a real node, so the API server can scrape /metrics/resource
  // (the pods' simulated usage: fake_runtime.h's sim.kite.dev/cpu-millicores and
  // memory-bytes). When --kubelet-port is taken (several fake agents on one machine), any
  // free port: the node advertises the port it got.
  Result<std::optional<std::string>> ca = ReadFileIfExists(config->server_ca);
  agent::server::RuntimePodLookup lookup(rt->get());
  agent::server::AgentServerOptions server_options;
  server_options.port = config->kubelet_port;
  server_options.data_dir = config->data_dir;
  server_options.node_name = config->node_name;
  server_options.node_addresses = {node.node.internal_ip, "127.0.0.1"};
  server_options.client_ca_pem = ca.ok() && ca->has_value() ? **ca : std::string();
  server_options.handler.log = [](const std::string& line) { std::cerr << "kite agent: " << line << "\n"; };
  Result<std::unique_ptr<agent::server::AgentServer>> endpoint =
      agent::server::AgentServer::Start(server_options, rt->get(), &lookup);
  if (!endpoint.ok() && endpoint.status().code() == StatusCode::kUnavailable) {
    server_options.port = 0;
    endpoint = agent::server::AgentServer::Start(server_options, rt->get(), &lookup);
  }
  if (!endpoint.ok()) {
    std::cerr << "kite agent: agent endpoint: " << endpoint.status().message() << "\n";
    return ExitCode::kFailure;
  }
  node.node.kubelet_port = (*endpoint)->port();
  std::vector<std::unique_ptr<agent::NodeAgent>> nodes;
  nodes.push_back(std::make_unique<agent::NodeAgent>(std::move(node), transport->get(), rt->get()));
  {
    agent::AgentRunner runner(transport->get(), std::move(nodes));
    runner.Start();
    std::cerr << "kite agent: node " << config->node_name << " joining " << config->server_url
              << " (runtime fake), agent endpoint on port " << (*endpoint)->port() << "\n";
    const char* why = WaitForShutdown(signals);
    std::cerr << "kite agent: received " << why << ", stopping\n";
    runner.Stop();
  }
  (*endpoint)->Stop();
  std::cerr << "kite agent: stopped\n";
  return ExitCode::kOk;
}

int RunSim(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::cout << FormatCommandHelp(SimCommandSpec());
    return ExitCode::kOk;
  }
  Result<SimConfig> config = ParseSimConfig(args);
  if (!config.ok()) {
    std::cerr << "kite: " << config.status().message() << "\n";
    return ExitCode::kUsage;
  }
  sigset_t signals;
  if (Status s = BlockShutdownSignals(signals); !s.ok()) {
    std::cerr << "kite: " << s.message() << "\n";
    return ExitCode::kFailure;
  }
  // Workers wait on the API most of the time (each status write waits for a store commit):
  // many nodes need many in flight, as many kubelets would have.
  const int workers = static_cast<int>(std::min<int64_t>(32, 2 + config->nodes / 50));
  // Every worker (and the lease ticker) may hold a connection at once: a pool smaller than
  // that closes the surplus after each burst and pays a TLS handshake for it in the next.
  Result<std::unique_ptr<client::HttpsTransport>> transport =
      Connect(config->server_url, config->token, config->server_ca, static_cast<size_t>(workers) + 8);
  if (!transport.ok()) {
    std::cerr << "kite sim: " << transport.status().message() << "\n";
    return ExitCode::kFailure;
  }
  agent::SimClusterOptions options;
  options.nodes = config->nodes;
  options.workers = workers;
  Result<std::unique_ptr<agent::SimCluster>> cluster = agent::SimCluster::Create(transport->get(), options);
  if (!cluster.ok()) {
    std::cerr << "kite sim: " << cluster.status().message() << "\n";
    return ExitCode::kFailure;
  }
  (*cluster)->Start();
  std::cerr << "kite sim: " << config->nodes << " simulated node" << (config->nodes == 1 ? "" : "s")
            << " (" << agent::SimCluster::NodeName(options.name_prefix, 1)
            << (config->nodes > 1 ? " ... " + agent::SimCluster::NodeName(options.name_prefix, config->nodes) : "")
            << ") joining " << config->server_url << "\n";
  const char* why = WaitForShutdown(signals);
  std::cerr << "kite sim: received " << why << ", stopping\n";
  (*cluster)->Stop();
  cluster->reset();
  std::cerr << "kite sim: stopped\n";
  return ExitCode::kOk;
}

}  // namespace kite::cli
