// The table of kite's subcommands, and the top-level texts (--help, --version, errors)
// that src/main.cc prints while dispatching to them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kite::cli {

struct Command {
  std::string name;     // "server"
  std::string summary;  // one line for `kite --help`
  // Runs the command with the words after its name; returns the process exit status.
  int (*run)(const std::vector<std::string>& args);
};

// server, agent, sim, kubectl; in the order `kite --help` lists them.
const std::vector<Command>& Commands();

// nullptr when there is no command of that name.
const Command* FindCommand(std::string_view name);

// "kite version v0.1.0"
std::string VersionLine(std::string_view version);

// `kite --help`: usage and one line per command.
std::string TopLevelHelp(std::string_view version);

// For a first word that is no command: names it, and points at `kite --help`.
// `kite: unknown command "bogus"; see 'kite --help'` (or "unknown flag" for "-x").
std::string UnknownCommandMessage(std::string_view word);

}  // namespace kite::cli
