// AirGapImages: k3s's air-gap image folder. Every *.tar, *.tar.gz and *.tgz in a folder
// (<data-dir>/agent/images) is imported into containerd's k8s.io namespace once, at start
// and whenever a file appears or changes.
//
// Operation: a background thread scans the folder right away and then every poll interval.
// A file is identified by (name, size, mtime); one that was modified in the last
// kSettleTime is skipped until it settles, so a file still being copied in is not imported
// half-written (dropping files in with a rename avoids the wait). What was imported is
// remembered in <folder>/.imported, so a restarted agent does not import it again. A failed
// import is logged and not retried until the file changes or the agent restarts; the scan
// goes on with the other files. Hidden files (".name") are ignored.
//
// Concurrency: thread-safe; scans never overlap. Stop() cancels a running import (the ctr
// process is killed).
// Limitations: files are imported one at a time; a very large folder delays later files.
// Removing a file does not remove its image.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "src/base/mutex.h"
#include "src/base/status.h"

namespace kite::containerd {

struct AirGapOptions {
  std::string socket;      // containerd's socket
  std::string images_dir;  // created when missing
  std::string ctr_binary = "ctr";
  std::chrono::milliseconds poll_interval{std::chrono::seconds(3)};
  // One line per import and failure; stderr ("kite: images: ...") when empty.
  std::function<void(const std::string&)> log;
};

class AirGapImages {
 public:
  // Files modified more recently than this are left for a later scan.
  static constexpr std::chrono::milliseconds kSettleTime{std::chrono::seconds(2)};

  // Reads <images_dir>/.imported; starts nothing.
  explicit AirGapImages(AirGapOptions options);
  AirGapImages(const AirGapImages&) = delete;
  AirGapImages& operator=(const AirGapImages&) = delete;
  ~AirGapImages();  // Stop()

  // Starts the background scans. Idempotent.
  void Start() EXCLUDES(mu_);
  // Stops them, cancelling an import in progress. Idempotent.
  void Stop() EXCLUDES(mu_);

  // One scan now, on the caller's thread: returns how many files were imported. Errors
  // only when the folder cannot be created or read (kIoError); failed imports are logged.
  Result<int> ScanOnce() EXCLUDES(scan_mu_);

  // How many files have been imported since construction (tests wait for it).
  int imported_count() const { return imported_count_.load(); }

 private:
  struct FileKey {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileKey&) const = default;
  };

  void Log(const std::string& line) const;
  void Loop() EXCLUDES(mu_);
  void LoadRecord() REQUIRES(scan_mu_);
  Status SaveRecord() REQUIRES(scan_mu_);

  const AirGapOptions options_;
  const std::string record_path_;  // <images_dir>/.imported

  Mutex scan_mu_;  // one scan at a time
  std::map<std::string, FileKey> imported_ GUARDED_BY(scan_mu_);  // by file name
  std::map<std::string, FileKey> failed_ GUARDED_BY(scan_mu_);    // not persisted

  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};
  std::atomic<int> imported_count_{0};
  std::thread thread_;  // touched only by Start/Stop under start_stop_mu_
  Mutex start_stop_mu_;
};

}  // namespace kite::containerd
