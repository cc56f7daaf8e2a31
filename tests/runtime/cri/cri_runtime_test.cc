// CriRuntime against a real containerd started by the test (TestContainerd): sandbox,
// container lifecycle, exec, logs, streams, stats, images and error mapping.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "src/runtime/cri/cri_runtime.h"
#include "tests/runtime/cri/test_containerd.h"

namespace kite::runtime {
namespace {

using namespace std::chrono_literals;
using testing::TestContainerd;
using Clock = std::chrono::steady_clock;

const char kBusybox[] = "kite.local/busybox:1";

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The bounding capability set of PID 1 in the container, from /proc/1/status.
uint64_t BoundingCaps(CriRuntime& rt, const std::string& container_id) {
  auto status = rt.ExecSync(container_id, {"cat", "/proc/1/status"}, 10);
  REQUIRE(status.ok());
  std::smatch m;
  REQUIRE(std::regex_search(status->stdout_data, m, std::regex("CapBnd:\\s*([0-9a-f]+)")));
  return std::stoull(m[1].str(), nullptr, 16);
}

PodSandboxConfig SandboxConfig(const TestContainerd& cd, const std::string& name) {
  PodSandboxConfig sb;
  std::string uid = "uid-" + name + "-" + std::to_string(getpid());
  sb.metadata = {name, "default", uid, 0};
  sb.hostname = name;
  sb.log_directory = cd.dir() + "/pod-logs/default_" + name + "_" + uid;
  sb.dns = {{"10.96.0.10"}, {"default.svc.cluster.local"}, {"ndots:5"}};
  sb.port_mappings = {{"TCP", 80, 0, ""}, {"UDP", 53, 0, ""}};
  sb.labels = {{kPodNameLabel, name}, {kPodNamespaceLabel, "default"}, {kPodUidLabel, uid}};
  sb.annotations = {{"kite.dev/test", "cri"}};
  return sb;
}

ContainerConfig ShellConfig(const std::string& uid) {
  ContainerConfig c;
  c.metadata = {"sh", 0};
  c.image = kBusybox;
  c.command = {"sh", "-c", "echo hi; sleep 3600"};
  c.log_path = "sh/0.log";
  c.labels = {{kContainerNameLabel, "sh"}, {kPodUidLabel, uid}};
  c.annotations = {{"kite.dev/container", "yes"}};
  return c;
}

struct Started {
  std::string sandbox_id;
  std::string container_id;
  double sandbox_ms = 0, create_ms = 0, start_ms = 0;
};

Started StartPod(CriRuntime& rt, const PodSandboxConfig& sb, const ContainerConfig& c) {
  Started s;
  std::filesystem::create_directories(sb.log_directory + "/" + c.metadata.name);
  auto t0 = Clock::now();
  auto sandbox = rt.RunPodSandbox(sb);
  INFO(sandbox.status().ToString());
  REQUIRE(sandbox.ok());
  s.sandbox_id = *sandbox;
  s.sandbox_ms = MillisSince(t0);
  auto t1 = Clock::now();
  auto container = rt.CreateContainer(s.sandbox_id, c, sb);
  INFO(container.status().ToString());
  REQUIRE(container.ok());
  s.container_id = *container;
  s.create_ms = MillisSince(t1);
  auto t2 = Clock::now();
  Status started = rt.StartContainer(s.container_id);
  INFO(started.ToString());
  REQUIRE(started.ok());
  s.start_ms = MillisSince(t2);
  return s;
}

std::unique_ptr<TestContainerd> MakeContainerd() {
  std::string images = KITE_TEST_IMAGES_DIR;
  auto cd = TestContainerd::Create({{images + "/busybox.tar"}});
  INFO(cd.status().ToString());
  REQUIRE(cd.ok());
  return std::move(cd).value();
}

TEST_CASE("cri runtime: a pod's lifecycle on a real containerd") {
  std::unique_ptr<TestContainerd> cd = MakeContainerd();
  auto connected = CriRuntime::Connect(cd->socket(), 60s);
  REQUIRE(connected.ok());
  CriRuntime& rt = **connected;

  // Before containerd runs: calls fail fast with kUnavailable, Version() falls back.
  auto early = rt.QueryVersion();
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().code() == StatusCode::kUnavailable);
  CHECK(early.status().message().rfind("Version: ", 0) == 0);
  CHECK(rt.Version().runtime_name == "containerd");
  CHECK(rt.Ready().code() == StatusCode::kUnavailable);

