// Whole-file reads and crash-safe whole-file writes for key material and kubeconfigs.
//
// Thread-safety: functions are safe to call concurrently; two concurrent writers of the
// same path each leave a complete file, and the last rename wins.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::pki {

// Replaces `path` with `content`, or leaves it as it was: writes a temporary file in the
// same directory with mode `mode` (not subject to the umask), fsyncs it, renames it over
// `path`, then fsyncs the directory. The directory must exist. kIoError naming the path
// on failure; the temporary file is removed.
Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode);

// The whole content of `path`. kNotFound if it does not exist, kIoError if it cannot be
// read, kInvalidArgument if it is larger than `max_bytes` (these files are small; a huge
// one is not ours).
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes = 1 << 20);

}  // namespace kite::pki
