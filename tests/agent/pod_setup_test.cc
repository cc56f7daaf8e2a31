// PodRunner with a PodSetup — volumes, images, container configs and the waiting reasons
// they give — over the fake runtime, and a NodeAgent with an agent directory against a real
// API server (in process).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/agent/agent_runner.h"
#include "src/agent/node_agent.h"
#include "src/agent/pod_runner.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"
#include "tests/agent/recording_runtime.h"
#include "tests/testing/api_fixture.h"
#include "tests/testing/temp_dir.h"

namespace kite::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Kind = ContainerStateView::Kind;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> EnvOf(const runtime::ContainerConfig& c) { return {c.envs.begin(), c.envs.end()}; }

struct Harness {
  FakeClock clock;
  kite::testing::TempDir tmp;
  kite::testing::RecordingRuntime rt{&clock};
  FakePodObjects objects;
  std::unique_ptr<volumes::VolumeManager> volume_manager;
  PodSetup setup;
  PodRunner runner{"uid-1"};
  rapidjson::Document pod;

  explicit Harness(std::string_view spec) {
    volumes::VolumeManagerOptions options;
    options.agent_dir = tmp.file("agent");
    options.objects = &objects;
    options.node = {4000, 8LL << 30, 50LL << 30};
    volume_manager = std::make_unique<volumes::VolumeManager>(options);
    setup.objects = &objects;
    setup.volumes = volume_manager.get();
    setup.agent_dir = options.agent_dir;
    setup.host_dns.servers = {"192.168.1.1"};
    setup.node = options.node;
    runner.SetSetup(&setup);
    auto parsed = json::ParseJson(R"({"metadata":{"name":"p","namespace":"ns","uid":"uid-1"},"spec":)" +
                                  std::string(spec) + "}");
    REQUIRE(parsed.ok());
    pod = std::move(parsed).value();
  }
  ~Harness() { (void)runner.Remove(rt); }

  PodRunner::Outcome Sync() {
    auto outcome = runner.Sync(pod, rt, "172.16.0.1", clock.NowMillis());
    if (!outcome.ok()) FAIL(outcome.status().message());
    return std::move(outcome).value();
  }
  std::string PodDir() { return tmp.file("agent") + "/pods/uid-1"; }
};

