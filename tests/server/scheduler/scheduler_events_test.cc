// The scheduler's Events: Scheduled for a bound pod, FailedScheduling (with the PodScheduled
// condition's "0/N nodes are available: ..." message) for one that fits nowhere. And a
// hidden throughput check ([.bench]) of binding with and without Events.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "src/server/client/event_broadcaster.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/scheduler/scheduler.h"
#include "tests/server/scheduler/test_objects.h"
#include "src/store/open_store.h"
#include "tests/testing/api_fixture.h"

namespace kite::scheduler {
namespace {

using json::Member;
using json::StringMember;
using kite::testing::ApiFixture;
using kite::testing::Eventually;
using rapidjson::Value;
using testing::NodeJson;
using testing::PodJson;

// The events of pod `name` with `reason` (copies).
std::vector<rapidjson::Document> EventsOf(ApiFixture& api, std::string_view name, std::string_view reason) {
  std::vector<rapidjson::Document> out;
  auto list = api.Client(client::kEvents).List("default");
  REQUIRE(list.ok());
  for (const Value& e : (*list)["items"].GetArray()) {
    if (StringMember(e, "reason") != reason || StringMember(*Member(e, "involvedObject"), "name") != name) continue;
    rapidjson::Document copy;
    copy.CopyFrom(e, copy.GetAllocator());
    out.push_back(std::move(copy));
  }
  return out;
}

TEST_CASE("the scheduler records Scheduled and FailedScheduling events") {
  ApiFixture api;
  client::EventBroadcaster events(api.transport());
  events.Start();
  controllers::ControllerManager manager(api.transport());
  Scheduler::Options options;
  options.recorder = events.NewRecorder({"default-scheduler", ""});
  auto owned = std::make_unique<Scheduler>(std::move(options));
  Scheduler* scheduler = owned.get();
  manager.Add(std::move(owned));
  REQUIRE(manager.Start().ok());
  for (const char* node : {"n1", "n2", "n3"}) api.Create(client::kNodes, "", NodeJson(node, "1", "1Gi"));
  REQUIRE(Eventually([&] { return scheduler->cache().NodeCount() == 3; }));

  rapidjson::Document small = api.Create(client::kPods, "default", PodJson("small", "100m"));
  rapidjson::Document big = api.Create(client::kPods, "default", PodJson("big", "8"));

  REQUIRE(Eventually([&] { return EventsOf(api, "small", "Scheduled").size() == 1; }));
  rapidjson::Document bound = std::move(api.Client(client::kPods).Get("default", "small")).value();
  std::string node(StringMember(*Member(bound, "spec"), "nodeName"));
  REQUIRE(!node.empty());
  rapidjson::Document scheduled = std::move(EventsOf(api, "small", "Scheduled")[0]);
  CHECK(StringMember(scheduled, "type") == "Normal");
  CHECK(StringMember(scheduled, "message") == "Successfully assigned default/small to " + node);
  CHECK(StringMember(*Member(scheduled, "source"), "component") == "default-scheduler");
  CHECK(StringMember(*Member(scheduled, "involvedObject"), "kind") == "Pod");
  CHECK(StringMember(*Member(scheduled, "involvedObject"), "uid") == StringMember(*Member(small, "metadata"), "uid"));

  REQUIRE(Eventually([&] { return !EventsOf(api, "big", "FailedScheduling").empty(); }));
  rapidjson::Document failed = std::move(EventsOf(api, "big", "FailedScheduling")[0]);
  CHECK(StringMember(failed, "type") == "Warning");
  std::string message(StringMember(failed, "message"));
  CHECK(message.starts_with("0/3 nodes are available: 3 Insufficient cpu."));
  // The same words as the pod's PodScheduled condition (written after the event is sent,
  // so it may land after the event does).
  std::string condition_message;
  CHECK(Eventually([&] {
    rapidjson::Document pending = std::move(api.Client(client::kPods).Get("default", "big")).value();
    const Value* status = Member(pending, "status");
    const Value* conditions = status ? Member(*status, "conditions") : nullptr;
    if (!conditions || !conditions->IsArray()) return false;
    for (const Value& c : conditions->GetArray()) {
      if (StringMember(c, "type") == "PodScheduled") condition_message = StringMember(c, "message");
    }
    return !condition_message.empty();
  }));
  CHECK(message == condition_message);
  CHECK(StringMember(*Member(failed, "involvedObject"), "uid") == StringMember(*Member(big, "metadata"), "uid"));
  CHECK(EventsOf(api, "big", "Scheduled").empty());

  manager.Stop();
  events.Stop();
  CHECK(events.stats().failed == 0);
  CHECK(events.stats().dropped == 0);
}

// An API server over the SQLite store `kite server` uses (the in-memory store scans every
// key on each write, which would make any extra object look expensive).
class SqliteApi {
 public:
  SqliteApi() {
    store::StoreOptions store_options;
    // KITE_BENCH_FSYNC=1: fsync every commit, as `kite server` does by default; else
    // only CPU is compared.
    if (!std::getenv("KITE_BENCH_FSYNC")) store_options.durability = store::Durability::kNormal;
    auto kv = store::OpenStore("sqlite://" + dir_.file("state.db"), store_options);
    if (!kv.ok()) throw std::runtime_error(kv.status().message());
    kv_ = std::move(kv).value();
    apiserver::ApiServerOptions options;
    options.server_dir = dir_.file("server");
    options.port = 0;
    auto server = apiserver::ApiServer::Start(options, kv_.get());
    if (!server.ok()) throw std::runtime_error(server.status().message());
    server_ = std::move(server).value();
    transport_ = std::make_unique<client::InProcessTransport>(server_->handler(), "admin",
                                                              std::vector<std::string>{"system:masters"});
  }
  ~SqliteApi() { server_->Stop(); }
  client::ApiTransport* transport() { return transport_.get(); }
  void Create(const client::ResourceRef& ref, std::string_view ns, const std::string& text) {
    REQUIRE(client::ResourceClient(transport(), ref).Create(ns, *json::ParseJson(text)).ok());
  }

