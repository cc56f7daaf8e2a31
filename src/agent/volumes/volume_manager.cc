#include "src/agent/volumes/volume_manager.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "src/agent/volumes/atomic_writer.h"
#include "src/agent/volumes/object_data.h"
#include "src/server/admission/quantity.h"
#include "src/server/json/json_util.h"

namespace kite::agent::volumes {
namespace {

namespace fs = std::filesystem;
using rapidjson::Value;

constexpr int kDefaultMode = 0644;

std::string_view Str(const Value* object, std::string_view name) {
  return object ? json::StringMember(*object, name) : std::string_view();
}

bool Bool(const Value* object, std::string_view name) {
  const Value* v = object ? json::Member(*object, name) : nullptr;
  return v && v->IsBool() && v->GetBool();
}

int Mode(const Value* object, std::string_view name, int fallback) {
  const Value* v = object ? json::Member(*object, name) : nullptr;
  if (v && v->IsInt() && v->GetInt() >= 0 && v->GetInt() <= 0777) return v->GetInt();
  return fallback;
}

std::string ErrnoText() { return std::strerror(errno); }

// Go's *PathError text: "open /x: no such file or directory".
std::string PathError(std::string_view op, const std::string& path) {
  return std::string(op) + " " + path + ": " + ErrnoText();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return IoError("mkdir " + path + ": " + ec.message());
  if (chmod(path.c_str(), mode) != 0) return IoError(PathError("chmod", path));
  return Status();
}

bool IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (stat(path.c_str(), &self) != 0) return false;
  std::string up = fs::path(path).parent_path().string();
  if (stat(up.c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

// Mounts a tmpfs of `size_bytes` (0 = the kernel's default) on `dir` unless one is there.
Status MountTmpfs(const std::string& dir, int64_t size_bytes) {
  if (IsMountPoint(dir)) return Status();
  std::string options = size_bytes > 0 ? "size=" + std::to_string(size_bytes) : "";
  if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
            options.empty() ? nullptr : options.c_str()) != 0) {
    return Status(errno == EPERM ? StatusCode::kUnavailable : StatusCode::kIoError,
                  "mount of tmpfs on " + dir + " failed: " + ErrnoText());
  }
  return Status();
}

std::optional<int64_t> QuantityBytes(const Value* v) {
  if (!v) return std::nullopt;
  std::string text;
  if (v->IsString()) {
    text = v->GetString();
  } else if (v->IsInt64()) {
    text = std::to_string(v->GetInt64());
  } else {
    return std::nullopt;
  }
  Result<admission::Quantity> q = admission::Quantity::Parse(text);
  if (!q.ok()) return std::nullopt;
  return q->Value();
}

// The kubelet's calculateEmptyDirMemorySize: node allocatable, lowered to the pod's memory
// limit when every container declares one, lowered to sizeLimit when that is smaller.
int64_t MemoryVolumeSize(const Value& pod, const Value* size_limit, int64_t allocatable) {
  int64_t size = allocatable;
  const Value* spec = json::Member(pod, "spec");
  bool all_limited = true;
  int64_t sum = 0, init_max = 0;
  bool any = false;
  for (const char* list : {"containers", "initContainers"}) {
    const Value* containers = spec ? json::Member(*spec, list) : nullptr;
    if (!containers || !containers->IsArray()) continue;
    for (const Value& c : containers->GetArray()) {
      const Value* resources = json::Member(c, "resources");
      const Value* limits = resources ? json::Member(*resources, "limits") : nullptr;
      std::optional<int64_t> limit = QuantityBytes(limits ? json::Member(*limits, "memory") : nullptr);
      any = true;
      if (!limit) {
        all_limited = false;
        continue;
      }
      if (std::string_view(list) == "containers") {
        sum += *limit;
      } else {
        init_max = std::max(init_max, *limit);
      }
    }
  }
  int64_t pod_limit = std::max(sum, init_max);
  if (any && all_limited && pod_limit > 0 && (size <= 0 || pod_limit <= size)) size = pod_limit;
  std::optional<int64_t> volume_limit = QuantityBytes(size_limit);
  if (volume_limit && *volume_limit > 0 && (size <= 0 || *volume_limit <= size)) size = *volume_limit;
  return size;
}

std::optional<gid_t> FsGroup(const Value& pod) {
  const Value* spec = json::Member(pod, "spec");
  const Value* sc = spec ? json::Member(*spec, "securityContext") : nullptr;
  const Value* group = sc ? json::Member(*sc, "fsGroup") : nullptr;
  if (group && group->IsInt64() && group->GetInt64() >= 0 && group->GetInt64() <= 0xffffffffLL) {
    return static_cast<gid_t>(group->GetInt64());
  }
  return std::nullopt;
}

// utilerrors.NewAggregate's text: the one message, or "[a, b]".
std::string Aggregate(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return errors[0];
  std::string out = "[";
  for (size_t i = 0; i < errors.size(); ++i) out += (i ? ", " : "") + errors[i];
  return out + "]";
}

// configmap.MakePayload / secret.MakePayload: every key, or the listed items.
Result<Payload> KeyPayload(const KeyValues& data, const Value* items, int default_mode, bool optional,
                           std::string_view missing_key_text) {
  Payload payload;
  if (!items || !items->IsArray() || items->Empty()) {
    for (const auto& [key, value] : data) payload[key] = {value, default_mode};
    return payload;
  }
  for (const Value& item : items->GetArray()) {
    std::string key(json::StringMember(item, "key"));
    auto it = data.find(key);
    if (it == data.end()) {
      if (optional) continue;
      return InvalidArgumentError(std::string(missing_key_text) + key);
    }
    payload[std::string(json::StringMember(item, "path"))] = {it->second, Mode(&item, "mode", default_mode)};
  }
  return payload;
}

// downwardapi.CollectData.
Result<Payload> DownwardPayload(const Value& pod, const Value* items, int default_mode,
                                const NodeAllocatable& node) {
  Payload payload;
  std::vector<std::string> errors;
  if (!items || !items->IsArray()) return payload;
  for (const Value& item : items->GetArray()) {
    FileProjection file{"", Mode(&item, "mode", default_mode)};
    if (const Value* field = json::Member(item, "fieldRef")) {
      Result<std::string> v = MetadataFieldValue(pod, json::StringMember(*field, "fieldPath"));
      if (v.ok()) {
        file.data = *v;
      } else {
        errors.push_back(v.status().message());
      }
    } else if (const Value* resource = json::Member(item, "resourceFieldRef")) {
      std::string_view name = json::StringMember(*resource, "containerName");
      const Value* container = FindContainer(pod, name);
      if (!container) {
        errors.push_back("container " + std::string(name) + " not found");
      } else {
        std::string divisor;
        if (const Value* d = json::Member(*resource, "divisor")) {
          divisor = d->IsString() ? d->GetString() : d->IsInt64() ? std::to_string(d->GetInt64()) : "";
        }
        Result<std::string> v =
            ResourceFieldValue(*container, json::StringMember(*resource, "resource"), divisor, node);
        if (v.ok()) {
          file.data = *v;
        } else {
          errors.push_back(v.status().message());
        }
      }
    }
    payload[std::string(json::StringMember(item, "path"))] = file;
  }
  if (!errors.empty()) return InvalidArgumentError(Aggregate(errors));
  return payload;
}

Status RemoveTree(const fs::path& path, dev_t device) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? Status() : IoError(PathError("lstat", path.string()));
  if (S_ISDIR(st.st_mode)) {
    // Something still mounted here (an unmount failed): leave it rather than reach into it.
    if (st.st_dev != device) return IoError("cannot remove " + path.string() + ": still a mount point");
    std::error_code ec;
    std::vector<fs::path> children;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
      children.push_back(it->path());
    if (ec) return IoError("cannot list " + path.string() + ": " + ec.message());
    for (const fs::path& child : children) KITE_RETURN_IF_ERROR(RemoveTree(child, device));
    if (rmdir(path.c_str()) != 0 && errno != ENOENT) return IoError(PathError("rmdir", path.string()));
    return Status();
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return IoError(PathError("unlink", path.string()));
  return Status();
}

// Mount points at or under `dir`, deepest first (from /proc/self/mountinfo, whose paths
// escape ' ', '\t', '\n' and '\\' as octal).
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point ...
    size_t pos = 0;
    for (int field = 0; field < 4 && pos != std::string::npos; ++field) {
      pos = line.find(' ', pos);
      if (pos != std::string::npos) ++pos;
    }
    if (pos == std::string::npos) continue;
    size_t end = line.find(' ', pos);
    std::string raw = line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    std::string point;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 3 < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i + 1]))) {
        point.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 3), nullptr, 8)));
        i += 3;
      } else {
        point.push_back(raw[i]);
      }
    }
    if (point == dir || point.compare(0, dir.size() + 1, dir + "/") == 0) out.push_back(point);
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

