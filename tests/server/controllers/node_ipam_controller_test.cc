// The node IPAM controller against a real API server: nodes get distinct pod CIDRs from the
// cluster CIDR, round-robin from the first block; a node's own CIDR is kept and never
// handed out, nor are blocks overlapping the service CIDR; deletion frees a block, which is
// handed out again once the search wraps around; exhaustion leaves a node waiting with a
// CIDRNotAvailable Event; a restarted controller does not reassign.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <vector>

#include "src/server/client/event_broadcaster.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/node_ipam_controller.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using namespace std::chrono_literals;
using testing::ApiFixture;
using testing::Eventually;

std::unique_ptr<NodeIpamController> Ipam(std::string cluster_cidr = "10.42.0.0/16", int mask = 24, int workers = 2,
                                         client::EventRecorder recorder = {}, std::string service_cidr = "") {
  NodeIpamOptions options;
  options.service_cidr = std::move(service_cidr);
  options.cluster_cidr = std::move(cluster_cidr);
  options.node_mask_size = mask;
  options.workers = workers;
  options.recorder = std::move(recorder);
  auto made = NodeIpamController::Create(std::move(options));
  REQUIRE(made.ok());
  return std::move(made).value();
}

struct Cluster {
  ApiFixture api;
  client::ResourceClient nodes = api.Client(client::kNodes);

  void AddNode(const std::string& name, const std::string& cidr = "") {
    std::string spec = cidr.empty() ? "{}" : R"({"podCIDR":")" + cidr + R"(","podCIDRs":[")" + cidr + R"("]})";
    api.Create(client::kNodes, "", R"({"metadata":{"name":")" + name + R"("},"spec":)" + spec + "}");
  }
  // spec.podCIDR, "" when none (or no such node); checks podCIDRs agrees.
  std::string Cidr(const std::string& name) {
    auto node = nodes.Get("", name);
    if (!node.ok()) return "";
    const rapidjson::Value* spec = json::Member(*node, "spec");
    if (!spec) return "";
    std::string cidr(json::StringMember(*spec, "podCIDR"));
    const rapidjson::Value* list = json::Member(*spec, "podCIDRs");
    if (!cidr.empty()) {
      REQUIRE(list);
      REQUIRE(list->IsArray());
      REQUIRE(list->Size() == 1);
      CHECK(std::string((*list)[0].GetString()) == cidr);
    }
    return cidr;
  }
  bool HasCidr(const std::string& name) { return !Cidr(name).empty(); }
};

