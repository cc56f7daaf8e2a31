// podstart_bench: how long a pod takes to start on a real node, beside the runtime floor.
//
// Floor: the agent's own ContainerdProcess in a temp folder with its own bridge and pod
// CIDR (the same generated containerd config and CNI network list as the agent's), the
// project's busybox image imported, and through CriRuntime the three calls a pod needs:
// RunPodSandbox + CreateContainer + StartContainer of `sleep 3600`.
// Kite: the real `kite server` (embedded agent, its own data dir, pod CIDR, bridge and
// kubelet port, busybox in <data-dir>/agent/images/); pods created through the API over
// HTTPS with the admin client certificate, latency = POST sent → the pod seen Running on a
// watch.
// Each is measured one pod at a time (N pods) and N at once; p50 and p99 (p99 of 20 is
// the 19th of 20). One warm-up pod on each side is not counted (the first sandbox also
// creates the bridge; on Kite it also waits for the air-gap import). The floor runs first
// and is torn down before the server starts, so they never share the CPU.
//
//   podstart_bench [--kite PATH] [--images DIR] [--pods N]
//
// Needs root, containerd, runc and the CNI plugins (scripts/install-deps.sh), and the
// busybox test image (the kite_test_images target). Cleans up everything it made: pods
// (through the API), the server, containerd, sandboxes, shims, mounts, bridges, temp dirs.
// Ends with one `RESULT name=value ...` line.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "src/base/mutex.h"
#include "src/runtime/containerd/containerd_process.h"
#include "src/runtime/containerd/image_importer.h"
#include "src/runtime/containerd/node_leftovers.h"
#include "src/runtime/containerd/subprocess.h"
#include "src/runtime/cri/cri_runtime.h"
#include "src/server/json/json_util.h"

#ifndef KITE_BINARY
#define KITE_BINARY "kite"
#endif
#ifndef KITE_TEST_IMAGES_DIR
#define KITE_TEST_IMAGES_DIR "build/images"
#endif

