#include "src/server/controllers/pod_control.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <string>
#include <thread>

#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"
#include "src/server/schema/well_known_types.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

std::string_view Phase(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  return status ? json::StringMember(*status, "phase") : std::string_view();
}

std::string_view NodeName(const Value& pod) {
  const Value* spec = json::Member(pod, "spec");
  return spec ? json::StringMember(*spec, "nodeName") : std::string_view();
}

const Value* ReadyCondition(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return nullptr;
  for (const Value& c : conditions->GetArray()) {
    if (c.IsObject() && json::StringMember(c, "type") == "Ready") return &c;
  }
  return nullptr;
}

std::optional<int64_t> CreationMillis(const Value& pod) {
  const Value* md = json::Member(pod, "metadata");
  return md ? ParseTimeMillis(json::StringMember(*md, "creationTimestamp")) : std::nullopt;
}

// Pending < Unknown < Running; anything else sorts with Pending, as Go's zero value does.
int PhaseOrdinal(const Value& pod) {
  std::string_view phase = Phase(pod);
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;
}

int32_t DeletionCost(const Value& pod) {
  std::optional<std::string_view> cost = AnnotationOf(pod, "controller.kubernetes.io/pod-deletion-cost");
  if (!cost || cost->empty()) return 0;
  std::string text(*cost);
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  // An invalid cost counts as the default, as in Kubernetes.
  if (*end != '\0' || v < INT32_MIN || v > INT32_MAX) return 0;
  return static_cast<int32_t>(v);
}

// The highest restart count among regular containers, and among restartable init
// containers (sidecars).
std::pair<int64_t, int64_t> MaxRestarts(const Value& pod) {
  int64_t regular = 0, sidecar = 0;
  const Value* status = json::Member(pod, "status");
  auto scan = [](const Value* statuses, auto&& accept, int64_t& max) {
    if (!statuses || !statuses->IsArray()) return;
    for (const Value& s : statuses->GetArray()) {
      const Value* n = json::Member(s, "restartCount");
      if (n && n->IsInt64() && accept(json::StringMember(s, "name"))) max = std::max(max, n->GetInt64());
    }
  };
  scan(status ? json::Member(*status, "containerStatuses") : nullptr, [](std::string_view) { return true; },
       regular);
  const Value* spec = json::Member(pod, "spec");
  const Value* inits = spec ? json::Member(*spec, "initContainers") : nullptr;
  auto is_sidecar = [inits](std::string_view name) {
    if (!inits || !inits->IsArray()) return false;
    for (const Value& c : inits->GetArray()) {
      if (json::StringMember(c, "name") == name) return json::StringMember(c, "restartPolicy") == "Always";
    }
    return false;
  };
  scan(status ? json::Member(*status, "initContainerStatuses") : nullptr, is_sidecar, sidecar);
  return {regular, sidecar};
}

// floor(log2(age in ns)), -1 for no positive age: Kubernetes' LogarithmicScaleDown buckets,
// so pods of similar age are deleted in random (uid) order rather than strictly newest
// first.
int64_t AgeBucket(int64_t t_ms, int64_t now_ms) {
  int64_t age_ns = (now_ms - t_ms) * 1'000'000;
  return age_ns > 0 ? static_cast<int64_t>(std::log2(static_cast<double>(age_ns))) : -1;
}

struct Ranked {
  const Value* pod;
  int rank;  // related active pods on the same node
};

// "Zero" (absent) times first, then later before earlier: Kubernetes' afterOrZero.
bool AfterOrZero(const std::optional<int64_t>& a, const std::optional<int64_t>& b) {
  if (!a || !b) return !a;
  return *a > *b;
}

// Compares two times as the logarithmic scale-down does; nullopt when they tie.
std::optional<bool> CompareAges(const std::optional<int64_t>& a, const std::optional<int64_t>& b,
                                const Value& pa, const Value& pb, int64_t now_ms) {
  if (a == b) return std::nullopt;
  if (!a || !b) return AfterOrZero(a, b);
  int64_t diff = AgeBucket(*a, now_ms) - AgeBucket(*b, now_ms);
  if (diff == 0) return UidOf(pa) < UidOf(pb);
  return diff < 0;
}

bool DeleteFirst(const Ranked& x, const Ranked& y, int64_t now_ms) {
  const Value& a = *x.pod;
  const Value& b = *y.pod;
  std::string_view na = NodeName(a), nb = NodeName(b);
  if (na != nb && (na.empty() || nb.empty())) return na.empty();
  if (PhaseOrdinal(a) != PhaseOrdinal(b)) return PhaseOrdinal(a) < PhaseOrdinal(b);
  bool ra = IsPodReady(a), rb = IsPodReady(b);
  if (ra != rb) return !ra;
  if (DeletionCost(a) != DeletionCost(b)) return DeletionCost(a) < DeletionCost(b);
  if (x.rank != y.rank) return x.rank > y.rank;
  if (ra && rb) {
    if (auto r = CompareAges(PodReadySinceMillis(a), PodReadySinceMillis(b), a, b, now_ms)) return *r;
  }
  auto [reg_a, side_a] = MaxRestarts(a);
  auto [reg_b, side_b] = MaxRestarts(b);
  if (reg_a != reg_b) return reg_a > reg_b;
  if (side_a != side_b) return side_a > side_b;
  if (auto r = CompareAges(CreationMillis(a), CreationMillis(b), a, b, now_ms)) return *r;
  return false;
}

}  // namespace

