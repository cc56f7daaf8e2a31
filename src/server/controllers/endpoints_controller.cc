#include "src/server/controllers/endpoints_controller.h"

#include <algorithm>
#include <map>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr size_t kMaxEndpointsPerSlice = 100;
constexpr char kServiceNameLabel[] = "kubernetes.io/service-name";
constexpr char kManagedByLabel[] = "endpointslice.kubernetes.io/managed-by";
constexpr char kManagedBy[] = "endpointslice-controller.k8s.io";

const Value* Metadata(const Value& o) { return json::Member(o, "metadata"); }
std::string_view MetaString(const Value& o, std::string_view field) {
  const Value* md = Metadata(o);
  return md ? json::StringMember(*md, field) : std::string_view();
}

// Equality selectors of a Service: every key=value must be on the pod.
bool SelectorMatches(const Value& selector, const Value& pod) {
  const Value* md = Metadata(pod);
  const Value* labels = md ? json::Member(*md, "labels") : nullptr;
  for (auto it = selector.MemberBegin(); it != selector.MemberEnd(); ++it) {
    if (!it->value.IsString() || !labels || !labels->IsObject()) return false;
    const Value* v = json::Member(*labels, std::string_view(it->name.GetString(), it->name.GetStringLength()));
    if (!v || !v->IsString() || std::string_view(v->GetString()) != std::string_view(it->value.GetString())) {
      return false;
    }
  }
  return true;
}

const Value* SelectorOf(const Value& service) {
  const Value* spec = json::Member(service, "spec");
  const Value* selector = spec ? json::Member(*spec, "selector") : nullptr;
  return selector && selector->IsObject() && selector->MemberCount() > 0 ? selector : nullptr;
}

struct ResolvedPort {
  std::string name;
  int port = 0;
  std::string protocol;
  bool operator==(const ResolvedPort&) const = default;
};

// The service's ports with targetPort resolved against `pod`; a port whose named target
// the pod lacks is left out, as Kubernetes does.
std::vector<ResolvedPort> ResolvePorts(const Value& service, const Value& pod) {
  std::vector<ResolvedPort> out;
  const Value* spec = json::Member(service, "spec");
  const Value* ports = spec ? json::Member(*spec, "ports") : nullptr;
  if (!ports || !ports->IsArray()) return out;
  for (const Value& p : ports->GetArray()) {
    if (!p.IsObject()) continue;
    std::string protocol(json::StringMember(p, "protocol"));
    if (protocol.empty()) protocol = "TCP";
    const Value* port = json::Member(p, "port");
    const Value* target = json::Member(p, "targetPort");
    int resolved = 0;
    if (target && target->IsInt()) {
      resolved = target->GetInt();
    } else if (target && target->IsString() && target->GetStringLength() > 0) {
      std::string_view wanted(target->GetString(), target->GetStringLength());
      const Value* pod_spec = json::Member(pod, "spec");
      const Value* containers = pod_spec ? json::Member(*pod_spec, "containers") : nullptr;
      if (containers && containers->IsArray()) {
        for (const Value& c : containers->GetArray()) {
          const Value* cports = c.IsObject() ? json::Member(c, "ports") : nullptr;
          if (!cports || !cports->IsArray()) continue;
          for (const Value& cp : cports->GetArray()) {
            std::string_view cp_protocol = cp.IsObject() ? json::StringMember(cp, "protocol") : "";
            const Value* number = cp.IsObject() ? json::Member(cp, "containerPort") : nullptr;
            if (json::StringMember(cp, "name") == wanted && (cp_protocol.empty() ? "TCP" : cp_protocol) == protocol &&
                number && number->IsInt() && resolved == 0) {
              resolved = number->GetInt();
            }
          }
        }
      }
      if (resolved == 0) continue;
    } else if (port && port->IsInt()) {
      resolved = port->GetInt();
    }
    if (resolved <= 0) continue;
    out.push_back({std::string(json::StringMember(p, "name")), resolved, protocol});
  }
  return out;
}

std::string PortsKey(const std::vector<ResolvedPort>& ports) {
  std::string key;
  for (const ResolvedPort& p : ports) key += p.name + "/" + std::to_string(p.port) + "/" + p.protocol + ";";
  return key;
}

