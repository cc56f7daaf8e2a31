// CriRuntime: the Runtime interface over a CRI (runtime.v1) gRPC socket — containerd's in
// Kite's case (its CRI plugin answers on the main socket).
//
// Operation: methods make unary gRPC calls, each with a deadline of `call_timeout`. Longer
// deadlines: StopContainer adds its grace period, ExecSync its command timeout (no deadline
// at all when the command's timeout is 0, as the Runtime contract says "none"), PullImage
// allows at least 15 minutes. Most methods are one call; because the Runtime's structs carry
// more than CRI's listings, ContainerStatus is two (a filtered ListContainers for the
// sandbox id, then ContainerStatus), ListContainers and ListPodSandbox are one plus one
// status call per item (an item removed in between is left out).
// The calls run on Kite's own gRPC client (src/net/grpc: HTTP/2 over the unix socket, a small
// pool of connections); messages are the protobuf-lite classes generated from api.proto.
// Connections are made lazily, so a CriRuntime can be made before containerd is up; calls
// then fail fast with kUnavailable rather than waiting for the runtime. Each call that finds
// no live connection connects anew, so the first call after containerd restarted reaches
// the new containerd (a pooled connection found dead before any reply is replaced once).
//
// Mapping: Runtime times are Unix milliseconds, CRI's are nanoseconds. Sandboxes get their
// own network namespace (the node's when host_network), one PID namespace per container and
// a shared IPC namespace, as the kubelet asks for Pods; containers repeat the same options. Errors
// from the runtime keep its text, prefixed by the call ("RunPodSandbox: ..."):
//   NOT_FOUND, or UNKNOWN whose text says "not found" (containerd 1.6 does both)
//                                           -> kNotFound
//   UNAVAILABLE, DEADLINE_EXCEEDED          -> kUnavailable
//   INVALID_ARGUMENT, FAILED_PRECONDITION   -> kInvalidArgument
//   RESOURCE_EXHAUSTED                      -> kResourceExhausted
//   anything else                           -> kInternal
// StopPodSandbox, RemovePodSandbox, StopContainer, RemoveContainer and RemoveImage of an id
// that is already gone return kOk. A reply that does not decode, or lacks a required part (a
// status without its status message), is kInternal.
//
// Thread-safety: every method may be called from any thread concurrently (the channel is
// thread-safe; the only local state is the cached version, under a mutex).
// Limits: replies up to 64 MiB (ExecSync output is capped at 16 MiB per stream by the
// runtime); no limit on the number of concurrent calls.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"

namespace kite::runtime {

// One image known to the runtime (CRI ImageService ListImages).
struct ImageInfo {
  std::string id;  // "sha256:..."
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  uint64_t size = 0;
};

class CriRuntime final : public Runtime {
 public:
  // A client for the CRI socket at `socket_path` (a filesystem path, not a URL). Does not
  // connect: the socket need not exist yet. kInvalidArgument for an empty path.
  static Result<std::unique_ptr<CriRuntime>> Connect(
      std::string socket_path, std::chrono::milliseconds call_timeout = std::chrono::minutes(2));
  ~CriRuntime() override;

  CriRuntime(const CriRuntime&) = delete;
  CriRuntime& operator=(const CriRuntime&) = delete;

  // The runtime's name and version, from the first successful CRI Version call (cached).
  // While the runtime cannot be reached the interface has no way to fail, so it answers
  // {"containerd", ""}: the name is also the scheme of container ids, and this client is
  // only used with containerd. QueryVersion() reports the error instead.
  VersionInfo Version() const override;
  Result<VersionInfo> QueryVersion() const;

  // OK when the runtime reports both RuntimeReady and NetworkReady; otherwise kUnavailable
  // naming the failed condition with its reason and message (NetworkReady is false until a
  // CNI config exists), or the call's error.
  Status Ready() const;

  Result<std::string> PullImage(const std::string& image) override;
  Result<std::string> PullImage(const std::string& image, const PullAuth& auth) override;
  // The image id when the image is present, nullopt when it is not.
  Result<std::optional<std::string>> ImageRef(const std::string& image) override;
  Result<std::vector<ImageInfo>> ListImages();
  // kOk when the image is already gone.
  Status RemoveImage(const std::string& image);

  Result<std::string> RunPodSandbox(const PodSandboxConfig& config) override;
  Status StopPodSandbox(const std::string& sandbox_id) override;
  Status RemovePodSandbox(const std::string& sandbox_id) override;
  Result<PodSandbox> PodSandboxStatus(const std::string& sandbox_id) override;
  Result<std::vector<PodSandbox>> ListPodSandbox() override;

  Result<std::string> CreateContainer(const std::string& sandbox_id, const ContainerConfig& config,
                                      const PodSandboxConfig& sandbox_config) override;
  Status StartContainer(const std::string& container_id) override;
  Status StopContainer(const std::string& container_id, int64_t timeout_seconds) override;
  Status RemoveContainer(const std::string& container_id) override;
  Result<Container> ContainerStatus(const std::string& container_id) override;
  Result<std::vector<Container>> ListContainers(const std::string& sandbox_id) override;

  // A command still running at its timeout is killed by the runtime and the call fails with
  // kUnavailable ("ExecSync: ... timeout 1s exceeded ...": containerd's DEADLINE_EXCEEDED).
  Result<ExecSyncResult> ExecSync(const std::string& container_id,
                                  const std::vector<std::string>& command,
                                  int64_t timeout_seconds) override;
  Result<std::string> Exec(const StreamRequest& request) override;
  Result<std::string> Attach(const StreamRequest& request) override;
  Result<std::string> PortForward(const StreamRequest& request) override;
  Result<std::vector<ContainerStats>> ListContainerStats() override;
  // The stats of one container (CRI ContainerStats).
  Result<ContainerStats> GetContainerStats(const std::string& container_id);

 private:
  struct Impl;  // the channel and the generated messages stay out of this header
  explicit CriRuntime(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  mutable Mutex version_mu_;
  mutable std::optional<VersionInfo> version_ GUARDED_BY(version_mu_);
};

}  // namespace kite::runtime