namespace {

using namespace kite;
using namespace kite::bench;
using namespace std::chrono_literals;

constexpr char kBusybox[] = "kite.local/busybox:1";

struct Flags {
  std::string kite = KITE_BINARY;
  std::string images = KITE_TEST_IMAGES_DIR;
  int pods = 20;
};

struct Series {
  std::vector<double> ms;
  double p50() const { return Percentile(ms, 0.50); }
  double p99() const { return Percentile(ms, 0.99); }
};

struct Figures {
  double warmup_ms = 0;
  Series one;    // one pod at a time
  Series burst;  // N at once
  // Floor only: the three calls of the one-at-a-time run.
  Series sandbox, create, start;
  // Kite only: create -> spec.nodeName seen on the watch (API + scheduler), one at a time
  // and in the burst; the rest of each pod's time is the agent, the runtime and the status.
  Series bound, burst_bound;
  // Kite only, one at a time, from the runtime's own timestamps (CRI, milliseconds of wall
  // clock): bound seen -> sandbox created, -> container created, -> container started,
  // -> Running seen on the watch.
  Series to_sandbox, to_created, to_started, to_seen;
};

runtime::DnsConfig HostDns() {
  runtime::DnsConfig dns;
  std::istringstream in(ReadWholeFile("/etc/resolv.conf"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    words >> key;
    while (words >> value) {
      if (key == "nameserver" && value.rfind("127.", 0) != 0) dns.servers.push_back(value);
      if (key == "search") dns.searches.push_back(value);
      if (key == "options") dns.options.push_back(value);
    }
  }
  return dns;
}

// Stops and removes every sandbox of the containerd at `socket` (CNI DEL frees the network
// namespace, the veth and the address); nothing when it does not answer.
void RemoveAllSandboxes(const std::string& socket) {
  if (!containerd::SocketAnswers(socket)) return;
  auto cri = runtime::CriRuntime::Connect(socket, 30s);
  if (!cri.ok()) return;
  auto sandboxes = (*cri)->ListPodSandbox();
  if (!sandboxes.ok()) return;
  for (const runtime::PodSandbox& s : *sandboxes) {
    (void)(*cri)->StopPodSandbox(s.id);
    (void)(*cri)->RemovePodSandbox(s.id);
  }
}

// ---- The floor: CRI directly --------------------------------------------------------------

struct FloorPod {
  runtime::PodSandboxConfig sandbox;
  runtime::ContainerConfig container;
};

FloorPod MakeFloorPod(const std::string& agent_dir, const std::string& name) {
  FloorPod p;
  std::string uid = "podstart-" + name + "-" + std::to_string(getpid());
  p.sandbox.metadata = {name, "default", uid, 0};
  p.sandbox.hostname = name;
  p.sandbox.log_directory = agent_dir + "/pod-logs/default_" + name + "_" + uid;
  p.sandbox.dns = HostDns();
  p.sandbox.labels = {{runtime::kPodNameLabel, name},
                      {runtime::kPodNamespaceLabel, "default"},
                      {runtime::kPodUidLabel, uid}};
  p.container.metadata = {"c", 0};
  p.container.image = kBusybox;
  p.container.command = {"sleep", "3600"};
  p.container.log_path = "c/0.log";
  p.container.labels = {{runtime::kContainerNameLabel, "c"}, {runtime::kPodUidLabel, uid}};
  return p;
}

struct FloorTimes {
  double sandbox_ms = 0, create_ms = 0, start_ms = 0;
  double total() const { return sandbox_ms + create_ms + start_ms; }
};

Result<FloorTimes> StartFloorPod(runtime::CriRuntime& cri, const FloorPod& p) {
  FloorTimes t;
  auto t0 = Clock::now();
  Result<std::string> sandbox = cri.RunPodSandbox(p.sandbox);
  if (!sandbox.ok()) return sandbox.status();
  auto t1 = Clock::now();
  Result<std::string> container = cri.CreateContainer(*sandbox, p.container, p.sandbox);
  if (!container.ok()) return container.status();
  auto t2 = Clock::now();
  KITE_RETURN_IF_ERROR(cri.StartContainer(*container));
  auto t3 = Clock::now();
  t.sandbox_ms = Ms(t1 - t0);
  t.create_ms = Ms(t2 - t1);
  t.start_ms = Ms(t3 - t2);
  return t;
}

Result<Figures> RunFloor(const Flags& flags, const std::string& dir, int octet) {
  Figures f;
  std::string agent_dir = dir + "/floor";
  std::string bridge = "kpb" + std::to_string(octet);
  struct Cleanup {
    std::string agent_dir, bridge;
    std::unique_ptr<containerd::ContainerdProcess> process;
    ~Cleanup() {
      if (process) {
        RemoveAllSandboxes(process->socket_path());
        process->Stop();
        process.reset();
      }
      containerd::RemoveNodeLeftovers(agent_dir, bridge);
    }
  } cleanup{agent_dir, bridge, nullptr};

  containerd::ContainerdOptions options;
  options.dir = agent_dir;
  options.pod_cidr = "10.230." + std::to_string(octet) + ".0/24";
  options.bridge_name = bridge;
  options.log = [](const std::string&) {};
  Result<std::unique_ptr<containerd::ContainerdProcess>> process = containerd::ContainerdProcess::Start(options);
  if (!process.ok()) return process.status();
  cleanup.process = std::move(process).value();
  const std::string& socket = cleanup.process->socket_path();
  KITE_RETURN_IF_ERROR(containerd::ImportImage(socket, flags.images + "/busybox.tar"));
  Result<std::unique_ptr<runtime::CriRuntime>> connected = runtime::CriRuntime::Connect(socket, 60s);
  if (!connected.ok()) return connected.status();
  runtime::CriRuntime& cri = **connected;
  KITE_RETURN_IF_ERROR(WaitUntil("containerd CRI ready", 30s, 100ms, [&] { return cri.Ready().ok(); }));

  Result<FloorTimes> warm = StartFloorPod(cri, MakeFloorPod(agent_dir, "warm"));
  if (!warm.ok()) return warm.status();
  f.warmup_ms = warm->total();

  for (int i = 0; i < flags.pods; ++i) {
    Result<FloorTimes> t = StartFloorPod(cri, MakeFloorPod(agent_dir, "one-" + std::to_string(i)));
    if (!t.ok()) return t.status();
    f.one.ms.push_back(t->total());
    f.sandbox.ms.push_back(t->sandbox_ms);
    f.create.ms.push_back(t->create_ms);
    f.start.ms.push_back(t->start_ms);
  }

  std::vector<FloorPod> pods;
  for (int i = 0; i < flags.pods; ++i) pods.push_back(MakeFloorPod(agent_dir, "burst-" + std::to_string(i)));
  std::vector<Result<FloorTimes>> results(flags.pods, InternalError("not run"));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < flags.pods; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      results[i] = StartFloorPod(cri, pods[i]);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  for (const Result<FloorTimes>& r : results) {
    if (!r.ok()) return r.status();
    f.burst.ms.push_back(r->total());
  }
  return f;
}

// ---- Kite: the API, the scheduler and the embedded agent ------------------------------------

std::string PodJson(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","labels":{"app":"podstart-bench"}},"spec":{"terminationGracePeriodSeconds":1,)"
         R"("containers":[{"name":"c","image":"kite.local/busybox:1","imagePullPolicy":"IfNotPresent",)"
         R"("command":["sleep","3600"]}]}})";
}

// Pods seen Running on the watch, by name, with the time each was first seen so.
class RunningPods {
 public:
  void Observe(const PodEvent& e) {
    MutexLock lock(mu_);
    if (e.type == "DELETED") {
      gone_.insert(e.name);
      changed_.NotifyAll();
      return;
    }
    if (!e.node_name.empty() && !bound_.count(e.name)) bound_[e.name] = e.arrived;
    if (e.phase == "Running" && !running_.count(e.name)) {
      running_[e.name] = e.arrived;
      changed_.NotifyAll();
    }
  }
  // The time `name` was seen Running, or nullopt after `timeout`.
  std::optional<Clock::time_point> WaitRunning(const std::string& name, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    MutexLock lock(mu_);
    while (!running_.count(name) && Clock::now() < deadline) changed_.WaitFor(mu_, 100ms);
    auto it = running_.find(name);
    if (it == running_.end()) return std::nullopt;
    return it->second;
  }
  // When `name` was first seen with spec.nodeName set (once it is Running, it was).
  std::optional<Clock::time_point> Bound(const std::string& name) {
    MutexLock lock(mu_);
    auto it = bound_.find(name);
    if (it == bound_.end()) return std::nullopt;
    return it->second;
  }
  bool WaitGone(const std::vector<std::string>& names, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    MutexLock lock(mu_);
    while (!AllGone(names) && Clock::now() < deadline) changed_.WaitFor(mu_, 100ms);
    return AllGone(names);
  }

 private:
  bool AllGone(const std::vector<std::string>& names) REQUIRES(mu_) {
    for (const std::string& n : names) {
      if (!gone_.count(n)) return false;
    }
    return true;
  }

  Mutex mu_;
  CondVar changed_;
  std::map<std::string, Clock::time_point> running_ GUARDED_BY(mu_);
  std::map<std::string, Clock::time_point> bound_ GUARDED_BY(mu_);
  std::set<std::string> gone_ GUARDED_BY(mu_);
};

bool CreatePod(client::ApiTransport& api, const std::string& name, std::string& error) {
  client::ClientRequest request;
  request.method = "POST";
  request.path = "/api/v1/namespaces/default/pods";
  request.body = PodJson(name);
  client::ClientResponse response = api.Do(request);
  if (response.status == 201) return true;
  error = "create " + name + ": " + std::to_string(response.status) + " " + response.body.substr(0, 300);
  return false;
}

bool NodeReady(client::ApiTransport& api, const std::string& node) {
  Result<std::string> body = Get(api, "/api/v1/nodes/" + node);
  if (!body.ok()) return false;
  Result<rapidjson::Document> doc = json::ParseJsonObject(*body);
  if (!doc.ok()) return false;
  const rapidjson::Value* status = json::Member(*doc, "status");
  const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (conditions == nullptr || !conditions->IsArray()) return false;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == "Ready") return json::StringMember(c, "status") == "True";
  }
  return false;
}

