#include "src/agent/host/containerd_node.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "src/agent/agent_runner.h"
#include "src/agent/local_node.h"
#include "src/agent/node_agent.h"
#include "src/agent/server/agent_server.h"
#include "src/agent/server/pod_lookup.h"
#include "src/agent/volumes/local_path_reclaimer.h"
#include "src/runtime/containerd/air_gap_images.h"
#include "src/runtime/containerd/containerd_process.h"
#include "src/runtime/cri/cri_runtime.h"

namespace kite::agent {

struct ContainerdNode::Parts {
  std::function<void(const std::string&)> log;
  std::unique_ptr<containerd::ContainerdProcess> containerd;
  std::unique_ptr<runtime::CriRuntime> runtime;
  std::unique_ptr<containerd::AirGapImages> images;
  std::unique_ptr<server::RuntimePodLookup> lookup;
  std::unique_ptr<server::AgentServer> server;
  std::unique_ptr<AgentRunner> runner;
  std::unique_ptr<volumes::LocalPathReclaimer> reclaimer;

  // Reverse of the start order; each part may be missing (a failed Start).
  void Stop() {
    if (reclaimer) reclaimer->Stop();
    reclaimer.reset();
    if (runner) runner->Stop();
    runner.reset();
    if (server) server->Stop();
    server.reset();
    if (images) images->Stop();
    images.reset();
    runtime.reset();
    if (containerd) containerd->Stop();
    containerd.reset();
  }
};

namespace {

// Waits for RuntimeReady and NetworkReady: the CRI plugin loads the CNI network list a
// moment after containerd answers, and a sandbox started before that has no network.
// Without `network` (no pod CIDR yet, so no network list) RuntimeReady is enough: Ready()
// checks it first and names the condition that failed (cri_runtime.h).
Status WaitUntilReady(const runtime::CriRuntime& rt, std::chrono::seconds limit, bool network = true) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = rt.Ready();
    if (last.ok()) return last;
    if (!network && last.message().find("NetworkReady is false") != std::string::npos) return Status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return UnavailableError("containerd is not ready after " + std::to_string(limit.count()) +
                          " s: " + last.message());
}

}  // namespace

std::string BridgeNameFor(const std::string& pod_cidr) {
  // "a.b.c.d/n" → "kite" + c.
  size_t first = pod_cidr.find('.');
  size_t second = first == std::string::npos ? first : pod_cidr.find('.', first + 1);
  size_t third = second == std::string::npos ? second : pod_cidr.find('.', second + 1);
  if (third == std::string::npos) return "kite0";
  return "kite" + pod_cidr.substr(second + 1, third - second - 1);
}