class PodVolumes {
 public:
  PodVolumes(const VolumeManagerOptions& options, const Value& pod, std::string pod_dir)
      : options_(options), pod_(pod), pod_dir_(std::move(pod_dir)), fs_group_(FsGroup(pod)) {
    const Value* md = json::Member(pod, "metadata");
    ns_ = Str(md, "namespace");
    name_ = Str(md, "name");
    uid_ = Str(md, "uid");
  }

  // One volume; the error is the reason only (the caller adds which volume).
  Result<MountedVolume> SetUp(const Value& volume, const std::string& name) {
    if (const Value* source = json::Member(volume, "emptyDir")) return EmptyDir(*source, name);
    if (const Value* source = json::Member(volume, "hostPath")) return HostPath(*source);
    if (const Value* source = json::Member(volume, "configMap")) return ConfigMap(*source, name);
    if (const Value* source = json::Member(volume, "secret")) return Secret(*source, name);
    if (const Value* source = json::Member(volume, "downwardAPI")) return DownwardApi(*source, name);
    if (const Value* source = json::Member(volume, "projected")) return Projected(*source, name);
    if (const Value* source = json::Member(volume, "persistentVolumeClaim")) {
      return Claim(std::string(json::StringMember(*source, "claimName")), Bool(source, "readOnly"));
    }
    if (json::Member(volume, "ephemeral")) return Claim(name_ + "-" + name, false);
    return InvalidArgumentError("volume type not supported by this node");
  }