TEST_CASE("a pod with volumes and env from the API runs with the kubelet's config") {
  Harness h(R"j({"hostname":"web","containers":[{"name":"app","image":"kite.local/busybox:1",
      "command":["sh","-c","echo $(GREETING)"],
      "env":[{"name":"GREETING","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"greeting"}}},
             {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}}],
      "ports":[{"containerPort":80,"hostPort":8080}],
      "resources":{"requests":{"cpu":"500m","memory":"64Mi"},"limits":{"memory":"128Mi"}},
      "volumeMounts":[{"name":"config","mountPath":"/etc/app"},{"name":"scratch","mountPath":"/scratch"}]}],
    "volumes":[{"name":"config","configMap":{"name":"cfg"}},{"name":"scratch","emptyDir":{}}]})j");
  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"greeting":"hello"}})"));
  PodRunner::Outcome o = h.Sync();
  REQUIRE(o.report.containers.size() == 1);
  CHECK(o.report.containers[0].state.kind == Kind::kRunning);

  REQUIRE(h.rt.sandboxes.size() == 1);
  const runtime::PodSandboxConfig& sandbox = h.rt.sandboxes[0];
  CHECK(sandbox.hostname == "web");
  CHECK(sandbox.log_directory == h.tmp.file("agent") + "/pod-logs/ns_p_uid-1");
  CHECK(sandbox.dns.servers == std::vector<std::string>{"192.168.1.1"});
  REQUIRE(sandbox.port_mappings.size() == 1);
  CHECK(sandbox.port_mappings[0].host_port == 8080);
  CHECK(sandbox.labels.at(runtime::kPodUidLabel) == "uid-1");

  REQUIRE(h.rt.containers.size() == 1);
  const runtime::ContainerConfig& c = h.rt.containers[0];
  CHECK(c.command == std::vector<std::string>{"sh", "-c", "echo hello"});
  std::map<std::string, std::string> env = EnvOf(c);
  CHECK(env["GREETING"] == "hello");
  CHECK(env["IP"] == "10.42.7.2");
  CHECK(c.log_path == "app/0.log");
  CHECK(c.resources.cpu_shares == 512);
  CHECK(c.resources.memory_limit_in_bytes == 128LL << 20);
  REQUIRE(c.mounts.size() == 4);
  CHECK(c.mounts[0].container_path == "/etc/app");
  CHECK(c.mounts[0].host_path == h.PodDir() + "/volumes/kubernetes.io~configmap/config");
  CHECK(c.mounts[0].readonly);
  CHECK(Read(c.mounts[0].host_path + "/greeting") == "hello");
  CHECK(c.mounts[1].host_path == h.PodDir() + "/volumes/kubernetes.io~empty-dir/scratch");
  CHECK(c.mounts[2].container_path == "/etc/hosts");
  CHECK(Read(c.mounts[2].host_path).find("10.42.7.2\tweb\n") != std::string::npos);
  CHECK(c.mounts[3].container_path == "/dev/termination-log");
  CHECK(c.mounts[3].host_path == h.PodDir() + "/containers/app/0");
  // The sandbox config given with CreateContainer carries the log directory too.
  CHECK(h.rt.container_sandboxes[0].log_directory == sandbox.log_directory);

  // The ConfigMap changes: the file follows on the next sync, the container keeps running.
  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"greeting":"bye"}})"));
  h.clock.Advance(1s);
  o = h.Sync();
  CHECK(Read(c.mounts[0].host_path + "/greeting") == "bye");
  CHECK(h.rt.containers.size() == 1);

  // Remove tears the volumes down.
  REQUIRE(h.runner.Remove(h.rt).ok());
  CHECK_FALSE(fs::exists(h.PodDir()));
}

TEST_CASE("a missing ConfigMap key is CreateContainerConfigError until it appears") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox:1",
      "env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"x"}}}]}]})");
  PodRunner::Outcome o = h.Sync();
  REQUIRE(o.report.containers.size() == 1);
  CHECK(o.report.containers[0].state.kind == Kind::kWaiting);
  CHECK(o.report.containers[0].state.reason == "CreateContainerConfigError");
  CHECK(o.report.containers[0].state.message == "configmap \"cfg\" not found");
  CHECK(o.wake_at == h.clock.NowMillis() + 10'000);
  CHECK(h.rt.containers.empty());

  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"y":"1"}})"));
  o = h.Sync();
  CHECK(o.report.containers[0].state.message == "couldn't find key x in ConfigMap ns/cfg");

  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"x":"1"}})"));
  o = h.Sync();
  CHECK(o.report.containers[0].state.kind == Kind::kRunning);
  CHECK(EnvOf(h.rt.containers.at(0))["X"] == "1");
}

TEST_CASE("a restart that cannot be configured shows the error with the last termination") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox:1",
      "env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"s","key":"x"}}}]}]})");
  REQUIRE(h.objects.Put("Secret", R"({"metadata":{"name":"s","namespace":"ns"},"data":{"x":"MQ=="}})"));
  json::SetMember(*json::MutableMember(h.pod, "metadata"), "annotations",
                  rapidjson::Value(rapidjson::kObjectType), h.pod.GetAllocator());
  json::SetStringMember(*json::MutableMember(*json::MutableMember(h.pod, "metadata"), "annotations"),
                        runtime::kExitCodeAnnotation, "1", h.pod.GetAllocator());
  PodRunner::Outcome o = h.Sync();  // starts, exits at once
  REQUIRE(o.report.containers[0].state.kind == Kind::kTerminated);
  h.objects.Remove("Secret", "ns", "s");
  o = h.Sync();  // the restart cannot build its config
  CHECK(o.report.containers[0].state.kind == Kind::kWaiting);
  CHECK(o.report.containers[0].state.reason == "CreateContainerConfigError");
  CHECK(o.report.containers[0].state.message == "secret \"s\" not found");
  REQUIRE(o.report.containers[0].last_state.has_value());
  CHECK(o.report.containers[0].last_state->exit_code == 1);
}

