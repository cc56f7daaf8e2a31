// A Runtime whose Exec/Attach/PortForward hand out URLs of a stand-in for containerd's CRI
// streaming server on a loopback port: it answers the SPDY upgrade (echoing the requested
// X-Stream-Protocol-Version), then plays the runtime's side as containerd does —
//   exec "echo ARGS..."        ARGS joined by spaces and "\n" on stdout, Success
//   exec "sh -c 'exit N'"      Failure, reason NonZeroExitCode, exit code N
//   exec "cat", and attach     stdin copied to stdout until stdin's FIN, Success
//   exec "warn TEXT"           TEXT on stderr, Success
//   port-forward               per request: "echo:<port>:" + everything read, then FIN on
//                              the data and error streams
// and ends an exec as containerd does: Status on the error stream, every stream reset, the
// connection closed. Other Runtime methods fail. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/runtime/runtime.h"

namespace kite::agent::server::testing {

class FakeStreamRuntime final : public runtime::Runtime {
 public:
  FakeStreamRuntime();
  ~FakeStreamRuntime() override;

  runtime::VersionInfo Version() const override { return {"fake-stream", "1"}; }
  Result<std::string> PullImage(const std::string&) override { return Unsupported(); }
  Result<std::string> RunPodSandbox(const runtime::PodSandboxConfig&) override {
    return Unsupported();
  }
  Status StopPodSandbox(const std::string&) override { return Unsupported(); }
  Status RemovePodSandbox(const std::string&) override { return Unsupported(); }
  Result<runtime::PodSandbox> PodSandboxStatus(const std::string&) override {
    return Unsupported();
  }
  Result<std::vector<runtime::PodSandbox>> ListPodSandbox() override { return Unsupported(); }
  Result<std::string> CreateContainer(const std::string&, const runtime::ContainerConfig&,
                                      const runtime::PodSandboxConfig&) override {
    return Unsupported();
  }
  Status StartContainer(const std::string&) override { return Unsupported(); }
  Status StopContainer(const std::string&, int64_t) override { return Unsupported(); }
  Status RemoveContainer(const std::string&) override { return Unsupported(); }
  Result<runtime::Container> ContainerStatus(const std::string&) override {
    return Unsupported();
  }
  Result<std::vector<runtime::Container>> ListContainers(const std::string&) override {
    return Unsupported();
  }

  Result<std::string> Exec(const runtime::StreamRequest& request) override;
  Result<std::string> Attach(const runtime::StreamRequest& request) override;
  Result<std::string> PortForward(const runtime::StreamRequest& request) override;

  // What the agent asked for, and the protocols its upgrades named, in order.
  std::vector<runtime::StreamRequest> requests() const;
  std::vector<std::string> protocols() const;

 private:
  static Status Unsupported() { return InvalidArgumentError("not supported by this fake"); }
  Result<std::string> Register(const char* kind, const runtime::StreamRequest& request);
  void AcceptLoop();
  void Serve(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  mutable Mutex mu_;
  std::vector<runtime::StreamRequest> requests_ GUARDED_BY(mu_);
  std::vector<std::string> kinds_ GUARDED_BY(mu_);
  std::vector<std::string> protocols_ GUARDED_BY(mu_);
  std::vector<std::thread> servers_ GUARDED_BY(mu_);
};

}  // namespace kite::agent::server::testing
