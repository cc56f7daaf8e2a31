#include "src/server/pki/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kite::pki {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write " + path + ": " + ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  // A unique temporary name, so concurrent writers and stale leftovers cannot collide.
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    return IoError("cannot create a temporary file for " + path + ": " + ErrnoText(errno));
  }
  Status status = Status::Ok();
  // mkostemp creates 0600; set the requested mode explicitly so the umask does not apply.
  if (fchmod(fd, mode) != 0) status = IoError("cannot chmod " + tmp + ": " + ErrnoText(errno));
  if (status.ok()) status = WriteAll(fd, content, tmp);
  if (status.ok() && fsync(fd) != 0) {
    status = IoError("cannot sync " + tmp + ": " + ErrnoText(errno));
  }
  if (close(fd) != 0 && status.ok()) {
    status = IoError("cannot close " + tmp + ": " + ErrnoText(errno));
  }
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = IoError("cannot rename " + tmp + " to " + path + ": " + ErrnoText(errno));
  }
  if (!status.ok()) {
    (void)unlink(tmp.c_str());
    return status;
  }
  // The rename is durable only once the directory entry is on disk.
  std::string dir = DirectoryOf(path);
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return IoError("cannot open directory " + dir + ": " + ErrnoText(errno));
  if (fsync(dir_fd) != 0) {
    status = IoError("cannot sync directory " + dir + ": " + ErrnoText(errno));
  }
  close(dir_fd);
  return status;
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError(path + " does not exist");
    return IoError("cannot open " + path + ": " + ErrnoText(err));
  }
  std::string content;
  char buf[8192];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return IoError("cannot read " + path + ": " + ErrnoText(err));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      close(fd);
      return InvalidArgumentError(path + " is larger than " + std::to_string(max_bytes) +
                                  " bytes");
    }
  }
  close(fd);
  return content;
}

}  // namespace kite::pki
