// ProbeManager on a fake clock: RunDue runs what is due, a scripted probe function answers.
#include <catch2/catch.hpp>

#include <atomic>
#include <deque>

#include "src/agent/prober/prober_manager.h"
#include "src/server/json/json_util.h"

namespace kite::agent::prober {
namespace {

using namespace std::chrono_literals;

// Probe answers by container name and kind of action; records every call.
struct Script {
  std::map<std::string, ProbeResult> next;  // container name → what its probes return
  std::vector<std::string> calls;           // "name:command[0]"
};

struct Harness {
  FakeClock clock;
  Script script;
  std::vector<ProbeEvent> events;
  std::unique_ptr<ProbeManager> manager;
  rapidjson::Document pod;
  int64_t started_at;

  explicit Harness(std::string_view containers, std::string_view metadata_extra = "") {
    ProbeManagerOptions options;
    options.clock = &clock;
    options.start_threads = false;
    options.on_change = [this](const ProbeEvent& e) { events.push_back(e); };
    options.run_probe = [this](const Action& action, const ProbeTarget& target, std::chrono::milliseconds) {
      script.calls.push_back(target.container_name + ":" + (action.command.empty() ? "" : action.command[0]));
      auto it = script.next.find(target.container_name);
      return ProbeOutcome{it == script.next.end() ? ProbeResult::kSuccess : it->second, "said so"};
    };
    manager = std::make_unique<ProbeManager>(std::move(options));
    auto parsed = json::ParseJson(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1")" + std::string(metadata_extra) +
                                  R"(},"spec":{"nodeName":"n1","containers":)" + std::string(containers) + "}}");
    REQUIRE(parsed.ok());
    pod = std::move(parsed).value();
    started_at = clock.NowMillis();
  }

  void Observe(const std::string& name, const std::string& id, bool running = true) {
    PodObservation o;
    o.uid = "u1";
    o.pod = &pod;
    o.pod_ip = "10.0.0.5";
    o.containers.push_back({name, id, started_at, running});
    manager->Update(o);
  }
  void Step(std::chrono::milliseconds d) {
    clock.Advance(d);
    manager->RunDue();
  }
};

constexpr char kReadiness[] =
    R"([{"name":"a","readinessProbe":{"exec":{"command":["r"]},"periodSeconds":2,"successThreshold":2,"failureThreshold":3}}])";

TEST_CASE("readiness: false until successThreshold successes, false after failureThreshold failures") {
  Harness h(kReadiness);
  h.Observe("a", "c1");
  CHECK(h.manager->HasProbe("u1", "a", ProbeKind::kReadiness));
  CHECK_FALSE(h.manager->HasProbe("u1", "a", ProbeKind::kLiveness));
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));  // no probe ran yet
  CHECK(h.manager->Started("u1", "a", "c1"));       // no startup probe

  CHECK(h.manager->RunDue() == 1);  // no initial delay: due at once
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));  // 1 of 2 successes
  CHECK(h.events.empty());
  h.Step(1999ms);
  CHECK(h.script.calls.size() == 1);  // not due before the period
  h.Step(1ms);
  CHECK(h.script.calls.size() == 2);
  CHECK(h.manager->Ready("u1", "a", "c1"));
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].node == "n1");
  CHECK(h.events[0].pod_key == "ns/p");
  CHECK(h.events[0].uid == "u1");

  // Flapping: two failures keep it ready, the third makes it unready; one success is not
  // enough to come back, two are.
  h.script.next["a"] = ProbeResult::kFailure;
  h.Step(2s);
  h.Step(2s);
  CHECK(h.manager->Ready("u1", "a", "c1"));
  h.Step(2s);
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));
  CHECK(h.events.size() == 2);
  h.script.next["a"] = ProbeResult::kSuccess;
  h.Step(2s);
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));
  h.script.next["a"] = ProbeResult::kFailure;
  h.Step(2s);  // the run of successes broke
  h.script.next["a"] = ProbeResult::kSuccess;
  h.Step(2s);
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));
  h.Step(2s);
  CHECK(h.manager->Ready("u1", "a", "c1"));
  CHECK(h.events.size() == 3);
  // Another instance id is not the probed one.
  CHECK_FALSE(h.manager->Ready("u1", "a", "other"));
}

