// What the benchmarks that drive a real `kite` binary share: child processes (`kite server`,
// `kite sim`), an admin client over HTTPS built from a server's data directory, a pod watch
// that reports each event's time of arrival, percentiles and /proc readings.
//
// Not a library for the product: benchmarks only. Errors are Status values; nothing throws.
// Thread-safety: ChildProcess is used by one thread; PodWatch calls its callback from its
// own thread (one at a time) and may be destroyed from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/status.h"
#include "src/server/client/https_transport.h"

namespace kite::bench {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d);
double Seconds(Clock::duration d);
// The value at rank p (0..1) of `values` (nearest rank below); 0 for none.
double Percentile(std::vector<double> values, double p);

// The file's contents; "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago.
Result<int> FreePort();

// A child process with stdout and stderr appended to a log file. It gets SIGTERM when the
// benchmark dies (PR_SET_PDEATHSIG), so a crashed benchmark leaves no server behind.
class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const std::string& log_path);
  ~ChildProcess();  // Stop()
  // SIGTERM, then SIGKILL after `grace`; reaps it. Idempotent.
  void Stop(std::chrono::seconds grace = std::chrono::seconds(30));
  bool Alive();
  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// A field of /proc/<pid>/status in kB ("VmRSS", "VmHWM"); -1 when unreadable.
long ProcStatusKb(pid_t pid, const std::string& field);
// User + system CPU seconds of a process (all threads) so far; -1 when unreadable.
double ProcCpuSeconds(pid_t pid);

// The admin client of a `kite server` whose data directory is `data_dir`: the cluster CA
// and the admin client certificate from <data_dir>/server/tls.
Result<std::unique_ptr<client::HttpsTransport>> AdminTransport(const std::string& data_dir, int port,
                                                              size_t max_idle_connections = 16);

// Polls `ready` every `interval` until it returns true (OK) or `timeout` passes
// (kUnavailable naming `what`), or `alive` returns false (kInternal).
Status WaitUntil(const std::string& what, std::chrono::milliseconds timeout,
                 std::chrono::milliseconds interval, const std::function<bool()>& ready,
                 const std::function<bool()>& alive = nullptr);

// GET `path`; the body when the status is 200.
Result<std::string> Get(client::ApiTransport& api, const std::string& path, const std::string& query = "");

// The fields of one pod watch event the benchmarks look at.
struct PodEvent {
  std::string type;  // ADDED, MODIFIED, DELETED
  std::string name;
  std::string node_name;
  std::string phase;
  Clock::time_point arrived;
};

// Watches the pods of one namespace from the current resourceVersion (read by a LIST at
// construction, so only later changes are reported) and calls `on_event` for each event,
// from its own thread. A watch that ends is restarted from the last resourceVersion seen.
class PodWatch {
 public:
  static Result<std::unique_ptr<PodWatch>> Start(client::ApiTransport& api, const std::string& ns,
                                                 std::function<void(const PodEvent&)> on_event);
  ~PodWatch();  // stops the thread
  int64_t restarts() const { return restarts_.load(); }

 private:
  PodWatch() = default;
  void Run();

  client::ApiTransport* api_ = nullptr;
  std::string ns_;
  std::string resource_version_;  // the watch thread's only
  std::function<void(const PodEvent&)> on_event_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> restarts_{0};
  std::thread thread_;
};

}  // namespace kite::bench
