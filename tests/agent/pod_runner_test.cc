#include <catch2/catch.hpp>

#include "src/agent/pod_runner.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using namespace std::chrono_literals;
using Kind = ContainerStateView::Kind;

struct Harness {
  FakeClock clock;
  std::unique_ptr<runtime::FakeRuntime> rt;
  rapidjson::Document pod;
  PodRunner runner{"uid-1"};

  explicit Harness(std::string_view spec, std::string_view annotations = "{}") {
    auto made = runtime::FakeRuntime::Create({"10.42.1.0/24", &clock});
    REQUIRE(made.ok());
    rt = std::move(made).value();
    auto parsed = json::ParseJson(R"({"metadata":{"name":"p","namespace":"ns","uid":"uid-1","annotations":)" +
                                  std::string(annotations) + R"(},"spec":)" + std::string(spec) + "}");
    REQUIRE(parsed.ok());
    pod = std::move(parsed).value();
  }

  PodRunner::Outcome Sync() {
    auto outcome = runner.Sync(pod, *rt, "172.16.0.1", clock.NowMillis());
    REQUIRE(outcome.ok());
    return std::move(outcome).value();
  }
  std::string Phase(const PodReport& r) { return PodPhase(pod, r); }
};

TEST_CASE("a pod runs: sandbox with an IP, containers started, ready") {
  Harness h(R"({"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"redis"}]})");
  PodRunner::Outcome o = h.Sync();
  CHECK(o.report.sandbox_ready);
  CHECK(o.report.pod_ip == "10.42.1.2");
  CHECK(o.report.host_ip == "172.16.0.1");
  CHECK(o.report.start_time == h.clock.NowMillis());
  REQUIRE(o.report.containers.size() == 2);
  for (const ContainerReport& c : o.report.containers) {
    CHECK(c.state.kind == Kind::kRunning);
    CHECK(c.ready);
    CHECK(c.started);
    CHECK(c.restart_count == 0);
    CHECK(c.container_id.rfind("fake://", 0) == 0);
    CHECK(c.image_id.rfind("sha256:", 0) == 0);
  }
  CHECK(o.report.containers[1].image == "redis");
  CHECK(h.Phase(o.report) == "Running");
  CHECK(o.wake_at == 0);
  // Syncing again changes nothing.
  h.clock.Advance(5s);
  PodRunner::Outcome again = h.Sync();
  CHECK(again.report.containers[0].container_id == o.report.containers[0].container_id);
  CHECK(again.report.start_time == o.report.start_time);
  CHECK(h.rt->SandboxCount() == 1);
}

