// A NodeAgent with the fake runtime against a real API server (in process).
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <thread>

#include "src/agent/agent_runner.h"
#include "src/agent/node_agent.h"
#include "src/agent/sim_cluster.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/client/https_transport.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::agent {
namespace {

using namespace std::chrono_literals;
using testing::ApiFixture;
using testing::Eventually;

constexpr char kNode[] = "node-a";

// One node driven by a runner, quick timings.
struct AgentHarness {
  ApiFixture api;
  std::unique_ptr<runtime::FakeRuntime> rt;
  std::unique_ptr<AgentRunner> runner;

  explicit AgentHarness(std::chrono::milliseconds status_interval = 300'000ms,
                        std::chrono::milliseconds resync = 500ms) {
    auto made = runtime::FakeRuntime::Create({"10.42.5.0/24", nullptr});
    REQUIRE(made.ok());
    rt = std::move(made).value();
    NodeAgentOptions options;
    options.node.name = kNode;
    options.node.internal_ip = "172.16.0.5";
    options.node.pod_cidr = "10.42.5.0/24";
    options.lease_renew_interval = 300ms;
    options.status_report_interval = status_interval;
    std::vector<std::unique_ptr<NodeAgent>> nodes;
    nodes.push_back(std::make_unique<NodeAgent>(options, api.transport(), rt.get()));
    AgentRunnerOptions runner_options;
    runner_options.tick = 100ms;
    runner_options.resync = resync;
    runner = std::make_unique<AgentRunner>(api.transport(), std::move(nodes), runner_options);
    runner->Start();
  }
  ~AgentHarness() { runner->Stop(); }

  client::ResourceClient pods() { return api.Client(client::kPods); }

  void CreatePod(std::string_view name, std::string_view annotations = "{}", std::string_view extra_spec = "") {
    api.Create(client::kPods, "default",
               R"({"metadata":{"name":")" + std::string(name) + R"(","annotations":)" + std::string(annotations) +
                   R"(},"spec":{"nodeName":"node-a",)" + std::string(extra_spec) +
                   R"("containers":[{"name":"app","image":"busybox"}]}})");
  }

  // The pod's status field at a dotted path ("phase", "podIP"), "" when absent.
  std::string Field(std::string_view name, std::string_view field) {
    auto pod = pods().Get("default", name);
    if (!pod.ok()) return "";
    const rapidjson::Value* status = json::Member(*pod, "status");
    return status ? std::string(json::StringMember(*status, field)) : "";
  }

  std::string Condition(std::string_view pod_name, std::string_view type) {
    auto pod = pods().Get("default", pod_name);
    if (!pod.ok()) return "";
    const rapidjson::Value* status = json::Member(*pod, "status");
    const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
    if (!conditions) return "";
    for (const auto& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == type) return std::string(json::StringMember(c, "status"));
    }
    return "";
  }

