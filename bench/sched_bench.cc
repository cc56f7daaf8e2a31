// sched_bench: the scheduler and the control plane at scale, on simulated nodes.
//
// For each node count: a fresh `kite server --disable-agent` (its own data directory and
// port) and `kite sim --nodes N` joined to it; once every node is Ready, P pods with resource
// requests are created at once by several client threads over HTTPS (as fast as the API
// takes them), and a watch on the namespace sees each pod bound (spec.nodeName set) and
// Running (the simulated node's status). Figures: pods bound per second (first create to
// last binding seen; when the creates are slower than the scheduler this is the create
// rate), the scheduler's own pace on the backlog left when the creates ended, create→bound
// latency p50/p99, time until all are Running, the server's RSS (VmRSS at the end, VmHWM the
// peak), and the CPU seconds the server, the simulator and this client used. Beside them: upstream scheduler_perf's minimum (680 pods/s at 5,000
// nodes), KWOK's CI bar (10,000 pods Running in ≤ 120 s), and the issue's targets.
//
//   sched_bench [--kite PATH] [--nodes 1000,5000] [--pods 10000] [--clients 8]
//               [--timeout SECONDS] [--perf FILE]
//
// --perf records `perf record -g` of the server and the simulator during the pod phase of
// the largest size. Ends with one `RESULT name=value ...` line: the plain names describe the
// largest node count, `_<N>`-suffixed ones the others.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "src/base/mutex.h"
#include "src/server/json/json_util.h"

#ifndef KITE_BINARY
#define KITE_BINARY "kite"
#endif

namespace {

using namespace kite;
using namespace kite::bench;
using namespace std::chrono_literals;

constexpr double kUpstreamMinPodsPerSecond = 680;  // scheduler_perf, 5,000 nodes
constexpr double kKwokRunningSeconds = 120;         // KWOK CI: 10,000 pods Running
constexpr double kTargetPodsPerSecond = 2000;
constexpr double kTargetRunningSeconds = 20;
constexpr double kTargetRssMb = 500;

struct Flags {
  std::string kite = KITE_BINARY;
  std::vector<int> nodes = {1000, 5000};
  int pods = 10000;
  int clients = 8;
  int timeout_s = 600;
  std::string perf_file;
};

struct Figures {
  int nodes = 0;
  int pods = 0;
  bool complete = false;   // every pod bound and Running within the timeout
  double nodes_ready_s = 0;
  double idle_server_cpu_pct = 0;  // server CPU with the nodes heartbeating, before pods
  double creates_per_s = 0;
  int create_failures = 0;
  int bound = 0;
  int running = 0;
  double bound_per_s = 0;
  // Bindings per second from the last create to the last binding, when the scheduler still
  // had a backlog then: its own pace, no longer limited by how fast pods arrive.
  double drain_bound_per_s = 0;
  int backlog_at_creates_done = 0;
  double p50_bound_ms = 0;
  double p99_bound_ms = 0;
  double all_bound_s = 0;
  double all_running_s = 0;
  double server_rss_mb = 0;
  double server_hwm_mb = 0;
  double sim_rss_mb = 0;
  double server_cpu_s = 0;  // during the pod phase
  double sim_cpu_s = 0;
  double bench_cpu_s = 0;  // this program (the creating clients and the watch)
  double phase_s = 0;
  int64_t watch_restarts = 0;
};

std::string PodJson(int i) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"sb-)" + std::to_string(i) +
         R"(","labels":{"app":"sched-bench"}},"spec":{"terminationGracePeriodSeconds":0,)"
         R"("containers":[{"name":"c","image":"kite.local/busybox:1","command":["sleep","3600"],)"
         R"("resources":{"requests":{"cpu":"100m","memory":"128Mi"}}}]}})";
}

