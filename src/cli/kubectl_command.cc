#include "src/cli/kubectl_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "src/cli/defaults.h"
#include "src/cli/exit_code.h"

namespace kite::cli {

std::optional<std::string> KubeconfigForKubectl(const HostFacts& facts,
                                                const char* env_kubeconfig) {
  if (env_kubeconfig != nullptr && env_kubeconfig[0] != '\0') return std::nullopt;
  std::string data_dir = DefaultDataDir(facts);
  // Without a HOME there is no default to point at; kubectl then says what it misses.
  if (!facts.is_root() && data_dir.empty()) return std::nullopt;
  return DefaultKubeconfigPath(facts, data_dir);
}

int RunKubectl(const std::vector<std::string>& args) {
  std::optional<std::string> kubeconfig =
      KubeconfigForKubectl(ReadHostFacts(), std::getenv("KUBECONFIG"));
  if (kubeconfig && setenv("KUBECONFIG", kubeconfig->c_str(), /*overwrite=*/1) != 0) {
    std::cerr << "kite: cannot set KUBECONFIG: " << std::strerror(errno) << "\n";
    return ExitCode::kCannotExecute;
  }
  std::vector<char*> argv;
  static char kKubectl[] = "kubectl";
  argv.push_back(kKubectl);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  execvp(kKubectl, argv.data());
  int err = errno;
  if (err == ENOENT) {
    std::cerr << "kite: kubectl not found on the PATH; install kubectl to use 'kite kubectl'\n";
    return ExitCode::kNotFound;
  }
  std::cerr << "kite: cannot run kubectl: " << std::strerror(err) << "\n";
  return ExitCode::kCannotExecute;
}

}  // namespace kite::cli
