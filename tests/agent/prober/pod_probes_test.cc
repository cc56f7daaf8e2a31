// Probes and hooks through PodRunner on the fake runtime: exec probes answered by the fake
// runtime's exec handler, the ProbeManager on a fake clock (RunDue).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "src/agent/pod_runner.h"
#include "src/agent/prober/lifecycle_hooks.h"
#include "src/runtime/fake_runtime.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using namespace std::chrono_literals;
using Kind = ContainerStateView::Kind;

// The fake runtime, recording StopContainer calls (what grace period each got).
class RecordingRuntime final : public runtime::Runtime {
 public:
  explicit RecordingRuntime(runtime::FakeRuntime* inner) : inner_(inner) {}
  struct Stop {
    std::string id;
    int64_t timeout;
  };
  std::vector<Stop> stops() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stops_;
  }

  runtime::VersionInfo Version() const override { return inner_->Version(); }
  Result<std::string> PullImage(const std::string& image) override { return inner_->PullImage(image); }
  Result<std::string> RunPodSandbox(const runtime::PodSandboxConfig& c) override { return inner_->RunPodSandbox(c); }
  Status StopPodSandbox(const std::string& id) override { return inner_->StopPodSandbox(id); }
  Status RemovePodSandbox(const std::string& id) override { return inner_->RemovePodSandbox(id); }
  Result<runtime::PodSandbox> PodSandboxStatus(const std::string& id) override { return inner_->PodSandboxStatus(id); }
  Result<std::vector<runtime::PodSandbox>> ListPodSandbox() override { return inner_->ListPodSandbox(); }
  Result<std::string> CreateContainer(const std::string& sandbox, const runtime::ContainerConfig& c,
                                      const runtime::PodSandboxConfig& s) override {
    return inner_->CreateContainer(sandbox, c, s);
  }
  Status StartContainer(const std::string& id) override { return inner_->StartContainer(id); }
  Status StopContainer(const std::string& id, int64_t timeout) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stops_.push_back({id, timeout});
    }
    return inner_->StopContainer(id, timeout);
  }
  Status RemoveContainer(const std::string& id) override { return inner_->RemoveContainer(id); }
  Result<runtime::Container> ContainerStatus(const std::string& id) override { return inner_->ContainerStatus(id); }
  Result<std::vector<runtime::Container>> ListContainers(const std::string& sandbox) override {
    return inner_->ListContainers(sandbox);
  }
  Result<runtime::ExecSyncResult> ExecSync(const std::string& id, const std::vector<std::string>& command,
                                           int64_t timeout) override {
    return inner_->ExecSync(id, command, timeout);
  }

 private:
  runtime::FakeRuntime* inner_;
  mutable std::mutex mu_;
  std::vector<Stop> stops_;
};

// Exec answers by command[0]: an exit code per command (default 0), and a log of calls.
struct ExecScript {
  std::mutex mu;
  std::map<std::string, int> exit_codes;
  std::vector<std::string> calls;  // "command[0]@state" ("R" running)
  std::map<std::string, int64_t> timeouts;
  std::chrono::milliseconds prestop_sleep{0};
};

struct Harness {
  FakeClock clock;
  std::unique_ptr<runtime::FakeRuntime> fake;
  std::unique_ptr<RecordingRuntime> rt;
  ExecScript script;
  std::atomic<int> changes{0};
  std::unique_ptr<prober::ProbeManager> probes;
  rapidjson::Document pod;
  std::unique_ptr<PodRunner> runner;