  auto launch = Clock::now();
  Status started = cd->Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  std::printf("containerd start + image import: %.0f ms\n", MillisSince(launch));

  // The same client reaches it once it is up (a call without a live connection connects).
  auto reconnect = Clock::now();
  Result<VersionInfo> version = rt.QueryVersion();
  while (!version.ok() && Clock::now() - reconnect < 10s) {
    std::this_thread::sleep_for(50ms);
    version = rt.QueryVersion();
  }
  INFO(version.status().ToString() << "\n" << cd->LogTail());
  REQUIRE(version.ok());
  CHECK(version->runtime_name == "containerd");
  CHECK_FALSE(version->runtime_version.empty());
  CHECK(rt.Version().runtime_version == version->runtime_version);

  // Ready: RuntimeReady and NetworkReady (the CNI config was written before the start).
  Status ready = rt.Ready();
  for (auto start = Clock::now(); !ready.ok() && Clock::now() - start < 20s;) {
    std::this_thread::sleep_for(100ms);
    ready = rt.Ready();
  }
  INFO(ready.ToString());
  REQUIRE(ready.ok());

  // Images: the imported busybox has an id; an absent image has none.
  auto ref = rt.ImageRef(kBusybox);
  REQUIRE(ref.ok());
  REQUIRE(ref->has_value());
  CHECK(ref->value().rfind("sha256:", 0) == 0);
  auto absent = rt.ImageRef("kite.local/absent:1");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
  auto images = rt.ListImages();
  REQUIRE(images.ok());
  bool listed = std::any_of(images->begin(), images->end(), [&](const ImageInfo& i) {
    return i.id == ref->value() &&
           std::count(i.repo_tags.begin(), i.repo_tags.end(), std::string(kBusybox)) == 1;
  });
  CHECK(listed);

  // Requests the runtime cannot take, and ids it does not know.
  PodSandboxConfig bad = SandboxConfig(*cd, "bad");
  bad.port_mappings = {{"HTTP", 80, 0, ""}};
  auto refused = rt.RunPodSandbox(bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("HTTP") != std::string::npos);
  CHECK(rt.ContainerStatus("0123456789abcdef").status().code() == StatusCode::kNotFound);
  CHECK(rt.PodSandboxStatus("0123456789abcdef").status().code() == StatusCode::kNotFound);
  CHECK(rt.ExecSync("0123456789abcdef", {"true"}, 5).status().code() == StatusCode::kNotFound);
  CHECK(rt.StopContainer("0123456789abcdef", 0).ok());
  CHECK(rt.RemoveContainer("0123456789abcdef").ok());
  CHECK(rt.StopPodSandbox("0123456789abcdef").ok());
  CHECK(rt.RemovePodSandbox("0123456789abcdef").ok());
  CHECK(rt.CreateContainer("0123456789abcdef", ShellConfig("x"), SandboxConfig(*cd, "x"))
            .status()
            .code() == StatusCode::kNotFound);

