#include "src/server/validation/object_meta_validation.h"

#include "src/server/json/json_util.h"

namespace kite::validation {
using namespace kite::json;  // NOLINT
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsDns1123Label(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

constexpr const char* kSubdomainMessage =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr const char* kLabelMessage =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
constexpr const char* kDns1035Message =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

// Label values and the name part of qualified names: ≤ 63, [A-Za-z0-9] at both ends,
// [-_.A-Za-z0-9] inside.
bool IsQualifiedNamePart(std::string_view s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  if (s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsQualifiedName(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsQualifiedNamePart(key, false);
  std::string_view prefix = key.substr(0, slash);
  return IsDns1123Subdomain(prefix) && IsQualifiedNamePart(key.substr(slash + 1), false);
}

constexpr const char* kQualifiedNameMessage =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
    "subdomain prefix and '/' (e.g. 'example.com/MyName')";
constexpr const char* kLabelValueMessage =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

}  // namespace

NameRule NameRuleFor(std::string_view group, std::string_view resource) {
  if (group.empty() && resource == "namespaces") return NameRule::kDns1123Label;
  if (group.empty() && resource == "services") return NameRule::kDns1035Label;
  if (group == "rbac.authorization.k8s.io") return NameRule::kPathSegment;
  return NameRule::kDns1123Subdomain;
}

std::vector<std::string> ValidateName(std::string_view name, NameRule rule) {
  std::vector<std::string> problems;
  switch (rule) {
    case NameRule::kDns1123Subdomain:
      if (name.size() > 253) problems.push_back("must be no more than 253 characters");
      if (!IsDns1123Subdomain(name)) problems.push_back(kSubdomainMessage);
      break;
    case NameRule::kDns1123Label:
      if (name.size() > 63) problems.push_back("must be no more than 63 characters");
      if (!IsDns1123Label(name)) problems.push_back(kLabelMessage);
      break;
    case NameRule::kDns1035Label:
      if (name.size() > 63) problems.push_back("must be no more than 63 characters");
      if (!IsDns1123Label(name) || !(name[0] >= 'a' && name[0] <= 'z')) {
        problems.push_back(kDns1035Message);
      }
      break;
    case NameRule::kPathSegment:
      if (name == "." || name == "..") problems.push_back("may not be '" + std::string(name) + "'");
      if (name.find('/') != std::string_view::npos) problems.push_back("may not contain '/'");
      if (name.find('%') != std::string_view::npos) problems.push_back("may not contain '%'");
      break;
  }
  return problems;
}

std::vector<StatusCause> ValidateObjectMeta(const rapidjson::Value& object, NameRule rule) {
  std::vector<StatusCause> causes;
  const rapidjson::Value* metadata = Member(object, "metadata");
  if (!metadata || !metadata->IsObject()) {
    causes.push_back(RequiredCause("metadata.name", "name or generateName is required"));
    return causes;
  }
  std::string_view name = StringMember(*metadata, "name");
  std::string_view generate_name = StringMember(*metadata, "generateName");
  if (name.empty() && generate_name.empty()) {
    causes.push_back(RequiredCause("metadata.name", "name or generateName is required"));
  } else if (!name.empty()) {
    for (const std::string& p : ValidateName(name, rule)) {
      causes.push_back(InvalidCause("metadata.name", name, p));
    }
  }
  for (const char* map_name : {"labels", "annotations"}) {
    const rapidjson::Value* map = Member(*metadata, map_name);
    if (!map || map->IsNull()) continue;
    std::string field = std::string("metadata.") + map_name;
    if (!map->IsObject()) {
      causes.push_back(InvalidCause(field, "", "must be a map of strings"));
      continue;
    }
    for (const auto& m : map->GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (!IsQualifiedName(key)) causes.push_back(InvalidCause(field, key, kQualifiedNameMessage));
      if (!m.value.IsString()) {
        causes.push_back(InvalidCause(field + "[" + std::string(key) + "]", "", "must be a string"));
        continue;
      }
      std::string_view value(m.value.GetString(), m.value.GetStringLength());
      if (std::string_view(map_name) == "labels" && !IsQualifiedNamePart(value, true)) {
        causes.push_back(InvalidCause(field, value, kLabelValueMessage));
      }
    }
  }
  return causes;
}

}  // namespace kite::validation
