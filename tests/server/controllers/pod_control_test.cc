// Pod predicates, the deletion order, slow-start batches and expectations, without a server.
#include "src/server/controllers/pod_control.h"

#include <catch2/catch.hpp>

#include <atomic>

#include "src/base/clock.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/pod_control_expectations.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

client::ObjectPtr Pod(std::string_view name, std::string_view node, std::string_view phase, bool ready,
                      std::string_view ready_since = "2023-11-14T20:00:00Z", int restarts = 0,
                      std::string_view created = "2023-11-14T20:00:00Z", std::string_view extra_meta = "") {
  std::string text = R"({"metadata":{"name":")" + std::string(name) + R"(","uid":")" + std::string(name) +
                     R"(","creationTimestamp":")" + std::string(created) + "\"" + std::string(extra_meta) +
                     R"(},"spec":{"nodeName":")" + std::string(node) + R"("},"status":{"phase":")" +
                     std::string(phase) + R"(","conditions":[{"type":"Ready","status":")" +
                     (ready ? "True" : "False") + R"(","lastTransitionTime":")" + std::string(ready_since) +
                     R"("}],"containerStatuses":[{"name":"c","restartCount":)" + std::to_string(restarts) + "}]}}";
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::make_shared<const rapidjson::Document>(std::move(doc).value());
}

std::vector<std::string> Names(const std::vector<client::ObjectPtr>& pods) {
  std::vector<std::string> out;
  for (const auto& p : pods) out.emplace_back(NameOf(*p));
  return out;
}

TEST_CASE("ready, active and available follow the pod's status") {
  auto ready = Pod("a", "n1", "Running", true, "2023-11-14T22:13:10Z");
  auto not_ready = Pod("b", "n1", "Running", false);
  CHECK(IsPodReady(*ready));
  CHECK_FALSE(IsPodReady(*not_ready));
  CHECK(IsPodActive(*ready));
  CHECK_FALSE(IsPodActive(*Pod("c", "n1", "Succeeded", false)));
  CHECK_FALSE(IsPodActive(*Pod("d", "n1", "Failed", false)));
  CHECK_FALSE(IsPodActive(*Pod("e", "n1", "Running", true, "2023-11-14T20:00:00Z", 0, "2023-11-14T20:00:00Z",
                               R"(,"deletionTimestamp":"2023-11-14T22:00:00Z")")));
  // Ready for 10 s.
  CHECK(IsPodAvailable(*ready, 0, kNow));
  CHECK(IsPodAvailable(*ready, 5, kNow));
  CHECK_FALSE(IsPodAvailable(*ready, 30, kNow));
  CHECK(MillisUntilAvailable(*ready, 30, kNow) == 20'001);
  CHECK_FALSE(MillisUntilAvailable(*ready, 5, kNow));
  CHECK_FALSE(MillisUntilAvailable(*not_ready, 5, kNow));
  CHECK(ParseTimeMillis("2023-11-14T22:13:20Z") == kNow);
  CHECK(ParseTimeMillis("2023-11-14T22:13:20.5+00:00") == kNow + 500);
  CHECK_FALSE(ParseTimeMillis("yesterday"));
}

TEST_CASE("surplus pods go in Kubernetes' order") {
  std::vector<client::ObjectPtr> pods{
      Pod("ready-old", "n1", "Running", true, "2023-11-14T20:00:00Z"),
      Pod("not-ready", "n1", "Running", false),
      Pod("pending", "n1", "Pending", false),
      Pod("unscheduled", "", "Pending", false),
  };
  CHECK(Names(PodsToDelete(pods, pods, 1, kNow)) == std::vector<std::string>{"unscheduled"});
  CHECK(Names(PodsToDelete(pods, pods, 3, kNow)) ==
        std::vector<std::string>{"unscheduled", "pending", "not-ready"});
  CHECK(PodsToDelete(pods, pods, 9, kNow).size() == 4);

  // Among ready pods: ready for less time first; then more restarts; then newer.
  std::vector<client::ObjectPtr> ready{
      Pod("long-ready", "n1", "Running", true, "2023-11-14T20:00:00Z"),
      Pod("restarted", "n2", "Running", true, "2023-11-14T20:00:00Z", 5),
      Pod("just-ready", "n3", "Running", true, "2023-11-14T22:13:15Z"),
  };
  CHECK(Names(PodsToDelete(ready, ready, 2, kNow)) == std::vector<std::string>{"just-ready", "restarted"});
  std::vector<client::ObjectPtr> by_age{
      Pod("older", "n1", "Running", true, "2023-11-14T20:00:00Z", 0, "2023-11-13T00:00:00Z"),
      Pod("newer", "n2", "Running", true, "2023-11-14T20:00:00Z", 0, "2023-11-14T22:13:00Z"),
  };
  CHECK(Names(PodsToDelete(by_age, by_age, 1, kNow)) == std::vector<std::string>{"newer"});

  // A lower deletion cost goes first; so does a pod sharing its node with more relatives.
  std::vector<client::ObjectPtr> costs{
      Pod("cheap", "n1", "Running", true, "2023-11-14T20:00:00Z", 0, "2023-11-14T20:00:00Z",
          R"(,"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-5"})"),
      Pod("dear", "n2", "Running", true, "2023-11-14T20:00:00Z", 0, "2023-11-14T20:00:00Z",
          R"(,"annotations":{"controller.kubernetes.io/pod-deletion-cost":"100"})"),
  };
  CHECK(Names(PodsToDelete(costs, costs, 1, kNow)) == std::vector<std::string>{"cheap"});
  std::vector<client::ObjectPtr> spread{Pod("alone", "n1", "Running", true), Pod("crowded", "n2", "Running", true)};
  std::vector<client::ObjectPtr> related = spread;
  related.push_back(Pod("sibling", "n2", "Running", true));
  CHECK(Names(PodsToDelete(spread, related, 1, kNow)) == std::vector<std::string>{"crowded"});
}

TEST_CASE("a pod from a template has the template's metadata, spec and one controller reference") {
  auto tmpl = json::ParseJson(R"({"metadata":{"labels":{"app":"web"},"annotations":{"a":"b"},"name":"ignored"},
                                   "spec":{"containers":[{"name":"c","image":"nginx"}]}})");
  auto owner = json::ParseJson(R"({"metadata":{"name":"web-5d59d","uid":"u-1"}})");
  REQUIRE(tmpl.ok());
  REQUIRE(owner.ok());
  rapidjson::Document ref_doc;
  rapidjson::Value ref = NewControllerRef(*owner, "apps/v1", "ReplicaSet", ref_doc.GetAllocator());
  rapidjson::Document pod = PodFromTemplate(*tmpl, "web-5d59d", ref);
  const rapidjson::Value& md = pod["metadata"];
  CHECK(json::StringMember(md, "generateName") == "web-5d59d-");
  CHECK_FALSE(md.HasMember("name"));
  CHECK(json::StringMember(md["labels"], "app") == "web");
  CHECK(json::StringMember(md["annotations"], "a") == "b");
  CHECK(json::StringMember(pod["spec"]["containers"][0], "image") == "nginx");
  std::optional<OwnerReference> controller = ControllerOf(pod);
  REQUIRE(controller);
  CHECK(controller->uid == "u-1");
  CHECK(controller->kind == "ReplicaSet");
  CHECK(md["ownerReferences"][0]["blockOwnerDeletion"].GetBool());
  // Long names are cut so the server's five random characters still fit in 63.
  rapidjson::Document long_pod = PodFromTemplate(*tmpl, std::string(80, 'x'), ref);
  CHECK(json::StringMember(long_pod["metadata"], "generateName").size() == 58);
}

