// The declarative description of a command's flags, from which kite parses command lines
// and config files and prints help.
//
// A command is a name plus a table of FlagSpecs. Nothing here does I/O; a table may hold
// defaults computed from the host (see host_facts.h), which is why tables are built by
// functions rather than being constants.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kite::cli {

// What a flag's value must look like. See value_parsers.h for each rule.
enum class FlagKind {
  kString,     // any non-empty text
  kToken,      // a secret: non-empty, printable ASCII, no spaces
  kBool,       // takes no value on the command line; --x=true|false, or x: true in a file
  kInt,        // a decimal integer in [min_value, max_value]
  kPort,       // 1..65535
  kFileMode,   // octal permission bits, "0600"
  kIpAddress,  // an IPv4 or IPv6 literal
  kCidr,       // ADDRESS/PREFIX, or a dual-stack pair separated by a comma
  kHttpUrl,    // http(s)://host[:port][/path]
  kEndpoint,   // scheme://..., e.g. sqlite:///var/lib/kite/server/db/state.db
  kDnsName,    // a Kubernetes node name (DNS subdomain)
  kChoice,     // one of `choices`
  kDuration,   // a Go duration, not negative: "1h0m0s", "30m", "90s", "0"
};

struct FlagSpec {
  std::string name;  // without the leading "--"
  FlagKind kind = FlagKind::kString;
  // Shown in help after the flag: "--data-dir DIR". Empty for booleans.
  std::string value_name;
  std::string help;
  // The value used when neither the command line nor the config file sets the flag.
  // Empty means "no value" (an optional flag, or one whose default the command derives
  // from other flags, such as --write-kubeconfig from --data-dir).
  std::string default_value;
  // How help shows the default when it is not simply default_value, e.g.
  // "<data-dir>/kite.yaml". Empty = show default_value (if any).
  std::string default_help;
  bool required = false;
  // Whether a config file may set this flag (false for --config itself).
  bool settable_in_config = true;
  int64_t min_value = 0;   // kInt only
  int64_t max_value = 0;   // kInt only
  std::vector<std::string> choices;  // kChoice only
};

struct CommandSpec {
  std::string name;     // "server"; the full command is "kite " + name
  std::string usage;    // "kite server [flags]"
  std::string summary;  // one line, for `kite --help`
  std::string description;  // a paragraph, for `kite <name> --help`
  std::vector<FlagSpec> flags;

  // nullptr if the command has no flag of that name.
  const FlagSpec* Find(std::string_view flag_name) const;
  // "kite server"
  std::string FullName() const { return "kite " + name; }
};

// Why `value` is not acceptable for `spec` ("not a port number (1-65535)"), or an empty
// string if it is.
std::string ValueProblem(const FlagSpec& spec, std::string_view value);

}  // namespace kite::cli
