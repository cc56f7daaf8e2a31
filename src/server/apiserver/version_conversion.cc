#include "src/server/apiserver/version_conversion.h"

#include "src/server/apiserver/hpa_conversion.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {

void VersionConversions::Register(std::string group, std::string kind, std::string storage_version,
                                  ConvertFunc convert) {
  entries_[{std::move(group), std::move(kind)}] = Entry{std::move(storage_version), std::move(convert)};
}

const VersionConversions& VersionConversions::Builtin() {
  static const VersionConversions* builtin = [] {
    auto* c = new VersionConversions();
    c->Register("autoscaling", "HorizontalPodAutoscaler", "v2", ConvertHorizontalPodAutoscaler);
    return c;
  }();
  return *builtin;
}

const VersionConversions::Entry* VersionConversions::Find(std::string_view group,
                                                          std::string_view kind) const {
  if (entries_.empty()) return nullptr;
  auto it = entries_.find(std::make_pair(std::string(group), std::string(kind)));
  return it == entries_.end() ? nullptr : &it->second;
}

std::string_view VersionConversions::StorageVersion(std::string_view group, std::string_view kind) const {
  const Entry* e = Find(group, kind);
  return e ? std::string_view(e->storage_version) : std::string_view();
}

Status VersionConversions::ConvertTo(std::string_view group, std::string_view kind,
                                     std::string_view version, rapidjson::Document& object) const {
  const Entry* e = Find(group, kind);
  if (!e) return Status::Ok();
  if (!object.IsObject()) return InvalidArgumentError("the object is not a JSON object");
  std::string_view api_version = json::StringMember(object, "apiVersion");
  std::string prefix = group.empty() ? std::string() : std::string(group) + "/";
  if (api_version.substr(0, prefix.size()) != prefix || api_version.size() == prefix.size()) {
    return InvalidArgumentError("apiVersion \"" + std::string(api_version) + "\" is not a version of group \"" +
                                std::string(group) + "\"");
  }
  std::string from(api_version.substr(prefix.size()));
  if (from == version) return Status::Ok();
  return e->convert(object, from, version);
}

Result<std::string> VersionConversions::ConvertJsonTo(std::string_view group, std::string_view kind,
                                                      std::string_view version, std::string json) const {
  if (!Find(group, kind)) return json;
  Result<rapidjson::Document> doc = json::ParseJsonObject(json);
  if (!doc.ok()) return doc.status();
  std::string_view api_version = json::StringMember(*doc, "apiVersion");
  if (api_version == (group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version))) {
    return json;
  }
  KITE_RETURN_IF_ERROR(ConvertTo(group, kind, version, *doc));
  return json::ToJson(*doc);
}

}  // namespace kite::apiserver
