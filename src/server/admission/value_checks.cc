#include "src/server/admission/value_checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "src/server/selection/label_validation.h"
#include "src/server/validation/object_meta_validation.h"

namespace kite::admission {

using selection::GoQuote;

namespace {

std::string MaxLenError(size_t n) { return "must be no more than " + std::to_string(n) + " characters"; }

std::vector<std::string> ChDirPrefixErrors(std::string_view value) {
  if (value == ".") return {"must not be '.'"};
  if (value == "..") return {"must not be '..'"};
  if (value.substr(0, 2) == "..") return {"must not start with '..'"};
  return {};
}

bool ParseIpv4Sloppy(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 4) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start || i - start > 3 || value > 255) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool ParseIpv6(std::string_view s) {
  if (s.size() > 45) return false;
  std::string copy(s);
  unsigned char buf[16];
  return inet_pton(AF_INET6, copy.c_str(), buf) == 1;
}

}  // namespace

std::vector<std::string> Dns1123LabelErrors(std::string_view value) {
  return validation::ValidateName(value, validation::NameRule::kDns1123Label);
}

std::vector<std::string> Dns1123SubdomainErrors(std::string_view value) {
  return selection::Dns1123SubdomainErrors(value);
}

std::vector<std::string> Dns1035LabelErrors(std::string_view value) {
  return validation::ValidateName(value, validation::NameRule::kDns1035Label);
}

std::vector<std::string> QualifiedNameErrors(std::string_view value) {
  return selection::QualifiedNameErrors(value);
}

std::vector<std::string> LabelValueErrors(std::string_view value) {
  return selection::LabelValueErrors(value);
}

std::vector<std::string> PortNameErrors(std::string_view port) {
  std::vector<std::string> errs;
  if (port.size() > 15) errs.push_back(MaxLenError(15));
  bool charset = !port.empty();
  bool letter = false;
  for (char c : port) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) charset = false;
    if (c >= 'a' && c <= 'z') letter = true;
  }
  if (!charset) errs.emplace_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter) errs.emplace_back("must contain at least one letter (a-z)");
  if (port.find("--") != std::string_view::npos) errs.emplace_back("must not contain consecutive hyphens");
  if (!port.empty() && (port.front() == '-' || port.back() == '-')) {
    errs.emplace_back("must not begin or end with a hyphen");
  }
  return errs;
}

std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

std::vector<std::string> PortNumErrors(int64_t value) {
  if (value >= 1 && value <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

std::vector<std::string> EnvVarNameErrors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.empty()) errs.emplace_back("environment variable name must be non-empty");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u > 0x7e || u < 0x20 || c == '=') {
      errs.emplace_back(
          "a valid environment variable name must consist only of printable ASCII characters "
          "other than '='");
      break;
    }
  }
  return errs;
}

std::vector<std::string> ConfigMapKeyErrors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(MaxLenError(253));
  bool ok = !value.empty();
  for (char c : value) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) ok = false;
  }
  if (!ok) {
    errs.emplace_back(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')");
  }
  for (std::string& e : ChDirPrefixErrors(value)) errs.push_back(std::move(e));
  return errs;
}

std::vector<std::string> PercentErrors(std::string_view value) {
  bool ok = value.size() >= 2 && value.back() == '%';
  for (size_t i = 0; ok && i + 1 < value.size(); ++i) ok = value[i] >= '0' && value[i] <= '9';
  if (ok) return {};
  return {"a valid percent string must be a numeric string followed by an ending '%' (e.g. "
          "'1%',  or '93%', regex used for validation is '[0-9]+%')"};
}

bool IsValidIp(std::string_view value) {
  if (value.find(':') != std::string_view::npos) return ParseIpv6(value);
  return ParseIpv4Sloppy(value);
}

bool IsValidCidr(std::string_view value) {
  size_t slash = value.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view ip = value.substr(0, slash), bits = value.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return false;
  int n = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  bool v6 = ip.find(':') != std::string_view::npos;
  return IsValidIp(ip) && n <= (v6 ? 128 : 32);
}

void CheckNonNegative(Causes& causes, const std::string& path, std::optional<int64_t> value) {
  if (value && *value < 0) causes.InvalidInt(path, *value, kIsNegativeErrorMsg);
}

void CheckIp(Causes& causes, const std::string& path, std::string_view value) {
  if (!IsValidIp(value)) {
    causes.Invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }
}

