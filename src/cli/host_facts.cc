#include "src/cli/host_facts.h"

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace kite::cli {

HostFacts ReadHostFacts() {
  HostFacts facts;
  facts.euid = geteuid();
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    facts.home = home;
  } else {
    // Services started by systemd or cron may have no HOME; fall back to the passwd entry.
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(facts.euid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_dir != nullptr) {
      facts.home = found->pw_dir;
    }
  }
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) facts.hostname = host;
  char cwd[PATH_MAX] = {};
  if (getcwd(cwd, sizeof(cwd)) != nullptr) facts.cwd = cwd;
  return facts;
}

Result<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;  // EISDIR for a directory
      close(fd);
      return IoError("cannot read " + path + ": " + std::strerror(err));
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return std::optional<std::string>(std::move(text));
}

}  // namespace kite::cli
