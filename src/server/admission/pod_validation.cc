#include "src/server/admission/pod_validation.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "src/server/admission/kinds.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr char kFileModeError[] = "must be a number between 0 and 0777 (octal), both inclusive";
constexpr char kOnlyOneVolumeType[] = "may not specify more than 1 volume type";

// Volumes that passed validation, by name; true for claim-backed ones.
using VolumeSet = std::unordered_map<std::string, bool>;

std::string_view Str(Causes& c, const Value* parent, std::string_view name,
                     const std::string& path) {
  return GetString(&c, parent, name, path).value_or("");
}

// validateLocalDescendingPath / validatePathNoBacksteps / ValidateLocalNonReservedPath.
void CheckNoBacksteps(Causes& c, std::string_view target, const std::string& path) {
  size_t start = 0;
  while (true) {
    size_t slash = target.find_first_of("/\\", start);
    std::string_view part = target.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part == "..") {
      c.Invalid(path, target, "must not contain '..'");
      return;
    }
    if (slash == std::string_view::npos) return;
    start = slash + 1;
  }
}

void CheckLocalDescendingPath(Causes& c, std::string_view target, const std::string& path) {
  if (!target.empty() && target[0] == '/') c.Invalid(path, target, "must be a relative path");
  CheckNoBacksteps(c, target, path);
}

void CheckLocalNonReservedPath(Causes& c, std::string_view target, const std::string& path) {
  CheckLocalDescendingPath(c, target, path);
  if (target.substr(0, 2) == ".." && target.substr(0, 3) != "../") {
    c.Invalid(path, target, "must not start with '..'");
  }
}

void CheckFileMode(Causes& c, const Value* parent, std::string_view name, const std::string& path) {
  std::optional<int64_t> mode = GetInt32(&c, parent, name, path);
  if (mode && (*mode > 0777 || *mode < 0)) c.InvalidInt(path, *mode, kFileModeError);
}

void CheckKeyToPaths(Causes& c, const Value* source, const std::string& path) {
  std::string items_path = Child(path, "items");
  const Value* items = GetArray(&c, source, "items", items_path);
  if (items == nullptr) return;
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    std::string p = Index(items_path, i);
    const Value* kp = ElementObject(&c, (*items)[i], p);
    if (kp == nullptr) continue;
    if (Str(c, kp, "key", Child(p, "key")).empty()) c.Required(Child(p, "key"));
    std::string_view target = Str(c, kp, "path", Child(p, "path"));
    if (target.empty()) c.Required(Child(p, "path"));
    CheckLocalNonReservedPath(c, target, Child(p, "path"));
    CheckFileMode(c, kp, "mode", Child(p, "mode"));
  }
}

// apimachinery's NameIsDNSSubdomain with the prefix rule (a trailing '-' is allowed).
std::vector<std::string> SubdomainNameErrors(std::string_view name, bool prefix) {
  std::string masked(name);
  if (prefix && !masked.empty() && masked.back() == '-') masked.back() = 'a';
  return Dns1123SubdomainErrors(masked);
}

const std::vector<std::string> kVolumeDownwardPaths = {"metadata.annotations", "metadata.labels",
                                                       "metadata.name", "metadata.namespace",
                                                       "metadata.uid"};
const std::vector<std::string> kEnvDownwardPaths = {
    "metadata.name",   "metadata.namespace", "metadata.uid",  "spec.nodeName",
    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
    "status.podIPs"};
const std::vector<std::string> kResourceFieldPaths = {
    "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
    "requests.cpu", "requests.ephemeral-storage", "requests.memory"};

// validateObjectFieldSelector.
void CheckObjectFieldSelector(Causes& c, const Value* ref, const std::vector<std::string>& allowed,
                              const std::string& path) {
  std::string_view api_version = Str(c, ref, "apiVersion", Child(path, "apiVersion"));
  if (api_version.empty()) {
    c.Required(Child(path, "apiVersion"));
    return;
  }
  std::string_view field_path = Str(c, ref, "fieldPath", Child(path, "fieldPath"));
  if (field_path.empty()) {
    c.Required(Child(path, "fieldPath"));
    return;
  }
  // podshelper.ConvertDownwardAPIFieldLabel.
  std::string error;
  std::string_view base = field_path, subscript;
  bool subscripted = false;
  if (size_t open = field_path.find("['");
      open != std::string_view::npos && field_path.size() >= 2 &&
      field_path.substr(field_path.size() - 2) == "']") {
    subscripted = true;
    base = field_path.substr(0, open);
    subscript = field_path.substr(open + 2, field_path.size() - open - 4);
  }
  std::string converted(base);
  if (api_version != "v1") {
    error = "unsupported pod version: " + std::string(api_version);
  } else if (subscripted) {
    if (base != "metadata.annotations" && base != "metadata.labels") {
      error = "field label does not support subscript: " + std::string(field_path);
    }
  } else if (field_path == "spec.host") {
    converted = "spec.nodeName";
  } else {
    static const std::unordered_set<std::string_view> kKnown = {
        "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
        "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
        "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs",
        "status.podIP", "status.podIPs"};
    if (!kKnown.count(field_path)) error = "field label not supported: " + std::string(field_path);
  }
  if (!error.empty()) {
    c.Invalid(Child(path, "fieldPath"), field_path, "error converting fieldPath: " + error);
    return;
  }
  if (subscripted) {
    std::string key(subscript);
    if (base == "metadata.annotations") {
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    }
    c.InvalidEach(path, key, QualifiedNameErrors(key));
  } else if (std::find(allowed.begin(), allowed.end(), converted) == allowed.end()) {
    c.NotSupported(Child(path, "fieldPath"), converted, allowed);
  }
}

void CheckResourceFieldSelector(Causes& c, const Value* ref, bool volume, const std::string& path) {
  std::string_view resource = Str(c, ref, "resource", Child(path, "resource"));
  if (volume && Str(c, ref, "containerName", Child(path, "containerName")).empty()) {
    c.Required(Child(path, "containerName"));
  } else if (resource.empty()) {
    c.Required(Child(path, "resource"));
  } else if (std::find(kResourceFieldPaths.begin(), kResourceFieldPaths.end(), resource) ==
                 kResourceFieldPaths.end() &&
             resource.substr(0, 18) != "requests.hugepages" && resource.substr(0, 16) != "limits.hugepages") {
    c.NotSupported(Child(path, "resource"), resource, kResourceFieldPaths);
  }
  GetQuantity(&c, ref, "divisor", Child(path, "divisor"));
}

void CheckDownwardApiFile(Causes& c, const Value* file, const std::string& path,
                          const std::string& item_path) {
  std::string_view target = Str(c, file, "path", Child(item_path, "path"));
  if (target.empty()) c.Required(Child(path, "path"));
  CheckLocalNonReservedPath(c, target, Child(path, "path"));
  const Value* field_ref = GetObject(&c, file, "fieldRef", Child(item_path, "fieldRef"));
  const Value* resource_ref = GetObject(&c, file, "resourceFieldRef", Child(item_path, "resourceFieldRef"));
  if (field_ref != nullptr) {
    CheckObjectFieldSelector(c, field_ref, kVolumeDownwardPaths, Child(path, "fieldRef"));
    if (resource_ref != nullptr) {
      c.Invalid(path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously");
    }
  } else if (resource_ref != nullptr) {
    CheckResourceFieldSelector(c, resource_ref, true, Child(path, "resourceFieldRef"));
  } else {
    c.Required(path, "one of fieldRef and resourceFieldRef is required");
  }
  CheckFileMode(c, file, "mode", Child(path, "mode"));
}

// Kubernetes reports downwardAPI items at the source's path, not the item's.
void CheckDownwardApiItems(Causes& c, const Value* source, const std::string& path) {
  std::string items_path = Child(path, "items");
  const Value* items = GetArray(&c, source, "items", items_path);
  if (items == nullptr) return;
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    const Value* file = ElementObject(&c, (*items)[i], Index(items_path, i));
    if (file != nullptr) CheckDownwardApiFile(c, file, path, Index(items_path, i));
  }
}

