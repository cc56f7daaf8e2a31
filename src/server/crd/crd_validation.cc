#include "src/server/crd/crd_validation.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "src/server/crd/crd_status.h"
#include "src/server/crd/field_path.h"
#include "src/server/crd/schema_node.h"
#include "src/server/crd/schema_rules.h"
#include "src/server/crd/value_format.h"
#include "src/server/json/json_util.h"
#include "src/server/validation/object_meta_validation.h"

namespace kite::crd {
namespace {

using json::Member;
using json::StringMember;
using validation::ForbiddenCause;
using validation::InvalidRawCause;
using validation::RequiredCause;
using validation::StatusCause;
using Causes = std::vector<StatusCause>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

StatusCause Invalid(std::string field, std::string_view value, std::string detail) {
  return InvalidRawCause(std::move(field), GoQuote(value), std::move(detail));
}

StatusCause NotSupported(std::string field, std::string_view value, const std::vector<std::string>& supported) {
  std::string list;
  for (const std::string& s : supported) list += (list.empty() ? "" : ", ") + GoQuote(s);
  return {"FieldValueNotSupported", "Unsupported value: " + GoQuote(value) + ": supported values: " + list,
          std::move(field)};
}

std::vector<std::string> Dns1035(std::string_view name) {
  return validation::ValidateName(name, validation::NameRule::kDns1035Label);
}

bool BoolMember(const rapidjson::Value& obj, std::string_view name) {
  const rapidjson::Value* v = Member(obj, name);
  return v && v->IsBool() && v->GetBool();
}

const rapidjson::Value* ObjectMember(const rapidjson::Value* obj, std::string_view name) {
  if (!obj) return nullptr;
  const rapidjson::Value* v = Member(*obj, name);
  return v && v->IsObject() ? v : nullptr;
}

const rapidjson::Value* ArrayMember(const rapidjson::Value* obj, std::string_view name) {
  if (!obj) return nullptr;
  const rapidjson::Value* v = Member(*obj, name);
  return v && v->IsArray() ? v : nullptr;
}

bool Equal(const rapidjson::Value* a, const rapidjson::Value* b) {
  if (!a || !b) return a == b || ((!a || a->IsNull()) && (!b || b->IsNull()));
  return TypedDeepEqual(*a, *b);
}

// ValidateCustomResourceDefinitionNames.
void ValidateNames(const rapidjson::Value* names, const std::string& path, Causes* out) {
  if (!names) return;
  for (const char* field : {"plural", "singular"}) {
    std::string_view v = StringMember(*names, field);
    auto errs = Dns1035(v);
    if (!v.empty() && !errs.empty()) out->push_back(Invalid(ChildPath(path, field), v, Join(errs, ",")));
  }
  for (const char* field : {"kind", "listKind"}) {
    std::string_view v = StringMember(*names, field);
    auto errs = Dns1035(Lower(v));
    if (!v.empty() && !errs.empty()) {
      out->push_back(Invalid(ChildPath(path, field), v, "may have mixed case, but should otherwise match: " + Join(errs, ",")));
    }
  }
  auto list_items = [&](const char* list) {
    const rapidjson::Value* arr = ArrayMember(names, list);
    if (!arr) return;
    for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
      std::string_view v = (*arr)[i].IsString() ? std::string_view((*arr)[i].GetString(), (*arr)[i].GetStringLength()) : "";
      auto errs = Dns1035(v);
      if (!errs.empty()) out->push_back(Invalid(IndexPath(ChildPath(path, list), i), v, Join(errs, ",")));
    }
  };
  list_items("shortNames");
  std::string_view kind = StringMember(*names, "kind");
  if (!kind.empty() && kind == StringMember(*names, "listKind")) {
    out->push_back(Invalid(ChildPath(path, "listKind"), kind, "kind and listKind may not be the same"));
  }
  list_items("categories");
}

void ValidateSimpleJsonPath(std::string_view s, const std::string& path, Causes* out) {
  if (s.empty()) {
    out->push_back(Invalid(path, s, "must not be empty"));
  } else if (s[0] != '.') {
    out->push_back(Invalid(path, s, "must be a simple json path starting with ."));
  }
}

void ValidateSubresources(const rapidjson::Value* sub, const std::string& path, Causes* out) {
  const rapidjson::Value* scale = ObjectMember(sub, "scale");
  if (!scale) return;
  struct PathRule {
    const char* name;
    bool required;
    const char* detail;
  };
  for (const PathRule& r : {PathRule{"specReplicasPath", true, "should be a json path under .spec"},
                            PathRule{"statusReplicasPath", true, "should be a json path under .status"},
                            PathRule{"labelSelectorPath", false, "should be a json path under either .spec or .status"}}) {
    std::string field = ChildPath(path, std::string("scale.") + r.name);
    std::string_view v = StringMember(*scale, r.name);
    if (v.empty()) {
      if (r.required) out->push_back(RequiredCause(field));
      continue;
    }
    size_t before = out->size();
    ValidateSimpleJsonPath(v, field, out);
    if (out->size() != before) continue;
    bool ok = std::string_view(r.name) == "specReplicasPath"     ? v.rfind(".spec.", 0) == 0
              : std::string_view(r.name) == "statusReplicasPath" ? v.rfind(".status.", 0) == 0
                                                                 : v.rfind(".spec.", 0) == 0 || v.rfind(".status.", 0) == 0;
    if (!ok) out->push_back(Invalid(field, v, r.detail));
  }
}

void ValidateColumn(const rapidjson::Value& col, const std::string& path, Causes* out) {
  if (StringMember(col, "name").empty()) out->push_back(RequiredCause(ChildPath(path, "name")));
  std::string_view type = StringMember(col, "type");
  static const std::set<std::string_view> kTypes = {"integer", "number", "string", "boolean", "date"};
  if (type.empty()) {
    out->push_back(RequiredCause(ChildPath(path, "type"), "must be one of boolean,date,integer,number,string"));
  } else if (!kTypes.count(type)) {
    out->push_back(Invalid(ChildPath(path, "type"), type, "must be one of boolean,date,integer,number,string"));
  }
  std::string_view format = StringMember(col, "format");
  static const std::set<std::string_view> kFormats = {"int32", "int64", "float", "double", "byte", "date", "date-time", "password"};
  if (!format.empty() && !kFormats.count(format)) {
    out->push_back(Invalid(ChildPath(path, "format"), format,
                           "must be one of byte,date,date-time,double,float,int32,int64,password"));
  }
  std::string_view json_path = StringMember(col, "jsonPath");
  if (json_path.empty()) {
    out->push_back(RequiredCause(ChildPath(path, "JSONPath")));
  } else {
    ValidateSimpleJsonPath(json_path, ChildPath(path, "JSONPath"), out);
  }
}

void ValidateColumns(const rapidjson::Value* cols, const std::string& path, Causes* out) {
  if (!cols) return;
  for (rapidjson::SizeType i = 0; i < cols->Size(); ++i) {
    if ((*cols)[i].IsObject()) ValidateColumn((*cols)[i], IndexPath(path, i), out);
  }
}

// validateCustomResourceDefinitionValidation for one CustomResourceValidation object.
void ValidateValidation(const rapidjson::Value* validation, bool status_enabled, const std::string& path, Causes* out) {
  const rapidjson::Value* schema = validation ? Member(*validation, "openAPIV3Schema") : nullptr;
  if (!schema || schema->IsNull()) return;
  if (!schema->IsObject()) {
    out->push_back(InvalidRawCause(ChildPath(path, "openAPIV3Schema"), FormatBadValue(*schema), "must be an object"));
    return;
  }
  Causes parse_problems;
  std::unique_ptr<SchemaNode> root = ParseSchemaNode(*schema, ChildPath(path, "openAPIV3Schema"), &parse_problems);
  if (!parse_problems.empty()) {
    out->insert(out->end(), parse_problems.begin(), parse_problems.end());
    return;
  }
  Causes rules = ValidateSchemaRules(*root, path, status_enabled);
  out->insert(out->end(), rules.begin(), rules.end());
}

bool HasStatus(const rapidjson::Value* subresources) { return ObjectMember(subresources, "status") != nullptr; }

bool SchemaHasDefaults(const rapidjson::Value& v) {
  // Any "default" member anywhere in the schema JSON (iterative).
  std::vector<const rapidjson::Value*> stack{&v};
  while (!stack.empty()) {
    const rapidjson::Value* x = stack.back();
    stack.pop_back();
    if (x->IsObject()) {
      for (const auto& m : x->GetObject()) {
        if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == "default" && !m.value.IsNull()) return true;
        stack.push_back(&m.value);
      }
    } else if (x->IsArray()) {
      for (const auto& e : x->GetArray()) stack.push_back(&e);
    }
  }
  return false;
}

