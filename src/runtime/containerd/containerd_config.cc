#include "src/runtime/containerd/containerd_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace kite::containerd {
namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace

ContainerdPaths::ContainerdPaths(const std::string& dir)
    : containerd_dir(dir + "/containerd"),
      config(containerd_dir + "/config.toml"),
      root(containerd_dir + "/root"),
      state(containerd_dir + "/state"),
      runc_root(state + "/runc"),
      log(containerd_dir + "/containerd.log"),
      pid_file(containerd_dir + "/containerd.pid"),
      socket(dir + "/containerd.sock"),
      cni_conf_dir(dir + "/cni"),
      conflist(cni_conf_dir + "/10-kite.conflist"),
      ipam_dir(cni_conf_dir + "/ipam"),
      registry_hosts(dir + "/certs.d") {}

Status ValidateCidr(std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgumentError("pod CIDR \"" + std::string(cidr) +
                                "\" is not address/prefix-length");
  }
  std::string address(cidr.substr(0, slash));
  std::string_view prefix = cidr.substr(slash + 1);
  unsigned char buf[16];
  int max_prefix = 0;
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    max_prefix = 128;
  } else {
    return InvalidArgumentError("pod CIDR \"" + std::string(cidr) +
                                "\" does not start with an IPv4 or IPv6 address");
  }
  int bits = -1;
  auto [ptr, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
  if (prefix.empty() || ec != std::errc() || ptr != prefix.data() + prefix.size() || bits < 0 ||
      bits > max_prefix) {
    return InvalidArgumentError("pod CIDR \"" + std::string(cidr) +
                                "\" has an invalid prefix length (0-" +
                                std::to_string(max_prefix) + ")");
  }
  return Status::Ok();
}

Status ValidateOptions(const ContainerdOptions& options) {
  if (options.dir.empty() || options.dir.front() != '/') {
    return InvalidArgumentError("containerd: dir \"" + options.dir + "\" must be an absolute path");
  }
  ContainerdPaths paths(options.dir);
  if (paths.socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgumentError("containerd: socket path " + paths.socket + " is longer than " +
                                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                                " characters; use a shorter data directory");
  }
  if (options.bridge_name.empty() || options.bridge_name.size() > 15 ||
      options.bridge_name.find_first_of("/ \t\n:") != std::string::npos) {
    return InvalidArgumentError("containerd: bridge name \"" + options.bridge_name +
                                "\" must be 1-15 characters without '/', ':' or spaces");
  }
  if (!options.pod_cidr.empty()) KITE_RETURN_IF_ERROR(ValidateCidr(options.pod_cidr));
  if (options.containerd_binary.empty() || options.ctr_binary.empty() ||
      options.cni_bin_dir.empty()) {
    return InvalidArgumentError("containerd: binary paths must not be empty");
  }
  if (options.pause_image.empty()) {
    return InvalidArgumentError("containerd: pause_image must not be empty");
  }
  if (options.start_timeout.count() <= 0) {
    return InvalidArgumentError("containerd: start_timeout must be positive");
  }
  return Status::Ok();
}

std::string ContainerdConfigToml(const ContainerdOptions& options, const HostFacts& host) {
  ContainerdPaths p(options.dir);
  const std::string cri = "[plugins.\"io.containerd.grpc.v1.cri\"";
  std::string t;
  t += "# Written by kite at every start of its containerd; edits are overwritten.\n";
  t += "# Host: " + host.Describe() + ".\n";
  t += "version = 2\n";
  t += "root = " + TomlString(p.root) + "\n";
  t += "state = " + TomlString(p.state) + "\n";
  t += "[grpc]\n";
  t += "  address = " + TomlString(p.socket) + "\n";
  // The default (/opt/containerd) would be shared by every containerd on the host.
  t += "[plugins.\"io.containerd.internal.v1.opt\"]\n";
  t += "  path = " + TomlString(p.containerd_dir + "/opt") + "\n";
  t += cri + "]\n";
  t += "  sandbox_image = " + TomlString(options.pause_image) + "\n";
  t += std::string("  restrict_oom_score_adj = ") + (host.cap_sys_resource ? "false" : "true") +
       "\n";
  // Exec/attach/port-forward URLs on loopback, a free port: only the agent connects.
  t += "  stream_server_address = \"127.0.0.1\"\n";
  t += "  stream_server_port = \"0\"\n";
  t += "  enable_selinux = false\n";
  t += "  " + cri + ".containerd]\n";
  t += "    snapshotter = " + TomlString(kSnapshotter) + "\n";
  t += "    default_runtime_name = \"runc\"\n";
  t += "    " + cri + ".containerd.runtimes.runc]\n";
  t += "      runtime_type = \"io.containerd.runc.v2\"\n";
  t += "      " + cri + ".containerd.runtimes.runc.options]\n";
  t += "        Root = " + TomlString(p.runc_root) + "\n";
  t += "        SystemdCgroup = false\n";
  t += "  " + cri + ".cni]\n";
  t += "    bin_dir = " + TomlString(options.cni_bin_dir) + "\n";
  t += "    conf_dir = " + TomlString(p.cni_conf_dir) + "\n";
  // Per-registry hosts.toml files (plain HTTP, mirrors, CAs), read at every pull; without
  // config_path only the deprecated registry.mirrors/configs tables could say any of it.
  t += "  " + cri + ".registry]\n";
  t += "    config_path = " + TomlString(p.registry_hosts) + "\n";
  return t;
}

std::string CniConflistJson(const ContainerdOptions& options, std::string_view pod_cidr) {
  ContainerdPaths p(options.dir);
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("cniVersion");
  w.String("0.4.0");
  w.Key("name");
  w.String("kite");
  w.Key("plugins");
  w.StartArray();

  w.StartObject();
  w.Key("type");
  w.String("bridge");
  w.Key("bridge");
  w.String(options.bridge_name);
  w.Key("isGateway");
  w.Bool(true);
  w.Key("ipMasq");
  w.Bool(true);
  // A pod reaching itself through a Service address needs its packets back on its port.
  w.Key("hairpinMode");
  w.Bool(true);
  w.Key("ipam");
  w.StartObject();
  w.Key("type");
  w.String("host-local");
  w.Key("ranges");
  w.StartArray();
  w.StartArray();
  w.StartObject();
  w.Key("subnet");
  w.String(pod_cidr.data(), static_cast<rapidjson::SizeType>(pod_cidr.size()));
  w.EndObject();
  w.EndArray();
  w.EndArray();
  w.Key("routes");
  w.StartArray();
  w.StartObject();
  w.Key("dst");
  w.String(pod_cidr.find(':') == std::string_view::npos ? "0.0.0.0/0" : "::/0");
  w.EndObject();
  w.EndArray();
  // The default (/var/lib/cni/networks) would be shared with any other agent on the host.
  w.Key("dataDir");
  w.String(p.ipam_dir);
  w.EndObject();
  w.EndObject();

  w.StartObject();
  w.Key("type");
  w.String("portmap");
  w.Key("capabilities");
  w.StartObject();
  w.Key("portMappings");
  w.Bool(true);
  w.EndObject();
  w.EndObject();

  w.StartObject();
  w.Key("type");
  w.String("loopback");
  w.EndObject();

  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError("cannot write " + tmp + ": " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot write " + path + ": " + std::strerror(e));
  }
  return Status::Ok();
}

}  // namespace kite::containerd