TEST_CASE("restart back-off: at once, then 10 s doubling to 5 minutes, as CrashLoopBackOff") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox"}]})", R"({"sim.kite.dev/exit-code":"1"})");
  PodRunner::Outcome o = h.Sync();  // starts it; it exits at once
  REQUIRE(o.report.containers[0].state.kind == Kind::kTerminated);
  CHECK(o.report.containers[0].state.exit_code == 1);
  CHECK(o.report.containers[0].state.reason == "Error");
  CHECK(o.report.containers[0].restart_count == 0);
  CHECK(h.Phase(o.report) == "Running");  // restartPolicy Always

  o = h.Sync();  // the first restart does not wait
  CHECK(o.report.containers[0].restart_count == 1);
  CHECK(o.report.containers[0].last_state.has_value());

  std::vector<int64_t> waits;
  for (int restart = 2; restart <= 8; ++restart) {
    int64_t exited = h.clock.NowMillis();
    o = h.Sync();
    const ContainerReport& c = o.report.containers[0];
    REQUIRE(c.state.kind == Kind::kWaiting);
    CHECK(c.state.reason == "CrashLoopBackOff");
    CHECK(c.restart_count == restart - 1);
    REQUIRE(c.last_state.has_value());
    CHECK(c.last_state->exit_code == 1);
    REQUIRE(o.wake_at > exited);
    waits.push_back(o.wake_at - exited);
    if (restart == 2) {
      CHECK(c.state.message == "back-off 10s restarting failed container=app pod=p_ns(uid-1)");
    }
    h.clock.Advance(std::chrono::milliseconds(o.wake_at - exited - 1));
    CHECK(h.Sync().report.containers[0].state.reason == "CrashLoopBackOff");  // not yet
    h.clock.Advance(1ms);
    o = h.Sync();
    CHECK(o.report.containers[0].restart_count == restart);
  }
  CHECK(waits == std::vector<int64_t>{10'000, 20'000, 40'000, 80'000, 160'000, 300'000, 300'000});
  // Only the current instance and the previous one are kept.
  CHECK(h.rt->ListContainers("")->size() == 2);
}

TEST_CASE("back-off starts afresh when a container ran long before failing") {
  RestartBackoff b;
  CHECK_FALSE(b.InBackoff("c", 0, 0));
  b.Next("c", 0);
  b.Next("c", 10'000);
  CHECK(b.Current("c") == 20'000);
  CHECK(b.InBackoff("c", 20'000, 39'999));
  CHECK_FALSE(b.InBackoff("c", 20'000, 40'000));
  CHECK_FALSE(b.InBackoff("c", 10'000 + 600'001, 10'000 + 600'001));  // expired
  b.Next("c", 10'000 + 600'001);
  CHECK(b.Current("c") == 10'000);
}

TEST_CASE("restart policies decide what happens after an exit") {
  SECTION("Never + failure: Failed, no restart") {
    Harness h(R"({"restartPolicy":"Never","containers":[{"name":"a","image":"x"}]})", R"({"sim.kite.dev/exit-code":"2"})");
    h.Sync();
    PodRunner::Outcome o = h.Sync();
    CHECK(o.report.containers[0].restart_count == 0);
    CHECK(o.report.containers[0].state.exit_code == 2);
    CHECK(h.Phase(o.report) == "Failed");
  }
  SECTION("OnFailure + exit 0: Succeeded") {
    Harness h(R"({"restartPolicy":"OnFailure","containers":[{"name":"a","image":"x"}]})", R"({"sim.kite.dev/exit-code":"0"})");
    h.Sync();
    PodRunner::Outcome o = h.Sync();
    CHECK(o.report.containers[0].restart_count == 0);
    CHECK(o.report.containers[0].state.reason == "Completed");
    CHECK(h.Phase(o.report) == "Succeeded");
  }
  SECTION("OnFailure + failure: restarted") {
    Harness h(R"({"restartPolicy":"OnFailure","containers":[{"name":"a","image":"x"}]})", R"({"sim.kite.dev/exit-code":"9"})");
    h.Sync();
    CHECK(h.Sync().report.containers[0].restart_count == 1);
  }
  SECTION("run-seconds with Never: Running, then Succeeded") {
    Harness h(R"({"restartPolicy":"Never","containers":[{"name":"a","image":"x"}]})", R"({"sim.kite.dev/run-seconds":"3"})");
    CHECK(h.Phase(h.Sync().report) == "Running");
    h.clock.Advance(3s);
    PodRunner::Outcome o = h.Sync();
    CHECK(o.report.containers[0].state.kind == Kind::kTerminated);
    CHECK(h.Phase(o.report) == "Succeeded");
  }
  SECTION("run-seconds with Always: restarted") {
    Harness h(R"({"containers":[{"name":"a","image":"x"}]})", R"({"sim.kite.dev/run-seconds":"1"})");
    h.Sync();
    h.clock.Advance(1s);
    PodRunner::Outcome o = h.Sync();
    CHECK(o.report.containers[0].state.kind == Kind::kRunning);
    CHECK(o.report.containers[0].restart_count == 1);
    CHECK(o.report.containers[0].last_state->reason == "Completed");
  }
}

TEST_CASE("init containers run first, one at a time, in order") {
  Harness h(R"({"initContainers":[{"name":"i1","image":"x"},{"name":"i2","image":"x"}],)"
            R"("containers":[{"name":"a","image":"x"}]})");
  PodRunner::Outcome o = h.Sync();
  CHECK(o.report.init_containers[0].state.kind == Kind::kTerminated);
  CHECK(o.report.init_containers[0].ready);
  CHECK(o.report.init_containers[1].state.reason == "PodInitializing");
  CHECK(o.report.containers[0].state.reason == "PodInitializing");
  CHECK(h.Phase(o.report) == "Pending");
  o = h.Sync();
  CHECK(o.report.init_containers[1].state.kind == Kind::kTerminated);
  CHECK(o.report.containers[0].state.reason == "ContainerCreating");  // next sync starts it
  o = h.Sync();
  CHECK(o.report.containers[0].state.kind == Kind::kRunning);
  CHECK(h.Phase(o.report) == "Running");
  // Init containers that succeeded are not run again.
  CHECK(h.Sync().report.init_containers[0].restart_count == 0);
}

TEST_CASE("a failing init container: Failed with Never, restarted otherwise") {
  SECTION("Never") {
    Harness h(R"({"restartPolicy":"Never","initContainers":[{"name":"i","image":"x"}],"containers":[{"name":"a","image":"x"}]})",
              R"({"sim.kite.dev/exit-code":"1"})");
    h.Sync();
    PodRunner::Outcome o = h.Sync();
    CHECK(o.report.containers[0].state.reason == "PodInitializing");
    CHECK(h.Phase(o.report) == "Failed");
  }
  SECTION("Always") {
    Harness h(R"({"initContainers":[{"name":"i","image":"x"}],"containers":[{"name":"a","image":"x"}]})",
              R"({"sim.kite.dev/exit-code":"1"})");
    h.Sync();
    h.Sync();
    PodRunner::Outcome o = h.Sync();
    CHECK(o.report.init_containers[0].state.reason == "CrashLoopBackOff");
    CHECK(o.report.init_containers[0].restart_count == 1);
    CHECK(h.Phase(o.report) == "Pending");
  }
}

TEST_CASE("readiness: after the probe's initial delay, never with the ready hook") {
  Harness h(R"({"containers":[{"name":"a","image":"x","readinessProbe":{"initialDelaySeconds":5}}]})");
  int64_t start = h.clock.NowMillis();
  PodRunner::Outcome o = h.Sync();
  CHECK_FALSE(o.report.containers[0].ready);
  CHECK(o.report.containers[0].started);
  CHECK(o.wake_at == start + 5000);
  h.clock.Advance(5s);
  o = h.Sync();
  CHECK(o.report.containers[0].ready);
  CHECK(o.wake_at == 0);

  Harness never(R"({"containers":[{"name":"a","image":"x"}]})", R"({"sim.kite.dev/ready":"false"})");
  never.Sync();
  never.clock.Advance(std::chrono::hours(1));
  o = never.Sync();
  CHECK(o.report.containers[0].state.kind == Kind::kRunning);
  CHECK_FALSE(o.report.containers[0].ready);
}

TEST_CASE("kill stops everything and reports a terminal pod; remove frees the sandbox") {
  Harness h(R"({"containers":[{"name":"a","image":"x"}]})");
  h.Sync();
  auto killed = h.runner.Kill(h.pod, *h.rt, "172.16.0.1", 30, h.clock.NowMillis());
  REQUIRE(killed.ok());
  CHECK(killed->report.terminal);
  CHECK_FALSE(killed->report.sandbox_ready);
  CHECK(killed->report.containers[0].state.kind == Kind::kTerminated);
  CHECK(h.Phase(killed->report) == "Succeeded");
  REQUIRE(h.runner.Remove(*h.rt).ok());
  CHECK(h.rt->SandboxCount() == 0);
  CHECK(h.runner.Remove(*h.rt).ok());
}

TEST_CASE("a fresh runner finds the pod's sandbox by its uid label") {
  Harness h(R"({"containers":[{"name":"a","image":"x"}]})");
  PodRunner::Outcome first = h.Sync();
  PodRunner again("uid-1");
  auto o = again.Sync(h.pod, *h.rt, "172.16.0.1", h.clock.NowMillis());
  REQUIRE(o.ok());
  CHECK(h.rt->SandboxCount() == 1);
  CHECK(o->report.containers[0].container_id == first.report.containers[0].container_id);
}

TEST_CASE("a container the runtime refuses shows CreateContainerError") {
  Harness h(R"({"containers":[{"name":"a"}]})");  // no image
  PodRunner::Outcome o = h.Sync();
  CHECK(o.report.containers[0].state.reason == "CreateContainerError");
  CHECK(o.report.containers[0].state.message.find("no image") != std::string::npos);
  CHECK(h.Phase(o.report) == "Pending");
}

}  // namespace
}  // namespace kite::agent
