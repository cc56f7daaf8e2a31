#include <catch2/catch.hpp>

#include <set>

#include "src/runtime/fake_runtime.h"

namespace kite::runtime {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<FakeRuntime> Make(FakeClock* clock, std::string cidr = "10.42.7.0/24") {
  auto rt = FakeRuntime::Create({std::move(cidr), clock});
  REQUIRE(rt.ok());
  return std::move(rt).value();
}

PodSandboxConfig Sandbox(std::string name, Labels annotations = {}) {
  PodSandboxConfig c;
  c.metadata = {name, "default", "uid-" + name, 0};
  c.labels = {{kPodUidLabel, "uid-" + name}};
  c.annotations = std::move(annotations);
  return c;
}

ContainerConfig Container(std::string name, bool init = false, uint32_t attempt = 0) {
  ContainerConfig c;
  c.metadata = {std::move(name), attempt};
  c.image = "busybox";
  if (init) c.labels[kInitContainerLabel] = "true";
  return c;
}

TEST_CASE("fake runtime: sandboxes get distinct IPs from the CIDR, freed on removal") {
  FakeClock clock;
  auto rt = Make(&clock, "10.42.7.0/30");  // .0 network, .1 gateway, .2 the only pod IP, .3 broadcast
  auto a = rt->RunPodSandbox(Sandbox("a"));
  REQUIRE(a.ok());
  CHECK(rt->PodSandboxStatus(*a)->ip == "10.42.7.2");
  CHECK(rt->PodSandboxStatus(*a)->state == SandboxState::kReady);
  auto b = rt->RunPodSandbox(Sandbox("b"));
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == StatusCode::kResourceExhausted);
  REQUIRE(rt->RemovePodSandbox(*a).ok());
  CHECK(rt->RemovePodSandbox(*a).ok());  // idempotent
  CHECK(rt->PodSandboxStatus(*a).status().code() == StatusCode::kNotFound);
  auto c = rt->RunPodSandbox(Sandbox("c"));
  REQUIRE(c.ok());
  CHECK(rt->PodSandboxStatus(*c)->ip == "10.42.7.2");

  auto wide = Make(&clock, "10.42.8.0/24");
  std::set<std::string> ips;
  for (int i = 0; i < 50; ++i) ips.insert(wide->PodSandboxStatus(*wide->RunPodSandbox(Sandbox("p" + std::to_string(i))))->ip);
  CHECK(ips.size() == 50);
  CHECK(ips.count("10.42.8.2"));
  CHECK_FALSE(ips.count("10.42.8.1"));
}

