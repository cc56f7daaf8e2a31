// ContainerdProcess and the air-gap folder against the real containerd (Debian's 1.6):
// each test case starts its own containerd in a temporary folder, with a bridge name and
// pod CIDR of its own so tests running side by side never meet. A containerd that cannot
// start fails the test; nothing is skipped.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "src/runtime/containerd/air_gap_images.h"
#include "src/runtime/containerd/containerd_process.h"
#include "src/runtime/containerd/image_importer.h"
#include "src/runtime/containerd/subprocess.h"

namespace kite::containerd {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Eventually(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

bool Alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return !(paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z');
}

// Live processes whose command line mentions `needle` (our config path).
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    pid_t pid = std::stoi(name);
    if (cmdline.find(needle) != std::string::npos && Alive(pid)) found.push_back(pid);
  }
  return found;
}

bool HasImage(const std::string& socket, const std::string& ref) {
  auto images = ListImages(socket);
  return images.ok() && std::find(images->begin(), images->end(), ref) != images->end();
}

struct TempAgentDir {
  TempAgentDir() {
    // Short: the socket path must fit in sockaddr_un.
    char tmpl[] = "/tmp/kctr-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~TempAgentDir() {
    // Whatever a failed test left: containerd and shims of this folder, their mounts, then
    // the files.
    for (pid_t pid : ProcessesMentioning(dir + "/")) kill(pid, SIGKILL);
    std::stringstream mounts(ReadFile("/proc/self/mounts"));
    std::vector<std::string> ours;
    std::string device, point, rest;
    while (mounts >> device >> point && std::getline(mounts, rest)) {
      if (point.starts_with(dir + "/")) ours.push_back(point);
    }
    std::sort(ours.rbegin(), ours.rend());
    for (const std::string& m : ours) umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  ContainerdOptions Options() const {
    ContainerdOptions o;
    o.dir = dir;
    int id = static_cast<int>(getpid());
    o.bridge_name = "kt" + std::to_string(id % 10000);
    o.pod_cidr = "10.201." + std::to_string(id % 250) + ".0/24";
    o.start_timeout = 60s;
    o.log = [](const std::string& line) { UNSCOPED_INFO("containerd: " << line); };
    return o;
  }
  std::string dir;
};

std::unique_ptr<ContainerdProcess> MustStart(const ContainerdOptions& options) {
  auto started = ContainerdProcess::Start(options);
  INFO((started.ok() ? std::string("started") : started.status().ToString()));
  REQUIRE(started.ok());
  return std::move(started).value();
}

TEST_CASE("containerd starts with its config, network list and the pause image; Stop ends it") {
  TempAgentDir tmp;
  ContainerdOptions options = tmp.Options();
  auto cd = MustStart(options);
  const ContainerdPaths& paths = cd->paths();

  CHECK(cd->running());
  CHECK(cd->restarts() == 0);
  CHECK(cd->socket_path() == tmp.dir + "/containerd.sock");
  CHECK(SocketAnswers(cd->socket_path()));
  pid_t pid = cd->pid();
  REQUIRE(pid > 0);
  CHECK(ReadFile(paths.pid_file) == std::to_string(pid) + "\n");

  std::string config = ReadFile(tmp.dir + "/containerd/config.toml");
  CHECK(config.find("address = \"" + tmp.dir + "/containerd.sock\"") != std::string::npos);
  CHECK(config.find("Root = \"" + tmp.dir + "/containerd/state/runc\"") != std::string::npos);
  CHECK(config.find(cd->host().cap_sys_resource ? "restrict_oom_score_adj = false"
                                                 : "restrict_oom_score_adj = true") !=
        std::string::npos);
  std::string conflist = ReadFile(tmp.dir + "/cni/10-kite.conflist");
  CHECK(conflist.find("\"" + options.pod_cidr + "\"") != std::string::npos);
  CHECK(conflist.find("\"" + options.bridge_name + "\"") != std::string::npos);

  CHECK(HasImage(cd->socket_path(), "kite.local/pause:1"));
  CHECK(ReadFile(paths.log).find("---- kite: starting containerd") != std::string::npos);

  cd->Stop();
  CHECK_FALSE(cd->running());
  CHECK_FALSE(Alive(pid));
  CHECK(ProcessesMentioning(paths.config).empty());
  CHECK_FALSE(SocketAnswers(cd->socket_path()));
  CHECK_FALSE(std::filesystem::exists(paths.pid_file));
  cd->Stop();  // idempotent
}

TEST_CASE("a containerd killed with SIGKILL is restarted and answers again") {
  TempAgentDir tmp;
  auto cd = MustStart(tmp.Options());
  pid_t first = cd->pid();
  REQUIRE(first > 0);
  REQUIRE(kill(first, SIGKILL) == 0);
  CHECK(Eventually([&] { return cd->restarts() == 1 && cd->running(); }, 60s));
  pid_t second = cd->pid();
  CHECK(second > 0);
  CHECK(second != first);
  CHECK_FALSE(Alive(first));
  CHECK(SocketAnswers(cd->socket_path()));
  CHECK(ReadFile(cd->paths().pid_file) == std::to_string(second) + "\n");
  // The restarted containerd kept its store: the pause image is still there.
  CHECK(HasImage(cd->socket_path(), "kite.local/pause:1"));
  CHECK(cd->restarts() == 1);
  cd->Stop();
  CHECK_FALSE(Alive(second));
  CHECK(cd->restarts() == 1);  // stopping is not a restart
}

TEST_CASE("air-gap folder: a busybox tarball dropped in is imported") {
  TempAgentDir tmp;
  auto cd = MustStart(tmp.Options());
  AirGapOptions airgap_options;
  airgap_options.socket = cd->socket_path();
  airgap_options.images_dir = tmp.dir + "/images";
  airgap_options.poll_interval = 500ms;
  AirGapImages airgap(airgap_options);
  airgap.Start();
  CHECK_FALSE(HasImage(cd->socket_path(), "kite.local/busybox:1"));

  std::filesystem::create_directories(airgap_options.images_dir);
  std::filesystem::copy_file(KITE_IMAGES_DIR "/busybox.tar",
                             airgap_options.images_dir + "/busybox.tar");
  // The image is listed as soon as ctr creates it, before the unpack and ctr's exit.
  CHECK(Eventually([&] { return airgap.imported_count() == 1; }, 60s));
  CHECK(HasImage(cd->socket_path(), "kite.local/busybox:1"));
  CHECK(ReadFile(airgap_options.images_dir + "/.imported").find(" busybox.tar\n") !=
        std::string::npos);
  airgap.Stop();
  cd->Stop();
}

TEST_CASE("a .tar.gz imports through ImportImage; a corrupt tarball is an error") {
  TempAgentDir tmp;
  auto cd = MustStart(tmp.Options());
  std::string gz = tmp.dir + "/busybox.tar.gz";
  REQUIRE(std::system(("gzip -c " KITE_IMAGES_DIR "/busybox.tar > " + gz).c_str()) == 0);
  Status imported = ImportImage(cd->socket_path(), gz);
  INFO(imported.ToString());
  CHECK(imported.ok());
  CHECK(HasImage(cd->socket_path(), "kite.local/busybox:1"));

  std::string bad = tmp.dir + "/bad.tar";
  std::ofstream(bad) << "this is not a tarball";
  Status failed = ImportImage(cd->socket_path(), bad);
  CHECK(failed.code() == StatusCode::kInternal);
  CHECK(ImportImage(cd->socket_path(), tmp.dir + "/missing.tar").code() ==
        StatusCode::kNotFound);
  cd->Stop();
}

// `ctr -a SOCK -n k8s.io ARGS...`; REQUIREs success and returns the output.
std::string Ctr(const std::string& socket, std::vector<std::string> args) {
  std::vector<std::string> argv = {"ctr", "-a", socket, "-n", "k8s.io"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = RunCommand(argv);
  REQUIRE(run.ok());
  INFO(run->output);
  REQUIRE(run->exit_code == 0);
  return run->output;
}

// The pid of task `id` from `ctr task ls` ("TASK PID STATUS"), 0 when it is not RUNNING.
pid_t RunningTaskPid(const std::string& socket, const std::string& id) {
  std::stringstream lines(Ctr(socket, {"task", "ls"}));
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::stringstream fields(line);
    std::string task, status;
    pid_t pid = 0;
    if (fields >> task >> pid >> status && task == id && status == "RUNNING") return pid;
  }
  return 0;
}

// On a failed test, kills the container's process (its shim may be gone already) and removes
// the cgroups runc made for it (ctr's default path: /<namespace>/<id>).
struct ContainerGuard {
  ~ContainerGuard() {
    if (pid > 0 && Alive(pid)) {
      kill(pid, SIGKILL);
      Eventually([&] { return !Alive(pid); }, 10s);
    }
    std::error_code ec;
    for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      rmdir((hierarchy.path().string() + "/k8s.io/" + id).c_str());
    }
    rmdir(("/sys/fs/cgroup/k8s.io/" + id).c_str());
  }
  std::string id;
  pid_t pid = 0;
};

