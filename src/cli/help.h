// The text of `kite <command> --help`. Pure.
#pragma once

#include <string>

#include "src/cli/flag_spec.h"

namespace kite::cli {

// Usage line, description, then one line per flag with its value name, description and
// default, ending with --help. Lines are wrapped to 80 columns.
std::string FormatCommandHelp(const CommandSpec& spec);

// `text` broken into lines of at most `width` columns (words longer than that stay whole),
// each prefixed with `indent` spaces and ended with '\n'.
std::string Wrap(const std::string& text, size_t width, size_t indent);

}  // namespace kite::cli