// Ready nodes and all nodes in one LIST.
std::pair<int, int> CountReadyNodes(client::ApiTransport& api) {
  Result<std::string> body = Get(api, "/api/v1/nodes");
  if (!body.ok()) return {0, 0};
  Result<rapidjson::Document> doc = json::ParseJsonObject(*body);
  if (!doc.ok()) return {0, 0};
  const rapidjson::Value* items = json::Member(*doc, "items");
  if (items == nullptr || !items->IsArray()) return {0, 0};
  int ready = 0;
  for (const rapidjson::Value& node : items->GetArray()) {
    const rapidjson::Value* status = json::Member(node, "status");
    const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
    if (conditions == nullptr || !conditions->IsArray()) continue;
    for (const rapidjson::Value& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == "Ready" && json::StringMember(c, "status") == "True") ++ready;
    }
  }
  return {ready, static_cast<int>(items->Size())};
}

// Per-pod times, filled by the creating threads and the watch thread.
struct PodTimes {
  explicit PodTimes(int n) : sent(n), bound(n), running(n) {}
  Mutex mu;
  CondVar changed;
  std::vector<Clock::time_point> sent GUARDED_BY(mu);
  std::vector<Clock::time_point> bound GUARDED_BY(mu);
  std::vector<Clock::time_point> running GUARDED_BY(mu);
  int bound_count GUARDED_BY(mu) = 0;
  int running_count GUARDED_BY(mu) = 0;
};

int PodIndex(const std::string& name, int pods) {
  if (name.rfind("sb-", 0) != 0) return -1;
  int i = std::atoi(name.c_str() + 3);
  return i >= 0 && i < pods ? i : -1;
}

