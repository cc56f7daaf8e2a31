#include "src/agent/container_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "src/agent/pod_status.h"
#include "src/agent/volumes/object_data.h"
#include "src/server/admission/quantity.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

namespace fs = std::filesystem;
using rapidjson::Value;

constexpr char kEtcHosts[] = "/etc/hosts";
constexpr char kDefaultTerminationMessagePath[] = "/dev/termination-log";
constexpr char kClusterDomain[] = "cluster.local";
constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kSharesPerCpu = 1024;
constexpr int64_t kQuotaPeriod = 100000;  // µs
constexpr int64_t kMinQuotaPeriod = 1000;
constexpr int64_t kGuaranteedOomScoreAdj = -997;
constexpr int64_t kBestEffortOomScoreAdj = 1000;

std::string_view Str(const Value* object, std::string_view name) {
  return object ? json::StringMember(*object, name) : std::string_view();
}

bool Bool(const Value* object, std::string_view name, bool fallback = false) {
  const Value* v = object ? json::Member(*object, name) : nullptr;
  return v && v->IsBool() ? v->GetBool() : fallback;
}

std::optional<int64_t> Int(const Value* object, std::string_view name) {
  const Value* v = object ? json::Member(*object, name) : nullptr;
  if (v && v->IsInt64()) return v->GetInt64();
  return std::nullopt;
}

std::vector<std::string> StringList(const Value* v) {
  std::vector<std::string> out;
  if (!v || !v->IsArray()) return out;
  for (const auto& item : v->GetArray()) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

runtime::Labels StringMap(const Value* object) {
  runtime::Labels out;
  if (!object || !object->IsObject()) return out;
  for (const auto& m : object->GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

// The quantity resources.<list>.<name> of a container; nullopt when absent or unparsable.
std::optional<admission::Quantity> Resource(const Value& container, const char* list, const char* name) {
  const Value* resources = json::Member(container, "resources");
  const Value* values = resources ? json::Member(*resources, list) : nullptr;
  const Value* v = values ? json::Member(*values, name) : nullptr;
  if (!v) return std::nullopt;
  std::string text = v->IsString()  ? std::string(v->GetString())
                     : v->IsInt64() ? std::to_string(v->GetInt64())
                                    : "";
  Result<admission::Quantity> q = admission::Quantity::Parse(text);
  if (!q.ok()) return std::nullopt;
  return *q;
}

// utilvalidation.IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*.
bool IsEnvVarName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = c == '-' || c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Go's fmt "%v" of a pod as format.Pod prints it: "name_namespace(uid)".
std::string PodDescription(const Value& pod) {
  const Value* md = json::Member(pod, "metadata");
  return std::string(Str(md, "name")) + "_" + std::string(Str(md, "namespace")) + "(" +
         std::string(Str(md, "uid")) + ")";
}

// An ordered set of variables, each name once, a redefinition replacing the value in place.
class OrderedEnv {
 public:
  void Set(const std::string& name, std::string value) {
    auto it = index_.find(name);
    if (it != index_.end()) {
      list_[it->second].second = std::move(value);
      return;
    }
    index_[name] = list_.size();
    list_.emplace_back(name, std::move(value));
  }
  const std::string* Find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &list_[it->second].second;
  }
  const EnvList& list() const { return list_; }

 private:
  EnvList list_;
  std::map<std::string, size_t> index_;
};

// The kubelet's cache of ConfigMaps and Secrets for one container's environment.
class EnvObjects {
 public:
  EnvObjects(PodObjects* objects, std::string ns) : objects_(objects), ns_(std::move(ns)) {}

  // The object's data; nullopt for an optional one that does not exist.
  Result<std::optional<volumes::KeyValues>> Get(bool secret, const std::string& name, bool optional) {
    auto& cache = secret ? secrets_ : config_maps_;
    auto it = cache.find(name);
    if (it != cache.end()) return std::optional<volumes::KeyValues>(it->second);
    if (!objects_) {
      return UnavailableError(std::string(secret ? "couldn't get secret " : "couldn't get configMap ") + ns_ +
                              "/" + name + ", no kubeClient defined");
    }
    Result<client::ObjectPtr> got = secret ? objects_->Secret(ns_, name) : objects_->ConfigMap(ns_, name);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound && optional)
        return std::optional<volumes::KeyValues>();
      return got.status();
    }
    volumes::KeyValues data = secret ? volumes::SecretData(**got) : volumes::ConfigMapData(**got, false);
    cache[name] = data;
    return std::optional<volumes::KeyValues>(std::move(data));
  }

 private:
  PodObjects* objects_;
  std::string ns_;
  std::map<std::string, volumes::KeyValues> config_maps_, secrets_;
};