  // containerStatuses[0] of the pod, as JSON text ("" when absent).
  std::string AppStatus(std::string_view name) {
    auto pod = pods().Get("default", name);
    if (!pod.ok()) return "";
    const rapidjson::Value* status = json::Member(*pod, "status");
    const rapidjson::Value* list = status ? json::Member(*status, "containerStatuses") : nullptr;
    return list && list->IsArray() && list->Size() > 0 ? json::ToJson((*list)[0]) : "";
  }
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("the agent registers a Ready node with a Lease it renews") {
  AgentHarness h;
  auto nodes = h.api.Client(client::kNodes);
  auto leases = h.api.Client(client::kLeases);
  REQUIRE(Eventually([&] { return nodes.Get("", kNode).ok(); }));
  auto node = nodes.Get("", kNode);
  const rapidjson::Value& status = *json::Member(*node, "status");
  const rapidjson::Value& ready = (*json::Member(status, "conditions"))[3];
  CHECK(json::StringMember(ready, "type") == "Ready");
  CHECK(json::StringMember(ready, "status") == "True");
  CHECK(json::StringMember(*json::Member(*json::Member(*node, "metadata"), "labels"), "kubernetes.io/hostname") == kNode);
  CHECK(json::StringMember(*json::Member(*node, "spec"), "podCIDR") == "10.42.5.0/24");
  CHECK(json::StringMember(*json::Member(status, "capacity"), "pods") == "110");

  REQUIRE(Eventually([&] { return leases.Get("kube-node-lease", kNode).ok(); }));
  auto lease = leases.Get("kube-node-lease", kNode);
  const rapidjson::Value& spec = *json::Member(*lease, "spec");
  CHECK(json::StringMember(spec, "holderIdentity") == kNode);
  CHECK(json::Member(spec, "leaseDurationSeconds")->GetInt() == 40);
  const rapidjson::Value& owner = (*json::Member(*json::Member(*lease, "metadata"), "ownerReferences"))[0];
  CHECK(json::StringMember(owner, "kind") == "Node");
  CHECK(json::StringMember(owner, "uid") == json::StringMember(*json::Member(*node, "metadata"), "uid"));
  std::string first(json::StringMember(spec, "renewTime"));
  CHECK(first.size() == std::string("2024-01-01T00:00:00.000000Z").size());
  CHECK(Eventually([&] {
    auto l = leases.Get("kube-node-lease", kNode);
    return l.ok() && json::StringMember(*json::Member(*l, "spec"), "renewTime") != first;
  }));
}

TEST_CASE("the node status is re-posted; a deleted Node is registered again") {
  AgentHarness h(300ms);
  auto nodes = h.api.Client(client::kNodes);
  auto heartbeat = [&]() -> std::string {
    auto node = nodes.Get("", kNode);
    if (!node.ok()) return "";
    const rapidjson::Value& ready = (*json::Member(*json::Member(*node, "status"), "conditions"))[3];
    return std::string(json::StringMember(ready, "lastHeartbeatTime"));
  };
  REQUIRE(Eventually([&] { return !heartbeat().empty(); }));
  std::string first = heartbeat();
  CHECK(Eventually([&] { return heartbeat() != first; }, 5s));  // RFC 3339 seconds: >= 1 s later

  auto node = nodes.Get("", kNode);
  std::string old_uid(json::StringMember(*json::Member(*node, "metadata"), "uid"));
  REQUIRE(nodes.Delete("", kNode).ok());
  CHECK(Eventually([&] {
    auto again = nodes.Get("", kNode);
    return again.ok() && json::StringMember(*json::Member(*again, "metadata"), "uid") != old_uid;
  }));
}

TEST_CASE("pressure sampled at a heartbeat is posted at once, not at the next status report") {
  ApiFixture api;
  auto made = runtime::FakeRuntime::Create({"10.42.5.0/24", nullptr});
  REQUIRE(made.ok());
  std::atomic<bool> short_of_memory{false};
  NodeAgentOptions options;
  options.node.name = kNode;
  options.node.pod_cidr = "10.42.5.0/24";
  options.status_report_interval = 300'000ms;
  options.pressure = [&] { return NodePressure{.memory = short_of_memory.load()}; };
  NodeAgent agent(options, api.transport(), made->get());
  REQUIRE(agent.Heartbeat().ok());
  auto nodes = api.Client(client::kNodes);
  auto memory_pressure = [&] {
    auto node = nodes.Get("", kNode);
    REQUIRE(node.ok());
    return std::string(json::StringMember((*json::Member(*json::Member(*node, "status"), "conditions"))[0], "status"));
  };
  CHECK(memory_pressure() == "False");
  short_of_memory = true;
  REQUIRE(agent.Heartbeat().ok());
  CHECK(memory_pressure() == "True");
  short_of_memory = false;
  REQUIRE(agent.Heartbeat().ok());
  CHECK(memory_pressure() == "False");
}

// The Ready condition of node-a: {status, reason, message}, empty when absent.
std::array<std::string, 3> NodeReady(client::ResourceClient& nodes) {
  auto node = nodes.Get("", kNode);
  if (!node.ok()) return {};
  const rapidjson::Value* status = json::Member(*node, "status");
  const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return {};
  for (const auto& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == "Ready") {
      return {std::string(json::StringMember(c, "status")), std::string(json::StringMember(c, "reason")),
              std::string(json::StringMember(c, "message"))};
    }
  }
  return {};
}

