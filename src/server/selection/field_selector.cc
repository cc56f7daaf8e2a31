#include "src/server/selection/field_selector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kite::selection {
namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const rapidjson::Value* ValueAtPath(const rapidjson::Value& object, std::string_view path) {
  const rapidjson::Value* current = &object;
  while (true) {
    size_t dot = path.find('.');
    std::string_view segment = path.substr(0, dot);
    if (current->IsObject()) {
      const rapidjson::Value* next = nullptr;
      for (auto it = current->MemberBegin(); it != current->MemberEnd(); ++it) {
        if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == segment) {
          next = &it->value;
          break;
        }
      }
      if (next == nullptr) return nullptr;
      current = next;
    } else if (current->IsArray() && IsDigits(segment) && segment.size() < 10) {
      size_t index = std::stoul(std::string(segment));
      if (index >= current->Size()) return nullptr;
      current = &(*current)[static_cast<rapidjson::SizeType>(index)];
    } else {
      return nullptr;
    }
    if (dot == std::string_view::npos) return current;
    path.remove_prefix(dot + 1);
  }
}

// Splits at unescaped commas; escapes stay in the terms (Kubernetes' splitTerms).
std::vector<std::string> SplitTerms(std::string_view text) {
  std::vector<std::string> terms;
  if (text.empty()) return terms;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (text[i] == '\\') {
      escaped = true;
    } else if (text[i] == ',') {
      terms.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.emplace_back(text.substr(start));
  return terms;
}

struct RawTerm {
  std::string field;
  FieldSelector::Operator op;
  std::string value;
};

// The first operator occurrence splits the term; "!=" and "==" win over "=" at a position.
bool SplitTerm(std::string_view term, RawTerm& out, std::string& raw_value) {
  for (size_t i = 0; i < term.size(); ++i) {
    std::string_view rest = term.substr(i);
    size_t op_len = 0;
    if (rest.starts_with("!=")) {
      out.op = FieldSelector::Operator::kNotEquals;
      op_len = 2;
    } else if (rest.starts_with("==")) {
      out.op = FieldSelector::Operator::kEquals;
      op_len = 2;
    } else if (rest.starts_with("=")) {
      out.op = FieldSelector::Operator::kEquals;
      op_len = 1;
    }
    if (op_len > 0) {
      out.field = std::string(term.substr(0, i));
      raw_value = std::string(term.substr(i + op_len));
      return true;
    }
  }
  return false;
}

// The length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

Result<std::string> UnescapeValue(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (i + 1 == s.size()) {
        return InvalidArgumentError("invalid field selector: invalid escape sequence: \\");
      }
      char next = s[++i];
      if (next == '\\' || next == ',' || next == '=' || next == '!') {
        out.push_back(next);
        continue;
      }
      // Go reports the whole rune after the backslash.
      std::string_view rune = s.substr(i, Utf8Length(static_cast<unsigned char>(next)));
      return InvalidArgumentError("invalid field selector: invalid escape sequence: \\" +
                                  std::string(rune));
    }
    if (c == ',' || c == '=') {
      // Go prints the rune with %v, i.e. as its code point.
      return InvalidArgumentError("invalid field selector: unescaped character in value: " +
                                  std::to_string(static_cast<int>(c)));
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::optional<std::string> FieldValueAtPath(const rapidjson::Value& object,
                                            std::string_view dotted_path) {
  const rapidjson::Value* v = ValueAtPath(object, dotted_path);
  if (v == nullptr) return std::nullopt;
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsBool()) return std::string(v->GetBool() ? "true" : "false");
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsUint64()) return std::to_string(v->GetUint64());
  if (v->IsDouble()) {
    double d = v->GetDouble();
    // Integers written as 3.0 still compare as "3", as Go's int fields would print.
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15) {
      return std::to_string(static_cast<int64_t>(d));
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", d);
    return std::string(buf);
  }
  return std::nullopt;
}

// ---- FieldSet ------------------------------------------------------------------------------

std::string FieldSet::Field::ValueOf(const rapidjson::Value& object) const {
  for (const std::string& path : paths) {
    std::optional<std::string> v = FieldValueAtPath(object, path);
    if (v && !v->empty()) return *std::move(v);
  }
  return missing_value;
}

FieldSet FieldSet::MetadataOnly() {
  FieldSet set(Rejection::kMetadataOnly);
  set.Add("metadata.name").Add("metadata.namespace");
  return set;
}

