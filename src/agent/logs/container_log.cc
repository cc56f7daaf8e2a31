#include "src/agent/logs/container_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "src/agent/logs/cri_log_format.h"
#include "src/base/mutex.h"

namespace kite::agent::logs {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// The container's state is asked every this many file polls.
constexpr int kPollsPerStatusCheck = 5;

// Where the last `lines` lines of the file start, as the kubelet finds it: just after the
// (lines+1)-th '\n' from the end (a final '\n' ends the last line), or 0.
Result<off_t> TailStart(int fd, int64_t lines) {
  struct stat st;
  if (fstat(fd, &st) != 0) return IoError(std::string("fstat: ") + std::strerror(errno));
  off_t right = st.st_size;
  int64_t newlines = 0;
  char buf[8192];
  while (right > 0) {
    off_t left = std::max<off_t>(0, right - static_cast<off_t>(sizeof buf));
    size_t want = static_cast<size_t>(right - left);
    ssize_t n = pread(fd, buf, want, left);
    if (n < 0) return IoError(std::string("read: ") + std::strerror(errno));
    if (static_cast<size_t>(n) != want) return IoError("the log file shrank while read");
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (buf[i] != '\n') continue;
      if (++newlines == lines + 1) return left + i + 1;
    }
    right = left;
  }
  return off_t{0};
}

class ContainerLogStream final : public http::ResponseStream {
 public:
  ContainerLogStream(runtime::Runtime& runtime, std::string container_id, std::string path,
                     LogOptions options, std::optional<int64_t> since, int fd, off_t offset,
                     std::chrono::milliseconds poll_interval)
      : runtime_(runtime),
        container_id_(std::move(container_id)),
        path_(std::move(path)),
        options_(options),
        since_(since),
        poll_interval_(poll_interval),
        fd_(fd),
        offset_(offset),
        remaining_(options.limit_bytes.value_or(0)) {
    read_offset_ = offset;
    NoteOpenFile();
  }

  ~ContainerLogStream() override {
    StopWatcher();
    if (fd_ >= 0) close(fd_);
  }

  void Start(std::function<void()> wake) override {
    wake_ = std::move(wake);
    if (options_.follow) watcher_ = std::thread([this] { Watch(); });
  }

  bool Poll(std::string& out) override {
    if (done_) return false;
    // Whether the container had stopped before this read: then reaching the end of the
    // file means everything it wrote has been read.
    bool exited_before_read = exited_.load();
    if (fd_ < 0) Reopen();
    bool at_end = true;
    if (fd_ >= 0) {
      char buf[kReadChunk];
      ssize_t n = pread(fd_, buf, sizeof buf, offset_);
      if (n < 0) return false;  // an I/O error ends the stream; the client sees it cut
      if (n > 0) {
        at_end = false;
        offset_ += n;
        read_offset_ = offset_;
        pending_.append(buf, static_cast<size_t>(n));
        EmitCompleteLines(out);
        if (done_) return false;
      }
    }
    if (!at_end) {
      wake_();  // more may be there: come back (the server coalesces wakes)
      return true;
    }
    if (!options_.follow) {
      if (!pending_.empty()) EmitLine(pending_, out);  // a last line without its '\n'
      return false;
    }
    if (PathChanged()) {
      Reopen();
      wake_();
      return true;
    }
    return !exited_before_read;
  }

  void Cancel() override { StopWatcher(); }

 private:
  void EmitCompleteLines(std::string& out) {
    size_t start = 0;
    for (size_t nl = pending_.find('\n'); nl != std::string::npos && !done_;
         nl = pending_.find('\n', start)) {
      EmitLine(std::string_view(pending_).substr(start, nl - start), out);
      start = nl + 1;
    }
    pending_.erase(0, start);
  }

  void EmitLine(std::string_view line, std::string& out) {
    std::optional<CriLogEntry> entry = ParseCriLogLine(line);
    if (!entry) return;  // not a CRI entry: skipped, as the kubelet does
    if (since_ && entry->unix_nanos < *since_) return;
    size_t before = out.size();
    if (options_.timestamps && !previous_partial_) {
      out.append(entry->timestamp);
      out.push_back(' ');
    }
    out.append(entry->content);
    if (!entry->partial) out.push_back('\n');
    previous_partial_ = entry->partial;
    if (options_.limit_bytes) {
      int64_t added = static_cast<int64_t>(out.size() - before);
      if (added >= remaining_) {
        out.resize(before + static_cast<size_t>(remaining_));
        done_ = true;
      } else {
        remaining_ -= added;
      }
    }
  }

  // True when the path now names another file than the one open (or one appeared). Any
  // thread: it compares with the identity NoteOpenFile recorded.
  bool PathChanged() const {
    struct stat at_path;
    if (stat(path_.c_str(), &at_path) != 0) return false;
    return !has_open_file_ || static_cast<uint64_t>(at_path.st_dev) != open_dev_ ||
           static_cast<uint64_t>(at_path.st_ino) != open_ino_;
  }

