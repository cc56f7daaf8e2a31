#include "src/server/scheduler/resources.h"

#include <algorithm>

#include "src/server/json/json_util.h"
#include "src/server/scheduler/quantity.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;

bool IsScalarResourceName(std::string_view name) {
  return name.starts_with("hugepages-") || name.starts_with("attachable-volumes-") ||
         name.find('/') != std::string_view::npos;
}

namespace {

std::optional<int64_t> QuantityOf(const rapidjson::Value& v, QuantityScale scale) {
  if (v.IsString()) return ParseQuantity(std::string_view(v.GetString(), v.GetStringLength()), scale);
  // A bare JSON number is a valid quantity too ("cpu": 2).
  if (v.IsInt64()) {
    int64_t n = v.GetInt64();
    return scale == QuantityScale::kMilli ? n * 1000 : n;
  }
  if (v.IsNumber()) {
    double d = v.GetDouble() * (scale == QuantityScale::kMilli ? 1000.0 : 1.0);
    return static_cast<int64_t>(d) + (d > static_cast<double>(static_cast<int64_t>(d)) ? 1 : 0);
  }
  return std::nullopt;
}

void AddNamed(Resources& r, std::string_view name, const rapidjson::Value& v) {
  if (name == "cpu") {
    if (auto q = QuantityOf(v, QuantityScale::kMilli)) r.milli_cpu += *q;
  } else if (name == "memory") {
    if (auto q = QuantityOf(v, QuantityScale::kUnit)) r.memory += *q;
  } else if (name == "ephemeral-storage") {
    if (auto q = QuantityOf(v, QuantityScale::kUnit)) r.ephemeral_storage += *q;
  } else if (name == "pods") {
    if (auto q = QuantityOf(v, QuantityScale::kUnit)) r.pods += *q;
  } else if (IsScalarResourceName(name)) {
    if (auto q = QuantityOf(v, QuantityScale::kUnit)) {
      auto it = r.scalar.find(name);
      if (it == r.scalar.end()) it = r.scalar.emplace(std::string(name), 0).first;
      it->second += *q;
    }
  }
}

// A container's requests: explicit requests, and limits for what it does not request.
Resources ContainerRequests(const rapidjson::Value& container, bool non_zero) {
  Resources r;
  const rapidjson::Value* resources = Member(container, "resources");
  const rapidjson::Value* requests = resources ? Member(*resources, "requests") : nullptr;
  const rapidjson::Value* limits = resources ? Member(*resources, "limits") : nullptr;
  bool has_cpu = false, has_memory = false;
  if (requests && requests->IsObject()) {
    for (const auto& m : requests->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      has_cpu |= name == "cpu";
      has_memory |= name == "memory";
      AddNamed(r, name, m.value);
    }
  }
  if (limits && limits->IsObject()) {
    for (const auto& m : limits->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (requests && Member(*requests, name)) continue;
      has_cpu |= name == "cpu";
      has_memory |= name == "memory";
      AddNamed(r, name, m.value);
    }
  }
  if (non_zero) {
    if (!has_cpu) r.milli_cpu = kDefaultMilliCpuRequest;
    if (!has_memory) r.memory = kDefaultMemoryRequest;
  }
  return r;
}

}  // namespace

void Resources::AddList(const rapidjson::Value* list) {
  if (!list || !list->IsObject()) return;
  for (const auto& m : list->GetObject()) {
    AddNamed(*this, std::string_view(m.name.GetString(), m.name.GetStringLength()), m.value);
  }
}

void Resources::Add(const Resources& o) {
  milli_cpu += o.milli_cpu;
  memory += o.memory;
  ephemeral_storage += o.ephemeral_storage;
  pods += o.pods;
  for (const auto& [name, v] : o.scalar) scalar[name] += v;
}

void Resources::Subtract(const Resources& o) {
  milli_cpu -= o.milli_cpu;
  memory -= o.memory;
  ephemeral_storage -= o.ephemeral_storage;
  pods -= o.pods;
  for (const auto& [name, v] : o.scalar) {
    auto it = scalar.find(name);
    if (it == scalar.end()) continue;
    it->second -= v;
    if (it->second == 0) scalar.erase(it);
  }
}

void Resources::SetMax(const Resources& o) {
  milli_cpu = std::max(milli_cpu, o.milli_cpu);
  memory = std::max(memory, o.memory);
  ephemeral_storage = std::max(ephemeral_storage, o.ephemeral_storage);
  pods = std::max(pods, o.pods);
  for (const auto& [name, v] : o.scalar) {
    auto [it, inserted] = scalar.emplace(name, v);
    if (!inserted) it->second = std::max(it->second, v);
  }
}

bool Resources::IsZero() const {
  if (milli_cpu != 0 || memory != 0 || ephemeral_storage != 0 || pods != 0) return false;
  for (const auto& [name, v] : scalar) {
    if (v != 0) return false;
  }
  return true;
}

Resources PodRequests(const rapidjson::Value& pod, bool non_zero) {
  Resources total;
  const rapidjson::Value* spec = Member(pod, "spec");
  if (!spec) return total;
  if (const rapidjson::Value* containers = Member(*spec, "containers"); containers && containers->IsArray()) {
    for (const auto& c : containers->GetArray()) total.Add(ContainerRequests(c, non_zero));
  }
  if (const rapidjson::Value* inits = Member(*spec, "initContainers"); inits && inits->IsArray()) {
    Resources sidecars;   // restartable init containers started so far keep running
    Resources init_peak;  // the most any moment of the init phase needs
    for (const auto& c : inits->GetArray()) {
      Resources r = ContainerRequests(c, non_zero);
      if (StringMember(c, "restartPolicy") == "Always") {
        total.Add(r);
        sidecars.Add(r);
        init_peak.SetMax(sidecars);
      } else {
        r.Add(sidecars);
        init_peak.SetMax(r);
      }
    }
    total.SetMax(init_peak);
  }
  total.AddList(Member(*spec, "overhead"));
  return total;
}

Resources NodeAllocatable(const rapidjson::Value& node) {
  Resources r;
  if (const rapidjson::Value* status = Member(node, "status")) r.AddList(Member(*status, "allocatable"));
  return r;
}

}  // namespace kite::scheduler
