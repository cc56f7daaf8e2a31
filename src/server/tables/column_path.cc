#include "src/server/tables/column_path.h"

#include <cstdlib>

namespace kite::tables {
namespace {

Status PathError(std::string_view path, size_t pos, std::string_view what) {
  return InvalidArgumentError("invalid column path \"" + std::string(path) + "\" at offset " +
                              std::to_string(pos) + ": " + std::string(what));
}

}  // namespace

Result<ColumnPath> ColumnPath::Parse(std::string_view path) {
  std::string_view p = path;
  size_t base = 0;  // offset of `p` within `path`, for messages
  if (!p.empty() && p.front() == '{') {
    if (p.back() != '}') return PathError(path, path.size(), "missing closing '}'");
    p = p.substr(1, p.size() - 2);
    base = 1;
  }
  if (p.empty()) return PathError(path, base, "empty path");
  if (p.front() != '.' && p.front() != '[') {
    return PathError(path, base, "a path starts with '.' or '['");
  }
  ColumnPath out;
  size_t i = 0;
  if (p == ".") return out;  // the object itself
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      if (i < p.size() && p[i] == '.') return PathError(path, base + i, "recursive descent");
      std::string key;
      while (i < p.size() && p[i] != '.' && p[i] != '[') {
        if (p[i] == '\\' && i + 1 < p.size()) ++i;
        if (p[i] == '*' || p[i] == '@' || p[i] == '$') {
          return PathError(path, base + i, "wildcards and filters are not supported");
        }
        key += p[i++];
      }
      if (key.empty()) return PathError(path, base + i, "empty field name");
      out.steps_.push_back(Step{false, 0, std::move(key)});
    } else if (p[i] == '[') {
      ++i;
      if (i < p.size() && (p[i] == '\'' || p[i] == '"')) {
        const char quote = p[i++];
        std::string key;
        while (i < p.size() && p[i] != quote) {
          if (p[i] == '\\' && i + 1 < p.size()) ++i;
          key += p[i++];
        }
        if (i >= p.size()) return PathError(path, base + i, "unterminated quoted key");
        ++i;  // closing quote
        if (i >= p.size() || p[i] != ']') return PathError(path, base + i, "expected ']'");
        ++i;
        out.steps_.push_back(Step{false, 0, std::move(key)});
      } else {
        const size_t start = i;
        if (i < p.size() && p[i] == '-') ++i;
        while (i < p.size() && p[i] >= '0' && p[i] <= '9') ++i;
        if (i == start || (i == start + 1 && p[start] == '-') || i >= p.size() || p[i] != ']') {
          return PathError(path, base + start, "expected an array index like [0]");
        }
        const std::string digits(p.substr(start, i - start));
        if (digits.size() > 10) return PathError(path, base + start, "index too large");
        ++i;
        out.steps_.push_back(Step{true, std::strtoll(digits.c_str(), nullptr, 10), {}});
      }
    } else {
      return PathError(path, base + i, "expected '.' or '['");
    }
  }
  return out;
}

const rapidjson::Value* ColumnPath::Evaluate(const rapidjson::Value& root) const {
  const rapidjson::Value* v = &root;
  for (const Step& step : steps_) {
    if (step.is_index) {
      if (!v->IsArray()) return nullptr;
      const long long size = v->Size();
      const long long at = step.index < 0 ? size + step.index : step.index;
      if (at < 0 || at >= size) return nullptr;
      v = &(*v)[static_cast<rapidjson::SizeType>(at)];
    } else {
      if (!v->IsObject()) return nullptr;
      auto it = v->FindMember(rapidjson::StringRef(step.key.data(), step.key.size()));
      if (it == v->MemberEnd()) return nullptr;
      v = &it->value;
    }
  }
  return v->IsNull() ? nullptr : v;
}

}  // namespace kite::tables