  void NoteOpenFile() {
    struct stat st;
    if (fd_ >= 0 && fstat(fd_, &st) == 0) {
      open_dev_ = static_cast<uint64_t>(st.st_dev);
      open_ino_ = static_cast<uint64_t>(st.st_ino);
      has_open_file_ = true;
    }
  }

  void Reopen() {
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
    offset_ = 0;
    read_offset_ = 0;
    pending_.clear();  // an unfinished line of the old file stays unfinished
    NoteOpenFile();
  }

  // The follow helper: wakes the server when the file grows or is replaced, and once the
  // container has stopped (one poll later, so the runtime's last writes land first).
  void Watch() {
    int polls = 0;
    bool stop_seen = false;
    for (;;) {
      {
        MutexLock l(mu_);
        if (!stop_) stop_changed_.WaitFor(mu_, poll_interval_);
        if (stop_) return;
      }
      struct stat st;
      bool grew = stat(path_.c_str(), &st) == 0 && st.st_size > read_offset_.load();
      if (grew || PathChanged()) wake_();
      if (stop_seen) {
        exited_ = true;
        wake_();
        return;
      }
      if (++polls % kPollsPerStatusCheck != 0) continue;
      Result<runtime::Container> status = runtime_.ContainerStatus(container_id_);
      if (!status.ok() || status->state != runtime::ContainerState::kRunning) stop_seen = true;
    }
  }

  void StopWatcher() {
    {
      MutexLock l(mu_);
      stop_ = true;
    }
    stop_changed_.NotifyAll();
    if (watcher_.joinable()) watcher_.join();
  }

  runtime::Runtime& runtime_;
  const std::string container_id_;
  const std::string path_;
  const LogOptions options_;
  const std::optional<int64_t> since_;
  const std::chrono::milliseconds poll_interval_;
  std::function<void()> wake_;

  // Poll's (called on the server's strand, never concurrently).
  int fd_;
  off_t offset_;
  std::string pending_;  // bytes of a line whose '\n' has not been read yet
  bool previous_partial_ = false;
  int64_t remaining_;
  bool done_ = false;

  // Shared with the follow helper.
  std::atomic<off_t> read_offset_{0};
  std::atomic<bool> has_open_file_{false};
  std::atomic<uint64_t> open_dev_{0};
  std::atomic<uint64_t> open_ino_{0};
  std::atomic<bool> exited_{false};
  Mutex mu_;
  bool stop_ GUARDED_BY(mu_) = false;
  CondVar stop_changed_;
  std::thread watcher_;
};

}  // namespace

Result<std::unique_ptr<http::ResponseStream>> OpenContainerLog(
    runtime::Runtime& runtime, const std::string& pod_uid, const std::string& container_name,
    const LogOptions& options, std::chrono::milliseconds poll_interval) {
  Result<std::vector<runtime::Container>> all = runtime.ListContainers("");
  if (!all.ok()) return all.status();
  std::vector<runtime::Container> attempts;
  for (runtime::Container& c : *all) {
    auto uid = c.labels.find(runtime::kPodUidLabel);
    auto name = c.labels.find(runtime::kContainerNameLabel);
    if (uid != c.labels.end() && uid->second == pod_uid && name != c.labels.end() &&
        name->second == container_name) {
      attempts.push_back(std::move(c));
    }
  }
  std::sort(attempts.begin(), attempts.end(), [](const runtime::Container& a, const runtime::Container& b) {
    if (a.metadata.attempt != b.metadata.attempt) return a.metadata.attempt > b.metadata.attempt;
    return a.created_at > b.created_at;
  });
  std::string pod_name = pod_uid;
  if (!attempts.empty()) {
    auto it = attempts.front().labels.find(runtime::kPodNameLabel);
    if (it != attempts.front().labels.end() && !it->second.empty()) pod_name = it->second;
  }
  if (attempts.empty()) {
    return NotFoundError("container \"" + container_name + "\" in pod \"" + pod_name +
                         "\" is not available");
  }
  if (options.previous && attempts.size() < 2) {
    return InvalidArgumentError("previous terminated container \"" + container_name +
                                "\" in pod \"" + pod_name + "\" not found");
  }
  const runtime::Container& container = attempts[options.previous ? 1 : 0];
  if (container.log_path.empty()) {
    return NotFoundError("container \"" + container_name + "\" in pod \"" + pod_name +
                         "\" has no log file");
  }

  int fd = open(container.log_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) {
    return IoError("cannot open " + container.log_path + ": " + std::strerror(errno));
  }
  off_t offset = 0;
  if (fd >= 0 && options.tail_lines) {
    Result<off_t> start = TailStart(fd, *options.tail_lines);
    if (!start.ok()) {
      close(fd);
      return IoError(container.log_path + ": " + start.status().message());
    }
    offset = *start;
  }
  std::optional<int64_t> since = options.since_time;
  if (options.since_seconds) {
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    since = now - *options.since_seconds * 1'000'000'000;
  }
  return std::unique_ptr<http::ResponseStream>(new ContainerLogStream(
      runtime, container.id, container.log_path, options, since, fd, offset, poll_interval));
}

}  // namespace kite::agent::logs
