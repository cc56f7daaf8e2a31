#include "src/cli/sim_config.h"

#include "src/cli/agent_config.h"
#include "src/cli/common_flags.h"
#include "src/cli/flag_parser.h"

namespace kite::cli {

CommandSpec SimCommandSpec() {
  CommandSpec spec;
  spec.name = "sim";
  spec.usage = "kite sim --server URL --token TOKEN --server-ca FILE --nodes N";
  spec.summary = "Join simulated nodes to a cluster, for scale tests";
  spec.description =
      "Registers N simulated nodes with the cluster that --server serves. They heartbeat "
      "and run pods with the fake runtime, so a scheduler and controllers can be tried at "
      "scale on one machine.";
  spec.flags = {
      JoinServerFlag("https://127.0.0.1:6443"),
      JoinTokenFlag(),
      ServerCaFlag(),
      {.name = "nodes",
       .kind = FlagKind::kInt,
       .value_name = "N",
       .help = "how many nodes to simulate",
       .required = true,
       .min_value = 1,
       .max_value = kMaxSimNodes},
  };
  return spec;
}

Result<SimConfig> ParseSimConfig(const std::vector<std::string>& args) {
  CommandSpec spec = SimCommandSpec();
  Result<FlagValues> values = ParseFlags(spec, args);
  if (!values.ok()) return values.status();
  SimConfig sim;
  sim.server_url = values->String("server");
  sim.token = values->String("token");
  sim.server_ca = values->String("server-ca");
  sim.nodes = values->Int("nodes");
  return sim;
}

}  // namespace kite::cli
