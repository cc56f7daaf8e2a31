#include "src/runtime/containerd/containerd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "src/runtime/containerd/image_importer.h"
#include "src/runtime/containerd/pause_image.h"
#include "src/runtime/containerd/subprocess.h"

extern char** environ;

namespace kite::containerd {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kStopGrace{10};
constexpr seconds kFirstBackoff{1};
constexpr seconds kMaxBackoff{30};
// A child that ran this long is considered to have worked; the back-off starts over.
constexpr seconds kHealthyRun{60};
constexpr off_t kMaxLogBytes = 10 << 20;
constexpr size_t kLogTailBytes = 2048;

std::string ErrnoText(int err) { return std::strerror(err); }

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return IoError("cannot create " + path + ": " + ec.message());
  return Status::Ok();
}

// The first line of a file, "" when unreadable.
std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  // A zombie whose parent has not reaped it yet is gone for our purpose.
  std::string stat = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

bool WaitGone(pid_t pid, SteadyClock::duration timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!ProcessGone(pid)) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return true;
}

// The command line of `pid` as its arguments, empty when the process is gone.
std::vector<std::string> CommandLineOf(pid_t pid) {
  std::string raw = ReadSmallFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t end = raw.find('\0', pos);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(pos, end - pos));
    pos = end + 1;
  }
  return args;
}

// `name` resolved through PATH as execvp would, done before fork (execvp itself is not
// async-signal-safe). Returned unchanged when it holds a '/' or nothing matches, so the
// exec error names it.
std::string ResolveBinary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(pos, end - pos);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  return name;
}

std::string DescribeWaitStatus(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return "exit status " + std::to_string(info.si_status);
  return "signal " + std::to_string(info.si_status) + " (" + strsignal(info.si_status) + ")";
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

bool SocketAnswers(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  ::close(fd);
  return rc == 0;
}

ContainerdProcess::ContainerdProcess(ContainerdOptions options, HostFacts host)
    : options_(std::move(options)), paths_(options_.dir), host_(host) {}

ContainerdProcess::~ContainerdProcess() { Stop(); }

void ContainerdProcess::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "kite: containerd: " + line + "\n";
  }
}

Result<std::unique_ptr<ContainerdProcess>> ContainerdProcess::Start(ContainerdOptions options) {
  KITE_RETURN_IF_ERROR(ValidateOptions(options));
  HostFacts host = DetectHostFacts();
  std::unique_ptr<ContainerdProcess> process(new ContainerdProcess(std::move(options), host));
  process->Log("host has " + host.Describe());
  KITE_RETURN_IF_ERROR(process->PrepareFiles());
  KITE_RETURN_IF_ERROR(process->StopLeftover());

  process->supervisor_ = std::thread([p = process.get()] { p->Supervise(); });
  Status started;
  {
    MutexLock lock(process->mu_);
    while (!process->first_start_reported_) process->changed_.Wait(process->mu_);
    started = process->first_start_;
  }
  if (started.ok()) started = process->EnsurePauseImage();
  if (!started.ok()) {
    process->Stop();
    return started;
  }
  return process;
}

Status ContainerdProcess::PrepareFiles() {
  for (const std::string* dir : {&paths_.containerd_dir, &paths_.root, &paths_.state,
                                 &paths_.cni_conf_dir, &paths_.ipam_dir, &paths_.registry_hosts}) {
    KITE_RETURN_IF_ERROR(MakeDirs(*dir));
  }
  // containerd's root holds image layers and secrets of pods: not for other users.
  ::chmod(paths_.root.c_str(), 0700);
  ::chmod(paths_.state.c_str(), 0711);
  KITE_RETURN_IF_ERROR(WriteFileAtomically(paths_.config, ContainerdConfigToml(options_, host_)));
  if (options_.pod_cidr.empty()) {
    Log("no pod CIDR yet: the CNI network list is written when it is known");
    return Status::Ok();
  }
  return SetPodCidr(options_.pod_cidr);
}

Status ContainerdProcess::SetPodCidr(const std::string& pod_cidr, const std::string& bridge_name) {
  KITE_RETURN_IF_ERROR(ValidateCidr(pod_cidr));
  ContainerdOptions options = options_;
  if (!bridge_name.empty()) {
    options.bridge_name = bridge_name;
    KITE_RETURN_IF_ERROR(ValidateOptions(options));  // the bridge name's rules
  }
  KITE_RETURN_IF_ERROR(MakeDirs(paths_.cni_conf_dir));
  KITE_RETURN_IF_ERROR(WriteFileAtomically(paths_.conflist, CniConflistJson(options, pod_cidr)));
  Log("CNI network \"kite\" on bridge " + options.bridge_name + " for pod CIDR " + pod_cidr);
  return Status::Ok();
}

