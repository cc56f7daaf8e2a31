#include "src/cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace kite::cli {
namespace {

std::string Where(const std::string& path, const YAML::Mark& mark) {
  // yaml-cpp counts lines from 0; editors count from 1.
  return path + ":" + std::to_string(mark.line + 1);
}

}  // namespace

Result<ConfigFile> ParseConfigFile(const std::string& text, const std::string& path) {
  ConfigFile file;
  file.path = path;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // e.what() reads "yaml-cpp: error at line 2, column 7: illegal map value".
    return InvalidArgumentError("config file " + path + " is not valid YAML: " + e.what());
  }
  if (root.IsNull()) return file;  // empty, or only comments
  if (!root.IsMap()) {
    return InvalidArgumentError("config file " + path +
                                " must be a mapping of flag names to values, such as "
                                "\"data-dir: /srv/kite\"");
  }
  std::set<std::string> seen;
  for (const auto& item : root) {
    const YAML::Node& key = item.first;
    const YAML::Node& value = item.second;
    if (!key.IsScalar()) {
      return InvalidArgumentError(Where(path, key.Mark()) + ": a key must be a flag name");
    }
    std::string name = key.Scalar();
    if (!seen.insert(name).second) {
      return InvalidArgumentError(Where(path, key.Mark()) + ": key \"" + name +
                                  "\" appears more than once");
    }
    if (!value.IsScalar()) {
      const char* what = value.IsNull() ? "has no value" : "must have a single value";
      return InvalidArgumentError(Where(path, key.Mark()) + ": key \"" + name + "\" " + what);
    }
    file.entries.push_back({name, value.Scalar(), key.Mark().line + 1});
  }
  return file;
}

}  // namespace kite::cli