 private:
  kite::testing::TempDir dir_;
  std::unique_ptr<store::KvStore> kv_;
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<client::InProcessTransport> transport_;
};

// Bound pods per second for `pods` pods on `nodes` nodes, with or without Events.
double BindRate(int nodes, int pods, bool with_events, client::EventBroadcaster::Stats* stats) {
  SqliteApi api;
  client::EventBroadcaster events(api.transport());
  events.Start();
  controllers::ControllerManager manager(api.transport());
  Scheduler::Options options;
  if (with_events) options.recorder = events.NewRecorder({"default-scheduler", ""});
  auto owned = std::make_unique<Scheduler>(std::move(options));
  Scheduler* scheduler = owned.get();
  manager.Add(std::move(owned));
  REQUIRE(manager.Start().ok());
  for (int i = 0; i < nodes; ++i) api.Create(client::kNodes, "", NodeJson("n" + std::to_string(i), "64", "256Gi", "{}", "{}", 500));
  REQUIRE(Eventually([&] { return scheduler->cache().NodeCount() == static_cast<size_t>(nodes); }));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < pods; ++i) api.Create(client::kPods, "default", PodJson("p" + std::to_string(i), "10m", "10Mi"));
  REQUIRE(Eventually([&] { return scheduler->stats().bound == pods; }, std::chrono::seconds(300)));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  manager.Stop();
  REQUIRE(events.Flush(std::chrono::seconds(60)));
  if (stats) *stats = events.stats();
  events.Stop();
  return pods / seconds;
}

TEST_CASE("binding throughput with and without events", "[.bench]") {
  int pods = std::getenv("KITE_BENCH_PODS") ? std::atoi(std::getenv("KITE_BENCH_PODS")) : 3000;
  int nodes = 100;
  int rounds = std::getenv("KITE_BENCH_ROUNDS") ? std::atoi(std::getenv("KITE_BENCH_ROUNDS")) : 2;
  for (int round = 0; round < rounds; ++round) {
    double without = BindRate(nodes, pods, false, nullptr);
    client::EventBroadcaster::Stats stats;
    double with = BindRate(nodes, pods, true, &stats);
    std::printf("pods=%d nodes=%d bound/s without events %.0f, with events %.0f (created %llu, dropped %llu)\n",
                pods, nodes, without, with, static_cast<unsigned long long>(stats.created),
                static_cast<unsigned long long>(stats.dropped));
  }
}

}  // namespace
}  // namespace kite::scheduler
