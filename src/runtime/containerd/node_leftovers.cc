#include "src/runtime/containerd/node_leftovers.h"

#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/runtime/containerd/subprocess.h"

namespace kite::containerd {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == getpid()) continue;
    std::string cmdline = ReadFile(std::string("/proc/") + entry->d_name + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) out.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return out;
}

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devices, root, mount_point;
    fields >> id >> parent >> devices >> root >> mount_point;
    if (mount_point.rfind(dir, 0) == 0) out.push_back(mount_point);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

void RemoveNodeLeftovers(const std::string& dir, const std::string& bridge) {
  for (pid_t shim : ProcessesMentioning(dir + "/")) {
    // The shim is its containers' subreaper: kill its children first.
    std::istringstream children(
        ReadFile("/proc/" + std::to_string(shim) + "/task/" + std::to_string(shim) + "/children"));
    pid_t child;
    while (children >> child) kill(child, SIGKILL);
    kill(shim, SIGKILL);
  }
  for (const std::string& mount : MountsUnder(dir + "/")) umount2(mount.c_str(), MNT_DETACH);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (!bridge.empty()) (void)RunCommand({"ip", "link", "del", bridge});
}

}  // namespace kite::containerd
