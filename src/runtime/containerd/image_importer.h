// Importing image tarballs (docker-archive or OCI layout, optionally gzip-compressed) into
// containerd's k8s.io namespace — where the CRI plugin looks — with containerd's own
// client, ctr. Images are unpacked into the CRI plugin's snapshotter (kSnapshotter) so the
// first container start does not pay for it.
//
// Thread-safe: each call runs its own ctr process. No limit on tarball size; a slow import
// is bounded by ImportOptions::timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::containerd {

struct ImportOptions {
  std::string ctr_binary = "ctr";
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  const std::atomic<bool>* cancel = nullptr;  // set: the running ctr is killed
};

// Imports the tarball at `path`; names ending in ".gz" (.tar.gz, .tgz) are decompressed on
// the way in. Errors: kNotFound when the file or ctr is missing; kInternal when ctr fails
// (the message quotes its output); kUnavailable on timeout or cancel; kIoError when the file
// cannot be read or decompressed.
Status ImportImage(const std::string& socket, const std::string& path,
                   const ImportOptions& options = {});

// Imports a tarball held in memory (not compressed). Errors as ImportImage.
Status ImportImageBytes(const std::string& socket, std::string_view tar,
                        const ImportOptions& options = {});

// The image references containerd knows in the k8s.io namespace (names and digests, as
// `ctr images ls -q` prints them). kInternal when ctr fails.
Result<std::vector<std::string>> ListImages(const std::string& socket,
                                            const ImportOptions& options = {});

}  // namespace kite::containerd