// "[::1]:80" or "10.0.0.1:80", as net.JoinHostPort.
std::string JoinHostPort(std::string_view host, int64_t port) {
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

// envvars.makeEnvVariableName.
std::string EnvVariableName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '.' || c == '-') {
      out.push_back('_');
    } else {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out = "_" + out;
  return out;
}

bool HasClusterIp(const Value& service) {
  std::string_view ip = Str(json::Member(service, "spec"), "clusterIP");
  return !ip.empty() && ip != "None";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The service variables of the pod's namespace (and `kubernetes` of `default`), by name.
Result<std::map<std::string, std::string>> ServiceVariables(const Value& pod, PodObjects* objects) {
  std::map<std::string, std::string> out;
  if (!objects) return out;
  const Value* spec = json::Member(pod, "spec");
  std::string ns(Str(json::Member(pod, "metadata"), "namespace"));
  bool links = Bool(spec, "enableServiceLinks", true);
  std::map<std::string, client::ObjectPtr> by_name;
  Result<std::vector<client::ObjectPtr>> defaults = objects->Services("default");
  if (!defaults.ok()) return UnavailableError("failed to list services when setting up env vars");
  for (const client::ObjectPtr& s : *defaults) {
    if (Str(json::Member(*s, "metadata"), "name") == "kubernetes" && HasClusterIp(*s))
      by_name["kubernetes"] = s;
  }
  if (links) {
    Result<std::vector<client::ObjectPtr>> local = ns == "default" ? defaults : objects->Services(ns);
    if (!local.ok()) return UnavailableError("failed to list services when setting up env vars");
    for (const client::ObjectPtr& s : *local) {
      if (HasClusterIp(*s)) by_name[std::string(Str(json::Member(*s, "metadata"), "name"))] = s;
    }
  }
  std::vector<client::ObjectPtr> services;
  for (auto& [name, s] : by_name) services.push_back(s);
  for (auto& [name, value] : ServiceLinkVariables(services)) out[name] = value;
  return out;
}

// ValidatePathNoBacksteps.
bool HasBacksteps(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(start, slash - start) == "..") return true;
    start = slash + 1;
  }
  return false;
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

Status WriteWholeFile(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return IoError("open " + tmp + ": " + std::strerror(errno));
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = fchmod(fd, mode) == 0 && ok;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return IoError("write " + path + ": " + std::strerror(errno));
  }
  return Status();
}

// GeneratePodHostNameAndDomain: the short host name and the domain ("" without subdomain).
std::pair<std::string, std::string> HostNameAndDomain(const Value& pod) {
  const Value* md = json::Member(pod, "metadata");
  const Value* spec = json::Member(pod, "spec");
  std::string hostname(Str(spec, "hostname"));
  if (hostname.empty()) hostname = Str(md, "name");
  if (hostname.size() > 63) {
    hostname.resize(63);
    while (!hostname.empty() && (hostname.back() == '-' || hostname.back() == '.')) hostname.pop_back();
  }
  std::string domain;
  if (std::string_view sub = Str(spec, "subdomain"); !sub.empty()) {
    domain = std::string(sub) + "." + std::string(Str(md, "namespace")) + ".svc." + kClusterDomain;
  }
  return {hostname, domain};
}

std::string HostAliases(const Value& pod) {
  const Value* spec = json::Member(pod, "spec");
  const Value* aliases = spec ? json::Member(*spec, "hostAliases") : nullptr;
  if (!aliases || !aliases->IsArray() || aliases->Empty()) return "";
  std::string out = "\n# Entries added by HostAliases.\n";
  for (const Value& alias : aliases->GetArray()) {
    out += std::string(json::StringMember(alias, "ip"));
    for (const std::string& name : StringList(json::Member(alias, "hostnames"))) out += "\t" + name;
    out += "\n";
  }
  return out;
}

