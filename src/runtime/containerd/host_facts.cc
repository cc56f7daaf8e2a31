#include "src/runtime/containerd/host_facts.h"

#include <sys/vfs.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace kite::containerd {
namespace {

constexpr long kCgroup2SuperMagic = 0x63677270;  // linux/magic.h

}  // namespace

std::string HostFacts::Describe() const {
  std::string out = cgroup_v2 ? "cgroup v2" : "cgroup v1";
  out += cap_sys_resource ? ", CAP_SYS_RESOURCE present (restrict_oom_score_adj off)"
                          : ", no CAP_SYS_RESOURCE (restrict_oom_score_adj on)";
  return out;
}

bool IsCgroup2(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0) return false;
  return static_cast<long>(fs.f_type) == kCgroup2SuperMagic;
}

std::optional<uint64_t> ParseCapEff(std::string_view proc_status) {
  constexpr std::string_view kKey = "CapEff:";
  size_t pos = 0;
  while (pos < proc_status.size()) {
    size_t end = proc_status.find('\n', pos);
    if (end == std::string_view::npos) end = proc_status.size();
    std::string_view line = proc_status.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(kKey)) continue;
    line.remove_prefix(kKey.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty() || line.size() > 16) return std::nullopt;
    uint64_t mask = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), mask, 16);
    if (ec != std::errc() || ptr != line.data() + line.size()) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

HostFacts DetectHostFacts() {
  HostFacts facts;
  facts.cgroup_v2 = IsCgroup2("/sys/fs/cgroup");
  std::ifstream in("/proc/self/status");
  std::stringstream text;
  text << in.rdbuf();
  std::optional<uint64_t> caps = ParseCapEff(text.str());
  facts.cap_sys_resource = caps && ((*caps >> kCapSysResource) & 1) != 0;
  return facts;
}

}  // namespace kite::containerd