void CheckProjected(Causes& c, const Value* projected, const std::string& path) {
  CheckFileMode(c, projected, "defaultMode", Child(path, "defaultMode"));
  std::string sources_path = Child(path, "sources");
  const Value* sources = GetArray(&c, projected, "sources", sources_path);
  if (sources == nullptr) return;
  for (rapidjson::SizeType i = 0; i < sources->Size(); ++i) {
    std::string src_path = Index(sources_path, i);
    const Value* src = ElementObject(&c, (*sources)[i], src_path);
    if (src == nullptr) continue;
    int count = 0;
    for (const char* kind : {"secret", "configMap"}) {
      std::string p = Child(src_path, kind);
      const Value* s = GetObject(&c, src, kind, p);
      if (s == nullptr) continue;
      ++count;
      if (Str(c, s, "name", Child(p, "name")).empty()) c.Required(Child(p, "name"));
      CheckKeyToPaths(c, s, p);
    }
    if (const Value* d = GetObject(&c, src, "downwardAPI", Child(src_path, "downwardAPI"))) {
      ++count;
      CheckDownwardApiItems(c, d, Child(src_path, "downwardAPI"));
    }
    std::string token_path = Child(src_path, "serviceAccountToken");
    if (const Value* t = GetObject(&c, src, "serviceAccountToken", token_path)) {
      ++count;
      int64_t seconds = GetInt(&c, t, "expirationSeconds", Child(token_path, "expirationSeconds")).value_or(0);
      if (seconds < 600) {
        c.InvalidInt(Child(token_path, "expirationSeconds"), seconds,
                     "may not specify a duration less than 10 minutes");
      }
      if (seconds > (int64_t{1} << 32)) {
        c.InvalidInt(Child(token_path, "expirationSeconds"), seconds,
                     "may not specify a duration larger than 2^32 seconds");
      }
      std::string_view target = Str(c, t, "path", Child(token_path, "path"));
      if (target.empty()) {
        c.Required(Child(path, "path"));
      } else {
        CheckLocalNonReservedPath(c, target, Child(path, "path"));
      }
    }
    if (GetObject(&c, src, "clusterTrustBundle", Child(src_path, "clusterTrustBundle"))) ++count;
    if (count > 1) c.Forbidden(src_path, "may not specify more than 1 volume type per source");
  }
}

// validateVolumeSource: exactly one source, and the checks of the common ones.
void CheckVolumeSource(Causes& c, const Value& v, const std::string& path, bool& is_claim) {
  // The order and the names in "more than 1" errors are Kubernetes' own (including its
  // "cephFS" and "downwarAPI" spellings).
  static constexpr struct {
    const char* field;
    const char* forbidden_name;
  } kSources[] = {{"emptyDir", "emptyDir"},
                  {"hostPath", "hostPath"},
                  {"gitRepo", "gitRepo"},
                  {"gcePersistentDisk", "gcePersistentDisk"},
                  {"awsElasticBlockStore", "awsElasticBlockStore"},
                  {"secret", "secret"},
                  {"nfs", "nfs"},
                  {"iscsi", "iscsi"},
                  {"glusterfs", "glusterfs"},
                  {"flocker", "flocker"},
                  {"persistentVolumeClaim", "persistentVolumeClaim"},
                  {"rbd", "rbd"},
                  {"cinder", "cinder"},
                  {"cephfs", "cephFS"},
                  {"quobyte", "quobyte"},
                  {"downwardAPI", "downwarAPI"},
                  {"fc", "fc"},
                  {"flexVolume", "flexVolume"},
                  {"configMap", "configMap"},
                  {"azureFile", "azureFile"},
                  {"vsphereVolume", "vsphereVolume"},
                  {"photonPersistentDisk", "photonPersistentDisk"},
                  {"portworxVolume", "portworxVolume"},
                  {"azureDisk", "azureDisk"},
                  {"storageos", "storageos"},
                  {"projected", "projected"},
                  {"scaleIO", "scaleIO"},
                  {"csi", "csi"},
                  {"ephemeral", "ephemeral"},
                  {"image", "image"}};
  int count = 0;
  for (const auto& s : kSources) {
    std::string p = Child(path, s.field);
    const Value* src = GetObject(&c, &v, s.field, p);
    if (src == nullptr) continue;
    if (count > 0) {
      c.Forbidden(Child(path, s.forbidden_name), kOnlyOneVolumeType);
      continue;
    }
    ++count;
    std::string_view field = s.field;
    if (field == "emptyDir") {
      std::optional<Quantity> limit = GetQuantity(&c, src, "sizeLimit", Child(p, "sizeLimit"));
      if (limit && limit->Sign() < 0) {
        c.Forbidden(Child(p, "sizeLimit"), "SizeLimit field must be a valid resource quantity");
      }
    } else if (field == "hostPath") {
      std::string_view host_path = Str(c, src, "path", Child(p, "path"));
      if (host_path.empty()) {
        c.Required(Child(p, "path"));
        continue;
      }
      CheckNoBacksteps(c, host_path, Child(p, "path"));
      std::optional<std::string_view> type = GetString(&c, src, "type", Child(p, "type"));
      static const std::vector<std::string> kTypes = {
          "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
          "FileOrCreate", "Socket"};
      if (type && std::find(kTypes.begin(), kTypes.end(), *type) == kTypes.end()) {
        c.NotSupported(Child(p, "type"), *type, kTypes);
      }
    } else if (field == "gitRepo") {
      if (Str(c, src, "repository", Child(p, "repository")).empty()) c.Required(Child(p, "repository"));
      CheckLocalDescendingPath(c, Str(c, src, "directory", Child(p, "directory")), Child(p, "directory"));
    } else if (field == "secret") {
      if (Str(c, src, "secretName", Child(p, "secretName")).empty()) c.Required(Child(p, "secretName"));
      CheckFileMode(c, src, "defaultMode", Child(p, "defaultMode"));
      CheckKeyToPaths(c, src, p);
    } else if (field == "configMap") {
      if (Str(c, src, "name", Child(p, "name")).empty()) c.Required(Child(p, "name"));
      CheckFileMode(c, src, "defaultMode", Child(p, "defaultMode"));
      CheckKeyToPaths(c, src, p);
    } else if (field == "persistentVolumeClaim") {
      is_claim = true;
      if (Str(c, src, "claimName", Child(p, "claimName")).empty()) c.Required(Child(p, "claimName"));
    } else if (field == "nfs") {
      if (Str(c, src, "server", Child(p, "server")).empty()) c.Required(Child(p, "server"));
      std::string_view nfs_path = Str(c, src, "path", Child(p, "path"));
      if (nfs_path.empty()) c.Required(Child(p, "path"));
      if (nfs_path.empty() || nfs_path[0] != '/') c.Invalid(Child(p, "path"), nfs_path, "must be an absolute path");
    } else if (field == "downwardAPI") {
      CheckFileMode(c, src, "defaultMode", Child(p, "defaultMode"));
      CheckDownwardApiItems(c, src, p);
    } else if (field == "projected") {
      CheckProjected(c, src, p);
    } else if (field == "csi") {
      std::string_view driver = Str(c, src, "driver", Child(p, "driver"));
      if (driver.empty()) c.Required(Child(p, "driver"));
      if (driver.size() > 63) c.TooLong(Child(p, "driver"), 63);
      std::string lower(driver);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      c.InvalidEach(Child(p, "driver"), driver, Dns1123SubdomainErrors(lower));
    } else if (field == "ephemeral") {
      is_claim = true;
      std::string tp = Child(p, "volumeClaimTemplate");
      const Value* tmpl = GetObject(&c, src, "volumeClaimTemplate", tp);
      if (tmpl == nullptr) {
        c.Required(tp);
      } else {
        const Value* md = GetObject(&c, tmpl, "metadata", Child(tp, "metadata"));
        CheckAnnotations(c, md, "annotations", Child(Child(tp, "metadata"), "annotations"));
        CheckLabels(c, md, "labels", Child(Child(tp, "metadata"), "labels"));
        ValidatePersistentVolumeClaimSpec(c, GetObject(&c, tmpl, "spec", Child(tp, "spec")), Child(tp, "spec"));
      }
    }
  }
  if (count == 0) c.Required(path, "must specify a volume type");
}

VolumeSet CheckVolumes(Causes& c, const Value& spec, const std::string& spec_path) {
  VolumeSet volumes;
  std::string path = Child(spec_path, "volumes");
  const Value* list = GetArray(&c, &spec, "volumes", path);
  if (list == nullptr) return volumes;
  std::unordered_set<std::string> names;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* v = ElementObject(&c, (*list)[i], p);
    if (v == nullptr) continue;
    Causes errors;
    bool is_claim = false;
    CheckVolumeSource(errors, *v, p, is_claim);
    std::string name(Str(errors, v, "name", Child(p, "name")));
    if (name.empty()) {
      errors.Required(Child(p, "name"));
    } else {
      errors.InvalidEach(Child(p, "name"), name, Dns1123LabelErrors(name));
    }
    if (names.count(name)) errors.Duplicate(Child(p, "name"), name);
    if (errors.size() == 0) {
      names.insert(name);
      volumes.emplace(name, is_claim);
    } else {
      for (StatusCause& cause : errors.list()) c.Add(std::move(cause));
    }
  }
  return volumes;
}