Status ContainerdProcess::StopLeftover() {
  std::string text = ReadSmallFile(paths_.pid_file);
  pid_t pid = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  (void)ptr;
  if (ec == std::errc() && pid > 1 && !ProcessGone(pid)) {
    // Only a containerd started on this folder's config is ours to stop; a recycled pid
    // belongs to someone else.
    std::vector<std::string> args = CommandLineOf(pid);
    if (std::find(args.begin(), args.end(), paths_.config) != args.end()) {
      Log("stopping the containerd a previous agent left running (pid " + std::to_string(pid) +
          ")");
      ::kill(pid, SIGTERM);
      if (!WaitGone(pid, kStopGrace)) {
        Log("containerd pid " + std::to_string(pid) + " ignored SIGTERM for " +
            std::to_string(kStopGrace.count()) + " s; killing it");
        ::kill(pid, SIGKILL);
        if (!WaitGone(pid, seconds(5))) {
          return UnavailableError("the previous containerd (pid " + std::to_string(pid) +
                                  ") does not die");
        }
      }
    }
  }
  ::unlink(paths_.pid_file.c_str());
  if (SocketAnswers(paths_.socket)) {
    return UnavailableError("another process, not started by this agent, serves " +
                            paths_.socket + "; stop it or use another data directory");
  }
  ::unlink(paths_.socket.c_str());
  return Status::Ok();
}

Result<pid_t> ContainerdProcess::Spawn() {
  // Everything the child needs is prepared here: after fork it may only make system calls.
  struct stat st {};
  if (::stat(paths_.log.c_str(), &st) == 0 && st.st_size > kMaxLogBytes) {
    ::rename(paths_.log.c_str(), (paths_.log + ".1").c_str());
  }
  int log_fd = ::open(paths_.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) return IoError("cannot open " + paths_.log + ": " + ErrnoText(errno));
  std::string banner = "---- kite: starting containerd at " + Now() + " ----\n";
  (void)!::write(log_fd, banner.data(), banner.size());
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_error[2];
  if (null_fd < 0 || ::pipe2(exec_error, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return IoError("cannot start containerd: " + ErrnoText(err));
  }
  std::string binary = ResolveBinary(options_.containerd_binary);
  std::vector<std::string> args = {binary, "--config", paths_.config};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The agent's environment, minus what would make containerd speak for the agent: under
  // systemd (Type=notify) it would otherwise report readiness on the agent's socket.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    if (var.starts_with("NOTIFY_SOCKET=") || var.starts_with("LISTEN_FDS=") ||
        var.starts_with("LISTEN_PID=") || var.starts_with("LISTEN_FDNAMES=")) {
      continue;
    }
    envp.push_back(*e);
  }
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  long max_fd = std::min(::sysconf(_SC_OPEN_MAX), 65536L);

  pid_t pid = ::fork();
  if (pid == 0) {
    // The child: async-signal-safe calls only.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // the agent died before the line above
    ::setpgid(0, 0);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < 32; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // No descriptor of the agent's survives exec (the error pipe closes at exec too).
    constexpr unsigned kCloseRangeCloexec = 1u << 2;  // CLOSE_RANGE_CLOEXEC, Linux 5.11
    if (::syscall(SYS_close_range, 3u, ~0u, kCloseRangeCloexec) != 0) {
      for (long fd = 3; fd < max_fd; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }
    ::execve(argv[0], argv.data(), envp.data());
    int err = errno;
    (void)!::write(exec_error[1], &err, sizeof(err));
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(exec_error[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    ::close(exec_error[0]);
    return IoError("cannot fork containerd: " + ErrnoText(fork_errno));
  }
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_error[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return NotFoundError("cannot run " + options_.containerd_binary + ": " + ErrnoText(exec_errno));
  }
  return pid;
}

ContainerdProcess::Readiness ContainerdProcess::WaitUntilAnswering(pid_t pid,
                                                                   milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (SocketAnswers(paths_.socket)) return Readiness::kAnswering;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      return Readiness::kExited;
    }
    if (SteadyClock::now() >= deadline) return Readiness::kTimedOut;
    MutexLock lock(mu_);
    if (stopping_) return Readiness::kStopping;
    changed_.WaitFor(mu_, milliseconds(50));
  }
}