 private:
  std::string PluginDir(std::string_view plugin, const std::string& name) const {
    return pod_dir_ + "/volumes/kubernetes.io~" + std::string(plugin) + "/" + name;
  }

  Result<MountedVolume> EmptyDir(const Value& source, const std::string& name) {
    std::string dir = PluginDir("empty-dir", name);
    KITE_RETURN_IF_ERROR(MakeDirs(dir, 0777));
    std::string_view medium = json::StringMember(source, "medium");
    if (medium == "Memory") {
      KITE_RETURN_IF_ERROR(MountTmpfs(
          dir, MemoryVolumeSize(pod_, json::Member(source, "sizeLimit"), options_.node.memory_bytes)));
    } else if (!medium.empty()) {
      return InvalidArgumentError("unknown storage medium \"" + std::string(medium) + "\"");
    }
    mode_t mode = 0777;
    if (fs_group_) {
      if (chown(dir.c_str(), static_cast<uid_t>(-1), *fs_group_) != 0)
        return IoError(PathError("chown", dir));
      mode |= S_ISGID;
    }
    if (chmod(dir.c_str(), mode) != 0) return IoError(PathError("chmod", dir));
    return MountedVolume{dir, false};
  }

  Result<MountedVolume> HostPath(const Value& source) {
    std::string path(json::StringMember(source, "path"));
    std::string_view type = json::StringMember(source, "type");
    struct stat st;
    bool exists = stat(path.c_str(), &st) == 0;
    auto fail = [&path](std::string_view what) {
      return InvalidArgumentError("hostPath type check failed: " + path + " is not " + std::string(what));
    };
    if (type.empty()) {
      // No check: the runtime mounts what is there (creating a directory when nothing is).
    } else if (type == "DirectoryOrCreate" || type == "Directory") {
      if (!exists && type == "DirectoryOrCreate") {
        std::error_code ec;
        fs::create_directories(path, ec);
        if (ec) return IoError("mkdir " + path + ": " + ec.message());
        chmod(path.c_str(), 0755);
      } else if (!exists || !S_ISDIR(st.st_mode)) {
        return fail("a directory");
      }
    } else if (type == "FileOrCreate" || type == "File") {
      if (!exists && type == "FileOrCreate") {
        int fd = open(path.c_str(), O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
        if (fd < 0) return IoError(PathError("open", path));
        close(fd);
      } else if (!exists || !S_ISREG(st.st_mode)) {
        return fail("a file");
      }
    } else if (type == "Socket") {
      if (!exists || !S_ISSOCK(st.st_mode)) return fail("a socket file");
    } else if (type == "CharDevice") {
      if (!exists || !S_ISCHR(st.st_mode)) return fail("a character device");
    } else if (type == "BlockDevice") {
      if (!exists || !S_ISBLK(st.st_mode)) return fail("a block device");
    } else {
      return InvalidArgumentError(std::string(type) + " is an invalid volume type");
    }
    return MountedVolume{path, false};
  }

  // The directory of an AtomicWriter volume; on a tmpfs when `in_memory` and permitted.
  Result<std::string> WriterDir(std::string_view plugin, const std::string& name, bool in_memory) {
    std::string dir = PluginDir(plugin, name);
    KITE_RETURN_IF_ERROR(MakeDirs(dir, 0755));
    if (in_memory && options_.memory_backed_secrets) {
      Status mounted = MountTmpfs(dir, MemoryVolumeSize(pod_, nullptr, options_.node.memory_bytes));
      // Without the right to mount (an unprivileged agent), secrets stay on disk.
      if (!mounted.ok() && mounted.code() != StatusCode::kUnavailable) return mounted;
      if (mounted.ok()) chmod(dir.c_str(), 0755);
    }
    return dir;
  }

  Result<MountedVolume> Write(std::string_view plugin, const std::string& name, bool in_memory,
                              const Payload& payload) {
    Result<std::string> dir = WriterDir(plugin, name, in_memory);
    if (!dir.ok()) return dir.status();
    AtomicWriter writer(*dir, fs_group_);
    Result<bool> written = writer.Write(payload);
    if (!written.ok()) return written.status();
    return MountedVolume{*dir, true};
  }

  // The object's data, or empty for an optional object that does not exist.
  Result<std::optional<KeyValues>> Fetch(bool secret, std::string_view object_name, bool optional) {
    if (!options_.objects)
      return UnavailableError("no API client to read " + std::string(secret ? "secret" : "configmap") +
                              " \"" + std::string(object_name) + "\"");
    Result<client::ObjectPtr> got =
        secret ? options_.objects->Secret(ns_, object_name) : options_.objects->ConfigMap(ns_, object_name);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound && optional) return std::optional<KeyValues>();
      return got.status();
    }
    return std::optional<KeyValues>(secret ? SecretData(**got) : ConfigMapData(**got, true));
  }

  Result<Payload> ObjectPayload(bool secret, const Value& source, int default_mode) {
    bool optional = Bool(&source, "optional");
    std::string_view object_name = json::StringMember(source, secret ? "secretName" : "name");
    Result<std::optional<KeyValues>> data = Fetch(secret, object_name, optional);
    if (!data.ok()) return data.status();
    if (!*data) return Payload();
    return KeyPayload(
        **data, json::Member(source, "items"), default_mode, optional,
        secret ? "references non-existent secret key: " : "configmap references non-existent config key: ");
  }

  Result<MountedVolume> ConfigMap(const Value& source, const std::string& name) {
    Result<Payload> payload = ObjectPayload(false, source, Mode(&source, "defaultMode", kDefaultMode));
    if (!payload.ok()) return payload.status();
    return Write("configmap", name, false, *payload);
  }

  Result<MountedVolume> Secret(const Value& source, const std::string& name) {
    Result<Payload> payload = ObjectPayload(true, source, Mode(&source, "defaultMode", kDefaultMode));
    if (!payload.ok()) return payload.status();
    return Write("secret", name, true, *payload);
  }

  Result<MountedVolume> DownwardApi(const Value& source, const std::string& name) {
    Result<Payload> payload = DownwardPayload(pod_, json::Member(source, "items"),
                                              Mode(&source, "defaultMode", kDefaultMode), options_.node);
    if (!payload.ok()) return payload.status();
    return Write("downward-api", name, false, *payload);
  }

  Result<MountedVolume> Projected(const Value& source, const std::string& name) {
    int default_mode = Mode(&source, "defaultMode", kDefaultMode);
    Payload payload;
    std::vector<std::string> errors;
    const Value* sources = json::Member(source, "sources");
    if (!sources || !sources->IsArray()) return Write("projected", name, true, payload);
    for (const Value& s : sources->GetArray()) {
      Result<Payload> part = Payload();
      if (const Value* secret = json::Member(s, "secret")) {
        part = ProjectedObject(true, *secret, default_mode);
      } else if (const Value* config_map = json::Member(s, "configMap")) {
        part = ProjectedObject(false, *config_map, default_mode);
      } else if (const Value* downward = json::Member(s, "downwardAPI")) {
        part = DownwardPayload(pod_, json::Member(*downward, "items"), default_mode, options_.node);
      } else if (const Value* token = json::Member(s, "serviceAccountToken")) {
        part = TokenPayload(*token, default_mode);
      }
      if (!part.ok()) {
        errors.push_back(part.status().message());
        continue;
      }
      for (auto& [path, file] : *part) payload[path] = std::move(file);
    }
    if (!errors.empty()) return InvalidArgumentError(Aggregate(errors));
    return Write("projected", name, true, payload);
  }

  Result<Payload> ProjectedObject(bool secret, const Value& source, int default_mode) {
    bool optional = Bool(&source, "optional");
    Result<std::optional<KeyValues>> data = Fetch(secret, json::StringMember(source, "name"), optional);
    if (!data.ok()) return data.status();
    if (!*data) return Payload();
    return KeyPayload(
        **data, json::Member(source, "items"), default_mode, optional,
        secret ? "references non-existent secret key: " : "configmap references non-existent config key: ");
  }

  Result<Payload> TokenPayload(const Value& source, int default_mode) {
    if (!options_.objects) return UnavailableError("no API client to request a service account token");
    ServiceAccountTokenRequest request;
    request.namespace_ = ns_;
    const Value* spec = json::Member(pod_, "spec");
    std::string_view account = Str(spec, "serviceAccountName");
    request.service_account = account.empty() ? "default" : std::string(account);
    request.audience = json::StringMember(source, "audience");
    if (const Value* e = json::Member(source, "expirationSeconds"); e && e->IsInt64() && e->GetInt64() > 0) {
      request.expiration_seconds = e->GetInt64();
    }
    request.pod_name = name_;
    request.pod_uid = uid_;
    Result<std::string> token = options_.objects->ServiceAccountToken(request);
    if (!token.ok()) return token.status();
    Payload payload;
    payload[std::string(json::StringMember(source, "path"))] = {*token, default_mode};
    return payload;
  }

  Result<MountedVolume> Claim(const std::string& claim, bool read_only) {
    std::string prefix = "error processing PVC " + ns_ + "/" + claim + ": ";
    if (!options_.objects) return UnavailableError(prefix + "no API client to read it");
    Result<client::ObjectPtr> pvc = options_.objects->PersistentVolumeClaim(ns_, claim);
    if (!pvc.ok())
      return Status(pvc.status().code(),
                    prefix + "failed to fetch PVC from API server: " + pvc.status().message());
    const Value* md = json::Member(**pvc, "metadata");
    if (md && json::Member(*md, "deletionTimestamp"))
      return Status(StatusCode::kUnavailable, prefix + "PVC is being deleted");
    std::string_view phase = Str(json::Member(**pvc, "status"), "phase");
    std::string volume_name(Str(json::Member(**pvc, "spec"), "volumeName"));
    if (phase != "Bound" || volume_name.empty())
      return Status(StatusCode::kUnavailable, prefix + "PVC is not bound");
    Result<client::ObjectPtr> pv = options_.objects->PersistentVolume(volume_name);
    if (!pv.ok()) {
      return Status(pv.status().code(), prefix + "failed to fetch PV " + volume_name +
                                            " from API server: " + pv.status().message());
    }
    const Value* pv_spec = json::Member(**pv, "spec");
    const Value* claim_ref = pv_spec ? json::Member(*pv_spec, "claimRef") : nullptr;
    std::string_view bound_uid = Str(claim_ref, "uid");
    std::string_view claim_uid = Str(md, "uid");
    if (!bound_uid.empty() && !claim_uid.empty() && bound_uid != claim_uid) {
      return Status(StatusCode::kUnavailable, prefix + "PV " + volume_name + " is bound to another claim");
    }
    std::string path;
    if (const Value* host = pv_spec ? json::Member(*pv_spec, "hostPath") : nullptr) {
      path = json::StringMember(*host, "path");
    } else if (const Value* local = pv_spec ? json::Member(*pv_spec, "local") : nullptr) {
      path = json::StringMember(*local, "path");
    }
    if (path.empty() || path.front() != '/') {
      return InvalidArgumentError(prefix + "PersistentVolume " + volume_name +
                                  " has no hostPath or local path this node can mount");
    }
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      // Provisioned lazily (local-path): the directory appears with the first pod.
      std::error_code ec;
      fs::create_directories(path, ec);
      if (ec) return IoError(prefix + "mkdir " + path + ": " + ec.message());
      chmod(path.c_str(), 0777);
    }
    return MountedVolume{path, read_only};
  }

  const VolumeManagerOptions& options_;
  const Value& pod_;
  const std::string pod_dir_;
  const std::optional<gid_t> fs_group_;
  std::string ns_, name_, uid_;
};

}  // namespace