TEST_CASE("an unbound claim keeps the pod in ContainerCreating with the reason; binding starts it") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox:1","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
    "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"claim"}}]})");
  REQUIRE(h.objects.Put("PersistentVolumeClaim",
                        R"({"metadata":{"name":"claim","namespace":"ns","uid":"c1"},"status":{"phase":"Pending"}})"));
  PodRunner::Outcome o = h.Sync();
  CHECK(o.report.containers[0].state.kind == Kind::kWaiting);
  CHECK(o.report.containers[0].state.reason == "ContainerCreating");
  CHECK(o.report.containers[0].state.message == "error processing PVC ns/claim: PVC is not bound");
  CHECK(h.rt.sandboxes.empty());  // nothing starts before its volumes
  CHECK(o.wake_at == h.clock.NowMillis() + 2'000);
  CHECK(PodPhase(h.pod, o.report) == "Pending");

  std::string storage = h.tmp.file("storage/pv-1");
  REQUIRE(h.objects.Put("PersistentVolumeClaim", R"({"metadata":{"name":"claim","namespace":"ns","uid":"c1"},
    "spec":{"volumeName":"pv-1"},"status":{"phase":"Bound"}})"));
  REQUIRE(h.objects.Put("PersistentVolume", R"({"metadata":{"name":"pv-1"},"spec":{"hostPath":{"path":")" + storage + R"("}}})"));
  o = h.Sync();
  CHECK(o.report.containers[0].state.kind == Kind::kRunning);
  REQUIRE(h.rt.containers.size() == 1);
  CHECK(h.rt.containers[0].mounts[0].host_path == storage);
  std::ofstream(storage + "/kept") << "1";
  REQUIRE(h.runner.Remove(h.rt).ok());
  CHECK(Read(storage + "/kept") == "1");  // PV data outlives the pod
}

TEST_CASE("image pulls: ErrImagePull, then ImagePullBackOff until the back-off ends; Never") {
  Harness h(R"({"containers":[{"name":"app","image":"registry.local/app:v1"},
                              {"name":"side","image":"kite.local/absent:1","imagePullPolicy":"Never"}]})");
  h.rt.all_images = false;
  PodRunner::Outcome o = h.Sync();
  REQUIRE(o.report.containers.size() == 2);
  CHECK(o.report.containers[0].state.reason == "ErrImagePull");
  CHECK(o.report.containers[0].state.message == "failed to pull and unpack image \"registry.local/app:v1\": not found");
  CHECK(o.report.containers[1].state.reason == "ErrImageNeverPull");
  CHECK(o.report.containers[1].state.message ==
        "Container image \"kite.local/absent:1\" is not present with pull policy of Never");
  CHECK(o.wake_at == h.clock.NowMillis() + 1'000);

  h.clock.Advance(1s);
  o = h.Sync();
  CHECK(o.report.containers[0].state.reason == "ImagePullBackOff");
  CHECK(o.report.containers[0].state.message ==
        "Back-off pulling image \"registry.local/app:v1\": ErrImagePull: "
        "failed to pull and unpack image \"registry.local/app:v1\": not found");
  CHECK(o.wake_at == h.clock.NowMillis() + 9'000);
  size_t pulls = h.rt.pulls.size();

  h.rt.pullable.insert("registry.local/app:v1");
  h.clock.Advance(9s);
  o = h.Sync();
  CHECK(h.rt.pulls.size() == pulls + 1);
  CHECK(o.report.containers[0].state.kind == Kind::kRunning);
  CHECK(o.report.containers[1].state.reason == "ErrImageNeverPull");
}

TEST_CASE("without a setup a runner makes bare configs (simulated nodes)") {
  FakeClock clock;
  kite::testing::RecordingRuntime rt{&clock};
  PodRunner runner("uid-2");
  auto pod = json::ParseJson(R"j({"metadata":{"name":"p","namespace":"ns","uid":"uid-2"},"spec":{"containers":[
      {"name":"app","image":"busybox","args":["$(A)"],"env":[{"name":"A","value":"a"}],
       "volumeMounts":[{"name":"v","mountPath":"/v"}]}],"volumes":[{"name":"v","emptyDir":{}}]}})j");
  REQUIRE(pod.ok());
  auto o = runner.Sync(*pod, rt, "172.16.0.1", clock.NowMillis());
  REQUIRE(o.ok());
  CHECK(o->report.containers[0].state.kind == Kind::kRunning);
  REQUIRE(rt.containers.size() == 1);
  CHECK(rt.containers[0].args == std::vector<std::string>{"a"});
  CHECK(rt.containers[0].mounts.empty());
  CHECK(rt.sandboxes[0].log_directory.empty());
  REQUIRE(runner.Remove(rt).ok());
}