  explicit Harness(std::string_view spec, std::string_view annotations = "{}") {
    fake = std::move(runtime::FakeRuntime::Create({"10.42.1.0/24", &clock})).value();
    rt = std::make_unique<RecordingRuntime>(fake.get());
    fake->SetExecHandler([this](const runtime::Container& c, const std::vector<std::string>& command, int64_t timeout) {
      std::string what = command.empty() ? "" : command[0];
      std::chrono::milliseconds sleep{0};
      runtime::ExecSyncResult r;
      {
        std::lock_guard<std::mutex> lock(script.mu);
        script.calls.push_back(what + "@" + (c.state == runtime::ContainerState::kRunning ? "R" : "?"));
        script.timeouts[what] = timeout;
        auto it = script.exit_codes.find(what);
        r.exit_code = it == script.exit_codes.end() ? 0 : it->second;
        if (what == "prestop") sleep = script.prestop_sleep;
      }
      std::this_thread::sleep_for(sleep);
      return Result<runtime::ExecSyncResult>(r);
    });
    prober::ProbeManagerOptions options;
    options.clock = &clock;
    options.start_threads = false;
    options.on_change = [this](const prober::ProbeEvent&) { ++changes; };
    probes = std::make_unique<prober::ProbeManager>(std::move(options));
    runner = std::make_unique<PodRunner>("uid-1", probes.get());
    auto parsed = json::ParseJson(R"({"metadata":{"name":"p","namespace":"ns","uid":"uid-1","annotations":)" +
                                  std::string(annotations) + R"(},"spec":)" + std::string(spec) + "}");
    REQUIRE(parsed.ok());
    pod = std::move(parsed).value();
  }

  void ExitCode(const std::string& command, int code) {
    std::lock_guard<std::mutex> lock(script.mu);
    script.exit_codes[command] = code;
  }
  std::vector<std::string> Calls() {
    std::lock_guard<std::mutex> lock(script.mu);
    return script.calls;
  }

  PodRunner::Outcome Sync() {
    auto outcome = runner->Sync(pod, *rt, "172.16.0.1", clock.NowMillis());
    REQUIRE(outcome.ok());
    return std::move(outcome).value();
  }
  // Advances the clock, runs the due probes and syncs.
  ContainerReport Tick(std::chrono::milliseconds d = 1s) {
    clock.Advance(d);
    probes->RunDue();
    return Sync().report.containers.at(0);
  }
};

TEST_CASE("a failing exec liveness probe restarts the container; restartCount grows") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox",)"
            R"("livenessProbe":{"exec":{"command":["alive"]},"periodSeconds":1,"failureThreshold":2}}]})");
  ContainerReport c = h.Sync().report.containers.at(0);
  REQUIRE(c.state.kind == Kind::kRunning);
  CHECK(c.ready);
  std::string first_id = c.container_id;

  h.ExitCode("alive", 1);
  c = h.Tick(0ms);  // first failure: below the threshold
  CHECK(c.container_id == first_id);
  CHECK(h.changes == 0);
  h.clock.Advance(1s);
  h.probes->RunDue();  // second failure
  CHECK(h.changes == 1);
  c = h.Sync().report.containers.at(0);
  CHECK(c.state.kind == Kind::kRunning);
  CHECK(c.restart_count == 1);
  CHECK(c.container_id != first_id);
  REQUIRE(c.last_state.has_value());
  CHECK(c.last_state->kind == Kind::kTerminated);
  CHECK(c.last_state->message == "Container app failed liveness probe, will be restarted");
  CHECK(c.last_state->container_id == first_id);
  // The pod's grace period (default 30 s) went to StopContainer.
  REQUIRE(h.rt->stops().size() == 1);
  CHECK(h.rt->stops()[0].timeout == 30);

  // The new container starts alive; once it fails again it is restarted again.
  c = h.Tick();
  CHECK(c.restart_count == 1);
  h.Tick();
  c = h.Tick();
  CHECK(c.restart_count == 2);
  CHECK(h.fake->ListContainers("")->size() == 2);  // current and previous only
}

TEST_CASE("liveness failure with restartPolicy Never: killed, not restarted; probe grace used") {
  Harness h(R"({"restartPolicy":"Never","containers":[{"name":"app","image":"busybox",)"
            R"("livenessProbe":{"exec":{"command":["alive"]},"periodSeconds":1,"failureThreshold":1,)"
            R"("terminationGracePeriodSeconds":7}}]})");
  h.Sync();
  h.ExitCode("alive", 1);
  ContainerReport c = h.Tick(0ms);
  CHECK(c.state.kind == Kind::kTerminated);
  CHECK(c.state.message == "Container app failed liveness probe");
  CHECK(c.restart_count == 0);
  REQUIRE(h.rt->stops().size() == 1);
  CHECK(h.rt->stops()[0].timeout == 7);
  c = h.Tick();
  CHECK(c.state.kind == Kind::kTerminated);
}

