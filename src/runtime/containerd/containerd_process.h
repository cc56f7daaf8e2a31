// ContainerdProcess: the agent's own containerd, run as its child the way k3s does it.
//
// Operation. Start() detects the host (HostFacts), writes <dir>/containerd/config.toml and
// the CNI network list (containerd_config.h), stops a containerd left behind by a previous
// agent on the same folder (found through <dir>/containerd/containerd.pid), starts
// containerd with its output appended to <dir>/containerd/containerd.log, waits until its
// socket accepts connections, and imports the embedded pause image unless containerd
// already has it. A supervisor thread then waits for the child and, when it dies without
// being asked to, restarts it after a back-off of 1 s doubling to 30 s (reset after a run of
// a minute or more). A restarted containerd that does not answer within start_timeout is
// killed and restarted again.
//
// The child gets SIGTERM when its parent thread dies (PR_SET_PDEATHSIG), so it never
// outlives a killed agent; it runs in its own process group, so a terminal's Ctrl-C reaches
// the agent, which decides. Stop() sends SIGTERM, waits up to 10 s, then SIGKILL. Only
// containerd is signalled: the containers keep running under their shims, and the next
// agent's containerd re-adopts them ("agent restart leaves pods running").
//
// Concurrency: all methods are thread-safe. The child is forked from the supervisor thread
// (the death signal follows the thread that forked), which lives as long as the object.
//
// Limitations: containerd.log is rotated once (to containerd.log.1) when it exceeds 10 MiB
// at a (re)start, never while containerd runs. Readiness is "the socket accepts a
// connection"; whether the CRI plugin is healthy is for the CRI client to find out.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/runtime/containerd/containerd_config.h"
#include "src/runtime/containerd/host_facts.h"

namespace kite::containerd {

class ContainerdProcess {
 public:
  // Starts containerd and returns once its socket answers and the pause image is present.
  // Errors: kInvalidArgument for bad options (ValidateOptions); kIoError when the folders
  // or files cannot be written; kUnavailable when another process that is not ours serves
  // the socket, or containerd exits or does not answer within start_timeout (the message
  // quotes the end of containerd.log); kNotFound when the binary cannot be run; the import's
  // error when the pause image cannot be imported. Nothing is left running on error.
  static Result<std::unique_ptr<ContainerdProcess>> Start(ContainerdOptions options);

  ContainerdProcess(const ContainerdProcess&) = delete;
  ContainerdProcess& operator=(const ContainerdProcess&) = delete;
  ~ContainerdProcess();  // Stop()

  // Stops containerd (SIGTERM, up to 10 s, then SIGKILL) and the supervisor; no restart
  // follows. Idempotent.
  void Stop() EXCLUDES(mu_);

  // Writes (or rewrites) the CNI network list for `pod_cidr` on bridge `bridge_name` (""
  // = the options' bridge_name); containerd's CRI plugin notices the file by itself.
  // kInvalidArgument for a malformed CIDR or bridge name, kIoError.
  Status SetPodCidr(const std::string& pod_cidr, const std::string& bridge_name = "");

  const std::string& socket_path() const { return paths_.socket; }
  const ContainerdPaths& paths() const { return paths_; }
  const HostFacts& host() const { return host_; }
  // How many times containerd was started again after dying on its own.
  int restarts() const;
  // The child is alive and its socket answered since it was (re)started.
  bool running() const;
  // The current child's process id, or -1 between a death and the restart.
  pid_t pid() const;

 private:
  ContainerdProcess(ContainerdOptions options, HostFacts host);

  void Log(const std::string& line) const;
  Status PrepareFiles();
  Status StopLeftover();
  // Forks and execs containerd; its pid, or the exec error.
  Result<pid_t> Spawn();
  enum class Readiness { kAnswering, kExited, kTimedOut, kStopping };
  // Polls until the socket answers, the child exits, Stop() is called or `timeout` passes.
  Readiness WaitUntilAnswering(pid_t pid, std::chrono::milliseconds timeout) EXCLUDES(mu_);
  void Supervise() EXCLUDES(mu_);
  Status EnsurePauseImage();

  const ContainerdOptions options_;
  const ContainerdPaths paths_;
  const HostFacts host_;

  mutable Mutex mu_;
  CondVar changed_;  // any of the fields below changed
  // The live child. Set to -1 before the child is reaped, so a signal sent under mu_ can
  // never reach a recycled pid.
  pid_t pid_ GUARDED_BY(mu_) = -1;
  bool answering_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool supervisor_done_ GUARDED_BY(mu_) = false;
  int restarts_ GUARDED_BY(mu_) = 0;
  // The outcome of the first start, reported by the supervisor to Start().
  bool first_start_reported_ GUARDED_BY(mu_) = false;
  Status first_start_ GUARDED_BY(mu_);
  Mutex stop_mu_;  // one Stop() at a time
  std::thread supervisor_;  // set in Start() before the object is shared
};

// True when something accepts connections on the unix socket at `path`. Thread-safe.
bool SocketAnswers(const std::string& path);

}  // namespace kite::containerd
