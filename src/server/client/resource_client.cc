#include "src/server/client/resource_client.h"

#include "src/server/json/json_util.h"

namespace kite::client {

using rapidjson::Document;

ResourceClient::ResourceClient(ApiTransport* transport, ResourceRef ref)
    : transport_(transport), ref_(std::move(ref)) {}

std::string ResourceClient::PathOf(std::string_view ns, std::string_view name,
                                   std::string_view subresource) const {
  std::string path = ref_.group.empty() ? "/api/" + ref_.version
                                        : "/apis/" + ref_.group + "/" + ref_.version;
  if (ref_.namespaced && !ns.empty()) path += "/namespaces/" + std::string(ns);
  path += "/" + ref_.resource;
  if (!name.empty()) path += "/" + std::string(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status StatusFromResponse(const ClientResponse& response) {
  std::string message = "HTTP " + std::to_string(response.status);
  std::string reason;
  if (Result<Document> status = json::ParseJsonObject(response.body); status.ok()) {
    if (std::string_view m = json::StringMember(*status, "message"); !m.empty()) message = m;
    reason = json::StringMember(*status, "reason");
  }
  StatusCode code = StatusCode::kUnavailable;
  if (response.status == 404) {
    code = StatusCode::kNotFound;
  } else if (response.status == 409) {
    code = reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kConflict;
  } else if (response.status == 410) {
    code = StatusCode::kCompacted;
  } else if (response.status == 400 || response.status == 422) {
    code = StatusCode::kInvalidArgument;
  }
  return Status(code, message);
}

Result<Document> ResourceClient::Send(ClientRequest request) const {
  ClientResponse response = transport_->Do(request);
  if (response.status < 200 || response.status > 299) return StatusFromResponse(response);
  return json::ParseJson(response.body);
}

namespace {

ClientRequest Req(std::string method, std::string path, std::string query = "",
                  std::string body = "", std::string content_type = "application/json") {
  return {std::move(method), std::move(path), std::move(query), std::move(body), std::move(content_type)};
}

std::string ListQuery(const ListOptions& options, bool watch) {
  std::string q;
  auto add = [&q](std::string_view name, std::string_view value) {
    q += (q.empty() ? "" : "&") + std::string(name) + "=" + QueryEscape(value);
  };
  if (!options.label_selector.empty()) add("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) add("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) add("resourceVersion", options.resource_version);
  if (watch) {
    add("watch", "true");
    if (options.allow_bookmarks) add("allowWatchBookmarks", "true");
    if (options.timeout_seconds > 0) add("timeoutSeconds", std::to_string(options.timeout_seconds));
  }
  return q;
}

std::string_view NamespaceOf(const rapidjson::Value& object) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  return md ? json::StringMember(*md, "namespace") : std::string_view();
}

std::string_view NameOf(const rapidjson::Value& object) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  return md ? json::StringMember(*md, "name") : std::string_view();
}

}  // namespace

Result<Document> ResourceClient::Get(std::string_view ns, std::string_view name) const {
  return Send(Req("GET", PathOf(ns, name)));
}

Result<Document> ResourceClient::List(std::string_view ns, const ListOptions& options) const {
  return Send(Req("GET", PathOf(ns), ListQuery(options, false)));
}

Result<std::unique_ptr<WatchReader>> ResourceClient::Watch(std::string_view ns,
                                                           const ListOptions& options) const {
  return transport_->Watch(Req("GET", PathOf(ns), ListQuery(options, true)));
}

Result<Document> ResourceClient::Create(std::string_view ns, const rapidjson::Value& object) const {
  return Send(Req("POST", PathOf(ns), "", json::ToJson(object)));
}

Result<Document> ResourceClient::Update(const rapidjson::Value& object) const {
  return Send(Req("PUT", PathOf(NamespaceOf(object), NameOf(object)), "", json::ToJson(object)));
}

Result<Document> ResourceClient::UpdateStatus(const rapidjson::Value& object) const {
  return Send(Req("PUT", PathOf(NamespaceOf(object), NameOf(object), "status"), "",
                   json::ToJson(object)));
}

Result<Document> ResourceClient::Patch(std::string_view ns, std::string_view name, PatchType type,
                                       std::string_view patch, std::string_view subresource) const {
  const char* content_type = type == PatchType::kMerge       ? "application/merge-patch+json"
                             : type == PatchType::kStrategic ? "application/strategic-merge-patch+json"
                                                             : "application/json-patch+json";
  return Send(Req("PATCH", PathOf(ns, name, subresource), "", std::string(patch), content_type));
}

Status ResourceClient::Delete(std::string_view ns, std::string_view name,
                              std::string_view options_json) const {
  Result<Document> r = Send(Req("DELETE", PathOf(ns, name), "", std::string(options_json)));
  return r.ok() ? Status() : r.status();
}

Status ResourceClient::DeleteCollection(std::string_view ns) const {
  Result<Document> r = Send(Req("DELETE", PathOf(ns)));
  return r.ok() ? Status() : r.status();
}

Result<Document> ResourceClient::CreateSubresource(std::string_view ns, std::string_view name,
                                                   std::string_view subresource,
                                                   const rapidjson::Value& body) const {
  return Send(Req("POST", PathOf(ns, name, subresource), "", json::ToJson(body)));
}

Result<Document> ResourceClient::GetSubresource(std::string_view ns, std::string_view name,
                                                std::string_view subresource) const {
  return Send(Req("GET", PathOf(ns, name, subresource)));
}

Result<Document> ResourceClient::UpdateSubresource(std::string_view ns, std::string_view name,
                                                   std::string_view subresource,
                                                   const rapidjson::Value& body) const {
  return Send(Req("PUT", PathOf(ns, name, subresource), "", json::ToJson(body)));
}

}  // namespace kite::client
