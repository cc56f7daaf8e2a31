#include "src/server/scheduler/pod_info.h"

#include "src/server/json/json_util.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;
using rapidjson::Value;

bool AffinityTerm::Matches(const PodInfo& pod, const NamespaceLookup& namespaces_of) const {
  bool in_namespace = namespaces.count(pod.ns) > 0;
  if (!in_namespace && !namespace_selector.IsNothing()) {
    if (namespace_selector.Empty()) {
      in_namespace = true;
    } else if (namespaces_of) {
      ObjectPtr ns = namespaces_of(pod.ns);
      const Value* md = ns ? Member(*ns, "metadata") : nullptr;
      in_namespace = namespace_selector.Matches(md ? Member(*md, "labels") : nullptr);
    }
  }
  return in_namespace && selector.Matches(pod.labels);
}

Result<selection::LabelSelector> SelectorWithLabelKeys(const Value* selector, const Value* match_label_keys,
                                                       const Value* mismatch_label_keys,
                                                       const Value* pod_labels) {
  if (!selector || selector->IsNull()) return selection::LabelSelector::Nothing();
  bool has_keys = (match_label_keys && match_label_keys->IsArray() && !match_label_keys->Empty()) ||
                  (mismatch_label_keys && mismatch_label_keys->IsArray() && !mismatch_label_keys->Empty());
  if (!has_keys || !selector->IsObject()) return selection::LabelSelector::FromJson(*selector);
  rapidjson::Document merged;
  merged.CopyFrom(*selector, merged.GetAllocator());
  auto& a = merged.GetAllocator();
  Value* expressions = json::MutableMember(merged, "matchExpressions");
  if (!expressions || !expressions->IsArray()) {
    json::SetMember(merged, "matchExpressions", Value(rapidjson::kArrayType), a);
    expressions = json::MutableMember(merged, "matchExpressions");
  }
  auto add = [&](const Value* keys, const char* op) {
    if (!keys || !keys->IsArray()) return;
    for (const Value& k : keys->GetArray()) {
      if (!k.IsString() || !pod_labels) continue;
      const Value* v = Member(*pod_labels, std::string_view(k.GetString(), k.GetStringLength()));
      if (!v || !v->IsString()) continue;
      Value e(rapidjson::kObjectType);
      e.AddMember("key", Value(k, a), a);
      e.AddMember("operator", Value(op, a), a);
      Value values(rapidjson::kArrayType);
      values.PushBack(Value(*v, a), a);
      e.AddMember("values", values, a);
      expressions->PushBack(e, a);
    }
  };
  add(match_label_keys, "In");
  add(mismatch_label_keys, "NotIn");
  return selection::LabelSelector::FromJson(merged);
}

namespace {

// One PodAffinityTerm of `pod`; an error message for a malformed selector.
Result<AffinityTerm> ParseTerm(const PodInfo& pod, const Value& term) {
  AffinityTerm t;
  t.topology_key = std::string(StringMember(term, "topologyKey"));
  Result<selection::LabelSelector> selector = SelectorWithLabelKeys(
      Member(term, "labelSelector"), Member(term, "matchLabelKeys"), Member(term, "mismatchLabelKeys"), pod.labels);
  if (!selector.ok()) return selector.status();
  t.selector = std::move(selector).value();
  const Value* names = Member(term, "namespaces");
  const Value* ns_selector = Member(term, "namespaceSelector");
  bool has_names = names && names->IsArray() && !names->Empty();
  if (!has_names && (!ns_selector || ns_selector->IsNull())) {
    t.namespaces.insert(pod.ns);
  } else if (has_names) {
    for (const Value& n : names->GetArray()) {
      if (n.IsString()) t.namespaces.emplace(n.GetString(), n.GetStringLength());
    }
  }
  if (ns_selector && !ns_selector->IsNull()) {
    Result<selection::LabelSelector> s = selection::LabelSelector::FromJson(*ns_selector);
    if (!s.ok()) return s.status();
    t.namespace_selector = std::move(s).value();
  }
  return t;
}

void ParseTerms(PodInfo& pod, const Value* affinity, const char* kind, std::vector<AffinityTerm>* required,
                std::vector<WeightedAffinityTerm>* preferred) {
  const Value* section = affinity ? Member(*affinity, kind) : nullptr;
  if (!section) return;
  auto note = [&](const Status& s) {
    if (pod.parse_error.empty()) pod.parse_error = std::string(kind) + ": " + s.message();
  };
  if (const Value* list = Member(*section, "requiredDuringSchedulingIgnoredDuringExecution");
      list && list->IsArray()) {
    for (const Value& term : list->GetArray()) {
      Result<AffinityTerm> t = ParseTerm(pod, term);
      if (t.ok()) {
        required->push_back(std::move(t).value());
      } else {
        note(t.status());
      }
    }
  }
  if (const Value* list = Member(*section, "preferredDuringSchedulingIgnoredDuringExecution");
      list && list->IsArray()) {
    for (const Value& weighted : list->GetArray()) {
      const Value* term = Member(weighted, "podAffinityTerm");
      const Value* weight = Member(weighted, "weight");
      if (!term) continue;
      Result<AffinityTerm> t = ParseTerm(pod, *term);
      if (!t.ok()) {
        note(t.status());
        continue;
      }
      int64_t w = weight && weight->IsInt64() ? weight->GetInt64() : 0;
      if (w == 0) continue;
      preferred->push_back({std::move(t).value(), w});
    }
  }
}

void AddHostPorts(PodInfo& pod, const Value& container) {
  const Value* ports = Member(container, "ports");
  if (!ports || !ports->IsArray()) return;
  for (const Value& p : ports->GetArray()) {
    const Value* host_port = Member(p, "hostPort");
    if (!host_port || !host_port->IsInt() || host_port->GetInt() <= 0) continue;
    HostPort hp;
    hp.port = host_port->GetInt();
    if (std::string_view ip = StringMember(p, "hostIP"); !ip.empty()) hp.ip = std::string(ip);
    if (std::string_view protocol = StringMember(p, "protocol"); !protocol.empty()) hp.protocol = std::string(protocol);
    pod.host_ports.push_back(std::move(hp));
  }
}

}  // namespace

