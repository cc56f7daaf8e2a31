// EventRecorder and EventBroadcaster against a real API server: the Event's fields, folding
// of repeats into count/lastTimestamp (and a new Event after the window or when the old one
// is gone), the bounded queue that drops instead of blocking, and the no-op recorder.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include "src/server/client/event_broadcaster.h"
#include "src/server/client/event_recorder.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::client {
namespace {

using json::Member;
using json::StringMember;
using rapidjson::Value;
using testing::ApiFixture;
using testing::Eventually;
using namespace std::chrono_literals;

std::vector<const Value*> Items(const rapidjson::Document& list) {
  std::vector<const Value*> out;
  for (const Value& item : (*Member(list, "items")).GetArray()) out.push_back(&item);
  return out;
}

rapidjson::Document ListEvents(ApiFixture& api, std::string_view ns) {
  auto list = api.Client(kEvents).List(ns);
  REQUIRE(list.ok());
  return std::move(list).value();
}

TEST_CASE("an event carries what kubectl shows") {
  ApiFixture api;
  FakeClock clock;
  EventBroadcaster broadcaster(api.transport(), {.clock = &clock});
  broadcaster.Start();
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"web"},"spec":{"containers":[{"name":"app","image":"x"}]}})");
  EventRecorder scheduler = broadcaster.NewRecorder({"default-scheduler", ""});
  EventRecorder kubelet = broadcaster.NewRecorder({"kubelet", "node-1"});
  scheduler.Eventf(pod, EventType::kWarning, "FailedScheduling", "0/%d nodes are available: %s.", 3,
                   "3 Insufficient cpu");
  kubelet.Event(ReferenceTo(pod, ContainerFieldPath("app")), EventType::kNormal, "Pulling",
                "Pulling image \"x\"");
  REQUIRE(broadcaster.Flush(5s));

  rapidjson::Document list = ListEvents(api, "default");
  std::vector<const Value*> events = Items(list);
  REQUIRE(events.size() == 2);
  const Value* failed = nullptr;
  const Value* pulling = nullptr;
  for (const Value* e : events) (StringMember(*e, "reason") == "Pulling" ? pulling : failed) = e;
  REQUIRE(failed);
  REQUIRE(pulling);

  const Value& md = *Member(*failed, "metadata");
  CHECK(StringMember(md, "name").starts_with("web."));
  CHECK(StringMember(md, "name").size() > 10);
  CHECK(StringMember(md, "namespace") == "default");
  const Value& involved = *Member(*failed, "involvedObject");
  const Value& pod_md = *Member(pod, "metadata");
  CHECK(StringMember(involved, "kind") == "Pod");
  CHECK(StringMember(involved, "apiVersion") == "v1");
  CHECK(StringMember(involved, "namespace") == "default");
  CHECK(StringMember(involved, "name") == "web");
  CHECK(StringMember(involved, "uid") == StringMember(pod_md, "uid"));
  CHECK(StringMember(involved, "resourceVersion") == StringMember(pod_md, "resourceVersion"));
  CHECK(Member(involved, "fieldPath") == nullptr);
  CHECK(StringMember(*failed, "type") == "Warning");
  CHECK(StringMember(*failed, "message") == "0/3 nodes are available: 3 Insufficient cpu.");
  CHECK(StringMember(*Member(*failed, "source"), "component") == "default-scheduler");
  CHECK(Member(*Member(*failed, "source"), "host") == nullptr);
  CHECK(StringMember(*failed, "reportingComponent") == "default-scheduler");
  CHECK(StringMember(*failed, "firstTimestamp") == FormatRfc3339Seconds(clock.NowMillis()));
  CHECK(StringMember(*failed, "lastTimestamp") == FormatRfc3339Seconds(clock.NowMillis()));
  CHECK(Member(*failed, "count")->GetInt() == 1);

  CHECK(StringMember(*Member(*pulling, "involvedObject"), "fieldPath") == "spec.containers{app}");
  CHECK(StringMember(*Member(*pulling, "source"), "component") == "kubelet");
  CHECK(StringMember(*Member(*pulling, "source"), "host") == "node-1");
  CHECK(StringMember(*pulling, "reportingInstance") == "node-1");
  CHECK(StringMember(*pulling, "type") == "Normal");

  // A field selector on involvedObject (what kubectl describe asks) finds them.
  auto selected = api.Client(kEvents).List("default", {.field_selector = "involvedObject.name=web,involvedObject.kind=Pod"});
  REQUIRE(selected.ok());
  CHECK(Member(*selected, "items")->Size() == 2);

  auto s = broadcaster.stats();
  CHECK(s.queued == 2);
  CHECK(s.created == 2);
  CHECK(s.dropped == 0);
  CHECK(s.failed == 0);
}

