#include "src/cli/common_flags.h"

#include "src/cli/defaults.h"

namespace kite::cli {

FlagSpec DataDirFlag(const HostFacts& facts, std::string_view whose) {
  return {.name = "data-dir",
          .value_name = "DIR",
          .help = "directory for all of the " + std::string(whose) + "'s state",
          .default_value = DefaultDataDir(facts),
          .default_help =
              facts.is_root() || !facts.home.empty() ? "" : "$HOME/.local/share/kite"};
}

FlagSpec NodeNameFlag(const HostFacts& facts) {
  return {.name = "node-name",
          .kind = FlagKind::kDnsName,
          .value_name = "NAME",
          .help = "name of this machine's node",
          .default_value = DefaultNodeName(facts),
          .default_help = "the host name"};
}

FlagSpec KubeletPortFlag() {
  return {.name = "kubelet-port",
          .kind = FlagKind::kPort,
          .value_name = "PORT",
          .help = "port the node agent serves logs, exec, attach and port-forward on (HTTPS)",
          .default_value = "10250"};
}

FlagSpec NodePodCidrFlag() {
  return {.name = "node-pod-cidr",
          .kind = FlagKind::kCidr,
          .value_name = "CIDR",
          .help = "pod addresses of this node (its bridge kite<third octet> gets the first one)",
          .default_help = "one the server assigns from its --cluster-cidr"};
}

FlagSpec JoinServerFlag(std::string_view example) {
  return {.name = "server",
          .kind = FlagKind::kHttpUrl,
          .value_name = "URL",
          .help = "the kite server to join, e.g. " + std::string(example),
          .required = true};
}

FlagSpec JoinTokenFlag() {
  return {.name = "token",
          .kind = FlagKind::kToken,
          .value_name = "TOKEN",
          .help = "the join token (from the server's <data-dir>/server/token)",
          .required = true};
}

}  // namespace kite::cli
