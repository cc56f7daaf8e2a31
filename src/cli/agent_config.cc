#include "src/cli/agent_config.h"

#include "src/cli/common_flags.h"
#include "src/cli/defaults.h"
#include "src/cli/flag_parser.h"

namespace kite::cli {

FlagSpec ServerCaFlag() {
  return {.name = "server-ca",
          .value_name = "FILE",
          .help = "the cluster CA certificate that verifies the server (on the server: "
                  "<data-dir>/server/tls/server-ca.crt)",
          .required = true};
}

CommandSpec AgentCommandSpec(const HostFacts& facts) {
  CommandSpec spec;
  spec.name = "agent";
  spec.usage = "kite agent --server URL --token TOKEN --server-ca FILE [flags]";
  spec.summary = "Join this machine to a cluster as a worker node";
  spec.description =
      "Registers this machine as a node of the cluster that --server serves, and runs its "
      "pods through the container runtime.";
  spec.flags = {
      JoinServerFlag("https://10.0.0.1:6443"),
      JoinTokenFlag(),
      ServerCaFlag(),
      DataDirFlag(facts, "agent"),
      NodeNameFlag(facts),
      KubeletPortFlag(),
      NodePodCidrFlag(),
      {.name = "node-ip",
       .kind = FlagKind::kIpAddress,
       .value_name = "ADDR",
       .help = "the node's InternalIP, where the API server reaches its agent endpoint",
       .default_help = "the first non-loopback IPv4 address"},
      {.name = "runtime",
       .kind = FlagKind::kChoice,
       .value_name = "RUNTIME",
       .help = "container runtime: containerd, or fake (no containers; for tests)",
       .default_value = "containerd",
       .choices = {"containerd", "fake"}},
  };
  return spec;
}

Result<AgentConfig> ParseAgentConfig(const std::vector<std::string>& args,
                                     const HostFacts& facts) {
  CommandSpec spec = AgentCommandSpec(facts);
  Result<FlagValues> values = ParseFlags(spec, args);
  if (!values.ok()) return values.status();

  AgentConfig agent;
  agent.server_url = values->String("server");
  agent.token = values->String("token");
  agent.server_ca = AbsolutePath(facts, values->String("server-ca"));
  if (!values->Has("data-dir")) {
    return InvalidArgumentError(
        "cannot choose a default --data-dir: HOME is not set; pass --data-dir");
  }
  agent.data_dir = AbsolutePath(facts, values->String("data-dir"));
  if (!values->Has("node-name")) {
    return InvalidArgumentError("cannot tell this machine's host name; pass --node-name");
  }
  agent.node_name = values->String("node-name");
  agent.kubelet_port = values->Port("kubelet-port");
  if (values->Has("node-pod-cidr")) agent.node_pod_cidr = values->String("node-pod-cidr");
  if (values->Has("node-ip")) agent.node_ip = values->String("node-ip");
  agent.runtime =
      values->String("runtime") == "fake" ? RuntimeKind::kFake : RuntimeKind::kContainerd;
  return agent;
}

}  // namespace kite::cli
