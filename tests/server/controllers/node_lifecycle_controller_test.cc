// Node lifecycle against a real API server, with a fake clock: a node that stops renewing
// its Lease goes Unknown, is tainted unreachable, its pods become NotReady, and pods are
// evicted when their toleration runs out.
#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/node_lifecycle_controller.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using testing::ApiFixture;
using testing::Eventually;

std::string NodeJson(const std::string& name, const std::string& heartbeat) {
  return R"({"metadata":{"name":")" + name + R"("},"status":{"conditions":[{"type":"Ready","status":"True",)"
         R"("reason":"KubeletReady","lastHeartbeatTime":")" + heartbeat + R"(","lastTransitionTime":")" + heartbeat +
         R"("}]}})";
}

std::string PodJson(const std::string& name, const std::string& node, const std::string& tolerations) {
  return R"({"metadata":{"name":")" + name + R"("},"spec":{"nodeName":")" + node +
         R"(","containers":[{"name":"c","image":"busybox"}],"tolerations":)" + tolerations + "}}";
}

TEST_CASE("a silent node goes Unknown, is tainted, its pods go NotReady and are evicted on schedule") {
  ApiFixture api;
  FakeClock clock(1'800'000'000'000);
  std::string start = FormatRfc3339Seconds(clock.NowMillis());
  api.Create(client::kNodes, "", NodeJson("n1", start));
  api.Create(client::kNodes, "", NodeJson("n2", start));
  // n2 keeps renewing its Lease; n1 does not.
  api.Create(client::kLeases, "kube-node-lease",
             R"({"metadata":{"name":"n2"},"spec":{"holderIdentity":"n2","renewTime":")" +
                 FormatRfc3339Seconds(clock.NowMillis() + 60'000) + R"("}})");
  auto pods = api.Client(client::kPods);
  // Without tolerations of its own a pod is given 300 s ones (DefaultTolerationSeconds), so
  // the pod that must go at once says so.
  api.Create(client::kPods, "default",
             PodJson("intolerant", "n1",
                     R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":0}])"));
  api.Create(client::kPods, "default",
             PodJson("patient", "n1",
                     R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])"));
  api.Create(client::kPods, "default",
             PodJson("forever", "n1", R"([{"operator":"Exists"}])"));
  for (const char* name : {"intolerant", "patient", "forever"}) {
    REQUIRE(pods.Patch("default", name, client::PatchType::kStrategic,
                       R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})", "status")
                .ok());
  }

  ControllerManager manager(api.transport());
  NodeLifecycleOptions options;
  options.clock = &clock;
  options.monitor_period = std::chrono::milliseconds(50);
  manager.Add(std::make_unique<NodeLifecycleController>(options));
  REQUIRE(manager.Start().ok());

  auto nodes = api.Client(client::kNodes);
  auto ready_of = [&](const std::string& node) {
    auto n = nodes.Get("", node);
    if (!n.ok()) return std::string();
    for (const auto& c : json::Member(*json::Member(*n, "status"), "conditions")->GetArray()) {
      if (json::StringMember(c, "type") == "Ready") return std::string(json::StringMember(c, "status"));
    }
    return std::string();
  };
  auto taints_of = [&](const std::string& node) {
    auto n = nodes.Get("", node);
    const rapidjson::Value* spec = n.ok() ? json::Member(*n, "spec") : nullptr;
    const rapidjson::Value* taints = spec ? json::Member(*spec, "taints") : nullptr;
    return taints ? json::ToJson(*taints) : std::string("[]");
  };

  // The controller has looked at the nodes (it taints the unschedulable one) before time
  // moves: a node's grace period runs from when the controller first sees it.
  REQUIRE(nodes.Patch("", "n1", client::PatchType::kMerge, R"({"spec":{"unschedulable":true}})").ok());
  REQUIRE(Eventually([&] { return taints_of("n1").find("unschedulable") != std::string::npos; }));

  // Within the grace period nothing happens.
  clock.Advance(std::chrono::seconds(30));
  REQUIRE(api.Client(client::kLeases)
              .Patch("kube-node-lease", "n2", client::PatchType::kMerge,
                     R"({"spec":{"renewTime":")" + FormatRfc3339Seconds(clock.NowMillis()) + R"("}})")
              .ok());
  CHECK_FALSE(Eventually([&] { return ready_of("n1") == "Unknown"; }, std::chrono::milliseconds(300)));

  clock.Advance(std::chrono::seconds(11));
  REQUIRE(Eventually([&] { return ready_of("n1") == "Unknown"; }));
  CHECK(ready_of("n2") == "True");
  CHECK(Eventually([&] {
    std::string t = taints_of("n1");
    return t.find(R"("key":"node.kubernetes.io/unreachable","effect":"NoSchedule")") != std::string::npos &&
           t.find(R"("key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded")") != std::string::npos;
  }));
  CHECK(taints_of("n2") == "[]");

  // The pod without a toleration is evicted at once (it stays Terminating: only its
  // unreachable node could confirm it stopped); its neighbours are marked NotReady.
  auto terminating = [&](const char* name) {
    auto p = pods.Get("default", name);
    return p.ok() && json::Member(*json::Member(*p, "metadata"), "deletionTimestamp") != nullptr;
  };
  CHECK(Eventually([&] { return terminating("intolerant"); }));
  CHECK(Eventually([&] {
    auto p = pods.Get("default", "patient");
    return p.ok() && json::ToJson(*p).find(R"("type":"Ready","status":"False")") != std::string::npos;
  }));
  CHECK_FALSE(terminating("patient"));

  // After its 300 s toleration the patient pod goes; the pod tolerating everything stays.
  clock.Advance(std::chrono::seconds(301));
  CHECK(Eventually([&] { return terminating("patient"); }));
  CHECK_FALSE(terminating("forever"));

  // The node comes back: Ready again, taints removed.
  REQUIRE(nodes.Patch("", "n1", client::PatchType::kStrategic,
                      R"({"status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":")" +
                          FormatRfc3339Seconds(clock.NowMillis()) + R"("}]}})",
                      "status")
              .ok());
  CHECK(Eventually([&] { return taints_of("n1").find("unreachable") == std::string::npos; }));
  manager.Stop();
}

TEST_CASE("an unschedulable node gets the unschedulable taint, removed when it is schedulable again") {
  ApiFixture api;
  FakeClock clock(1'800'000'000'000);
  api.Create(client::kNodes, "", NodeJson("n1", FormatRfc3339Seconds(clock.NowMillis())));
  ControllerManager manager(api.transport());
  NodeLifecycleOptions options;
  options.clock = &clock;
  options.monitor_period = std::chrono::milliseconds(50);
  manager.Add(std::make_unique<NodeLifecycleController>(options));
  REQUIRE(manager.Start().ok());
  auto nodes = api.Client(client::kNodes);
  REQUIRE(nodes.Patch("", "n1", client::PatchType::kMerge, R"({"spec":{"unschedulable":true}})").ok());
  CHECK(Eventually([&] {
    auto n = nodes.Get("", "n1");
    return n.ok() && json::ToJson(*n).find(R"("key":"node.kubernetes.io/unschedulable","effect":"NoSchedule")") !=
                         std::string::npos;
  }));
  REQUIRE(nodes.Patch("", "n1", client::PatchType::kMerge, R"({"spec":{"unschedulable":null}})").ok());
  CHECK(Eventually([&] {
    auto n = nodes.Get("", "n1");
    return n.ok() && json::ToJson(*n).find("taints") == std::string::npos;
  }));
  manager.Stop();
}

}  // namespace
}  // namespace kite::controllers