void CheckPorts(Causes& c, const Value* container, const std::string& cpath) {
  std::string path = Child(cpath, "ports");
  const Value* ports = GetArray(&c, container, "ports", path);
  if (ports == nullptr) return;
  std::unordered_set<std::string_view> names;
  static const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};
  for (rapidjson::SizeType i = 0; i < ports->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* port = ElementObject(&c, (*ports)[i], p);
    if (port == nullptr) continue;
    std::string_view name = Str(c, port, "name", Child(p, "name"));
    if (!name.empty()) {
      std::vector<std::string> errs = PortNameErrors(name);
      if (!errs.empty()) {
        c.InvalidEach(Child(p, "name"), name, errs);
      } else if (!names.insert(name).second) {
        c.Duplicate(Child(p, "name"), name);
      }
    }
    int64_t container_port = GetInt32(&c, port, "containerPort", Child(p, "containerPort")).value_or(0);
    if (container_port == 0) {
      c.Required(Child(p, "containerPort"));
    } else {
      for (const std::string& m : PortNumErrors(container_port)) c.InvalidInt(Child(p, "containerPort"), container_port, m);
    }
    int64_t host_port = GetInt32(&c, port, "hostPort", Child(p, "hostPort")).value_or(0);
    if (host_port != 0) {
      for (const std::string& m : PortNumErrors(host_port)) c.InvalidInt(Child(p, "hostPort"), host_port, m);
    }
    std::string_view protocol = Str(c, port, "protocol", Child(p, "protocol"));
    if (protocol.empty()) {
      c.Required(Child(p, "protocol"));
    } else if (std::find(kProtocols.begin(), kProtocols.end(), protocol) == kProtocols.end()) {
      c.NotSupported(Child(p, "protocol"), protocol, kProtocols);
    }
  }
}

void CheckKeySelector(Causes& c, const Value* ref, const std::string& path) {
  std::string_view name = Str(c, ref, "name", Child(path, "name"));
  c.InvalidEach(Child(path, "name"), name, SubdomainNameErrors(name, false));
  std::string_view key = Str(c, ref, "key", Child(path, "key"));
  if (key.empty()) {
    c.Required(Child(path, "key"));
  } else {
    c.InvalidEach(Child(path, "key"), key, ConfigMapKeyErrors(key));
  }
}

void CheckEnv(Causes& c, const Value* container, const std::string& cpath) {
  std::string path = Child(cpath, "env");
  const Value* env = GetArray(&c, container, "env", path);
  if (env != nullptr) {
    for (rapidjson::SizeType i = 0; i < env->Size(); ++i) {
      std::string p = Index(path, i);
      const Value* e = ElementObject(&c, (*env)[i], p);
      if (e == nullptr) continue;
      std::string_view name = Str(c, e, "name", Child(p, "name"));
      if (name.empty()) {
        c.Required(Child(p, "name"));
      } else {
        c.InvalidEach(Child(p, "name"), name, EnvVarNameErrors(name));
      }
      std::string fp = Child(p, "valueFrom");
      const Value* from = GetObject(&c, e, "valueFrom", fp);
      if (from == nullptr) continue;
      int sources = 0;
      if (const Value* r = GetObject(&c, from, "fieldRef", Child(fp, "fieldRef"))) {
        ++sources;
        CheckObjectFieldSelector(c, r, kEnvDownwardPaths, Child(fp, "fieldRef"));
      }
      if (const Value* r = GetObject(&c, from, "resourceFieldRef", Child(fp, "resourceFieldRef"))) {
        ++sources;
        CheckResourceFieldSelector(c, r, false, Child(fp, "resourceFieldRef"));
      }
      for (const char* kind : {"configMapKeyRef", "secretKeyRef"}) {
        if (const Value* r = GetObject(&c, from, kind, Child(fp, kind))) {
          ++sources;
          CheckKeySelector(c, r, Child(fp, kind));
        }
      }
      if (sources == 0) {
        c.Invalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
      } else if (!Str(c, e, "value", Child(p, "value")).empty()) {
        c.Invalid(fp, "", "may not be specified when `value` is not empty");
      } else if (sources > 1) {
        c.Invalid(fp, "", "may not have more than one field specified at a time");
      }
    }
  }
  path = Child(cpath, "envFrom");
  const Value* env_from = GetArray(&c, container, "envFrom", path);
  if (env_from == nullptr) return;
  for (rapidjson::SizeType i = 0; i < env_from->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* e = ElementObject(&c, (*env_from)[i], p);
    if (e == nullptr) continue;
    std::string_view prefix = Str(c, e, "prefix", Child(p, "prefix"));
    if (!prefix.empty()) c.InvalidEach(Child(p, "prefix"), prefix, EnvVarNameErrors(prefix));
    int sources = 0;
    for (const char* kind : {"configMapRef", "secretRef"}) {
      std::string rp = Child(p, kind);
      const Value* r = GetObject(&c, e, kind, rp);
      if (r == nullptr) continue;
      ++sources;
      std::string_view name = Str(c, r, "name", Child(rp, "name"));
      if (name.empty()) {
        c.Required(Child(rp, "name"));
      } else {
        c.InvalidEach(Child(rp, "name"), name, SubdomainNameErrors(name, true));
      }
    }
    if (sources == 0) {
      c.Invalid(path, "", "must specify one of: `configMapRef` or `secretRef`");
    } else if (sources > 1) {
      c.Invalid(path, "", "may not have more than one field specified at a time");
    }
  }
}

bool IsPrivileged(const Value* container) {
  const Value* sc = Get(container, "securityContext");
  const Value* privileged = Get(sc, "privileged");
  return privileged != nullptr && privileged->IsTrue();
}

void CheckVolumeMounts(Causes& c, const Value* container, const VolumeSet& volumes,
                       const std::string& cpath) {
  std::string path = Child(cpath, "volumeMounts");
  const Value* mounts = GetArray(&c, container, "volumeMounts", path);
  if (mounts == nullptr) return;
  std::unordered_set<std::string_view> mount_points;
  for (rapidjson::SizeType i = 0; i < mounts->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* m = ElementObject(&c, (*mounts)[i], p);
    if (m == nullptr) continue;
    std::string_view name = Str(c, m, "name", Child(p, "name"));
    if (name.empty()) c.Required(Child(p, "name"));
    if (!volumes.count(std::string(name))) c.NotFound(Child(p, "name"), name);
    std::string_view mount_path = Str(c, m, "mountPath", Child(p, "mountPath"));
    if (mount_path.empty()) c.Required(Child(p, "mountPath"));
    if (!mount_points.insert(mount_path).second) c.Invalid(Child(p, "mountPath"), mount_path, "must be unique");
    // Kubernetes reports subPath problems at the list's path, not the mount's.
    std::string_view sub_path = Str(c, m, "subPath", Child(p, "subPath"));
    if (!sub_path.empty()) CheckLocalDescendingPath(c, sub_path, Child(path, "subPath"));
    std::string_view sub_path_expr = Str(c, m, "subPathExpr", Child(p, "subPathExpr"));
    if (!sub_path_expr.empty()) {
      if (!sub_path.empty()) {
        c.Invalid(Child(p, "subPathExpr"), sub_path_expr, "subPathExpr and subPath are mutually exclusive");
      }
      CheckLocalDescendingPath(c, sub_path_expr, Child(path, "subPathExpr"));
    }
    if (std::optional<std::string_view> prop = GetString(&c, m, "mountPropagation", Child(p, "mountPropagation"))) {
      static const std::vector<std::string> kModes = {"Bidirectional", "HostToContainer", "None"};
      std::string pp = Child(path, "mountPropagation");
      if (std::find(kModes.begin(), kModes.end(), *prop) == kModes.end()) c.NotSupported(pp, *prop, kModes);
      if (*prop == "Bidirectional" && !IsPrivileged(container)) {
        c.Forbidden(pp, "Bidirectional mount propagation is available only to privileged containers");
      }
    }
    if (std::optional<std::string_view> rro = GetString(&c, m, "recursiveReadOnly", Child(p, "recursiveReadOnly"))) {
      std::string rp = Child(path, "recursiveReadOnly");
      if (*rro == "Enabled" || *rro == "IfPossible") {
        if (!GetBool(&c, m, "readOnly", Child(p, "readOnly")).value_or(false)) {
          c.Forbidden(rp, "may only be specified when readOnly is true");
        }
      } else if (*rro != "Disabled") {
        c.NotSupported(rp, *rro, {"Disabled", "Enabled", "IfPossible"});
      }
    }
  }
}

