#include "src/server/openapi/yaml_text.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace kite::openapi {
namespace {

constexpr int kIndent = 4;      // a mapping's or sequence's contents under a key
constexpr int kItemIndent = 2;  // a sequence item's contents after "- "

// Words YAML 1.1 (yaml.v2, which kube-openapi's readers use) resolves to booleans or null.
bool IsSpecialWord(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kWords = {
      "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "="};
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kWords.begin(), kWords.end(), lower) != kWords.end();
}

bool IsPlainSafe(std::string_view s) {
  if (s.empty() || s.back() == ' ') return false;
  unsigned char first = static_cast<unsigned char>(s.front());
  if (!std::isalpha(first) && first != '/') return false;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && c != '_' && c != '.' && c != '/' && c != '-' && c != ' ') return false;
  }
  return !IsSpecialWord(s);
}

std::string JsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string StringScalar(std::string_view s) {
  if (IsPlainSafe(s)) return std::string(s);
  // A JSON string literal is a valid YAML double-quoted scalar with the same value.
  rapidjson::Value v(rapidjson::StringRef(s.data(), s.size()));
  return JsonText(v);
}

// A scalar, or an empty collection in flow style.
std::string Scalar(const rapidjson::Value& v) {
  if (v.IsString()) return StringScalar({v.GetString(), v.GetStringLength()});
  if (v.IsObject()) return "{}";
  if (v.IsArray()) return "[]";
  return JsonText(v);  // null, true, false and numbers read the same in YAML
}

bool IsBlock(const rapidjson::Value& v) {
  return (v.IsObject() && v.MemberCount() > 0) || (v.IsArray() && !v.Empty());
}

void Emit(const rapidjson::Value& v, int column, bool first_line_placed, std::string& out);

// The value after "key:" or "- ": a scalar on the same line, a collection below.
void EmitMappingValue(const rapidjson::Value& v, int key_column, std::string& out) {
  if (!IsBlock(v)) {
    out += ' ';
    out += Scalar(v);
    out += '\n';
    return;
  }
  out += '\n';
  Emit(v, key_column + kIndent, false, out);
}

// Writes `v` with its lines starting at `column`; when `first_line_placed`, the caller has
// already written the first line's indentation (and a "- " before it).
void Emit(const rapidjson::Value& v, int column, bool first_line_placed, std::string& out) {
  auto indent = [&](bool first) {
    if (!(first && first_line_placed)) out.append(static_cast<size_t>(column), ' ');
  };
  if (!IsBlock(v)) {
    indent(true);
    out += Scalar(v);
    out += '\n';
    return;
  }
  bool first = true;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      indent(first);
      first = false;
      out += StringScalar({m.name.GetString(), m.name.GetStringLength()});
      out += ':';
      EmitMappingValue(m.value, column, out);
    }
    return;
  }
  for (const rapidjson::Value& item : v.GetArray()) {
    indent(first);
    first = false;
    out += "- ";
    Emit(item, column + kItemIndent, true, out);
  }
}

}  // namespace

std::string ToYamlText(const rapidjson::Value& value) {
  std::string out;
  Emit(value, 0, false, out);
  return out;
}

}  // namespace kite::openapi