TEST_CASE("slow start: batches of 1, 2, 4, ... and none after a failing batch") {
  std::atomic<int> calls{0};
  BatchResult all_ok = SlowStartBatch(10, 1, [&] {
    ++calls;
    return Status();
  });
  CHECK(all_ok.successes == 10);
  CHECK(all_ok.error.ok());
  CHECK(calls == 10);

  calls = 0;
  // The 4th call fails: batches 1 and 2 succeed, the batch of 4 runs to its end, then stop.
  BatchResult failed = SlowStartBatch(10, 1, [&] {
    int n = ++calls;
    return n == 4 ? Status(StatusCode::kUnavailable, "quota") : Status();
  });
  CHECK(calls == 7);
  CHECK(failed.successes == 6);
  CHECK(failed.error.message() == "quota");
  CHECK(SlowStartBatch(0, 1, [] { return Status(); }).successes == 0);
}

TEST_CASE("expectations: satisfied once every create and delete was seen, or after the TTL") {
  FakeClock clock;
  PodExpectations e(&clock, std::chrono::minutes(5));
  CHECK(e.Satisfied("ns/rs"));
  e.ExpectCreations("ns/rs", 2);
  CHECK_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  CHECK_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  CHECK(e.Satisfied("ns/rs"));

  e.ExpectDeletions("ns/rs", {"ns/a", "ns/b"});
  e.DeletionObserved("ns/rs", "ns/a");
  e.DeletionObserved("ns/rs", "ns/a");  // the same pod twice counts once
  CHECK_FALSE(e.Satisfied("ns/rs"));
  clock.Advance(std::chrono::minutes(6));
  CHECK(e.Satisfied("ns/rs"));
  e.ExpectCreations("ns/rs", 1);
  e.Delete("ns/rs");
  CHECK(e.Satisfied("ns/rs"));
}

}  // namespace
}  // namespace kite::controllers
