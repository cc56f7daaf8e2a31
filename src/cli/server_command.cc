#include "src/cli/server_command.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "src/agent/host/containerd_node.h"
#include "src/cli/directories.h"
#include "src/cli/exit_code.h"
#include "src/cli/flag_parser.h"
#include "src/cli/help.h"
#include "src/cli/host_facts.h"
#include "src/cli/server_config.h"
#include "src/cli/token_file.h"
#include "src/server/apiserver/api_server.h"
#include "src/server/client/event_broadcaster.h"
#include "src/server/client/in_process_transport.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/default_controllers.h"
#include "src/server/apiserver/kubelet_client.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/metrics/metrics_api.h"
#include "src/server/metrics/metrics_store.h"
#include "src/server/metrics/scraper.h"
#include "src/server/pki/cluster_pki.h"
#include "src/server/scheduler/scheduler.h"
#include "src/store/open_store.h"

namespace kite::cli {
namespace {

void PrintSettings(const ServerConfig& config) {
  std::cerr << "kite: config file: "
            << (config.config_file.empty() ? std::string("none") : config.config_file) << "\n"
            << "kite: data dir: " << config.data_dir << "\n"
            << "kite: datastore endpoint: " << config.datastore_endpoint << "\n"
            << "kite: https listen: " << config.bind_address << " port "
            << config.https_listen_port << "\n"
            << "kite: node name: " << config.node_name
            << (config.disable_agent ? " (agent disabled)" : "") << "\n"
            << "kite: token file: " << config.TokenPath() << "\n";
}

}  // namespace

int RunServer(const std::vector<std::string>& args) {
  HostFacts facts = ReadHostFacts();
  if (WantsHelp(args)) {
    std::cout << FormatCommandHelp(ServerCommandSpec(facts));
    return ExitCode::kOk;
  }
  Result<ServerConfig> config = ParseServerConfig(args, facts, ReadFileIfExists);
  if (!config.ok()) {
    std::cerr << "kite: " << config.status().message() << "\n";
    return ExitCode::kUsage;
  }

  // Block the shutdown signals before any thread exists (the store starts some), so every
  // thread inherits the mask and only sigwait below receives them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  if (int err = pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr); err != 0) {
    std::cerr << "kite: cannot block signals: " << strerror(err) << "\n";
    return ExitCode::kFailure;
  }
  // A shell starts background jobs with SIGINT ignored, and an ignored signal is dropped
  // instead of pending, so sigwait would never see it. Restore the defaults (harmless
  // while blocked).
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);

  PrintSettings(*config);
  Status dirs = MakeDirectories(config->data_dir, 0755);
  // The server's own folder holds the token and the database: for root's eyes only.
  if (dirs.ok()) dirs = MakeDirectories(config->ServerDir(), 0700);
  if (!dirs.ok()) {
    std::cerr << "kite: " << dirs.message() << "\n";
    return ExitCode::kFailure;
  }
  Result<std::string> token = EnsureTokenFile(config->TokenPath(), config->token);
  if (!token.ok()) {
    std::cerr << "kite: " << token.status().message() << "\n";
    return ExitCode::kFailure;
  }

  store::StoreOptions store_options;
  store_options.history_window_revisions = config->datastore_history_revisions;
  // Compact in steps no larger than the window, so a small window means what it says.
  store_options.compaction_batch_revisions =
      std::min<int64_t>(store_options.compaction_batch_revisions, config->datastore_history_revisions);
  Result<std::unique_ptr<store::KvStore>> opened =
      store::OpenStore(config->datastore_endpoint, store_options);
  if (!opened.ok()) {
    std::cerr << "kite: cannot open the store at " << config->datastore_endpoint << ": "
              << opened.status().message() << "\n";
    return ExitCode::kFailure;
  }
  std::unique_ptr<store::KvStore> kv = std::move(opened).value();
  std::cerr << "kite: store ready (" << config->datastore_endpoint << ", revision "
            << kv->CurrentRevision() << ")\n";

  apiserver::ApiServerOptions api_options;
  api_options.server_dir = config->ServerDir();
  api_options.bind_address = config->bind_address;
  api_options.port = config->https_listen_port;
  api_options.join_token = *token;
  api_options.service_cidr = config->service_cidr;
  api_options.kubeconfig_path = config->write_kubeconfig;
  api_options.kubeconfig_mode = config->write_kubeconfig_mode;
  api_options.event_ttl = config->event_ttl;
  // metrics.k8s.io (kubectl top, the HPA): served from the store the scraper below fills.
  metrics::MetricsStore metrics_store;
  metrics::MetricsApi metrics_api(&metrics_store);
  api_options.computed_api = &metrics_api;
  Result<std::unique_ptr<apiserver::ApiServer>> api = apiserver::ApiServer::Start(api_options, kv.get());
  if (!api.ok()) {
    std::cerr << "kite: cannot start the API server: " << api.status().message() << "\n";
    return ExitCode::kFailure;
  }
  std::cerr << "kite: API server listening on " << config->bind_address << ":" << (*api)->port()
            << "\nkite: kubeconfig written to " << config->write_kubeconfig << "\n";

  // The controllers call the API handler in process, as a cluster admin: every write still
  // passes authorization, admission and the store as an HTTPS request would.
  client::InProcessTransport controller_transport((*api)->handler(), "system:kube-controller-manager",
                                                  {"system:masters"});
  // Their Events (and the scheduler's) go through one background writer; it outlives them.
  client::EventBroadcaster events(&controller_transport);
  events.Start();
  controllers::ControllerManager controllers(&controller_transport);
  controllers::DefaultControllersOptions controller_options;
  controller_options.events = &events;
  // Node IPAM: every node's pod CIDR comes from --cluster-cidr (its IPv4 entry).
  controller_options.cluster_cidr = config->cluster_cidr;
  controller_options.node_cidr_mask_size = config->node_cidr_mask_size;
  controller_options.service_cidr = config->service_cidr;  // filtered out of the pod CIDR pool
  // The cluster CA, published to every namespace as the kube-root-ca.crt ConfigMap.
  if (std::ifstream ca(api_options.server_dir + "/tls/" + pki::kCaCertFile); ca) {
    controller_options.root_ca_pem.assign(std::istreambuf_iterator<char>(ca), std::istreambuf_iterator<char>());
  }
  for (auto& controller : controllers::DefaultControllers(controller_options)) controllers.Add(std::move(controller));
  scheduler::Scheduler::Options scheduler_options;
  scheduler_options.recorder = events.NewRecorder({"default-scheduler", ""});
  controllers.Add(std::make_unique<scheduler::Scheduler>(std::move(scheduler_options)));
  if (Status s = controllers.Start(); !s.ok()) {
    std::cerr << "kite: cannot start the controllers: " << s.message() << "\n";
    return ExitCode::kFailure;
  }
  std::cerr << "kite: controllers running\n";

  // The metrics scraper: every --metric-resolution seconds, each Ready node's agent
  // /metrics/resource through the API server's kubelet client, over the controllers' node
  // and pod informers.
  std::unique_ptr<metrics::Scraper> scraper;
  if (apiserver::KubeletClient* kubelet = (*api)->kubelet()) {
    metrics::ScraperOptions scraper_options;
    scraper_options.resolution = std::chrono::seconds(config->metric_resolution_seconds);
    scraper_options.log = [](const std::string& line) { std::cerr << "kite: " << line << "\n"; };
    scraper = std::make_unique<metrics::Scraper>(
        scraper_options, metrics::KubeletFetcher(kubelet, scraper_options.resolution),
        &controllers.informers().For(client::kNodes), &controllers.informers().For(client::kPods), &metrics_store);
    scraper->Start();
  }

  // The embedded node agent: this machine as a node, with its own containerd. It calls the
  // API in process, as the node's identity (RBAC's system:nodes rules apply).
  client::InProcessTransport agent_transport((*api)->handler(), "system:node:" + config->node_name,
                                             {"system:nodes", "system:authenticated"});
  std::unique_ptr<agent::ContainerdNode> node;
  if (!config->disable_agent) {
    agent::ContainerdNodeOptions node_options;
    node_options.data_dir = config->data_dir;
    node_options.node_name = config->node_name;
    node_options.pod_cidr = config->node_pod_cidr;
    node_options.kubelet_port = config->kubelet_port;
    node_options.labels = {{"node-role.kubernetes.io/control-plane", "true"},
                           {"node-role.kubernetes.io/master", "true"}};
    Result<std::optional<std::string>> ca = ReadFileIfExists(config->ServerDir() + "/tls/server-ca.crt");
    if (ca.ok() && ca->has_value()) node_options.cluster_ca_pem = **ca;
    node_options.transport = &agent_transport;
    Result<std::unique_ptr<agent::ContainerdNode>> started = agent::ContainerdNode::Start(node_options);
    if (!started.ok()) {
      std::cerr << "kite: cannot start the node agent: " << started.status().message()
                << "\nkite: (--disable-agent runs the control plane alone)\n";
      if (scraper) scraper->Stop();
      controllers.Stop();
      events.Stop();
      (*api)->Stop();
      return ExitCode::kFailure;
    }
    node = std::move(started).value();
    std::cerr << "kite: node " << config->node_name << " running (containerd), agent endpoint on port "
              << node->kubelet_port() << "\n";
  }

  int signal_number = 0;
  if (int err = sigwait(&shutdown_signals, &signal_number); err != 0) {
    std::cerr << "kite: sigwait failed: " << strerror(err) << "\n";
    return ExitCode::kFailure;
  }
  std::cerr << "kite: received " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down\n";
  if (scraper) scraper->Stop();  // before the node it scrapes and the informers it reads
  if (node) {
    node->Stop();  // containers keep running; the next start re-adopts them
    std::cerr << "kite: node agent stopped\n";
  }
  controllers.Stop();  // no controller writes after this
  events.Stop();       // nor their Events
  std::cerr << "kite: controllers stopped\n";
  (*api)->Stop();  // no request touches the store after this
  std::cerr << "kite: API server stopped\n";
  kv.reset();  // closes the store: pending writes are flushed, its threads joined
  std::cerr << "kite: store closed\n";
  return ExitCode::kOk;
}

}  // namespace kite::cli
