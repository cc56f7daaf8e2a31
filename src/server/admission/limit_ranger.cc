#include "src/server/admission/limit_ranger.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "src/server/admission/json_fields.h"
#include "src/server/admission/quantity.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

// resource.MaxMilliValue: the largest value whose MilliValue() fits an int64.
constexpr int64_t kMaxMilliValue = std::numeric_limits<int64_t>::max() / 1000;

// ---- Resource lists ----------------------------------------------------------------------

// A ResourceList: names unique, in first-appearance order.
using ResourceList = std::vector<std::pair<std::string, Quantity>>;

const Quantity* Find(const ResourceList& list, std::string_view name) {
  for (const auto& [n, q] : list) {
    if (n == name) return &q;
  }
  return nullptr;
}

Quantity* FindMutable(ResourceList& list, std::string_view name) {
  for (auto& [n, q] : list) {
    if (n == name) return &q;
  }
  return nullptr;
}

void Put(ResourceList& list, std::string_view name, const Quantity& q) {
  if (Quantity* existing = FindMutable(list, name)) {
    *existing = q;
  } else {
    list.emplace_back(std::string(name), q);
  }
}

// A quantity member as Go's decoder would read it: null is zero; other values must parse.
std::optional<Quantity> ReadQuantity(const Value& v) {
  if (v.IsNull()) return Quantity();
  std::optional<std::string> text = QuantityText(v);
  if (!text) return std::nullopt;
  Result<Quantity> q = Quantity::Parse(*text);
  if (!q.ok()) return std::nullopt;
  return *q;
}

// A map[ResourceName]Quantity member; duplicates: the last wins, as in Go's decoder.
ResourceList ReadList(const Value* parent, std::string_view name) {
  ResourceList list;
  const Value* map = parent ? json::Member(*parent, name) : nullptr;
  if (!map || !map->IsObject()) return list;
  for (const auto& m : map->GetObject()) {
    std::optional<Quantity> q = ReadQuantity(m.value);
    if (!q) continue;
    Put(list, std::string_view(m.name.GetString(), m.name.GetStringLength()), *q);
  }
  return list;
}

// ---- LimitRange items --------------------------------------------------------------------

struct LimitItem {
  std::string type;
  ResourceList max, min, default_limit, default_request, ratio;
};

// Keys of `from` missing in `to` are copied over (one step of SetDefaults_LimitRangeItem).
void FillMissing(ResourceList& to, const ResourceList& from) {
  for (const auto& [name, q] : from) {
    if (!Find(to, name)) to.emplace_back(name, q);
  }
}

std::vector<LimitItem> ReadItems(const Value* limit_range) {
  std::vector<LimitItem> items;
  if (!limit_range || !limit_range->IsObject()) return items;
  const Value* spec = json::Member(*limit_range, "spec");
  const Value* limits = spec ? json::Member(*spec, "limits") : nullptr;
  if (!limits || !limits->IsArray()) return items;
  for (const Value& raw : limits->GetArray()) {
    if (!raw.IsObject()) continue;
    LimitItem item;
    item.type = std::string(json::StringMember(raw, "type"));
    item.max = ReadList(&raw, "max");
    item.min = ReadList(&raw, "min");
    item.default_limit = ReadList(&raw, "default");
    item.default_request = ReadList(&raw, "defaultRequest");
    item.ratio = ReadList(&raw, "maxLimitRequestRatio");
    if (item.type == "Container") {
      FillMissing(item.default_limit, item.max);
      FillMissing(item.default_request, item.default_limit);
      FillMissing(item.default_request, item.min);
    }
    items.push_back(std::move(item));
  }
  return items;
}

// ---- Defaulting --------------------------------------------------------------------------

