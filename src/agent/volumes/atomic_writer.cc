#include "src/agent/volumes/atomic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

namespace kite::agent::volumes {
namespace {

namespace fs = std::filesystem;

constexpr char kDataDir[] = "..data";
constexpr char kNewDataDir[] = "..data_tmp";
constexpr size_t kMaxFileNameLength = 255;
constexpr size_t kMaxPathLength = 4096;

Status Errno(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// filepath.Clean for a relative path: no empty or "." elements.
std::string Clean(const std::string& path) {
  std::string out;
  for (const std::string& part : Split(path)) {
    if (part.empty() || part == ".") continue;
    if (!out.empty()) out += "/";
    out += part;
  }
  return out;
}

std::string TopLevel(const std::string& path) { return path.substr(0, path.find('/')); }

// Reads a whole file without following a final symlink; nullopt when absent or unreadable.
std::optional<std::string> ReadFile(const std::string& path, int& mode) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return std::nullopt;
  }
  mode = static_cast<int>(st.st_mode & 07777);
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  if (n < 0) return std::nullopt;
  return out;
}

Status WriteFile(const std::string& path, const FileProjection& file, std::optional<gid_t> gid) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", path);
  size_t done = 0;
  while (done < file.data.size()) {
    ssize_t n = write(fd, file.data.data() + done, file.data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("cannot write", path);
      close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  int mode = file.mode & 07777;
  if (gid) {
    if (fchown(fd, static_cast<uid_t>(-1), *gid) != 0) {
      Status s = Errno("cannot chown", path);
      close(fd);
      return s;
    }
    mode |= 0040;
  }
  // The mode exactly as asked, whatever the umask.
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    Status s = Errno("cannot chmod", path);
    close(fd);
    return s;
  }
  if (close(fd) != 0) return Errno("cannot write", path);
  return Status();
}

Status MakeDirs(const std::string& root, const std::string& relative, std::optional<gid_t> gid) {
  std::string path = root;
  for (const std::string& part : Split(relative)) {
    path += "/" + part;
    if (mkdir(path.c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;
      return Errno("cannot create directory", path);
    }
    chmod(path.c_str(), 0755);
    if (gid && chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) return Errno("cannot chown", path);
  }
  return Status();
}

// "..2024_05_01_10_00_00." as Go formats "..2006_01_02_15_04_05." in UTC.
std::string TimestampPrefix() {
  time_t now = time(nullptr);
  struct tm tm_utc;
  gmtime_r(&now, &tm_utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "..%Y_%m_%d_%H_%M_%S.", &tm_utc);
  return buf;
}

}  // namespace

Status ValidatePayloadPath(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("invalid path: must not be empty: \"\"");
  if (path.front() == '/') return InvalidArgumentError("invalid path: must be relative path: " + path);
  if (path.size() > kMaxPathLength) {
    return InvalidArgumentError("invalid path: must be less than or equal to " +
                                std::to_string(kMaxPathLength) + " characters");
  }
  std::vector<std::string> items = Split(path);
  for (const std::string& item : items) {
    if (item == "..") return InvalidArgumentError("invalid path: must not contain '..': " + path);
    if (item.size() > kMaxFileNameLength) {
      return InvalidArgumentError("invalid path: filenames must be less than or equal to " +
                                  std::to_string(kMaxFileNameLength) + " characters");
    }
  }
  if (items[0].size() > 2 && items[0].compare(0, 2, "..") == 0) {
    return InvalidArgumentError("invalid path: must not start with '..': " + path);
  }
  return Status();
}

Result<bool> AtomicWriter::Write(const Payload& payload) {
  Payload clean;
  for (const auto& [path, file] : payload) {
    KITE_RETURN_IF_ERROR(ValidatePayloadPath(path));
    std::string cleaned = Clean(path);
    if (cleaned.empty()) return InvalidArgumentError("invalid path: must not be empty: \"" + path + "\"");
    clean[cleaned] = file;
  }

  const std::string data_link = target_dir_ + "/" + kDataDir;
  std::string old_ts;
  {
    char buf[4096];
    ssize_t n = readlink(data_link.c_str(), buf, sizeof(buf) - 1);
    if (n > 0) {
      old_ts.assign(buf, static_cast<size_t>(n));
    } else if (errno != ENOENT && errno != EINVAL) {
      return Errno("cannot read link", data_link);
    }
  }
  // A link pointing anywhere but a timestamped directory here is not ours to follow.
  if (!old_ts.empty() && (old_ts.find('/') != std::string::npos || old_ts.compare(0, 2, "..") != 0)) {
    old_ts.clear();
  }

  std::set<std::string> to_remove;
  if (!old_ts.empty()) {
    const fs::path old_dir = fs::path(target_dir_) / old_ts;
    std::set<std::string> wanted;  // every path of the payload and its parents
    for (const auto& [path, file] : clean) {
      for (std::string p = path; !p.empty();) {
        wanted.insert(p);
        size_t slash = p.rfind('/');
        p = slash == std::string::npos ? "" : p.substr(0, slash);
      }
    }
    std::error_code ec;
    for (fs::recursive_directory_iterator it(old_dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string relative = it->path().lexically_relative(old_dir).string();
      if (!wanted.count(relative)) to_remove.insert(relative);
    }
    bool changed = false;
    for (const auto& [path, file] : clean) {
      int mode = 0;
      std::optional<std::string> current = ReadFile((old_dir / path).string(), mode);
      int want = file.mode & 07777;
      if (gid_) want |= 0040;
      if (!current || *current != file.data || mode != want) {
        changed = true;
        break;
      }
    }
    if (!changed && to_remove.empty()) return false;
  }

  std::string ts_template = target_dir_ + "/" + TimestampPrefix() + "XXXXXX";
  if (!mkdtemp(ts_template.data())) return Errno("cannot create directory in", target_dir_);
  const std::string ts_dir = ts_template;
  const std::string ts_name = fs::path(ts_dir).filename().string();
  auto discard = [&ts_dir] {
    std::error_code ec;
    fs::remove_all(ts_dir, ec);
  };
  chmod(ts_dir.c_str(), 0755);
  if (gid_ && chown(ts_dir.c_str(), static_cast<uid_t>(-1), *gid_) != 0) {
    Status s = Errno("cannot chown", ts_dir);
    discard();
    return s;
  }
  for (const auto& [path, file] : clean) {
    size_t slash = path.rfind('/');
    Status s;
    if (slash != std::string::npos) s = MakeDirs(ts_dir, path.substr(0, slash), gid_);
    if (s.ok()) s = WriteFile(ts_dir + "/" + path, file, gid_);
    if (!s.ok()) {
      discard();
      return s;
    }
  }

  // User-visible names: one symlink per top-level element, into ..data.
  for (const auto& [path, file] : clean) {
    std::string top = TopLevel(path);
    std::string visible = target_dir_ + "/" + top;
    struct stat st;
    if (lstat(visible.c_str(), &st) == 0) continue;
    if (symlink((std::string(kDataDir) + "/" + top).c_str(), visible.c_str()) != 0) {
      Status s = Errno("cannot create symlink", visible);
      discard();
      return s;
    }
  }

  const std::string new_link = target_dir_ + "/" + kNewDataDir;
  unlink(new_link.c_str());
  if (symlink(ts_name.c_str(), new_link.c_str()) != 0) {
    Status s = Errno("cannot create symlink", new_link);
    discard();
    return s;
  }
  if (rename(new_link.c_str(), data_link.c_str()) != 0) {
    Status s = Errno("cannot rename to", data_link);
    unlink(new_link.c_str());
    discard();
    return s;
  }

  // Only top-level names are links of ours; deeper paths went with the old version.
  for (const std::string& path : to_remove) {
    if (path.find('/') != std::string::npos) continue;
    std::string visible = target_dir_ + "/" + path;
    if (unlink(visible.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", visible);
  }
  if (!old_ts.empty()) {
    std::error_code ec;
    fs::remove_all(fs::path(target_dir_) / old_ts, ec);
    if (ec) return IoError("cannot remove " + target_dir_ + "/" + old_ts + ": " + ec.message());
  }
  return true;
}

}  // namespace kite::agent::volumes
