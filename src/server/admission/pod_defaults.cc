#include "src/server/admission/pod_defaults.h"

#include <cctype>

#include "src/server/admission/quantity.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

constexpr int64_t kDefaultFileMode = 0644;  // 420, the default of every file-projecting source

// Every VolumeSource member; a volume with none of them gets emptyDir.
constexpr const char* kVolumeSources[] = {
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret",
    "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs",
    "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte",
    "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos",
    "csi", "ephemeral", "image"};

template <typename F>
void ForEachObject(Value& parent, const char* name, F&& f) {
  Value* list = MutableArray(parent, name);
  if (list == nullptr) return;
  for (Value& e : list->GetArray()) {
    if (e.IsObject()) f(e);
  }
}

void DefaultFieldRef(Value& holder, Allocator& a) {
  if (Value* ref = MutableObject(holder, "fieldRef")) DefaultString(*ref, "apiVersion", "v1", a);
}

void DefaultHttpGet(Value& handler, Allocator& a) {
  if (Value* http = MutableObject(handler, "httpGet")) {
    DefaultString(*http, "path", "/", a);
    DefaultString(*http, "scheme", "HTTP", a);
  }
}

void DefaultProbe(Value& container, const char* name, Allocator& a) {
  Value* probe = MutableObject(container, name);
  if (probe == nullptr) return;
  DefaultIntZero(*probe, "timeoutSeconds", 1, a);
  DefaultIntZero(*probe, "periodSeconds", 10, a);
  DefaultIntZero(*probe, "successThreshold", 1, a);
  DefaultIntZero(*probe, "failureThreshold", 3, a);
  DefaultHttpGet(*probe, a);
}

void DefaultContainer(Value& c, Allocator& a) {
  const Value* image = json::Member(c, "imagePullPolicy");
  if (image == nullptr || image->IsNull() || (image->IsString() && image->GetStringLength() == 0)) {
    DefaultString(c, "imagePullPolicy", DefaultPullPolicy(json::StringMember(c, "image")), a);
  }
  DefaultString(c, "terminationMessagePath", "/dev/termination-log", a);
  DefaultString(c, "terminationMessagePolicy", "File", a);
  if (Value* resources = DefaultObject(c, "resources", a)) {
    if (Value* limits = MutableObject(*resources, "limits")) DefaultResourceList(*limits, a);
    if (Value* requests = MutableObject(*resources, "requests")) DefaultResourceList(*requests, a);
  }
  ForEachObject(c, "ports", [&](Value& p) { DefaultString(p, "protocol", "TCP", a); });
  ForEachObject(c, "env", [&](Value& e) {
    if (Value* from = MutableObject(e, "valueFrom")) DefaultFieldRef(*from, a);
  });
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    DefaultProbe(c, probe, a);
  }
  if (Value* lifecycle = MutableObject(c, "lifecycle")) {
    for (const char* hook : {"postStart", "preStop"}) {
      if (Value* h = MutableObject(*lifecycle, hook)) DefaultHttpGet(*h, a);
    }
  }
}

void DefaultDownwardApiItems(Value& source, Allocator& a) {
  ForEachObject(source, "items", [&](Value& item) { DefaultFieldRef(item, a); });
}

void DefaultVolume(Value& v, Allocator& a) {
  bool has_source = false;
  for (const char* s : kVolumeSources) {
    const Value* m = json::Member(v, s);
    has_source |= m != nullptr && !m->IsNull();
  }
  if (!has_source) json::SetMember(v, "emptyDir", Value(rapidjson::kObjectType), a);
  for (const char* s : {"secret", "configMap"}) {
    if (Value* src = MutableObject(v, s)) DefaultInt(*src, "defaultMode", kDefaultFileMode, a);
  }
  if (Value* src = MutableObject(v, "downwardAPI")) {
    DefaultInt(*src, "defaultMode", kDefaultFileMode, a);
    DefaultDownwardApiItems(*src, a);
  }
  if (Value* src = MutableObject(v, "projected")) {
    DefaultInt(*src, "defaultMode", kDefaultFileMode, a);
    ForEachObject(*src, "sources", [&](Value& projection) {
      if (Value* token = MutableObject(projection, "serviceAccountToken")) {
        DefaultInt(*token, "expirationSeconds", 3600, a);
      }
      if (Value* dapi = MutableObject(projection, "downwardAPI")) DefaultDownwardApiItems(*dapi, a);
    });
  }
  if (Value* src = MutableObject(v, "hostPath")) DefaultString(*src, "type", "", a);
  if (Value* src = MutableObject(v, "emptyDir")) {
    // Quantities are stored in canonical form.
    Value* limit = json::MutableMember(*src, "sizeLimit");
    std::optional<std::string> text = limit ? QuantityText(*limit) : std::nullopt;
    if (Result<Quantity> q = Quantity::Parse(text.value_or("")); text && q.ok()) limit->SetString(q->String().c_str(), a);
  }
  if (Value* src = MutableObject(v, "ephemeral")) {
    if (Value* tmpl = MutableObject(*src, "volumeClaimTemplate")) {
      if (Value* spec = MutableObject(*tmpl, "spec")) DefaultPersistentVolumeClaimSpec(*spec, a);
    }
  }
}

