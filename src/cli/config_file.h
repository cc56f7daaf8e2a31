// The YAML config file: flag values written down once instead of on every command line.
//
// The file is a mapping from flag names without the dashes to scalar values:
//
//   data-dir: /srv/kite
//   https-listen-port: 7443
//   disable-agent: true
//
// This module only reads the YAML; which keys and values are allowed is decided against
// the command's flag table by ResolveFlags (flag_parser.h), which names the file and the
// line in its errors. Pure: the caller reads the file and passes its text in.
#pragma once

#include <string>
#include <vector>

#include "src/base/status.h"

namespace kite::cli {

struct ConfigEntry {
  std::string key;
  std::string value;  // the scalar exactly as written, without YAML quoting
  int line = 0;       // 1-based, for error messages
};

struct ConfigFile {
  std::string path;  // as the user named it; used only in messages
  std::vector<ConfigEntry> entries;  // in file order
};

// Parses `text`, the contents of the file at `path`. An empty file (or one holding only
// comments) has no entries. Fails with kInvalidArgument, naming the path, when the YAML is
// malformed (with yaml-cpp's line and column), when the top level is not a mapping, when
// a key appears twice, or when a value is not a scalar (a list, a mapping, or nothing).
Result<ConfigFile> ParseConfigFile(const std::string& text, const std::string& path);

}  // namespace kite::cli