void CheckLabelName(Causes& causes, const std::string& path, std::string_view key) {
  causes.InvalidEach(path, key, QualifiedNameErrors(key));
}

void CheckLabels(Causes& causes, const Value* parent, std::string_view name,
                 const std::string& path) {
  StringMap labels = GetStringMap(&causes, parent, name, path);
  for (const auto& [k, v] : labels.entries) {
    CheckLabelName(causes, path, k);
    causes.InvalidEach(path, v, LabelValueErrors(v));
  }
}

void CheckAnnotations(Causes& causes, const Value* parent, std::string_view name,
                      const std::string& path) {
  StringMap annotations = GetStringMap(&causes, parent, name, path);
  size_t total = 0;
  for (const auto& [k, v] : annotations.entries) {
    std::string lower(k);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    causes.InvalidEach(path, k, QualifiedNameErrors(lower));
    total += k.size() + v.size();
  }
  if (total > 256 * 1024) causes.TooLong(path, 256 * 1024);
}

void CheckLabelSelector(Causes& causes, const Value* selector, const std::string& path) {
  if (selector == nullptr) return;
  CheckLabels(causes, selector, "matchLabels", Child(path, "matchLabels"));
  std::string exprs_path = Child(path, "matchExpressions");
  const Value* exprs = GetArray(&causes, selector, "matchExpressions", exprs_path);
  if (exprs == nullptr) return;
  for (rapidjson::SizeType i = 0; i < exprs->Size(); ++i) {
    std::string p = Index(exprs_path, i);
    const Value* expr = ElementObject(&causes, (*exprs)[i], p);
    if (expr == nullptr) continue;
    std::string_view op = GetString(&causes, expr, "operator", Child(p, "operator")).value_or("");
    auto values = GetStringList(&causes, expr, "values", Child(p, "values"));
    size_t n = values ? values->size() : 0;
    if (op == "In" || op == "NotIn") {
      if (n == 0) {
        causes.Required(Child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (n > 0) {
        causes.Forbidden(Child(p, "values"),
                         "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
    } else {
      causes.Invalid(Child(p, "operator"), op, "not a valid selector operator");
    }
    std::string_view key = GetString(&causes, expr, "key", Child(p, "key")).value_or("");
    CheckLabelName(causes, Child(p, "key"), key);
    if (values) {
      for (size_t j = 0; j < values->size(); ++j) {
        causes.InvalidEach(Index(Child(p, "values"), j), (*values)[j], LabelValueErrors((*values)[j]));
      }
    }
  }
}

bool SelectorIsEmpty(const Value* selector) {
  if (selector == nullptr) return false;
  const Value* labels = Get(selector, "matchLabels");
  const Value* exprs = Get(selector, "matchExpressions");
  bool no_labels = labels == nullptr || (labels->IsObject() && labels->MemberCount() == 0);
  bool no_exprs = exprs == nullptr || (exprs->IsArray() && exprs->Empty());
  return no_labels && no_exprs;
}

bool SelectorConvertible(const Value* selector) {
  if (selector == nullptr) return true;  // converts to "nothing"
  if (!selector->IsObject()) return false;
  Causes scratch;
  CheckLabelSelector(scratch, selector, "");
  return scratch.size() == 0;
}

bool SelectorMatches(const Value* selector, const Value* labels) {
  if (selector == nullptr || !SelectorConvertible(selector)) return false;
  std::unordered_map<std::string_view, std::string_view> label_set;
  if (labels != nullptr && labels->IsObject()) {
    for (const auto& m : labels->GetObject()) {
      if (!m.value.IsString()) continue;
      label_set.emplace(std::string_view(m.name.GetString(), m.name.GetStringLength()),
                        std::string_view(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  auto lookup = [&](std::string_view key) -> const std::string_view* {
    auto it = label_set.find(key);
    return it == label_set.end() ? nullptr : &it->second;
  };
  StringMap match_labels = GetStringMap(nullptr, selector, "matchLabels", "");
  for (const auto& [k, v] : match_labels.entries) {
    const std::string_view* have = lookup(k);
    if (have == nullptr || *have != v) return false;
  }
  const Value* exprs = Get(selector, "matchExpressions");
  if (exprs != nullptr && exprs->IsArray()) {
    for (const Value& e : exprs->GetArray()) {
      std::string_view key = GetString(nullptr, &e, "key", "").value_or("");
      std::string_view op = GetString(nullptr, &e, "operator", "").value_or("");
      auto values = GetStringList(nullptr, &e, "values", "").value_or(std::vector<std::string_view>{});
      const std::string_view* have = lookup(key);
      bool in = have != nullptr && std::find(values.begin(), values.end(), *have) != values.end();
      if (op == "In" && !in) return false;
      if (op == "NotIn" && in) return false;
      if (op == "Exists" && have == nullptr) return false;
      if (op == "DoesNotExist" && have != nullptr) return false;
    }
  }
  return true;
}

int64_t IntOrPercentValue(const IntOrString& v) {
  if (!v.is_string) return v.int_value;
  std::string_view s = v.string_value;
  if (PercentErrors(s).empty()) s.remove_suffix(1);
  // strconv.Atoi: an optional sign and digits; anything else is 0.
  if (s.empty() || s.size() > 18) return 0;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return 0;
  int64_t n = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return 0;
    n = n * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -n : n;
}

void CheckPositiveIntOrPercent(Causes& causes, const IntOrString& v, const std::string& path) {
  if (v.is_string) {
    for (const std::string& msg : PercentErrors(v.string_value)) {
      causes.InvalidRaw(path, GoIntOrString(v), msg);
    }
  } else {
    CheckNonNegative(causes, path, v.int_value);
  }
}

void CheckNotMoreThan100Percent(Causes& causes, const IntOrString& v, const std::string& path) {
  if (!v.is_string || !PercentErrors(v.string_value).empty()) return;
  if (IntOrPercentValue(v) > 100) {
    causes.InvalidRaw(path, GoIntOrString(v), "must not be greater than 100%");
  }
}

std::string GoStringMap(const Value* map) {
  if (map == nullptr || !map->IsObject()) return "map[string]string(nil)";
  std::vector<std::pair<std::string_view, std::string_view>> entries;
  for (const auto& m : map->GetObject()) {
    std::string_view v = m.value.IsString()
                             ? std::string_view(m.value.GetString(), m.value.GetStringLength())
                             : std::string_view();
    entries.emplace_back(std::string_view(m.name.GetString(), m.name.GetStringLength()), v);
  }
  std::sort(entries.begin(), entries.end());  // Go prints maps sorted by key
  std::string out = "map[string]string{";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(entries[i].first) + ":" + GoQuote(entries[i].second);
  }
  return out + "}";
}

std::string GoStringSlice(const Value* list) {
  if (list == nullptr || !list->IsArray()) return "[]string(nil)";
  std::string out = "[]string{";
  bool first = true;
  for (const Value& e : list->GetArray()) {
    if (!first) out += ", ";
    first = false;
    out += GoQuote(e.IsString() ? std::string_view(e.GetString(), e.GetStringLength()) : "");
  }
  return out + "}";
}

std::string GoLabelSelector(const Value* selector) {
  std::string out = "v1.LabelSelector{MatchLabels:" + GoStringMap(Get(selector, "matchLabels"));
  out += ", MatchExpressions:";
  const Value* exprs = Get(selector, "matchExpressions");
  if (exprs == nullptr || !exprs->IsArray()) {
    out += "[]v1.LabelSelectorRequirement(nil)";
  } else {
    out += "[]v1.LabelSelectorRequirement{";
    bool first = true;
    for (const Value& e : exprs->GetArray()) {
      if (!first) out += ", ";
      first = false;
      out += "v1.LabelSelectorRequirement{Key:" +
             GoQuote(GetString(nullptr, &e, "key", "").value_or("")) +
             ", Operator:" + GoQuote(GetString(nullptr, &e, "operator", "").value_or("")) +
             ", Values:" + GoStringSlice(Get(&e, "values")) + "}";
    }
    out += "}";
  }
  return out + "}";
}

std::string GoIntOrString(const IntOrString& v) {
  return "intstr.IntOrString{Type:" + std::string(v.is_string ? "1" : "0") +
         ", IntVal:" + std::to_string(v.is_string ? 0 : v.int_value) +
         ", StrVal:" + GoQuote(v.is_string ? v.string_value : "") + "}";
}

std::string CompactJson(const Value* value) {
  if (value == nullptr) return "null";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value->Accept(writer);
  std::string out(buffer.GetString(), buffer.GetSize());
  constexpr size_t kMax = 1024;  // messages stay readable for huge values
  if (out.size() > kMax) out = out.substr(0, kMax) + "...";
  return out;
}

}  // namespace kite::admission
