// `kite sim`: simulated nodes (fake runtime) that join a real server, for scale tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/base/status.h"
#include "src/cli/flag_spec.h"

namespace kite::cli {

struct SimConfig {
  std::string server_url;
  std::string token;
  std::string server_ca;  // path of the cluster CA certificate (PEM), as given
  int64_t nodes = 0;  // 1..kMaxSimNodes
};

// More simulated nodes than this would need more memory than a test machine has.
inline constexpr int64_t kMaxSimNodes = 100'000;

CommandSpec SimCommandSpec();

// Resolves `kite sim`'s settings from `args` (the words after "sim"). --server, --token,
// --server-ca and --nodes are required. Errors are kInvalidArgument and mean
// ExitCode::kUsage. Check WantsHelp(args) first.
Result<SimConfig> ParseSimConfig(const std::vector<std::string>& args);

}  // namespace kite::cli
