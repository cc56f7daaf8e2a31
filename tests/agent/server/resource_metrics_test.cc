// GET /metrics/resource on the agent's handler over the fake runtime: the simulated usage
// of the pods' annotations comes out in the kubelet's format, and the API server's decoder
// (src/server/metrics) reads back exactly what was configured.
#include "src/agent/server/resource_metrics.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <variant>

#include "src/agent/server/agent_handler.h"
#include "src/base/clock.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/metrics/metrics_store.h"
#include "src/server/metrics/resource_metrics.h"
#include "tests/testing/temp_dir.h"

namespace kite::agent::server {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

// Runs a pod with the kubelet's labels and `annotations`; returns the sandbox id.
std::string RunPod(runtime::FakeRuntime& rt, const std::string& ns, const std::string& name,
                   const std::vector<std::string>& containers, runtime::Labels annotations) {
  runtime::PodSandboxConfig sandbox;
  sandbox.metadata = {name, ns, name + "-uid", 0};
  sandbox.labels = {{runtime::kPodNameLabel, name}, {runtime::kPodNamespaceLabel, ns},
                    {runtime::kPodUidLabel, name + "-uid"}};
  sandbox.annotations = std::move(annotations);
  Result<std::string> id = rt.RunPodSandbox(sandbox);
  REQUIRE(id.ok());
  for (const std::string& c : containers) {
    runtime::ContainerConfig config;
    config.metadata = {c, 0};
    config.image = "busybox";
    config.labels = sandbox.labels;
    config.labels[runtime::kContainerNameLabel] = c;
    Result<std::string> cid = rt.CreateContainer(*id, config, sandbox);
    REQUIRE(cid.ok());
    REQUIRE(rt.StartContainer(*cid).ok());
  }
  return *id;
}

http::Request Get(const std::string& path, const std::string& user = "kube-apiserver-kubelet-client") {
  http::Request r;
  r.method = "GET";
  r.path = path;
  r.target = path;
  r.peer.has_verified_certificate = true;
  r.peer.common_name = user;
  return r;
}

class NoPods final : public PodLookup {
 public:
  Result<PodTarget> FindPod(const std::string&, const std::string& name) override {
    return NotFoundError("pod \"" + name + "\" not found");
  }
  Result<std::string> FindRunningContainer(const PodTarget&, const std::string&) override {
    return NotFoundError("no container");
  }
};

TEST_CASE("the fake runtime reports the usage its pods' annotations configure") {
  FakeClock clock(kT0);
  auto rt = std::move(runtime::FakeRuntime::Create({.clock = &clock})).value();
  RunPod(*rt, "default", "web", {"app"},
         {{runtime::kCpuMillicoresAnnotation, "250"}, {runtime::kMemoryBytesAnnotation, "64Mi"}});
  RunPod(*rt, "default", "bad", {"app"},
         {{runtime::kCpuMillicoresAnnotation, "-3"}, {runtime::kMemoryBytesAnnotation, "lots"}});
  clock.Advance(std::chrono::seconds(4));
  Result<std::vector<runtime::ContainerStats>> stats = rt->ListContainerStats();
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 2);
  std::map<uint64_t, uint64_t> cpu_by_memory;
  for (const runtime::ContainerStats& s : *stats) {
    CHECK(s.timestamp_nanos == (kT0 + 4000) * 1'000'000);
    cpu_by_memory[s.memory_working_set_bytes] = s.cpu_usage_core_nanos;
  }
  CHECK(cpu_by_memory[64ull << 20] == 1'000'000'000);  // 0.25 cores × 4 s
  CHECK(cpu_by_memory[0] == 0);                          // malformed hooks are off
}

TEST_CASE("GET /metrics/resource writes the kubelet's metrics that the server decodes") {
  FakeClock clock(kT0);
  auto rt = std::move(runtime::FakeRuntime::Create({.clock = &clock})).value();
  RunPod(*rt, "default", "web", {"app", "sidecar"},
         {{runtime::kCpuMillicoresAnnotation, "250"}, {runtime::kMemoryBytesAnnotation, "67108864"}});
  std::string stopped = RunPod(*rt, "other", "idle", {"main"}, {});
  NoPods pods;
  uint64_t host_cpu = 7'000'000'000;
  AgentHandlerOptions options;
  options.host_usage = [&]() -> Result<HostUsage> {
    return HostUsage{clock.NowMillis(), host_cpu, 3ull << 30};
  };
  AgentHandler handler(rt.get(), &pods, options);

  auto scrape = [&]() {
    http::Request request = Get("/metrics/resource");
    http::HandlerResult result = handler.Handle(request);
    REQUIRE(std::holds_alternative<http::Response>(result));
    http::Response response = std::get<http::Response>(result);
    REQUIRE(response.status == 200);
    CHECK(response.content_type.find("text/plain; version=0.0.4") == 0);
    return response.body;
  };

  clock.Advance(std::chrono::seconds(10));
  std::string body = scrape();
  CHECK(body.find("# TYPE container_cpu_usage_seconds_total counter\n") != std::string::npos);
  CHECK(body.find("container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web\"} 2.5 " +
                  std::to_string(kT0 + 10'000) + "\n") != std::string::npos);
  CHECK(body.find("pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\"} 5 ") != std::string::npos);
  CHECK(body.find("node_cpu_usage_seconds_total 7 " + std::to_string(kT0 + 10'000)) != std::string::npos);
  CHECK(body.find("node_memory_working_set_bytes 3221225472 ") != std::string::npos);
  CHECK(body.find("container_start_time_seconds{container=\"main\",namespace=\"other\",pod=\"idle\"} 1.7e+09\n") !=
        std::string::npos);
  CHECK(body.find("resource_scrape_error 0\n") != std::string::npos);

  // The server side: two scrapes 15 s apart give exactly the configured usage.
  Result<metrics::NodeSample> first = metrics::ParseResourceMetrics(body, clock.NowMillis());
  REQUIRE(first.ok());
  REQUIRE(first->containers.size() == 3);
  CHECK(first->containers[0].start_time_ms == kT0);
  REQUIRE(rt->StopPodSandbox(stopped).ok());  // stopped containers are no longer reported
  clock.Advance(std::chrono::seconds(15));
  host_cpu += 15'000'000'000;  // one core busy
  Result<metrics::NodeSample> second = metrics::ParseResourceMetrics(scrape(), clock.NowMillis());
  REQUIRE(second.ok());
  REQUIRE(second->containers.size() == 2);
  metrics::MetricsStore store;
  auto batch = [](metrics::NodeSample sample) {
    metrics::NodeScrape s;
    s.node = "node-1";
    s.sample = std::move(sample);
    s.pod_labels = {{"default/web", {}}, {"other/idle", {}}};
    return std::vector<metrics::NodeScrape>{std::move(s)};
  };
  store.Store(batch(*first));
  store.Store(batch(*second));
  std::optional<metrics::PodUsage> web = store.PodMetrics("default", "web");
  REQUIRE(web.has_value());
  REQUIRE(web->containers.size() == 2);
  for (const metrics::ContainerUsage& c : web->containers) {
    CHECK(c.usage.cpu_nanocores == 250'000'000);
    CHECK(c.usage.memory_bytes == 64 << 20);
  }
  CHECK(web->window_ms == 15'000);
  std::optional<metrics::NodeUsage> node = store.NodeMetrics("node-1");
  REQUIRE(node.has_value());
  CHECK(node->usage.cpu_nanocores == 1'000'000'000);
  CHECK(node->usage.memory_bytes == 3ll << 30);
  CHECK_FALSE(store.PodMetrics("other", "idle").has_value());

  // Same authorization as every route; only GET (and HEAD).
  http::Request anonymous = Get("/metrics/resource", "someone");
  CHECK(std::get<http::Response>(handler.Handle(anonymous)).status == 403);
  http::Request post = Get("/metrics/resource");
  post.method = "POST";
  CHECK(std::get<http::Response>(handler.Handle(post)).status == 405);
}

TEST_CASE("host usage comes from /proc/stat and /proc/meminfo") {
  testing::TempDir dir;
  {
    std::ofstream stat(dir.file("stat"));
    stat << "cpu  100 20 30 4000 50 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n";
    std::ofstream meminfo(dir.file("meminfo"));
    meminfo << "MemTotal:       16384 kB\nMemFree:         1000 kB\nMemAvailable:    4096 kB\n";
  }
  Result<HostUsage> usage = ReadHostUsage(dir.path(), 42);
  REQUIRE(usage.ok());
  long hz = sysconf(_SC_CLK_TCK);
  // user + nice + system + irq + softirq + steal; idle and iowait are not busy.
  CHECK(usage->cpu_core_nanos == (100u + 20 + 30 + 6 + 7 + 8) * (1'000'000'000ull / static_cast<uint64_t>(hz)));
  CHECK(usage->memory_working_set_bytes == (16384u - 4096) * 1024);
  CHECK(usage->timestamp_ms == 42);
  CHECK(ReadHostUsage(dir.file("missing"), 0).status().code() == StatusCode::kUnavailable);
  { std::ofstream(dir.file("meminfo")) << "MemTotal: 1 kB\n"; }
  CHECK(ReadHostUsage(dir.path(), 0).status().code() == StatusCode::kInternal);
  // The real files of this machine parse.
  Result<HostUsage> real = ReadHostUsage("/proc", 1);
  REQUIRE(real.ok());
  CHECK(real->cpu_core_nanos > 0);
  CHECK(real->memory_working_set_bytes > 0);
}

}  // namespace
}  // namespace kite::agent::server
