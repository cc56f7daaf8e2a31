#include "src/server/openapi/openapi_service.h"

#include "src/server/openapi/openapi_v2.h"
#include "src/server/openapi/openapi_v3.h"
#include "src/server/resources/sha256.h"

namespace kite::openapi {
namespace {

constexpr std::string_view kV3Prefix = "/openapi/v3";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether an Accept header admits JSON: empty, or one of its media ranges is
// application/json, application/* or */* (parameters such as q= are ignored; a range
// with q=0 is still taken as acceptable, which no client sends).
bool AcceptsJson(std::string_view accept) {
  if (Trim(accept).empty()) return true;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    range = Trim(range.substr(0, range.find(';')));
    if (range == "application/json" || range == "application/*" || range == "*/*") return true;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return false;
}

// The value of `name` in a raw query string, not percent-decoded (hashes are hex).
std::string_view QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view tag = Trim(if_none_match.substr(0, comma));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag || tag == "*") return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

OpenApiResponse NotFound() {
  OpenApiResponse r;
  r.status = 404;
  r.content_type = "application/json";
  r.body =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
      "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\","
      "\"details\":{},\"code\":404}";
  return r;
}

}  // namespace

std::string ContentHash(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (uint8_t b : resources::Sha256(bytes)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::unique_ptr<OpenApiService> OpenApiService::Build(const schema::SchemaRegistry& registry,
                                                      const resources::ResourceTable& table,
                                                      const CustomResources& custom) {
  std::unique_ptr<OpenApiService> service(new OpenApiService());
  std::vector<std::pair<std::string, std::string>> key_hashes;
  for (const resources::GroupInfo& group : table.Groups()) {
    for (const std::string& version : group.versions) {
      Result<std::string> doc = BuildV3Document(registry, table, group.name, version, custom);
      if (!doc.ok()) continue;  // Groups() lists only served group versions; cannot happen
      std::string key = V3PathKey(group.name, version);
      Document d{std::move(doc).value(), ""};
      d.hash = ContentHash(d.body);
      key_hashes.emplace_back(key, d.hash);
      service->v3_.emplace(std::move(key), std::move(d));
    }
  }
  service->v3_root_.body = BuildV3Root(key_hashes);
  service->v3_root_.hash = ContentHash(service->v3_root_.body);
  service->v2_.body = BuildV2Document(registry, table, custom);
  service->v2_.hash = ContentHash(service->v2_.body);
  return service;
}

OpenApiResponse OpenApiService::Answer(const Document& doc, const OpenApiRequest& request,
                                       bool immutable) const {
  OpenApiResponse r;
  if (!AcceptsJson(request.accept)) {
    r.status = 406;
    r.content_type = "application/json";
    r.body =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"only application/json is served here\",\"reason\":\"NotAcceptable\","
        "\"details\":{},\"code\":406}";
    return r;
  }
  std::string etag = "\"" + doc.hash + "\"";
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Vary", "Accept");
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache, private");
  r.content_type = "application/json";
  if (!request.if_none_match.empty() && EtagMatches(request.if_none_match, etag)) {
    r.status = 304;
    return r;
  }
  r.body = doc.body;
  return r;
}

std::optional<OpenApiResponse> OpenApiService::Serve(const OpenApiRequest& request) const {
  std::string_view path = request.path;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/openapi/v2") return Answer(v2_, request, false);
  if (path == kV3Prefix) return Answer(v3_root_, request, false);
  if (!path.starts_with(kV3Prefix) || path[kV3Prefix.size()] != '/') return std::nullopt;
  std::string_view key = path.substr(kV3Prefix.size() + 1);
  auto it = v3_.find(key);
  if (it == v3_.end()) return NotFound();
  std::string_view hash = QueryValue(request.query, "hash");
  return Answer(it->second, request, !hash.empty() && hash == it->second.hash);
}

}  // namespace kite::openapi