bool IsLoopback(const std::string& address) {
  in_addr v4;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

runtime::DnsConfig ParseResolvConf(const std::string& path) {
  runtime::DnsConfig out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (size_t hash = line.find_first_of("#;"); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string key;
    if (!(words >> key)) continue;
    std::string word;
    if (key == "nameserver") {
      if (words >> word) out.servers.push_back(word);
    } else if (key == "search" || key == "domain") {
      out.searches.clear();  // the last search/domain line wins
      while (words >> word) out.searches.push_back(word);
    } else if (key == "options") {
      while (words >> word) out.options.push_back(word);
    }
  }
  return out;
}

void AppendUnique(std::vector<std::string>& to, const std::vector<std::string>& more) {
  for (const std::string& s : more) {
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
  }
}

}  // namespace

// --- Expansion and env ------------------------------------------------------------------------

std::string ExpandVariables(std::string_view input,
                            const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  size_t checkpoint = 0;
  for (size_t cursor = 0; cursor < input.size(); ++cursor) {
    if (input[cursor] != '$' || cursor + 1 >= input.size()) continue;
    out.append(input.substr(checkpoint, cursor - checkpoint));
    std::string_view rest = input.substr(cursor + 1);
    size_t advance = 1;
    if (rest[0] == '$') {
      out.push_back('$');  // "$$" escapes a "$"
    } else if (rest[0] == '(') {
      size_t close = rest.find(')', 1);
      if (close == std::string_view::npos) {
        out.append("$(");  // incomplete: kept as written
      } else {
        std::string_view name = rest.substr(1, close - 1);
        std::optional<std::string> value = lookup(name);
        out.append(value ? *value : "$(" + std::string(name) + ")");
        advance = close + 1;
      }
    } else {
      out.push_back('$');
      out.push_back(rest[0]);
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  if (checkpoint < input.size()) out.append(input.substr(checkpoint));
  return out;
}

EnvList ServiceLinkVariables(const std::vector<client::ObjectPtr>& services) {
  EnvList out;
  for (const client::ObjectPtr& service : services) {
    if (!service || !HasClusterIp(*service)) continue;
    const Value* spec = json::Member(*service, "spec");
    const Value* ports = json::Member(*spec, "ports");
    if (!ports || !ports->IsArray() || ports->Empty()) continue;
    std::string ip(Str(spec, "clusterIP"));
    std::string prefix = EnvVariableName(Str(json::Member(*service, "metadata"), "name"));
    out.emplace_back(prefix + "_SERVICE_HOST", ip);
    const Value& first = (*ports)[0];
    out.emplace_back(prefix + "_SERVICE_PORT", std::to_string(Int(&first, "port").value_or(0)));
    for (const Value& port : ports->GetArray()) {
      std::string_view name = json::StringMember(port, "name");
      if (!name.empty()) {
        out.emplace_back(prefix + "_SERVICE_PORT_" + EnvVariableName(name),
                         std::to_string(Int(&port, "port").value_or(0)));
      }
    }
    bool first_port = true;
    for (const Value& port : ports->GetArray()) {
      std::string protocol(json::StringMember(port, "protocol"));
      if (protocol.empty()) protocol = "TCP";
      int64_t number = Int(&port, "port").value_or(0);
      std::string url = Lower(protocol) + "://" + JoinHostPort(ip, number);
      if (first_port) out.emplace_back(prefix + "_PORT", url);
      first_port = false;
      std::string port_prefix = prefix + "_PORT_" + std::to_string(number) + "_" + Upper(protocol);
      out.emplace_back(port_prefix, url);
      out.emplace_back(port_prefix + "_PROTO", Lower(protocol));
      out.emplace_back(port_prefix + "_PORT", std::to_string(number));
      out.emplace_back(port_prefix + "_ADDR", ip);
    }
  }
  return out;
}

Result<EnvList> MakeEnvironment(const Value& pod, const Value& container, const ContainerContext& context) {
  std::string ns(Str(json::Member(pod, "metadata"), "namespace"));
  Result<std::map<std::string, std::string>> service_env = ServiceVariables(pod, context.objects);
  if (!service_env.ok()) return service_env.status();
  EnvObjects objects(context.objects, ns);
  OrderedEnv env;

  if (const Value* from = json::Member(container, "envFrom"); from && from->IsArray()) {
    for (const Value& source : from->GetArray()) {
      std::string prefix(json::StringMember(source, "prefix"));
      const Value* ref = json::Member(source, "configMapRef");
      bool secret = false;
      if (!ref) {
        ref = json::Member(source, "secretRef");
        secret = true;
      }
      if (!ref) continue;
      Result<std::optional<volumes::KeyValues>> data =
          objects.Get(secret, std::string(json::StringMember(*ref, "name")), Bool(ref, "optional"));
      if (!data.ok()) return data.status();
      if (!*data) continue;
      // Keys that are not valid names are skipped (the kubelet reports them in an event).
      for (const auto& [key, value] : **data) {
        std::string name = prefix + key;
        if (IsEnvVarName(name)) env.Set(name, value);
      }
    }
  }

  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    if (const std::string* v = env.Find(name)) return *v;
    auto it = service_env->find(std::string(name));
    if (it != service_env->end()) return it->second;
    return std::nullopt;
  };
  if (const Value* vars = json::Member(container, "env"); vars && vars->IsArray()) {
    for (const Value& var : vars->GetArray()) {
      std::string name(json::StringMember(var, "name"));
      if (name.empty()) continue;
      std::string value(json::StringMember(var, "value"));
      const Value* from = json::Member(var, "valueFrom");
      if (!value.empty()) {
        value = ExpandVariables(value, lookup);
      } else if (from) {
        if (const Value* field = json::Member(*from, "fieldRef")) {
          std::string_view version = json::StringMember(*field, "apiVersion");
          if (!version.empty() && version != "v1")
            return InvalidArgumentError("unsupported pod version: " + std::string(version));
          Result<std::string> v = volumes::PodFieldValue(pod, json::StringMember(*field, "fieldPath"),
                                                         context.pod_ips, context.host_ips);
          if (!v.ok()) return v.status();
          value = *v;
        } else if (const Value* resource = json::Member(*from, "resourceFieldRef")) {
          std::string_view target = json::StringMember(*resource, "containerName");
          const Value* subject = target.empty() ? &container : volumes::FindContainer(pod, target);
          if (!subject) return InvalidArgumentError("container " + std::string(target) + " not found");
          std::string divisor;
          if (const Value* d = json::Member(*resource, "divisor")) {
            divisor = d->IsString() ? d->GetString() : d->IsInt64() ? std::to_string(d->GetInt64()) : "";
          }
          Result<std::string> v = volumes::ResourceFieldValue(
              *subject, json::StringMember(*resource, "resource"), divisor, context.node);
          if (!v.ok()) return v.status();
          value = *v;
        } else if (const Value* ref = json::Member(*from, "configMapKeyRef");
                   ref || json::Member(*from, "secretKeyRef")) {
          bool secret = !ref;
          if (!ref) ref = json::Member(*from, "secretKeyRef");
          std::string object(json::StringMember(*ref, "name"));
          std::string key(json::StringMember(*ref, "key"));
          bool optional = Bool(ref, "optional");
          Result<std::optional<volumes::KeyValues>> data = objects.Get(secret, object, optional);
          if (!data.ok()) return data.status();
          if (!*data) continue;
          auto it = (*data)->find(key);
          if (it == (*data)->end()) {
            if (optional) continue;
            return InvalidArgumentError("couldn't find key " + key + " in " +
                                        (secret ? "Secret " : "ConfigMap ") + ns + "/" + object);
          }
          value = it->second;
        }
      }
      env.Set(name, value);
    }
  }

  EnvList out;
  for (const auto& [name, value] : *service_env) {
    if (!env.Find(name)) out.emplace_back(name, value);
  }
  out.insert(out.end(), env.list().begin(), env.list().end());
  return out;
}

// --- Mounts -----------------------------------------------------------------------------------

std::string ManagedHostsFile(const Value& pod, const std::vector<std::string>& pod_ips) {
  auto [hostname, domain] = HostNameAndDomain(pod);
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  for (const std::string& ip : pod_ips) {
    out += domain.empty() ? ip + "\t" + hostname + "\n"
                          : ip + "\t" + hostname + "." + domain + "\t" + hostname + "\n";
  }
  return out + HostAliases(pod);
}

Result<std::vector<runtime::Mount>> MakeMounts(const Value& pod, const Value& container, uint32_t attempt,
                                               const EnvList& env, const ContainerContext& context) {
  std::vector<runtime::Mount> out;
  std::string container_name(json::StringMember(container, "name"));
  const Value* spec = json::Member(pod, "spec");
  bool host_network = Bool(spec, "hostNetwork");
  bool mounts_etc_hosts = false;
  const Value* sc = json::Member(container, "securityContext");
  bool privileged = Bool(sc, "privileged");

  const Value* mounts = json::Member(container, "volumeMounts");
  const Value no_mounts(rapidjson::kArrayType);
  if (!mounts || !mounts->IsArray()) mounts = &no_mounts;
  for (const Value& m : mounts->GetArray()) {
    std::string name(json::StringMember(m, "name"));
    std::string path(json::StringMember(m, "mountPath"));
    if (path == kEtcHosts) mounts_etc_hosts = true;
    if (!context.volumes) continue;  // volumes are not managed on this node
    auto volume = context.volumes->find(name);
    if (volume == context.volumes->end()) {
      return InvalidArgumentError("cannot find volume \"" + name + "\" to mount into container \"" +
                                  container_name + "\"");
    }
    std::string sub_path(json::StringMember(m, "subPath"));
    if (std::string_view expr = json::StringMember(m, "subPathExpr"); !expr.empty()) {
      std::set<std::string> missing;
      sub_path = ExpandVariables(expr, [&](std::string_view var) -> std::optional<std::string> {
        for (const auto& [k, v] : env) {
          if (k == var && !v.empty()) return v;
        }
        missing.insert(std::string(var));
        return std::string();
      });
      if (!missing.empty()) {
        std::string names;
        for (const std::string& n : missing) names += (names.empty() ? "" : ", ") + n;
        return InvalidArgumentError("missing value for " + names);
      }
    }
    std::string host_path = volume->second.host_path;
    if (!sub_path.empty()) {
      if (sub_path.front() == '/')
        return InvalidArgumentError("error SubPath `" + sub_path + "` must not be an absolute path");
      if (HasBacksteps(sub_path)) {
        return InvalidArgumentError("unable to provision SubPath `" + sub_path + "`: must not contain '..'");
      }
      std::string volume_path = host_path;
      host_path = volume_path + "/" + sub_path;
      struct stat st;
      if (lstat(host_path.c_str(), &st) != 0) {
        // Created now with the volume's mode, so it does not appear later root-owned 0755.
        struct stat vst;
        std::error_code ec;
        if (stat(volume_path.c_str(), &vst) != 0 || (fs::create_directories(host_path, ec), ec) ||
            chmod(host_path.c_str(), vst.st_mode & 07777) != 0) {
          return InvalidArgumentError("failed to create subPath directory for volumeMount \"" + name +
                                      "\" of container \"" + container_name + "\"");
        }
      }
      // Never let a symlink inside the volume lead the mount out of it.
      std::string real_volume = RealPath(volume_path);
      std::string real = RealPath(host_path);
      if (real.empty() || real_volume.empty() ||
          (real != real_volume && real.compare(0, real_volume.size() + 1, real_volume + "/") != 0)) {
        return InvalidArgumentError("failed to prepare subPath for volumeMount \"" + name +
                                    "\" of container \"" + container_name + "\"");
      }
      host_path = real;
    }
    runtime::Mount mount;
    mount.container_path = !path.empty() && path.front() == '/' ? path : "/" + path;
    mount.host_path = host_path;
    mount.readonly = Bool(&m, "readOnly") || volume->second.read_only;
    std::string_view propagation = json::StringMember(m, "mountPropagation");
    if (propagation.empty() || propagation == "None") {
      mount.propagation = runtime::MountPropagation::kPrivate;
    } else if (propagation == "HostToContainer") {
      mount.propagation = runtime::MountPropagation::kHostToContainer;
    } else if (propagation == "Bidirectional") {
      if (!privileged) {
        return InvalidArgumentError(
            "Bidirectional mount propagation is available only to privileged containers");
      }
      mount.propagation = runtime::MountPropagation::kBidirectional;
    } else {
      return InvalidArgumentError("invalid MountPropagation mode: \"" + std::string(propagation) + "\"");
    }
    out.push_back(std::move(mount));
  }

  if (context.pod_dir.empty()) return out;
  if (!mounts_etc_hosts && (!context.pod_ips.empty() || host_network)) {
    std::string content;
    if (host_network) {
      std::ifstream in(kEtcHosts);
      std::stringstream node_hosts;
      node_hosts << in.rdbuf();
      content = "# Kubernetes-managed hosts file (host network).\n" + node_hosts.str() + HostAliases(pod);
    } else {
      content = ManagedHostsFile(pod, context.pod_ips);
    }
    std::string file = context.pod_dir + "/etc-hosts";
    KITE_RETURN_IF_ERROR(WriteWholeFile(file, content, 0644));
    out.push_back({kEtcHosts, file, false, runtime::MountPropagation::kPrivate});
  }
  std::string_view message_path = json::StringMember(container, "terminationMessagePath");
  if (!json::Member(container, "terminationMessagePath")) message_path = kDefaultTerminationMessagePath;
  if (!message_path.empty()) {
    std::string dir = context.pod_dir + "/containers/" + container_name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("mkdir " + dir + ": " + ec.message());
    std::string file = dir + "/" + std::to_string(attempt);
    KITE_RETURN_IF_ERROR(WriteWholeFile(file, "", 0666));
    out.push_back({std::string(message_path), file, false, runtime::MountPropagation::kPrivate});
  }
  return out;
}

// --- Resources and security -------------------------------------------------------------------

int64_t OomScoreAdjust(const Value& pod, const Value& container, int64_t memory_capacity_bytes) {
  const Value* spec = json::Member(pod, "spec");
  if (Str(spec, "priorityClassName") == "system-node-critical") return kGuaranteedOomScoreAdj;
  std::string qos = QosClass(pod);
  if (qos == "Guaranteed") return kGuaranteedOomScoreAdj;
  if (qos == "BestEffort") return kBestEffortOomScoreAdj;
  std::optional<admission::Quantity> request = Resource(container, "requests", "memory");
  if (!request) request = Resource(container, "limits", "memory");
  int64_t memory_request = request ? request->Value() : 0;
  if (memory_capacity_bytes <= 0) return kBestEffortOomScoreAdj - 1;
  int64_t adjust =
      1000 - static_cast<int64_t>((static_cast<__int128>(1000) * memory_request) / memory_capacity_bytes);
  // A Guaranteed container using all memory scores about 3; Burstable ones stay above that
  // and below BestEffort.
  if (adjust < 1000 + kGuaranteedOomScoreAdj) return 1000 + kGuaranteedOomScoreAdj;
  if (adjust == kBestEffortOomScoreAdj) return adjust - 1;
  return adjust;
}

runtime::LinuxResources ContainerResources(const Value& pod, const Value& container,
                                           int64_t memory_capacity_bytes) {
  runtime::LinuxResources r;
  std::optional<admission::Quantity> cpu_request = Resource(container, "requests", "cpu");
  std::optional<admission::Quantity> cpu_limit = Resource(container, "limits", "cpu");
  std::optional<admission::Quantity> memory_limit = Resource(container, "limits", "memory");
  int64_t request_milli = cpu_request ? cpu_request->MilliValue() : 0;
  int64_t limit_milli = cpu_limit ? cpu_limit->MilliValue() : 0;
  // A limit without a request means a request equal to it (as API defaulting sets).
  int64_t shares_milli = request_milli == 0 && limit_milli != 0 ? limit_milli : request_milli;
  int64_t shares = shares_milli * kSharesPerCpu / 1000;
  r.cpu_shares = std::clamp(shares, kMinShares, kMaxShares);
  r.cpu_period = kQuotaPeriod;
  if (limit_milli > 0) r.cpu_quota = std::max(limit_milli * kQuotaPeriod / 1000, kMinQuotaPeriod);
  if (memory_limit && memory_limit->Value() > 0) r.memory_limit_in_bytes = memory_limit->Value();
  r.oom_score_adj = OomScoreAdjust(pod, container, memory_capacity_bytes);
  return r;
}

Result<runtime::SecurityContext> ContainerSecurity(const Value& pod, const Value& container) {
  runtime::SecurityContext out;
  const Value* spec = json::Member(pod, "spec");
  const Value* pod_sc = spec ? json::Member(*spec, "securityContext") : nullptr;
  const Value* sc = json::Member(container, "securityContext");
  auto merged = [&](std::string_view field) -> const Value* {
    const Value* v = sc ? json::Member(*sc, field) : nullptr;
    if (v && !v->IsNull()) return v;
    v = pod_sc ? json::Member(*pod_sc, field) : nullptr;
    return v && !v->IsNull() ? v : nullptr;
  };
  if (const Value* v = merged("runAsUser"); v && v->IsInt64()) out.run_as_user = v->GetInt64();
  if (const Value* v = merged("runAsGroup"); v && v->IsInt64()) out.run_as_group = v->GetInt64();
  if (const Value* v = merged("runAsNonRoot"); v && v->IsBool() && v->GetBool() && out.run_as_user == 0) {
    return InvalidArgumentError("container's runAsUser breaks non-root policy (pod: \"" +
                                PodDescription(pod) +
                                "\", container: " + std::string(json::StringMember(container, "name")) + ")");
  }
  if (std::optional<int64_t> fs_group = Int(pod_sc, "fsGroup")) out.supplemental_groups.push_back(*fs_group);
  if (const Value* groups = pod_sc ? json::Member(*pod_sc, "supplementalGroups") : nullptr;
      groups && groups->IsArray()) {
    for (const Value& g : groups->GetArray()) {
      if (g.IsInt64()) out.supplemental_groups.push_back(g.GetInt64());
    }
  }
  out.readonly_rootfs = Bool(sc, "readOnlyRootFilesystem");
  out.privileged = Bool(sc, "privileged");
  if (const Value* caps = sc ? json::Member(*sc, "capabilities") : nullptr) {
    out.add_capabilities = StringList(json::Member(*caps, "add"));
    out.drop_capabilities = StringList(json::Member(*caps, "drop"));
  }
  return out;
}

// --- The container ----------------------------------------------------------------------------

Result<runtime::ContainerConfig> BuildContainerConfig(const Value& pod, const Value& container,
                                                      uint32_t attempt, const ContainerContext& context) {
  const Value* md = json::Member(pod, "metadata");
  const Value* spec = json::Member(pod, "spec");
  std::string name(json::StringMember(container, "name"));
  runtime::ContainerConfig config;
  config.metadata = {name, attempt};
  config.image = json::StringMember(container, "image");

  Result<EnvList> env = MakeEnvironment(pod, container, context);
  if (!env.ok()) return env.status();
  std::map<std::string, std::string> env_map(env->begin(), env->end());
  auto lookup = [&env_map](std::string_view var) -> std::optional<std::string> {
    auto it = env_map.find(std::string(var));
    if (it == env_map.end()) return std::nullopt;
    return it->second;
  };
  for (const std::string& c : StringList(json::Member(container, "command")))
    config.command.push_back(ExpandVariables(c, lookup));
  for (const std::string& a : StringList(json::Member(container, "args")))
    config.args.push_back(ExpandVariables(a, lookup));
  config.working_dir = json::StringMember(container, "workingDir");
  config.envs = *env;

  Result<std::vector<runtime::Mount>> mounts = MakeMounts(pod, container, attempt, *env, context);
  if (!mounts.ok()) return mounts.status();
  config.mounts = std::move(mounts).value();
  config.log_path = name + "/" + std::to_string(attempt) + ".log";
  config.stdin_open = Bool(&container, "stdin");
  config.stdin_once = Bool(&container, "stdinOnce");
  config.tty = Bool(&container, "tty");
  int64_t capacity =
      context.memory_capacity_bytes > 0 ? context.memory_capacity_bytes : context.node.memory_bytes;
  config.resources = ContainerResources(pod, container, capacity);
  Result<runtime::SecurityContext> security = ContainerSecurity(pod, container);
  if (!security.ok()) return security.status();
  config.security = std::move(security).value();

  config.labels = {{runtime::kPodNameLabel, std::string(Str(md, "name"))},
                   {runtime::kPodNamespaceLabel, std::string(Str(md, "namespace"))},
                   {runtime::kPodUidLabel, std::string(Str(md, "uid"))},
                   {runtime::kContainerNameLabel, name}};
  config.annotations["io.kubernetes.container.restartCount"] = std::to_string(attempt);
  std::string_view message_path = json::StringMember(container, "terminationMessagePath");
  if (!json::Member(container, "terminationMessagePath")) message_path = kDefaultTerminationMessagePath;
  config.annotations["io.kubernetes.container.terminationMessagePath"] = message_path;
  std::string_view policy = json::StringMember(container, "terminationMessagePolicy");
  config.annotations["io.kubernetes.container.terminationMessagePolicy"] = policy.empty() ? "File" : policy;
  config.annotations["io.kubernetes.pod.terminationGracePeriod"] =
      std::to_string(Int(spec, "terminationGracePeriodSeconds").value_or(30));
  return config;
}

// --- The sandbox ------------------------------------------------------------------------------

std::string PodLogDirectory(const std::string& agent_dir, std::string_view ns, std::string_view name,
                            std::string_view uid) {
  return agent_dir + "/pod-logs/" + std::string(ns) + "_" + std::string(name) + "_" + std::string(uid);
}

runtime::DnsConfig ReadResolvConf(const std::string& path) {
  runtime::DnsConfig dns = ParseResolvConf(path);
  std::vector<std::string> servers;
  for (const std::string& s : dns.servers) {
    if (!IsLoopback(s)) servers.push_back(s);
  }
  if (servers.empty() && !dns.servers.empty()) {
    // systemd-resolved's stub (127.0.0.53): its upstream servers are in another file.
    runtime::DnsConfig upstream = ParseResolvConf("/run/systemd/resolve/resolv.conf");
    for (const std::string& s : upstream.servers) {
      if (!IsLoopback(s)) servers.push_back(s);
    }
  }
  dns.servers = std::move(servers);
  return dns;
}

runtime::PodSandboxConfig BuildSandboxConfig(const Value& pod, const SandboxContext& context) {
  const Value* md = json::Member(pod, "metadata");
  const Value* spec = json::Member(pod, "spec");
  runtime::PodSandboxConfig config;
  config.metadata.name = Str(md, "name");
  config.metadata.namespace_ = Str(md, "namespace");
  config.metadata.uid = Str(md, "uid");
  config.host_network = Bool(spec, "hostNetwork");
  if (!config.host_network) config.hostname = HostNameAndDomain(pod).first;
  if (!context.agent_dir.empty()) {
    config.log_directory = PodLogDirectory(context.agent_dir, config.metadata.namespace_,
                                           config.metadata.name, config.metadata.uid);
  }

  std::string_view policy = Str(spec, "dnsPolicy");
  if (policy != "None") config.dns = context.host_dns;  // Default, and ClusterFirst without cluster DNS
  if (const Value* extra = spec ? json::Member(*spec, "dnsConfig") : nullptr) {
    AppendUnique(config.dns.servers, StringList(json::Member(*extra, "nameservers")));
    AppendUnique(config.dns.searches, StringList(json::Member(*extra, "searches")));
    std::map<std::string, std::string> options;
    for (const std::string& o : config.dns.options) {
      size_t colon = o.find(':');
      options[o.substr(0, colon)] = colon == std::string::npos ? "" : o.substr(colon + 1);
    }
    if (const Value* more = json::Member(*extra, "options"); more && more->IsArray()) {
      for (const Value& o : more->GetArray())
        options[std::string(json::StringMember(o, "name"))] = json::StringMember(o, "value");
    }
    config.dns.options.clear();
    for (const auto& [name, value] : options) {
      if (!name.empty()) config.dns.options.push_back(value.empty() ? name : name + ":" + value);
    }
  }

  if (const Value* containers = spec ? json::Member(*spec, "containers") : nullptr;
      containers && containers->IsArray()) {
    for (const Value& c : containers->GetArray()) {
      const Value* ports = json::Member(c, "ports");
      if (!ports || !ports->IsArray()) continue;
      for (const Value& p : ports->GetArray()) {
        runtime::PortMapping mapping;
        std::string_view protocol = json::StringMember(p, "protocol");
        mapping.protocol = protocol.empty() ? "TCP" : std::string(protocol);
        mapping.container_port = static_cast<int32_t>(Int(&p, "containerPort").value_or(0));
        mapping.host_port = static_cast<int32_t>(Int(&p, "hostPort").value_or(0));
        mapping.host_ip = json::StringMember(p, "hostIP");
        config.port_mappings.push_back(std::move(mapping));
      }
    }
  }

  config.labels = StringMap(md ? json::Member(*md, "labels") : nullptr);
  config.labels[runtime::kPodNameLabel] = config.metadata.name;
  config.labels[runtime::kPodNamespaceLabel] = config.metadata.namespace_;
  config.labels[runtime::kPodUidLabel] = config.metadata.uid;
  config.annotations = StringMap(md ? json::Member(*md, "annotations") : nullptr);
  return config;
}

}  // namespace kite::agent
