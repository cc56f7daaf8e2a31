// `kite agent`: its flags and the settings they resolve to.
#pragma once

#include <string>
#include <vector>

#include "src/base/status.h"
#include "src/cli/flag_spec.h"
#include "src/cli/host_facts.h"

namespace kite::cli {

// Which container runtime the agent drives.
enum class RuntimeKind {
  kContainerd,  // CRI over the socket of a containerd the agent starts
  kFake,        // in memory; pods "run" without containers (tests, simulations)
};

// Everything `kite agent` needs to join a cluster, fully resolved.
struct AgentConfig {
  std::string server_url;  // https://host:port of a kite server
  std::string token;
  std::string server_ca;  // absolute path of the cluster CA certificate (PEM)
  std::string data_dir;  // absolute
  std::string node_name;
  RuntimeKind runtime = RuntimeKind::kContainerd;
  int kubelet_port = 10250;
  std::string node_pod_cidr;  // "" = the one the server assigns
  std::string node_ip;        // --node-ip; "" = the first non-loopback IPv4 address
};

CommandSpec AgentCommandSpec(const HostFacts& facts);

// --server-ca FILE: the cluster CA that verifies the server (required by `kite agent` and
// `kite sim`).
FlagSpec ServerCaFlag();

// Resolves `kite agent`'s settings from `args` (the words after "agent") and the defaults
// for `facts`. --server, --token and --server-ca are required. The agent reads no config file. Errors
// are kInvalidArgument and mean ExitCode::kUsage. Check WantsHelp(args) first.
Result<AgentConfig> ParseAgentConfig(const std::vector<std::string>& args,
                                     const HostFacts& facts);

}  // namespace kite::cli
