// `kite agent` and `kite sim`: processes that join nodes to a cluster.
#pragma once

#include <string>
#include <vector>

namespace kite::cli {

// Run `kite agent` / `kite sim` with `args` (the words after the command name) and return
// the process exit status. At this stage they validate their flags and report that the
// node agent is not built yet (ExitCode::kFailure).
int RunAgent(const std::vector<std::string>& args);
int RunSim(const std::vector<std::string>& args);

}  // namespace kite::cli
