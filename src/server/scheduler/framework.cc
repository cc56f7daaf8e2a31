#include "src/server/scheduler/framework.h"

#include <algorithm>

namespace kite::scheduler {

std::string PluginStatus::Message() const {
  std::string out;
  for (const std::string& r : reasons) {
    if (!out.empty()) out += ", ";
    out += r;
  }
  return out;
}

const NodeInfo* Snapshot::Find(std::string_view name) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const NodeInfo* n, std::string_view v) { return n->name() < v; });
  return it != nodes.end() && (*it)->name() == name ? *it : nullptr;
}

void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<int64_t>& scores) {
  int64_t max_count = 0;
  for (int64_t s : scores) max_count = std::max(max_count, s);
  if (max_count == 0) {
    if (reverse) std::fill(scores.begin(), scores.end(), max_priority);
    return;
  }
  for (int64_t& s : scores) {
    s = max_priority * s / max_count;
    if (reverse) s = max_priority - s;
  }
}

}  // namespace kite::scheduler