Result<Figures> RunKite(const Flags& flags, const std::string& dir, int octet) {
  Figures f;
  std::string data = dir + "/k";
  std::string node = "podstart-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(data + "/agent/images");
  std::error_code copy_error;
  std::filesystem::copy_file(flags.images + "/busybox.tar", data + "/agent/images/busybox.tar", copy_error);
  if (copy_error) return IoError("cannot copy busybox.tar: " + copy_error.message());
  Result<int> port = FreePort();
  Result<int> kubelet_port = FreePort();
  if (!port.ok() || !kubelet_port.ok()) return IoError("no free port");

  std::vector<std::string> created;
  std::unique_ptr<client::HttpsTransport> api;
  std::unique_ptr<ChildProcess> server;
  std::unique_ptr<PodWatch> watch;
  RunningPods pods;
  // Pods first (through the API, so the agent stops them); then the sandboxes through the
  // server's containerd (a pod can be gone from the API before the agent's StopPodSandbox,
  // and neither the agent nor containerd tears pods down when the server stops), then the
  // server and what is left.
  struct Cleanup {
    std::vector<std::string>& created;
    std::unique_ptr<client::HttpsTransport>& api;
    std::unique_ptr<ChildProcess>& server;
    std::unique_ptr<PodWatch>& watch;
    RunningPods& pods;
    std::string data, bridge;
    ~Cleanup() {
      if (api && server && server->Alive() && !created.empty()) {
        for (const std::string& name : created) {
          client::ClientRequest request;
          request.method = "DELETE";
          request.path = "/api/v1/namespaces/default/pods/" + name;
          (void)api->Do(request);
        }
        if (watch && !pods.WaitGone(created, 120s)) std::fprintf(stderr, "podstart_bench: pods not gone after 120 s\n");
      }
      watch.reset();
      RemoveAllSandboxes(data + "/agent/containerd.sock");
      if (server) server->Stop(60s);
      containerd::RemoveNodeLeftovers(data, bridge);
    }
  } cleanup{created, api, server, watch, pods, data, "kite" + std::to_string(octet)};

  auto started = ChildProcess::Start(
      {flags.kite, "server", "--data-dir", data, "--bind-address", "127.0.0.1", "--https-listen-port",
       std::to_string(*port), "--kubelet-port", std::to_string(*kubelet_port), "--node-name", node,
       "--node-pod-cidr", "10.231." + std::to_string(octet) + ".0/24", "--write-kubeconfig", dir + "/kubeconfig"},
      dir + "/server.log");
  if (!started.ok()) return started.status();
  server = std::move(started).value();
  auto alive = [&] { return server->Alive(); };
  auto server_failed = [&](const Status& s) {
    return InternalError(s.message() + "\nserver log (end):\n" + containerd::TailOfFile(dir + "/server.log", 4000));
  };
  Status up = WaitUntil("server ready", 120s, 100ms, [&] {
    if (!api) {
      auto t = AdminTransport(data, *port, 2 * static_cast<size_t>(flags.pods));
      if (!t.ok()) return false;
      api = std::move(t).value();
    }
    return Get(*api, "/readyz").ok();
  }, alive);
  if (!up.ok()) return server_failed(up);
  Status ready = WaitUntil("node Ready", 120s, 200ms, [&] { return NodeReady(*api, node); }, alive);
  if (!ready.ok()) return server_failed(ready);
  Status sa = WaitUntil("default service account", 60s, 100ms, [&] {
    return Get(*api, "/api/v1/namespaces/default/serviceaccounts/default").ok();
  }, alive);
  if (!sa.ok()) return server_failed(sa);
  auto watching = PodWatch::Start(*api, "default", [&](const PodEvent& e) { pods.Observe(e); });
  if (!watching.ok()) return watching.status();
  watch = std::move(watching).value();

  // Wall-clock milliseconds of a steady time, to compare with the runtime's timestamps.
  const auto steady_ref = Clock::now();
  const auto wall_ref = std::chrono::system_clock::now();
  auto wall_ms = [&](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>((wall_ref + (t - steady_ref)).time_since_epoch()).count();
  };
  struct Seen {
    double bound_ms = 0, running_ms = 0;  // wall clock
  };
  std::map<std::string, Seen> one_at_a_time;

  std::string error;
  auto timed = [&](const std::string& name, std::chrono::milliseconds timeout) -> Result<double> {
    auto t0 = Clock::now();
    if (!CreatePod(*api, name, error)) return InternalError(error);
    created.push_back(name);
    std::optional<Clock::time_point> running = pods.WaitRunning(name, timeout);
    if (!running) return server_failed(UnavailableError(name + " not Running after " + std::to_string(timeout.count()) + " ms"));
    std::optional<Clock::time_point> bound = pods.Bound(name);
    if (bound) f.bound.ms.push_back(Ms(*bound - t0));
    one_at_a_time[name] = {bound ? wall_ms(*bound) : 0, wall_ms(*running)};
    return Ms(*running - t0);
  };
  // The warm-up pod also waits for the air-gap import the agent started with the node.
  Result<double> warm = timed("warm", 180s);
  if (!warm.ok()) return warm.status();
  f.warmup_ms = *warm;
  for (int i = 0; i < flags.pods; ++i) {
    Result<double> ms = timed("one-" + std::to_string(i), 60s);
    if (!ms.ok()) return ms.status();
    f.one.ms.push_back(*ms);
  }

  std::vector<std::string> names;
  for (int i = 0; i < flags.pods; ++i) names.push_back("burst-" + std::to_string(i));
  std::vector<Clock::time_point> sent(flags.pods);
  std::vector<std::string> errors(flags.pods);
  std::vector<char> ok(flags.pods, 0);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < flags.pods; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      sent[i] = Clock::now();
      ok[i] = CreatePod(*api, names[i], errors[i]);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  for (int i = 0; i < flags.pods; ++i) {
    if (ok[i]) created.push_back(names[i]);
  }
  for (int i = 0; i < flags.pods; ++i) {
    if (!ok[i]) return InternalError(errors[i]);
    std::optional<Clock::time_point> running = pods.WaitRunning(names[i], 120s);
    if (!running) return server_failed(UnavailableError(names[i] + " not Running after 120 s"));
    f.burst.ms.push_back(Ms(*running - sent[i]));
    if (std::optional<Clock::time_point> bound = pods.Bound(names[i])) f.burst_bound.ms.push_back(Ms(*bound - sent[i]));
  }

  // Where the one-at-a-time pods spent their time, from the node's containerd.
  auto cri = runtime::CriRuntime::Connect(data + "/agent/containerd.sock", 30s);
  if (cri.ok()) {
    auto sandboxes = (*cri)->ListPodSandbox();
    for (const runtime::PodSandbox& sandbox : sandboxes.ok() ? *sandboxes : std::vector<runtime::PodSandbox>{}) {
      auto seen = one_at_a_time.find(sandbox.metadata.name);
      if (seen == one_at_a_time.end() || seen->first == "warm" || seen->second.bound_ms == 0) continue;
      auto containers = (*cri)->ListContainers(sandbox.id);
      if (!containers.ok() || containers->empty()) continue;
      auto status = (*cri)->ContainerStatus(containers->front().id);
      if (!status.ok() || status->started_at == 0) continue;
      const Seen& t = seen->second;
      f.to_sandbox.ms.push_back(static_cast<double>(sandbox.created_at) - t.bound_ms);
      f.to_created.ms.push_back(static_cast<double>(status->created_at - sandbox.created_at));
      f.to_started.ms.push_back(static_cast<double>(status->started_at - status->created_at));
      f.to_seen.ms.push_back(t.running_ms - static_cast<double>(status->started_at));
    }
  }
  return f;
}

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--kite" && has_value) {
      flags.kite = argv[++i];
    } else if (a == "--images" && has_value) {
      flags.images = argv[++i];
    } else if (a == "--pods" && has_value) {
      flags.pods = std::atoi(argv[++i]);
    } else {
      return false;
    }
  }
  return flags.pods > 0 && flags.pods <= 100;
}