bool IsHugePages(std::string_view name) { return name.substr(0, 10) == "hugepages-"; }
bool IsNativeResource(std::string_view name) {
  return name.find('/') == std::string_view::npos || name.find("kubernetes.io/") != std::string_view::npos;
}
bool IsExtendedResource(std::string_view name) {
  if (IsNativeResource(name) || name.substr(0, 9) == "requests.") return false;
  return QualifiedNameErrors("requests." + std::string(name)).empty();
}
bool IsOvercommitAllowed(std::string_view name) { return IsNativeResource(name) && !IsHugePages(name); }

bool IsStandardResourceName(std::string_view name) {
  static const std::unordered_set<std::string_view> kStandard = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
      "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
      "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
      "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
      "services.loadbalancers"};
  return kStandard.count(name) || IsHugePages(name) || name.substr(0, 19) == "requests.hugepages-";
}

void CheckContainerResourceName(Causes& c, std::string_view name, const std::string& path) {
  std::vector<std::string> errs = QualifiedNameErrors(name);
  if (!errs.empty()) {
    c.InvalidEach(path, name, errs);
    return;
  }
  if (name.find('/') == std::string_view::npos) {
    if (!IsStandardResourceName(name)) c.Invalid(path, name, "must be a standard resource type or fully qualified");
    if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !IsHugePages(name)) {
      c.Invalid(path, name, "must be a standard resource for containers");
    }
  } else if (!IsNativeResource(name) && !IsExtendedResource(name)) {
    c.Invalid(path, name, "doesn't follow extended resource name standard");
  }
}

void CheckResources(Causes& c, const Value* container, const std::string& path) {
  const Value* resources = GetObject(&c, container, "resources", path);
  std::string lim_path = Child(path, "limits"), req_path = Child(path, "requests");
  const Value* limits = GetObject(&c, resources, "limits", lim_path);
  const Value* requests = GetObject(&c, resources, "requests", req_path);
  bool cpu_or_memory = false, huge_pages = false;
  std::unordered_map<std::string_view, Quantity> limit_values;
  if (limits != nullptr) {
    for (const auto& m : limits->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      std::string p = Key(lim_path, name);
      CheckContainerResourceName(c, name, p);
      std::optional<Quantity> q = GetQuantity(&c, limits, name, p);
      if (!q) continue;
      CheckResourceQuantityValue(c, name, *q, p);
      limit_values.emplace(name, *q);
      huge_pages |= IsHugePages(name);
      cpu_or_memory |= name == "cpu" || name == "memory";
    }
  }
  if (requests != nullptr) {
    for (const auto& m : requests->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      std::string p = Key(req_path, name);
      CheckContainerResourceName(c, name, p);
      std::optional<Quantity> q = GetQuantity(&c, requests, name, p);
      if (!q) continue;
      CheckResourceQuantityValue(c, name, *q, p);
      auto limit = limit_values.find(name);
      if (limit != limit_values.end()) {
        int cmp = q->Compare(limit->second);
        if (cmp != 0 && !IsOvercommitAllowed(name)) {
          c.Invalid(req_path, q->String(),
                    "must be equal to " + std::string(name) + " limit of " + limit->second.String());
        } else if (cmp > 0) {
          c.Invalid(req_path, q->String(),
                    "must be less than or equal to " + std::string(name) + " limit of " +
                        limit->second.String());
        }
      } else if (!IsOvercommitAllowed(name)) {
        c.Required(lim_path, "Limit must be set for non overcommitable resources");
      }
      huge_pages |= IsHugePages(name);
      cpu_or_memory |= name == "cpu" || name == "memory";
    }
  }
  if (huge_pages && !cpu_or_memory) c.Forbidden(path, "HugePages require cpu or memory");
}

void CheckIdRange(Causes& c, const Value* parent, const char* name, const std::string& path) {
  std::optional<int64_t> id = GetInt(&c, parent, name, path);
  if (id && (*id < 0 || *id > kMaxInt32)) c.InvalidInt(path, *id, InclusiveRangeError(0, kMaxInt32));
}

void CheckSeccompProfile(Causes& c, const Value* sc, const std::string& sc_path) {
  std::string p = Child(sc_path, "seccompProfile");
  const Value* profile = GetObject(&c, sc, "seccompProfile", p);
  if (profile == nullptr) return;
  std::string_view type = Str(c, profile, "type", Child(p, "type"));
  std::optional<std::string_view> local = GetString(&c, profile, "localhostProfile", Child(p, "localhostProfile"));
  if (type == "Localhost") {
    if (!local || local->empty()) {
      c.Required(Child(p, "localhostProfile"), "must be set when seccomp type is Localhost");
    }
  } else if (local) {
    c.Invalid(Child(p, "localhostProfile"), *local, "can only be set when seccomp type is Localhost");
  }
  if (type.empty()) {
    c.Required(Child(p, "type"), "type is required when seccompProfile is set");
  } else if (type != "Localhost" && type != "RuntimeDefault" && type != "Unconfined") {
    c.NotSupported(Child(p, "type"), type, {"Localhost", "RuntimeDefault", "Unconfined"});
  }
}

void CheckContainerSecurityContext(Causes& c, const Value* container, const std::string& cpath) {
  std::string path = Child(cpath, "securityContext");
  const Value* sc = GetObject(&c, container, "securityContext", path);
  if (sc == nullptr) return;
  CheckIdRange(c, sc, "runAsUser", Child(path, "runAsUser"));
  CheckIdRange(c, sc, "runAsGroup", Child(path, "runAsGroup"));
  if (std::optional<std::string_view> proc = GetString(&c, sc, "procMount", Child(path, "procMount"))) {
    if (*proc != "Default" && *proc != "Unmasked") {
      c.NotSupported(Child(path, "procMount"), *proc, {"Default", "Unmasked"});
    }
  }
  CheckSeccompProfile(c, sc, path);
  std::optional<bool> escalation = GetBool(&c, sc, "allowPrivilegeEscalation", Child(path, "allowPrivilegeEscalation"));
  bool privileged = GetBool(&c, sc, "privileged", Child(path, "privileged")).value_or(false);
  if (escalation && !*escalation && privileged) {
    c.InvalidRaw(path, CompactJson(sc), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
  }
}

void CheckPortNumOrName(Causes& c, const Value* parent, const char* name, const std::string& path) {
  IntOrString port = GetIntOrString(&c, parent, name, path).value_or(IntOrString{});
  if (port.is_string) {
    c.InvalidEach(path, port.string_value, PortNameErrors(port.string_value));
  } else {
    for (const std::string& m : PortNumErrors(port.int_value)) c.InvalidInt(path, port.int_value, m);
  }
}

// validateHandler: exactly one handler type, each checked.
void CheckHandler(Causes& c, const Value* handler, bool allow_sleep, bool allow_grpc,
                  std::optional<int64_t> grace, const std::string& path) {
  int handlers = 0;
  auto take = [&](const char* kind) -> const Value* {
    std::string p = Child(path, kind);
    const Value* h = GetObject(&c, handler, kind, p);
    if (h == nullptr) return nullptr;
    if (handlers > 0) {
      c.Forbidden(p, "may not specify more than 1 handler type");
      return nullptr;
    }
    ++handlers;
    return h;
  };
  if (const Value* exec = take("exec")) {
    const Value* command = GetArray(&c, exec, "command", Child(Child(path, "exec"), "command"));
    if (command == nullptr || command->Empty()) c.Required(Child(Child(path, "exec"), "command"));
  }
  if (const Value* http = take("httpGet")) {
    std::string p = Child(path, "httpGet");
    if (Str(c, http, "path", Child(p, "path")).empty()) c.Required(Child(p, "path"));
    CheckPortNumOrName(c, http, "port", Child(p, "port"));
    std::string_view scheme = Str(c, http, "scheme", Child(p, "scheme"));
    if (scheme != "HTTP" && scheme != "HTTPS") c.NotSupported(Child(p, "scheme"), scheme, {"HTTP", "HTTPS"});
  }
  if (const Value* tcp = take("tcpSocket")) CheckPortNumOrName(c, tcp, "port", Child(Child(path, "tcpSocket"), "port"));
  if (allow_grpc) {
    if (const Value* grpc = take("grpc")) {
      std::string p = Child(Child(path, "grpc"), "port");
      int64_t port = GetInt32(&c, grpc, "port", p).value_or(0);
      for (const std::string& m : PortNumErrors(port)) c.InvalidInt(p, port, m);
    }
  }
  if (allow_sleep) {
    if (const Value* sleep = take("sleep")) {
      std::string p = Child(path, "sleep");
      int64_t seconds = GetInt(&c, sleep, "seconds", Child(p, "seconds")).value_or(0);
      if (grace && (seconds <= 0 || seconds > *grace)) {
        c.InvalidInt(p, seconds,
                     "must be greater than 0 and less than terminationGracePeriodSeconds (" +
                         std::to_string(*grace) +
                         "). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.");
      }
    }
  }
  if (handlers == 0) c.Required(path, "must specify a handler type");
}

void CheckProbe(Causes& c, const Value* container, const char* kind, std::optional<int64_t> grace,
                const std::string& cpath) {
  std::string path = Child(cpath, kind);
  const Value* probe = GetObject(&c, container, kind, path);
  if (probe == nullptr) return;
  CheckHandler(c, probe, false, true, grace, path);
  for (const char* f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                        "failureThreshold"}) {
    CheckNonNegative(c, Child(path, f), GetInt32(&c, probe, f, Child(path, f)));
  }
  std::optional<int64_t> probe_grace =
      GetInt(&c, probe, "terminationGracePeriodSeconds", Child(path, "terminationGracePeriodSeconds"));
  if (probe_grace && *probe_grace <= 0) {
    c.InvalidInt(Child(path, "terminationGracePeriodSeconds"), *probe_grace, "must be greater than 0");
  }
  std::string_view k = kind;
  if (k == "livenessProbe" || k == "startupProbe") {
    int64_t success = GetInt32(nullptr, probe, "successThreshold", "").value_or(0);
    if (success != 1) c.InvalidInt(Child(path, "successThreshold"), success, "must be 1");
  } else if (probe_grace) {
    c.InvalidInt(Child(path, "terminationGracePeriodSeconds"), *probe_grace, "must not be set for readinessProbes");
  }
}

