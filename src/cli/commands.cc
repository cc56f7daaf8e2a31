#include "src/cli/commands.h"

#include "src/cli/agent_command.h"
#include "src/cli/agent_config.h"
#include "src/cli/kubectl_command.h"
#include "src/cli/server_command.h"
#include "src/cli/server_config.h"
#include "src/cli/sim_config.h"

namespace kite::cli {

const std::vector<Command>& Commands() {
  // Summaries come from the flag tables so the two never disagree; they do not depend
  // on the host, so empty HostFacts will do. Never destroyed, so a command still running
  // during exit cannot see it gone.
  static const std::vector<Command>* const commands = new std::vector<Command>{
      {"server", ServerCommandSpec(HostFacts{}).summary, RunServer},
      {"agent", AgentCommandSpec(HostFacts{}).summary, RunAgent},
      {"sim", SimCommandSpec().summary, RunSim},
      {"kubectl", "Run kubectl against this machine's server (arguments passed through)",
       RunKubectl},
  };
  return *commands;
}

const Command* FindCommand(std::string_view name) {
  for (const Command& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::string VersionLine(std::string_view version) {
  return "kite version v" + std::string(version);
}

std::string TopLevelHelp(std::string_view version) {
  std::string out = "Kite v" + std::string(version) +
                    ": a Kubernetes distribution in one executable\n\n"
                    "Usage: kite <command> [flags]\n\nCommands:\n";
  for (const Command& command : Commands()) {
    out += "  " + command.name + std::string(10 - command.name.size(), ' ') +
           command.summary + "\n";
  }
  out +=
      "\nFlags:\n"
      "  -h, --help    show this help\n"
      "  --version     print the version\n"
      "\nRun 'kite <command> --help' for a command's flags.\n";
  return out;
}

std::string UnknownCommandMessage(std::string_view word) {
  bool is_flag = word.size() > 1 && word[0] == '-';
  return std::string("kite: unknown ") + (is_flag ? "flag" : "command") + " \"" +
         std::string(word) + "\"; see 'kite --help'";
}

}  // namespace kite::cli