Result<Figures> RunSize(const Flags& flags, int nodes, bool profile) {
  Figures f;
  f.nodes = nodes;
  f.pods = flags.pods;
  char pattern[] = "/tmp/ksb-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return IoError("mkdtemp failed");
  std::string dir = pattern;
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove_dir{dir};
  std::string data = dir + "/data";

  Result<int> port = FreePort();
  if (!port.ok()) return port.status();
  auto server = ChildProcess::Start(
      {flags.kite, "server", "--disable-agent", "--data-dir", data, "--bind-address", "127.0.0.1",
       "--https-listen-port", std::to_string(*port), "--write-kubeconfig", dir + "/kubeconfig",
       "--node-name", "sched-bench"},
      dir + "/server.log");
  if (!server.ok()) return server.status();
  auto server_alive = [&] { return (*server)->Alive(); };
  std::unique_ptr<client::HttpsTransport> api;
  Status up = WaitUntil("server start", 60s, 100ms, [&] {
    if (!api) {
      auto t = AdminTransport(data, *port, 2 * static_cast<size_t>(flags.clients));
      if (!t.ok()) return false;
      api = std::move(t).value();
    }
    return Get(*api, "/readyz").ok();
  }, server_alive);
  if (!up.ok()) return InternalError(up.message() + "\n" + ReadWholeFile(dir + "/server.log"));

  std::string token = ReadWholeFile(data + "/server/token");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto nodes_started = Clock::now();
  auto sim = ChildProcess::Start({flags.kite, "sim", "--server", "https://127.0.0.1:" + std::to_string(*port),
                                  "--token", token, "--server-ca", data + "/server/tls/server-ca.crt",
                                  "--nodes", std::to_string(nodes)},
                                 dir + "/sim.log");
  if (!sim.ok()) return sim.status();
  int last_ready = 0;
  Status all_ready = WaitUntil("nodes Ready", 600s, 2s, [&] {
    auto [ready, total] = CountReadyNodes(*api);
    if (ready != last_ready) {
      std::printf("  %d/%d nodes Ready after %.1f s\n", ready, nodes, Seconds(Clock::now() - nodes_started));
      std::fflush(stdout);
      last_ready = ready;
    }
    return ready >= nodes;
  }, [&] { return (*server)->Alive() && (*sim)->Alive(); });
  if (!all_ready.ok()) {
    return InternalError(all_ready.message() + "\nserver log:\n" + ReadWholeFile(dir + "/server.log").substr(0, 4000) +
                         "\nsim log:\n" + ReadWholeFile(dir + "/sim.log").substr(0, 4000));
  }
  f.nodes_ready_s = Seconds(Clock::now() - nodes_started);
  Status sa = WaitUntil("default service account", 60s, 100ms, [&] {
    return Get(*api, "/api/v1/namespaces/default/serviceaccounts/default").ok();
  });
  if (!sa.ok()) return sa;
  // What the heartbeats cost with no pods: server CPU over 5 s.
  double cpu0 = ProcCpuSeconds((*server)->pid());
  std::this_thread::sleep_for(5s);
  f.idle_server_cpu_pct = (ProcCpuSeconds((*server)->pid()) - cpu0) / 5 * 100;
  std::printf("  server idle with %d nodes: %.0f%% of a core, RSS %.1f MB\n", nodes, f.idle_server_cpu_pct,
              static_cast<double>(ProcStatusKb((*server)->pid(), "VmRSS")) / 1024);

  PodTimes times(flags.pods);
  auto watch = PodWatch::Start(*api, "default", [&](const PodEvent& e) {
    int i = PodIndex(e.name, flags.pods);
    if (i < 0 || e.type == "DELETED") return;
    MutexLock lock(times.mu);
    bool changed = false;
    if (!e.node_name.empty() && times.bound[i] == Clock::time_point()) {
      times.bound[i] = e.arrived;
      times.bound_count++;
      changed = true;
    }
    if (e.phase == "Running" && times.running[i] == Clock::time_point()) {
      times.running[i] = e.arrived;
      times.running_count++;
      changed = true;
    }
    if (changed) times.changed.NotifyAll();
  });
  if (!watch.ok()) return watch.status();

  std::unique_ptr<ChildProcess> perf;
  if (profile) {
    auto p = ChildProcess::Start({"/usr/bin/perf", "record", "-F", "49", "--call-graph", "dwarf,8192", "-o", flags.perf_file, "-p",
                                  std::to_string((*server)->pid()) + "," + std::to_string((*sim)->pid())},
                                 dir + "/perf.log");
    if (p.ok()) perf = std::move(p).value();
  }

  double server_cpu_start = ProcCpuSeconds((*server)->pid());
  double sim_cpu_start = ProcCpuSeconds((*sim)->pid());
  double bench_cpu_start = ProcCpuSeconds(getpid());
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> creators;
  auto phase_start = Clock::now();
  for (int c = 0; c < flags.clients; ++c) {
    creators.emplace_back([&] {
      client::ClientRequest request;
      request.method = "POST";
      request.path = "/api/v1/namespaces/default/pods";
      for (int i = next++; i < flags.pods; i = next++) {
        request.body = PodJson(i);
        {
          MutexLock lock(times.mu);
          times.sent[i] = Clock::now();
        }
        int status = 0;
        for (int attempt = 0; attempt < 5 && status != 201; ++attempt) {
          status = api->Do(request).status;
          if (status == 409) status = 201;  // a retry after a lost answer
        }
        if (status != 201) failures++;
      }
    });
  }
  for (auto& t : creators) t.join();
  auto creates_done = Clock::now();
  {
    MutexLock lock(times.mu);
    f.backlog_at_creates_done = flags.pods - times.bound_count;
  }
  f.create_failures = failures.load();
  f.creates_per_s = flags.pods / Seconds(creates_done - phase_start);
  std::printf("  %d creates in %.1f s (%.0f/s, %d failed)\n", flags.pods, Seconds(creates_done - phase_start),
              f.creates_per_s, f.create_failures);
  std::fflush(stdout);

  auto deadline = phase_start + std::chrono::seconds(flags.timeout_s);
  auto next_report = Clock::now() + 5s;
  {
    MutexLock lock(times.mu);
    while (times.running_count < flags.pods && Clock::now() < deadline && (*server)->Alive()) {
      times.changed.WaitFor(times.mu, 500ms);
      if (Clock::now() >= next_report) {
        std::printf("  t=%5.1f s  bound %d  Running %d  server %.1f CPU-s, RSS %.1f MB\n",
                    Seconds(Clock::now() - phase_start), times.bound_count, times.running_count,
                    ProcCpuSeconds((*server)->pid()) - server_cpu_start,
                    static_cast<double>(ProcStatusKb((*server)->pid(), "VmRSS")) / 1024);
        std::fflush(stdout);
        next_report += 5s;
      }
    }
  }
  auto phase_end = Clock::now();
  if (perf) perf->Stop(60s);
  f.server_cpu_s = ProcCpuSeconds((*server)->pid()) - server_cpu_start;
  f.sim_cpu_s = ProcCpuSeconds((*sim)->pid()) - sim_cpu_start;
  f.bench_cpu_s = ProcCpuSeconds(getpid()) - bench_cpu_start;
  f.server_rss_mb = static_cast<double>(ProcStatusKb((*server)->pid(), "VmRSS")) / 1024;
  f.server_hwm_mb = static_cast<double>(ProcStatusKb((*server)->pid(), "VmHWM")) / 1024;
  f.sim_rss_mb = static_cast<double>(ProcStatusKb((*sim)->pid(), "VmRSS")) / 1024;
  f.watch_restarts = (*watch)->restarts();
  watch->reset();

  {
    MutexLock lock(times.mu);
    Clock::time_point first = *std::min_element(times.sent.begin(), times.sent.end());
    Clock::time_point last_bound = first, last_running = first;
    std::vector<double> latencies;
    for (int i = 0; i < flags.pods; ++i) {
      if (times.bound[i] != Clock::time_point()) {
        latencies.push_back(Ms(times.bound[i] - times.sent[i]));
        last_bound = std::max(last_bound, times.bound[i]);
      }
      if (times.running[i] != Clock::time_point()) last_running = std::max(last_running, times.running[i]);
    }
    f.bound = times.bound_count;
    f.running = times.running_count;
    f.complete = f.bound == flags.pods && f.running == flags.pods;
    f.all_bound_s = Seconds(last_bound - first);
    f.bound_per_s = f.all_bound_s > 0 ? f.bound / f.all_bound_s : 0;
    int after_creates = 0;
    for (int i = 0; i < flags.pods; ++i) after_creates += times.bound[i] > creates_done ? 1 : 0;
    double drain_s = Seconds(last_bound - creates_done);
    if (f.backlog_at_creates_done > 0 && drain_s > 1) f.drain_bound_per_s = after_creates / drain_s;
    f.p50_bound_ms = Percentile(latencies, 0.50);
    f.p99_bound_ms = Percentile(latencies, 0.99);
    f.all_running_s = f.complete ? Seconds(last_running - first) : Seconds(phase_end - first);
    f.phase_s = Seconds(phase_end - first);
  }
  (*sim)->Stop();
  (*server)->Stop();
  return f;
}