void CheckLifecycleAndProbes(Causes& c, const Value* container, std::optional<int64_t> grace,
                             const std::string& cpath) {
  std::string lp = Child(cpath, "lifecycle");
  if (const Value* lifecycle = GetObject(&c, container, "lifecycle", lp)) {
    for (const char* hook : {"postStart", "preStop"}) {
      if (const Value* h = GetObject(&c, lifecycle, hook, Child(lp, hook))) {
        CheckHandler(c, h, true, false, grace, Child(lp, hook));
      }
    }
  }
  for (const char* kind : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    CheckProbe(c, container, kind, grace, cpath);
  }
}

// validateContainerCommon.
void CheckContainerCommon(Causes& c, const Value* ctr, const VolumeSet& volumes, const std::string& path) {
  std::string_view name = Str(c, ctr, "name", Child(path, "name"));
  if (name.empty()) {
    c.Required(Child(path, "name"));
  } else {
    c.InvalidEach(Child(path, "name"), name, Dns1123LabelErrors(name));
  }
  if (Str(c, ctr, "image", Child(path, "image")).empty()) c.Required(Child(path, "image"));
  std::string_view tmp = Str(c, ctr, "terminationMessagePolicy", Child(path, "terminationMessagePolicy"));
  if (tmp.empty()) {
    c.Required(Child(path, "terminationMessagePolicy"));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    c.NotSupported(Child(path, "terminationMessagePolicy"), tmp, {"File", "FallbackToLogsOnError"});
  }
  CheckPorts(c, ctr, path);
  CheckEnv(c, ctr, path);
  CheckVolumeMounts(c, ctr, volumes, path);
  std::string_view pull = Str(c, ctr, "imagePullPolicy", Child(path, "imagePullPolicy"));
  if (pull.empty()) {
    c.Required(Child(path, "imagePullPolicy"));
  } else if (pull != "Always" && pull != "IfNotPresent" && pull != "Never") {
    c.NotSupported(Child(path, "imagePullPolicy"), pull, {"Always", "IfNotPresent", "Never"});
  }
  CheckResources(c, ctr, Child(path, "resources"));
  CheckContainerSecurityContext(c, ctr, path);
}

// Host ports must not collide (protocol/hostIP/port) within `containers`.
void CheckHostPortConflicts(Causes& c, const std::vector<std::pair<const Value*, std::string>>& containers) {
  std::unordered_set<std::string> seen;
  for (const auto& [ctr, path] : containers) {
    const Value* ports = Get(ctr, "ports");
    if (ports == nullptr || !ports->IsArray()) continue;
    for (rapidjson::SizeType j = 0; j < ports->Size(); ++j) {
      const Value& port = (*ports)[j];
      int64_t host_port = GetInt32(nullptr, &port, "hostPort", "").value_or(0);
      if (host_port == 0) continue;
      std::string key = std::string(GetString(nullptr, &port, "protocol", "").value_or("")) + "/" +
                        std::string(GetString(nullptr, &port, "hostIP", "").value_or("")) + "/" +
                        std::to_string(host_port);
      if (!seen.insert(key).second) c.Duplicate(Child(Index(Child(path, "ports"), j), "hostPort"), key);
    }
  }
}

void CheckContainers(Causes& c, const Value& spec, const VolumeSet& volumes,
                     std::optional<int64_t> grace, const std::string& spec_path) {
  std::string path = Child(spec_path, "containers");
  const Value* containers = GetArray(&c, &spec, "containers", path);
  if (containers == nullptr || containers->Empty()) {
    if (Get(&spec, "containers") == nullptr || containers != nullptr) c.Required(path);
    return;
  }
  std::unordered_set<std::string_view> names;
  std::vector<std::pair<const Value*, std::string>> all;
  for (rapidjson::SizeType i = 0; i < containers->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* ctr = ElementObject(&c, (*containers)[i], p);
    if (ctr == nullptr) continue;
    CheckContainerCommon(c, ctr, volumes, p);
    std::string_view name = json::StringMember(*ctr, "name");
    if (!names.insert(name).second) c.Duplicate(Child(p, "name"), name);
    CheckLifecycleAndProbes(c, ctr, grace, p);
    if (Get(ctr, "restartPolicy") != nullptr) c.Forbidden(Child(p, "restartPolicy"), "may not be set for non-init containers");
    all.emplace_back(ctr, p);
  }
  CheckHostPortConflicts(c, all);
}

void CheckInitContainers(Causes& c, const Value& spec, const VolumeSet& volumes,
                         std::optional<int64_t> grace, const std::string& spec_path) {
  std::string path = Child(spec_path, "initContainers");
  const Value* inits = GetArray(&c, &spec, "initContainers", path);
  if (inits == nullptr) return;
  std::unordered_set<std::string_view> names;
  if (const Value* regular = Get(&spec, "containers"); regular != nullptr && regular->IsArray()) {
    for (const Value& ctr : regular->GetArray()) names.insert(json::StringMember(ctr, "name"));
  }
  for (rapidjson::SizeType i = 0; i < inits->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* ctr = ElementObject(&c, (*inits)[i], p);
    if (ctr == nullptr) continue;
    CheckContainerCommon(c, ctr, volumes, p);
    bool restart_always = false;
    if (std::optional<std::string_view> rp = GetString(&c, ctr, "restartPolicy", Child(p, "restartPolicy"))) {
      if (*rp != "Always") c.NotSupported(Child(p, "restartPolicy"), *rp, {"Always"});
      restart_always = *rp == "Always";
    }
    std::string_view name = json::StringMember(*ctr, "name");
    if (names.count(name)) {
      c.Duplicate(Child(p, "name"), name);
    } else if (!name.empty()) {
      names.insert(name);
    }
    CheckHostPortConflicts(c, {{ctr, p}});
    if (restart_always) {
      CheckLifecycleAndProbes(c, ctr, grace, p);
    } else {
      for (const char* f : {"lifecycle", "livenessProbe", "readinessProbe", "startupProbe"}) {
        if (Get(ctr, f) != nullptr) {
          c.Forbidden(Child(p, f), "may not be set for init containers without restartPolicy=Always");
        }
      }
    }
  }
}

