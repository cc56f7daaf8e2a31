#include "src/cli/flag_spec.h"

#include <optional>

#include "src/cli/value_parsers.h"

namespace kite::cli {

const FlagSpec* CommandSpec::Find(std::string_view flag_name) const {
  for (const FlagSpec& flag : flags) {
    if (flag.name == flag_name) return &flag;
  }
  return nullptr;
}

std::string ValueProblem(const FlagSpec& spec, std::string_view value) {
  if (value.empty()) return "the value is empty";
  switch (spec.kind) {
    case FlagKind::kString:
      return "";
    case FlagKind::kToken:
      return IsTokenText(value) ? "" : "must be printable ASCII without spaces";
    case FlagKind::kBool:
      return ParseBool(value) ? "" : "not a boolean (true or false)";
    case FlagKind::kInt: {
      std::optional<int64_t> n = ParseInteger(value);
      if (n && *n >= spec.min_value && *n <= spec.max_value) return "";
      return "not an integer in " + std::to_string(spec.min_value) + ".." +
             std::to_string(spec.max_value);
    }
    case FlagKind::kPort:
      return ParsePort(value) ? "" : "not a port number (1-65535)";
    case FlagKind::kFileMode:
      return ParseFileMode(value) ? "" : "not an octal file mode such as 0600 or 644";
    case FlagKind::kIpAddress:
      return IsIpAddress(value) ? "" : "not an IPv4 or IPv6 address";
    case FlagKind::kCidr:
      return IsCidrList(value) ? "" : "not a CIDR such as 10.42.0.0/16";
    case FlagKind::kHttpUrl:
      return IsHttpUrl(value) ? "" : "not a URL such as https://10.0.0.1:6443";
    case FlagKind::kEndpoint:
      return IsEndpoint(value) ? "" : "not an endpoint such as sqlite:///path/state.db";
    case FlagKind::kDnsName:
      return IsDnsSubdomain(value)
                 ? ""
                 : "not a valid node name (lower-case letters, digits, '-' and '.')";
    case FlagKind::kDuration: {
      std::optional<std::chrono::nanoseconds> d = ParseDuration(value);
      if (!d) return "not a duration such as 1h0m0s, 30m or 90s";
      return d->count() < 0 ? "a duration must not be negative" : "";
    }
    case FlagKind::kChoice: {
      std::string allowed;
      for (const std::string& choice : spec.choices) {
        if (choice == value) return "";
        allowed += allowed.empty() ? choice : " or " + choice;
      }
      return "must be " + allowed;
    }
  }
  return "unknown flag kind";  // unreachable: the switch covers every kind
}

}  // namespace kite::cli