std::string JoinSorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Adds the entries of `defaults` that resources[field] lacks; returns their names.
// `resources` is created lazily so that containers with nothing to add stay untouched.
std::vector<std::string> MergeList(Value& container, std::string_view field,
                                   const ResourceList& defaults, Allocator& a) {
  std::vector<std::string> set;
  if (defaults.empty()) return set;
  Value* resources = json::MutableMember(container, "resources");
  if (resources && !resources->IsNull() && !resources->IsObject()) return set;
  Value* list = resources && resources->IsObject() ? json::MutableMember(*resources, field) : nullptr;
  if (list && !list->IsNull() && !list->IsObject()) return set;
  for (const auto& [name, q] : defaults) {
    if (list && list->IsObject() && json::Member(*list, name)) continue;
    if (!resources || resources->IsNull()) {
      json::SetMember(container, "resources", Value(rapidjson::kObjectType), a);
      resources = json::MutableMember(container, "resources");
    }
    if (!list || list->IsNull()) {
      json::SetMember(*resources, field, Value(rapidjson::kObjectType), a);
      list = json::MutableMember(*resources, field);
    }
    json::SetStringMember(*list, name, q.String(), a);
    set.push_back(name);
  }
  return set;
}

void MergeContainers(Value& spec, std::string_view field, std::string_view prefix,
                     const ResourceList& limits, const ResourceList& requests,
                     std::vector<std::string>& annotations, Allocator& a) {
  Value* containers = json::MutableMember(spec, field);
  if (!containers || !containers->IsArray()) return;
  for (Value& container : containers->GetArray()) {
    if (!container.IsObject()) continue;
    std::vector<std::string> set_limits = MergeList(container, "limits", limits, a);
    std::vector<std::string> set_requests = MergeList(container, "requests", requests, a);
    std::string name(json::StringMember(container, "name"));
    if (!set_requests.empty()) {
      annotations.push_back(JoinSorted(std::move(set_requests)) + " request for " +
                            std::string(prefix) + " " + name);
    }
    if (!set_limits.empty()) {
      annotations.push_back(JoinSorted(std::move(set_limits)) + " limit for " + std::string(prefix) +
                            " " + name);
    }
  }
}

void SetAnnotation(Value& object, const std::string& text, Allocator& a) {
  Value* metadata = json::MutableMember(object, "metadata");
  if (!metadata || metadata->IsNull()) {
    json::SetMember(object, "metadata", Value(rapidjson::kObjectType), a);
    metadata = json::MutableMember(object, "metadata");
  }
  if (!metadata->IsObject()) return;
  Value* annotations = json::MutableMember(*metadata, "annotations");
  if (!annotations || annotations->IsNull()) {
    json::SetMember(*metadata, "annotations", Value(rapidjson::kObjectType), a);
    annotations = json::MutableMember(*metadata, "annotations");
  }
  if (!annotations->IsObject()) return;
  json::SetStringMember(*annotations, kLimitRangerAnnotation, text, a);
}

// ---- Validation --------------------------------------------------------------------------

struct Observed {
  int64_t request = 0, limit = 0, enforced = 0;
};

// requestLimitEnforcedValues: milli precision unless a value would overflow it.
Observed Values(const Quantity& request, const Quantity& limit, const Quantity& enforced) {
  Observed o{request.Value(), limit.Value(), enforced.Value()};
  if (o.request <= kMaxMilliValue && o.limit <= kMaxMilliValue && o.enforced <= kMaxMilliValue) {
    o = {request.MilliValue(), limit.MilliValue(), enforced.MilliValue()};
  }
  return o;
}

std::string Prefix(std::string_view bound, std::string_view resource, std::string_view type,
                   const Quantity& enforced) {
  return std::string(bound) + " " + std::string(resource) + " usage per " + std::string(type) +
         " is " + enforced.String();
}

