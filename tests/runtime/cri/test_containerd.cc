#include "tests/runtime/cri/test_containerd.h"

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
#include "src/runtime/containerd/node_leftovers.h"
#include "src/runtime/containerd/subprocess.h"
#include "src/runtime/cri/cri_runtime.h"

namespace kite::runtime::testing {

namespace {

using namespace std::chrono_literals;

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
  for (pid_t shim : containerd::ProcessesMentioning(socket_)) kill(shim, SIGKILL);
}

TestContainerd::~TestContainerd() {
  Stop();
  for (const std::string& mount : containerd::MountsUnder(dir_)) umount2(mount.c_str(), MNT_DETACH);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  (void)containerd::RunCommand({"ip", "link", "del", bridge_});
}

}  // namespace kite::runtime::testing
