#include "src/cli/defaults.h"

#include <filesystem>

namespace kite::cli {

std::string DefaultDataDir(const HostFacts& facts) {
  if (facts.is_root()) return kRootDataDir;
  if (facts.home.empty()) return "";
  return AbsolutePath(facts, facts.home + "/.local/share/kite");
}

std::string DefaultKubeconfigPath(const HostFacts& facts, const std::string& data_dir) {
  if (facts.is_root()) return kRootKubeconfig;
  return data_dir + "/kite.yaml";
}

std::string DefaultDatastoreEndpoint(const std::string& data_dir) {
  return "sqlite://" + data_dir + "/server/db/state.db";
}

std::string DefaultNodeName(const HostFacts& facts) {
  std::string name = facts.hostname;
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return name;
}

std::string ServerStateDir(const std::string& data_dir) { return data_dir + "/server"; }

std::string TokenFilePath(const std::string& data_dir) {
  return ServerStateDir(data_dir) + "/token";
}

std::string AbsolutePath(const HostFacts& facts, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(facts.cwd.empty() ? "/" : facts.cwd) / p;
  std::string normal = p.lexically_normal().string();
  // lexically_normal keeps a trailing separator ("/a/b/"); drop it except for "/".
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

}  // namespace kite::cli