TEST_CASE("events of cluster-scoped objects go to the default namespace") {
  ApiFixture api;
  EventBroadcaster broadcaster(api.transport());
  broadcaster.Start();
  rapidjson::Document node = api.Create(kNodes, "", R"({"metadata":{"name":"n1"}})");
  broadcaster.NewRecorder({"node-controller", ""}).Event(node, EventType::kNormal, "NodeNotReady",
                                                         "Node n1 status is now: NodeNotReady");
  REQUIRE(broadcaster.Flush(5s));
  rapidjson::Document list = ListEvents(api, "default");
  REQUIRE(Items(list).size() == 1);
  const Value& involved = *Member(*Items(list)[0], "involvedObject");
  CHECK(StringMember(involved, "kind") == "Node");
  CHECK(Member(involved, "namespace") == nullptr);
}

TEST_CASE("repeats within the window fold into one event") {
  ApiFixture api;
  FakeClock clock;
  EventBroadcaster broadcaster(api.transport(), {.clock = &clock});
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}})");
  EventRecorder kubelet = broadcaster.NewRecorder({"kubelet", "n1"});
  ObjectReference container = ReferenceTo(pod, ContainerFieldPath("c"));
  int64_t first = clock.NowMillis();
  kubelet.Event(container, EventType::kWarning, "BackOff", "Back-off restarting failed container");
  clock.Advance(20s);
  kubelet.Event(container, EventType::kWarning, "BackOff", "Back-off restarting failed container");
  clock.Advance(40s);
  kubelet.Event(container, EventType::kWarning, "BackOff", "Back-off restarting failed container");
  // Another message, or another container, is another event.
  kubelet.Event(container, EventType::kWarning, "BackOff", "something else");
  kubelet.Event(ReferenceTo(pod, ContainerFieldPath("d")), EventType::kWarning, "BackOff",
                "Back-off restarting failed container");
  // Started now: the queued repeats are written together, as one Event with count 3.
  broadcaster.Start();
  REQUIRE(broadcaster.Flush(5s));
  CHECK(broadcaster.stats().created == 3);
  CHECK(broadcaster.stats().patched == 0);
  // A later repeat updates that Event.
  clock.Advance(30s);
  kubelet.Event(container, EventType::kWarning, "BackOff", "Back-off restarting failed container");
  REQUIRE(broadcaster.Flush(5s));

  rapidjson::Document list = ListEvents(api, "default");
  REQUIRE(Items(list).size() == 3);
  const Value* folded = nullptr;
  for (const Value* e : Items(list)) {
    if (StringMember(*e, "message") == "Back-off restarting failed container" &&
        StringMember(*Member(*e, "involvedObject"), "fieldPath") == "spec.containers{c}") {
      folded = e;
    }
  }
  REQUIRE(folded);
  CHECK(Member(*folded, "count")->GetInt() == 4);
  CHECK(StringMember(*folded, "firstTimestamp") == FormatRfc3339Seconds(first));
  CHECK(StringMember(*folded, "lastTimestamp") == FormatRfc3339Seconds(clock.NowMillis()));
  CHECK(broadcaster.stats().patched == 1);
  CHECK(broadcaster.stats().created == 3);

  // Past the 10-minute window the same occurrence starts a new event.
  clock.Advance(11min);
  kubelet.Event(container, EventType::kWarning, "BackOff", "Back-off restarting failed container");
  REQUIRE(broadcaster.Flush(5s));
  CHECK(Items(ListEvents(api, "default")).size() == 4);

  // When the event it would update is gone, a new one is created.
  std::string name(StringMember(*Member(*folded, "metadata"), "name"));
  rapidjson::Document before = ListEvents(api, "default");
  for (const Value* e : Items(before)) {
    REQUIRE(api.Client(kEvents).Delete("default", StringMember(*Member(*e, "metadata"), "name")).ok());
  }
  kubelet.Event(container, EventType::kWarning, "BackOff", "Back-off restarting failed container");
  REQUIRE(broadcaster.Flush(5s));
  rapidjson::Document after = ListEvents(api, "default");
  REQUIRE(Items(after).size() == 1);
  CHECK(Member(*Items(after)[0], "count")->GetInt() == 1);
  CHECK(broadcaster.stats().failed == 0);
}

