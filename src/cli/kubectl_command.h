// `kite kubectl ARGS...`: the machine's own kubectl, pointed at this machine's server.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/cli/host_facts.h"

namespace kite::cli {

// The KUBECONFIG to give kubectl: nullopt when the user already set one (`env_kubeconfig`
// non-null and non-empty), else the kubeconfig path `kite server` writes by default for
// this user (DefaultKubeconfigPath with the default data dir; nullopt if a non-root user
// has no HOME). Pure.
std::optional<std::string> KubeconfigForKubectl(const HostFacts& facts,
                                                const char* env_kubeconfig);

// Replaces this process with `kubectl args...` (found on the PATH), with KUBECONFIG set as
// KubeconfigForKubectl says. `args` are passed through untouched, --help included. Returns
// only on failure: ExitCode::kNotFound when kubectl is not on the PATH, else
// ExitCode::kCannotExecute, after saying why on stderr.
int RunKubectl(const std::vector<std::string>& args);

}  // namespace kite::cli
