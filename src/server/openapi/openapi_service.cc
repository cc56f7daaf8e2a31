#include "src/server/openapi/openapi_service.h"

#include <algorithm>
#include <cstdlib>

#include "src/server/openapi/openapi_v2.h"
#include "src/server/openapi/openapi_v2_proto.h"
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

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kProtoV2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
// What client-go sends; kube-openapi still accepts it and answers with kProtoV2.
constexpr std::string_view kProtoV2Deprecated =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

enum class Form { kNone, kJson, kProtobuf };

struct MediaRange {
  std::string_view type;
  std::string_view subtype;
  double q = 1.0;
};

// The media ranges of an Accept header (empty: */*), most preferred first: by descending q,
// then concrete types and subtypes before wildcards, then the header's order. Malformed
// ranges are dropped; a q that does not parse counts as 0 and, like q=0, still matches
// (kube-openapi's negotiation does the same).
std::vector<MediaRange> ParseAccept(std::string_view accept) {
  if (Trim(accept).empty()) accept = "*/*";
  std::vector<MediaRange> ranges;
  while (true) {
    size_t comma = accept.find(',');
    std::string_view part = accept.substr(0, comma);
    size_t semi = part.find(';');
    std::string_view range = Trim(part.substr(0, semi));
    MediaRange r;
    size_t slash = range.find('/');
    if (range == "*") {
      r.type = r.subtype = "*";
    } else if (slash != std::string_view::npos &&
               range.find('/', slash + 1) == std::string_view::npos) {
      r.type = Trim(range.substr(0, slash));
      r.subtype = Trim(range.substr(slash + 1));
    }
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : part.substr(semi + 1);
    while (!params.empty()) {
      size_t next = params.find(';');
      std::string_view param = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      size_t eq = param.find('=');
      if (eq == std::string_view::npos || Trim(param.substr(0, eq)) != "q") continue;
      std::string value(Trim(param.substr(eq + 1)));
      char* end = nullptr;
      r.q = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size()) r.q = 0;
    }
    if (!r.type.empty() && !r.subtype.empty()) ranges.push_back(r);
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const MediaRange& a, const MediaRange& b) {
    if (a.q != b.q) return a.q > b.q;
    if ((a.type == "*") != (b.type == "*")) return b.type == "*";
    return a.subtype != "*" && b.subtype == "*";
  });
  return ranges;
}

// The form to serve: JSON, or (when `protobuf_served`) protobuf, whichever the most
// preferred matching media range names; JSON wins a tie between them (*/*).
Form Negotiate(std::string_view accept, bool protobuf_served) {
  struct Offer {
    std::string_view media_type;
    Form form;
  };
  const Offer offers[] = {{kJson, Form::kJson},
                          {kProtoV2Deprecated, Form::kProtobuf},
                          {kProtoV2, Form::kProtobuf}};
  for (const MediaRange& range : ParseAccept(accept)) {
    for (const Offer& offer : offers) {
      if (offer.form == Form::kProtobuf && !protobuf_served) continue;
      std::string_view type = offer.media_type.substr(0, offer.media_type.find('/'));
      std::string_view subtype = offer.media_type.substr(type.size() + 1);
      if (range.type != "*" && range.type != type) continue;
      if (range.subtype != "*" && range.subtype != subtype) continue;
      return offer.form;
    }
  }
  return Form::kNone;
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

const OpenApiService::Document* OpenApiService::V2Proto() const {
  std::call_once(v2_proto_once_, [this] {
    Result<std::string> proto = SwaggerJsonToProto(v2_.body);
    if (!proto.ok()) return;
    Document d{std::move(proto).value(), ""};
    d.hash = ContentHash(d.body);
    v2_proto_ = std::move(d);
  });
  return v2_proto_ ? &*v2_proto_ : nullptr;
}

OpenApiResponse OpenApiService::Answer(const Document& json, const std::function<const Document*()>& proto,
                                       const OpenApiRequest& request, bool immutable) const {
  OpenApiResponse r;
  Form form = Negotiate(request.accept, static_cast<bool>(proto));
  const Document* proto_doc = form == Form::kProtobuf ? proto() : nullptr;
  if (form == Form::kProtobuf && proto_doc == nullptr) form = Form::kNone;  // cannot happen
  if (form == Form::kNone) {
    r.status = 406;
    r.content_type = "application/json";
    r.body = proto
                 ? "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                   "\"Failure\",\"message\":\"only application/json and "
                   "application/com.github.proto-openapi.spec.v2.v1.0+protobuf are served "
                   "here\",\"reason\":\"NotAcceptable\",\"details\":{},\"code\":406}"
                 : "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                   "\"Failure\",\"message\":\"only application/json is served here\","
                   "\"reason\":\"NotAcceptable\",\"details\":{},\"code\":406}";
    return r;
  }
  const Document& doc = form == Form::kProtobuf ? *proto_doc : json;
  std::string etag = "\"" + doc.hash + "\"";
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Vary", "Accept");
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache, private");
  r.content_type = form == Form::kProtobuf ? kProtoV2 : kJson;
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
  if (path == "/openapi/v2") {
    return Answer(v2_, [this] { return V2Proto(); }, request, false);
  }
  if (path == kV3Prefix) return Answer(v3_root_, {}, request, false);
  if (!path.starts_with(kV3Prefix) || path[kV3Prefix.size()] != '/') return std::nullopt;
  std::string_view key = path.substr(kV3Prefix.size() + 1);
  auto it = v3_.find(key);
  if (it == v3_.end()) return NotFound();
  std::string_view hash = QueryValue(request.query, "hash");
  return Answer(it->second, {}, request, !hash.empty() && hash == it->second.hash);
}

}  // namespace kite::openapi
