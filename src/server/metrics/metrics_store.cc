#include "src/server/metrics/metrics_store.h"

#include <rapidjson/document.h>

namespace kite::metrics {
namespace {

// Who follows `old` when `point` arrives: metrics-server's rule. A newer point pushes the
// old last back to prev; an older or equal one keeps the old prev if that is still older.
template <class Points>
Points Advance(const Points* old, const ResourcePoint& point, bool same_run) {
  Points next;
  next.last = point;
  if (!old || !same_run) return next;
  if (point.timestamp_ms > old->last.timestamp_ms) {
    next.prev = old->last;
  } else if (old->prev && old->prev->timestamp_ms < point.timestamp_ms) {
    next.prev = old->prev;
  }
  return next;
}

rapidjson::Document LabelsJson(const Labels& labels) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  for (const auto& [k, v] : labels) {
    doc.AddMember(rapidjson::Value(k.c_str(), static_cast<rapidjson::SizeType>(k.size()), a),
                  rapidjson::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), a), a);
  }
  return doc;
}

}  // namespace

Usage PodUsage::Total() const {
  Usage total;
  for (const ContainerUsage& c : containers) {
    total.cpu_nanocores += c.usage.cpu_nanocores;
    total.memory_bytes += c.usage.memory_bytes;
  }
  return total;
}

std::optional<MeasuredUsage> UsageBetween(const ResourcePoint& prev, const ResourcePoint& last) {
  if (last.timestamp_ms <= prev.timestamp_ms || last.cpu_core_nanos < prev.cpu_core_nanos) {
    return std::nullopt;
  }
  MeasuredUsage out;
  out.timestamp_ms = last.timestamp_ms;
  out.window_ms = last.timestamp_ms - prev.timestamp_ms;
  // core-ns per ms × 1000 = core-ns per s = nanocores; 128 bits so no counter can overflow.
  unsigned __int128 delta = last.cpu_core_nanos - prev.cpu_core_nanos;
  unsigned __int128 nanocores = delta * 1000 / static_cast<unsigned __int128>(out.window_ms);
  out.usage.cpu_nanocores = nanocores > INT64_MAX ? INT64_MAX : static_cast<int64_t>(nanocores);
  out.usage.memory_bytes = last.memory_bytes > INT64_MAX ? INT64_MAX : static_cast<int64_t>(last.memory_bytes);
  return out;
}

std::optional<PodUsage> MetricsStore::PodUsageOf(const PodKey& key, const PodState& pod) {
  if (pod.containers.empty()) return std::nullopt;
  PodUsage out;
  out.namespace_ = key.first;
  out.name = key.second;
  out.labels = pod.labels;
  bool first = true;
  for (const auto& [name, container] : pod.containers) {
    if (!container.points.prev) return std::nullopt;
    std::optional<MeasuredUsage> usage = UsageBetween(*container.points.prev, container.points.last);
    if (!usage) return std::nullopt;
    out.containers.push_back({name, usage->usage});
    if (first || usage->timestamp_ms < out.timestamp_ms) {
      out.timestamp_ms = usage->timestamp_ms;
      out.window_ms = usage->window_ms;
    }
    first = false;
  }
  return out;
}

std::optional<NodeUsage> MetricsStore::NodeMetrics(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end() || !it->second.points.prev) return std::nullopt;
  std::optional<MeasuredUsage> usage = UsageBetween(*it->second.points.prev, it->second.points.last);
  if (!usage) return std::nullopt;
  return NodeUsage{it->first, it->second.labels, usage->timestamp_ms, usage->window_ms, usage->usage};
}

std::vector<NodeUsage> MetricsStore::ListNodeMetrics() const {
  std::vector<std::string> names;
  {
    MutexLock lock(mu_);
    for (const auto& [name, state] : nodes_) names.push_back(name);
  }
  std::vector<NodeUsage> out;
  for (const std::string& name : names) {
    if (std::optional<NodeUsage> usage = NodeMetrics(name)) out.push_back(std::move(*usage));
  }
  return out;
}

std::optional<PodUsage> MetricsStore::PodMetrics(std::string_view namespace_, std::string_view name) const {
  MutexLock lock(mu_);
  auto it = pods_.find({std::string(namespace_), std::string(name)});
  if (it == pods_.end()) return std::nullopt;
  return PodUsageOf(it->first, it->second);
}

std::vector<PodUsage> MetricsStore::ListPodMetrics(std::string_view namespace_,
                                                   const selection::LabelSelector& selector) const {
  std::vector<PodUsage> out;
  MutexLock lock(mu_);
  auto it = namespace_.empty() ? pods_.begin() : pods_.lower_bound({std::string(namespace_), ""});
  for (; it != pods_.end(); ++it) {
    if (!namespace_.empty() && it->first.first != namespace_) break;
    if (!selector.Empty()) {
      rapidjson::Document labels = LabelsJson(it->second.labels);
      if (!selector.Matches(&labels)) continue;
    }
    if (std::optional<PodUsage> usage = PodUsageOf(it->first, it->second)) out.push_back(std::move(*usage));
  }
  return out;
}

void MetricsStore::Store(std::vector<NodeScrape> batch) {
  std::map<std::string, NodeState, std::less<>> nodes;
  std::map<PodKey, PodState> pods;
  MutexLock lock(mu_);
  for (NodeScrape& scrape : batch) {
    if (nodes.count(scrape.node)) continue;  // a node scraped twice: keep the first
    NodeState& node = nodes[scrape.node];
    node.labels = std::move(scrape.node_labels);
    auto old_node = nodes_.find(scrape.node);
    if (scrape.sample.has_node_point) {
      node.points = Advance(old_node == nodes_.end() ? nullptr : &old_node->second.points,
                            scrape.sample.node, true);
    } else {
      nodes.erase(scrape.node);
    }
    for (ContainerSample& c : scrape.sample.containers) {
      auto labels = scrape.pod_labels.find(c.namespace_ + "/" + c.pod);
      if (labels == scrape.pod_labels.end()) continue;
      PodKey key{c.namespace_, c.pod};
      PodState& pod = pods[key];
      pod.labels = labels->second;
      if (pod.containers.count(c.container)) continue;  // duplicate: keep the first
      const ContainerState* old = nullptr;
      if (auto p = pods_.find(key); p != pods_.end()) {
        if (auto o = p->second.containers.find(c.container); o != p->second.containers.end()) old = &o->second;
      }
      // Same run of the container: it started before the last point we have (an unknown
      // start time counts as the same run; a CPU counter going down still drops prev).
      bool same_run = old && (c.start_time_ms == 0 || c.start_time_ms < old->points.last.timestamp_ms);
      ContainerState& state = pod.containers[c.container];
      state.start_time_ms = c.start_time_ms;
      state.points = Advance(old ? &old->points : nullptr, c.point, same_run);
      if (state.points.prev && state.points.last.cpu_core_nanos < state.points.prev->cpu_core_nanos) {
        state.points.prev.reset();
      }
    }
  }
  nodes_ = std::move(nodes);
  pods_ = std::move(pods);
}

}  // namespace kite::metrics
