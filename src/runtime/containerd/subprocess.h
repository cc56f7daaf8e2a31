// Running a short-lived helper program (ctr) to completion: arguments, bytes on its stdin,
// its combined output, a deadline and a cancel flag.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "src/base/status.h"

namespace kite::containerd {

struct CommandResult {
  int exit_code = 0;    // the program's exit status; 128 + N when killed by signal N
  std::string output;   // stdout and stderr interleaved; the last max_output bytes
};

// Produces the program's stdin a chunk at a time: fills `buffer` (up to `capacity` bytes)
// and returns how many it wrote, 0 at the end, or an error that aborts the run.
using StdinSource = std::function<Result<size_t>(char* buffer, size_t capacity)>;

struct CommandOptions {
  StdinSource stdin_source;  // empty: stdin is /dev/null
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  const std::atomic<bool>* cancel = nullptr;  // when it turns true the program is killed
  size_t max_output = 16 * 1024;
};

// Runs argv[0] (looked up in PATH when it has no '/') with argv, the caller's environment,
// no inherited file descriptors beyond 0-2, default signal handling, and waits for it.
// A non-zero exit is not an error here: it is in the result. Errors: kInvalidArgument for
// an empty argv; kNotFound when the program cannot be started; kUnavailable when the
// deadline passes or `cancel` is set (the program is killed); kIoError for pipe failures
// or a failing stdin source (the program is killed). Writing to a program that exits early
// never raises SIGPIPE. Thread-safe (it only reaps its own child).
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options = {});

// The last `max_bytes` of a file (whole lines where possible), "" when unreadable: for
// error messages that quote a log.
std::string TailOfFile(const std::string& path, size_t max_bytes);

}  // namespace kite::containerd