TEST_CASE("without a pod CIDR the node is NotReady and starts no pods; both change once spec.podCIDR is set") {
  ApiFixture api;
  // The runtime could start sandboxes from a range of its own: what holds the pod back is
  // the agent, which has no CIDR for the node yet.
  auto made = runtime::FakeRuntime::Create({"10.99.0.0/24", nullptr});
  REQUIRE(made.ok());
  std::unique_ptr<runtime::FakeRuntime> rt = std::move(made).value();
  Mutex mu;
  std::vector<std::string> reported;
  NodeAgentOptions options;
  options.node.name = kNode;
  options.node.internal_ip = "172.16.0.5";
  options.lease_renew_interval = 300ms;
  options.status_report_interval = 300'000ms;  // Ready must not wait for the next report
  options.pod_cidr_check_interval = 100ms;
  options.on_pod_cidr = [&](const std::string& cidr) {
    {
      MutexLock lock(mu);
      reported.push_back(cidr);
    }
    return rt->SetPodCidr(cidr);
  };
  std::vector<std::unique_ptr<NodeAgent>> agents;
  agents.push_back(std::make_unique<NodeAgent>(options, api.transport(), rt.get()));
  NodeAgent* agent = agents.back().get();
  AgentRunnerOptions runner_options;
  runner_options.tick = 50ms;
  runner_options.resync = 600'000ms;  // the pod must start because the CIDR came, not a resync
  AgentRunner runner(api.transport(), std::move(agents), runner_options);
  runner.Start();

  auto nodes = api.Client(client::kNodes);
  auto pods = api.Client(client::kPods);
  REQUIRE(Eventually([&] { return !NodeReady(nodes)[0].empty(); }));
  std::array<std::string, 3> ready = NodeReady(nodes);
  CHECK(ready[0] == "False");
  CHECK(ready[1] == "KubeletNotReady");
  CHECK(ready[2] ==
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
        "message:Network plugin returns error: cni plugin not initialized");
  CHECK(json::StringMember(*json::Member(*nodes.Get("", kNode), "spec"), "podCIDR").empty());

  api.Create(client::kPods, "default",
             R"({"metadata":{"name":"web"},"spec":{"nodeName":"node-a","containers":[{"name":"app","image":"busybox"}]}})");
  api.Create(client::kPods, "default",
             R"({"metadata":{"name":"host"},"spec":{"nodeName":"node-a","hostNetwork":true,)"
             R"("containers":[{"name":"app","image":"busybox"}]}})");
  // A hostNetwork pod does not need the pod network (the kubelet starts it); the other waits.
  auto phase = [&](const char* name) {
    auto pod = pods.Get("default", name);
    const rapidjson::Value* status = pod.ok() ? json::Member(*pod, "status") : nullptr;
    return status ? std::string(json::StringMember(*status, "phase")) : std::string();
  };
  REQUIRE(Eventually([&] { return phase("host") == "Running"; }));
  CHECK_FALSE(Eventually([&] { return phase("web") == "Running"; }, 500ms));
  CHECK(rt->SandboxCount() == 1);  // the hostNetwork pod's only
  CHECK(NodeReady(nodes)[0] == "False");
  CHECK_FALSE(agent->NetworkReady());
  {
    MutexLock lock(mu);
    CHECK(reported.empty());
  }

  // What the node IPAM controller does.
  REQUIRE(nodes.Patch("", kNode, client::PatchType::kMerge,
                      R"({"spec":{"podCIDR":"10.42.9.0/24","podCIDRs":["10.42.9.0/24"]}})")
              .ok());
  REQUIRE(Eventually([&] { return NodeReady(nodes)[0] == "True"; }, 3s));
  CHECK(NodeReady(nodes)[1] == "KubeletReady");
  CHECK(agent->PodCidr() == "10.42.9.0/24");
  CHECK(rt->PodCidr() == "10.42.9.0/24");
  REQUIRE(Eventually([&] { return phase("web") == "Running"; }, 3s));
  auto web = pods.Get("default", "web");
  REQUIRE(web.ok());
  CHECK(json::StringMember(*json::Member(*web, "status"), "podIP").rfind("10.42.9.", 0) == 0);
  // Reported once, however many heartbeats follow.
  std::this_thread::sleep_for(400ms);
  {
    MutexLock lock(mu);
    CHECK(reported == std::vector<std::string>{"10.42.9.0/24"});
  }
  runner.Stop();
}