TEST_CASE("a NodeAgent with an agent directory runs a pod with the service account volume") {
  kite::testing::ApiFixture api;
  kite::testing::TempDir tmp;
  kite::testing::RecordingRuntime rt;
  NodeAgentOptions options;
  options.node.name = "node-a";
  options.node.internal_ip = "172.16.0.5";
  options.node.pod_cidr = "10.42.7.0/24";
  options.agent_dir = tmp.file("agent");
  std::vector<std::unique_ptr<NodeAgent>> nodes;
  nodes.push_back(std::make_unique<NodeAgent>(options, api.transport(), &rt));
  AgentRunnerOptions runner_options;
  runner_options.tick = 100ms;
  runner_options.resync = 500ms;
  runner_options.run_probes = false;
  AgentRunner runner(api.transport(), std::move(nodes), runner_options);

  api.Create(client::kServiceAccounts, "default", R"({"metadata":{"name":"default"}})");
  api.Create(client::kConfigMaps, "default", R"({"metadata":{"name":"kube-root-ca.crt"},"data":{"ca.crt":"CA"}})");
  api.Create(client::kConfigMaps, "default", R"({"metadata":{"name":"settings"},"data":{"MODE":"test"}})");
  runner.Start();
  rapidjson::Document created = api.Create(client::kPods, "default", R"({"metadata":{"name":"web"},"spec":{"nodeName":"node-a",
      "containers":[{"name":"app","image":"busybox:1","envFrom":[{"configMapRef":{"name":"settings"}}]}]}})");
  std::string uid(json::StringMember(*json::Member(created, "metadata"), "uid"));
  auto phase = [&] {
    auto pod = api.Client(client::kPods).Get("default", "web");
    if (!pod.ok()) return std::string();
    const rapidjson::Value* status = json::Member(*pod, "status");
    return status ? std::string(json::StringMember(*status, "phase")) : std::string();
  };
  CHECK(kite::testing::Eventually([&] { return phase() == "Running"; }));
  std::string projected = tmp.file("agent") + "/pods/" + uid + "/volumes/kubernetes.io~projected";
  bool found_token = false;
  for (const auto& e : fs::directory_iterator(projected)) {
    CHECK(Read(e.path() / "ca.crt") == "CA");
    CHECK(Read(e.path() / "namespace") == "default");
    std::string token = Read(e.path() / "token");
    found_token = std::count(token.begin(), token.end(), '.') == 2;  // a JWT
  }
  CHECK(found_token);
  REQUIRE_FALSE(rt.containers.empty());
  CHECK(EnvOf(rt.containers[0])["MODE"] == "test");
  CHECK(EnvOf(rt.containers[0]).count("KUBERNETES_SERVICE_HOST") == 1);

  REQUIRE(api.Client(client::kPods).Delete("default", "web").ok());
  CHECK(kite::testing::Eventually([&] { return !fs::exists(tmp.file("agent") + "/pods/" + uid); }));
  runner.Stop();
}

}  // namespace
}  // namespace kite::agent
