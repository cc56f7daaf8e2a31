#include "src/server/auth/policy_rule.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

namespace kite::auth {
namespace {

constexpr std::string_view kAll = "*";

bool Contains(const std::vector<std::string>& set, std::string_view value) {
  for (const std::string& s : set) {
    if (s == value) return true;
  }
  return false;
}

bool VerbMatches(const PolicyRule& rule, std::string_view verb) {
  return Contains(rule.verbs, kAll) || Contains(rule.verbs, verb);
}

bool ApiGroupMatches(const PolicyRule& rule, std::string_view group) {
  return Contains(rule.api_groups, kAll) || Contains(rule.api_groups, group);
}

bool ResourceMatches(const PolicyRule& rule, std::string_view combined,
                     std::string_view subresource) {
  for (const std::string& r : rule.resources) {
    if (r == kAll || r == combined) return true;
    // "*/<subresource>": the subresource of any resource.
    if (!subresource.empty() && r.size() == subresource.size() + 2 && r.starts_with("*/") &&
        std::string_view(r).substr(2) == subresource) {
      return true;
    }
  }
  return false;
}

bool ResourceNameMatches(const PolicyRule& rule, std::string_view name) {
  return rule.resource_names.empty() || Contains(rule.resource_names, name);
}

bool NonResourceUrlMatches(const PolicyRule& rule, std::string_view path) {
  for (const std::string& u : rule.non_resource_urls) {
    if (u == kAll || u == path) return true;
    if (u.ends_with('*')) {
      // Kubernetes trims every trailing '*' before the prefix test.
      std::string_view prefix(u);
      while (!prefix.empty() && prefix.back() == '*') prefix.remove_suffix(1);
      if (path.starts_with(prefix)) return true;
    }
  }
  return false;
}

Status StringList(const rapidjson::Value& rule, const char* field, std::vector<std::string>& out) {
  auto it = rule.FindMember(field);
  if (it == rule.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsArray()) {
    return InvalidArgumentError(std::string("rules[].") + field + " must be a list of strings");
  }
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) {
      return InvalidArgumentError(std::string("rules[].") + field + " must be a list of strings");
    }
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return Status::Ok();
}

void WriteList(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* field,
               const std::vector<std::string>& values, bool always) {
  if (values.empty() && !always) return;
  w.Key(field);
  w.StartArray();
  for (const std::string& v : values)
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

}  // namespace

bool RuleAllows(const Attributes& request, const PolicyRule& rule) {
  if (!VerbMatches(rule, request.verb)) return false;
  if (!request.resource_request) return NonResourceUrlMatches(rule, request.path);
  std::string combined = request.resource;
  if (!request.subresource.empty()) combined += "/" + request.subresource;
  return ApiGroupMatches(rule, request.api_group) &&
         ResourceMatches(rule, combined, request.subresource) &&
         ResourceNameMatches(rule, request.name);
}

Result<PolicyRule> PolicyRuleFromJson(const rapidjson::Value& json) {
  if (!json.IsObject()) return InvalidArgumentError("rules[] must be objects");
  PolicyRule rule;
  KITE_RETURN_IF_ERROR(StringList(json, "verbs", rule.verbs));
  KITE_RETURN_IF_ERROR(StringList(json, "apiGroups", rule.api_groups));
  KITE_RETURN_IF_ERROR(StringList(json, "resources", rule.resources));
  KITE_RETURN_IF_ERROR(StringList(json, "resourceNames", rule.resource_names));
  KITE_RETURN_IF_ERROR(StringList(json, "nonResourceURLs", rule.non_resource_urls));
  return rule;
}

void AppendPolicyRuleJson(std::string& out, const PolicyRule& rule) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  WriteList(w, "verbs", rule.verbs, /*always=*/true);
  WriteList(w, "apiGroups", rule.api_groups, false);
  WriteList(w, "resources", rule.resources, false);
  WriteList(w, "resourceNames", rule.resource_names, false);
  WriteList(w, "nonResourceURLs", rule.non_resource_urls, false);
  w.EndObject();
  out.append(buffer.GetString(), buffer.GetSize());
}

}  // namespace kite::auth
