// The process exit statuses every kite command uses, so scripts and tests can rely on them.
#pragma once

namespace kite::cli {

struct ExitCode {
  static constexpr int kOk = 0;
  // The command ran and failed (the store would not open, a node could not join, ...).
  static constexpr int kFailure = 1;
  // The command line or config file is wrong: unknown command or flag, missing or bad
  // value, missing required flag. Nothing was started.
  static constexpr int kUsage = 2;
  // A program kite runs (kubectl) exists but could not be executed.
  static constexpr int kCannotExecute = 126;
  // A program kite runs (kubectl) is not on the PATH.
  static constexpr int kNotFound = 127;
};

}  // namespace kite::cli