Value PortsJson(const std::vector<ResolvedPort>& ports, bool name_always, Document::AllocatorType& a) {
  Value out(rapidjson::kArrayType);
  for (const ResolvedPort& p : ports) {
    Value port(rapidjson::kObjectType);
    if (name_always || !p.name.empty()) json::SetStringMember(port, "name", p.name, a);
    json::SetMember(port, "port", Value(p.port), a);
    json::SetStringMember(port, "protocol", p.protocol, a);
    out.PushBack(std::move(port), a);
  }
  return out;
}

Value TargetRef(const Value& pod, Document::AllocatorType& a) {
  Value ref(rapidjson::kObjectType);
  json::SetStringMember(ref, "kind", "Pod", a);
  json::SetStringMember(ref, "namespace", MetaString(pod, "namespace"), a);
  json::SetStringMember(ref, "name", MetaString(pod, "name"), a);
  json::SetStringMember(ref, "uid", MetaString(pod, "uid"), a);
  return ref;
}

std::string_view PodIp(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  return status ? json::StringMember(*status, "podIP") : std::string_view();
}

std::string_view NodeName(const Value& pod) {
  const Value* spec = json::Member(pod, "spec");
  return spec ? json::StringMember(*spec, "nodeName") : std::string_view();
}

bool PublishNotReady(const Value& service) {
  const Value* spec = json::Member(service, "spec");
  const Value* v = spec ? json::Member(*spec, "publishNotReadyAddresses") : nullptr;
  return v && v->IsBool() && v->GetBool();
}

// A copy of the service's labels (Endpoints and slices carry them).
Value LabelsOf(const Value& service, Document::AllocatorType& a) {
  const Value* md = Metadata(service);
  const Value* labels = md ? json::Member(*md, "labels") : nullptr;
  return labels && labels->IsObject() ? Value(*labels, a) : Value(rapidjson::kObjectType);
}

}  // namespace

void EndpointsController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  services_ = &informers.For(client::kServices);
  pods_ = &informers.For(client::kPods);
  endpoints_ = &informers.For(client::kEndpoints);
  slices_ = &informers.For(client::kEndpointSlices);
  endpoints_client_.emplace(informers.ClientFor(client::kEndpoints));
  slices_client_.emplace(informers.ClientFor(client::kEndpointSlices));
  auto service_key = [&queue](const client::ObjectPtr& o) { queue.Add(client::ObjectKey(*o)); };
  services_->AddHandlers({
      .on_add = service_key,
      .on_update = [&queue](const client::ObjectPtr&, const client::ObjectPtr& o) { queue.Add(client::ObjectKey(*o)); },
      .on_delete = service_key,
  });
  pods_->AddHandlers({
      .on_add = [this, &queue](const client::ObjectPtr& pod) { QueueServicesOf(*pod, queue); },
      .on_update = [this, &queue](const client::ObjectPtr& old_pod, const client::ObjectPtr& pod) {
        QueueServicesOf(*old_pod, queue);
        QueueServicesOf(*pod, queue);
      },
      .on_delete = [this, &queue](const client::ObjectPtr& pod) { QueueServicesOf(*pod, queue); },
  });
  // Someone else's edit of what this controller owns is undone.
  endpoints_->AddHandlers({
      .on_add = nullptr,
      .on_update = nullptr,
      .on_delete = service_key,
  });
}

void EndpointsController::QueueServicesOf(const Value& pod, WorkQueue& queue) const {
  for (const client::ObjectPtr& service : services_->List(MetaString(pod, "namespace"))) {
    const Value* selector = SelectorOf(*service);
    if (selector && SelectorMatches(*selector, pod)) queue.Add(client::ObjectKey(*service));
  }
}

