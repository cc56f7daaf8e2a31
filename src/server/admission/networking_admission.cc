// networking.k8s.io/v1: Ingress and NetworkPolicy.
#include <string>

#include "src/server/admission/kinds.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

std::string_view Str(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

constexpr char kWildcardMessage[] =
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which "
    "must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric "
    "character (e.g. '*.example.com', regex used for validation is "
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

void CheckHost(Causes& c, std::string_view host, const std::string& path) {
  if (IsValidIp(host)) c.Invalid(path, host, "must be a DNS name, not an IP address");
  if (host.find('*') != std::string_view::npos) {
    std::vector<std::string> errs;
    if (host.size() > 253) errs.push_back("must be no more than 253 characters");
    if (host.substr(0, 2) != "*." || !Dns1123SubdomainErrors(host.substr(2)).empty()) errs.emplace_back(kWildcardMessage);
    c.InvalidEach(path, host, errs);
  } else {
    c.InvalidEach(path, host, Dns1123SubdomainErrors(host));
  }
}

void CheckBackend(Causes& c, const Value* backend, const std::string& path) {
  const Value* resource = GetObject(&c, backend, "resource", Child(path, "resource"));
  const Value* service = GetObject(&c, backend, "service", Child(path, "service"));
  if (resource != nullptr && service != nullptr) {
    c.Invalid(path, "", "cannot set both resource and service backends");
    return;
  }
  if (resource != nullptr) {
    std::string rp = Child(path, "resource");
    if (Str(c, resource, "kind", Child(rp, "kind")).empty()) c.Required(Child(rp, "kind"));
    if (Str(c, resource, "name", Child(rp, "name")).empty()) c.Required(Child(rp, "name"));
    return;
  }
  if (service == nullptr) {
    c.Invalid(path, "", "resource or service backend is required");
    return;
  }
  std::string sp = Child(path, "service");
  std::string_view name = Str(c, service, "name", Child(sp, "name"));
  if (name.empty()) {
    c.Required(Child(sp, "name"));
  } else {
    c.InvalidEach(Child(sp, "name"), name, Dns1035LabelErrors(name));
  }
  std::string pp = Child(sp, "port");
  const Value* port = GetObject(&c, service, "port", pp);
  std::string_view port_name = Str(c, port, "name", Child(pp, "name"));
  int64_t number = GetInt32(&c, port, "number", Child(pp, "number")).value_or(0);
  if (!port_name.empty() && number != 0) {
    c.Invalid(path, "", "cannot set both port name & port number");
  } else if (!port_name.empty()) {
    c.InvalidEach(Child(pp, "name"), port_name, PortNameErrors(port_name));
  } else if (number != 0) {
    for (const std::string& m : PortNumErrors(number)) c.InvalidInt(Child(pp, "number"), number, m);
  } else {
    c.Required(path, "port name or number is required");
  }
}

void CheckHttpPath(Causes& c, const Value* path_value, const std::string& path) {
  std::optional<std::string_view> type = GetString(&c, path_value, "pathType", Child(path, "pathType"));
  if (!type) {
    c.Required(Child(path, "pathType"), "pathType must be specified");
    return;
  }
  std::string_view p = Str(c, path_value, "path", Child(path, "path"));
  if (*type == "Exact" || *type == "Prefix") {
    if (p.empty() || p[0] != '/') c.Invalid(Child(path, "path"), p, "must be an absolute path");
    if (!p.empty()) {
      for (std::string_view seq : {"//", "/./", "/../", "%2f", "%2F"}) {
        if (p.find(seq) != std::string_view::npos) c.Invalid(Child(path, "path"), p, "must not contain '" + std::string(seq) + "'");
      }
      for (std::string_view suffix : {"/..", "/."}) {
        if (p.size() >= suffix.size() && p.substr(p.size() - suffix.size()) == suffix) {
          c.Invalid(Child(path, "path"), p, "cannot end with '" + std::string(suffix) + "'");
        }
      }
    }
  } else if (*type == "ImplementationSpecific") {
    if (!p.empty() && p[0] != '/') c.Invalid(Child(path, "path"), p, "must be an absolute path");
  } else {
    c.NotSupported(Child(path, "pathType"), *type, {"Exact", "ImplementationSpecific", "Prefix"});
  }
  CheckBackend(c, GetObject(&c, path_value, "backend", Child(path, "backend")), Child(path, "backend"));
}

}  // namespace

