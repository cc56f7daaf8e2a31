// Node pressure: whether the node is short of memory or disk, as the kubelet's eviction
// manager decides it from its default hard thresholds (memory.available<100Mi,
// nodefs.available<10%, nodefs.inodesFree<5%). The agent reports the result as the Node's
// MemoryPressure and DiskPressure conditions; the node lifecycle controller turns them into
// NoSchedule taints. Pods are not evicted under pressure (the kubelet would; Kite does not yet).
// PIDPressure stays False: the kubelet has no default pid.available threshold either.
//
// ReadNodeSignals reads the host; the rest are pure functions. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kite::agent {

// What the host has left. A signal that could not be read is absent and never causes pressure.
struct NodeSignals {
  std::optional<int64_t> memory_available_bytes;  // /proc/meminfo MemAvailable
  std::optional<double> nodefs_available_fraction;    // of the filesystem holding the data dir
  std::optional<double> nodefs_inodes_free_fraction;
};

struct PressureThresholds {
  int64_t memory_available_bytes = 100ll << 20;
  double nodefs_available_fraction = 0.10;
  double nodefs_inodes_free_fraction = 0.05;
};

struct NodePressure {
  bool memory = false;
  bool disk = false;
  bool operator==(const NodePressure&) const = default;
};

// Memory from `meminfo_path` (normally /proc/meminfo), disk from statvfs(`data_dir`).
NodeSignals ReadNodeSignals(const std::string& data_dir, const std::string& meminfo_path = "/proc/meminfo");

NodePressure EvaluatePressure(const NodeSignals& signals, const PressureThresholds& thresholds = {});

}  // namespace kite::agent
