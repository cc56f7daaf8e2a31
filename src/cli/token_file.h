// The cluster's join token, kept in <data-dir>/server/token so that a restarted server
// keeps accepting the agents that joined before.
#pragma once

#include <string>

#include "src/base/status.h"

namespace kite::cli {

// Makes the token file at `path` hold the token in effect and returns that token:
// - `given` non-empty (from --token): writes it, replacing any old one;
// - else, if the file exists: reuses its token (surrounding whitespace ignored);
// - else: generates a new one with GenerateToken() and writes it.
// The file is written whole or not at all (a temporary file renamed into place), with
// mode 0600, and its mode is set to 0600 when reused. The parent directory must exist.
// Fails with kIoError naming the path, or kInvalidArgument if the existing file holds no
// usable token (empty, or whitespace inside).
Result<std::string> EnsureTokenFile(const std::string& path, const std::string& given);

// 32 bytes from /dev/urandom as 64 lower-case hex digits. kIoError if it cannot be read.
Result<std::string> GenerateToken();

}  // namespace kite::cli
