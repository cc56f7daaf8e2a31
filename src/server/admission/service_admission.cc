// Services: SetDefaults_Service, the service strategy's normalization of clusterIP(s) and
// IP families, ValidateService / ValidateServiceUpdate / ValidateServiceStatusUpdate.
// Allocation (cluster IPs, node ports) is the allocator's job, not this file's.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_set>

#include "src/server/admission/kinds.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {
namespace {

using selection::GoQuote;

std::string_view Str(Causes* c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(c, parent, name, path).value_or("");
}

std::vector<std::string_view> ClusterIps(const Value* spec) {
  return GetStringList(nullptr, spec, "clusterIPs", "").value_or(std::vector<std::string_view>{});
}

bool IsHeadless(const Value* spec) {
  std::vector<std::string_view> ips = ClusterIps(spec);
  return ips.size() == 1 && ips[0] == "None";
}

bool ExternallyAccessible(const Value* spec) {
  std::string_view type = Str(nullptr, spec, "type", "");
  const Value* external_ips = Get(spec, "externalIPs");
  bool has_external = external_ips != nullptr && external_ips->IsArray() && !external_ips->Empty();
  return type == "LoadBalancer" || type == "NodePort" || (type == "ClusterIP" && has_external);
}

bool NeedsHealthCheck(const Value* spec) {
  return Str(nullptr, spec, "type", "") == "LoadBalancer" &&
         Str(nullptr, spec, "externalTrafficPolicy", "") == "Local";
}

bool IsIpv6(std::string_view ip) { return ip.find(':') != std::string_view::npos; }

// Go's %#v of the internal core.ServicePort key Kubernetes reports duplicates with.
std::string GoServicePortKey(std::string_view protocol, int64_t port) {
  return "core.ServicePort{Name:\"\", Protocol:" + GoQuote(protocol) +
         ", AppProtocol:(*string)(nil), Port:" + std::to_string(port) +
         ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
}

void CheckServicePort(Causes& c, const Value* port, bool require_name, std::set<std::string_view>& names,
                      const std::string& path) {
  std::string_view name = Str(&c, port, "name", Child(path, "name"));
  if (require_name && name.empty()) {
    c.Required(Child(path, "name"));
  } else if (!name.empty()) {
    c.InvalidEach(Child(path, "name"), name, Dns1123LabelErrors(name));
    if (!names.insert(name).second) c.Duplicate(Child(path, "name"), name);
  }
  int64_t number = GetInt32(&c, port, "port", Child(path, "port")).value_or(0);
  for (const std::string& m : PortNumErrors(number)) c.InvalidInt(Child(path, "port"), number, m);
  std::string_view protocol = Str(&c, port, "protocol", Child(path, "protocol"));
  if (protocol.empty()) {
    c.Required(Child(path, "protocol"));
  } else if (protocol != "SCTP" && protocol != "TCP" && protocol != "UDP") {
    c.NotSupported(Child(path, "protocol"), protocol, {"SCTP", "TCP", "UDP"});
  }
  std::string tp = Child(path, "targetPort");
  IntOrString target = GetIntOrString(&c, port, "targetPort", tp).value_or(IntOrString{});
  if (target.is_string) {
    c.InvalidEach(tp, target.string_value, PortNameErrors(target.string_value));
  } else {
    for (const std::string& m : PortNumErrors(target.int_value)) c.InvalidInt(tp, target.int_value, m);
  }
  if (std::optional<std::string_view> app = GetString(&c, port, "appProtocol", Child(path, "appProtocol"))) {
    c.InvalidEach(Child(path, "appProtocol"), *app, QualifiedNameErrors(*app));
  }
}

// ValidateServiceClusterIPsRelatedFields.
void CheckClusterIps(Causes& c, const Value* spec) {
  if (Str(nullptr, spec, "type", "") == "ExternalName") return;
  const Value* list = Get(spec, "clusterIPs");
  std::vector<std::string_view> ips = GetStringList(&c, spec, "clusterIPs", "spec.clusterIPs").value_or(std::vector<std::string_view>{});
  std::string_view cluster_ip = Str(&c, spec, "clusterIP", "spec.clusterIP");
  if (!cluster_ip.empty()) {
    if (ips.empty()) {
      c.Required("spec.clusterIPs");
    } else if (ips[0] != cluster_ip) {
      c.InvalidRaw("spec.clusterIPs", GoStringSlice(list), "first value must match `clusterIP`");
    }
  } else if (!ips.empty()) {
    c.InvalidRaw("spec.clusterIPs", GoStringSlice(list), "must be empty when `clusterIP` is not specified");
  }
  std::vector<std::string_view> families =
      GetStringList(&c, spec, "ipFamilies", "spec.ipFamilies").value_or(std::vector<std::string_view>{});
  std::set<std::string_view> seen;
  for (size_t i = 0; i < families.size(); ++i) {
    if (families[i] != "IPv4" && families[i] != "IPv6") {
      c.NotSupported(Index("spec.ipFamilies", i), families[i], {"IPv4", "IPv6"});
    }
    if (!seen.insert(families[i]).second) c.Duplicate(Index("spec.ipFamilies", i), families[i]);
  }
  if (std::optional<std::string_view> policy = GetString(&c, spec, "ipFamilyPolicy", "spec.ipFamilyPolicy")) {
    if (*policy != "SingleStack" && *policy != "PreferDualStack" && *policy != "RequireDualStack") {
      c.NotSupported("spec.ipFamilyPolicy", *policy, {"PreferDualStack", "RequireDualStack", "SingleStack"});
    }
  }
  bool invalid = false;
  for (size_t i = 0; i < ips.size(); ++i) {
    if (i == 0 && ips[i] == "None") {
      if (ips.size() > 1) {
        invalid = true;
        c.InvalidRaw("spec.clusterIPs", GoStringSlice(list), "'None' must be the first and only value");
      }
      continue;
    }
    if (!IsValidIp(ips[i])) {
      invalid = true;
      CheckIp(c, Index("spec.clusterIPs", i), ips[i]);
    }
  }
  if (ips.size() > 2) c.InvalidRaw("spec.clusterIPs", GoStringSlice(list), "may only hold up to 2 values");
  if (invalid) return;
  if (ips.size() > 1 && IsIpv6(ips[0]) == IsIpv6(ips[1])) {
    c.InvalidRaw("spec.clusterIPs", GoStringSlice(list), "may specify no more than one IP for each IP family");
  }
  if (!IsHeadless(spec)) {
    for (size_t i = 0; i < ips.size() && i < families.size(); ++i) {
      if (families[i] == "IPv4" && IsIpv6(ips[i])) {
        c.Invalid(Index("spec.clusterIPs", i), ips[i],
                  "expected an IPv4 value as indicated by `ipFamilies[" + std::to_string(i) + "]`");
      }
      if (families[i] == "IPv6" && !IsIpv6(ips[i])) {
        c.Invalid(Index("spec.clusterIPs", i), ips[i],
                  "expected an IPv6 value as indicated by `ipFamilies[" + std::to_string(i) + "]`");
      }
    }
  }
}

void CheckServiceSpec(Causes& c, const Value* spec) {
  std::string_view type = Str(&c, spec, "type", "spec.type");
  const Value* ports = GetArray(&c, spec, "ports", "spec.ports");
  bool headless = IsHeadless(spec);
  if ((ports == nullptr || ports->Empty()) && !headless && type != "ExternalName") c.Required("spec.ports");
  std::vector<std::string_view> ips = ClusterIps(spec);
  if ((type == "LoadBalancer" || type == "NodePort") && headless) {
    c.Invalid("spec.clusterIPs[0]", ips[0],
              std::string("may not be set to 'None' for ") + std::string(type) + " services");
  } else if (type == "ExternalName") {
    if (!ips.empty()) c.Forbidden("spec.clusterIPs", "may not be set for ExternalName services");
    const Value* families = Get(spec, "ipFamilies");
    if (families != nullptr && families->IsArray() && !families->Empty()) {
      c.Forbidden("spec.ipFamilies", "may not be set for ExternalName services");
    }
    if (Get(spec, "ipFamilyPolicy") != nullptr) c.Forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services");
    std::string_view cname = Str(&c, spec, "externalName", "spec.externalName");
    if (!cname.empty() && cname.back() == '.') cname.remove_suffix(1);
    if (cname.empty()) {
      c.Required("spec.externalName");
    } else {
      c.InvalidEach("spec.externalName", cname, Dns1123SubdomainErrors(cname));
    }
  }
  std::set<std::string_view> names;
  if (ports != nullptr) {
    for (rapidjson::SizeType i = 0; i < ports->Size(); ++i) {
      const Value* port = ElementObject(&c, (*ports)[i], Index("spec.ports", i));
      if (port != nullptr) CheckServicePort(c, port, ports->Size() > 1, names, Index("spec.ports", i));
    }
  }
  CheckLabels(c, spec, "selector", "spec.selector");
  std::string_view affinity = Str(&c, spec, "sessionAffinity", "spec.sessionAffinity");
  if (affinity.empty()) {
    c.Required("spec.sessionAffinity");
  } else if (affinity != "ClientIP" && affinity != "None") {
    c.NotSupported("spec.sessionAffinity", affinity, {"ClientIP", "None"});
  }
  const std::string cp = "spec.sessionAffinityConfig";
  const Value* config = GetObject(&c, spec, "sessionAffinityConfig", cp);
  if (affinity == "ClientIP") {
    const Value* client_ip = GetObject(&c, config, "clientIP", Child(cp, "clientIP"));
    std::optional<int64_t> timeout =
        GetInt32(&c, client_ip, "timeoutSeconds", Child(Child(cp, "clientIP"), "timeoutSeconds"));
    if (config == nullptr) {
      c.Required(cp, "when session affinity type is ClientIP");
    } else if (client_ip == nullptr) {
      c.Required(Child(cp, "clientIP"), "when session affinity type is ClientIP");
    } else if (!timeout) {
      c.Required(Child(Child(cp, "clientIP"), "timeoutSeconds"), "when session affinity type is ClientIP");
    } else if (*timeout <= 0 || *timeout > 86400) {
      c.InvalidInt(Child(Child(cp, "clientIP"), "timeoutSeconds"), *timeout, "must be greater than 0 and less than 86400");
    }
  } else if (affinity == "None" && config != nullptr) {
    c.Forbidden(cp, "must not be set when session affinity is None");
  }
  CheckClusterIps(c, spec);
  if (auto external = GetStringList(&c, spec, "externalIPs", "spec.externalIPs")) {
    for (size_t i = 0; i < external->size(); ++i) CheckIp(c, Index("spec.externalIPs", i), (*external)[i]);
  }
  if (type.empty()) {
    c.Required("spec.type");
  } else if (type != "ClusterIP" && type != "ExternalName" && type != "LoadBalancer" && type != "NodePort") {
    c.NotSupported("spec.type", type, {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"});
  }
  if (ports != nullptr) {
    std::set<std::pair<std::string_view, int64_t>> node_ports, port_keys;
    for (rapidjson::SizeType i = 0; i < ports->Size(); ++i) {
      const Value& port = (*ports)[i];
      if (!port.IsObject()) continue;
      std::string p = Index("spec.ports", i);
      std::string_view protocol = Str(nullptr, &port, "protocol", "");
      int64_t node_port = GetInt32(nullptr, &port, "nodePort", "").value_or(0);
      if (type == "ClusterIP" && node_port != 0) {
        c.Forbidden(Child(p, "nodePort"), "may not be used when `type` is 'ClusterIP'");
      }
      if (node_port != 0 && !node_ports.insert({protocol, node_port}).second) {
        c.DuplicateRaw(Child(p, "nodePort"), std::to_string(node_port));
      }
      int64_t number = GetInt32(nullptr, &port, "port", "").value_or(0);
      if (!port_keys.insert({protocol, number}).second) c.DuplicateRaw(p, GoServicePortKey(protocol, number));
    }
  }
  if (auto ranges = GetStringList(&c, spec, "loadBalancerSourceRanges", "spec.loadBalancerSourceRanges")) {
    if (!ranges->empty()) {
      const std::string rp = "spec.LoadBalancerSourceRanges";  // sic: Kubernetes' own path
      if (type != "LoadBalancer") c.Forbidden(rp, "may only be used when `type` is 'LoadBalancer'");
      for (size_t i = 0; i < ranges->size(); ++i) {
        std::string_view cidr = (*ranges)[i];
        while (!cidr.empty() && cidr.front() == ' ') cidr.remove_prefix(1);
        while (!cidr.empty() && cidr.back() == ' ') cidr.remove_suffix(1);
        if (!IsValidCidr(cidr)) {
          c.Invalid(Index(rp, i), cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
        }
      }
    }
  }
  std::optional<bool> allocate =
      GetBool(&c, spec, "allocateLoadBalancerNodePorts", "spec.allocateLoadBalancerNodePorts");
  if (allocate && type != "LoadBalancer") {
    c.Forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'");
  }
  if (type == "LoadBalancer" && !allocate) c.Required("allocateLoadBalancerNodePorts");
  if (std::optional<std::string_view> lb_class = GetString(&c, spec, "loadBalancerClass", "spec.loadBalancerClass")) {
    if (type == "LoadBalancer") {
      c.InvalidEach("spec.loadBalancerClass", *lb_class, QualifiedNameErrors(*lb_class));
    } else {
      c.Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'");
    }
  }
  std::string_view etp = Str(&c, spec, "externalTrafficPolicy", "spec.externalTrafficPolicy");
  if (!ExternallyAccessible(spec)) {
    if (!etp.empty()) c.Invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services");
  } else if (etp.empty()) {
    c.Required("spec.externalTrafficPolicy");
  } else if (etp != "Cluster" && etp != "Local") {
    c.NotSupported("spec.externalTrafficPolicy", etp, {"Cluster", "Local"});
  }
  int64_t hc = GetInt32(&c, spec, "healthCheckNodePort", "spec.healthCheckNodePort").value_or(0);
  if (!NeedsHealthCheck(spec)) {
    if (hc != 0) {
      c.InvalidInt("spec.healthCheckNodePort", hc,
                   "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    }
  } else if (hc == 0) {
    c.Required("spec.healthCheckNodePort");
  } else {
    for (const std::string& m : PortNumErrors(hc)) c.InvalidInt("spec.healthCheckNodePort", hc, m);
  }
  std::optional<std::string_view> itp = GetString(&c, spec, "internalTrafficPolicy", "spec.internalTrafficPolicy");
  if (!itp && (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP")) {
    c.Required("spec.internalTrafficPolicy");
  }
  if (itp && *itp != "Cluster" && *itp != "Local") {
    c.NotSupported("spec.internalTrafficPolicy", *itp, {"Cluster", "Local"});
  }
  if (std::optional<std::string_view> td = GetString(&c, spec, "trafficDistribution", "spec.trafficDistribution")) {
    if (*td != "PreferClose") c.NotSupported("spec.trafficDistribution", *td, {"PreferClose"});
  }
}

// validateUpgradeDowngradeClusterIPs / IPFamilies, loadBalancerClass and healthCheckNodePort.
void CheckServiceUpdate(Causes& c, const Value* spec, const Value* old_spec) {
  std::string_view type = Str(nullptr, spec, "type", ""), old_type = Str(nullptr, old_spec, "type", "");
  if (type != "ExternalName" && old_type != "ExternalName") {
    std::vector<std::string_view> ips = ClusterIps(spec), old_ips = ClusterIps(old_spec);
    std::string shown = GoStringSlice(Get(spec, "clusterIPs"));
    bool headless = IsHeadless(spec), old_headless = IsHeadless(old_spec);
    if (!(headless && old_headless)) {
      if (ips.size() == old_ips.size()) {
        for (size_t i = 0; i < old_ips.size(); ++i) {
          if (ips[i] != old_ips[i]) c.InvalidRaw(Index("spec.clusterIPs", i), shown, "may not change once set");
        }
      } else if (old_ips.size() > ips.size()) {
        if (ips.empty()) c.InvalidRaw("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset");
        if (!ips.empty() && ips[0] != old_ips[0]) c.InvalidRaw("spec.clusterIPs[0]", shown, "may not change once set");
        if (ips.size() == 1 && Str(nullptr, spec, "ipFamilyPolicy", "") != "SingleStack") {
          const Value* policy = Get(spec, "ipFamilyPolicy");
          c.InvalidRaw("spec.ipFamilyPolicy", policy ? CompactJson(policy) : "null",
                       "must be set to 'SingleStack' when releasing the secondary clusterIP");
        }
      } else if (!old_ips.empty() && ips[0] != old_ips[0]) {
        c.InvalidRaw("spec.clusterIPs[0]", shown, "may not change once set");
      }
    }
    if (headless == old_headless && !headless) {
      auto families = GetStringList(nullptr, spec, "ipFamilies", "").value_or(std::vector<std::string_view>{});
      auto old_families = GetStringList(nullptr, old_spec, "ipFamilies", "").value_or(std::vector<std::string_view>{});
      std::string shown_families = GoStringSlice(Get(spec, "ipFamilies"));
      if (families.size() == old_families.size()) {
        for (size_t i = 0; i < old_families.size(); ++i) {
          if (families[i] != old_families[i]) c.InvalidRaw("spec.ipFamilies[0]", shown_families, "may not change once set");
        }
      } else if (old_families.size() > families.size()) {
        if (ips.empty()) c.InvalidRaw("spec.ipFamilies[0]", shown_families, "primary ipFamily can not be unset");
        if (!families.empty() && families[0] != old_families[0]) c.InvalidRaw("spec.ipFamilies[0]", shown, "may not change once set");
        if (families.size() == 1 && Str(nullptr, spec, "ipFamilyPolicy", "") != "SingleStack") {
          const Value* policy = Get(spec, "ipFamilyPolicy");
          c.InvalidRaw("spec.ipFamilyPolicy", policy ? CompactJson(policy) : "null",
                       "must be set to 'SingleStack' when releasing the secondary ipFamily");
        }
      } else if (!old_families.empty() && !families.empty() && families[0] != old_families[0]) {
        c.InvalidRaw("spec.ipFamilies[0]", shown, "may not change once set");
      }
    }
  }
  if (type == "LoadBalancer" && old_type == "LoadBalancer" &&
      !SemanticEqual(Get(spec, "loadBalancerClass"), Get(old_spec, "loadBalancerClass"))) {
    const Value* cls = Get(spec, "loadBalancerClass");
    c.InvalidRaw("spec.loadBalancerClass", cls ? CompactJson(cls) : "null", "may not change once set");
  }
  if (NeedsHealthCheck(spec) && NeedsHealthCheck(old_spec) &&
      GetInt(nullptr, spec, "healthCheckNodePort", "") != GetInt(nullptr, old_spec, "healthCheckNodePort", "")) {
    c.Forbidden("spec.healthCheckNodePort", "field is immutable");
  }
}

}  // namespace

void DefaultService(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  DefaultString(*spec, "sessionAffinity", "None", a);
  // Copies: short strings live inside the JSON values, which move when members are added.
  std::string affinity(json::StringMember(*spec, "sessionAffinity"));
  if (affinity == "None") {
    json::RemoveMember(*spec, "sessionAffinityConfig");
  } else if (affinity == "ClientIP") {
    Value* config = DefaultObject(*spec, "sessionAffinityConfig", a);
    Value* client_ip = config ? DefaultObject(*config, "clientIP", a) : nullptr;
    if (client_ip) DefaultInt(*client_ip, "timeoutSeconds", 10800, a);
  }
  DefaultString(*spec, "type", "ClusterIP", a);
  if (Value* ports = MutableArray(*spec, "ports")) {
    for (Value& port : ports->GetArray()) {
      if (!port.IsObject()) continue;
      DefaultString(port, "protocol", "TCP", a);
      const Value* target = json::Member(port, "targetPort");
      bool unset = target == nullptr || target->IsNull() || (target->IsInt64() && target->GetInt64() == 0) ||
                   (target->IsString() && target->GetStringLength() == 0);
      const Value* number = json::Member(port, "port");
      if (unset && number != nullptr && number->IsInt()) json::SetMember(port, "targetPort", Value(number->GetInt()), a);
    }
  }
  std::string type(json::StringMember(*spec, "type"));
  if (ExternallyAccessible(spec)) DefaultString(*spec, "externalTrafficPolicy", "Cluster", a);
  if (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP") {
    DefaultString(*spec, "internalTrafficPolicy", "Cluster", a);
  }
  if (type == "LoadBalancer") {
    DefaultBool(*spec, "allocateLoadBalancerNodePorts", true, a);
    if (Value* status = MutableObject(object, "status")) {
      if (Value* lb = MutableObject(*status, "loadBalancer")) {
        if (Value* ingress = MutableArray(*lb, "ingress")) {
          for (Value& i : ingress->GetArray()) {
            if (i.IsObject() && !json::StringMember(i, "ip").empty()) DefaultString(i, "ipMode", "VIP", a);
          }
        }
      }
    }
  }
  if (type == "ExternalName") return;
  // The strategy keeps clusterIP and clusterIPs in step; the REST layer picks the families of
  // this single-stack (IPv4) cluster.
  std::string cluster_ip(json::StringMember(*spec, "clusterIP"));
  const Value* ips = json::Member(*spec, "clusterIPs");
  bool no_ips = ips == nullptr || ips->IsNull() || (ips->IsArray() && ips->Empty());
  if (!cluster_ip.empty() && no_ips) {
    Value list(rapidjson::kArrayType);
    list.PushBack(Value(cluster_ip.c_str(), a), a);
    json::SetMember(*spec, "clusterIPs", std::move(list), a);
  } else if (cluster_ip.empty() && ips != nullptr && ips->IsArray() && !ips->Empty() && (*ips)[0].IsString()) {
    json::SetMember(*spec, "clusterIP", Value((*ips)[0], a), a);
  }
  bool headless_without_selector = IsHeadless(spec) && Get(spec, "selector") == nullptr;
  DefaultString(*spec, "ipFamilyPolicy", headless_without_selector ? "RequireDualStack" : "SingleStack", a);
  const Value* families = json::Member(*spec, "ipFamilies");
  if (families == nullptr || families->IsNull() || (families->IsArray() && families->Empty())) {
    Value list(rapidjson::kArrayType);
    list.PushBack(Value("IPv4"), a);
    json::SetMember(*spec, "ipFamilies", std::move(list), a);
  }
}

void ValidateService(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* status = GetObject(&c, &object, "status", "status");
    const std::string ip = "status.loadBalancer.ingress";
    const Value* ingress = GetArray(&c, GetObject(&c, status, "loadBalancer", "status.loadBalancer"), "ingress", ip);
    if (ingress == nullptr) return;
    for (rapidjson::SizeType i = 0; i < ingress->Size(); ++i) {
      std::string p = Index(ip, i);
      const Value* entry = ElementObject(&c, (*ingress)[i], p);
      if (entry == nullptr) continue;
      std::string_view address = Str(&c, entry, "ip", Child(p, "ip"));
      if (!address.empty()) CheckIp(c, Child(p, "ip"), address);
      std::string_view host = Str(&c, entry, "hostname", Child(p, "hostname"));
      if (!host.empty()) {
        c.InvalidEach(Child(p, "hostname"), host, Dns1123SubdomainErrors(host));
        if (IsValidIp(host)) c.Invalid(Child(p, "hostname"), host, "must be a DNS name, not an IP address");
      }
    }
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  if (old != nullptr) CheckServiceUpdate(c, spec, Get(old, "spec"));
  CheckServiceSpec(c, spec);
}

void PrepareServiceForUpdate(Value& object, const Value& old, Allocator& a) {
  Value* spec = MutableObject(object, "spec");
  const Value* old_spec = Get(&old, "spec");
  if (spec == nullptr || old_spec == nullptr) return;
  std::string type(json::StringMember(*spec, "type"));
  std::string old_type(json::StringMember(*old_spec, "type"));
  bool needs_ip = type != "ExternalName" && old_type != "ExternalName";
  if (needs_ip && json::StringMember(*spec, "clusterIP").empty()) {
    for (const char* f : {"clusterIP", "clusterIPs"}) {
      const Value* v = Get(old_spec, f);
      if (v != nullptr && Get(spec, f) == nullptr) json::SetMember(*spec, f, Value(*v, a), a);
    }
  }
  if (needs_ip) {
    for (const char* f : {"ipFamilies", "ipFamilyPolicy"}) {
      const Value* v = Get(old_spec, f);
      if (v != nullptr && Get(spec, f) == nullptr) json::SetMember(*spec, f, Value(*v, a), a);
    }
  }
  auto needs_node_port = [](std::string_view t) { return t == "NodePort" || t == "LoadBalancer"; };
  if (needs_node_port(type) && needs_node_port(old_type)) {
    Value* ports = MutableArray(*spec, "ports");
    const Value* old_ports = Get(old_spec, "ports");
    if (ports != nullptr && old_ports != nullptr && old_ports->IsArray()) {
      std::map<std::string_view, int64_t> by_name;
      std::unordered_set<int64_t> old_used, new_used;
      for (const Value& p : old_ports->GetArray()) {
        int64_t np = GetInt32(nullptr, &p, "nodePort", "").value_or(0);
        by_name[Str(nullptr, &p, "name", "")] = np;
        if (np != 0) old_used.insert(np);
      }
      for (const Value& p : ports->GetArray()) {
        int64_t np = GetInt32(nullptr, &p, "nodePort", "").value_or(0);
        if (np != 0) new_used.insert(np);
      }
      for (Value& p : ports->GetArray()) {
        if (!p.IsObject() || GetInt32(nullptr, &p, "nodePort", "").value_or(0) != 0) continue;
        auto it = by_name.find(json::StringMember(p, "name"));
        if (it == by_name.end() || it->second == 0) continue;
        bool used = old_used.count(it->second) && new_used.count(it->second);
        if (!used) json::SetMember(p, "nodePort", Value(it->second), a);
      }
    }
  }
  if (NeedsHealthCheck(spec) && NeedsHealthCheck(old_spec) && GetInt(nullptr, spec, "healthCheckNodePort", "").value_or(0) == 0) {
    if (const Value* hc = Get(old_spec, "healthCheckNodePort")) json::SetMember(*spec, "healthCheckNodePort", Value(*hc, a), a);
  }
}

}  // namespace kite::admission