TEST_CASE("containers keep running across Stop() and are found again by the next Start") {
  TempAgentDir tmp;
  ContainerdOptions options = tmp.Options();
  auto cd = MustStart(options);
  REQUIRE(ImportImage(cd->socket_path(), KITE_IMAGES_DIR "/busybox.tar").ok());
  ContainerGuard guard;
  guard.id = "kite-survivor-" + std::to_string(getpid());
  const std::string& id = guard.id;
  Ctr(cd->socket_path(), {"run", "-d", "--runc-root", cd->paths().runc_root,
                          "kite.local/busybox:1", id, "sleep", "600"});
  pid_t task = RunningTaskPid(cd->socket_path(), id);
  REQUIRE(task > 0);
  guard.pid = task;

  cd->Stop();
  CHECK(ProcessesMentioning(cd->paths().config).empty());
  CHECK(Alive(task));  // its shim is not containerd's child

  cd = MustStart(options);
  CHECK(RunningTaskPid(cd->socket_path(), id) == task);

  Ctr(cd->socket_path(), {"task", "kill", "-s", "SIGKILL", id});
  CHECK(Eventually([&] { return !Alive(task); }, 30s));
  CHECK(Eventually([&] { return RunningTaskPid(cd->socket_path(), id) == 0; }, 30s));
  Ctr(cd->socket_path(), {"task", "rm", "-f", id});
  Ctr(cd->socket_path(), {"container", "rm", id});
  cd->Stop();
}