bool IsPathElement(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string VolumeManager::PodDir(const std::string& uid) const {
  return options_.agent_dir + "/pods/" + uid;
}

Result<VolumeMap> VolumeManager::SetUp(const Value& pod) {
  const Value* md = json::Member(pod, "metadata");
  std::string uid(Str(md, "uid"));
  if (!IsPathElement(uid)) return InvalidArgumentError("pod uid \"" + uid + "\" cannot name a directory");
  std::string pod_dir = PodDir(uid);
  KITE_RETURN_IF_ERROR(MakeDirs(pod_dir, 0750));
  VolumeMap out;
  const Value* spec = json::Member(pod, "spec");
  const Value* volumes = spec ? json::Member(*spec, "volumes") : nullptr;
  if (!volumes || !volumes->IsArray()) return out;
  PodVolumes pod_volumes(options_, pod, pod_dir);
  for (const Value& volume : volumes->GetArray()) {
    std::string name(json::StringMember(volume, "name"));
    if (!IsPathElement(name))
      return InvalidArgumentError("volume name \"" + name + "\" cannot name a directory");
    Result<MountedVolume> mounted = pod_volumes.SetUp(volume, name);
    if (!mounted.ok()) {
      const std::string& why = mounted.status().message();
      if (why.rfind("error processing PVC ", 0) == 0) return mounted.status();
      return Status(mounted.status().code(), "MountVolume.SetUp failed for volume \"" + name + "\" : " + why);
    }
    out[name] = *mounted;
  }
  return out;
}

Status VolumeManager::TearDown(const std::string& uid) {
  if (!IsPathElement(uid)) return InvalidArgumentError("pod uid \"" + uid + "\" cannot name a directory");
  std::string pod_dir = PodDir(uid);
  struct stat st;
  if (lstat(pod_dir.c_str(), &st) != 0)
    return errno == ENOENT ? Status() : IoError(PathError("lstat", pod_dir));
  for (const std::string& point : MountsUnder(pod_dir)) {
    if (umount2(point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      return IoError("unmount " + point + ": " + ErrnoText());
    }
  }
  return RemoveTree(pod_dir, st.st_dev);
}

}  // namespace kite::agent::volumes