bool IsProtectedGroup(std::string_view g) {
  auto ends_with = [&](std::string_view suffix) {
    return g.size() >= suffix.size() && g.substr(g.size() - suffix.size()) == suffix;
  };
  return g == "k8s.io" || ends_with(".k8s.io") || g == "kubernetes.io" || ends_with(".kubernetes.io");
}

enum class Approval { kMissing, kInvalid, kApproved, kBypassed };

Approval ApprovalState(const rapidjson::Value& crd, std::string* value) {
  const rapidjson::Value* ann = ObjectMember(ObjectMember(&crd, "metadata"), "annotations");
  const rapidjson::Value* v = ann ? Member(*ann, "api-approved.kubernetes.io") : nullptr;
  if (!v || !v->IsString()) return Approval::kMissing;
  *value = std::string(v->GetString(), v->GetStringLength());
  if (value->rfind("unapproved", 0) == 0) return Approval::kBypassed;
  size_t colon = value->find("://");
  if (colon != std::string::npos && colon > 0 && value->find_first_of(" \t\r\n") == std::string::npos) {
    return Approval::kApproved;
  }
  return Approval::kInvalid;
}

void ValidateApiApproval(const rapidjson::Value& crd, const rapidjson::Value* old, Causes* out) {
  const rapidjson::Value* spec = ObjectMember(&crd, "spec");
  if (!spec || !IsProtectedGroup(StringMember(*spec, "group"))) return;
  std::string value, old_value;
  Approval state = ApprovalState(crd, &value);
  if (old && ApprovalState(*old, &old_value) == state) return;
  std::string field = "metadata.annotations[api-approved.kubernetes.io]";
  if (state == Approval::kMissing) {
    out->push_back(RequiredCause(field,
                                 "protected groups must have approval annotation \"api-approved.kubernetes.io\", see "
                                 "https://github.com/kubernetes/enhancements/pull/1111"));
  } else if (state == Approval::kInvalid) {
    out->push_back(Invalid(field, value,
                           "protected groups must have approval annotation \"api-approved.kubernetes.io\" with either "
                           "a URL or a reason starting with \"unapproved\", see "
                           "https://github.com/kubernetes/enhancements/pull/1111"));
  }
}