  // A sandbox and a container with env, a bind mount, resources and a security context.
  PodSandboxConfig sb = SandboxConfig(*cd, "cri-test");
  ContainerConfig c = ShellConfig(sb.metadata.uid);
  c.envs = {{"KITE_GREETING", "hello"}, {"KITE_OTHER", "x"}, {"KITE_GREETING", "hello again"}};
  std::string host_dir = cd->dir() + "/volume";
  std::filesystem::create_directories(host_dir);
  std::ofstream(host_dir + "/file") << "from the host\n";
  std::filesystem::permissions(cd->dir(), std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
  c.mounts = {{"/mnt/x", host_dir, true, MountPropagation::kPrivate}};
  c.working_dir = "/tmp";
  c.resources.cpu_period = 100000;
  c.resources.cpu_quota = 50000;
  c.resources.cpu_shares = 512;
  c.resources.memory_limit_in_bytes = 64 << 20;
  c.security.run_as_user = 1000;
  c.security.run_as_group = 2000;
  c.security.supplemental_groups = {3000};
  c.security.readonly_rootfs = true;
  c.security.add_capabilities = {"NET_ADMIN"};
  c.security.drop_capabilities = {"CHOWN"};

  Started pod = StartPod(rt, sb, c);
  std::printf("first pod: RunPodSandbox %.0f ms, CreateContainer %.0f ms, StartContainer %.0f ms\n",
              pod.sandbox_ms, pod.create_ms, pod.start_ms);

  auto sandbox = rt.PodSandboxStatus(pod.sandbox_id);
  REQUIRE(sandbox.ok());
  CHECK(sandbox->state == SandboxState::kReady);
  CHECK(sandbox->ip.rfind(cd->subnet_prefix(), 0) == 0);
  CHECK(sandbox->metadata.name == "cri-test");
  CHECK(sandbox->metadata.namespace_ == "default");
  CHECK(sandbox->metadata.uid == sb.metadata.uid);
  CHECK(sandbox->labels.at(kPodUidLabel) == sb.metadata.uid);
  CHECK(sandbox->annotations.at("kite.dev/test") == "cri");
  CHECK(sandbox->created_at > 1600000000000);  // milliseconds, not nanoseconds
  CHECK(sandbox->created_at < 4000000000000);
  auto sandboxes = rt.ListPodSandbox();
  REQUIRE(sandboxes.ok());
  REQUIRE(sandboxes->size() == 1);
  CHECK(sandboxes->front().id == pod.sandbox_id);
  CHECK(sandboxes->front().ip == sandbox->ip);

  auto status = rt.ContainerStatus(pod.container_id);
  INFO(status.status().ToString());
  REQUIRE(status.ok());
  CHECK(status->state == ContainerState::kRunning);
  CHECK(status->id == pod.container_id);
  CHECK(status->sandbox_id == pod.sandbox_id);
  CHECK(status->metadata.name == "sh");
  CHECK(status->image == kBusybox);
  CHECK_FALSE(status->image_ref.empty());
  CHECK(status->started_at >= status->created_at);
  CHECK(status->created_at > 1600000000000);
  CHECK(status->finished_at == 0);
  CHECK(status->log_path == sb.log_directory + "/sh/0.log");
  CHECK(status->labels.at(kContainerNameLabel) == "sh");
  CHECK(status->annotations.at("kite.dev/container") == "yes");

  // Commands: output, exit codes, env, mounts, hostname, DNS, user, limits.
  auto exec = [&](std::vector<std::string> cmd) {
    auto r = rt.ExecSync(pod.container_id, cmd, 10);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  ExecSyncResult hostname = exec({"cat", "/etc/hostname"});
  CHECK(hostname.stdout_data == "cri-test\n");
  CHECK(hostname.exit_code == 0);
  ExecSyncResult failed = exec({"sh", "-c", "echo oops >&2; exit 3"});
  CHECK(failed.exit_code == 3);
  CHECK(failed.stderr_data == "oops\n");
  CHECK(exec({"sh", "-c", "echo $KITE_GREETING/$KITE_OTHER"}).stdout_data == "hello again/x\n");
  CHECK(exec({"cat", "/mnt/x/file"}).stdout_data == "from the host\n");
  CHECK(exec({"sh", "-c", "touch /mnt/x/new"}).exit_code != 0);  // read-only mount
  CHECK(exec({"sh", "-c", "touch /new"}).exit_code != 0);        // read-only root
  CHECK(exec({"pwd"}).stdout_data == "/tmp\n");
  CHECK(exec({"id", "-u"}).stdout_data == "1000\n");
  CHECK(exec({"id", "-g"}).stdout_data == "2000\n");
  CHECK(exec({"id", "-G"}).stdout_data.find("3000") != std::string::npos);
  std::string resolv = exec({"cat", "/etc/resolv.conf"}).stdout_data;
  CHECK(resolv.find("nameserver 10.96.0.10") != std::string::npos);
  CHECK(resolv.find("search default.svc.cluster.local") != std::string::npos);
  CHECK(resolv.find("options ndots:5") != std::string::npos);
  CHECK(exec({"cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}).stdout_data ==
        std::to_string(64 << 20) + "\n");
  CHECK(exec({"cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"}).stdout_data == "50000\n");
  CHECK(exec({"cat", "/sys/fs/cgroup/cpu/cpu.shares"}).stdout_data == "512\n");
  uint64_t caps = BoundingCaps(rt, pod.container_id);
  CHECK((caps & (1u << 0)) == 0);   // CAP_CHOWN dropped
  CHECK((caps & (1u << 12)) != 0);  // CAP_NET_ADMIN added
  // The pod's own PID namespace per container: PID 1 is the shell, not the pause process.
  CHECK(exec({"cat", "/proc/1/cmdline"}).stdout_data.find("sleep") != std::string::npos);

  // A command past its timeout: containerd kills it and answers DEADLINE_EXCEEDED.
  auto exec_start = Clock::now();
  auto timed_out = rt.ExecSync(pod.container_id, {"sleep", "5"}, 1);
  CHECK(timed_out.status().code() == StatusCode::kUnavailable);
  CHECK(timed_out.status().message().find("timeout") != std::string::npos);
  CHECK(MillisSince(exec_start) < 4000);

  // The log, in the CRI format: "<RFC 3339 time> stdout F hi".
  std::string log = ReadFile(status->log_path);
  INFO("log: " << log);
  CHECK(std::regex_search(log, std::regex("(^|\\n)\\d{4}-\\d\\d-\\d\\dT\\S+ stdout F hi\\n")));

  // Stream URLs from containerd's streaming server.
  StreamRequest stream;
  stream.container_id = pod.container_id;
  stream.sandbox_id = pod.sandbox_id;
  stream.command = {"sh"};
  stream.stdin_open = true;
  stream.ports = {80};
  for (auto [name, url] :
       {std::pair{"exec", rt.Exec(stream)}, std::pair{"attach", rt.Attach(stream)},
        std::pair{"port-forward", rt.PortForward(stream)}}) {
    INFO(name << ": " << url.status().ToString());
    REQUIRE(url.ok());
    CHECK(url->rfind("http://127.0.0.1:", 0) == 0);
  }

  // Stats of the running container.
  auto stats = rt.ListContainerStats();
  REQUIRE(stats.ok());
  auto mine = std::find_if(stats->begin(), stats->end(), [&](const ContainerStats& s) {
    return s.container_id == pod.container_id;
  });
  REQUIRE(mine != stats->end());
  CHECK(mine->cpu_usage_core_nanos > 0);
  CHECK(mine->memory_working_set_bytes > 0);
  CHECK(mine->timestamp_nanos > 0);
  auto one = rt.GetContainerStats(pod.container_id);
  REQUIRE(one.ok());
  CHECK(one->container_id == pod.container_id);

  // Stop: the shell is PID 1 and ignores SIGTERM, so it is killed after the grace period.
  auto stop_start = Clock::now();
  Status stopped = rt.StopContainer(pod.container_id, 1);
  INFO(stopped.ToString());
  REQUIRE(stopped.ok());
  std::printf("StopContainer (1 s grace, SIGTERM ignored): %.0f ms\n", MillisSince(stop_start));
  status = rt.ContainerStatus(pod.container_id);
  REQUIRE(status.ok());
  CHECK(status->state == ContainerState::kExited);
  CHECK((status->exit_code == 137 || status->exit_code == 143));
  CHECK(status->finished_at >= status->started_at);
  CHECK(rt.StopContainer(pod.container_id, 1).ok());  // idempotent
  auto containers = rt.ListContainers(pod.sandbox_id);
  REQUIRE(containers.ok());
  REQUIRE(containers->size() == 1);
  CHECK(containers->front().id == pod.container_id);
  CHECK(containers->front().sandbox_id == pod.sandbox_id);
  CHECK(containers->front().state == ContainerState::kExited);
  CHECK(containers->front().exit_code == status->exit_code);
  auto all_containers = rt.ListContainers("");
  REQUIRE(all_containers.ok());
  CHECK(all_containers->size() == 1);

  // Remove the container, then the sandbox; both idempotent.
  REQUIRE(rt.RemoveContainer(pod.container_id).ok());
  CHECK(rt.ContainerStatus(pod.container_id).status().code() == StatusCode::kNotFound);
  CHECK(rt.RemoveContainer(pod.container_id).ok());
  REQUIRE(rt.StopPodSandbox(pod.sandbox_id).ok());
  sandbox = rt.PodSandboxStatus(pod.sandbox_id);
  REQUIRE(sandbox.ok());
  CHECK(sandbox->state == SandboxState::kNotReady);
  CHECK(rt.StopPodSandbox(pod.sandbox_id).ok());
  REQUIRE(rt.RemovePodSandbox(pod.sandbox_id).ok());
  CHECK(rt.RemovePodSandbox(pod.sandbox_id).ok());
  CHECK(rt.PodSandboxStatus(pod.sandbox_id).status().code() == StatusCode::kNotFound);
  sandboxes = rt.ListPodSandbox();
  REQUIRE(sandboxes.ok());
  CHECK(sandboxes->empty());

  // Pod start time here, sandbox + container, a few sequential pods.
  std::vector<double> totals;
  for (int i = 0; i < 3; ++i) {
    PodSandboxConfig timed = SandboxConfig(*cd, "timed-" + std::to_string(i));
    Started p = StartPod(rt, timed, ShellConfig(timed.metadata.uid));
    totals.push_back(p.sandbox_ms + p.create_ms + p.start_ms);
    std::printf("pod %d: RunPodSandbox %.0f ms, CreateContainer %.0f ms, StartContainer %.0f ms\n",
                i, p.sandbox_ms, p.create_ms, p.start_ms);
    CHECK(rt.ContainerStatus(p.container_id)->state == ContainerState::kRunning);
    // Removing the sandbox removes its running container too.
    REQUIRE(rt.StopPodSandbox(p.sandbox_id).ok());
    REQUIRE(rt.RemovePodSandbox(p.sandbox_id).ok());
    CHECK(rt.ContainerStatus(p.container_id).status().code() == StatusCode::kNotFound);
  }
  std::sort(totals.begin(), totals.end());
  std::printf("sandbox + container start, median of 3: %.0f ms\n", totals[1]);
}

TEST_CASE("cri runtime: the same client reaches containerd again after it restarted") {
  std::unique_ptr<TestContainerd> cd = MakeContainerd();
  Status started = cd->Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  auto connected = CriRuntime::Connect(cd->socket(), 60s);
  REQUIRE(connected.ok());
  CriRuntime& rt = **connected;

  // Calls from several threads leave several idle connections to the old containerd.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!rt.QueryVersion().ok() || !rt.ListImages().ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(failures == 0);

  auto restart = Clock::now();
  Status restarted = cd->Restart();
  INFO(restarted.ToString() << "\n" << cd->LogTail());
  REQUIRE(restarted.ok());
  std::printf("containerd restart: %.0f ms\n", MillisSince(restart));

  // The first call after the restart already succeeds: dead pooled connections are noticed
  // or retried once on a fresh one, not reported.
  Result<VersionInfo> version = rt.QueryVersion();
  INFO(version.status().ToString());
  CHECK(version.ok());
  auto images = rt.ListImages();
  REQUIRE(images.ok());
  bool busybox = false;
  for (const ImageInfo& image : *images) {
    for (const std::string& tag : image.repo_tags) busybox = busybox || tag == kBusybox;
  }
  CHECK(busybox);
  for (int t = 0; t < 4; ++t) {
    threads[static_cast<size_t>(t)] = std::thread([&] {
      for (int i = 0; i < 10; ++i) {
        if (!rt.QueryVersion().ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures == 0);
}

}  // namespace
}  // namespace kite::runtime