Status EndpointsController::Reconcile(const std::string& key) {
  client::ObjectPtr service = services_->Get(key);
  if (!service) {
    // The Service is gone: so are its Endpoints (slices go with their owner).
    if (endpoints_->Get(key)) {
      auto [ns, name] = client::SplitObjectKey(key);
      Status s = endpoints_client_->Delete(ns, name);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    return Status();
  }
  const Value* selector = SelectorOf(*service);
  if (!selector) return Status();
  std::vector<client::ObjectPtr> pods;
  for (const client::ObjectPtr& pod : pods_->List(MetaString(*service, "namespace"))) {
    const Value* status = json::Member(*pod, "status");
    std::string_view phase = status ? json::StringMember(*status, "phase") : std::string_view();
    if (phase == "Succeeded" || phase == "Failed" || PodIp(*pod).empty()) continue;
    if (SelectorMatches(*selector, *pod)) pods.push_back(pod);
  }
  std::sort(pods.begin(), pods.end(), [](const client::ObjectPtr& a, const client::ObjectPtr& b) {
    return PodIp(*a) < PodIp(*b);
  });
  KITE_RETURN_IF_ERROR(SyncEndpoints(*service, pods));
  return SyncSlices(*service, pods);
}

Status EndpointsController::SyncEndpoints(const Value& service, const std::vector<client::ObjectPtr>& pods) {
  Document desired(rapidjson::kObjectType);
  auto& a = desired.GetAllocator();
  bool publish_not_ready = PublishNotReady(service);
  // One subset per distinct set of resolved ports, in first-seen order.
  std::vector<std::pair<std::string, Value>> subsets;
  for (const client::ObjectPtr& pod : pods) {
    const Value* md = Metadata(*pod);
    if (md && json::Member(*md, "deletionTimestamp") && !publish_not_ready) continue;
    std::vector<ResolvedPort> ports = ResolvePorts(service, *pod);
    if (ports.empty()) continue;
    std::string key = PortsKey(ports);
    auto it = std::find_if(subsets.begin(), subsets.end(), [&](const auto& s) { return s.first == key; });
    if (it == subsets.end()) {
      Value subset(rapidjson::kObjectType);
      json::SetMember(subset, "ports", PortsJson(ports, false, a), a);
      subsets.emplace_back(key, std::move(subset));
      it = subsets.end() - 1;
    }
    Value address(rapidjson::kObjectType);
    json::SetStringMember(address, "ip", PodIp(*pod), a);
    if (!NodeName(*pod).empty()) json::SetStringMember(address, "nodeName", NodeName(*pod), a);
    json::SetMember(address, "targetRef", TargetRef(*pod, a), a);
    bool ready = publish_not_ready || IsPodReady(*pod);
    const char* list = ready ? "addresses" : "notReadyAddresses";
    Value& subset = it->second;
    if (!json::Member(subset, list)) json::SetMember(subset, list, Value(rapidjson::kArrayType), a);
    json::MutableMember(subset, list)->PushBack(std::move(address), a);
  }
  Value subsets_json(rapidjson::kArrayType);
  for (auto& [key, subset] : subsets) subsets_json.PushBack(std::move(subset), a);

  std::string key = client::ObjectKey(service);
  client::ObjectPtr existing = endpoints_->Get(key);
  Document object(rapidjson::kObjectType);
  if (existing) object.CopyFrom(*existing, object.GetAllocator());
  auto& oa = object.GetAllocator();
  json::SetStringMember(object, "apiVersion", "v1", oa);
  json::SetStringMember(object, "kind", "Endpoints", oa);
  Value& md = json::EnsureObjectMember(object, "metadata", oa);
  json::SetStringMember(md, "name", MetaString(service, "name"), oa);
  json::SetStringMember(md, "namespace", MetaString(service, "namespace"), oa);
  json::SetMember(md, "labels", LabelsOf(service, oa), oa);
  if (subsets_json.Empty()) {
    json::RemoveMember(object, "subsets");
  } else {
    json::SetMember(object, "subsets", Value(subsets_json, oa), oa);
  }
  if (existing && json::ToJson(object) == json::ToJson(*existing)) return Status();
  Result<Document> r = existing ? endpoints_client_->Update(object)
                                : endpoints_client_->Create(MetaString(service, "namespace"), object);
  if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) return Status(StatusCode::kConflict, "cache behind");
  return r.ok() ? Status() : r.status();
}

