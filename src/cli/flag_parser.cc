#include "src/cli/flag_parser.h"

#include <cstdlib>
#include <optional>

#include "src/cli/value_parsers.h"

namespace kite::cli {
namespace {

std::string SeeHelp(const CommandSpec& spec) {
  return "; see '" + spec.FullName() + " --help'";
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool LooksLikeFlag(std::string_view word) { return word.size() > 1 && word[0] == '-'; }

}  // namespace

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help") return true;
  }
  return false;
}

Result<CommandLine> ParseCommandLine(const CommandSpec& spec,
                                     const std::vector<std::string>& args) {
  CommandLine result;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return InvalidArgumentError("unexpected argument " + Quote(args[i + 1]) + " for " +
                                    Quote(spec.FullName()) + SeeHelp(spec));
      }
      break;
    }
    if (!arg.starts_with("--")) {
      if (LooksLikeFlag(arg)) {
        return InvalidArgumentError("unknown flag " + Quote(arg) + " for " +
                                    Quote(spec.FullName()) + SeeHelp(spec));
      }
      return InvalidArgumentError("unexpected argument " + Quote(arg) + " for " +
                                  Quote(spec.FullName()) + SeeHelp(spec));
    }
    size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const FlagSpec* flag = spec.Find(name);
    if (flag == nullptr) {
      std::string word = eq == std::string::npos ? arg : arg.substr(0, eq);
      return InvalidArgumentError("unknown flag " + Quote(word) + " for " +
                                  Quote(spec.FullName()) + SeeHelp(spec));
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (flag->kind == FlagKind::kBool) {
      value = "true";
    } else if (i + 1 < args.size() && !LooksLikeFlag(args[i + 1])) {
      value = args[++i];
    } else {
      return InvalidArgumentError("flag --" + name + " needs a value (" + flag->value_name +
                                  ")" + SeeHelp(spec));
    }
    if (std::string problem = ValueProblem(*flag, value); !problem.empty()) {
      return InvalidArgumentError("invalid value " + Quote(value) + " for flag --" + name +
                                  ": " + problem);
    }
    result.values[name] = std::move(value);
  }
  return result;
}

bool FlagValues::Has(std::string_view name) const { return Get(name) != nullptr; }

bool FlagValues::IsSet(std::string_view name) const {
  const Entry* entry = Get(name);
  return entry != nullptr && entry->source != FlagSource::kDefault;
}

FlagSource FlagValues::Source(std::string_view name) const {
  const Entry* entry = Get(name);
  return entry == nullptr ? FlagSource::kDefault : entry->source;
}

const std::string& FlagValues::String(std::string_view name) const {
  static const std::string kEmpty;
  const Entry* entry = Get(name);
  return entry == nullptr ? kEmpty : entry->value;
}

bool FlagValues::Bool(std::string_view name) const {
  const Entry* entry = Get(name);
  if (entry == nullptr) return false;
  std::optional<bool> b = ParseBool(entry->value);
  if (!b) std::abort();  // validated in ResolveFlags; a mismatch is a bug in a flag table
  return *b;
}

int64_t FlagValues::Int(std::string_view name) const {
  std::optional<int64_t> n = ParseInteger(String(name));
  if (!n) std::abort();
  return *n;
}

int FlagValues::Port(std::string_view name) const {
  std::optional<int> port = ParsePort(String(name));
  if (!port) std::abort();
  return *port;
}

uint32_t FlagValues::FileMode(std::string_view name) const {
  std::optional<uint32_t> mode = ParseFileMode(String(name));
  if (!mode) std::abort();
  return *mode;
}

std::chrono::nanoseconds FlagValues::Duration(std::string_view name) const {
  std::optional<std::chrono::nanoseconds> d = ParseDuration(String(name));
  if (!d) std::abort();
  return *d;
}

void FlagValues::Set(const std::string& name, std::string value, FlagSource source) {
  values_[name] = Entry{std::move(value), source};
}

const FlagValues::Entry* FlagValues::Get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

Result<FlagValues> ResolveFlags(const CommandSpec& spec, const CommandLine& command_line,
                                const ConfigFile* config) {
  FlagValues values;
  if (config != nullptr) {
    for (const ConfigEntry& entry : config->entries) {
      std::string where = config->path + ":" + std::to_string(entry.line) + ": ";
      const FlagSpec* flag = spec.Find(entry.key);
      if (flag == nullptr) {
        return InvalidArgumentError(where + "unknown key " + Quote(entry.key) +
                                    " in config file (keys are the flags of " +
                                    Quote(spec.FullName()) + " without the dashes)");
      }
      if (!flag->settable_in_config) {
        return InvalidArgumentError(where + "key " + Quote(entry.key) +
                                    " cannot be set in a config file");
      }
      if (std::string problem = ValueProblem(*flag, entry.value); !problem.empty()) {
        return InvalidArgumentError(where + "invalid value " + Quote(entry.value) + " for " +
                                    entry.key + ": " + problem);
      }
      values.Set(entry.key, entry.value, FlagSource::kConfigFile);
    }
  }
  for (const auto& [name, value] : command_line.values) {
    values.Set(name, value, FlagSource::kCommandLine);
  }
  for (const FlagSpec& flag : spec.flags) {
    if (values.Has(flag.name)) continue;
    if (flag.required) {
      return InvalidArgumentError("missing required flag --" + flag.name + " for " +
                                  Quote(spec.FullName()) + SeeHelp(spec));
    }
    if (flag.default_value.empty()) continue;
    if (std::string problem = ValueProblem(flag, flag.default_value); !problem.empty()) {
      return InvalidArgumentError("the default " + Quote(flag.default_value) + " for --" +
                                  flag.name + " is " + problem + "; set --" + flag.name);
    }
    values.Set(flag.name, flag.default_value, FlagSource::kDefault);
  }
  return values;
}

Result<FlagValues> ParseFlags(const CommandSpec& spec, const std::vector<std::string>& args) {
  Result<CommandLine> command_line = ParseCommandLine(spec, args);
  if (!command_line.ok()) return command_line.status();
  return ResolveFlags(spec, *command_line, /*config=*/nullptr);
}

}  // namespace kite::cli