TEST_CASE("node IPAM options are validated") {
  CHECK(NodeIpamController::Validate("10.42.0.0/16", 24).ok());
  CHECK(NodeIpamController::Validate("10.42.0.0/16,fd00::/56", 24).ok());
  CHECK(NodeIpamController::Validate("fd00::/56,10.42.0.0/16", 24).ok());
  Status v6_only = NodeIpamController::Validate("fd00::/56", 64);
  CHECK(v6_only.code() == StatusCode::kInvalidArgument);
  CHECK(v6_only.message().find("no IPv4 entry") != std::string::npos);
  CHECK(NodeIpamController::Validate("10.42.0.0/16", 8).code() == StatusCode::kInvalidArgument);
  CHECK(NodeIpamController::Validate("10.42.0.0/16", 31).code() == StatusCode::kInvalidArgument);
  CHECK(NodeIpamController::Validate("10.0.0.0/8", 25).code() == StatusCode::kInvalidArgument);  // 2^17 blocks
  CHECK(NodeIpamController::Validate("10.0.0.0/8", 24).ok());
  CHECK(NodeIpamController::Validate("banana", 24).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("nodes get distinct CIDRs, lowest first; a node's own CIDR is kept and not handed out") {
  Cluster c;
  c.AddNode("own", "10.42.1.0/24");
  c.AddNode("elsewhere", "192.168.7.0/24");  // outside the cluster CIDR: kept, ignored
  ControllerManager manager(c.api.transport());
  manager.Add(Ipam());
  REQUIRE(manager.Start().ok());

  c.AddNode("a");
  REQUIRE(Eventually([&] { return c.HasCidr("a"); }));
  CHECK(c.Cidr("a") == "10.42.0.0/24");
  c.AddNode("b");
  REQUIRE(Eventually([&] { return c.HasCidr("b"); }));
  CHECK(c.Cidr("b") == "10.42.2.0/24");  // 10.42.1.0/24 is "own"'s
  CHECK(c.Cidr("own") == "10.42.1.0/24");
  CHECK(c.Cidr("elsewhere") == "192.168.7.0/24");

  // Many at once, on several workers: all distinct, all inside the pool.
  for (int i = 0; i < 12; ++i) c.AddNode("burst-" + std::to_string(i));
  REQUIRE(Eventually([&] {
    for (int i = 0; i < 12; ++i) {
      if (!c.HasCidr("burst-" + std::to_string(i))) return false;
    }
    return true;
  }));
  std::set<std::string> seen = {c.Cidr("a"), c.Cidr("b"), c.Cidr("own")};
  for (int i = 0; i < 12; ++i) {
    std::string cidr = c.Cidr("burst-" + std::to_string(i));
    CHECK(cidr.rfind("10.42.", 0) == 0);
    CHECK(cidr.size() > 3);
    CHECK(cidr.substr(cidr.size() - 3) == "/24");
    CHECK(seen.insert(cidr).second);
  }
  CHECK(seen.size() == 15);
  // The lowest 15 blocks exactly: nothing skipped.
  for (int i = 0; i < 15; ++i) CHECK(seen.count("10.42." + std::to_string(i) + ".0/24") == 1);
  manager.Stop();
}

TEST_CASE("a freed CIDR is not handed out next: the search goes on after the last block given") {
  Cluster c;
  ControllerManager manager(c.api.transport());
  manager.Add(Ipam());
  REQUIRE(manager.Start().ok());
  c.AddNode("a");
  REQUIRE(Eventually([&] { return c.HasCidr("a"); }));
  c.AddNode("b");
  REQUIRE(Eventually([&] { return c.HasCidr("b"); }));
  CHECK(c.Cidr("a") == "10.42.0.0/24");
  CHECK(c.Cidr("b") == "10.42.1.0/24");

  REQUIRE(c.nodes.Delete("", "a").ok());
  REQUIRE(Eventually([&] { return !c.nodes.Get("", "a").ok(); }));
  // The informer delivers a's deletion before c's creation: block 0 is free when c is
  // served, and still c gets the block after b's.
  c.AddNode("c");
  REQUIRE(Eventually([&] { return c.HasCidr("c"); }));
  CHECK(c.Cidr("c") == "10.42.2.0/24");
  CHECK(c.Cidr("b") == "10.42.1.0/24");
  manager.Stop();
}

TEST_CASE("round-robin wraps around at the end of the pool and reuses freed blocks") {
  Cluster c;
  ControllerManager manager(c.api.transport());
  manager.Add(Ipam("10.42.0.0/22", 24, 1));  // 4 blocks
  REQUIRE(manager.Start().ok());
  for (const char* name : {"a", "b", "c"}) {
    c.AddNode(name);
    REQUIRE(Eventually([&] { return c.HasCidr(name); }));
  }
  CHECK(c.Cidr("a") == "10.42.0.0/24");
  CHECK(c.Cidr("b") == "10.42.1.0/24");
  CHECK(c.Cidr("c") == "10.42.2.0/24");

  REQUIRE(c.nodes.Delete("", "a").ok());
  REQUIRE(Eventually([&] { return !c.nodes.Get("", "a").ok(); }));
  c.AddNode("d");
  REQUIRE(Eventually([&] { return c.HasCidr("d"); }));
  CHECK(c.Cidr("d") == "10.42.3.0/24");  // the last block, not a's freed one
  // The end is reached: the search wraps to the first block, which a freed.
  c.AddNode("e");
  REQUIRE(Eventually([&] { return c.HasCidr("e"); }));
  CHECK(c.Cidr("e") == "10.42.0.0/24");

  // Next starts at block 1 (b's): the first free one after it is c's, once c is gone.
  REQUIRE(c.nodes.Delete("", "c").ok());
  REQUIRE(Eventually([&] { return !c.nodes.Get("", "c").ok(); }));
  c.AddNode("f");
  REQUIRE(Eventually([&] { return c.HasCidr("f"); }));
  CHECK(c.Cidr("f") == "10.42.2.0/24");
  manager.Stop();
}

TEST_CASE("blocks overlapping the service CIDR are never handed out") {
  SECTION("a service CIDR inside the cluster CIDR") {
    Cluster c;
    ControllerManager manager(c.api.transport());
    // Blocks 2 and 3 hold Service IPs; the IPv6 entry of the dual-stack list is ignored;
    // a service range smaller than a block still takes the block (5).
    manager.Add(Ipam("10.42.0.0/21", 24, 2, {}, "10.42.2.0/23,fd00:43::/112,10.42.5.128/28"));
    REQUIRE(manager.Start().ok());
    const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
    for (const std::string& name : names) c.AddNode(name);
    REQUIRE(Eventually([&] {
      for (const std::string& name : names) {
        if (!c.HasCidr(name)) return false;
      }
      return true;
    }));
    std::map<std::string, std::string> holder;  // CIDR -> node
    for (const std::string& name : names) holder[c.Cidr(name)] = name;
    CHECK(holder.size() == 5);
    for (const char* cidr : {"10.42.0.0/24", "10.42.1.0/24", "10.42.4.0/24", "10.42.6.0/24", "10.42.7.0/24"}) {
      CHECK(holder.count(cidr) == 1);
    }
    // The pool is used up; the sixth node finds nothing.
    c.AddNode("f");
    CHECK_FALSE(Eventually([&] { return c.HasCidr("f"); }, 300ms));
    // Freeing block 4 gives it to f: the search wrapped to block 0 and went past the
    // service blocks 2 and 3.
    REQUIRE(c.nodes.Delete("", holder["10.42.4.0/24"]).ok());
    REQUIRE(Eventually([&] { return c.HasCidr("f"); }));
    CHECK(c.Cidr("f") == "10.42.4.0/24");
    manager.Stop();
  }
  SECTION("a service CIDR holding the whole cluster CIDR leaves nothing") {
    Cluster c;
    ControllerManager manager(c.api.transport());
    manager.Add(Ipam("10.42.8.0/26", 28, 2, {}, "10.42.0.0/16"));
    REQUIRE(manager.Start().ok());
    c.AddNode("a");
    CHECK_FALSE(Eventually([&] { return c.HasCidr("a"); }, 300ms));
    manager.Stop();
  }
  SECTION("a service CIDR outside the cluster CIDR changes nothing") {
    Cluster c;
    ControllerManager manager(c.api.transport());
    manager.Add(Ipam("10.42.0.0/16", 24, 2, {}, "10.43.0.0/16"));
    REQUIRE(manager.Start().ok());
    c.AddNode("a");
    REQUIRE(Eventually([&] { return c.HasCidr("a"); }));
    CHECK(c.Cidr("a") == "10.42.0.0/24");
    manager.Stop();
  }
}

TEST_CASE("an exhausted pool leaves the node without a CIDR and records CIDRNotAvailable; a freed block goes to it") {
  Cluster c;
  client::EventBroadcaster events(c.api.transport());
  events.Start();
  ControllerManager manager(c.api.transport());
  manager.Add(Ipam("10.42.0.0/23", 24, 2, events.NewRecorder({"cidrAllocator", ""})));
  REQUIRE(manager.Start().ok());
  c.AddNode("a");
  c.AddNode("b");
  REQUIRE(Eventually([&] { return c.HasCidr("a") && c.HasCidr("b"); }));
  CHECK(c.Cidr("a") != c.Cidr("b"));
  c.AddNode("c");

  auto event_for_c = [&] {
    auto list = c.api.Client(client::kEvents).List("default");
    REQUIRE(list.ok());
    for (const rapidjson::Value& e : (*list)["items"].GetArray()) {
      const rapidjson::Value& o = *json::Member(e, "involvedObject");
      if (json::StringMember(o, "kind") == "Node" && json::StringMember(o, "name") == "c" &&
          json::StringMember(e, "reason") == "CIDRNotAvailable") {
        CHECK(json::StringMember(e, "type") == "Warning");
        CHECK(json::StringMember(e, "message") == "Node c status is now: CIDRNotAvailable");
        CHECK(json::StringMember(*json::Member(e, "source"), "component") == "cidrAllocator");
        return true;
      }
    }
    return false;
  };
  REQUIRE(Eventually(event_for_c));
  CHECK_FALSE(Eventually([&] { return c.HasCidr("c"); }, 300ms));

  std::string freed = c.Cidr("a");
  REQUIRE(c.nodes.Delete("", "a").ok());
  REQUIRE(Eventually([&] { return c.HasCidr("c"); }));
  CHECK(c.Cidr("c") == freed);
  manager.Stop();
  events.Stop();
}

TEST_CASE("a controller restarted over existing nodes does not reassign") {
  Cluster c;
  {
    ControllerManager manager(c.api.transport());
    manager.Add(Ipam());
    REQUIRE(manager.Start().ok());
    c.AddNode("a");
    c.AddNode("b");
    REQUIRE(Eventually([&] { return c.HasCidr("a") && c.HasCidr("b"); }));
    manager.Stop();
  }
  std::string a = c.Cidr("a"), b = c.Cidr("b");
  CHECK(a != b);
  // While no controller runs: a node without a CIDR, and one that brings block 2.
  c.AddNode("c");
  c.AddNode("d", "10.42.2.0/24");
  CHECK(c.Cidr("c").empty());

  ControllerManager manager(c.api.transport());
  manager.Add(Ipam("10.42.0.0/16", 24, 4));
  REQUIRE(manager.Start().ok());
  REQUIRE(Eventually([&] { return c.HasCidr("c"); }));
  CHECK(c.Cidr("c") == "10.42.3.0/24");
  CHECK(c.Cidr("a") == a);
  CHECK(c.Cidr("b") == b);
  CHECK(c.Cidr("d") == "10.42.2.0/24");
  manager.Stop();
}

TEST_CASE("smaller node blocks: a /26 pool cut into /28s") {
  Cluster c;
  ControllerManager manager(c.api.transport());
  manager.Add(Ipam("10.42.8.0/26", 28));
  REQUIRE(manager.Start().ok());
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  for (const std::string& name : names) c.AddNode(name);
  // Two workers serve the five nodes in no fixed order: any four get the four blocks.
  auto served = [&] {
    std::set<std::string> got;
    for (const std::string& name : names) {
      if (std::string cidr = c.Cidr(name); !cidr.empty()) got.insert(cidr);
    }
    return got;
  };
  REQUIRE(Eventually([&] { return served().size() == 4; }));
  CHECK(served() == std::set<std::string>{"10.42.8.0/28", "10.42.8.16/28", "10.42.8.32/28", "10.42.8.48/28"});
  CHECK_FALSE(Eventually([&] { return served().size() > 4; }, 300ms));
  int without = 0;
  for (const std::string& name : names) without += c.HasCidr(name) ? 0 : 1;
  CHECK(without == 1);
  manager.Stop();
}

}  // namespace
}  // namespace kite::controllers