PodInfoPtr PodInfo::Parse(ObjectPtr object) {
  auto info = std::make_shared<PodInfo>();
  PodInfo& p = *info;
  p.object = std::move(object);
  const Value& pod = *p.object;
  if (const Value* md = Member(pod, "metadata")) {
    p.ns = std::string(StringMember(*md, "namespace"));
    p.name = std::string(StringMember(*md, "name"));
    p.uid = std::string(StringMember(*md, "uid"));
    p.labels = Member(*md, "labels");
    if (p.labels && !p.labels->IsObject()) p.labels = nullptr;
    const Value* deletion = Member(*md, "deletionTimestamp");
    p.terminating = deletion && !deletion->IsNull();
    if (const Value* owners = Member(*md, "ownerReferences"); owners && owners->IsArray()) {
      for (const Value& o : owners->GetArray()) {
        const Value* controller = Member(o, "controller");
        if (controller && controller->IsBool() && controller->GetBool()) {
          p.controller_uid = std::string(StringMember(o, "uid"));
          break;
        }
      }
    }
  }
  p.key = p.ns.empty() ? p.name : p.ns + "/" + p.name;
  if (const Value* status = Member(pod, "status")) p.phase = std::string(StringMember(*status, "phase"));
  const Value* spec = Member(pod, "spec");
  if (spec) {
    p.node_name = std::string(StringMember(*spec, "nodeName"));
    p.scheduler_name = std::string(StringMember(*spec, "schedulerName"));
    const Value* gates = Member(*spec, "schedulingGates");
    p.scheduling_gated = gates && gates->IsArray() && !gates->Empty();
    p.preemption_never = StringMember(*spec, "preemptionPolicy") == "Never";
    if (const Value* priority = Member(*spec, "priority"); priority && priority->IsInt()) {
      p.priority = priority->GetInt();
    }
    if (const Value* inits = Member(*spec, "initContainers"); inits && inits->IsArray()) {
      for (const Value& c : inits->GetArray()) {
        if (StringMember(c, "restartPolicy") == "Always") AddHostPorts(p, c);
      }
    }
    if (const Value* containers = Member(*spec, "containers"); containers && containers->IsArray()) {
      for (const Value& c : containers->GetArray()) AddHostPorts(p, c);
    }
    const Value* affinity = Member(*spec, "affinity");
    if (affinity && affinity->IsObject()) {
      ParseTerms(p, affinity, "podAffinity", &p.required_affinity, &p.preferred_affinity);
      ParseTerms(p, affinity, "podAntiAffinity", &p.required_anti_affinity, &p.preferred_anti_affinity);
    }
  }
  p.requests = PodRequests(pod, false);
  p.non_zero_requests = PodRequests(pod, true);
  p.tolerations = ParseTolerations(pod);
  return info;
}

PodInfoPtr PodInfo::OnNode(std::string node) const {
  auto copy = std::make_shared<PodInfo>(*this);
  copy->node_name = std::move(node);
  return copy;
}

}  // namespace kite::scheduler
