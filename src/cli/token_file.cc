#include "src/cli/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "src/cli/host_facts.h"

namespace kite::cli {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string Trim(const std::string& s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && IsSpace(s[begin])) ++begin;
  while (end > begin && IsSpace(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write " + path + ": " + ErrnoText());
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Writes via a temporary file and rename, so a crash leaves the old file or the new one,
// never a truncated token.
Status WriteTokenFile(const std::string& path, const std::string& token) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + tmp + ": " + ErrnoText());
  Status status = Status::Ok();
  // The umask cannot loosen 0600, but a stale temporary file may have another mode.
  if (fchmod(fd, 0600) != 0) status = IoError("cannot chmod " + tmp + ": " + ErrnoText());
  if (status.ok()) status = WriteAll(fd, token + "\n", tmp);
  if (status.ok() && fsync(fd) != 0) status = IoError("cannot sync " + tmp + ": " + ErrnoText());
  if (close(fd) != 0 && status.ok()) status = IoError("cannot close " + tmp + ": " + ErrnoText());
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = IoError("cannot rename " + tmp + " to " + path + ": " + ErrnoText());
  }
  if (!status.ok()) (void)unlink(tmp.c_str());
  return status;
}

}  // namespace

Result<std::string> GenerateToken() {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open /dev/urandom: " + ErrnoText());
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = read(fd, bytes + got, sizeof(bytes) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return IoError("cannot read /dev/urandom");
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  return token;
}

Result<std::string> EnsureTokenFile(const std::string& path, const std::string& given) {
  if (!given.empty()) {
    KITE_RETURN_IF_ERROR(WriteTokenFile(path, given));
    return given;
  }
  Result<std::optional<std::string>> existing = ReadFileIfExists(path);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    std::string token = Trim(**existing);
    if (token.empty()) {
      return InvalidArgumentError("token file " + path +
                                  " is empty; delete it or pass --token");
    }
    for (char c : token) {
      if (IsSpace(c)) {
        return InvalidArgumentError("token file " + path +
                                    " holds more than one word; delete it or pass --token");
      }
    }
    if (chmod(path.c_str(), 0600) != 0) {
      return IoError("cannot chmod " + path + ": " + ErrnoText());
    }
    return token;
  }
  Result<std::string> token = GenerateToken();
  if (!token.ok()) return token.status();
  KITE_RETURN_IF_ERROR(WriteTokenFile(path, *token));
  return token;
}

}  // namespace kite::cli
