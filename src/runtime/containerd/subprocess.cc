#include "src/runtime/containerd/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace kite::containerd {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void Set(int fd) {
    Reset();
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The last `max_bytes` of the file open at `fd`.
std::string ReadTail(int fd, size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) return "";
  size_t size = static_cast<size_t>(st.st_size);
  size_t take = std::min(size, max_bytes);
  std::string out(take, '\0');
  ssize_t n = ::pread(fd, out.data(), take, static_cast<off_t>(size - take));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options) {
  if (argv.empty()) return InvalidArgumentError("RunCommand: empty argv");
  Fd output(::memfd_create("kite-command-output", MFD_CLOEXEC));
  if (output.get() < 0) return IoError(std::string("memfd_create: ") + std::strerror(errno));
  // A socket rather than a pipe for stdin: send(MSG_NOSIGNAL) cannot raise SIGPIPE when the
  // program exits before reading everything.
  Fd stdin_ours, stdin_theirs;
  if (options.stdin_source) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return IoError(std::string("socketpair: ") + std::strerror(errno));
    }
    stdin_ours.Set(sv[0]);
    stdin_theirs.Set(sv[1]);
    ::shutdown(sv[0], SHUT_RD);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_source) {
    posix_spawn_file_actions_adddup2(&actions, stdin_theirs.get(), 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, output.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, output.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int err = ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return NotFoundError("cannot run " + argv[0] + ": " + std::strerror(err));
  stdin_theirs.Reset();

  const Clock::time_point deadline = Clock::now() + options.timeout;
  auto expired = [&] {
    return Clock::now() >= deadline || (options.cancel && options.cancel->load());
  };
  bool reaped = false;
  int wait_status = 0;

  if (options.stdin_source) {
    ::fcntl(stdin_ours.get(), F_SETFL, ::fcntl(stdin_ours.get(), F_GETFL) | O_NONBLOCK);
    std::vector<char> buffer(64 * 1024);
    bool program_closed = false;
    while (!program_closed) {
      Result<size_t> chunk = options.stdin_source(buffer.data(), buffer.size());
      if (!chunk.ok()) {
        KillAndReap(pid);
        return IoError("feeding " + argv[0] + ": " + chunk.status().message());
      }
      if (*chunk == 0) break;
      size_t done = 0;
      while (done < *chunk && !program_closed) {
        if (expired()) {
          KillAndReap(pid);
          return UnavailableError(argv[0] + " did not finish in time or was cancelled");
        }
        ssize_t n = ::send(stdin_ours.get(), buffer.data() + done, *chunk - done, MSG_NOSIGNAL);
        if (n > 0) {
          done += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          pollfd p{stdin_ours.get(), POLLOUT, 0};
          ::poll(&p, 1, 100);
          // A program that exits without reading its input must not hang the feed.
          if (!reaped && ::waitpid(pid, &wait_status, WNOHANG) == pid) reaped = true;
          if (reaped) program_closed = true;
        } else {
          program_closed = true;  // EPIPE / ECONNRESET: it stopped reading
        }
      }
    }
    stdin_ours.Reset();  // end of input
  }

  while (!reaped) {
    pid_t r = ::waitpid(pid, &wait_status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return IoError(std::string("waitpid: ") + std::strerror(errno));
    if (expired()) {
      KillAndReap(pid);
      return UnavailableError(argv[0] + " did not finish in time or was cancelled: " +
                              ReadTail(output.get(), options.max_output));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CommandResult result;
  result.exit_code = ExitCodeOf(wait_status);
  result.output = ReadTail(output.get(), options.max_output);
  return result;
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return "";
  std::string out = ReadTail(fd.get(), max_bytes);
  // Cut to whole lines when the tail starts mid-line.
  size_t newline = out.find('\n');
  if (out.size() == max_bytes && newline != std::string::npos && newline + 1 < out.size()) {
    out.erase(0, newline + 1);
  }
  return out;
}

}  // namespace kite::containerd