// A transport whose requests wait until released: an API server that does not answer.
class StuckTransport final : public ApiTransport {
 public:
  explicit StuckTransport(ApiTransport* next) : next_(next) {}
  ClientResponse Do(const ClientRequest& request) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return next_->Do(request);
  }
  Result<std::unique_ptr<WatchReader>> Watch(const ClientRequest& request) override { return next_->Watch(request); }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return entered_ >= n; });
  }

 private:
  ApiTransport* next_;
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool released_ = false;
};

TEST_CASE("recording never waits for the API: a full queue drops and counts") {
  ApiFixture api;
  StuckTransport stuck(api.transport());
  EventBroadcaster broadcaster(&stuck, {.queue_capacity = 3});
  broadcaster.Start();
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}})");
  EventRecorder recorder = broadcaster.NewRecorder({"test", ""});
  recorder.Event(pod, EventType::kNormal, "R", "m0");
  REQUIRE(stuck.WaitEntered(1));  // the writer holds m0 and waits on the API
  auto started = std::chrono::steady_clock::now();
  for (int i = 1; i <= 5; ++i) recorder.Event(pod, EventType::kNormal, "R", "m" + std::to_string(i));
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  auto s = broadcaster.stats();
  CHECK(s.queued == 4);   // m0 (being written) and m1..m3
  CHECK(s.dropped == 2);  // m4, m5: the queue was full
  CHECK(s.created == 0);

  stuck.Release();
  REQUIRE(broadcaster.Flush(5s));
  rapidjson::Document list = ListEvents(api, "default");
  std::set<std::string> messages;
  for (const Value* e : Items(list)) messages.insert(std::string(StringMember(*e, "message")));
  CHECK(messages == std::set<std::string>{"m0", "m1", "m2", "m3"});
  CHECK(broadcaster.stats().created == 4);
}

TEST_CASE("writes are rate-limited; Stop does not wait for tokens") {
  ApiFixture api;
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}})");
  {
    EventBroadcaster broadcaster(api.transport(), {.writes_per_second = 20, .burst = 2});
    EventRecorder recorder = broadcaster.NewRecorder({"test", ""});
    for (int i = 0; i < 6; ++i) recorder.Event(pod, EventType::kNormal, "R", "m" + std::to_string(i));
    auto started = std::chrono::steady_clock::now();
    broadcaster.Start();
    REQUIRE(broadcaster.Flush(5s));
    // Two at once, then one every 50 ms.
    CHECK(std::chrono::steady_clock::now() - started >= 150ms);
    CHECK(broadcaster.stats().created == 6);
  }
  EventBroadcaster slow(api.transport(), {.writes_per_second = 0.1, .burst = 1});
  EventRecorder recorder = slow.NewRecorder({"test", ""});
  for (int i = 0; i < 5; ++i) recorder.Event(pod, EventType::kNormal, "S", "s" + std::to_string(i));
  slow.Start();
  REQUIRE(Eventually([&] { return slow.stats().created == 1; }));
  auto stopping = std::chrono::steady_clock::now();
  slow.Stop();
  CHECK(std::chrono::steady_clock::now() - stopping < 1s);
  CHECK(slow.stats().dropped == 4);
  CHECK(slow.Flush(1s));
}

TEST_CASE("records left at Stop are dropped; nothing is written after it") {
  ApiFixture api;
  EventBroadcaster broadcaster(api.transport());  // never started
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}})");
  EventRecorder recorder = broadcaster.NewRecorder({"test", ""});
  recorder.Event(pod, EventType::kNormal, "R", "queued");
  CHECK(broadcaster.stats().queued == 1);
  broadcaster.Stop();
  CHECK(broadcaster.stats().dropped == 1);
  CHECK(broadcaster.Flush(1s));
  recorder.Event(pod, EventType::kNormal, "R", "after stop");
  CHECK(broadcaster.stats().dropped == 2);
  CHECK(Items(ListEvents(api, "default")).empty());
}