TEST_CASE("fake runtime: bad CIDRs are refused") {
  for (const char* cidr : {"10.42.0.0", "10.42.0.0/31", "10.42.0/24", "300.1.1.1/24", "x/24", "10.42.0.0/7"}) {
    INFO(cidr);
    auto rt = FakeRuntime::Create({cidr, nullptr});
    REQUIRE_FALSE(rt.ok());
    CHECK(rt.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("fake runtime: the pod CIDR may come later; host-network sandboxes need none") {
  FakeClock clock;
  auto rt = Make(&clock, "");
  CHECK(rt->PodCidr().empty());
  auto early = rt->RunPodSandbox(Sandbox("early"));
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().code() == StatusCode::kUnavailable);
  PodSandboxConfig host = Sandbox("host");
  host.host_network = true;
  auto h = rt->RunPodSandbox(host);
  REQUIRE(h.ok());
  CHECK(rt->PodSandboxStatus(*h)->ip.empty());

  CHECK(rt->SetPodCidr("10.42.3.0/33").code() == StatusCode::kInvalidArgument);
  CHECK(rt->PodCidr().empty());
  REQUIRE(rt->SetPodCidr("10.42.3.0/24").ok());
  CHECK(rt->PodCidr() == "10.42.3.0/24");
  auto a = rt->RunPodSandbox(Sandbox("a"));
  REQUIRE(a.ok());
  CHECK(rt->PodSandboxStatus(*a)->ip == "10.42.3.2");
  // A new range: existing sandboxes keep their address; removing one frees it for reuse
  // should the range come back.
  REQUIRE(rt->SetPodCidr("10.42.4.0/24").ok());
  auto b = rt->RunPodSandbox(Sandbox("b"));
  REQUIRE(b.ok());
  CHECK(rt->PodSandboxStatus(*b)->ip == "10.42.4.2");
  CHECK(rt->PodSandboxStatus(*a)->ip == "10.42.3.2");
  REQUIRE(rt->SetPodCidr("10.42.3.0/24").ok());
  auto c = rt->RunPodSandbox(Sandbox("c"));
  REQUIRE(c.ok());
  CHECK(rt->PodSandboxStatus(*c)->ip == "10.42.3.3");
  REQUIRE(rt->RemovePodSandbox(*a).ok());
  auto d = rt->RunPodSandbox(Sandbox("d"));
  REQUIRE(d.ok());
  CHECK(rt->PodSandboxStatus(*d)->ip == "10.42.3.2");
}

TEST_CASE("fake runtime: containers run until stopped; ids, images and times") {
  FakeClock clock;
  auto rt = Make(&clock);
  auto sb = rt->RunPodSandbox(Sandbox("web"));
  REQUIRE(sb.ok());
  auto id = rt->CreateContainer(*sb, Container("app"), Sandbox("web"));
  REQUIRE(id.ok());
  CHECK(id->size() == 64);
  CHECK(rt->ContainerStatus(*id)->state == ContainerState::kCreated);
  REQUIRE(rt->StartContainer(*id).ok());
  CHECK_FALSE(rt->StartContainer(*id).ok());  // not created any more
  int64_t started = clock.NowMillis();
  clock.Advance(std::chrono::hours(5));
  auto running = rt->ContainerStatus(*id);
  CHECK(running->state == ContainerState::kRunning);
  CHECK(running->started_at == started);
  CHECK(running->image_ref.rfind("sha256:", 0) == 0);
  CHECK(running->image_ref == *rt->PullImage("busybox"));
  CHECK(*rt->PullImage("busybox") != *rt->PullImage("nginx"));
  REQUIRE(rt->StopContainer(*id, 30).ok());
  auto stopped = rt->ContainerStatus(*id);
  CHECK(stopped->state == ContainerState::kExited);
  CHECK(stopped->exit_code == 0);
  CHECK(stopped->reason == "Completed");
  CHECK(stopped->finished_at == clock.NowMillis());
  CHECK(rt->Version().runtime_name == "fake");
}

TEST_CASE("fake runtime: the exit-code hook ends every container right after it starts") {
  FakeClock clock;
  auto rt = Make(&clock);
  PodSandboxConfig config = Sandbox("crash", {{kExitCodeAnnotation, "3"}});
  auto sb = rt->RunPodSandbox(config);
  auto app = rt->CreateContainer(*sb, Container("app"), config);
  auto init = rt->CreateContainer(*sb, Container("init", true), config);
  REQUIRE(rt->StartContainer(*app).ok());
  REQUIRE(rt->StartContainer(*init).ok());
  for (const std::string& id : {*app, *init}) {
    auto c = rt->ContainerStatus(id);
    CHECK(c->state == ContainerState::kExited);
    CHECK(c->exit_code == 3);
    CHECK(c->reason == "Error");
    CHECK(c->finished_at == c->started_at);
  }
}

TEST_CASE("fake runtime: init containers complete by themselves; malformed hooks are ignored") {
  FakeClock clock;
  auto rt = Make(&clock);
  PodSandboxConfig config = Sandbox("p", {{kExitCodeAnnotation, "lots"}, {kRunSecondsAnnotation, "-1"}});
  auto sb = rt->RunPodSandbox(config);
  auto init = rt->CreateContainer(*sb, Container("init", true), config);
  auto app = rt->CreateContainer(*sb, Container("app"), config);
  REQUIRE(rt->StartContainer(*init).ok());
  REQUIRE(rt->StartContainer(*app).ok());
  CHECK(rt->ContainerStatus(*init)->state == ContainerState::kExited);
  CHECK(rt->ContainerStatus(*init)->exit_code == 0);
  clock.Advance(std::chrono::hours(1));
  CHECK(rt->ContainerStatus(*app)->state == ContainerState::kRunning);
}

TEST_CASE("fake runtime: run-seconds ends regular containers with 0 when the clock gets there") {
  FakeClock clock;
  auto rt = Make(&clock);
  PodSandboxConfig config = Sandbox("job", {{kRunSecondsAnnotation, "2.5"}});
  auto sb = rt->RunPodSandbox(config);
  auto app = rt->CreateContainer(*sb, Container("app"), config);
  REQUIRE(rt->StartContainer(*app).ok());
  int64_t started = clock.NowMillis();
  clock.Advance(2499ms);
  CHECK(rt->ContainerStatus(*app)->state == ContainerState::kRunning);
  clock.Advance(10s);  // read late: the exit time is still when it ended
  auto listed = rt->ListContainers(*sb);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].state == ContainerState::kExited);
  CHECK((*listed)[0].exit_code == 0);
  CHECK((*listed)[0].finished_at == started + 2500);
}

TEST_CASE("fake runtime: stopping a sandbox stops its containers; removal removes them") {
  FakeClock clock;
  auto rt = Make(&clock);
  auto a = rt->RunPodSandbox(Sandbox("a"));
  auto b = rt->RunPodSandbox(Sandbox("b"));
  auto ca = rt->CreateContainer(*a, Container("app"), Sandbox("a"));
  auto cb = rt->CreateContainer(*b, Container("app"), Sandbox("b"));
  REQUIRE(rt->StartContainer(*ca).ok());
  REQUIRE(rt->StartContainer(*cb).ok());
  REQUIRE(rt->StopPodSandbox(*a).ok());
  CHECK(rt->PodSandboxStatus(*a)->state == SandboxState::kNotReady);
  CHECK(rt->ContainerStatus(*ca)->state == ContainerState::kExited);
  CHECK(rt->ContainerStatus(*cb)->state == ContainerState::kRunning);
  CHECK(rt->CreateContainer(*a, Container("late"), Sandbox("a")).status().code() == StatusCode::kInvalidArgument);
  CHECK(rt->ListContainers("")->size() == 2);
  REQUIRE(rt->RemovePodSandbox(*a).ok());
  CHECK(rt->ContainerStatus(*ca).status().code() == StatusCode::kNotFound);
  CHECK(rt->ListContainers("")->size() == 1);
  CHECK(rt->SandboxCount() == 1);
  CHECK(rt->CreateContainer("nope", Container("x"), Sandbox("x")).status().code() == StatusCode::kNotFound);
  ContainerConfig no_image = Container("x");
  no_image.image.clear();
  CHECK(rt->CreateContainer(*b, no_image, Sandbox("b")).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kite::runtime
