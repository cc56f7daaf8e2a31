// Flags that more than one command takes, defined once so their help and checks agree.
#pragma once

#include <string>
#include <string_view>

#include "src/cli/flag_spec.h"
#include "src/cli/host_facts.h"

namespace kite::cli {

// --data-dir; `whose` names the owner in the help ("server", "agent").
FlagSpec DataDirFlag(const HostFacts& facts, std::string_view whose);
// --node-name, defaulting to the host name.
FlagSpec NodeNameFlag(const HostFacts& facts);
// --server URL of the cluster to join (required); `example` shows a URL in the help.
FlagSpec JoinServerFlag(std::string_view example);
// --token to join with (required).
FlagSpec JoinTokenFlag();
// --kubelet-port: where the node agent serves logs, exec, attach and port-forward.
FlagSpec KubeletPortFlag();
// --node-pod-cidr: the pod addresses of this node (its CNI bridge's subnet).
FlagSpec NodePodCidrFlag();

}  // namespace kite::cli