void Immutable(const rapidjson::Value* now, const rapidjson::Value* before, std::string_view name, const std::string& path,
               Causes* out) {
  if (!now || !before) return;
  std::string_view a = StringMember(*now, name), b = StringMember(*before, name);
  if (a != b) out->push_back(Invalid(ChildPath(path, name), a, "field is immutable"));
}

}  // namespace

void DefaultCrd(rapidjson::Value& crd, rapidjson::Document::AllocatorType& a) {
  if (!crd.IsObject()) return;
  rapidjson::Value* spec = json::MutableMember(crd, "spec");
  if (!spec || !spec->IsObject()) return;
  rapidjson::Value* names = json::MutableMember(*spec, "names");
  if (names && names->IsObject()) {
    std::string kind(StringMember(*names, "kind"));
    const rapidjson::Value* singular = Member(*names, "singular");
    if (!singular || singular->IsNull() || (singular->IsString() && singular->GetStringLength() == 0)) {
      json::SetStringMember(*names, "singular", Lower(kind), a);
    }
    const rapidjson::Value* list_kind = Member(*names, "listKind");
    if (!kind.empty() && (!list_kind || list_kind->IsNull() || (list_kind->IsString() && list_kind->GetStringLength() == 0))) {
      json::SetStringMember(*names, "listKind", kind + "List", a);
    }
  }
  const rapidjson::Value* conversion = Member(*spec, "conversion");
  if (!conversion || conversion->IsNull()) {
    rapidjson::Value c(rapidjson::kObjectType);
    c.AddMember("strategy", "None", a);
    json::SetMember(*spec, "conversion", std::move(c), a);
  }
}

