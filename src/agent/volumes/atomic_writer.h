// AtomicWriter: projects a set of files into a directory so that a reader never sees a
// half-updated set — how the kubelet writes configMap, secret, downwardAPI and projected
// volumes (pkg/volume/util/atomic_writer.go), which lets their contents change in place
// while containers run.
//
// Layout of the target directory:
//   ..2024_05_01_10_00_00.123456789/   the data (a fresh timestamped directory per version)
//   ..data -> ..2024_05_01_...         swapped atomically (rename of a new symlink)
//   <name> -> ..data/<name>            one symlink per top-level path of the payload
// Write compares the payload with the current version (contents and modes) and does nothing
// when they are equal; otherwise it writes a new timestamped directory, creates symlinks for
// new top-level names, swaps ..data, removes symlinks of names gone, then the old version.
//
// Paths: relative, no ".." element, not starting with "..", names ≤ 255 and paths ≤ 4096
// characters (kInvalidArgument with the kubelet's wording otherwise).
// Errors: kIoError naming the file when the file system refuses.
// Thread-safety: none; one writer per directory at a time (the caller serializes per pod).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "src/base/status.h"

namespace kite::agent::volumes {

struct FileProjection {
  std::string data;
  int mode = 0644;
};

// Path (relative to the target directory) → contents.
using Payload = std::map<std::string, FileProjection>;

class AtomicWriter {
 public:
  // `target_dir` must exist. With `gid`, written files and directories get that group
  // (the pod's fsGroup) and group read access.
  explicit AtomicWriter(std::string target_dir, std::optional<gid_t> gid = std::nullopt)
      : target_dir_(std::move(target_dir)), gid_(gid) {}

  // Returns whether anything changed on disk.
  Result<bool> Write(const Payload& payload);

 private:
  std::string target_dir_;
  std::optional<gid_t> gid_;
};

// The kubelet's validatePath for one payload path.
Status ValidatePayloadPath(const std::string& path);

}  // namespace kite::agent::volumes