void CheckPodSecurityContext(Causes& c, const Value& spec, const std::string& spec_path) {
  std::string path = Child(spec_path, "securityContext");
  const Value* sc = GetObject(&c, &spec, "securityContext", path);
  if (sc == nullptr) return;
  CheckIdRange(c, sc, "fsGroup", Child(path, "fsGroup"));
  CheckIdRange(c, sc, "runAsUser", Child(path, "runAsUser"));
  CheckIdRange(c, sc, "runAsGroup", Child(path, "runAsGroup"));
  std::string groups_path = Child(path, "supplementalGroups");
  if (const Value* groups = GetArray(&c, sc, "supplementalGroups", groups_path)) {
    for (rapidjson::SizeType i = 0; i < groups->Size(); ++i) {
      const Value& g = (*groups)[i];
      if (!g.IsInt64()) {
        c.TypeInvalid(Index(groups_path, i), g, "integer");
      } else if (g.GetInt64() < 0 || g.GetInt64() > kMaxInt32) {
        c.InvalidInt(Index(groups_path, i), g.GetInt64(), InclusiveRangeError(0, kMaxInt32));
      }
    }
  }
  if (std::optional<std::string_view> policy = GetString(&c, sc, "fsGroupChangePolicy", Child(path, "fsGroupChangePolicy"))) {
    if (*policy != "Always" && *policy != "OnRootMismatch") {
      c.NotSupported(Child(path, "fsGroupChangePolicy"), *policy, {"Always", "OnRootMismatch"});
    }
  }
  CheckSeccompProfile(c, sc, path);
}

void CheckDnsConfig(Causes& c, const Value& spec, std::string_view dns_policy, const std::string& spec_path) {
  std::string path = Child(spec_path, "dnsConfig");
  const Value* config = GetObject(&c, &spec, "dnsConfig", path);
  auto nameservers = GetStringList(&c, config, "nameservers", Child(path, "nameservers"));
  if (dns_policy == "None") {
    if (config == nullptr) {
      c.Required(path, "must provide `dnsConfig` when `dnsPolicy` is None");
      return;
    }
    if (!nameservers || nameservers->empty()) {
      c.Required(Child(path, "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None");
      return;
    }
  }
  if (config == nullptr) return;
  if (nameservers) {
    if (nameservers->size() > 3) {
      c.InvalidRaw(Child(path, "nameservers"), GoStringSlice(Get(config, "nameservers")),
                   "must not have more than 3 nameservers");
    }
    for (size_t i = 0; i < nameservers->size(); ++i) CheckIp(c, Index(Child(path, "nameservers"), i), (*nameservers)[i]);
  }
  if (auto searches = GetStringList(&c, config, "searches", Child(path, "searches"))) {
    std::string sp = Child(path, "searches");
    if (searches->size() > 32) {
      c.InvalidRaw(sp, GoStringSlice(Get(config, "searches")), "must not have more than 32 search paths");
    }
    size_t joined = searches->empty() ? 0 : searches->size() - 1;
    for (std::string_view s : *searches) joined += s.size();
    if (joined > 2048) {
      c.InvalidRaw(sp, GoStringSlice(Get(config, "searches")),
                   "must not have more than 2048 characters (including spaces) in the search list");
    }
    for (size_t i = 0; i < searches->size(); ++i) {
      std::string_view s = (*searches)[i];
      if (!s.empty() && s.back() == '.') s.remove_suffix(1);
      c.InvalidEach(Index(sp, i), s, Dns1123SubdomainErrors(s));
    }
  }
  std::string op = Child(path, "options");
  if (const Value* options = GetArray(&c, config, "options", op)) {
    for (rapidjson::SizeType i = 0; i < options->Size(); ++i) {
      const Value* o = ElementObject(&c, (*options)[i], Index(op, i));
      if (o != nullptr && Str(c, o, "name", Child(Index(op, i), "name")).empty()) {
        c.Required(Index(op, i), "must not be empty");
      }
    }
  }
}

void CheckQualifiedNameList(Causes& c, const Value& spec, const char* list, const char* member,
                            bool unique, const std::string& spec_path) {
  std::string path = Child(spec_path, list);
  const Value* items = GetArray(&c, &spec, list, path);
  if (items == nullptr) return;
  std::unordered_set<std::string_view> seen;
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* item = ElementObject(&c, (*items)[i], p);
    if (item == nullptr) continue;
    std::string value_path = unique ? p : Child(p, member);
    std::string_view value = Str(c, item, member, Child(p, member));
    c.InvalidEach(value_path, value, QualifiedNameErrors(value));
    if (unique && !seen.insert(value).second) c.Duplicate(p, value);
  }
}

void CheckTopologySpread(Causes& c, const Value& spec, const std::string& spec_path) {
  std::string path = Child(spec_path, "topologySpreadConstraints");
  const Value* list = GetArray(&c, &spec, "topologySpreadConstraints", path);
  if (list == nullptr) return;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* t = ElementObject(&c, (*list)[i], p);
    if (t == nullptr) continue;
    int64_t skew = GetInt32(&c, t, "maxSkew", Child(p, "maxSkew")).value_or(0);
    if (skew <= 0) c.InvalidInt(Child(p, "maxSkew"), skew, "must be greater than zero");
    if (Str(c, t, "topologyKey", Child(p, "topologyKey")).empty()) {
      c.Required(Child(p, "topologyKey"), "can not be empty");
    }
    std::string_view when = Str(c, t, "whenUnsatisfiable", Child(p, "whenUnsatisfiable"));
    if (when != "DoNotSchedule" && when != "ScheduleAnyway") {
      c.NotSupported(Child(p, "whenUnsatisfiable"), when, {"DoNotSchedule", "ScheduleAnyway"});
    }
    CheckLabelSelector(c, GetObject(&c, t, "labelSelector", Child(p, "labelSelector")), Child(p, "labelSelector"));
  }
}

void CheckHostNetworkPorts(Causes& c, const Value& spec, bool resource_is_pod, const std::string& spec_path) {
  const Value* host_network = Get(&spec, "hostNetwork");
  if (host_network == nullptr || !host_network->IsTrue()) return;
  const Value* containers = Get(&spec, "containers");
  if (containers == nullptr || !containers->IsArray()) return;
  for (rapidjson::SizeType i = 0; i < containers->Size(); ++i) {
    const Value* ports = Get(&(*containers)[i], "ports");
    if (ports == nullptr || !ports->IsArray()) continue;
    for (rapidjson::SizeType j = 0; j < ports->Size(); ++j) {
      int64_t hp = GetInt32(nullptr, &(*ports)[j], "hostPort", "").value_or(0);
      int64_t cp = GetInt32(nullptr, &(*ports)[j], "containerPort", "").value_or(0);
      if ((resource_is_pod || hp != 0) && hp != cp) {
        c.InvalidInt(Child(Index(Child(Index(Child(spec_path, "containers"), i), "ports"), j), "hostPort"), hp,
                     "must match `containerPort` when `hostNetwork` is true");
      }
    }
  }
}

void CheckNamedSubdomain(Causes& c, const Value& spec, const char* field, const std::string& spec_path) {
  std::string p = Child(spec_path, field);
  std::string_view v = Str(c, &spec, field, p);
  if (!v.empty()) c.InvalidEach(p, v, Dns1123SubdomainErrors(v));
}

void CheckEnum(Causes& c, const Value& parent, const char* field, const std::string& path,
               const std::vector<std::string>& values) {
  std::string_view v = Str(c, &parent, field, path);
  if (v.empty()) {
    c.Required(path);
  } else if (std::find(values.begin(), values.end(), v) == values.end()) {
    c.NotSupported(path, v, values);
  }
}

void CheckContainersOnlyForPod(Causes& c, const Value& spec, const char* list, const std::string& spec_path) {
  const Value* containers = Get(&spec, list);
  if (containers == nullptr || !containers->IsArray()) return;
  for (rapidjson::SizeType i = 0; i < containers->Size(); ++i) {
    std::string_view image = json::StringMember((*containers)[i], "image");
    size_t first = image.find_first_not_of(" \t\n\r\v\f");
    size_t last = image.find_last_not_of(" \t\n\r\v\f");
    bool padded = !image.empty() && (first == std::string_view::npos || first != 0 || last != image.size() - 1);
    if (padded) {
      c.Invalid(Child(Index(Child(spec_path, list), i), "image"), image, "must not have leading or trailing whitespace");
    }
  }
}

}  // namespace

std::optional<Quantity> GetQuantity(Causes* causes, const Value* parent, std::string_view name,
                                    const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  std::optional<std::string> text = QuantityText(*v);
  if (!text) {
    if (causes) causes->TypeInvalid(path, *v, "string");
    return std::nullopt;
  }
  Result<Quantity> q = Quantity::Parse(*text);
  if (!q.ok()) {
    if (causes) causes->Invalid(path, *text, q.status().message());
    return std::nullopt;
  }
  return *q;
}

