#include "src/server/tables/label_format.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "src/server/tables/json_fields.h"

namespace kite::tables::internal {
namespace {

struct Requirement {
  std::string key;
  std::string text;
};

std::string JoinSorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += values[i];
  }
  return out;
}

// nullopt when the selector is malformed; "" for an empty (match-everything) selector.
std::optional<std::string> SelectorText(const rapidjson::Value& selector) {
  if (!selector.IsObject()) return std::nullopt;
  std::vector<Requirement> reqs;
  if (const rapidjson::Value* labels = Get(&selector, "matchLabels")) {
    if (!labels->IsObject()) return std::nullopt;
    for (auto& m : labels->GetObject()) {
      if (!m.value.IsString()) return std::nullopt;
      std::string key(m.name.GetString(), m.name.GetStringLength());
      reqs.push_back({key, key + "=" + std::string(Str(&m.value))});
    }
  }
  if (const rapidjson::Value* exprs = Get(&selector, "matchExpressions")) {
    if (!exprs->IsArray()) return std::nullopt;
    for (auto& e : exprs->GetArray()) {
      std::string key(Str(Get(&e, "key")));
      std::string_view op = Str(Get(&e, "operator"));
      std::vector<std::string> values;
      for (auto& v : Arr(Get(&e, "values")).GetArray()) {
        if (!v.IsString()) return std::nullopt;
        values.emplace_back(v.GetString(), v.GetStringLength());
      }
      if (key.empty()) return std::nullopt;
      if (op == "In" || op == "NotIn") {
        if (values.empty()) return std::nullopt;
        reqs.push_back({key, key + (op == "In" ? " in (" : " notin (") +
                                 JoinSorted(std::move(values)) + ")"});
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (!values.empty()) return std::nullopt;
        reqs.push_back({key, (op == "Exists" ? "" : "!") + key});
      } else {
        return std::nullopt;
      }
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  std::string out;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (i > 0) out += ',';
    out += reqs[i].text;
  }
  return out;
}

}  // namespace

std::string FormatLabels(const rapidjson::Value* labels) {
  std::vector<std::string> pairs;
  if (IsObject(labels)) {
    for (auto& m : labels->GetObject()) {
      pairs.push_back(std::string(m.name.GetString(), m.name.GetStringLength()) + "=" +
                      std::string(Str(&m.value)));
    }
  }
  if (pairs.empty()) return "<none>";
  std::sort(pairs.begin(), pairs.end());  // Kubernetes sorts the "k=v" strings themselves
  std::string out;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += ',';
    out += pairs[i];
  }
  return out;
}

std::string FormatLabelSelector(const rapidjson::Value* selector) {
  if (selector == nullptr) return "<none>";
  std::optional<std::string> text = SelectorText(*selector);
  if (!text) return "<error>";
  return text->empty() ? "<none>" : *text;
}

std::string LabelSelectorString(const rapidjson::Value* selector) {
  if (selector == nullptr) return "";
  return SelectorText(*selector).value_or("<invalid>");
}

}  // namespace kite::tables::internal
