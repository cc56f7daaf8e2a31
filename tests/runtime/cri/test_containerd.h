// TestContainerd: a private containerd for one test process, run by the agent's own
// ContainerdProcess in a fresh temp folder, with a CNI network of its own (network
// "kite-test-<pid>", bridge "kt<pid%10000>", subnet 10.200.<pid%250>.0/24, host-local
// leases inside the folder) and the test's images imported.
//
// Create() makes the folder and writes the CNI network list (so a client can be pointed at
// the socket before containerd runs); Start() starts containerd (which imports the pause
// image) and imports the images. Start() fails (never skips) when containerd cannot be
// started, with the tail of its log.
// The destructor stops and removes every sandbox through CRI (ContainerdProcess leaves
// containers running on purpose), stops containerd, kills shims left behind (found by the
// socket in their command line), unmounts what is left under the folder, removes the folder
// and deletes the bridge.
// Not thread-safe; one per process (the bridge and subnet derive from the pid).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "src/base/status.h"
#include "src/runtime/containerd/containerd_process.h"

namespace kite::runtime::testing {

struct TestContainerdOptions {
  std::vector<std::string> image_tarballs;  // imported into namespace k8s.io
  std::chrono::seconds start_timeout{60};
};

class TestContainerd {
 public:
  static Result<std::unique_ptr<TestContainerd>> Create(TestContainerdOptions options);
  Status Start();
  // Stops containerd (pods are left as they are, as an agent restart leaves them) and
  // starts it again on the same socket; the images stay imported.
  Status Restart();
  ~TestContainerd();

  TestContainerd(const TestContainerd&) = delete;
  TestContainerd& operator=(const TestContainerd&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& socket() const { return socket_; }
  const std::string& subnet_prefix() const { return subnet_prefix_; }  // "10.200.N."
  const std::string& log_path() const { return log_; }
  // The last `max_bytes` of containerd's log (for failure messages).
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  TestContainerd() = default;
  void Stop();

  TestContainerdOptions options_;
  std::string dir_;
  std::string socket_;
  std::string log_;
  std::string bridge_;
  std::string subnet_prefix_;
  std::unique_ptr<containerd::ContainerdProcess> process_;
};

}  // namespace kite::runtime::testing
