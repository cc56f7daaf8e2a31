#include "src/server/controllers/pod_metrics_lister.h"

#include "src/base/go_duration.h"
#include "src/server/admission/quantity.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

// A usage quantity (string, or a plain JSON number) rounded up to thousandths.
std::optional<int64_t> MilliValue(const Value* v) {
  if (v == nullptr) return std::nullopt;
  std::string text;
  if (v->IsString()) {
    text.assign(v->GetString(), v->GetStringLength());
  } else if (v->IsInt64()) {
    text = std::to_string(v->GetInt64());
  } else {
    return std::nullopt;
  }
  Result<admission::Quantity> q = admission::Quantity::Parse(text);
  if (!q.ok()) return std::nullopt;
  return q->MilliValue();
}

}  // namespace

std::vector<PodUsage> PodUsageFromList(const Value& list) {
  std::vector<PodUsage> out;
  const Value* items = json::Member(list, "items");
  if (items == nullptr || !items->IsArray()) return out;
  for (const Value& item : items->GetArray()) {
    if (!item.IsObject()) continue;
    const Value* md = json::Member(item, "metadata");
    std::string_view name = md ? json::StringMember(*md, "name") : "";
    if (name.empty()) continue;
    PodUsage usage;
    usage.pod = std::string(name);
    usage.timestamp_ms = ParseTimeMillis(json::StringMember(item, "timestamp")).value_or(0);
    if (Result<int64_t> window_ns = ParseGoDuration(json::StringMember(item, "window")); window_ns.ok()) {
      usage.window_ms = *window_ns / 1'000'000;
    }
    // Kubernetes' getPodMetrics: a pod without containers, or with one container lacking
    // the resource, has no metric for it.
    const Value* containers = json::Member(item, "containers");
    bool has_containers = containers != nullptr && containers->IsArray() && !containers->Empty();
    std::optional<int64_t> cpu_milli = has_containers ? std::optional<int64_t>(0) : std::nullopt;
    std::optional<int64_t> memory_milli = cpu_milli;
    if (has_containers) {
      for (const Value& c : containers->GetArray()) {
        const Value* use = c.IsObject() ? json::Member(c, "usage") : nullptr;
        std::optional<int64_t> cpu = use ? MilliValue(json::Member(*use, "cpu")) : std::nullopt;
        std::optional<int64_t> memory = use ? MilliValue(json::Member(*use, "memory")) : std::nullopt;
        cpu_milli = cpu && cpu_milli ? std::optional<int64_t>(*cpu_milli + *cpu) : std::nullopt;
        memory_milli = memory && memory_milli ? std::optional<int64_t>(*memory_milli + *memory) : std::nullopt;
      }
    }
    usage.cpu_millicores = cpu_milli;
    // Bytes are whole; a fractional byte count (never written in practice) rounds up.
    if (memory_milli) usage.memory_bytes = (*memory_milli + 999) / 1000;
    out.push_back(std::move(usage));
  }
  return out;
}

Result<std::vector<PodUsage>> MetricsApiPodMetricsLister::List(std::string_view ns, std::string_view label_selector) {
  client::ListOptions options;
  options.label_selector = std::string(label_selector);
  Result<rapidjson::Document> list = client_.List(ns, options);
  if (!list.ok()) return list.status();
  return PodUsageFromList(*list);
}

}  // namespace kite::controllers