void MinConstraint(std::vector<std::string>& errs, std::string_view type, std::string_view resource,
                   const Quantity& enforced, const ResourceList& requests, const ResourceList& limits) {
  const Quantity* req = Find(requests, resource);
  const Quantity* lim = Find(limits, resource);
  Observed o = Values(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced);
  if (!req) {
    errs.push_back(Prefix("minimum", resource, type, enforced) + ".  No request is specified");
  } else if (o.request < o.enforced) {
    errs.push_back(Prefix("minimum", resource, type, enforced) + ", but request is " + req->String());
  } else if (lim && o.limit < o.enforced) {
    errs.push_back(Prefix("minimum", resource, type, enforced) + ", but limit is " + lim->String());
  }
}

void MaxConstraint(std::vector<std::string>& errs, std::string_view type, std::string_view resource,
                   const Quantity& enforced, const ResourceList& requests, const ResourceList& limits) {
  const Quantity* req = Find(requests, resource);
  const Quantity* lim = Find(limits, resource);
  Observed o = Values(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced);
  if (!lim) {
    errs.push_back(Prefix("maximum", resource, type, enforced) + ".  No limit is specified");
  } else if (o.limit > o.enforced) {
    errs.push_back(Prefix("maximum", resource, type, enforced) + ", but limit is " + lim->String());
  } else if (req && o.request > o.enforced) {
    errs.push_back(Prefix("maximum", resource, type, enforced) + ", but request is " + req->String());
  }
}

// maxRequestConstraint: for claims, whose limits are not user input.
void MaxRequestConstraint(std::vector<std::string>& errs, std::string_view type,
                          std::string_view resource, const Quantity& enforced,
                          const ResourceList& requests) {
  const Quantity* req = Find(requests, resource);
  Observed o = Values(req ? *req : Quantity(), Quantity(), enforced);
  if (!req) {
    errs.push_back(Prefix("maximum", resource, type, enforced) + ".  No request is specified");
  } else if (o.request > o.enforced) {
    errs.push_back(Prefix("maximum", resource, type, enforced) + ", but request is " + req->String());
  }
}

void RatioConstraint(std::vector<std::string>& errs, std::string_view type, std::string_view resource,
                     const Quantity& enforced, const ResourceList& requests, const ResourceList& limits) {
  const Quantity* req = Find(requests, resource);
  const Quantity* lim = Find(limits, resource);
  Observed o = Values(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced);
  std::string prefix = std::string(resource) + " max limit to request ratio per " + std::string(type) +
                       " is " + enforced.String();
  if (!req || o.request == 0) {
    errs.push_back(prefix + ", but no request is specified or request is 0");
    return;
  }
  if (!lim || o.limit == 0) {
    errs.push_back(prefix + ", but no limit is specified or limit is 0");
    return;
  }
  // Upstream's float arithmetic, step for step.
  double observed = static_cast<double>(o.limit) / static_cast<double>(o.request);
  double display = observed;
  double max_ratio = static_cast<double>(enforced.Value());
  if (enforced.Value() <= kMaxMilliValue) {
    observed *= 1000;
    max_ratio = static_cast<double>(enforced.MilliValue());
  }
  if (observed > max_ratio) {
    char buf[400];
    std::snprintf(buf, sizeof buf, "%f", display);  // Go's %f: six decimals
    errs.push_back(prefix + ", but provided ratio is " + buf);
  }
}

void CheckAll(std::vector<std::string>& errs, const LimitItem& item, const ResourceList& requests,
              const ResourceList& limits) {
  for (const auto& [name, q] : item.min) MinConstraint(errs, item.type, name, q, requests, limits);
  for (const auto& [name, q] : item.max) MaxConstraint(errs, item.type, name, q, requests, limits);
  for (const auto& [name, q] : item.ratio) RatioConstraint(errs, item.type, name, q, requests, limits);
}

struct ContainerResources {
  ResourceList requests, limits;
  bool restartable = false;  // an init container with restartPolicy Always (a sidecar)
};