TEST_CASE("a containerd left running by a previous agent is stopped and replaced") {
  TempAgentDir tmp;
  ContainerdOptions options = tmp.Options();
  {
    auto cd = MustStart(options);  // writes the config, imports the pause image
    cd->Stop();
  }
  // A containerd that nobody supervises (no death signal), as a crashed agent might leave.
  ContainerdPaths paths(tmp.dir);
  pid_t stale = fork();
  REQUIRE(stale >= 0);
  if (stale == 0) {
    setsid();
    int log = open((paths.log).c_str(), O_WRONLY | O_APPEND);
    dup2(log, 1);
    dup2(log, 2);
    execlp("containerd", "containerd", "--config", paths.config.c_str(), nullptr);
    _exit(127);
  }
  std::ofstream(paths.pid_file) << stale << "\n";
  REQUIRE(Eventually([&] { return SocketAnswers(paths.socket); }, 60s));

  auto cd = MustStart(options);
  CHECK(cd->pid() != stale);
  int status = 0;
  CHECK(waitpid(stale, &status, WNOHANG) == stale);  // it was stopped (we are its parent)
  CHECK(cd->running());
  CHECK(HasImage(cd->socket_path(), "kite.local/pause:1"));
  cd->Stop();
}

TEST_CASE("after the agent process is killed with SIGKILL, a new Start on its folder works") {
  TempAgentDir tmp;
  ContainerdOptions options = tmp.Options();
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t agent = fork();
  REQUIRE(agent >= 0);
  if (agent == 0) {
    // The "agent": starts containerd, says so, and waits to be killed.
    close(ready[0]);
    options.log = nullptr;
    auto started = ContainerdProcess::Start(options);
    char result = started.ok() ? '1' : '0';
    (void)!write(ready[1], &result, 1);
    if (!started.ok()) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char result = 0;
  REQUIRE(read(ready[0], &result, 1) == 1);
  close(ready[0]);
  REQUIRE(result == '1');
  ContainerdPaths paths(tmp.dir);
  pid_t orphan = std::stoi(ReadFile(paths.pid_file));
  CHECK(Alive(orphan));

  REQUIRE(kill(agent, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(agent, &status, 0) == agent);

  auto cd = MustStart(options);
  CHECK(cd->running());
  CHECK(cd->pid() != orphan);
  // The orphan got SIGTERM when its parent died (or from the new Start): it is gone.
  CHECK(Eventually([&] { return !Alive(orphan); }, 15s));
  CHECK(ProcessesMentioning(paths.config).size() == 1);
  CHECK(HasImage(cd->socket_path(), "kite.local/pause:1"));
  cd->Stop();
  CHECK(ProcessesMentioning(paths.config).empty());
}

TEST_CASE("Start fails, leaving nothing running, when containerd cannot start") {
  TempAgentDir tmp;
  ContainerdOptions options = tmp.Options();
  SECTION("missing binary") {
    options.containerd_binary = tmp.dir + "/no-such-containerd";
    auto started = ContainerdProcess::Start(options);
    REQUIRE_FALSE(started.ok());
    CHECK(started.status().code() == StatusCode::kNotFound);
  }
  SECTION("a binary that exits at once: the error quotes its log") {
    std::string fake = tmp.dir + "/fake-containerd";
    std::ofstream(fake) << "#!/bin/sh\necho 'fake containerd: cannot start' >&2\nexit 1\n";
    REQUIRE(chmod(fake.c_str(), 0755) == 0);
    options.containerd_binary = fake;
    auto started = ContainerdProcess::Start(options);
    REQUIRE_FALSE(started.ok());
    CHECK(started.status().code() == StatusCode::kUnavailable);
    CHECK(started.status().message().find("fake containerd: cannot start") != std::string::npos);
  }
  SECTION("a binary that never answers: timeout, and it is stopped") {
    std::string fake = tmp.dir + "/silent-containerd";
    std::string fake_pid = tmp.dir + "/silent.pid";
    std::ofstream(fake) << "#!/bin/sh\necho $$ > " << fake_pid << "\nexec sleep 300\n";
    REQUIRE(chmod(fake.c_str(), 0755) == 0);
    options.containerd_binary = fake;
    options.start_timeout = 1s;
    auto started = ContainerdProcess::Start(options);
    REQUIRE_FALSE(started.ok());
    CHECK(started.status().code() == StatusCode::kUnavailable);
    CHECK(started.status().message().find("did not answer") != std::string::npos);
    pid_t silent = std::stoi(ReadFile(fake_pid));
    CHECK_FALSE(Alive(silent));
  }
  SECTION("the socket is served by someone else") {
    // A listener that is not a containerd of ours, on our socket path.
    std::string listener = "import socket,time\ns=socket.socket(socket.AF_UNIX)\ns.bind('" +
                           tmp.dir + "/containerd.sock')\ns.listen()\nprint('up',flush=True)\n"
                           "time.sleep(60)\n";
    FILE* py = popen(("python3 -c \"" + listener + "\"").c_str(), "r");
    REQUIRE(py != nullptr);
    char line[8] = {};
    REQUIRE(fgets(line, sizeof(line), py) != nullptr);
    auto started = ContainerdProcess::Start(options);
    REQUIRE_FALSE(started.ok());
    CHECK(started.status().code() == StatusCode::kUnavailable);
    CHECK(started.status().message().find("another process") != std::string::npos);
    for (pid_t pid : ProcessesMentioning(tmp.dir + "/containerd.sock")) kill(pid, SIGKILL);
    pclose(py);
  }
}

}  // namespace
}  // namespace kite::containerd
