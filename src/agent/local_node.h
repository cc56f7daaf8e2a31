// The NodeDescription of the machine this process runs on, for `kite agent`: architecture,
// kernel, OS image (/etc/os-release), machine and boot ids, CPUs, memory and root file
// system size as capacity, and the first non-loopback IPv4 address that is up (127.0.0.1
// when there is none).
//
// podCIDR: none. The server's node IPAM controller assigns one to the Node
// (spec.podCIDR) and the agent waits for it (node_agent.h); --node-pod-cidr sets one
// explicitly.
//
// Reads files and interfaces; anything unreadable gets a neutral value. Thread-safe.
#pragma once

#include <string>

#include "src/agent/node_status.h"

namespace kite::agent {

NodeDescription LocalNodeDescription(const std::string& node_name, const std::string& runtime_version);

}  // namespace kite::agent