Result<std::unique_ptr<ContainerdNode>> ContainerdNode::Start(ContainerdNodeOptions options) {
  if (!options.transport) return InvalidArgumentError("ContainerdNode needs a transport");
  auto parts = std::make_unique<Parts>();
  parts->log = options.log ? options.log
                           : [](const std::string& line) { std::cerr << "kite: " << line << "\n"; };
  const std::string agent_dir = options.data_dir + "/agent";

  // The node's description first: an explicit pod CIDR decides the bridge now; otherwise
  // the network list is written once the node learns its CIDR from the API.
  NodeAgentOptions node_options;
  node_options.node = LocalNodeDescription(options.node_name, "containerd://");
  node_options.node.pod_cidr = options.pod_cidr;
  if (!options.node_ip.empty()) node_options.node.internal_ip = options.node_ip;
  node_options.node.extra_labels = options.labels;
  node_options.agent_dir = agent_dir;
  // local-path volumes live in <data-dir>/storage (the node publishes it; the PVs name it).
  const std::string storage_dir = std::filesystem::absolute(options.data_dir + "/storage").lexically_normal().string();
  node_options.node.local_path_root = storage_dir;
  node_options.resolv_conf = "/etc/resolv.conf";
  node_options.pressure = [agent_dir] { return EvaluatePressure(ReadNodeSignals(agent_dir)); };

  containerd::ContainerdOptions containerd_options;
  containerd_options.dir = agent_dir;
  containerd_options.pod_cidr = node_options.node.pod_cidr;
  if (!options.pod_cidr.empty()) containerd_options.bridge_name = BridgeNameFor(options.pod_cidr);
  containerd_options.log = [log = parts->log](const std::string& line) { log("containerd: " + line); };
  Result<std::unique_ptr<containerd::ContainerdProcess>> containerd =
      containerd::ContainerdProcess::Start(containerd_options);
  if (!containerd.ok()) return Status(containerd.status().code(), "containerd: " + containerd.status().message());
  parts->containerd = std::move(containerd).value();

  Result<std::unique_ptr<runtime::CriRuntime>> rt = runtime::CriRuntime::Connect(parts->containerd->socket_path());
  if (!rt.ok()) {
    parts->Stop();
    return Status(rt.status().code(), "CRI: " + rt.status().message());
  }
  parts->runtime = std::move(rt).value();
  if (Status s = WaitUntilReady(*parts->runtime, std::chrono::seconds(30), !options.pod_cidr.empty()); !s.ok()) {
    parts->Stop();
    return s;
  }
  Result<runtime::VersionInfo> version = parts->runtime->QueryVersion();
  if (!version.ok()) {
    parts->Stop();
    return Status(version.status().code(), "CRI: " + version.status().message());
  }
  node_options.node.container_runtime_version = version->runtime_name + "://" + version->runtime_version;

  containerd::AirGapOptions image_options;
  image_options.socket = parts->containerd->socket_path();
  image_options.images_dir = agent_dir + "/images";
  image_options.log = [log = parts->log](const std::string& line) { log("images: " + line); };
  parts->images = std::make_unique<containerd::AirGapImages>(image_options);
  // One scan before pods start, so a pod of an air-gap image never tries a registry.
  if (Result<int> scanned = parts->images->ScanOnce(); !scanned.ok()) {
    parts->log("images: " + scanned.status().message());
  }
  parts->images->Start();

  parts->lookup = std::make_unique<server::RuntimePodLookup>(parts->runtime.get());
  server::AgentServerOptions server_options;
  server_options.port = options.kubelet_port;
  server_options.data_dir = options.data_dir;
  server_options.node_name = options.node_name;
  server_options.node_addresses = {node_options.node.internal_ip, "127.0.0.1"};
  server_options.client_ca_pem = options.cluster_ca_pem;
  server_options.handler.log = [log = parts->log](const std::string& line) { log("agent endpoint: " + line); };
  Result<std::unique_ptr<server::AgentServer>> agent_server =
      server::AgentServer::Start(server_options, parts->runtime.get(), parts->lookup.get());
  if (!agent_server.ok()) {
    parts->Stop();
    return Status(agent_server.status().code(),
                  "agent endpoint on port " + std::to_string(options.kubelet_port) + ": " +
                      agent_server.status().message());
  }
  parts->server = std::move(agent_server).value();
  node_options.node.kubelet_port = parts->server->port();

  // The pod CIDR the API has for the node (the explicit one, or the node IPAM
  // controller's): the network list on bridge kite<third octet>, then wait until the CRI
  // plugin has loaded it — no pod starts before this returns.
  node_options.on_pod_cidr = [containerd = parts->containerd.get(), rt = parts->runtime.get(),
                              log = parts->log](const std::string& cidr) -> Status {
    KITE_RETURN_IF_ERROR(containerd->SetPodCidr(cidr, BridgeNameFor(cidr)));
    Status ready = WaitUntilReady(*rt, std::chrono::seconds(30));
    if (ready.ok()) log("pod network ready: " + cidr);
    return ready;
  };
  std::vector<std::unique_ptr<NodeAgent>> nodes;
  nodes.push_back(std::make_unique<NodeAgent>(std::move(node_options), options.transport, parts->runtime.get()));
  AgentRunnerOptions runner_options;
  runner_options.log = parts->log;
  runner_options.record_events = true;  // a real node: the kubelet's Events
  parts->runner = std::make_unique<AgentRunner>(options.transport, std::move(nodes), runner_options);
  parts->runner->Start();
  parts->reclaimer = std::make_unique<volumes::LocalPathReclaimer>(
      options.transport, volumes::LocalPathReclaimerOptions{.node_name = options.node_name,
                                                            .root = storage_dir,
                                                            .log = parts->log});
  parts->reclaimer->Start();
  return std::unique_ptr<ContainerdNode>(new ContainerdNode(std::move(parts)));
}

ContainerdNode::ContainerdNode(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ContainerdNode::~ContainerdNode() { Stop(); }

void ContainerdNode::Stop() {
  if (parts_) parts_->Stop();
}

int ContainerdNode::kubelet_port() const { return parts_->server ? parts_->server->port() : 0; }

}  // namespace kite::agent