std::vector<ContainerResources> ReadContainers(const Value* spec, std::string_view field) {
  std::vector<ContainerResources> out;
  const Value* containers = spec ? json::Member(*spec, field) : nullptr;
  if (!containers || !containers->IsArray()) return out;
  for (const Value& c : containers->GetArray()) {
    if (!c.IsObject()) continue;
    const Value* resources = json::Member(c, "resources");
    ContainerResources r;
    r.requests = ReadList(resources, "requests");
    r.limits = ReadList(resources, "limits");
    r.restartable = json::StringMember(c, "restartPolicy") == "Always";
    out.push_back(std::move(r));
  }
  return out;
}

// addResourceList.
void AddList(ResourceList& list, const ResourceList& more) {
  for (const auto& [name, q] : more) {
    if (Quantity* existing = FindMutable(list, name)) {
      *existing = existing->Add(q);
    } else {
      list.emplace_back(name, q);
    }
  }
}

// maxResourceList.
void MaxList(ResourceList& list, const ResourceList& more) {
  for (const auto& [name, q] : more) {
    const Quantity* existing = Find(list, name);
    if (!existing || q.Compare(*existing) > 0) Put(list, name, q);
  }
}

// podRequests / podLimits without in-place resize: containers and sidecars add up; each
// regular init container runs beside the sidecars started before it.
ResourceList PodTotal(const std::vector<ContainerResources>& containers,
                      const std::vector<ContainerResources>& init_containers, bool limits) {
  auto pick = [limits](const ContainerResources& c) -> const ResourceList& {
    return limits ? c.limits : c.requests;
  };
  ResourceList total;
  for (const ContainerResources& c : containers) AddList(total, pick(c));
  ResourceList sidecars, init_max;
  for (const ContainerResources& c : init_containers) {
    if (c.restartable) {
      AddList(total, pick(c));
      AddList(sidecars, pick(c));
      MaxList(init_max, sidecars);
    } else {
      ResourceList running;
      AddList(running, pick(c));
      AddList(running, sidecars);
      MaxList(init_max, running);
    }
  }
  MaxList(total, init_max);
  return total;
}

std::vector<std::string> PodViolations(const Value& pod, const std::vector<LimitItem>& items) {
  std::vector<std::string> errs;
  const Value* spec = json::Member(pod, "spec");
  std::vector<ContainerResources> containers = ReadContainers(spec, "containers");
  std::vector<ContainerResources> init_containers = ReadContainers(spec, "initContainers");
  for (const LimitItem& item : items) {
    if (item.type == "Container") {
      for (const auto* list : {&containers, &init_containers}) {
        for (const ContainerResources& c : *list) CheckAll(errs, item, c.requests, c.limits);
      }
    } else if (item.type == "Pod") {
      CheckAll(errs, item, PodTotal(containers, init_containers, false),
               PodTotal(containers, init_containers, true));
    }
  }
  return errs;
}

std::vector<std::string> ClaimViolations(const Value& claim, const std::vector<LimitItem>& items) {
  std::vector<std::string> errs;
  const Value* spec = json::Member(claim, "spec");
  const Value* resources = spec ? json::Member(*spec, "resources") : nullptr;
  ResourceList requests = ReadList(resources, "requests");
  for (const LimitItem& item : items) {
    if (item.type != "PersistentVolumeClaim") continue;
    for (const auto& [name, q] : item.min) MinConstraint(errs, item.type, name, q, requests, {});
    for (const auto& [name, q] : item.max) MaxRequestConstraint(errs, item.type, name, q, requests);
  }
  return errs;
}

}  // namespace

