// `kite server`: the process that runs the control plane.
#pragma once

#include <string>
#include <vector>

namespace kite::cli {

// Runs `kite server` with `args` (the words after "server") and returns the process exit
// status (exit_code.h). Resolves the settings (printing them to stderr), creates the data
// directory, ensures the token file, opens the store, then runs until SIGINT or SIGTERM,
// closes the store and returns ExitCode::kOk.
//
// At this stage the API server, controllers and agent are not built: the command proves
// the settings and the store, and waits. Must be called before any other thread starts,
// since it blocks SIGINT and SIGTERM for the whole process (threads it starts inherit the
// mask, so the signals reach only its sigwait).
int RunServer(const std::vector<std::string>& args);

}  // namespace kite::cli
