#include "src/server/apiserver/version_conversion.h"

#include "src/server/apiserver/event_conversion.h"
#include "src/server/apiserver/hpa_conversion.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

// The version part of `api_version` when it is a version of `group` ("" otherwise).
std::string_view VersionIn(std::string_view group, std::string_view api_version) {
  if (group.empty()) return api_version.find('/') == std::string_view::npos ? api_version : std::string_view();
  if (api_version.size() <= group.size() + 1 || api_version.substr(0, group.size()) != group ||
      api_version[group.size()] != '/') {
    return {};
  }
  return api_version.substr(group.size() + 1);
}

// "group/version", or "version" for the core group "".
std::string ApiVersionOf(std::string_view group, std::string_view version) {
  return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
}

}  // namespace

void VersionConversions::Register(std::string group, std::string kind, std::string storage_version,
                                  ConvertFunc convert) {
  // Both ends are versions of `group` (Convert checks), so the converter sees bare versions.
  std::string g = group;
  ApiVersionConvertFunc by_api_version = [g, convert = std::move(convert)](
                                             rapidjson::Document& object, std::string_view from,
                                             std::string_view to) {
    return convert(object, VersionIn(g, from), VersionIn(g, to));
  };
  RegisterStoredIn(std::move(group), std::move(kind), std::move(g), std::move(storage_version),
                   std::move(by_api_version));
}

void VersionConversions::RegisterStoredIn(std::string group, std::string kind, std::string storage_group,
                                          std::string storage_version, ApiVersionConvertFunc convert) {
  entries_[{std::move(group), std::move(kind)}] =
      Entry{std::move(storage_group), std::move(storage_version), std::move(convert)};
}

const VersionConversions& VersionConversions::Builtin() {
  static const VersionConversions* builtin = [] {
    auto* c = new VersionConversions();
    c->Register("autoscaling", "HorizontalPodAutoscaler", "v2", ConvertHorizontalPodAutoscaler);
    c->RegisterStoredIn("events.k8s.io", "Event", "", "v1", ConvertEvent);
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

std::string_view VersionConversions::StorageGroup(std::string_view group, std::string_view kind) const {
  const Entry* e = Find(group, kind);
  return e ? std::string_view(e->storage_group) : group;
}

Status VersionConversions::Convert(const Entry& e, std::string_view group, const std::string& to_api_version,
                                   rapidjson::Document& object) const {
  if (!object.IsObject()) return InvalidArgumentError("the object is not a JSON object");
  std::string_view from = json::StringMember(object, "apiVersion");
  std::string storage = ApiVersionOf(e.storage_group, e.storage_version);
  if (VersionIn(group, from).empty() && from != storage) {
    return InvalidArgumentError("apiVersion \"" + std::string(from) + "\" is not a version of group \"" +
                                std::string(group) + "\"");
  }
  if (from == to_api_version) return Status::Ok();
  std::string from_copy(from);  // the converter rewrites apiVersion
  return e.convert(object, from_copy, to_api_version);
}

Status VersionConversions::ConvertTo(std::string_view group, std::string_view kind,
                                     std::string_view version, rapidjson::Document& object) const {
  const Entry* e = Find(group, kind);
  if (!e) return Status::Ok();
  return Convert(*e, group, ApiVersionOf(group, version), object);
}

Status VersionConversions::ConvertToStorage(std::string_view group, std::string_view kind,
                                            rapidjson::Document& object) const {
  const Entry* e = Find(group, kind);
  if (!e) return Status::Ok();
  return Convert(*e, group, ApiVersionOf(e->storage_group, e->storage_version), object);
}

Result<std::string> VersionConversions::ConvertJsonTo(std::string_view group, std::string_view kind,
                                                      std::string_view version, std::string json) const {
  if (!Find(group, kind)) return json;
  Result<rapidjson::Document> doc = json::ParseJsonObject(json);
  if (!doc.ok()) return doc.status();
  if (json::StringMember(*doc, "apiVersion") == ApiVersionOf(group, version)) return json;
  KITE_RETURN_IF_ERROR(ConvertTo(group, kind, version, *doc));
  return json::ToJson(*doc);
}

}  // namespace kite::apiserver
