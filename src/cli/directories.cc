#include "src/cli/directories.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace kite::cli {

Status MakeDirectories(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgumentError("empty directory path");
  // Walk the components from the root so each parent exists before its child.
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (mkdir(prefix.c_str(), mode) == 0) continue;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    if (err == EEXIST) return IoError("cannot create directory " + path + ": " + prefix +
                                      " exists and is not a directory");
    return IoError("cannot create directory " + prefix + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace kite::cli
