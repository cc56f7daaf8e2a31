// PersistentVolumeClaims and PersistentVolumes.
#include <algorithm>
#include <string>

#include "src/server/admission/kinds.h"
#include "src/server/admission/pod_defaults.h"
#include "src/server/admission/pod_validation.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {
namespace {

const std::vector<std::string> kAccessModes = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                               "ReadWriteOncePod"};

std::string_view Str(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

void CheckAccessModes(Causes& c, const Value* spec, const std::string& path, const char* required_detail) {
  std::string p = Child(path, "accessModes");
  auto modes = GetStringList(&c, spec, "accessModes", p);
  if (!modes || modes->empty()) {
    c.Required(p, required_detail);
    return;
  }
  bool once_pod = false, other = false;
  for (std::string_view m : *modes) {
    bool known = std::find(kAccessModes.begin(), kAccessModes.end(), m) != kAccessModes.end();
    if (!known) c.NotSupported(p, m, kAccessModes);
    if (m == "ReadWriteOncePod") {
      once_pod = true;
    } else if (known) {
      other = true;
    }
  }
  if (once_pod && other) c.Forbidden(p, "may not use ReadWriteOncePod with other access modes");
}

}  // namespace

void ValidatePersistentVolumeClaimSpec(Causes& c, const Value* spec, const std::string& path) {
  CheckAccessModes(c, spec, path, "at least 1 access mode is required");
  if (const Value* selector = GetObject(&c, spec, "selector", Child(path, "selector"))) {
    CheckLabelSelector(c, selector, Child(path, "selector"));
  }
  const Value* resources = GetObject(&c, spec, "resources", Child(path, "resources"));
  const Value* requests = GetObject(&c, resources, "requests", Child(Child(path, "resources"), "requests"));
  std::string storage_path = Key(Child(path, "resources"), "storage");  // sic: Kubernetes' path
  if (Get(requests, "storage") == nullptr) {
    c.Required(storage_path);
  } else if (std::optional<Quantity> q = GetQuantity(&c, requests, "storage", storage_path)) {
    if (q->Sign() <= 0) {
      c.Invalid(storage_path, q->String(), "must be greater than zero");
    } else {
      CheckResourceQuantityValue(c, "storage", *q, storage_path);
    }
  }
  std::optional<std::string_view> cls = GetString(&c, spec, "storageClassName", Child(path, "storageClassName"));
  if (cls && !cls->empty()) c.InvalidEach(Child(path, "storageClassName"), *cls, Dns1123SubdomainErrors(*cls));
  if (std::optional<std::string_view> mode = GetString(&c, spec, "volumeMode", Child(path, "volumeMode"))) {
    if (*mode != "Block" && *mode != "Filesystem") c.NotSupported(Child(path, "volumeMode"), *mode, {"Block", "Filesystem"});
  }
}

void DefaultPersistentVolumeClaim(Value& object, Allocator& a) {
  if (Value* spec = DefaultObject(object, "spec", a)) DefaultPersistentVolumeClaimSpec(*spec, a);
  if (Value* status = DefaultObject(object, "status", a)) DefaultString(*status, "phase", "Pending", a);
}

void ValidatePersistentVolumeClaim(Causes& c, const Value& object, const Value* old, std::string_view sub) {
  if (sub == "status") {
    const Value* spec = Get(&object, "spec");
    auto modes = GetStringList(nullptr, spec, "accessModes", "");
    if (!modes || modes->empty()) c.Required("Spec.accessModes");  // sic
    const Value* status = GetObject(&c, &object, "status", "status");
    const Value* capacity = GetObject(&c, status, "capacity", "status.capacity");
    if (capacity != nullptr) {
      for (const auto& m : capacity->GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        std::string p = Key("status.capacity", name);
        if (std::optional<Quantity> q = GetQuantity(&c, capacity, name, p); q && q->Value() < 0) {
          c.InvalidInt(p, q->Value(), "must be a valid resource quantity");
        }
      }
    }
    return;
  }
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  ValidatePersistentVolumeClaimSpec(c, spec, "spec");
  if (old == nullptr) return;
  const Value* old_spec = Get(old, "spec");
  // What may change: volumeName once, a storage class set where there was none, and (for
  // bound claims) resources.requests.storage. Everything else in spec is immutable.
  rapidjson::Document now(rapidjson::kObjectType), before(rapidjson::kObjectType);
  if (spec != nullptr) now.CopyFrom(*spec, now.GetAllocator());
  if (old_spec != nullptr && old_spec->IsObject()) before.CopyFrom(*old_spec, before.GetAllocator());
  if (json::StringMember(before, "volumeName").empty()) {
    json::RemoveMember(now, "volumeName");
    json::RemoveMember(before, "volumeName");
  }
  if (Get(&before, "storageClassName") == nullptr) json::RemoveMember(now, "storageClassName");
  const Value* status = Get(&object, "status");
  bool bound = status != nullptr && json::StringMember(*status, "phase") == "Bound";
  if (bound) {
    for (rapidjson::Document* d : {&now, &before}) {
      if (Value* r = MutableObject(*d, "resources")) {
        if (Value* req = MutableObject(*r, "requests")) json::RemoveMember(*req, "storage");
      }
    }
  }
  if (!SemanticEqual(&now, &before)) {
    c.Forbidden("spec", "spec is immutable after creation except resources.requests and "
                        "volumeAttributesClassName for bound claims\n" + CompactJson(&now));
  }
  const Value* requests = Get(Get(spec, "resources"), "requests");
  const Value* old_requests = Get(Get(old_spec, "resources"), "requests");
  std::optional<Quantity> size = GetQuantity(nullptr, requests, "storage", "");
  std::optional<Quantity> old_size = GetQuantity(nullptr, old_requests, "storage", "");
  if (size && old_size && size->Compare(*old_size) < 0) {
    c.Forbidden("spec.resources.requests.storage", "field can not be less than previous value");
  }
  const Value* mode = Get(spec, "volumeMode");
  if (!SemanticEqual(mode, Get(old_spec, "volumeMode"))) {
    c.InvalidRaw("volumeMode", mode ? CompactJson(mode) : "null", kFieldImmutableErrorMsg);  // sic
  }
}