void Print(const Figures& f) {
  std::printf("\n%d simulated nodes, %d pods%s\n", f.nodes, f.pods,
              f.complete ? "" : "  (INCOMPLETE: timed out or the server died)");
  std::printf("  nodes Ready after          %8.1f s   (server idle with them: %.0f%% of a core)\n",
              f.nodes_ready_s, f.idle_server_cpu_pct);
  std::printf("  creates                    %8.0f /s  (%d failed)\n", f.creates_per_s, f.create_failures);
  std::printf("  pods bound                 %8d     Running %d\n", f.bound, f.running);
  std::printf("  bound per second           %8.0f     upstream scheduler_perf min 680 at 5,000 nodes "
              "(ratio %.2f); target >= %.0f\n",
              f.bound_per_s, f.bound_per_s / kUpstreamMinPodsPerSecond, kTargetPodsPerSecond);
  if (f.drain_bound_per_s > 0) {
    std::printf("  bound per second, backlog  %8.0f     (%d pods unbound when the creates ended)\n",
                f.drain_bound_per_s, f.backlog_at_creates_done);
  } else if (f.backlog_at_creates_done > 0) {
    std::printf("  bound per second, backlog         -     (%d pods unbound when the creates ended, all bound "
                "within 1 s)\n", f.backlog_at_creates_done);
  } else {
    std::printf("  bound per second, backlog         -     (the scheduler kept up with the creates)\n");
  }
  std::printf("  create->bound p50 / p99    %8.0f / %.0f ms\n", f.p50_bound_ms, f.p99_bound_ms);
  std::printf("  all bound after            %8.1f s\n", f.all_bound_s);
  std::printf("  all Running after          %8.1f s   KWOK CI bar <= %.0f s; target <= %.0f s\n",
              f.all_running_s, kKwokRunningSeconds, kTargetRunningSeconds);
  std::printf("  server RSS end / peak      %8.1f / %.1f MB   target <= %.0f MB\n", f.server_rss_mb,
              f.server_hwm_mb, kTargetRssMb);
  std::printf("  CPU during the pod phase   server %.1f s, sim %.1f s, this client %.1f s over %.1f s (%ld cores)\n",
              f.server_cpu_s, f.sim_cpu_s, f.bench_cpu_s, f.phase_s, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("  sim RSS %.1f MB; watch restarts %lld\n", f.sim_rss_mb, static_cast<long long>(f.watch_restarts));
  std::fflush(stdout);
}

std::string ResultFields(const Figures& f, const std::string& suffix) {
  char buffer[1024];
  std::snprintf(buffer, sizeof(buffer),
                "nodes%s=%d pods%s=%d complete%s=%d bound_per_s%s=%.0f p99_bound_ms%s=%.0f p50_bound_ms%s=%.0f "
                "all_running_s%s=%.1f server_rss_mb%s=%.1f server_hwm_mb%s=%.1f ratio_vs_680%s=%.2f "
                "creates_per_s%s=%.0f drain_bound_per_s%s=%.0f server_cpu_s%s=%.1f sim_cpu_s%s=%.1f bench_cpu_s%s=%.1f",
                suffix.c_str(), f.nodes, suffix.c_str(), f.pods, suffix.c_str(), f.complete ? 1 : 0,
                suffix.c_str(), f.bound_per_s, suffix.c_str(), f.p99_bound_ms, suffix.c_str(), f.p50_bound_ms,
                suffix.c_str(), f.all_running_s, suffix.c_str(), f.server_rss_mb, suffix.c_str(), f.server_hwm_mb,
                suffix.c_str(), f.bound_per_s / kUpstreamMinPodsPerSecond, suffix.c_str(), f.creates_per_s,
                suffix.c_str(), f.drain_bound_per_s, suffix.c_str(), f.server_cpu_s, suffix.c_str(), f.sim_cpu_s,
                suffix.c_str(), f.bench_cpu_s);
  return buffer;
}

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--kite" && has_value) {
      flags.kite = argv[++i];
    } else if (a == "--nodes" && has_value) {
      flags.nodes.clear();
      std::stringstream list(argv[++i]);
      std::string item;
      while (std::getline(list, item, ',')) flags.nodes.push_back(std::atoi(item.c_str()));
    } else if (a == "--pods" && has_value) {
      flags.pods = std::atoi(argv[++i]);
    } else if (a == "--clients" && has_value) {
      flags.clients = std::atoi(argv[++i]);
    } else if (a == "--timeout" && has_value) {
      flags.timeout_s = std::atoi(argv[++i]);
    } else if (a == "--perf" && has_value) {
      flags.perf_file = argv[++i];
    } else {
      return false;
    }
  }
  bool nodes_ok = !flags.nodes.empty() &&
                  std::all_of(flags.nodes.begin(), flags.nodes.end(), [](int n) { return n > 0; });
  return nodes_ok && flags.pods > 0 && flags.clients > 0 && flags.timeout_s > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    std::fprintf(stderr,
                 "usage: sched_bench [--kite PATH] [--nodes 1000,5000] [--pods 10000] [--clients 8] "
                 "[--timeout SECONDS] [--perf FILE]\n");
    return 2;
  }
  std::sort(flags.nodes.begin(), flags.nodes.end());
  std::vector<Figures> all;
  for (size_t k = 0; k < flags.nodes.size(); ++k) {
    int nodes = flags.nodes[k];
    bool largest = k + 1 == flags.nodes.size();
    std::printf("== %d simulated nodes, %d pods, %d client threads (%s)\n", nodes, flags.pods, flags.clients,
                flags.kite.c_str());
    std::fflush(stdout);
    Result<Figures> f = RunSize(flags, nodes, largest && !flags.perf_file.empty());
    if (!f.ok()) {
      std::fprintf(stderr, "sched_bench: %d nodes: %s\n", nodes, f.status().ToString().c_str());
      return 1;
    }
    Print(*f);
    all.push_back(*f);
  }
  std::string result = "RESULT " + ResultFields(all.back(), "");
  for (size_t k = 0; k + 1 < all.size(); ++k) result += " " + ResultFields(all[k], "_" + std::to_string(all[k].nodes));
  std::printf("%s\n", result.c_str());
  return 0;
}