Status EndpointsController::SyncSlices(const Value& service, const std::vector<client::ObjectPtr>& pods) {
  std::string ns(MetaString(service, "namespace"));
  std::string name(MetaString(service, "name"));
  // Desired slices: endpoints grouped by resolved ports, at most 100 per slice.
  struct DesiredSlice {
    std::string ports_key;
    std::vector<ResolvedPort> ports;
    std::vector<const client::ObjectPtr*> pods;
  };
  std::vector<DesiredSlice> desired;
  for (const client::ObjectPtr& pod : pods) {
    std::vector<ResolvedPort> ports = ResolvePorts(service, *pod);
    if (ports.empty()) continue;
    std::string key = PortsKey(ports);
    auto it = std::find_if(desired.rbegin(), desired.rend(), [&](const DesiredSlice& d) { return d.ports_key == key; });
    if (it == desired.rend() || it->pods.size() >= kMaxEndpointsPerSlice) {
      desired.push_back({key, ports, {}});
      desired.back().pods.push_back(&pod);
    } else {
      it->pods.push_back(&pod);
    }
  }
  std::vector<client::ObjectPtr> existing;
  for (const client::ObjectPtr& slice : slices_->List(ns)) {
    const Value* md = Metadata(*slice);
    const Value* labels = md ? json::Member(*md, "labels") : nullptr;
    if (labels && json::StringMember(*labels, kServiceNameLabel) == name &&
        json::StringMember(*labels, kManagedByLabel) == kManagedBy) {
      existing.push_back(slice);
    }
  }
  std::vector<bool> used(existing.size(), false);
  bool publish_not_ready = PublishNotReady(service);
  for (const DesiredSlice& d : desired) {
    Document slice(rapidjson::kObjectType);
    auto& a = slice.GetAllocator();
    // Reuse a slice with the same ports, else create one.
    std::optional<size_t> reuse;
    for (size_t i = 0; i < existing.size() && !reuse; ++i) {
      if (used[i]) continue;
      const Value* ports = json::Member(*existing[i], "ports");
      Document want_ports;
      want_ports.CopyFrom(PortsJson(d.ports, true, want_ports.GetAllocator()), want_ports.GetAllocator());
      if (ports && json::ToJson(*ports) == json::ToJson(want_ports)) reuse = i;
    }
    if (reuse) {
      used[*reuse] = true;
      slice.CopyFrom(*existing[*reuse], a);
    } else {
      slice.Parse(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{}})");
    }
    Value& md = *json::MutableMember(slice, "metadata");
    if (!reuse) {
      json::SetStringMember(md, "generateName", name + "-", a);
      json::SetStringMember(md, "namespace", ns, a);
      Value refs(rapidjson::kArrayType);
      Value ref(rapidjson::kObjectType);
      json::SetStringMember(ref, "apiVersion", "v1", a);
      json::SetStringMember(ref, "kind", "Service", a);
      json::SetStringMember(ref, "name", name, a);
      json::SetStringMember(ref, "uid", MetaString(service, "uid"), a);
      json::SetMember(ref, "controller", Value(true), a);
      json::SetMember(ref, "blockOwnerDeletion", Value(true), a);
      refs.PushBack(std::move(ref), a);
      json::SetMember(md, "ownerReferences", std::move(refs), a);
    }
    Value labels = LabelsOf(service, a);
    json::SetStringMember(labels, kServiceNameLabel, name, a);
    json::SetStringMember(labels, kManagedByLabel, kManagedBy, a);
    json::SetMember(md, "labels", std::move(labels), a);
    json::SetStringMember(slice, "addressType", "IPv4", a);
    Value endpoints(rapidjson::kArrayType);
    for (const client::ObjectPtr* pod : d.pods) {
      const Value* pmd = Metadata(**pod);
      bool terminating = pmd && json::Member(*pmd, "deletionTimestamp");
      bool serving = publish_not_ready || IsPodReady(**pod);
      Value e(rapidjson::kObjectType);
      Value addresses(rapidjson::kArrayType);
      addresses.PushBack(Value(std::string(PodIp(**pod)), a), a);
      json::SetMember(e, "addresses", std::move(addresses), a);
      Value conditions(rapidjson::kObjectType);
      json::SetMember(conditions, "ready", Value(serving && !terminating), a);
      json::SetMember(conditions, "serving", Value(serving), a);
      json::SetMember(conditions, "terminating", Value(terminating), a);
      json::SetMember(e, "conditions", std::move(conditions), a);
      if (!NodeName(**pod).empty()) json::SetStringMember(e, "nodeName", NodeName(**pod), a);
      json::SetMember(e, "targetRef", TargetRef(**pod, a), a);
      endpoints.PushBack(std::move(e), a);
    }
    json::SetMember(slice, "endpoints", std::move(endpoints), a);
    json::SetMember(slice, "ports", PortsJson(d.ports, true, a), a);
    if (reuse && json::ToJson(slice) == json::ToJson(*existing[*reuse])) continue;
    Result<Document> r = reuse ? slices_client_->Update(slice) : slices_client_->Create(ns, slice);
    if (!r.ok()) return r.status();
  }
  for (size_t i = 0; i < existing.size(); ++i) {
    if (used[i]) continue;
    Status s = slices_client_->Delete(ns, MetaString(*existing[i], "name"));
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status();
}

}  // namespace kite::controllers