void DefaultPersistentVolume(Value& object, Allocator& a) {
  if (Value* spec = DefaultObject(object, "spec", a)) {
    DefaultString(*spec, "persistentVolumeReclaimPolicy", "Retain", a);
    DefaultString(*spec, "volumeMode", "Filesystem", a);
    if (Value* capacity = MutableObject(*spec, "capacity")) DefaultResourceList(*capacity, a);
  }
  if (Value* status = DefaultObject(object, "status", a)) DefaultString(*status, "phase", "Pending", a);
}

void ValidatePersistentVolume(Causes& c, const Value& object, const Value*, std::string_view sub) {
  if (sub == "status") return;
  const Value* spec = GetObject(&c, &object, "spec", "spec");
  CheckAccessModes(c, spec, "spec", "");
  const Value* capacity = GetObject(&c, spec, "capacity", "spec.capacity");
  if (capacity == nullptr || capacity->MemberCount() == 0) c.Required("spec.capacity");
  if (Get(capacity, "storage") == nullptr || (capacity != nullptr && capacity->MemberCount() > 1)) {
    std::string shown = "core.ResourceList{";
    bool first = true;
    if (capacity != nullptr) {
      for (const auto& m : capacity->GetObject()) {
        shown += (first ? "" : ", ") + selection::GoQuote(std::string_view(m.name.GetString(), m.name.GetStringLength())) + ":{...}";
        first = false;
      }
    }
    c.NotSupportedRaw("spec.capacity", shown + "}", {"storage"});
  }
  if (capacity != nullptr) {
    for (const auto& m : capacity->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      std::string p = Key("spec.capacity", name);
      if (std::optional<Quantity> q = GetQuantity(&c, capacity, name, p); q && q->Sign() <= 0) {
        c.Invalid(p, q->String(), "must be greater than zero");
      }
    }
  }
  if (std::optional<std::string_view> policy = GetString(&c, spec, "persistentVolumeReclaimPolicy", "spec.persistentVolumeReclaimPolicy")) {
    if (!policy->empty() && *policy != "Delete" && *policy != "Recycle" && *policy != "Retain") {
      c.NotSupported("spec.persistentVolumeReclaimPolicy", *policy, {"Delete", "Recycle", "Retain"});
    }
  }
  static constexpr const char* kSources[] = {
      "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd",
      "quobyte", "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume",
      "photonPersistentDisk", "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi"};
  int count = 0;
  for (const char* s : kSources) {
    std::string p = Child("spec", s);
    const Value* src = GetObject(&c, spec, s, p);
    if (src == nullptr) continue;
    if (count++ > 0) {
      c.Forbidden(p, "may not specify more than 1 volume type");
      continue;
    }
    std::string_view name = s;
    if (name == "hostPath" || name == "local") {
      if (Str(c, src, "path", Child(p, "path")).empty()) c.Required(Child(p, "path"));
    } else if (name == "nfs") {
      if (Str(c, src, "server", Child(p, "server")).empty()) c.Required(Child(p, "server"));
      std::string_view nfs_path = Str(c, src, "path", Child(p, "path"));
      if (nfs_path.empty()) c.Required(Child(p, "path"));
      if (nfs_path.empty() || nfs_path[0] != '/') c.Invalid(Child(p, "path"), nfs_path, "must be an absolute path");
    } else if (name == "csi") {
      if (Str(c, src, "driver", Child(p, "driver")).empty()) c.Required(Child(p, "driver"));
      if (Str(c, src, "volumeHandle", Child(p, "volumeHandle")).empty()) c.Required(Child(p, "volumeHandle"));
    }
  }
  if (count == 0) c.Required("spec", "must specify a volume type");
  if (Get(spec, "local") != nullptr && Get(spec, "nodeAffinity") == nullptr) {
    c.Required("spec.nodeAffinity", "Local volume requires node affinity");
  }
  if (std::optional<std::string_view> mode = GetString(&c, spec, "volumeMode", "spec.volumeMode")) {
    if (*mode != "Block" && *mode != "Filesystem") c.NotSupported("spec.volumeMode", *mode, {"Block", "Filesystem"});
  }
}

}  // namespace kite::admission