TEST_CASE("initial delay counts from the container's start; nothing probes a stopped container") {
  Harness h(R"([{"name":"a","readinessProbe":{"exec":{"command":["r"]},"initialDelaySeconds":5,"periodSeconds":10}}])");
  h.Observe("a", "c1");
  h.manager->RunDue();
  h.Step(4999ms);
  CHECK(h.script.calls.empty());
  h.Step(1ms);
  CHECK(h.script.calls.size() == 1);
  CHECK(h.manager->Ready("u1", "a", "c1"));

  h.Observe("a", "c1", /*running=*/false);
  h.Step(30s);
  CHECK(h.script.calls.size() == 1);
}

TEST_CASE("a probe that cannot run (Unknown) changes nothing") {
  Harness h(kReadiness);
  h.script.next["a"] = ProbeResult::kUnknown;
  h.Observe("a", "c1");
  for (int i = 0; i < 5; ++i) h.Step(2s);
  CHECK(h.script.calls.size() == 5);
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));
  CHECK(h.events.empty());
}

TEST_CASE("liveness: failureThreshold failures ask for a kill, then hold until a new container") {
  Harness h(R"([{"name":"a","livenessProbe":{"exec":{"command":["l"]},"periodSeconds":1,"failureThreshold":2}}])");
  h.Observe("a", "c1");
  h.manager->RunDue();
  CHECK_FALSE(h.manager->FailedProbe("u1", "a", "c1"));
  h.script.next["a"] = ProbeResult::kFailure;
  h.Step(1s);
  CHECK_FALSE(h.manager->FailedProbe("u1", "a", "c1"));
  h.Step(1s);
  std::optional<ProbeFailure> failed = h.manager->FailedProbe("u1", "a", "c1");
  REQUIRE(failed);
  CHECK(failed->kind == ProbeKind::kLiveness);
  CHECK(failed->message == "Container a failed liveness probe");
  CHECK(failed->output == "said so");
  CHECK(h.events.size() == 1);
  size_t calls = h.script.calls.size();
  h.Step(5s);
  CHECK(h.script.calls.size() == calls);  // on hold

  // The restarted container counts afresh: alive at first, two failures needed again.
  h.started_at = h.clock.NowMillis();
  h.Observe("a", "c2");
  CHECK_FALSE(h.manager->FailedProbe("u1", "a", "c2"));
  h.manager->RunDue();
  CHECK_FALSE(h.manager->FailedProbe("u1", "a", "c2"));
  h.Step(1s);
  CHECK(h.manager->FailedProbe("u1", "a", "c2"));
}

TEST_CASE("startup probe gates liveness and readiness; started once it succeeds") {
  Harness h(R"([{"name":"a",)"
            R"("startupProbe":{"exec":{"command":["s"]},"periodSeconds":1,"failureThreshold":30},)"
            R"("livenessProbe":{"exec":{"command":["l"]},"periodSeconds":10},)"
            R"("readinessProbe":{"exec":{"command":["r"]},"periodSeconds":10}}])");
  h.script.next["a"] = ProbeResult::kFailure;
  h.Observe("a", "c1");
  CHECK_FALSE(h.manager->Started("u1", "a", "c1"));
  for (int i = 0; i < 3; ++i) h.Step(1s);
  // Only the startup probe ran.
  for (const std::string& call : h.script.calls) CHECK(call == "a:s");
  CHECK_FALSE(h.manager->Started("u1", "a", "c1"));
  CHECK_FALSE(h.manager->Ready("u1", "a", "c1"));
  CHECK_FALSE(h.manager->FailedProbe("u1", "a", "c1"));  // 3 of 30 failures

  h.script.next["a"] = ProbeResult::kSuccess;
  h.Step(1s);
  CHECK(h.manager->Started("u1", "a", "c1"));
  CHECK(h.events.size() == 1);
  // Liveness and readiness probe at once now; the startup probe is done.
  h.manager->RunDue();
  CHECK(h.manager->Ready("u1", "a", "c1"));
  size_t calls = h.script.calls.size();
  CHECK(h.script.calls[calls - 1] != "a:s");
  CHECK(h.script.calls[calls - 2] != "a:s");
  h.Step(5s);
  CHECK(h.script.calls.size() == calls);
}