// distribution/reference grammar, enough to find the tag the way ParseImageName does.
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// alpha-numeric (separator alpha-numeric)*, separator := [_.] | __ | -+
bool IsPathComponent(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  size_t i = 0;
  while (i < s.size()) {
    if (IsLowerAlnum(s[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && !IsLowerAlnum(s[i])) ++i;
    std::string_view sep = s.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
  return true;
}

bool IsDomain(std::string_view s) {
  size_t colon = s.rfind(':');
  std::string_view host = s, port;
  if (colon != std::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
  }
  if (host.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view part = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || part.front() == '-' || part.back() == '-') return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsTag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(s[0])) return false;
  for (char c : s) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsDigest(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view hex = s.substr(colon + 1);
  if (hex.size() < 32) return false;
  return hex.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

}  // namespace

std::string DefaultPullPolicy(std::string_view image) {
  std::string_view rest = image;
  bool digest = false;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    if (!IsDigest(rest.substr(at + 1))) return "IfNotPresent";
    digest = true;
    rest = rest.substr(0, at);
  }
  std::string_view tag;
  size_t colon = rest.rfind(':');
  size_t slash = rest.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!IsTag(tag)) return "IfNotPresent";
  }
  if (rest.empty() || rest.size() > 255) return "IfNotPresent";
  // Split off a domain: the first component when it looks like a host.
  size_t first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      if (!IsDomain(head)) return "IfNotPresent";
      rest = rest.substr(first + 1);
    }
  }
  size_t start = 0;
  while (true) {
    size_t next = rest.find('/', start);
    std::string_view part = rest.substr(start, next == std::string_view::npos ? next : next - start);
    if (!IsPathComponent(part)) return "IfNotPresent";
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  if (tag.empty() && !digest) tag = "latest";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

void DefaultResourceList(Value& list, Allocator& a) {
  if (!list.IsObject()) return;
  for (auto& m : list.GetObject()) {
    std::optional<std::string> text = QuantityText(m.value);
    if (!text) continue;
    Result<Quantity> q = Quantity::Parse(*text);
    if (!q.ok()) continue;
    q->RoundUp(-3);
    m.value.SetString(q->String().c_str(), a);
  }
}

void DefaultPersistentVolumeClaimSpec(Value& spec, Allocator& a) {
  DefaultString(spec, "volumeMode", "Filesystem", a);
  if (Value* resources = MutableObject(spec, "resources")) {
    for (const char* list : {"limits", "requests"}) {
      if (Value* l = MutableObject(*resources, list)) DefaultResourceList(*l, a);
    }
  }
}

void DefaultPodSpec(Value& spec, Allocator& a) {
  if (!spec.IsObject()) return;
  DefaultString(spec, "dnsPolicy", "ClusterFirst", a);
  DefaultString(spec, "restartPolicy", "Always", a);
  DefaultObject(spec, "securityContext", a);
  DefaultInt(spec, "terminationGracePeriodSeconds", 30, a);
  DefaultString(spec, "schedulerName", "default-scheduler", a);
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    ForEachObject(spec, list, [&](Value& c) { DefaultContainer(c, a); });
  }
  ForEachObject(spec, "volumes", [&](Value& v) { DefaultVolume(v, a); });
  if (Value* overhead = MutableObject(spec, "overhead")) DefaultResourceList(*overhead, a);
}