FieldSet FieldSet::CustomResource(bool namespaced, const std::vector<std::string>& selectable) {
  FieldSet set(Rejection::kNotSupported);
  set.Add("metadata.name");
  if (namespaced) set.Add("metadata.namespace");
  for (const std::string& path : selectable) set.Add(path);
  return set;
}

FieldSet& FieldSet::Add(std::string name, std::string missing_value) {
  std::string path = name;
  return AddRead(std::move(name), {std::move(path)}, std::move(missing_value));
}

FieldSet& FieldSet::AddRead(std::string name, std::vector<std::string> paths,
                            std::string missing_value) {
  Field field{name, std::move(paths), std::move(missing_value)};
  fields_.insert_or_assign(std::move(name), std::move(field));
  return *this;
}

FieldSet& FieldSet::AddAlias(std::string alias, std::string target) {
  aliases_.insert_or_assign(std::move(alias), std::move(target));
  return *this;
}

const FieldSet::Field* FieldSet::Find(std::string_view name) const {
  if (auto alias = aliases_.find(name); alias != aliases_.end()) name = alias->second;
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

std::string FieldSet::UnsupportedMessage(std::string_view name) const {
  switch (rejection_) {
    case Rejection::kMetadataOnly:
      return "\"" + std::string(name) +
             "\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"";
    case Rejection::kNotSupported:
      return "field label not supported: " + std::string(name);
    case Rejection::kNotSupportedForKind:
      return "field label \"" + std::string(name) + "\" not supported for " + kind_;
  }
  return "field label not supported: " + std::string(name);
}

std::vector<std::string> FieldSet::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, field] : fields_) names.push_back(name);
  return names;
}

// ---- The built-in table --------------------------------------------------------------------

namespace {

using Rejection = FieldSet::Rejection;

// core/v1 Event and events.k8s.io/v1 Event are one stored object; read either JSON shape
// (core: involvedObject, source, reportingComponent; events.k8s.io: regarding,
// deprecatedSource, reportingController). Only the selector labels differ.
void AddEventFields(FieldSet& set, bool events_k8s_io) {
  static constexpr const char* kRefFields[] = {"kind", "namespace", "name", "uid",
                                               "apiVersion", "resourceVersion", "fieldPath"};
  for (const char* f : kRefFields) {
    std::string core = std::string("involvedObject.") + f;
    std::string modern = std::string("regarding.") + f;
    set.AddRead(events_k8s_io ? modern : core, {core, modern});
  }
  set.Add("metadata.name").Add("metadata.namespace").Add("reason").Add("type");
  set.AddRead(events_k8s_io ? "reportingController" : "reportingComponent",
              {"reportingComponent", "reportingController"});
  // Kubernetes: source.component, or the reporting controller when that is empty.
  set.AddRead("source", {"source.component", "deprecatedSource.component", "reportingComponent",
                         "reportingController"});
}

struct Table {
  std::map<std::pair<std::string, std::string>, FieldSet> sets;
  FieldSet fallback = FieldSet::MetadataOnly();