std::vector<StatusCause> ValidateCrd(const rapidjson::Value& crd, const rapidjson::Value* old) {
  Causes out;
  if (!crd.IsObject()) {
    out.push_back(InvalidRawCause("<nil>", FormatBadValue(crd), "must be a JSON object"));
    return out;
  }
  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value* spec_ptr = ObjectMember(&crd, "spec");
  const rapidjson::Value& spec = spec_ptr ? *spec_ptr : kEmpty;
  const rapidjson::Value* names = ObjectMember(&spec, "names");
  std::string_view group = StringMember(spec, "group");
  std::string_view plural = names ? StringMember(*names, "plural") : "";

  // metadata
  for (StatusCause& c : validation::ValidateObjectMeta(crd, validation::NameRule::kDns1123Subdomain)) out.push_back(c);
  const rapidjson::Value* metadata = ObjectMember(&crd, "metadata");
  std::string_view name = metadata ? StringMember(*metadata, "name") : "";
  if (!name.empty() && name != std::string(plural) + "." + std::string(group)) {
    out.push_back(Invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
  }
  if (metadata && !StringMember(*metadata, "namespace").empty()) {
    out.push_back(ForbiddenCause("metadata.namespace", "not allowed on this type"));
  }

  // group, scope
  if (group.empty()) {
    out.push_back(RequiredCause("spec.group"));
  } else if (auto errs = validation::ValidateName(group, validation::NameRule::kDns1123Subdomain); !errs.empty()) {
    out.push_back(Invalid("spec.group", group, Join(errs, ",")));
  } else if (group.find('.') == std::string_view::npos) {
    out.push_back(Invalid("spec.group", group, "should be a domain with at least one dot"));
  }
  std::string_view scope = StringMember(spec, "scope");
  if (scope.empty()) {
    out.push_back(RequiredCause("spec.scope"));
  } else if (scope != "Cluster" && scope != "Namespaced") {
    out.push_back(NotSupported("spec.scope", scope, {"Cluster", "Namespaced"}));
  }

  // Versions, folded as Kubernetes' v1 -> internal conversion does.
  const rapidjson::Value* versions = ArrayMember(&spec, "versions");
  static const rapidjson::Value kNoVersions(rapidjson::kArrayType);
  if (!versions) versions = &kNoVersions;
  auto version_member = [&](rapidjson::SizeType i, std::string_view field) -> const rapidjson::Value* {
    const rapidjson::Value& v = (*versions)[i];
    if (!v.IsObject()) return nullptr;
    const rapidjson::Value* m = Member(v, field);
    return m && !m->IsNull() ? m : nullptr;
  };
  bool fold_schema = versions->Size() > 0, fold_sub = versions->Size() > 0, fold_cols = versions->Size() > 0;
  for (rapidjson::SizeType i = 1; i < versions->Size(); ++i) {
    if (!Equal(version_member(i, "schema"), version_member(0, "schema"))) fold_schema = false;
    if (!Equal(version_member(i, "subresources"), version_member(0, "subresources"))) fold_sub = false;
    if (!Equal(version_member(i, "additionalPrinterColumns"), version_member(0, "additionalPrinterColumns"))) fold_cols = false;
  }
  const rapidjson::Value* top_validation = fold_schema ? version_member(0, "schema") : nullptr;
  const rapidjson::Value* top_subresources = fold_sub ? version_member(0, "subresources") : nullptr;
  const rapidjson::Value* top_columns = fold_cols ? version_member(0, "additionalPrinterColumns") : nullptr;
  if (top_columns && (!top_columns->IsArray() || top_columns->Empty())) top_columns = nullptr;

  const rapidjson::Value* top_schema = top_validation && top_validation->IsObject() ? Member(*top_validation, "openAPIV3Schema") : nullptr;
  if (!top_schema || top_schema->IsNull()) {
    for (rapidjson::SizeType i = 0; i < versions->Size(); ++i) {
      const rapidjson::Value* s = version_member(i, "schema");
      const rapidjson::Value* o = s && s->IsObject() ? Member(*s, "openAPIV3Schema") : nullptr;
      if (!o || o->IsNull()) {
        out.push_back(RequiredCause("spec.versions[" + std::to_string(i) + "].schema.openAPIV3Schema", "schemas are required"));
      }
    }
  }
  bool preserve_unknown = BoolMember(spec, "preserveUnknownFields");
  bool has_defaults = false;
  for (rapidjson::SizeType i = 0; i < versions->Size(); ++i) {
    const rapidjson::Value* s = version_member(i, "schema");
    if (s && SchemaHasDefaults(*s)) has_defaults = true;
  }
  if (has_defaults && preserve_unknown) {
    out.push_back(InvalidRawCause("spec.preserveUnknownFields", "true", "must be false in order to use defaults in the schema"));
  }

  bool any_status = HasStatus(top_subresources);
  for (rapidjson::SizeType i = 0; i < versions->Size(); ++i) {
    if (HasStatus(version_member(i, "subresources"))) any_status = true;
  }

  int storage = 0;
  std::set<std::string> seen;
  bool unique = true;
  for (rapidjson::SizeType i = 0; i < versions->Size(); ++i) {
    const rapidjson::Value& v = (*versions)[i];
    std::string vpath = "spec.versions[" + std::to_string(i) + "]";
    if (!v.IsObject()) {
      out.push_back(InvalidRawCause(vpath, FormatBadValue(v), "must be an object"));
      continue;
    }
    if (BoolMember(v, "storage")) ++storage;
    std::string vname(StringMember(v, "name"));
    if (!seen.insert(vname).second) unique = false;
    if (auto errs = Dns1035(vname); !errs.empty()) out.push_back(Invalid(vpath + ".name", vname, Join(errs, ",")));
    // deprecationWarning
    if (const rapidjson::Value* w = Member(v, "deprecationWarning"); w && w->IsString()) {
      std::string_view warning(w->GetString(), w->GetStringLength());
      std::string field = vpath + ".deprecationWarning";
      if (!BoolMember(v, "deprecated")) {
        out.push_back(Invalid(field, warning, "can only be set for deprecated versions"));
      } else {
        if (warning.size() > 256) out.push_back(Invalid(field, warning, "must be <= 256 characters long"));
        if (warning.empty()) out.push_back(Invalid(field, warning, "must not be an empty string"));
        for (size_t k = 0; k < warning.size();) {
          int width = 1;
          char32_t r = DecodeRune(warning, k, &width);
          if (r < 0x20 || (r >= 0x7F && r < 0xA0)) {
            out.push_back(Invalid(field, warning,
                                  "must only contain printable UTF-8 characters; control character found at index " +
                                      std::to_string(k)));
            break;
          }
          k += static_cast<size_t>(width);
        }
      }
    }
    const rapidjson::Value* sub = fold_sub ? top_subresources : version_member(i, "subresources");
    if (!fold_schema) {
      ValidateValidation(version_member(i, "schema"), HasStatus(sub), vpath + ".schema", &out);
    }
    if (!fold_sub) ValidateSubresources(version_member(i, "subresources"), vpath + ".subresources", &out);
    if (!fold_cols) ValidateColumns(ArrayMember(&v, "additionalPrinterColumns"), vpath + ".additionalPrinterColumns", &out);
  }
  std::string versions_json = CompactJson(*versions);
  if (!unique) out.push_back(InvalidRawCause("spec.versions", versions_json, "must contain unique version names"));
  if (storage != 1) {
    out.push_back(InvalidRawCause("spec.versions", versions_json, "must have exactly one version marked as storage version"));
  }
  if (versions->Size() > 0 && (*versions)[0].IsObject()) {
    std::string_view first = StringMember((*versions)[0], "name");
    if (!first.empty()) {
      if (auto errs = Dns1035(first); !errs.empty()) out.push_back(Invalid("spec.version", first, Join(errs, ",")));
    }
  }

  for (const char* field : {"plural", "singular", "kind", "listKind"}) {
    if (!names || StringMember(*names, field).empty()) out.push_back(RequiredCause(std::string("spec.names.") + field));
  }
  ValidateNames(names, "spec.names", &out);
  if (fold_schema) ValidateValidation(top_validation, any_status, "spec.validation", &out);
  if (fold_sub) ValidateSubresources(top_subresources, "spec.subresources", &out);
  if (fold_cols) ValidateColumns(top_columns, "spec.additionalPrinterColumns", &out);

  // conversion
  if (const rapidjson::Value* conversion = ObjectMember(&spec, "conversion")) {
    std::string_view strategy = StringMember(*conversion, "strategy");
    if (strategy.empty()) {
      out.push_back(RequiredCause("spec.conversion.strategy"));
    } else if (strategy != "None") {
      out.push_back(NotSupported("spec.conversion.strategy", strategy, {"None"}));
    } else if (const rapidjson::Value* webhook = ObjectMember(conversion, "webhook")) {
      if (ObjectMember(webhook, "clientConfig")) {
        out.push_back(ForbiddenCause("spec.conversion.webhookClientConfig",
                                     "should not be set when strategy is not set to Webhook"));
      }
      if (const rapidjson::Value* crv = ArrayMember(webhook, "conversionReviewVersions"); crv && !crv->Empty()) {
        out.push_back(ForbiddenCause("spec.conversion.conversionReviewVersions",
                                     "should not be set when strategy is not set to Webhook"));
      }
    }
  }

  // status.storedVersions as Kubernetes prepares them: the storage version on create; the
  // old list plus the storage version on update.
  std::vector<std::string> stored;
  if (old) {
    if (const rapidjson::Value* list = ArrayMember(ObjectMember(old, "status"), "storedVersions")) {
      for (const auto& s : list->GetArray()) {
        if (s.IsString()) stored.emplace_back(s.GetString(), s.GetStringLength());
      }
    }
  }
  for (rapidjson::SizeType i = 0; i < versions->Size(); ++i) {
    const rapidjson::Value& v = (*versions)[i];
    if (v.IsObject() && BoolMember(v, "storage")) {
      std::string sv(StringMember(v, "name"));
      if (std::find(stored.begin(), stored.end(), sv) == stored.end()) stored.push_back(sv);
      break;
    }
  }
  if (stored.empty()) {
    out.push_back(InvalidRawCause("status.storedVersions", "[]string(nil)", "must have at least one stored version"));
  } else {
    for (size_t i = 0; i < stored.size(); ++i) {
      bool present = false;
      for (const auto& v : versions->GetArray()) present = present || (v.IsObject() && StringMember(v, "name") == stored[i]);
      if (!present) {
        const std::string& s = stored[i];
        out.push_back(Invalid("status.storedVersions[" + std::to_string(i) + "]", s,
                              "missing from spec.versions; " + s + " was previously a storage version, and must remain "
                              "in spec.versions until a storage migration ensures no data remains persisted in " + s +
                              " and removes " + s + " from status.storedVersions"));
      }
    }
  }

  ValidateApiApproval(crd, old, &out);
  bool old_preserve = old && ObjectMember(old, "spec") && BoolMember(*ObjectMember(old, "spec"), "preserveUnknownFields");
  if (preserve_unknown && !old_preserve) {
    out.push_back(InvalidRawCause("spec.preserveUnknownFields", "true",
                                  "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                                  "spec.versions[*].schema instead"));
  }

  if (old) {
    const rapidjson::Value* old_spec = ObjectMember(old, "spec");
    if (old_spec && IsEstablished(*old)) {
      Immutable(&spec, old_spec, "scope", "spec", &out);
      Immutable(names, ObjectMember(old_spec, "names"), "kind", "spec.names", &out);
    }
    Immutable(&spec, old_spec, "group", "spec", &out);
    Immutable(names, ObjectMember(old_spec, "names"), "plural", "spec.names", &out);
  }
  return out;
}

}  // namespace kite::crd
