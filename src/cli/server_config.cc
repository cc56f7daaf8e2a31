#include "src/cli/server_config.h"

#include <optional>

#include "src/cli/common_flags.h"
#include "src/cli/config_file.h"
#include "src/cli/defaults.h"
#include "src/cli/flag_parser.h"
#include "src/server/controllers/node_ipam_controller.h"

namespace kite::cli {

std::string ServerConfig::ServerDir() const { return ServerStateDir(data_dir); }
std::string ServerConfig::TokenPath() const { return TokenFilePath(data_dir); }

CommandSpec ServerCommandSpec(const HostFacts& facts) {
  CommandSpec spec;
  spec.name = "server";
  spec.usage = "kite server [flags]";
  spec.summary = "Run the control plane (and a node agent) on this machine";
  spec.description =
      "Runs the API server, scheduler and controllers in one process, with the cluster's "
      "state in an embedded SQLite database, and by default a node agent for this machine. "
      "Flags may also be set in a YAML config file whose keys are the flag names without the "
      "dashes (\"data-dir: /srv/kite\"); flags on the command line win over the file.";
  std::string kubeconfig_default =
      facts.is_root() ? std::string(kRootKubeconfig) : std::string("<data-dir>/kite.yaml");
  spec.flags = {
      DataDirFlag(facts, "server"),
      {.name = "https-listen-port",
       .kind = FlagKind::kPort,
       .value_name = "PORT",
       .help = "port the API server listens on (HTTPS)",
       .default_value = kDefaultHttpsPort},
      {.name = "bind-address",
       .kind = FlagKind::kIpAddress,
       .value_name = "ADDR",
       .help = "address the API server listens on",
       .default_value = kDefaultBindAddress},
      {.name = "write-kubeconfig",
       .value_name = "PATH",
       .help = "where to write the admin kubeconfig",
       .default_help = kubeconfig_default},
      {.name = "write-kubeconfig-mode",
       .kind = FlagKind::kFileMode,
       .value_name = "MODE",
       .help = "permissions of the kubeconfig file, in octal",
       .default_value = kDefaultKubeconfigMode},
      {.name = "disable-agent",
       .kind = FlagKind::kBool,
       .help = "do not run a node agent in the server process",
       .default_value = "false"},
      {.name = "token",
       .kind = FlagKind::kToken,
       .value_name = "TOKEN",
       .help = "shared secret that agents join with; saved to <data-dir>/server/token",
       .default_help = "the saved one, else a new random one"},
      NodeNameFlag(facts),
      KubeletPortFlag(),
      NodePodCidrFlag(),
      {.name = "datastore-endpoint",
       .kind = FlagKind::kEndpoint,
       .value_name = "URL",
       .help = "where the cluster state is kept (sqlite:///PATH or memory://)",
       .default_help = "sqlite://<data-dir>/server/db/state.db"},
      {.name = "datastore-history-revisions",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "revisions of history kept for watches; older ones are compacted",
       .default_value = std::to_string(kDefaultDatastoreHistoryRevisions),
       .min_value = kMinDatastoreHistoryRevisions,
       .max_value = kMaxDatastoreHistoryRevisions},
      {.name = "cluster-cidr",
       .kind = FlagKind::kCidr,
       .value_name = "CIDR",
       .help = "IP range that pod addresses come from",
       .default_value = kDefaultClusterCidr},
      {.name = "node-cidr-mask-size",
       .kind = FlagKind::kInt,
       .value_name = "BITS",
       .help = "prefix length of each node's pod CIDR, cut from --cluster-cidr (its IPv4 entry)",
       .default_value = "24",
       .min_value = 8,
       .max_value = 30},
      {.name = "service-cidr",
       .kind = FlagKind::kCidr,
       .value_name = "CIDR",
       .help = "IP range that service cluster IPs come from",
       .default_value = kDefaultServiceCidr},
      {.name = "metric-resolution",
       .kind = FlagKind::kInt,
       .value_name = "SECONDS",
       .help = "how often node agents are scraped for metrics.k8s.io (kubectl top)",
       .default_value = "15",
       .min_value = 1,
       .max_value = 3600},
      {.name = "event-ttl",
       .kind = FlagKind::kDuration,
       .value_name = "DURATION",
       .help = "how long an Event is kept after its last write, as a Go duration (0 = until deleted)",
       .default_value = kDefaultEventTtl},
      {.name = "config",
       .value_name = "FILE",
       .help = "YAML file with flag values (read only if it exists, unless named here)",
       .default_value = kDefaultConfigFile,
       .settable_in_config = false},
  };
  return spec;
}

Result<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                       const HostFacts& facts, const FileReader& read_file) {
  CommandSpec spec = ServerCommandSpec(facts);
  Result<CommandLine> command_line = ParseCommandLine(spec, args);
  if (!command_line.ok()) return command_line.status();

  // The config file is named on the command line (or defaulted), so it is read after the
  // command line is parsed and before the two are merged.
  auto given_config = command_line->values.find("config");
  bool config_named = given_config != command_line->values.end();
  std::string config_path =
      config_named ? AbsolutePath(facts, given_config->second) : kDefaultConfigFile;
  Result<std::optional<std::string>> config_text = read_file(config_path);
  if (!config_text.ok()) return config_text.status();
  std::optional<ConfigFile> config;
  if (config_text->has_value()) {
    Result<ConfigFile> parsed = ParseConfigFile(**config_text, config_path);
    if (!parsed.ok()) return parsed.status();
    config = std::move(parsed).value();
  } else if (config_named) {
    return InvalidArgumentError("config file " + config_path + " (from --config) does not exist");
  }

  Result<FlagValues> values = ResolveFlags(spec, *command_line, config ? &*config : nullptr);
  if (!values.ok()) return values.status();

  ServerConfig server;
  if (!values->Has("data-dir")) {
    return InvalidArgumentError(
        "cannot choose a default --data-dir: HOME is not set; pass --data-dir");
  }
  server.data_dir = AbsolutePath(facts, values->String("data-dir"));
  server.https_listen_port = values->Port("https-listen-port");
  server.bind_address = values->String("bind-address");
  server.write_kubeconfig = values->Has("write-kubeconfig")
                                ? AbsolutePath(facts, values->String("write-kubeconfig"))
                                : DefaultKubeconfigPath(facts, server.data_dir);
  server.write_kubeconfig_mode = values->FileMode("write-kubeconfig-mode");
  server.disable_agent = values->Bool("disable-agent");
  server.token = values->String("token");
  if (!values->Has("node-name")) {
    return InvalidArgumentError("cannot tell this machine's host name; pass --node-name");
  }
  server.node_name = values->String("node-name");
  server.kubelet_port = values->Port("kubelet-port");
  if (values->Has("node-pod-cidr")) server.node_pod_cidr = values->String("node-pod-cidr");
  server.datastore_endpoint = values->Has("datastore-endpoint")
                                  ? values->String("datastore-endpoint")
                                  : DefaultDatastoreEndpoint(server.data_dir);
  server.datastore_history_revisions = values->Int("datastore-history-revisions");
  server.cluster_cidr = values->String("cluster-cidr");
  server.node_cidr_mask_size = static_cast<int>(values->Int("node-cidr-mask-size"));
  if (Status s = controllers::NodeIpamController::Validate(server.cluster_cidr, server.node_cidr_mask_size); !s.ok()) {
    return InvalidArgumentError("--cluster-cidr " + server.cluster_cidr + " with --node-cidr-mask-size " +
                                std::to_string(server.node_cidr_mask_size) + ": " + s.message());
  }
  server.service_cidr = values->String("service-cidr");
  server.metric_resolution_seconds = static_cast<int>(values->Int("metric-resolution"));
  server.event_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(values->Duration("event-ttl"));
  if (config) server.config_file = config_path;
  return server;
}

}  // namespace kite::cli