void ApplyLimitRangeDefaults(std::string_view kind, Value& object,
                             const std::vector<const Value*>& limit_ranges, Allocator& allocator) {
  if (kind != "Pod" || !object.IsObject()) return;
  for (const Value* limit_range : limit_ranges) {
    ResourceList limits, requests;
    for (const LimitItem& item : ReadItems(limit_range)) {
      if (item.type != "Container") continue;
      for (const auto& [name, q] : item.default_request) Put(requests, name, q);
      for (const auto& [name, q] : item.default_limit) Put(limits, name, q);
    }
    if (limits.empty() && requests.empty()) continue;
    Value* spec = json::MutableMember(object, "spec");
    if (!spec || !spec->IsObject()) return;
    std::vector<std::string> annotations;
    MergeContainers(*spec, "containers", "container", limits, requests, annotations, allocator);
    MergeContainers(*spec, "initContainers", "init container", limits, requests, annotations,
                    allocator);
    if (annotations.empty()) continue;
    std::string text = "LimitRanger plugin set: ";
    for (size_t i = 0; i < annotations.size(); ++i) {
      if (i > 0) text += "; ";
      text += annotations[i];
    }
    SetAnnotation(object, text, allocator);
  }
}

std::vector<std::string> LimitRangeViolations(std::string_view kind, const Value& object,
                                              const std::vector<const Value*>& limit_ranges) {
  if ((kind != "Pod" && kind != "PersistentVolumeClaim") || !object.IsObject()) return {};
  for (const Value* limit_range : limit_ranges) {
    std::vector<LimitItem> items = ReadItems(limit_range);
    std::vector<std::string> errs =
        kind == "Pod" ? PodViolations(object, items) : ClaimViolations(object, items);
    if (!errs.empty()) return errs;  // upstream returns Forbidden at the first LimitRange
  }
  return {};
}

std::string LimitRangeForbiddenMessage(const std::vector<std::string>& violations) {
  if (violations.empty()) return "";
  if (violations.size() == 1) return violations[0];
  std::set<std::string> seen;
  std::string joined;
  for (const std::string& v : violations) {
    if (!seen.insert(v).second) continue;
    if (seen.size() > 1) joined += ", ";
    joined += v;
  }
  return seen.size() == 1 ? joined : "[" + joined + "]";
}

void DefaultLimitRangeItems(Value& limit_range, Allocator& allocator) {
  Value* spec = json::MutableMember(limit_range, "spec");
  Value* limits = spec && spec->IsObject() ? json::MutableMember(*spec, "limits") : nullptr;
  if (!limits || !limits->IsArray()) return;
  for (Value& item : limits->GetArray()) {
    if (!item.IsObject() || json::StringMember(item, "type") != "Container") continue;
    // Each step reads the map the previous step completed, as upstream's loops do.
    auto fill = [&](std::string_view to_name, std::string_view from_name) {
      const Value* from = json::Member(item, from_name);
      if (!from || !from->IsObject() || from->MemberCount() == 0) return;
      Value* to = json::MutableMember(item, to_name);
      if (to && !to->IsNull() && !to->IsObject()) return;
      // Copy the entries first: adding members may move `from`'s storage.
      std::vector<std::pair<std::string, Value>> missing;
      for (const auto& m : from->GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (to && to->IsObject() && json::Member(*to, name)) continue;
        if (std::any_of(missing.begin(), missing.end(), [&](const auto& p) { return p.first == name; })) {
          continue;
        }
        std::optional<Quantity> q = m.value.IsNull() ? std::nullopt : ReadQuantity(m.value);
        Value copy;
        if (q) {
          copy.SetString(q->String(), allocator);
        } else {
          copy.CopyFrom(m.value, allocator);
        }
        missing.emplace_back(std::string(name), std::move(copy));
      }
      if (missing.empty()) return;
      if (!to || to->IsNull()) {
        json::SetMember(item, to_name, Value(rapidjson::kObjectType), allocator);
        to = json::MutableMember(item, to_name);
      }
      for (auto& [name, value] : missing) json::SetMember(*to, name, std::move(value), allocator);
    };
    fill("default", "max");
    fill("defaultRequest", "default");
    fill("defaultRequest", "min");
  }
}

}  // namespace kite::admission
