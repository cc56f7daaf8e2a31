// kite: one executable, several commands. This file only picks the command; each lives in
// src/cli (and, behind it, the component it starts).
#include <iostream>
#include <string>
#include <vector>

#include "src/cli/commands.h"
#include "src/cli/exit_code.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kite::cli::TopLevelHelp(KITE_VERSION);
    return kite::cli::ExitCode::kOk;
  }
  if (args[0] == "--version") {
    std::cout << kite::cli::VersionLine(KITE_VERSION) << "\n";
    return kite::cli::ExitCode::kOk;
  }
  const kite::cli::Command* command = kite::cli::FindCommand(args[0]);
  if (command == nullptr) {
    std::cerr << kite::cli::UnknownCommandMessage(args[0]) << "\n";
    return kite::cli::ExitCode::kUsage;
  }
  return command->run(std::vector<std::string>(args.begin() + 1, args.end()));
}
