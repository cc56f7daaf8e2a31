#include "src/cli/agent_command.h"

#include <iostream>

#include "src/cli/agent_config.h"
#include "src/cli/exit_code.h"
#include "src/cli/flag_parser.h"
#include "src/cli/help.h"
#include "src/cli/host_facts.h"
#include "src/cli/sim_config.h"

namespace kite::cli {

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
  std::cerr << "kite agent: not built yet (node agent comes with its own issue)\n";
  return ExitCode::kFailure;
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
  std::cerr << "kite sim: not built yet (simulated nodes come with the node agent's issue)\n";
  return ExitCode::kFailure;
}

}  // namespace kite::cli
