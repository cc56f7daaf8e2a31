#include "src/runtime/containerd/air_gap_images.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "src/runtime/containerd/containerd_config.h"
#include "src/runtime/containerd/image_importer.h"

namespace kite::containerd {
namespace {

bool IsImageName(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.find('\n') != std::string::npos) return false;
  return name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz");
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AirGapImages::AirGapImages(AirGapOptions options)
    : options_(std::move(options)), record_path_(options_.images_dir + "/.imported") {
  MutexLock lock(scan_mu_);
  LoadRecord();
}

AirGapImages::~AirGapImages() { Stop(); }

void AirGapImages::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "kite: images: " + line + "\n";
  }
}

void AirGapImages::LoadRecord() {
  // One line per imported file: "<size> <mtime in ns> <name>". Malformed lines are skipped.
  std::ifstream in(record_path_);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(' ');
    size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b == std::string::npos || b + 1 >= line.size()) continue;
    FileKey key;
    auto r1 = std::from_chars(line.data(), line.data() + a, key.size);
    auto r2 = std::from_chars(line.data() + a + 1, line.data() + b, key.mtime_ns);
    if (r1.ec != std::errc() || r2.ec != std::errc()) continue;
    imported_[line.substr(b + 1)] = key;
  }
}

Status AirGapImages::SaveRecord() {
  std::string text;
  for (const auto& [name, key] : imported_) {
    text += std::to_string(key.size) + " " + std::to_string(key.mtime_ns) + " " + name + "\n";
  }
  return WriteFileAtomically(record_path_, text);
}

Result<int> AirGapImages::ScanOnce() {
  MutexLock lock(scan_mu_);
  std::error_code ec;
  std::filesystem::create_directories(options_.images_dir, ec);
  if (ec) return IoError("cannot create " + options_.images_dir + ": " + ec.message());

  struct Candidate {
    std::string name;
    FileKey key;
  };
  std::vector<Candidate> files;
  std::filesystem::directory_iterator it(options_.images_dir, ec);
  if (ec) return IoError("cannot read " + options_.images_dir + ": " + ec.message());
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!IsImageName(name)) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files.push_back({name, {static_cast<uint64_t>(st.st_size),
                            static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                                st.st_mtim.tv_nsec}});
  }
  if (ec) return IoError("cannot read " + options_.images_dir + ": " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const Candidate& a, const Candidate& b) { return a.name < b.name; });

  // Forget files that are gone, so one put back is imported again.
  bool record_changed = false;
  for (auto m = imported_.begin(); m != imported_.end();) {
    bool present = std::any_of(files.begin(), files.end(),
                               [&](const Candidate& c) { return c.name == m->first; });
    if (present) {
      ++m;
    } else {
      m = imported_.erase(m);
      record_changed = true;
    }
  }

  int imported = 0;
  const int64_t settled_before =
      NowNs() - std::chrono::duration_cast<std::chrono::nanoseconds>(kSettleTime).count();
  for (const Candidate& file : files) {
    if (cancel_.load()) break;
    auto done = imported_.find(file.name);
    if (done != imported_.end() && done->second == file.key) continue;
    auto failed = failed_.find(file.name);
    if (failed != failed_.end() && failed->second == file.key) continue;
    if (file.key.mtime_ns > settled_before) continue;  // maybe still being written

    ImportOptions import;
    import.ctr_binary = options_.ctr_binary;
    import.cancel = &cancel_;
    std::string path = options_.images_dir + "/" + file.name;
    auto started = std::chrono::steady_clock::now();
    Status status = ImportImage(options_.socket, path, import);
    if (!status.ok()) {
      if (cancel_.load()) break;  // not the file's fault; try again next time
      failed_[file.name] = file.key;
      Log("cannot import " + path + ": " + status.message());
      continue;
    }
    failed_.erase(file.name);
    imported_[file.name] = file.key;
    record_changed = true;
    ++imported;
    imported_count_.fetch_add(1);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    Log("imported " + path + " in " + std::to_string(ms) + " ms");
  }
  if (record_changed) {
    Status saved = SaveRecord();
    if (!saved.ok()) Log(saved.message());
  }
  return imported;
}

void AirGapImages::Start() {
  MutexLock lock(start_stop_mu_);
  if (thread_.joinable()) return;
  {
    MutexLock state(mu_);
    stopping_ = false;
  }
  cancel_.store(false);
  thread_ = std::thread([this] { Loop(); });
}

void AirGapImages::Stop() {
  MutexLock lock(start_stop_mu_);
  if (!thread_.joinable()) return;
  {
    MutexLock state(mu_);
    stopping_ = true;
    wake_.NotifyAll();
  }
  cancel_.store(true);
  thread_.join();
  cancel_.store(false);  // a later ScanOnce() runs normally
}

void AirGapImages::Loop() {
  for (;;) {
    Result<int> scanned = ScanOnce();
    if (!scanned.ok()) Log(scanned.status().message());
    MutexLock lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + options_.poll_interval;
    while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
      wake_.WaitFor(mu_, deadline - std::chrono::steady_clock::now());
    }
    if (stopping_) return;
  }
}

}  // namespace kite::containerd