TEST_CASE("an explicit CIDR is reported from registration; a learned one survives re-registration") {
  ApiFixture api;
  auto nodes = api.Client(client::kNodes);
  auto made = runtime::FakeRuntime::Create({"", nullptr});
  REQUIRE(made.ok());
  int calls = 0;
  NodeAgentOptions options;
  options.node.name = kNode;
  options.on_pod_cidr = [&](const std::string& cidr) {
    ++calls;
    return (*made)->SetPodCidr(cidr);
  };
  auto spec_cidr = [&] {
    auto node = nodes.Get("", kNode);
    return node.ok() ? std::string(json::StringMember(*json::Member(*node, "spec"), "podCIDR")) : std::string();
  };

  SECTION("explicit: Ready from the first heartbeat") {
    options.node.pod_cidr = "10.42.5.0/24";
    NodeAgent agent(options, api.transport(), made->get());
    CHECK_FALSE(agent.NetworkReady());
    REQUIRE(agent.Heartbeat().ok());
    CHECK(agent.NetworkReady());
    CHECK(calls == 1);
    CHECK((*made)->PodCidr() == "10.42.5.0/24");
    CHECK(spec_cidr() == "10.42.5.0/24");
    CHECK(NodeReady(nodes)[0] == "True");
    REQUIRE(agent.Heartbeat().ok());
    CHECK(calls == 1);
  }
  SECTION("learned: the Node deleted is registered again with it") {
    options.status_report_interval = 0ms;  // every heartbeat posts (and so finds the Node gone)
    options.pod_cidr_check_interval = 0ms;
    NodeAgent agent(options, api.transport(), made->get());
    REQUIRE(agent.Heartbeat().ok());
    CHECK(NodeReady(nodes)[0] == "False");
    CHECK(spec_cidr().empty());
    REQUIRE(nodes.Patch("", kNode, client::PatchType::kMerge, R"({"spec":{"podCIDR":"10.42.7.0/24"}})").ok());
    REQUIRE(agent.Heartbeat().ok());
    CHECK(agent.PodCidr() == "10.42.7.0/24");
    CHECK(NodeReady(nodes)[0] == "True");  // posted by that same heartbeat
    CHECK(calls == 1);

    REQUIRE(nodes.Delete("", kNode).ok());
    REQUIRE(Eventually([&] {
      (void)agent.Heartbeat();
      return !spec_cidr().empty();
    }));
    CHECK(spec_cidr() == "10.42.7.0/24");
    CHECK(NodeReady(nodes)[0] == "True");
    CHECK(calls == 1);
  }
}