  Table() {
    FieldSet pods(Rejection::kNotSupported);
    pods.Add("metadata.name")
        .Add("metadata.namespace")
        .Add("spec.nodeName")
        .Add("spec.restartPolicy")
        .Add("spec.schedulerName")
        // The v1 conversion falls back to the deprecated serviceAccount field.
        .AddRead("spec.serviceAccountName", {"spec.serviceAccountName", "spec.serviceAccount"})
        .Add("spec.hostNetwork", "false")
        .Add("status.phase")
        // The internal pod keeps only podIPs; v1 podIP wins when set (v1 conversion).
        .AddRead("status.podIP", {"status.podIP", "status.podIPs.0.ip"})
        // Accepted by the conversion, but absent from the field set: always "".
        .AddRead("status.podIPs", {})
        .Add("status.nominatedNodeName")
        .AddAlias("spec.host", "spec.nodeName");
    sets.emplace(std::pair{"", "pods"}, std::move(pods));

    FieldSet nodes(Rejection::kNotSupported);
    nodes.Add("metadata.name").Add("spec.unschedulable", "false");
    sets.emplace(std::pair{"", "nodes"}, std::move(nodes));

    FieldSet namespaces(Rejection::kNotSupported);
    namespaces.Add("metadata.name").Add("status.phase");
    sets.emplace(std::pair{"", "namespaces"}, std::move(namespaces));

    FieldSet secrets(Rejection::kNotSupported);
    secrets.Add("metadata.name").Add("metadata.namespace").Add("type");
    sets.emplace(std::pair{"", "secrets"}, std::move(secrets));

    FieldSet services(Rejection::kNotSupported);
    services.Add("metadata.name").Add("metadata.namespace").Add("spec.clusterIP").Add("spec.type");
    sets.emplace(std::pair{"", "services"}, std::move(services));

    FieldSet rcs(Rejection::kNotSupported);
    rcs.Add("metadata.name").Add("metadata.namespace").Add("status.replicas", "0");
    sets.emplace(std::pair{"", "replicationcontrollers"}, std::move(rcs));

    FieldSet core_events(Rejection::kNotSupported);
    AddEventFields(core_events, /*events_k8s_io=*/false);
    sets.emplace(std::pair{"", "events"}, std::move(core_events));

    FieldSet new_events(Rejection::kNotSupported);
    AddEventFields(new_events, /*events_k8s_io=*/true);
    sets.emplace(std::pair{"events.k8s.io", "events"}, std::move(new_events));

    FieldSet jobs(Rejection::kNotSupportedForKind, "Job");
    jobs.Add("metadata.name")
        .Add("metadata.namespace")
        .AddRead("status.successful", {"status.succeeded"}, "0");
    sets.emplace(std::pair{"batch", "jobs"}, std::move(jobs));

    FieldSet csrs(Rejection::kNotSupported);
    csrs.Add("metadata.name").Add("spec.signerName");
    sets.emplace(std::pair{"certificates.k8s.io", "certificatesigningrequests"}, csrs);
    sets.emplace(std::pair{"certificates.k8s.io", "clustertrustbundles"}, std::move(csrs));
  }
};

}  // namespace

const FieldSet& SupportedFieldSelectors(std::string_view group, std::string_view resource) {
  static const Table* const table = new Table();  // never destroyed: used until exit
  auto it = table->sets.find(std::pair{std::string(group), std::string(resource)});
  return it == table->sets.end() ? table->fallback : it->second;
}

// ---- FieldSelector -------------------------------------------------------------------------

Result<FieldSelector> FieldSelector::Parse(std::string_view text, const FieldSet& supported) {
  std::vector<std::string> parts = SplitTerms(text);
  std::sort(parts.begin(), parts.end());  // Kubernetes sorts the raw terms
  std::vector<RawTerm> terms;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    RawTerm term;
    std::string raw_value;
    if (!SplitTerm(part, term, raw_value)) {
      return InvalidArgumentError("invalid selector: '" + std::string(text) +
                                  "'; can't understand '" + part + "'");
    }
    Result<std::string> value = UnescapeValue(raw_value);
    if (!value.ok()) return value.status();
    term.value = std::move(value).value();
    terms.push_back(std::move(term));
  }
  // Field names are checked only once the whole selector parsed, as Kubernetes transforms
  // the parsed selector afterwards.
  FieldSelector selector;
  for (RawTerm& term : terms) {
    const FieldSet::Field* field = supported.Find(term.field);
    if (field == nullptr) return InvalidArgumentError(supported.UnsupportedMessage(term.field));
    selector.requirements_.push_back({*field, term.op, std::move(term.value)});
  }
  return selector;
}

bool FieldSelector::Matches(const rapidjson::Value& object) const {
  for (const Requirement& r : requirements_) {
    bool equal = r.field.ValueOf(object) == r.value;
    if (equal != (r.op == Operator::kEquals)) return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> FieldSelector::EqualityRequirements() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Requirement& r : requirements_) {
    if (r.op == Operator::kEquals) out.emplace_back(r.field.name, r.value);
  }
  return out;
}

std::optional<std::string> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const Requirement& r : requirements_) {
    if (r.op == Operator::kEquals && r.field.name == field) return r.value;
  }
  return std::nullopt;
}

std::string FieldSelector::ToString() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ",";
    const Requirement& r = requirements_[i];
    out += r.field.name;
    out += r.op == Operator::kEquals ? "=" : "!=";
    out += EscapeFieldValue(r.value);
  }
  return out;
}

std::string EscapeFieldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace kite::selection
