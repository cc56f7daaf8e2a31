// The facts about the machine and the user that kite's defaults depend on.
//
// Parsing takes a HostFacts value instead of asking the system, so tests can describe
// root and non-root users, missing HOME and odd host names without touching the machine.
// Only ReadHostFacts() and ReadFileIfExists() do I/O.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "src/base/status.h"

namespace kite::cli {

struct HostFacts {
  uid_t euid = 0;
  std::string home;      // $HOME, or the password database's entry; may be empty
  std::string hostname;  // as gethostname() returns it
  std::string cwd;       // to make relative paths given by the user absolute

  bool is_root() const { return euid == 0; }
};

// Facts of this process and machine.
HostFacts ReadHostFacts();

// Reads a whole file: its text, nullopt if it does not exist, or an error naming the path
// when it exists but cannot be read. Commands take one of these (a fake in tests).
using FileReader =
    std::function<Result<std::optional<std::string>>(const std::string& path)>;

// The FileReader backed by the file system.
Result<std::optional<std::string>> ReadFileIfExists(const std::string& path);

}  // namespace kite::cli