void ContainerdProcess::Supervise() {
  auto report_first = [this](Status status) {
    MutexLock lock(mu_);
    first_start_ = std::move(status);
    first_start_reported_ = true;
    changed_.NotifyAll();
  };

  bool first = true;
  seconds backoff = kFirstBackoff;
  for (;;) {
    bool give_up = false;
    Result<pid_t> spawned = Spawn();
    if (!spawned.ok()) {
      Log(spawned.status().message());
      if (first) {
        report_first(spawned.status());
        break;
      }
    } else {
      const pid_t pid = *spawned;
      {
        MutexLock lock(mu_);
        pid_ = pid;
        answering_ = false;
        if (stopping_) ::kill(pid, SIGTERM);  // Stop() came while we were forking
        changed_.NotifyAll();
      }
      Status pid_written = WriteFileAtomically(paths_.pid_file, std::to_string(pid) + "\n");
      if (!pid_written.ok()) Log(pid_written.message());
      const auto started = SteadyClock::now();
      Log("started containerd (pid " + std::to_string(pid) + ") on " + paths_.socket);

      Readiness readiness = WaitUntilAnswering(pid, options_.start_timeout);
      if (readiness == Readiness::kAnswering) {
        MutexLock lock(mu_);
        answering_ = true;
        changed_.NotifyAll();
      }
      if (first) {
        std::string timeout = std::to_string(options_.start_timeout.count()) + " s";
        switch (readiness) {
          case Readiness::kAnswering:
            report_first(Status::Ok());
            break;
          case Readiness::kExited:
            report_first(UnavailableError("containerd exited at start; the end of " +
                                          paths_.log + ":\n" +
                                          TailOfFile(paths_.log, kLogTailBytes)));
            break;
          case Readiness::kTimedOut:
            report_first(UnavailableError("containerd did not answer on " + paths_.socket +
                                          " within " + timeout + "; the end of " + paths_.log +
                                          ":\n" + TailOfFile(paths_.log, kLogTailBytes)));
            break;
          case Readiness::kStopping:
            report_first(UnavailableError("stopped while containerd was starting"));
            break;
        }
        give_up = readiness != Readiness::kAnswering;  // Start() stops what is left
        first = false;
      } else if (readiness == Readiness::kAnswering) {
        Log("containerd (pid " + std::to_string(pid) + ") answers again");
      } else if (readiness == Readiness::kTimedOut) {
        Log("restarted containerd did not answer within " +
            std::to_string(options_.start_timeout.count()) + " s; killing it");
        ::kill(pid, SIGKILL);
      }

      // Wait for the child's end without reaping it, so pid_ is cleared (under mu_) before
      // the pid can be reused.
      siginfo_t info{};
      while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 &&
             errno == EINTR) {
      }
      {
        MutexLock lock(mu_);
        pid_ = -1;
        answering_ = false;
        changed_.NotifyAll();
      }
      int status;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      {
        MutexLock lock(mu_);
        if (stopping_) break;
      }
      if (give_up) break;
      if (SteadyClock::now() - started >= kHealthyRun) backoff = kFirstBackoff;
      Log("containerd (pid " + std::to_string(pid) + ") died with " + DescribeWaitStatus(info) +
          "; restarting in " + std::to_string(backoff.count()) + " s");
    }

    MutexLock lock(mu_);
    auto deadline = SteadyClock::now() + backoff;
    while (!stopping_ && SteadyClock::now() < deadline) {
      changed_.WaitFor(mu_, deadline - SteadyClock::now());
    }
    if (stopping_) break;
    ++restarts_;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  MutexLock lock(mu_);
  supervisor_done_ = true;
  changed_.NotifyAll();
}

void ContainerdProcess::Stop() {
  MutexLock stop_lock(stop_mu_);
  if (!supervisor_.joinable()) return;
  pid_t killed = -1;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    changed_.NotifyAll();
    auto deadline = SteadyClock::now() + kStopGrace;
    while (!supervisor_done_ && SteadyClock::now() < deadline) {
      changed_.WaitFor(mu_, deadline - SteadyClock::now());
    }
    if (!supervisor_done_ && pid_ > 0) {
      killed = pid_;
      ::kill(pid_, SIGKILL);
    }
  }
  if (killed > 0) {
    Log("containerd (pid " + std::to_string(killed) + ") did not stop within " +
        std::to_string(kStopGrace.count()) + " s; killed it");
  }
  supervisor_.join();
  ::unlink(paths_.pid_file.c_str());
  Log("containerd stopped");
}

Status ContainerdProcess::EnsurePauseImage() {
  if (options_.pause_image != kPauseImageRef) {
    Log("sandbox image " + options_.pause_image + " is not the embedded " +
        std::string(kPauseImageRef) + "; not importing it");
    return Status::Ok();
  }
  ImportOptions import;
  import.ctr_binary = options_.ctr_binary;
  Result<std::vector<std::string>> images = ListImages(paths_.socket, import);
  if (!images.ok()) return images.status();
  if (std::find(images->begin(), images->end(), options_.pause_image) != images->end()) {
    return Status::Ok();
  }
  std::string_view tar = PauseImageTarball();
  if (tar.empty()) return InternalError("the kite binary was built without its pause image");
  KITE_RETURN_IF_ERROR(ImportImageBytes(paths_.socket, tar, import));
  Log("imported the embedded sandbox image " + options_.pause_image);
  return Status::Ok();
}

int ContainerdProcess::restarts() const {
  MutexLock lock(mu_);
  return restarts_;
}

bool ContainerdProcess::running() const {
  MutexLock lock(mu_);
  return pid_ > 0 && answering_;
}

pid_t ContainerdProcess::pid() const {
  MutexLock lock(mu_);
  return pid_;
}

}  // namespace kite::containerd