TEST_CASE("a default recorder records nothing; long messages are cut") {
  EventRecorder none;
  CHECK_FALSE(none.enabled());
  auto parsed = json::ParseJson(R"({"kind":"Pod","metadata":{"name":"p"}})");
  const rapidjson::Document& object = *parsed;
  none.Event(object, EventType::kNormal, "R", "m");  // no broadcaster: nothing happens
  none.Eventf(object, EventType::kNormal, "R", "%s", "m");

  ApiFixture api;
  EventBroadcaster broadcaster(api.transport());
  broadcaster.Start();
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}})");
  std::string long_message(3000, 'x');
  long_message[1023] = '\xc3';  // a two-byte UTF-8 sequence across the cut
  long_message[1024] = '\xa9';
  broadcaster.NewRecorder({"test", ""}).Event(pod, EventType::kNormal, "R", long_message);
  REQUIRE(broadcaster.Flush(5s));
  rapidjson::Document list = ListEvents(api, "default");
  REQUIRE(Items(list).size() == 1);
  CHECK(StringMember(*Items(list)[0], "message") == std::string(1023, 'x'));
}

TEST_CASE("the API server expires events event_ttl after their last write") {
  FakeClock clock;
  store::StoreOptions store_options;
  store_options.clock = &clock;
  store::MemoryStore store(store_options);
  testing::TempDir dir;
  apiserver::ApiServerOptions options;
  options.server_dir = dir.file("server");
  options.port = 0;
  options.clock = &clock;
  options.event_ttl = std::chrono::minutes(60);
  auto server = apiserver::ApiServer::Start(options, &store);
  REQUIRE(server.ok());
  InProcessTransport transport((*server)->handler(), "admin", {"system:masters"});
  ResourceClient events(&transport, kEvents);
  ResourceClient config_maps(&transport, kConfigMaps);
  auto event_json = [](std::string_view name) {
    return json::ParseJson(R"({"metadata":{"name":")" + std::string(name) +
                            R"("},"involvedObject":{"kind":"Pod","namespace":"default","name":"p"},"reason":"R","message":"m","type":"Normal"})");
  };
  REQUIRE(events.Create("default", *event_json("old")).ok());
  REQUIRE(events.Create("default", *event_json("touched")).ok());
  REQUIRE(config_maps.Create("default", *json::ParseJson(R"({"metadata":{"name":"kept"}})")).ok());

  clock.Advance(std::chrono::minutes(40));
  REQUIRE(events.Patch("default", "touched", PatchType::kMerge, R"({"count":2})").ok());  // lease renewed
  clock.Advance(std::chrono::minutes(21));
  REQUIRE(store.ExpireKeys().ok());
  CHECK(events.Get("default", "old").status().code() == StatusCode::kNotFound);
  CHECK(events.Get("default", "touched").ok());
  CHECK(config_maps.Get("default", "kept").ok());

  clock.Advance(std::chrono::minutes(40));
  REQUIRE(store.ExpireKeys().ok());
  CHECK(events.Get("default", "touched").status().code() == StatusCode::kNotFound);
  CHECK(config_maps.Get("default", "kept").ok());
  (*server)->Stop();
}

}  // namespace
}  // namespace kite::client

namespace kite::client {
namespace {

TEST_CASE("event write throughput", "[.bench]") {
  ApiFixture api;
  EventBroadcaster broadcaster(api.transport(), {.queue_capacity = 100000, .writes_per_second = 0});
  rapidjson::Document pod = api.Create(kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}})");
  EventRecorder recorder = broadcaster.NewRecorder({"default-scheduler", ""});
  int n = 5000;
  auto recording = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) recorder.Event(pod, EventType::kNormal, "Scheduled", "Successfully assigned default/p" + std::to_string(i) + " to n1");
  double record_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - recording).count() / n;
  std::printf("Event() on the caller's thread: %.2f us each\n", record_us);
  auto start = std::chrono::steady_clock::now();
  broadcaster.Start();
  REQUIRE(broadcaster.Flush(std::chrono::seconds(120)));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d events in %.2f s: %.0f/s (%.0f us each)\n", n, seconds, n / seconds, seconds * 1e6 / n);
  CHECK(broadcaster.stats().created == static_cast<uint64_t>(n));
}

}  // namespace
}  // namespace kite::client