void DefaultPodTemplateSpec(Value& template_spec, Allocator& a) {
  if (!template_spec.IsObject()) return;
  if (Value* md = DefaultObject(template_spec, "metadata", a)) {
    // An empty metav1.Time serializes as null; Kubernetes 1.32 stores it that way.
    if (json::Member(*md, "creationTimestamp") == nullptr) {
      json::SetMember(*md, "creationTimestamp", Value(rapidjson::kNullType), a);
    }
  }
  if (Value* spec = DefaultObject(template_spec, "spec", a)) DefaultPodSpec(*spec, a);
}

void DefaultPod(Value& pod, Allocator& a) {
  Value* spec = DefaultObject(pod, "spec", a);
  if (spec == nullptr) return;
  DefaultPodSpec(*spec, a);
  // SetDefaults_Pod: requests default to limits, per resource.
  for (const char* list : {"containers", "initContainers"}) {
    ForEachObject(*spec, list, [&](Value& c) {
      Value* resources = MutableObject(c, "resources");
      if (resources == nullptr || MutableObject(*resources, "limits") == nullptr) return;
      // Adding "requests" may move "limits" (a sibling), so look it up again after.
      Value* requests = DefaultObject(*resources, "requests", a);
      Value* limits = MutableObject(*resources, "limits");
      if (requests == nullptr || limits == nullptr) return;
      for (const auto& m : limits->GetObject()) {
        std::string_view key(m.name.GetString(), m.name.GetStringLength());
        if (json::Member(*requests, key) == nullptr) json::SetMember(*requests, key, Value(m.value, a), a);
      }
    });
  }
  DefaultBool(*spec, "enableServiceLinks", true, a);
  const Value* host_network = json::Member(*spec, "hostNetwork");
  if (host_network != nullptr && host_network->IsTrue()) {
    for (const char* list : {"containers", "initContainers"}) {
      ForEachObject(*spec, list, [&](Value& c) {
        ForEachObject(c, "ports", [&](Value& p) {
          const Value* container_port = json::Member(p, "containerPort");
          if (container_port != nullptr && container_port->IsInt64()) {
            DefaultIntZero(p, "hostPort", container_port->GetInt64(), a);
          }
        });
      });
    }
  }
  // The Priority admission plugin, when no PriorityClass is named (a named class's value
  // is resolved by the caller, which knows the classes).
  if (json::StringMember(*spec, "priorityClassName").empty()) DefaultInt(*spec, "priority", 0, a);
  DefaultString(*spec, "preemptionPolicy", "PreemptLowerPriority", a);
  // The pod strategy's initial status. (Adding "status" may move "spec": compute first.)
  std::string qos = PodQosClass(*spec);
  if (Value* status = DefaultObject(pod, "status", a)) {
    if (json::StringMember(*status, "phase").empty()) {
      DefaultString(*status, "phase", "Pending", a);
      DefaultString(*status, "qosClass", qos, a);
    }
  }
}

std::string PodQosClass(const Value& spec) {
  bool any = false;
  bool guaranteed = true;
  for (const char* list : {"containers", "initContainers"}) {
    const Value* containers = Get(&spec, list);
    if (containers == nullptr || !containers->IsArray()) continue;
    for (const Value& c : containers->GetArray()) {
      const Value* resources = Get(&c, "resources");
      auto positive = [&](const char* kind, const char* name) -> std::optional<Quantity> {
        const Value* v = Get(Get(resources, kind), name);
        if (v == nullptr) return std::nullopt;
        Result<Quantity> q = Quantity::Parse(QuantityText(*v).value_or(""));
        if (!q.ok() || q->Sign() <= 0) return std::nullopt;
        return *q;
      };
      int limits_found = 0;
      for (const char* r : {"cpu", "memory"}) {
        std::optional<Quantity> req = positive("requests", r);
        std::optional<Quantity> lim = positive("limits", r);
        any |= req.has_value() || lim.has_value();
        if (lim) ++limits_found;
        if (req && (!lim || lim->Compare(*req) != 0)) guaranteed = false;
      }
      if (limits_found != 2) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

}  // namespace kite::admission