void DefaultIngress(Value&, Allocator&) {}

void ValidateIngress(Causes& c, const Value& object, const Value*, std::string_view sub) {
  if (sub == "status") {
    const std::string ip = "status.loadBalancer.ingress";
    const Value* status = GetObject(&c, &object, "status", "status");
    const Value* ingress = GetArray(&c, GetObject(&c, status, "loadBalancer", "status.loadBalancer"), "ingress", ip);
    if (ingress == nullptr) return;
    for (rapidjson::SizeType i = 0; i < ingress->Size(); ++i) {
      const Value* entry = ElementObject(&c, (*ingress)[i], Index(ip, i));
      std::string_view address = Str(c, entry, "ip", Child(Index(ip, i), "ip"));
      if (!address.empty()) CheckIp(c, Child(Index(ip, i), "ip"), address);
    }
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  const Value* rules = GetArray(&c, spec, "rules", "spec.rules");
  const Value* default_backend = GetObject(&c, spec, "defaultBackend", "spec.defaultBackend");
  if ((rules == nullptr || rules->Empty()) && default_backend == nullptr) {
    c.InvalidRaw("spec", rules == nullptr ? "[]networking.IngressRule(nil)" : "[]networking.IngressRule{}",
                 "either `defaultBackend` or `rules` must be specified");
  }
  if (default_backend != nullptr) CheckBackend(c, default_backend, "spec.defaultBackend");
  if (rules != nullptr) {
    for (rapidjson::SizeType i = 0; i < rules->Size(); ++i) {
      std::string rp = Index("spec.rules", i);
      const Value* rule = ElementObject(&c, (*rules)[i], rp);
      if (rule == nullptr) continue;
      std::string_view host = Str(c, rule, "host", Child(rp, "host"));
      if (!host.empty()) CheckHost(c, host, Child(rp, "host"));
      std::string hp = Child(rp, "http");
      const Value* http = GetObject(&c, rule, "http", hp);
      if (http == nullptr) continue;
      const Value* paths = GetArray(&c, http, "paths", Child(hp, "paths"));
      if (paths == nullptr || paths->Empty()) {
        c.Required(Child(hp, "paths"));
        continue;
      }
      for (rapidjson::SizeType j = 0; j < paths->Size(); ++j) {
        std::string pp = Index(Child(hp, "paths"), j);
        if (const Value* p = ElementObject(&c, (*paths)[j], pp)) CheckHttpPath(c, p, pp);
      }
    }
  }
  if (const Value* tls = GetArray(&c, spec, "tls", "spec.tls")) {
    for (rapidjson::SizeType i = 0; i < tls->Size(); ++i) {
      std::string tp = Index("spec.tls", i);
      const Value* entry = ElementObject(&c, (*tls)[i], tp);
      if (auto hosts = GetStringList(&c, entry, "hosts", Child(tp, "hosts"))) {
        for (size_t j = 0; j < hosts->size(); ++j) CheckHost(c, (*hosts)[j], Index(Child(tp, "hosts"), j));
      }
    }
  }
  if (std::optional<std::string_view> cls = GetString(&c, spec, "ingressClassName", "spec.ingressClassName")) {
    c.InvalidEach("spec.ingressClassName", *cls, Dns1123SubdomainErrors(*cls));
    const Value* annotations = Get(Get(&object, "metadata"), "annotations");
    if (std::optional<std::string_view> annotated = GetString(nullptr, annotations, "kubernetes.io/ingress.class", "")) {
      c.Invalid("annotations.kubernetes.io/ingress.class", *annotated, "can not be set when the class field is also set");
    }
  }
}

void DefaultNetworkPolicy(Value& object, Allocator& a) {
  Value* spec = DefaultObject(object, "spec", a);
  if (spec == nullptr) return;
  bool has_egress = false;
  for (const char* direction : {"ingress", "egress"}) {
    Value* rules = MutableArray(*spec, direction);
    if (rules == nullptr) continue;
    has_egress |= std::string_view(direction) == "egress" && !rules->Empty();
    for (Value& rule : rules->GetArray()) {
      Value* ports = rule.IsObject() ? MutableArray(rule, "ports") : nullptr;
      if (ports == nullptr) continue;
      for (Value& p : ports->GetArray()) DefaultString(p, "protocol", "TCP", a);
    }
  }
  const Value* types = Get(spec, "policyTypes");
  if (types == nullptr || (types->IsArray() && types->Empty())) {
    Value list(rapidjson::kArrayType);
    list.PushBack(Value("Ingress"), a);
    if (has_egress) list.PushBack(Value("Egress"), a);
    json::SetMember(*spec, "policyTypes", std::move(list), a);
  }
}

void ValidateNetworkPolicy(Causes& c, const Value& object, const Value*, std::string_view) {
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckLabelSelector(c, GetObject(&c, spec, "podSelector", "spec.podSelector"), "spec.podSelector");
  for (const char* direction : {"ingress", "egress"}) {
    std::string dp = Child("spec", direction);
    const Value* rules = GetArray(&c, spec, direction, dp);
    if (rules == nullptr) continue;
    for (rapidjson::SizeType i = 0; i < rules->Size(); ++i) {
      std::string rp = Index(dp, i);
      const Value* rule = ElementObject(&c, (*rules)[i], rp);
      const Value* ports = GetArray(&c, rule, "ports", Child(rp, "ports"));
      if (ports != nullptr) {
        for (rapidjson::SizeType j = 0; j < ports->Size(); ++j) {
          std::string pp = Index(Child(rp, "ports"), j);
          const Value* port = ElementObject(&c, (*ports)[j], pp);
          if (port == nullptr) continue;
          std::string_view protocol = Str(c, port, "protocol", Child(pp, "protocol"));
          if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
            c.NotSupported(Child(pp, "protocol"), protocol, {"SCTP", "TCP", "UDP"});
          }
          if (std::optional<IntOrString> v = GetIntOrString(&c, port, "port", Child(pp, "port"))) {
            if (v->is_string) {
              c.InvalidEach(Child(pp, "port"), v->string_value, PortNameErrors(v->string_value));
            } else {
              for (const std::string& m : PortNumErrors(v->int_value)) c.InvalidInt(Child(pp, "port"), v->int_value, m);
            }
          }
        }
      }
      const char* peers_name = std::string_view(direction) == "ingress" ? "from" : "to";
      std::string peers_path = Child(rp, peers_name);
      const Value* peers = GetArray(&c, rule, peers_name, peers_path);
      if (peers == nullptr) continue;
      for (rapidjson::SizeType j = 0; j < peers->Size(); ++j) {
        std::string pp = Index(peers_path, j);
        const Value* peer = ElementObject(&c, (*peers)[j], pp);
        if (peer == nullptr) continue;
        int count = 0;
        for (const char* f : {"podSelector", "namespaceSelector"}) {
          if (const Value* s = GetObject(&c, peer, f, Child(pp, f))) {
            ++count;
            CheckLabelSelector(c, s, Child(pp, f));
          }
        }
        if (const Value* block = GetObject(&c, peer, "ipBlock", Child(pp, "ipBlock"))) {
          ++count;
          std::string bp = Child(pp, "ipBlock");
          std::string_view cidr = Str(c, block, "cidr", Child(bp, "cidr"));
          if (cidr.empty()) {
            c.Required(Child(bp, "cidr"));
          } else if (!IsValidCidr(cidr)) {
            c.Invalid(Child(bp, "cidr"), cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
          }
        }
        if (count == 0) c.Required(pp, "must specify a peer");
        if (Get(peer, "ipBlock") != nullptr && count > 1) {
          c.Forbidden(pp, "may not specify both ipBlock and another peer");
        }
      }
    }
  }
  if (auto types = GetStringList(&c, spec, "policyTypes", "spec.policyTypes")) {
    for (size_t i = 0; i < types->size(); ++i) {
      if ((*types)[i] != "Ingress" && (*types)[i] != "Egress") {
        c.NotSupported(Index("spec.policyTypes", i), (*types)[i], {"Ingress", "Egress"});
      }
    }
    if (types->size() > 2) c.InvalidRaw("spec.policyTypes", GoStringSlice(Get(spec, "policyTypes")), "may not specify more than two policyTypes");
  }
}

}  // namespace kite::admission