bool IsPodActive(const Value& pod) {
  std::string_view phase = Phase(pod);
  return phase != "Succeeded" && phase != "Failed" && !IsBeingDeleted(pod);
}

bool IsPodReady(const Value& pod) {
  const Value* c = ReadyCondition(pod);
  return c && json::StringMember(*c, "status") == "True";
}

std::optional<int64_t> PodReadySinceMillis(const Value& pod) {
  const Value* c = ReadyCondition(pod);
  if (!c || json::StringMember(*c, "status") != "True") return std::nullopt;
  return ParseTimeMillis(json::StringMember(*c, "lastTransitionTime"));
}

bool IsPodAvailable(const Value& pod, int64_t min_ready_seconds, int64_t now_ms) {
  if (!IsPodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  std::optional<int64_t> since = PodReadySinceMillis(pod);
  return since && *since + min_ready_seconds * 1000 < now_ms;
}

std::optional<int64_t> MillisUntilAvailable(const Value& pod, int64_t min_ready_seconds, int64_t now_ms) {
  if (!IsPodReady(pod) || IsPodAvailable(pod, min_ready_seconds, now_ms)) return std::nullopt;
  std::optional<int64_t> since = PodReadySinceMillis(pod);
  if (!since) return std::nullopt;
  return std::max<int64_t>(1, *since + min_ready_seconds * 1000 - now_ms + 1);
}

std::optional<int64_t> ParseTimeMillis(std::string_view text) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  if (!schema::ParseRfc3339(text, &seconds, &nanos)) return std::nullopt;
  return seconds * 1000 + nanos / 1'000'000;
}

rapidjson::Document PodFromTemplate(const Value& pod_template, std::string_view controller_name,
                                    const Value& controller_ref) {
  rapidjson::Document pod(rapidjson::kObjectType);
  auto& a = pod.GetAllocator();
  json::SetStringMember(pod, "apiVersion", "v1", a);
  json::SetStringMember(pod, "kind", "Pod", a);
  Value md(rapidjson::kObjectType);
  // The API server adds five random characters; 58 leaves room for them in 63.
  std::string prefix = std::string(controller_name) + "-";
  if (prefix.size() > 58) prefix.resize(58);
  json::SetStringMember(md, "generateName", prefix, a);
  if (const Value* tmd = json::Member(pod_template, "metadata")) {
    for (const char* field : {"labels", "annotations", "finalizers"}) {
      if (const Value* v = json::Member(*tmd, field); v && !v->IsNull()) {
        json::SetMember(md, field, Value(*v, a), a);
      }
    }
  }
  Value refs(rapidjson::kArrayType);
  refs.PushBack(Value(controller_ref, a), a);
  json::SetMember(md, "ownerReferences", std::move(refs), a);
  json::SetMember(pod, "metadata", std::move(md), a);
  if (const Value* spec = json::Member(pod_template, "spec")) {
    json::SetMember(pod, "spec", Value(*spec, a), a);
  } else {
    json::SetMember(pod, "spec", Value(rapidjson::kObjectType), a);
  }
  return pod;
}

std::vector<client::ObjectPtr> PodsToDelete(const std::vector<client::ObjectPtr>& pods,
                                            const std::vector<client::ObjectPtr>& related,
                                            size_t count, int64_t now_ms) {
  count = std::min(count, pods.size());
  if (count == pods.size()) return pods;
  std::map<std::string, int, std::less<>> on_node;
  for (const client::ObjectPtr& p : related) {
    if (IsPodActive(*p)) ++on_node[std::string(NodeName(*p))];
  }
  std::vector<Ranked> ranked;
  ranked.reserve(pods.size());
  for (const client::ObjectPtr& p : pods) {
    auto it = on_node.find(NodeName(*p));
    ranked.push_back({p.get(), it == on_node.end() ? 0 : it->second});
  }
  std::vector<size_t> order(pods.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    return DeleteFirst(ranked[i], ranked[j], now_ms);
  });
  std::vector<client::ObjectPtr> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(pods[order[i]]);
  return out;
}

BatchResult SlowStartBatch(int count, int initial_batch, const std::function<Status()>& fn) {
  BatchResult result;
  int remaining = count;
  int batch = std::min(remaining, std::max(1, initial_batch));
  // Bounded parallelism: the calls are API requests on a 2-core machine.
  constexpr int kMaxThreads = 8;
  while (batch > 0) {
    std::vector<Status> outcomes(batch);
    int threads = std::min(batch, kMaxThreads);
    if (threads == 1) {
      for (int i = 0; i < batch; ++i) outcomes[i] = fn();
    } else {
      std::vector<std::thread> workers;
      std::atomic<int> next{0};
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
          for (int i = next++; i < batch; i = next++) outcomes[i] = fn();
        });
      }
      for (std::thread& w : workers) w.join();
    }
    for (Status& s : outcomes) {
      if (s.ok()) {
        ++result.successes;
      } else if (result.error.ok()) {
        result.error = std::move(s);
      }
    }
    if (!result.error.ok()) break;
    remaining -= batch;
    batch = std::min(remaining, 2 * batch);
  }
  return result;
}

}  // namespace kite::controllers
