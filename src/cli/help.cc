#include "src/cli/help.h"

#include <sstream>
#include <vector>

namespace kite::cli {
namespace {

constexpr size_t kWidth = 80;
// Flag descriptions start in this column, so the list reads as a table.
constexpr size_t kDescriptionColumn = 34;

std::string DefaultText(const FlagSpec& flag) {
  if (!flag.default_help.empty()) return flag.default_help;
  return flag.default_value;
}

}  // namespace

std::string Wrap(const std::string& text, size_t width, size_t indent) {
  std::istringstream words(text);
  std::string word;
  std::string out;
  std::string line;
  while (words >> word) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += std::string(indent, ' ') + line + "\n";
      line.clear();
    }
    line += line.empty() ? word : " " + word;
  }
  if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
  return out;
}

std::string FormatCommandHelp(const CommandSpec& spec) {
  std::string out = "Usage: " + spec.usage + "\n\n" + Wrap(spec.description, kWidth, 0) +
                    "\nFlags:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const FlagSpec& flag : spec.flags) {
    std::string left = "--" + flag.name;
    if (flag.kind != FlagKind::kBool) left += " " + flag.value_name;
    std::string right = flag.help;
    if (flag.required) {
      right += " (required)";
    } else if (flag.kind != FlagKind::kBool && !DefaultText(flag).empty()) {
      right += " (default: " + DefaultText(flag) + ")";
    }
    rows.emplace_back(left, right);
  }
  rows.emplace_back("-h, --help", "show this help");
  for (const auto& [left, right] : rows) {
    std::string first = "  " + left;
    if (first.size() + 2 > kDescriptionColumn) {
      out += first + "\n" + Wrap(right, kWidth, kDescriptionColumn);
      continue;
    }
    std::string body = Wrap(right, kWidth, kDescriptionColumn);
    if (body.empty()) {
      out += first + "\n";
      continue;
    }
    // Put the first wrapped line beside the flag instead of under it.
    out += first + std::string(kDescriptionColumn - first.size(), ' ') +
           body.substr(kDescriptionColumn);
  }
  return out;
}

}  // namespace kite::cli
