#include "src/server/apiserver/api_handler.h"

#include "src/server/apiserver/json_util.h"
#include "src/server/resources/discovery.h"

namespace kite::apiserver {
namespace {

constexpr const char* kVersionJson =
    "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0+kite\",\"gitCommit\":\"\","
    "\"gitTreeState\":\"clean\",\"buildDate\":\"2026-11-24T00:00:00Z\",\"goVersion\":\"\","
    "\"compiler\":\"kite\",\"platform\":\"linux/amd64\"}";

bool IsPublicPath(std::string_view path) {
  return path == "/version" || path == "/healthz" || path == "/livez" || path == "/readyz" ||
         path.starts_with("/healthz/") || path.starts_with("/livez/") ||
         path.starts_with("/readyz/");
}

http::Response TextResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

int StatusOf(const http::HandlerResult& result) {
  if (const auto* r = std::get_if<http::Response>(&result)) return r->status;
  return std::get<http::StreamingResponse>(result).status;
}

}  // namespace

ApiHandler::ApiHandler(ApiHandlerOptions options, RestDependencies deps)
    : options_(std::move(options)),
      table_(resources::BuiltinResources()),
      protobuf_(deps.protobuf),
      rest_(std::move(deps)) {}

std::optional<UserInfo> ApiHandler::Authenticate(const http::Request& request) const {
  if (request.peer.has_verified_certificate && !request.peer.common_name.empty()) {
    UserInfo user{request.peer.common_name, request.peer.organizations};
    user.groups.push_back("system:authenticated");
    return user;
  }
  std::string_view auth = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() && auth.substr(0, kBearer.size()) == kBearer) {
    std::string_view token = auth.substr(kBearer.size());
    if (!options_.join_token.empty() && token == options_.join_token) {
      return UserInfo{"kite:join-token", {"system:bootstrappers", "system:authenticated"}};
    }
  }
  return std::nullopt;
}

http::HandlerResult ApiHandler::Handle(http::Request& request) {
  QueryParams query = QueryParams::Parse(request.query);
  RequestInfo info = ParseRequestInfo(request.method, request.path, query);
  std::optional<UserInfo> user = Authenticate(request);
  http::HandlerResult result;
  if (!user && !IsPublicPath(request.path)) {
    result = ErrorResponse(UnauthorizedError());
  } else if (!info.is_resource_request) {
    if (request.path == "/version") {
      result = JsonResponse(200, kVersionJson);
    } else if (request.path == "/healthz" || request.path == "/livez" || request.path == "/readyz" ||
               request.path.starts_with("/healthz/") || request.path.starts_with("/livez/") ||
               request.path.starts_with("/readyz/")) {
      result = Health(request, query);
    } else if (request.path == "/metrics") {
      result = Metrics();
    } else if (request.path.starts_with("/api")) {
      result = Discovery(request, info);
    } else {
      result = ErrorResponse(NotFoundError({"", ""}, request.path));
      std::get<http::Response>(result).body =
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\","
          "\"details\":{},\"code\":404}";
    }
  } else {
    const resources::ResourceInfo* resource = table_.Find(info.group, info.version, info.resource);
    if (!resource) {
      result = ErrorResponse(NotFoundError({info.group, info.resource}, info.name));
      std::get<http::Response>(result).body =
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\","
          "\"details\":{},\"code\":404}";
    } else if (resource->namespaced && info.namespace_name.empty() &&
               info.verb != "list" && info.verb != "watch" && info.verb != "deletecollection" &&
               !(info.verb == "create" && resource->resource == "namespaces")) {
      result = ErrorResponse(NotFoundError({info.group, info.resource}, info.name));
    } else if (info.group == "authorization.k8s.io" && info.verb == "create" &&
               (info.resource == "selfsubjectaccessreviews" || info.resource == "selfsubjectrulesreviews" ||
                info.resource == "subjectaccessreviews" || info.resource == "localsubjectaccessreviews")) {
      result = SelfSubjectReview(request, info, *user);
    } else if (!resource->HasVerb(info.verb) && info.subresource.empty()) {
      result = ErrorResponse(MethodNotAllowedError(info.verb, {info.group, info.resource}));
    } else {
      RestRequest rest_request;
      rest_request.http = &request;
      rest_request.info = info;
      rest_request.query = std::move(query);
      rest_request.resource = resource;
      rest_request.user = *user;
      result = rest_.Serve(rest_request);
    }
  }
  Count(info.verb, info.is_resource_request ? info.resource : std::string(), StatusOf(result));
  return result;
}

