#include "src/server/crd/served_versions.h"

#include "src/server/json/json_util.h"
#include "src/server/tables/column_path.h"

namespace kite::crd {
namespace {

using json::Member;
using json::StringMember;

const rapidjson::Value* Object(const rapidjson::Value* v, std::string_view name) {
  if (!v) return nullptr;
  const rapidjson::Value* m = Member(*v, name);
  return m && m->IsObject() ? m : nullptr;
}

std::vector<std::string> Strings(const rapidjson::Value* obj, std::string_view name) {
  std::vector<std::string> out;
  const rapidjson::Value* arr = obj ? Member(*obj, name) : nullptr;
  if (!arr || !arr->IsArray()) return out;
  for (const auto& s : arr->GetArray()) {
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

}  // namespace

Result<std::vector<ServedVersion>> ServedVersionsOf(const rapidjson::Value& crd) {
  const rapidjson::Value* spec = Object(&crd, "spec");
  if (!spec) return InvalidArgumentError("CustomResourceDefinition has no spec");
  const rapidjson::Value* names = Object(Object(&crd, "status"), "acceptedNames");
  if (!names || StringMember(*names, "plural").empty()) names = Object(spec, "names");
  if (!names) return InvalidArgumentError("CustomResourceDefinition has no spec.names");
  const rapidjson::Value* versions = Member(*spec, "versions");
  if (!versions || !versions->IsArray()) return InvalidArgumentError("CustomResourceDefinition has no spec.versions");

  std::string group(StringMember(*spec, "group"));
  std::string kind(StringMember(*names, "kind"));
  std::string plural(StringMember(*names, "plural"));
  if (group.empty() || kind.empty() || plural.empty()) {
    return InvalidArgumentError("CustomResourceDefinition lacks spec.group, names.kind or names.plural");
  }
  std::string storage_version;
  for (const auto& v : versions->GetArray()) {
    const rapidjson::Value* storage = v.IsObject() ? Member(v, "storage") : nullptr;
    if (storage && storage->IsBool() && storage->GetBool()) storage_version = std::string(StringMember(v, "name"));
  }
  std::string list_kind(StringMember(*names, "listKind"));
  if (list_kind.empty()) list_kind = kind + "List";
  std::string singular(StringMember(*names, "singular"));
  if (singular.empty()) {
    singular = kind;
    for (char& c : singular) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
  }

  std::vector<ServedVersion> out;
  for (const auto& v : versions->GetArray()) {
    if (!v.IsObject()) continue;
    const rapidjson::Value* served = Member(v, "served");
    if (!served || !served->IsBool() || !served->GetBool()) continue;
    ServedVersion sv;
    sv.name = std::string(StringMember(v, "name"));
    sv.storage = sv.name == storage_version;
    const rapidjson::Value* deprecated = Member(v, "deprecated");
    sv.deprecated = deprecated && deprecated->IsBool() && deprecated->GetBool();
    sv.deprecation_warning = std::string(StringMember(v, "deprecationWarning"));

    resources::ResourceInfo& info = sv.info;
    info.group = group;
    info.version = sv.name;
    info.resource = plural;
    info.singular = singular;
    info.kind = kind;
    info.list_kind = list_kind;
    info.namespaced = StringMember(*spec, "scope") != "Cluster";
    info.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
    info.short_names = Strings(names, "shortNames");
    info.categories = Strings(names, "categories");
    if (!storage_version.empty()) info.storage_version_hash = resources::StorageVersionHash(group, storage_version, kind);

    const rapidjson::Value* sub = Object(&v, "subresources");
    if (Object(sub, "status")) {
      sv.status_subresource = true;
      info.subresources.push_back({"status", "", "", kind, {"get", "patch", "update"}});
    }
    if (const rapidjson::Value* scale = Object(sub, "scale")) {
      sv.scale = ScaleSubresource{std::string(StringMember(*scale, "specReplicasPath")),
                                  std::string(StringMember(*scale, "statusReplicasPath")),
                                  std::string(StringMember(*scale, "labelSelectorPath"))};
      info.subresources.push_back({"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}});
    }

    const rapidjson::Value* columns = Member(v, "additionalPrinterColumns");
    if (columns && columns->IsArray() && !columns->Empty()) {
      for (const auto& c : columns->GetArray()) {
        if (!c.IsObject()) continue;
        tables::CustomColumn col;
        col.name = std::string(StringMember(c, "name"));
        col.type = std::string(StringMember(c, "type"));
        col.format = std::string(StringMember(c, "format"));
        col.description = std::string(StringMember(c, "description"));
        const rapidjson::Value* priority = Member(c, "priority");
        if (priority && priority->IsInt()) col.priority = priority->GetInt();
        col.json_path = std::string(StringMember(c, "jsonPath"));
        if (tables::ColumnPath::Parse(col.json_path).ok()) sv.printer_columns.push_back(std::move(col));
      }
    } else {
      sv.printer_columns = tables::DefaultCustomColumns();
    }

    const rapidjson::Value* schema = Object(&v, "schema");
    const rapidjson::Value* open_api = schema ? Member(*schema, "openAPIV3Schema") : nullptr;
    if (!open_api || !open_api->IsObject()) {
      return InvalidArgumentError("version " + sv.name + " has no schema.openAPIV3Schema");
    }
    Result<StructuralSchema> compiled = StructuralSchema::Compile(*open_api);
    if (!compiled.ok()) {
      return InvalidArgumentError("version " + sv.name + ": " + compiled.status().message());
    }
    sv.schema = std::make_shared<const StructuralSchema>(std::move(*compiled));
    auto raw = std::make_shared<rapidjson::Document>();
    raw->CopyFrom(*open_api, raw->GetAllocator());
    sv.open_api_v3_schema = std::move(raw);
    out.push_back(std::move(sv));
  }
  return out;
}

}  // namespace kite::crd