TEST_CASE("exec readiness on the fake runtime: ready follows the probe") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox",)"
            R"("readinessProbe":{"exec":{"command":["ready"]},"periodSeconds":1,"initialDelaySeconds":2}}]})");
  h.ExitCode("ready", 1);
  ContainerReport c = h.Sync().report.containers.at(0);
  CHECK(c.state.kind == Kind::kRunning);
  CHECK(c.started);
  CHECK_FALSE(c.ready);
  CHECK_FALSE(h.Tick().ready);  // within the initial delay
  CHECK(h.Calls().empty());
  CHECK_FALSE(h.Tick().ready);  // probed: fails
  CHECK(h.Calls().size() == 1);
  h.ExitCode("ready", 0);
  CHECK(h.Tick().ready);
  CHECK(h.changes == 1);
  h.ExitCode("ready", 1);
  h.Tick();
  h.Tick();
  CHECK(h.Tick().ready == false);  // three failures: not ready
  CHECK(h.changes == 2);
}

TEST_CASE("fake runtime: non-exec probes keep the stand-in; the ready annotation still wins") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox",)"
            R"("readinessProbe":{"httpGet":{"port":80},"initialDelaySeconds":5}}]})");
  PodRunner::Outcome o = h.Sync();
  CHECK_FALSE(o.report.containers[0].ready);
  CHECK(o.wake_at == h.clock.NowMillis() + 5000);
  CHECK(h.probes->WorkerCount() == 0);
  h.clock.Advance(5s);
  CHECK(h.Sync().report.containers[0].ready);

  Harness never(R"({"containers":[{"name":"app","image":"busybox","readinessProbe":{"exec":{"command":["r"]}}}]})",
                R"({"sim.kite.dev/ready":"false"})");
  never.Sync();
  CHECK_FALSE(never.Tick().ready);
  CHECK(never.Calls().size() == 1);  // probed, yet not ready
}

TEST_CASE("the exec-exit-code annotation fails exec probes in a whole pod") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox",)"
            R"("livenessProbe":{"exec":{"command":["alive"]},"periodSeconds":1,"failureThreshold":1}}]})",
            R"({"sim.kite.dev/exec-exit-code":"1"})");
  h.fake->SetExecHandler(nullptr);
  h.Sync();
  ContainerReport c = h.Tick(0ms);
  CHECK(c.restart_count == 1);
}

TEST_CASE("startup probe: not started, not ready until it succeeds") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox",)"
            R"("startupProbe":{"exec":{"command":["up"]},"periodSeconds":1,"failureThreshold":10},)"
            R"("readinessProbe":{"exec":{"command":["ready"]},"periodSeconds":1}}]})");
  h.ExitCode("up", 1);
  ContainerReport c = h.Sync().report.containers.at(0);
  CHECK(c.state.kind == Kind::kRunning);
  CHECK_FALSE(c.started);
  CHECK_FALSE(c.ready);
  c = h.Tick(0ms);
  CHECK_FALSE(c.started);
  h.ExitCode("up", 0);
  c = h.Tick();
  CHECK(c.started);
  CHECK_FALSE(c.ready);  // readiness has not run yet
  CHECK(h.Calls() == std::vector<std::string>{"up@R", "up@R"});  // readiness waited
  c = h.Tick(0ms);
  CHECK(c.ready);
  CHECK(h.Calls().back() == "ready@R");
}

