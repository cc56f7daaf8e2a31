// What a containerd run leaves on the host once containerd itself is gone: shims (which
// outlive it by design, each the subreaper of its pod's containers), the mounts of
// sandboxes and rootfs under its folder, and its CNI bridge. The test containerd and
// podstart_bench, which start throwaway nodes, remove them with these.
//
// Thread-safety: free functions; they act on the host, so callers must own what they name.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kite::containerd {

// Processes (not this one) whose command line mentions `needle`: our shims carry the
// containerd folder and socket in their arguments.
std::vector<pid_t> ProcessesMentioning(const std::string& needle);

// Mount points at or under `dir`, deepest first (the order to unmount them in).
std::vector<std::string> MountsUnder(const std::string& dir);

// SIGKILLs the shims mentioning `dir`/ and their children (the containers), unmounts what
// is under `dir`, removes `dir` and deletes the network link `bridge` ("" = none).
void RemoveNodeLeftovers(const std::string& dir, const std::string& bridge);

}  // namespace kite::containerd
