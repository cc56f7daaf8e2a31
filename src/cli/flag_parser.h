// Parses a command's arguments against its flag table, and merges them with a config file
// and the defaults into the values the command runs with.
//
// Command-line rules (those of k3s and Go programs):
// - `--name value` and `--name=value` are the same. A value given as a separate word must
//   not start with '-' (that word is taken as the next flag, and the flag as missing its
//   value); write `--token=-x` for such a value.
// - Boolean flags take no separate value: `--disable-agent`, or `--disable-agent=false`.
// - A flag given twice keeps the last value.
// - `-h` and `--help` anywhere (before `--`) ask for help; see WantsHelp.
// - Commands take no positional arguments.
// Precedence: command line over config file over the table's defaults.
//
// Every error is kInvalidArgument with a message for the user that names the offending
// word and the command; the caller prints it and exits with ExitCode::kUsage.
// Pure functions, no I/O.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/cli/config_file.h"
#include "src/cli/flag_spec.h"

namespace kite::cli {

// True when `args` (the words after the command name) ask for help.
bool WantsHelp(const std::vector<std::string>& args);

// The flags a command line set, each already checked against its FlagSpec.
struct CommandLine {
  std::map<std::string, std::string> values;  // flag name (no dashes) -> value
};

// `args` are the words after the command name ("kite server" is not among them).
Result<CommandLine> ParseCommandLine(const CommandSpec& spec,
                                     const std::vector<std::string>& args);

enum class FlagSource { kDefault, kConfigFile, kCommandLine };

// The resolved value of every flag that has one, each validated against its FlagSpec.
// String() of a flag without a value is empty. Reading a value as a kind it was not
// validated as (Port() of a kString flag, Int() of a flag without a value) is a bug in a
// flag table and aborts.
class FlagValues {
 public:
  // Whether the flag has a value from any source, defaults included.
  bool Has(std::string_view name) const;
  // Whether the user set it, on the command line or in the config file.
  bool IsSet(std::string_view name) const;
  FlagSource Source(std::string_view name) const;

  // "" when the flag has no value.
  const std::string& String(std::string_view name) const;
  // A kBool flag without a value reads as false.
  bool Bool(std::string_view name) const;
  int64_t Int(std::string_view name) const;
  int Port(std::string_view name) const;
  uint32_t FileMode(std::string_view name) const;
  std::chrono::nanoseconds Duration(std::string_view name) const;

  void Set(const std::string& name, std::string value, FlagSource source);

 private:
  struct Entry {
    std::string value;
    FlagSource source;
  };
  const Entry* Get(std::string_view name) const;

  std::map<std::string, Entry, std::less<>> values_;
};

// Merges `command_line`, then `config` (may be nullptr), then the defaults. Checks the
// config file's keys and values against `spec`, that required flags have a value, and that
// non-empty defaults are valid (a default computed from the host, such as the host name as
// node name, may not be).
Result<FlagValues> ResolveFlags(const CommandSpec& spec, const CommandLine& command_line,
                                const ConfigFile* config);

// ParseCommandLine then ResolveFlags, for commands that read no config file.
Result<FlagValues> ParseFlags(const CommandSpec& spec, const std::vector<std::string>& args);

}  // namespace kite::cli