void PrintSeries(const char* what, const Series& s) {
  std::printf("  %-34s p50 %7.0f ms   p99 %7.0f ms   min %5.0f   max %5.0f\n", what, s.p50(), s.p99(),
              Percentile(s.ms, 0), Percentile(s.ms, 1));
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    std::fprintf(stderr, "usage: podstart_bench [--kite PATH] [--images DIR] [--pods N (1-100)]\n");
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "podstart_bench: needs root (containerd, CNI bridges)\n");
    return 2;
  }
  if (!std::filesystem::exists(flags.images + "/busybox.tar")) {
    std::fprintf(stderr, "podstart_bench: %s/busybox.tar missing (build the kite_test_images target)\n",
                 flags.images.c_str());
    return 2;
  }
  // A third octet and bridge names of our own: 220-249, which the test scripts do not use.
  int octet = 220 + static_cast<int>(getpid() % 30);
  char pattern[] = "/tmp/kpb-XXXXXX";  // short: containerd's socket path must fit sun_path
  if (mkdtemp(pattern) == nullptr) return 1;
  std::string dir = pattern;

  std::printf("runtime floor: CRI RunPodSandbox + CreateContainer + StartContainer, %d pods\n", flags.pods);
  std::fflush(stdout);
  Result<Figures> floor = RunFloor(flags, dir, octet);
  if (!floor.ok()) {
    std::fprintf(stderr, "podstart_bench: floor: %s\n", floor.status().ToString().c_str());
    containerd::RemoveNodeLeftovers(dir, "kpb" + std::to_string(octet));
    return 1;
  }
  std::printf("  first pod (warm-up, not counted)   %.0f ms\n", floor->warmup_ms);
  PrintSeries("one at a time", floor->one);
  PrintSeries("  RunPodSandbox", floor->sandbox);
  PrintSeries("  CreateContainer", floor->create);
  PrintSeries("  StartContainer", floor->start);
  PrintSeries(("burst of " + std::to_string(flags.pods)).c_str(), floor->burst);
  std::printf("kite server (%s): create -> Running seen on a watch, %d pods\n", flags.kite.c_str(), flags.pods);
  std::fflush(stdout);
  Result<Figures> kite = RunKite(flags, dir, octet);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (!kite.ok()) {
    std::fprintf(stderr, "podstart_bench: kite: %s\n", kite.status().ToString().c_str());
    return 1;
  }
  std::printf("  first pod (warm-up, not counted)   %.0f ms\n", kite->warmup_ms);
  PrintSeries("one at a time", kite->one);
  PrintSeries("  of which create -> bound", kite->bound);
  if (!kite->to_sandbox.ms.empty()) {
    std::printf("    then, from containerd's timestamps (%zu pods):\n", kite->to_sandbox.ms.size());
    PrintSeries("  bound -> sandbox created", kite->to_sandbox);
    PrintSeries("  sandbox -> container created", kite->to_created);
    PrintSeries("  container created -> started", kite->to_started);
    PrintSeries("  started -> Running seen", kite->to_seen);
  }
  PrintSeries(("burst of " + std::to_string(flags.pods)).c_str(), kite->burst);
  PrintSeries("  of which create -> bound", kite->burst_bound);

  double overhead = kite->one.p50() - floor->one.p50();
  double ratio = kite->one.p99() / floor->one.p99();
  double burst_ratio = kite->burst.p99() / floor->burst.p99();
  std::printf("targets: p50 <= floor + 100 ms: overhead %.0f ms (%s); p99 <= 1.5 x floor: %.2f (%s); "
              "burst p99 ratio %.2f (%s); Kubernetes SLO p99 <= 5 s\n",
              overhead, overhead <= 100 ? "met" : "missed", ratio, ratio <= 1.5 ? "met" : "missed", burst_ratio,
              burst_ratio <= 1.5 ? "met" : "missed");
  std::printf("RESULT floor_p50_ms=%.0f floor_p99_ms=%.0f kite_p50_ms=%.0f kite_p99_ms=%.0f "
              "floor_burst_p50_ms=%.0f floor_burst_p99_ms=%.0f kite_burst_p50_ms=%.0f kite_burst_p99_ms=%.0f "
              "p50_overhead_ms=%.0f p99_ratio=%.2f burst_p99_ratio=%.2f kite_bound_p50_ms=%.0f pods=%d\n",
              floor->one.p50(), floor->one.p99(), kite->one.p50(), kite->one.p99(), floor->burst.p50(),
              floor->burst.p99(), kite->burst.p50(), kite->burst.p99(), overhead, ratio, burst_ratio, kite->bound.p50(),
              flags.pods);
  return 0;
}
