#include "src/agent/local_node.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>

namespace kite::agent {
namespace {

std::string ReadLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string OsImage() {
  std::ifstream in("/etc/os-release");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    return v;
  }
  return "Linux";
}

// Go's GOARCH for uname's machine.
std::string GoArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine.rfind("arm", 0) == 0) return "arm";
  if (machine == "i386" || machine == "i686") return "386";
  if (machine == "ppc64le" || machine == "s390x" || machine == "riscv64") return machine;
  return machine.empty() ? "amd64" : machine;
}

std::string MemoryKi() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    uint64_t kib = 0;
    if (fields >> kib) return std::to_string(kib) + "Ki";
  }
  return "8Gi";
}

std::string RootFsKi() {
  struct statvfs fs;
  if (statvfs("/", &fs) != 0) return "50Gi";
  uint64_t bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  return std::to_string(bytes / 1024) + "Ki";
}

std::string FirstIpv4() {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string out;
  for (struct ifaddrs* i = list; i && out.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<struct sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf))) out = buf;
  }
  freeifaddrs(list);
  return out.empty() ? "127.0.0.1" : out;
}

std::string AsUuid(std::string hex32) {
  if (hex32.size() != 32) return hex32;
  return hex32.substr(0, 8) + "-" + hex32.substr(8, 4) + "-" + hex32.substr(12, 4) + "-" +
         hex32.substr(16, 4) + "-" + hex32.substr(20, 12);
}

}  // namespace

NodeDescription LocalNodeDescription(const std::string& node_name, const std::string& runtime_version) {
  NodeDescription node;
  node.name = node_name;
  struct utsname u;
  if (uname(&u) == 0) {
    node.kernel_version = u.release;
    node.architecture = GoArch(u.machine);
  }
  node.os_image = OsImage();
  node.container_runtime_version = runtime_version;
  node.machine_id = ReadLine("/etc/machine-id");
  std::string uuid = ReadLine("/sys/class/dmi/id/product_uuid");
  node.system_uuid = uuid.empty() ? AsUuid(node.machine_id) : uuid;
  node.boot_id = ReadLine("/proc/sys/kernel/random/boot_id");
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  node.resources.cpu = std::to_string(cpus > 0 ? cpus : 1);
  node.resources.memory = MemoryKi();
  node.resources.ephemeral_storage = RootFsKi();
  node.internal_ip = FirstIpv4();
  return node;
}

}  // namespace kite::agent