TEST_CASE("postStart: runs after start; a failure kills the container with FailedPostStartHook") {
  Harness ok(R"({"containers":[{"name":"app","image":"busybox","lifecycle":{"postStart":{"exec":{"command":["hello"]}}}}]})");
  ContainerReport c = ok.Sync().report.containers.at(0);
  CHECK(c.state.kind == Kind::kRunning);
  CHECK(c.ready);
  CHECK(ok.Calls() == std::vector<std::string>{"hello@R"});

  Harness h(R"({"containers":[{"name":"app","image":"busybox","lifecycle":{"postStart":{"exec":{"command":["hello"]}}}}]})");
  h.ExitCode("hello", 1);
  c = h.Sync().report.containers.at(0);
  REQUIRE(c.state.kind == Kind::kTerminated);
  CHECK(c.state.reason == "FailedPostStartHook");
  CHECK(c.state.message ==
        R"x(Exec lifecycle hook ([hello]) for Container "app" in Pod "p_ns(uid-1)" failed - error: )x"
        R"x(command 'hello' exited with 1: , message: "")x");
  CHECK_FALSE(c.ready);
  // Restarted (policy Always); the lastState keeps the hook's reason.
  c = h.Sync().report.containers.at(0);
  CHECK(c.restart_count == 1);
  REQUIRE(c.last_state.has_value());
  CHECK(c.last_state->reason == "FailedPostStartHook");
  // Failing again: back-off, shown as CrashLoopBackOff.
  c = h.Sync().report.containers.at(0);
  CHECK(c.state.reason == "CrashLoopBackOff");
}

TEST_CASE("preStop runs before the stop, inside the grace period") {
  Harness h(R"({"terminationGracePeriodSeconds":5,"containers":[)"
            R"({"name":"app","image":"busybox","lifecycle":{"preStop":{"exec":{"command":["prestop"]}}}},)"
            R"({"name":"side","image":"busybox"}]})");
  h.script.prestop_sleep = 1100ms;
  h.Sync();
  auto killed = h.runner->Kill(h.pod, *h.rt, "172.16.0.1", 5, h.clock.NowMillis());
  REQUIRE(killed.ok());
  CHECK(h.Calls() == std::vector<std::string>{"prestop@R"});  // ran while the container ran
  CHECK(h.script.timeouts["prestop"] == 5);
  std::map<std::string, int64_t> by_name;
  for (const auto& stop : h.rt->stops()) {
    auto c = h.fake->ContainerStatus(stop.id);
    REQUIRE(c.ok());
    by_name[c->metadata.name] = stop.timeout;
  }
  CHECK(by_name["app"] == 4);   // 5 s minus the second the hook took
  CHECK(by_name["side"] == 5);  // no hook
  CHECK(h.probes->WorkerCount() == 0);
}

TEST_CASE("a preStop hook longer than the grace period still leaves the minimum 2 s") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox","lifecycle":{"preStop":{"exec":{"command":["prestop"]}}}}]})");
  h.script.prestop_sleep = 1100ms;
  h.Sync();
  REQUIRE(h.runner->Kill(h.pod, *h.rt, "172.16.0.1", 1, h.clock.NowMillis()).ok());
  REQUIRE(h.rt->stops().size() == 1);
  CHECK(h.rt->stops()[0].timeout == 2);
  // Grace 0: no hook at all.
  Harness none(R"({"containers":[{"name":"app","image":"busybox","lifecycle":{"preStop":{"exec":{"command":["prestop"]}}}}]})");
  none.Sync();
  REQUIRE(none.runner->Kill(none.pod, *none.rt, "172.16.0.1", 0, none.clock.NowMillis()).ok());
  CHECK(none.Calls().empty());
}

TEST_CASE("a liveness kill runs the preStop hook too") {
  Harness h(R"({"containers":[{"name":"app","image":"busybox","lifecycle":{"preStop":{"exec":{"command":["prestop"]}}},)"
            R"("livenessProbe":{"exec":{"command":["alive"]},"periodSeconds":1,"failureThreshold":1}}]})");
  h.Sync();
  h.ExitCode("alive", 1);
  ContainerReport c = h.Tick(0ms);
  CHECK(c.restart_count == 1);
  std::vector<std::string> calls = h.Calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0] == "alive@R");
  CHECK(calls[1] == "prestop@R");
}

}  // namespace
}  // namespace kite::agent