http::HandlerResult ApiHandler::Discovery(const http::Request& request, const RequestInfo& info) {
  std::string aggregated_version;
  bool aggregated = WantsAggregatedDiscovery(request.Header("accept"), &aggregated_version);
  auto version = aggregated_version == "v2beta1" ? resources::AggregatedVersion::kV2Beta1
                                                 : resources::AggregatedVersion::kV2;
  auto aggregated_response = [&](bool legacy_core) {
    http::Response r = JsonResponse(200, resources::AggregatedDiscovery(table_, legacy_core, version));
    r.content_type = std::string(resources::AggregatedContentType(version));
    return r;
  };
  const std::string& path = request.path;
  if (path == "/api" || path == "/api/") {
    if (aggregated) return aggregated_response(true);
    return JsonResponse(200, resources::LegacyApiVersions(options_.server_address));
  }
  if (path == "/apis" || path == "/apis/") {
    if (aggregated) return aggregated_response(false);
    return JsonResponse(200, resources::ApiGroupList(table_));
  }
  Result<std::string> doc = ::kite::NotFoundError("no such discovery document");
  if (info.api_prefix == "api" && !info.version.empty()) {
    doc = resources::ApiResourceList(table_, "", info.version);
  } else if (info.api_prefix == "apis" && !info.group.empty() && !info.version.empty()) {
    doc = resources::ApiResourceList(table_, info.group, info.version);
  } else if (info.api_prefix == "apis") {
    std::string_view group = std::string_view(path).substr(std::string_view("/apis/").size());
    while (!group.empty() && group.back() == '/') group.remove_suffix(1);
    doc = resources::ApiGroup(table_, group);
  }
  if (!doc.ok()) {
    http::Response r = JsonResponse(404,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\","
        "\"details\":{},\"code\":404}");
    return r;
  }
  return JsonResponse(200, std::move(doc).value());
}

http::Response ApiHandler::Health(const http::Request& request, const QueryParams& query) {
  std::string_view path = request.path;
  std::string endpoint(path.substr(1, path.find('/', 1) == std::string_view::npos ? std::string_view::npos : path.find('/', 1) - 1));
  if (query.Has("verbose")) {
    std::string body = "[+]ping ok\n[+]log ok\n[+]etcd ok\n";
    if (endpoint == "readyz") body += "[+]informer-sync ok\n";
    body += endpoint + " check passed\n";
    return TextResponse(200, body);
  }
  return TextResponse(200, "ok");
}

http::Response ApiHandler::Metrics() {
  std::string body =
      "# HELP apiserver_request_total Counter of apiserver requests broken out by verb, resource and HTTP response code.\n"
      "# TYPE apiserver_request_total counter\n";
  MutexLock lock(metrics_mu_);
  for (const auto& [labels, count] : request_counts_) {
    body += "apiserver_request_total{" + labels + "} " + std::to_string(count) + "\n";
  }
  http::Response r = TextResponse(200, std::move(body));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

void ApiHandler::Count(const std::string& verb, const std::string& resource, int code) {
  std::string labels = "code=\"" + std::to_string(code) + "\",resource=\"" + resource +
                       "\",verb=\"" + verb + "\"";
  MutexLock lock(metrics_mu_);
  ++request_counts_[labels];
}

http::HandlerResult ApiHandler::SelfSubjectReview(const http::Request& request,
                                                  const RequestInfo& info, const UserInfo& user) {
  Result<rapidjson::Document> body = DecodeObjectBody(request, protobuf_);
  if (!body.ok()) return ErrorResponse(BadRequestError(body.status().message()));
  rapidjson::Document& review = *body;
  auto& a = review.GetAllocator();
  if (StringMember(review, "apiVersion").empty()) SetStringMember(review, "apiVersion", "authorization.k8s.io/v1", a);
  rapidjson::Value& status = EnsureObjectMember(review, "status", a);
  if (info.resource == "selfsubjectrulesreviews") {
    // Everything is allowed until RBAC exists: one rule that says so.
    rapidjson::Document rules;
    rules.Parse("{\"resourceRules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}],"
                "\"nonResourceRules\":[{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}],\"incomplete\":false}");
    review["status"].CopyFrom(rules, a);
  } else {
    SetMember(status, "allowed", rapidjson::Value(true), a);
    SetStringMember(status, "reason", "every authenticated user is allowed (RBAC is not enabled)", a);
  }
  (void)user;
  return JsonResponse(201, ToJson(review));
}

}  // namespace kite::apiserver
