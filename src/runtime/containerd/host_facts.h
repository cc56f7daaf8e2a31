// What the host offers containerd, detected rather than assumed: the cgroup version and
// whether this process may raise OOM score adjustments (CAP_SYS_RESOURCE). The agent
// configures containerd from these instead of failing on hosts that lack them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kite::containerd {

struct HostFacts {
  // /sys/fs/cgroup is the unified (v2) hierarchy. False on v1 and on hybrid hosts (v1
  // controllers with v2 only under /sys/fs/cgroup/unified).
  bool cgroup_v2 = false;
  // CAP_SYS_RESOURCE is in this process's effective set. Without it runc cannot lower a
  // container's oom_score_adj below the agent's, so the CRI plugin must be told
  // restrict_oom_score_adj = true (otherwise every RunPodSandbox fails).
  bool cap_sys_resource = false;

  // "cgroup v1, no CAP_SYS_RESOURCE (restrict_oom_score_adj on)" — for the log.
  std::string Describe() const;
};

// Reads /sys/fs/cgroup (statfs) and /proc/self/status. Never fails: what cannot be read
// counts as absent (cgroup v1, no capability), the conservative choice. Thread-safe.
HostFacts DetectHostFacts();

// True when the file system at `path` is cgroup2 (CGROUP2_SUPER_MAGIC).
bool IsCgroup2(const std::string& path);

// The effective capability mask from the text of /proc/<pid>/status (the hex "CapEff:"
// line), or nullopt when the line is missing or malformed.
std::optional<uint64_t> ParseCapEff(std::string_view proc_status);

inline constexpr int kCapSysResource = 24;  // linux/capability.h

}  // namespace kite::containerd