TEST_CASE("a failing startup probe asks for a kill") {
  Harness h(R"([{"name":"a","startupProbe":{"exec":{"command":["s"]},"periodSeconds":1,"failureThreshold":2}}])");
  h.script.next["a"] = ProbeResult::kFailure;
  h.Observe("a", "c1");
  h.manager->RunDue();
  h.Step(1s);
  std::optional<ProbeFailure> failed = h.manager->FailedProbe("u1", "a", "c1");
  REQUIRE(failed);
  CHECK(failed->kind == ProbeKind::kStartup);
  CHECK(failed->message == "Container a failed startup probe");
}

TEST_CASE("a terminating pod: liveness reports success and stops") {
  Harness h(R"([{"name":"a","livenessProbe":{"exec":{"command":["l"]},"periodSeconds":1,"failureThreshold":1}}])",
            R"(,"deletionTimestamp":"2024-01-01T00:00:00Z")");
  h.script.next["a"] = ProbeResult::kFailure;
  h.Observe("a", "c1");
  for (int i = 0; i < 3; ++i) h.Step(1s);
  CHECK(h.script.calls.empty());
  CHECK_FALSE(h.manager->FailedProbe("u1", "a", "c1"));
}

TEST_CASE("exec_only keeps only exec probes; Remove drops the pod's workers") {
  Harness h(R"([{"name":"a","readinessProbe":{"httpGet":{"port":80}},"livenessProbe":{"exec":{"command":["l"]}}}])");
  PodObservation o;
  o.uid = "u1";
  o.pod = &h.pod;
  o.exec_only = true;
  o.containers.push_back({"a", "c1", h.started_at, true});
  h.manager->Update(o);
  CHECK(h.manager->WorkerCount() == 1);
  CHECK_FALSE(h.manager->HasProbe("u1", "a", ProbeKind::kReadiness));
  CHECK(h.manager->Ready("u1", "a", "c1"));  // no readiness worker: ready
  o.exec_only = false;
  h.manager->Update(o);
  CHECK(h.manager->WorkerCount() == 2);
  h.manager->Remove("u1");
  CHECK(h.manager->WorkerCount() == 0);
  CHECK(h.manager->RunDue() == 0);
}

TEST_CASE("threads: the pool probes on its own and reports a change") {
  std::atomic<int> changes{0};
  ProbeManagerOptions options;
  options.pool_threads = 2;
  options.on_change = [&](const ProbeEvent&) { ++changes; };
  options.run_probe = [](const Action&, const ProbeTarget&, std::chrono::milliseconds) {
    return ProbeOutcome{ProbeResult::kSuccess, ""};
  };
  ProbeManager manager(std::move(options));
  auto pod = json::ParseJson(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1"},"spec":{"nodeName":"n1",)"
                             R"("containers":[{"name":"a","readinessProbe":{"exec":{"command":["r"]}}}]}})");
  REQUIRE(pod.ok());
  PodObservation o;
  o.uid = "u1";
  o.pod = &*pod;
  o.containers.push_back({"a", "c1", SystemClock::Get()->NowMillis(), true});
  manager.Update(o);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!manager.Ready("u1", "a", "c1") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(manager.Ready("u1", "a", "c1"));
  CHECK(changes == 1);
  manager.Stop();
  manager.Stop();  // idempotent
}

}  // namespace
}  // namespace kite::agent::prober