TEST_CASE("a pod bound to the node runs: Running, an IP from the node's CIDR, Ready") {
  AgentHarness h;
  h.CreatePod("web", "{}", R"("restartPolicy":"Always",)");
  REQUIRE(Eventually([&] { return h.Field("web", "phase") == "Running" && h.Condition("web", "Ready") == "True"; }));
  CHECK(h.Field("web", "podIP").rfind("10.42.5.", 0) == 0);
  CHECK(h.Field("web", "hostIP") == "172.16.0.5");
  CHECK(h.Field("web", "qosClass") == "BestEffort");
  CHECK_FALSE(h.Field("web", "startTime").empty());
  CHECK(h.Condition("web", "PodScheduled") == "True");
  CHECK(h.Condition("web", "Initialized") == "True");
  CHECK(h.Condition("web", "PodReadyToStartContainers") == "True");
  std::string app = h.AppStatus("web");
  CHECK(Contains(app, R"("running":{"startedAt")"));
  CHECK(Contains(app, R"("containerID":"fake://)"));
  CHECK(Contains(app, R"("ready":true)"));
  CHECK(h.rt->SandboxCount() == 1);

  // A second pod gets another address.
  h.CreatePod("web2");
  REQUIRE(Eventually([&] { return !h.Field("web2", "podIP").empty(); }));
  CHECK(h.Field("web2", "podIP") != h.Field("web", "podIP"));
}

TEST_CASE("a status someone else writes is put right at once, not at the next resync") {
  AgentHarness h(300'000ms, /*resync=*/3'600'000ms);
  h.CreatePod("web", "{}", R"("restartPolicy":"Always",)");
  REQUIRE(Eventually([&] { return h.Field("web", "phase") == "Running" && h.Condition("web", "Ready") == "True"; }));
  std::string ip = h.Field("web", "podIP");
  // The agent's own writes came back through its watch and were let be; these are not its own.
  // Twice: the first may meet the sync that follows the containers' start anyway.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(h.pods()
                .Patch("default", "web", client::PatchType::kMerge, R"({"status":{"phase":"Pending","podIP":null}})",
                       "status")
                .ok());
    REQUIRE(Eventually([&] { return h.Field("web", "phase") == "Running" && h.Field("web", "podIP") == ip; }));
  }
}

TEST_CASE("the exit-code hook: restarts in CrashLoopBackOff, or Failed with Never") {
  AgentHarness h;
  h.CreatePod("crash", R"({"sim.kite.dev/exit-code":"3"})");
  h.CreatePod("once", R"({"sim.kite.dev/exit-code":"4"})", R"("restartPolicy":"Never",)");
  CHECK(Eventually([&] { return Contains(h.AppStatus("crash"), R"("reason":"CrashLoopBackOff")"); }));
  std::string crash = h.AppStatus("crash");
  CHECK(Contains(crash, R"("restartCount":1)"));
  CHECK(Contains(crash, R"("exitCode":3)"));
  CHECK(Contains(crash, "back-off 10s restarting failed container=app pod=crash_default("));
  CHECK(h.Field("crash", "phase") == "Running");
  CHECK(h.Condition("crash", "Ready") == "False");

  CHECK(Eventually([&] { return h.Field("once", "phase") == "Failed"; }));
  CHECK(Contains(h.AppStatus("once"), R"("terminated":{"exitCode":4,"reason":"Error")"));
  CHECK(Contains(h.AppStatus("once"), R"("restartCount":0)"));
  CHECK(h.Condition("once", "Ready") == "False");
  // A finished pod's sandbox is stopped.
  CHECK(Eventually([&] { return h.Condition("once", "PodReadyToStartContainers") == "False"; }));
}

TEST_CASE("run-seconds with OnFailure ends Succeeded") {
  AgentHarness h;
  h.CreatePod("job", R"({"sim.kite.dev/run-seconds":"0.5"})", R"("restartPolicy":"OnFailure",)");
  CHECK(Eventually([&] { return h.Field("job", "phase") == "Succeeded"; }));
  CHECK(Contains(h.AppStatus("job"), R"("reason":"Completed")"));
}

TEST_CASE("deleting a pod gracefully: stopped, then gone") {
  AgentHarness h;
  h.CreatePod("web");
  REQUIRE(Eventually([&] { return h.Field("web", "phase") == "Running"; }));
  REQUIRE(h.pods().Delete("default", "web", R"({"gracePeriodSeconds":30})").ok());
  CHECK(Eventually([&] { return h.pods().Get("default", "web").status().code() == StatusCode::kNotFound; }));
  CHECK(Eventually([&] { return h.rt->SandboxCount() == 0; }));
}

TEST_CASE("a pod the API no longer has is stopped in the runtime") {
  AgentHarness h;
  h.CreatePod("web", "{}", R"("restartPolicy":"Never",)");
  REQUIRE(Eventually([&] { return h.Field("web", "phase") == "Running"; }));
  // Finished pods are deleted at once by the API server (no graceful stop by the node).
  REQUIRE(h.pods().Patch("default", "web", client::PatchType::kMerge, R"({"status":{"phase":"Succeeded"}})", "status").ok());
  REQUIRE(h.pods().Delete("default", "web").ok());
  CHECK(Eventually([&] { return h.rt->SandboxCount() == 0; }));
}

TEST_CASE("readiness waits for the probe's initial delay") {
  AgentHarness h;
  h.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"slow"},"spec":{"nodeName":"node-a","containers":[{"name":"app","image":"x",)"
               R"("readinessProbe":{"initialDelaySeconds":1,"exec":{"command":["true"]}}}]}})");
  REQUIRE(Eventually([&] { return h.Field("slow", "phase") == "Running"; }));
  CHECK(h.Condition("slow", "Ready") == "False");
  CHECK(Eventually([&] { return h.Condition("slow", "Ready") == "True"; }, 5s));
}

TEST_CASE("pods of other nodes are not touched") {
  AgentHarness h;
  h.api.Create(client::kPods, "default",
               R"({"metadata":{"name":"elsewhere"},"spec":{"nodeName":"node-b","containers":[{"name":"a","image":"x"}]}})");
  h.CreatePod("mine");
  REQUIRE(Eventually([&] { return h.Field("mine", "phase") == "Running"; }));
  CHECK(h.Field("elsewhere", "phase") == "Pending");  // as created: no agent ran it
  CHECK(h.rt->SandboxCount() == 1);
}

TEST_CASE("a simulated cluster: every node Ready, pods routed to their node") {
  ApiFixture api;
  SimClusterOptions options;
  options.nodes = 3;
  options.lease_renew_interval = 500ms;
  auto cluster = SimCluster::Create(api.transport(), options);
  REQUIRE(cluster.ok());
  (*cluster)->Start();
  auto nodes = api.Client(client::kNodes);
  CHECK(Eventually([&] {
    auto list = nodes.List("");
    return list.ok() && json::Member(*list, "items")->Size() == 3;
  }));
  api.Create(client::kPods, "default",
             R"({"metadata":{"name":"p2"},"spec":{"nodeName":"sim-node-00002","containers":[{"name":"a","image":"x"}]}})");
  auto pods = api.Client(client::kPods);
  CHECK(Eventually([&] {
    auto pod = pods.Get("default", "p2");
    return pod.ok() && json::Member(*pod, "status") &&
           json::StringMember(*json::Member(*pod, "status"), "podIP").starts_with("10.42.2.");
  }));
  CHECK((*cluster)->runtime(2)->SandboxCount() == 1);
  CHECK((*cluster)->runtime(1)->SandboxCount() == 0);
  CHECK((*cluster)->runtime(4) == nullptr);
  (*cluster)->Stop();
}

TEST_CASE("an unreachable server: heartbeats fail and back off, nothing crashes") {
  FakeClock clock;
  auto rt = runtime::FakeRuntime::Create({"10.42.0.0/24", &clock});
  REQUIRE(rt.ok());
  // Any PEM certificate will do: the connection is refused before TLS.
  std::string pem =
      "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
  auto transport = client::HttpsTransport::Create({.server_url = "https://127.0.0.1:1", .ca_pem = pem,
                                                   .connect_timeout = 2s});
  REQUIRE(transport.ok());
  NodeAgentOptions options;
  options.node.name = "lonely";
  NodeAgent agent(options, transport->get(), rt->get(), &clock);
  CHECK(agent.NextHeartbeatMillis() == 0);
  Status first = agent.Heartbeat();
  CHECK(first.code() == StatusCode::kUnavailable);
  CHECK_FALSE(agent.Registered());
  CHECK(agent.NextHeartbeatMillis() == clock.NowMillis() + 200);
  CHECK(agent.Heartbeat().ok());  // not due yet: nothing tried
  clock.Advance(200ms);
  CHECK_FALSE(agent.Heartbeat().ok());
  CHECK(agent.NextHeartbeatMillis() == clock.NowMillis() + 400);
  for (int i = 0; i < 10; ++i) {
    clock.Advance(10s);
    (void)agent.Heartbeat();
  }
  CHECK(agent.NextHeartbeatMillis() == clock.NowMillis() + 7000);
}

}  // namespace
}  // namespace kite::agent
