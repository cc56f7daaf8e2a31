// Kite's default settings, chosen as k3s chooses its own, and the paths derived from them.
// Pure functions of their arguments.
#pragma once

#include <string>

#include "src/cli/host_facts.h"

namespace kite::cli {

inline constexpr char kDefaultConfigFile[] = "/etc/kite/config.yaml";
inline constexpr char kRootDataDir[] = "/var/lib/kite";
inline constexpr char kRootKubeconfig[] = "/etc/kite/kite.yaml";
inline constexpr char kDefaultHttpsPort[] = "6443";
inline constexpr char kDefaultBindAddress[] = "0.0.0.0";
inline constexpr char kDefaultKubeconfigMode[] = "0600";
inline constexpr char kDefaultClusterCidr[] = "10.42.0.0/16";
inline constexpr char kDefaultServiceCidr[] = "10.43.0.0/16";

// /var/lib/kite for root, else $HOME/.local/share/kite; "" when not root and HOME is
// unknown (the user must then pass --data-dir).
std::string DefaultDataDir(const HostFacts& facts);

// /etc/kite/kite.yaml for root, else <data_dir>/kite.yaml.
std::string DefaultKubeconfigPath(const HostFacts& facts, const std::string& data_dir);

// sqlite://<data_dir>/server/db/state.db; `data_dir` is absolute, so this reads
// "sqlite:///var/lib/kite/server/db/state.db".
std::string DefaultDatastoreEndpoint(const std::string& data_dir);

// The host name in lower case, since node names must be lower case (as k3s does).
std::string DefaultNodeName(const HostFacts& facts);

// <data_dir>/server: the server's private state (token, database), mode 0700.
std::string ServerStateDir(const std::string& data_dir);

// <data_dir>/server/token: the join token, mode 0600.
std::string TokenFilePath(const std::string& data_dir);

// `path` made absolute against facts.cwd and lexically normalized ("a/./b/" -> "/cwd/a/b").
std::string AbsolutePath(const HostFacts& facts, const std::string& path);

}  // namespace kite::cli
