#include "tests/runtime/cri/test_containerd.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/runtime/containerd/containerd_config.h"
#include "src/runtime/containerd/image_importer.h"
#include "src/runtime/containerd/subprocess.h"
#include "src/runtime/cri/cri_runtime.h"

namespace kite::runtime::testing {

namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Processes whose command line mentions `needle` (the shims of our containerd carry its
// socket address in their arguments).
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

// Mount points at or under `dir`, deepest first.
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
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

}  // namespace

Result<std::unique_ptr<TestContainerd>> TestContainerd::Create(TestContainerdOptions options) {
  char dir_template[] = "/tmp/kcri-XXXXXX";  // short: the socket path must fit sun_path
  if (mkdtemp(dir_template) == nullptr) return IoError("mkdtemp failed");
  std::unique_ptr<TestContainerd> t(new TestContainerd());
  t->options_ = std::move(options);
  t->dir_ = dir_template;
  containerd::ContainerdPaths paths(t->dir_);
  t->socket_ = paths.socket;
  t->log_ = paths.log;
  int pid = static_cast<int>(getpid());
  t->bridge_ = "kt" + std::to_string(pid % 10000);
  t->subnet_prefix_ = "10.200." + std::to_string(pid % 250) + ".";

  // The test's own network list; ContainerdProcess writes none without a pod CIDR.
  std::string conflist = R"({"cniVersion":"0.4.0","name":"kite-test-)" + std::to_string(pid) +
                         R"(","plugins":[
 {"type":"bridge","bridge":")" +
                         t->bridge_ +
                         R"(","isGateway":true,"ipMasq":false,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":")" +
                         t->subnet_prefix_ +
                         R"(0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":")" + paths.ipam_dir +
                         R"("}},
 {"type":"portmap","capabilities":{"portMappings":true}},
 {"type":"loopback"}]}
)";
  std::error_code error;
  std::filesystem::create_directories(paths.cni_conf_dir, error);
  if (error) return IoError("cannot create " + paths.cni_conf_dir + ": " + error.message());
  KITE_RETURN_IF_ERROR(
      containerd::WriteFileAtomically(paths.cni_conf_dir + "/10-kite-test.conflist", conflist));
  return t;
}

Status TestContainerd::Start() {
  if (process_) return Status::Ok();
  containerd::ContainerdOptions options;
  options.dir = dir_;
  options.bridge_name = bridge_;
  options.start_timeout = options_.start_timeout;
  options.log = [](const std::string&) {};  // failures come back in the Status
  Result<std::unique_ptr<containerd::ContainerdProcess>> process =
      containerd::ContainerdProcess::Start(std::move(options));
  if (!process.ok()) return process.status();
  process_ = std::move(process).value();
  for (const std::string& tarball : options_.image_tarballs) {
    Status imported = containerd::ImportImage(socket_, tarball);
    if (!imported.ok()) return imported;
  }
  return Status::Ok();
}

Status TestContainerd::Restart() {
  if (process_) {
    process_->Stop();
    process_.reset();
  }
  return Start();
}

std::string TestContainerd::LogTail(size_t max_bytes) const {
  return containerd::TailOfFile(log_, max_bytes);
}

void TestContainerd::Stop() {
  if (process_) {
    // ContainerdProcess leaves pods running when it stops (the agent re-adopts them): a
    // test removes them first.
    auto cri = CriRuntime::Connect(socket_, 20s);
    if (cri.ok()) {
      auto sandboxes = (*cri)->ListPodSandbox();
      if (sandboxes.ok()) {
        for (const PodSandbox& s : *sandboxes) {
          (void)(*cri)->StopPodSandbox(s.id);
          (void)(*cri)->RemovePodSandbox(s.id);
        }
      }
    }
    process_->Stop();
    process_.reset();
  }
  for (pid_t shim : ProcessesMentioning(socket_)) kill(shim, SIGKILL);
}

TestContainerd::~TestContainerd() {
  Stop();
  for (const std::string& mount : MountsUnder(dir_)) umount2(mount.c_str(), MNT_DETACH);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  (void)containerd::RunCommand({"ip", "link", "del", bridge_});
}

}  // namespace kite::runtime::testing