void CheckResourceQuantityValue(Causes& causes, std::string_view resource, const Quantity& q,
                                const std::string& path) {
  if (q.Sign() < 0) causes.Invalid(path, q.String(), kIsNegativeErrorMsg);
  bool integer_resource = IsExtendedResource(resource) || resource == "pods" || resource == "services" ||
                          resource == "secrets" || resource == "configmaps";
  if (integer_resource && q.MilliValue() % 1000 != 0) causes.Invalid(path, q.String(), "must be an integer");
}

void ValidateTolerations(Causes& c, const Value* tolerations, const std::string& path) {
  if (tolerations == nullptr) return;
  for (rapidjson::SizeType i = 0; i < tolerations->Size(); ++i) {
    std::string p = Index(path, i);
    const Value* t = ElementObject(&c, (*tolerations)[i], p);
    if (t == nullptr) continue;
    std::string_view key = Str(c, t, "key", Child(p, "key"));
    std::string_view op = Str(c, t, "operator", Child(p, "operator"));
    std::string_view value = Str(c, t, "value", Child(p, "value"));
    std::string_view effect = Str(c, t, "effect", Child(p, "effect"));
    if (!key.empty()) CheckLabelName(c, Child(p, "key"), key);
    if (key.empty() && op != "Exists") {
      c.Invalid(Child(p, "operator"), op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
    }
    if (GetInt(&c, t, "tolerationSeconds", Child(p, "tolerationSeconds")) && effect != "NoExecute") {
      c.Invalid(Child(p, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    if (op == "Equal" || op.empty()) {
      std::vector<std::string> errs = LabelValueErrors(value);
      if (!errs.empty()) {
        std::string joined;
        for (size_t j = 0; j < errs.size(); ++j) joined += (j ? ";" : "") + errs[j];
        c.Invalid(Child(p, "operator"), value, joined);
      }
    } else if (op == "Exists") {
      if (!value.empty()) c.Invalid(Child(p, "operator"), value, "value must be empty when `operator` is 'Exists'");
    } else {
      c.NotSupported(Child(p, "operator"), op, {"Equal", "Exists"});
    }
    if (!effect.empty() && effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      c.NotSupported(Child(p, "effect"), effect, {"NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
  }
}

void ValidatePodSpec(Causes& c, const Value& spec, const std::string& path,
                     const PodSpecOptions& options) {
  std::string grace_path = Child(path, "terminationGracePeriodSeconds");
  std::optional<int64_t> grace = GetInt(&c, &spec, "terminationGracePeriodSeconds", grace_path);
  if (Get(&spec, "terminationGracePeriodSeconds") == nullptr) c.Required(grace_path);
  VolumeSet volumes = CheckVolumes(c, spec, path);
  CheckContainers(c, spec, volumes, grace, path);
  CheckInitContainers(c, spec, volumes, grace, path);
  CheckHostNetworkPorts(c, spec, options.resource_is_pod, path);
  CheckEnum(c, spec, "restartPolicy", Child(path, "restartPolicy"), {"Always", "OnFailure", "Never"});
  CheckEnum(c, spec, "dnsPolicy", Child(path, "dnsPolicy"), {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"});
  CheckLabels(c, &spec, "nodeSelector", Child(path, "nodeSelector"));
  CheckPodSecurityContext(c, spec, path);
  CheckDnsConfig(c, spec, json::StringMember(spec, "dnsPolicy"), path);
  CheckQualifiedNameList(c, spec, "readinessGates", "conditionType", false, path);
  CheckQualifiedNameList(c, spec, "schedulingGates", "name", true, path);
  CheckTopologySpread(c, spec, path);
  CheckNamedSubdomain(c, spec, "serviceAccountName", path);
  CheckNamedSubdomain(c, spec, "nodeName", path);
  std::string ads_path = Child(path, "activeDeadlineSeconds");
  if (std::optional<int64_t> ads = GetInt(&c, &spec, "activeDeadlineSeconds", ads_path)) {
    if (*ads < 1 || *ads > kMaxInt32) c.InvalidInt(ads_path, *ads, InclusiveRangeError(1, kMaxInt32));
  }
  for (const char* f : {"hostname", "subdomain"}) {
    std::string_view v = Str(c, &spec, f, Child(path, f));
    if (!v.empty()) c.InvalidEach(Child(path, f), v, Dns1123LabelErrors(v));
  }
  ValidateTolerations(c, GetArray(&c, &spec, "tolerations", Child(path, "tolerations")), Child(path, "tolerations"));
  std::string aliases_path = Child(path, "hostAliases");
  if (const Value* aliases = GetArray(&c, &spec, "hostAliases", aliases_path)) {
    for (rapidjson::SizeType i = 0; i < aliases->Size(); ++i) {
      std::string p = Index(aliases_path, i);
      const Value* alias = ElementObject(&c, (*aliases)[i], p);
      if (alias == nullptr) continue;
      CheckIp(c, Child(p, "ip"), Str(c, alias, "ip", Child(p, "ip")));
      if (auto hosts = GetStringList(&c, alias, "hostnames", Child(p, "hostnames"))) {
        for (size_t j = 0; j < hosts->size(); ++j) {
          c.InvalidEach(Index(Child(p, "hostnames"), j), (*hosts)[j], Dns1123SubdomainErrors((*hosts)[j]));
        }
      }
    }
  }
  CheckNamedSubdomain(c, spec, "priorityClassName", path);
  if (std::optional<std::string_view> runtime = GetString(&c, &spec, "runtimeClassName", Child(path, "runtimeClassName"))) {
    c.InvalidEach(Child(path, "runtimeClassName"), *runtime, Dns1123SubdomainErrors(*runtime));
  }
  if (Get(&spec, "preemptionPolicy") != nullptr) {
    CheckEnum(c, spec, "preemptionPolicy", Child(path, "preemptionPolicy"), {"PreemptLowerPriority", "Never"});
  }
  std::string os_path = Child(path, "os");
  if (const Value* os = GetObject(&c, &spec, "os", os_path)) {
    std::string_view name = Str(c, os, "name", Child(os_path, "name"));
    if (name.empty()) {
      c.Required(Child(os_path, "name"));
    } else if (name != "linux" && name != "windows") {
      c.NotSupported(Child(os_path, "name"), name, {"linux", "windows"});
    }
  }
}

void ValidatePodTemplateSpec(Causes& c, const Value* tmpl, const std::string& path) {
  Value empty(rapidjson::kObjectType);
  const Value* metadata = GetObject(&c, tmpl, "metadata", Child(path, "metadata"));
  CheckLabels(c, metadata, "labels", Child(path, "labels"));
  CheckAnnotations(c, metadata, "annotations", Child(path, "annotations"));
  const Value* spec = GetObject(&c, tmpl, "spec", Child(path, "spec"));
  ValidatePodSpec(c, spec != nullptr ? *spec : empty, Child(path, "spec"), PodSpecOptions{});
  const Value* ephemeral = Get(spec, "ephemeralContainers");
  if (ephemeral != nullptr && ephemeral->IsArray() && !ephemeral->Empty()) {
    c.Forbidden(Child(Child(path, "spec"), "ephemeralContainers"), "ephemeral containers not allowed in pod template");
  }
}

namespace {

constexpr char kUpdatablePodFields[] =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)";

// A short rendition of what differs, standing in for Go's cmp.Diff of the two specs.
std::string SpecDiff(const Value& old_spec, const Value& new_spec) {
  std::string diff = "  core.PodSpec{\n";
  std::vector<std::string_view> names;
  for (const Value* side : {&old_spec, &new_spec}) {
    if (!side->IsObject()) continue;
    for (const auto& m : side->GetObject()) {
      std::string_view n(m.name.GetString(), m.name.GetStringLength());
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  for (std::string_view n : names) {
    const Value* o = Get(&old_spec, n);
    const Value* v = Get(&new_spec, n);
    if (SemanticEqual(o, v)) continue;
    diff += "- \t" + std::string(n) + ": " + CompactJson(o) + ",\n";
    diff += "+ \t" + std::string(n) + ": " + CompactJson(v) + ",\n";
  }
  return diff + "  }\n";
}

bool ContainerUpdatesOk(Causes& c, const Value* new_list, const Value* old_list, const std::string& path) {
  size_t n = new_list && new_list->IsArray() ? new_list->Size() : 0;
  size_t o = old_list && old_list->IsArray() ? old_list->Size() : 0;
  if (n != o) {
    c.Forbidden(path, "pod updates may not add or remove containers");
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    std::string_view image = json::StringMember((*new_list)[static_cast<rapidjson::SizeType>(i)], "image");
    if (image.empty()) c.Required(Child(Index(path, i), "image"));
    size_t first = image.find_first_not_of(" \t\n\r\v\f");
    size_t last = image.find_last_not_of(" \t\n\r\v\f");
    if (!image.empty() && (first != 0 || last != image.size() - 1)) {
      c.Invalid(Child(Index(path, i), "image"), image, "must not have leading or trailing whitespace");
    }
  }
  return true;
}

// validateOnlyAddedTolerations: each old toleration must still be there (tolerationSeconds
// may change).
void CheckOnlyAddedTolerations(Causes& c, const Value* new_list, const Value* old_list, const std::string& path) {
  if (old_list != nullptr && old_list->IsArray()) {
    for (const Value& old : old_list->GetArray()) {
      bool found = false;
      if (new_list != nullptr && new_list->IsArray()) {
        for (const Value& t : new_list->GetArray()) {
          bool same = true;
          for (const char* f : {"key", "operator", "value", "effect"}) {
            same &= SemanticEqual(Get(&old, f), Get(&t, f));
          }
          if (same) {
            found = true;
            break;
          }
        }
      }
      if (!found) {
        c.Forbidden(path, "existing toleration can not be modified except its tolerationSeconds");
        return;
      }
    }
  }
}

void ValidatePodUpdate(Causes& c, const Value& pod, const Value& old) {
  const Value* spec = Get(&pod, "spec");
  const Value* old_spec = Get(&old, "spec");
  if (spec == nullptr || !spec->IsObject() || old_spec == nullptr || !old_spec->IsObject()) return;
  if (!ContainerUpdatesOk(c, Get(spec, "containers"), Get(old_spec, "containers"), "spec.containers")) return;
  if (!ContainerUpdatesOk(c, Get(spec, "initContainers"), Get(old_spec, "initContainers"), "spec.initContainers")) return;
  std::optional<int64_t> ads = GetInt(nullptr, spec, "activeDeadlineSeconds", "");
  std::optional<int64_t> old_ads = GetInt(nullptr, old_spec, "activeDeadlineSeconds", "");
  if (ads) {
    if (*ads < 0 || *ads > kMaxInt32) {
      c.InvalidInt("spec.activeDeadlineSeconds", *ads, InclusiveRangeError(0, kMaxInt32));
      return;
    }
    if (old_ads && *old_ads < *ads) {
      c.InvalidInt("spec.activeDeadlineSeconds", *ads, "must be less than or equal to previous value");
      return;
    }
  } else if (old_ads) {
    c.InvalidRaw("spec.activeDeadlineSeconds", "null", "must not update from a positive integer to nil value");
  }
  CheckOnlyAddedTolerations(c, Get(spec, "tolerations"), Get(old_spec, "tolerations"), "spec.tolerations");
  if (SemanticEqual(spec, old_spec)) return;

  // Munge the mutable fields to their old values, then anything left over is forbidden.
  rapidjson::Document munged;
  munged.CopyFrom(*spec, munged.GetAllocator());
  auto& a = munged.GetAllocator();
  for (const char* list : {"containers", "initContainers"}) {
    Value* items = MutableArray(munged, list);
    const Value* old_items = Get(old_spec, list);
    if (items == nullptr || old_items == nullptr || !old_items->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < items->Size() && i < old_items->Size(); ++i) {
      if (!(*items)[i].IsObject()) continue;
      const Value* old_image = Get(&(*old_items)[i], "image");
      if (old_image != nullptr) {
        json::SetMember((*items)[i], "image", Value(*old_image, a), a);
      } else {
        json::RemoveMember((*items)[i], "image");
      }
    }
  }
  for (const char* f : {"activeDeadlineSeconds", "schedulingGates", "tolerations"}) {
    const Value* old_value = Get(old_spec, f);
    if (old_value != nullptr) {
      json::SetMember(munged, f, Value(*old_value, a), a);
    } else {
      json::RemoveMember(munged, f);
    }
  }
  std::optional<int64_t> old_grace = GetInt(nullptr, old_spec, "terminationGracePeriodSeconds", "");
  std::optional<int64_t> new_grace = GetInt(nullptr, &munged, "terminationGracePeriodSeconds", "");
  if (old_grace && *old_grace < 0 && new_grace && *new_grace == 1) {
    json::SetMember(munged, "terminationGracePeriodSeconds", Value(*old_grace), a);
  }
  if (!SemanticEqual(&munged, old_spec)) {
    c.Forbidden("spec", std::string(kUpdatablePodFields) + "\n" + SpecDiff(*old_spec, munged));
  }
}

void ValidatePodStatus(Causes& c, const Value& pod, const Value* old) {
  const Value* status = GetObject(&c, &pod, "status", "status");
  std::string conditions_path = "metadata.conditions";  // Kubernetes' own (odd) path
  if (const Value* conditions = GetArray(&c, status, "conditions", "status.conditions")) {
    for (rapidjson::SizeType i = 0; i < conditions->Size(); ++i) {
      const Value* cond = ElementObject(&c, (*conditions)[i], Index("status.conditions", i));
      if (cond == nullptr) continue;
      std::string_view type = json::StringMember(*cond, "type");
      if (type == "PodScheduled" || type == "Ready" || type == "Initialized") continue;
      c.InvalidEach(Child(Index(conditions_path, i), "Type"), type, QualifiedNameErrors(type));
    }
  }
  for (const char* list : {"podIPs", "hostIPs"}) {
    std::string p = Child("status", list);
    if (const Value* ips = GetArray(&c, status, list, p)) {
      std::unordered_set<std::string_view> seen;
      for (rapidjson::SizeType i = 0; i < ips->Size(); ++i) {
        const Value* ip = ElementObject(&c, (*ips)[i], Index(p, i));
        if (ip == nullptr) continue;
        std::string_view text = Str(c, ip, "ip", Child(Index(p, i), "ip"));
        CheckIp(c, Index(p, i), text);
        if (!seen.insert(text).second) c.DuplicateRaw(Index(p, i), CompactJson(ip));
      }
    }
  }
  if (old != nullptr) {
    const Value* old_status = Get(old, "status");
    std::string_view qos = status ? json::StringMember(*status, "qosClass") : std::string_view();
    std::string_view old_qos = old_status ? json::StringMember(*old_status, "qosClass") : std::string_view();
    if (qos != old_qos) c.Invalid("status.qosClass", qos, kFieldImmutableErrorMsg);
  }
}

}  // namespace

void ValidatePodObject(Causes& c, const Value& pod, const Value* old, std::string_view subresource) {
  if (subresource == "status") {
    ValidatePodStatus(c, pod, old);
    return;
  }
  Value empty(rapidjson::kObjectType);
  const Value* spec = GetObject(&c, &pod, "spec", "spec");
  const Value& s = spec != nullptr ? *spec : empty;
  ValidatePodSpec(c, s, "spec", PodSpecOptions{true});
  if (json::StringMember(s, "serviceAccountName").empty()) {
    const Value* volumes = Get(&s, "volumes");
    if (volumes != nullptr && volumes->IsArray()) {
      for (rapidjson::SizeType i = 0; i < volumes->Size(); ++i) {
        const Value* sources = Get(Get(&(*volumes)[i], "projected"), "sources");
        if (sources == nullptr || !sources->IsArray()) continue;
        for (rapidjson::SizeType j = 0; j < sources->Size(); ++j) {
          if (Get(&(*sources)[j], "serviceAccountToken") != nullptr) {
            c.Forbidden(Child(Index(Child(Child(Index("spec.volumes", i), "projected"), "sources"), j),
                              "serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set");
          }
        }
      }
    }
  }
  CheckContainersOnlyForPod(c, s, "containers", "spec");
  CheckContainersOnlyForPod(c, s, "initContainers", "spec");
  if (old == nullptr) {
    const Value* ephemeral = Get(&s, "ephemeralContainers");
    if (ephemeral != nullptr && ephemeral->IsArray() && !ephemeral->Empty()) {
      c.Forbidden("spec.ephemeralContainers", "cannot be set on create");
    }
    const Value* gates = Get(&s, "schedulingGates");
    if (!json::StringMember(s, "nodeName").empty() && gates != nullptr && gates->IsArray() && !gates->Empty()) {
      c.Forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared");
    }
  } else {
    ValidatePodUpdate(c, pod, *old);
  }
}

}  // namespace kite::admission
