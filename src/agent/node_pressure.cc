#include "src/agent/node_pressure.h"

#include <sys/statvfs.h>

#include <fstream>
#include <sstream>

namespace kite::agent {

namespace {

// "MemAvailable:   123456 kB" → bytes.
std::optional<int64_t> MemAvailable(const std::string& meminfo_path) {
  std::ifstream in(meminfo_path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("MemAvailable:")) continue;
    std::istringstream fields(line.substr(13));
    int64_t kib = 0;
    std::string unit;
    if (!(fields >> kib) || kib < 0) return std::nullopt;
    fields >> unit;
    return unit == "kB" || unit.empty() ? kib * 1024 : kib;
  }
  return std::nullopt;
}

}  // namespace

NodeSignals ReadNodeSignals(const std::string& data_dir, const std::string& meminfo_path) {
  NodeSignals signals;
  signals.memory_available_bytes = MemAvailable(meminfo_path);
  struct statvfs fs{};
  if (!data_dir.empty() && statvfs(data_dir.c_str(), &fs) == 0) {
    if (fs.f_blocks > 0) {
      signals.nodefs_available_fraction = static_cast<double>(fs.f_bavail) / static_cast<double>(fs.f_blocks);
    }
    // Filesystems without inode limits (btrfs, tmpfs on some kernels) report zero files.
    if (fs.f_files > 0) {
      signals.nodefs_inodes_free_fraction = static_cast<double>(fs.f_favail) / static_cast<double>(fs.f_files);
    }
  }
  return signals;
}

NodePressure EvaluatePressure(const NodeSignals& signals, const PressureThresholds& thresholds) {
  NodePressure pressure;
  pressure.memory = signals.memory_available_bytes && *signals.memory_available_bytes < thresholds.memory_available_bytes;
  pressure.disk =
      (signals.nodefs_available_fraction && *signals.nodefs_available_fraction < thresholds.nodefs_available_fraction) ||
      (signals.nodefs_inodes_free_fraction &&
       *signals.nodefs_inodes_free_fraction < thresholds.nodefs_inodes_free_fraction);
  return pressure;
}

}  // namespace kite::agent
