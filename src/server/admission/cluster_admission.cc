// Namespaces, Nodes and Endpoints.
#include <set>
#include <string>
#include <utility>

#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_defaults.h"
#include "src/server/admission/pod_validation.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {
namespace {

using selection::GoQuote;

std::string_view Str(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

void CheckFinalizerName(Causes& c, std::string_view name, const std::string& path) {
  c.InvalidEach(path, name, QualifiedNameErrors(name));
  if (name.find('/') == std::string_view::npos && name != "kubernetes") {
    c.Invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified");
  }
}

// validateNodeTaints; Kubernetes reports them under metadata.taints.
void CheckTaints(Causes& c, const Value* spec) {
  const std::string path = "metadata.taints";
  const Value* taints = GetArray(&c, spec, "taints", "spec.taints");
  if (taints == nullptr) return;
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (rapidjson::SizeType i = 0; i < taints->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* t = ElementObject(&c, (*taints)[i], Index("spec.taints", i));
    if (t == nullptr) continue;
    std::string_view key = Str(c, t, "key", Child(p, "key"));
    std::string_view value = Str(c, t, "value", Child(p, "value"));
    std::string_view effect = Str(c, t, "effect", Child(p, "effect"));
    CheckLabelName(c, Child(p, "key"), key);
    std::vector<std::string> errs = LabelValueErrors(value);
    if (!errs.empty()) {
      std::string joined;
      for (size_t j = 0; j < errs.size(); ++j) joined += (j ? ";" : "") + errs[j];
      c.Invalid(Child(p, "value"), value, joined);
    }
    if (effect.empty()) {
      c.Required(Child(p, "effect"));
    } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      c.NotSupported(Child(p, "effect"), effect, {"NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
    if (!seen.insert({key, effect}).second) {
      c.Add({"FieldValueDuplicate",
             "Duplicate value: core.Taint{Key:" + GoQuote(key) + ", Value:" + GoQuote(value) +
                 ", Effect:" + GoQuote(effect) +
                 ", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
             p});
    }
  }
}

void CheckResourceList(Causes& c, const Value* parent, const char* name, const std::string& path) {
  const Value* list = GetObject(&c, parent, name, path);
  if (list == nullptr) return;
  for (const auto& m : list->GetObject()) {
    std::string_view resource(m.name.GetString(), m.name.GetStringLength());
    // Kubernetes joins these with dots: status.capacity.cpu.
    std::string p = Child(path, resource);
    if (std::optional<Quantity> q = GetQuantity(&c, list, resource, p)) CheckResourceQuantityValue(c, resource, *q, p);
  }
}

}  // namespace

void DefaultNamespace(Value& object, Allocator& a) {
  Value* md = DefaultObject(object, "metadata", a);
  std::string name = md ? std::string(json::StringMember(*md, "name")) : "";
  if (md != nullptr && !name.empty()) {
    if (Value* labels = DefaultObject(*md, "labels", a)) {
      SetStringField(*labels, "kubernetes.io/metadata.name", name, a);
    }
  }
  // A fresh namespace (no phase yet) gets the kubernetes finalizer and phase Active, as the
  // namespace strategy does on create.
  const Value* status = Get(&object, "status");
  bool fresh = status == nullptr || json::StringMember(*status, "phase").empty();
  if (!fresh) return;
  if (Value* spec = DefaultObject(object, "spec", a)) {
    if (Get(spec, "finalizers") == nullptr) {
      Value finalizers(rapidjson::kArrayType);
      finalizers.PushBack(Value("kubernetes"), a);
      json::SetMember(*spec, "finalizers", std::move(finalizers), a);
    }
  }
  if (Value* s = DefaultObject(object, "status", a)) DefaultString(*s, "phase", "Active", a);
}

void ValidateNamespace(Causes& c, const Value& object, const Value*, std::string_view sub) {
  if (sub == "status") {
    const Value* md = Get(&object, "metadata");
    bool deleting = Get(md, "deletionTimestamp") != nullptr;
    std::string_view phase = Str(c, GetObject(&c, &object, "status", "status"), "phase", "status.phase");
    if (!deleting && phase != "Active") {
      c.Invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty");
    } else if (deleting && phase != "Terminating") {
      c.Invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty");
    }
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  if (auto finalizers = GetStringList(&c, spec, "finalizers", "spec.finalizers")) {
    for (std::string_view f : *finalizers) CheckFinalizerName(c, f, "spec.finalizers");
  }
}

void DefaultNode(Value& object, Allocator& a) {
  Value* status = MutableObject(object, "status");
  if (status == nullptr) return;
  for (const char* list : {"capacity", "allocatable"}) {
    if (Value* l = MutableObject(*status, list)) DefaultResourceList(*l, a);
  }
  const Value* capacity = Get(status, "capacity");
  if (Get(status, "allocatable") == nullptr && capacity != nullptr && capacity->IsObject()) {
    Value copy(*capacity, a);
    json::SetMember(*status, "allocatable", std::move(copy), a);
  }
}

void ValidateNode(Causes& c, const Value& object, const Value* old, std::string_view) {
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckTaints(c, spec);
  const Value* status = GetObject(&c, &object, "status", "status");
  CheckResourceList(c, status, "capacity", "status.capacity");
  CheckResourceList(c, status, "allocatable", "status.allocatable");
  auto cidrs = GetStringList(&c, spec, "podCIDRs", "spec.podCIDRs");
  if (cidrs) {
    for (size_t i = 0; i < cidrs->size(); ++i) {
      if (!IsValidCidr((*cidrs)[i])) {
        c.Invalid(Index("spec.podCIDRs", i), (*cidrs)[i], "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
      }
    }
  }
  if (old == nullptr) return;
  const Value* old_spec = Get(old, "spec");
  auto old_cidrs = GetStringList(nullptr, old_spec, "podCIDRs", "");
  if (old_cidrs && !old_cidrs->empty()) {
    std::vector<std::string_view> now = cidrs.value_or(std::vector<std::string_view>{});
    if (now.size() != old_cidrs->size()) {
      c.Forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
    } else {
      for (size_t i = 0; i < now.size(); ++i) {
        if (now[i] != (*old_cidrs)[i]) {
          c.Forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
        }
      }
    }
  }
  std::string_view old_provider = old_spec ? json::StringMember(*old_spec, "providerID") : "";
  std::string_view provider = spec ? json::StringMember(*spec, "providerID") : "";
  if (!old_provider.empty() && old_provider != provider) {
    c.Forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid");
  }
}

void DefaultEndpoints(Value& object, Allocator& a) {
  Value* subsets = MutableArray(object, "subsets");
  if (subsets == nullptr) return;
  for (Value& subset : subsets->GetArray()) {
    Value* ports = subset.IsObject() ? MutableArray(subset, "ports") : nullptr;
    if (ports == nullptr) continue;
    for (Value& p : ports->GetArray()) DefaultString(p, "protocol", "TCP", a);
  }
}

void ValidateEndpoints(Causes& c, const Value& object, const Value*, std::string_view) {
  const Value* subsets = GetArray(&c, &object, "subsets", "subsets");
  if (subsets == nullptr) return;
  for (rapidjson::SizeType i = 0; i < subsets->Size(); ++i) {
    std::string p = Index("subsets", i);
    const Value* subset = ElementObject(&c, (*subsets)[i], p);
    if (subset == nullptr) continue;
    const Value* ready = GetArray(&c, subset, "addresses", Child(p, "addresses"));
    const Value* not_ready = GetArray(&c, subset, "notReadyAddresses", Child(p, "notReadyAddresses"));
    if ((ready == nullptr || ready->Empty()) && (not_ready == nullptr || not_ready->Empty())) {
      c.Required(p, "must specify `addresses` or `notReadyAddresses`");
    }
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      const Value* addresses = Get(subset, list);
      if (addresses == nullptr || !addresses->IsArray()) continue;
      for (rapidjson::SizeType j = 0; j < addresses->Size(); ++j) {
        std::string ap = Index(Child(p, list), j);
        const Value* address = ElementObject(&c, (*addresses)[j], ap);
        if (address == nullptr) continue;
        std::string_view ip = Str(c, address, "ip", Child(ap, "ip"));
        CheckIp(c, Child(ap, "ip"), ip);
        std::string_view host = Str(c, address, "hostname", Child(ap, "hostname"));
        if (!host.empty()) c.InvalidEach(Child(ap, "hostname"), host, Dns1123LabelErrors(host));
        if (std::optional<std::string_view> node = GetString(&c, address, "nodeName", Child(ap, "nodeName"))) {
          c.InvalidEach(Child(ap, "nodeName"), *node, Dns1123SubdomainErrors(*node));
        }
      }
    }
    const Value* ports = GetArray(&c, subset, "ports", Child(p, "ports"));
    if (ports == nullptr) continue;
    for (rapidjson::SizeType j = 0; j < ports->Size(); ++j) {
      std::string pp = Index(Child(p, "ports"), j);
      const Value* port = ElementObject(&c, (*ports)[j], pp);
      if (port == nullptr) continue;
      std::string_view name = Str(c, port, "name", Child(pp, "name"));
      if (ports->Size() > 1 && name.empty()) {
        c.Required(Child(pp, "name"));
      } else if (!name.empty()) {
        c.InvalidEach(Child(pp, "name"), name, Dns1123LabelErrors(name));
      }
      int64_t number = GetInt32(&c, port, "port", Child(pp, "port")).value_or(0);
      for (const std::string& m : PortNumErrors(number)) c.InvalidInt(Child(pp, "port"), number, m);
      std::string_view protocol = Str(c, port, "protocol", Child(pp, "protocol"));
      if (protocol.empty()) {
        c.Required(Child(pp, "protocol"));
      } else if (protocol != "SCTP" && protocol != "TCP" && protocol != "UDP") {
        c.NotSupported(Child(pp, "protocol"), protocol, {"SCTP", "TCP", "UDP"});
      }
    }
  }
}

}  // namespace kite::admission
