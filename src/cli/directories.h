// Creating the directories kite keeps its state in.
#pragma once

#include <sys/types.h>

#include <string>

#include "src/base/status.h"

namespace kite::cli {

// Creates `path` and any missing parents (like mkdir -p), giving the ones it creates
// `mode` (less the umask). Directories that already exist keep their mode. Fails with
// kIoError naming the path, also when a component exists but is not a directory.
Status MakeDirectories(const std::string& path, mode_t mode);

}  // namespace kite::cli
