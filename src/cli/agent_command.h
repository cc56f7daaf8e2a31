// `kite agent` and `kite sim`: processes that join nodes to a cluster.
#pragma once

#include <string>
#include <vector>

namespace kite::cli {

// Run `kite agent` / `kite sim` with `args` (the words after the command name) until
// SIGTERM or SIGINT and return the process exit status. `kite agent` runs one node on the
// fake runtime (the containerd runtime comes with its own issue); `kite sim` runs N
// simulated nodes in one process.
int RunAgent(const std::vector<std::string>& args);
int RunSim(const std::vector<std::string>& args);

}  // namespace kite::cli
