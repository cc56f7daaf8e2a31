#include "src/server/apiserver/api_handler.h"

#include "src/server/apiserver/token_request_handler.h"
#include "src/server/authn/oidc_discovery.h"

#include "src/server/json/json_util.h"
#include "src/server/auth/policy_rule.h"
#include "src/server/auth/rbac_authorizer.h"
#include "src/server/resources/discovery.h"
#include "src/server/schema/schema_registry.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

constexpr const char* kVersionJson =
    "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0+kite\",\"gitCommit\":\"\","
    "\"gitTreeState\":\"clean\",\"buildDate\":\"2026-11-24T00:00:00Z\",\"goVersion\":\"\","
    "\"compiler\":\"kite\",\"platform\":\"linux/amd64\"}";

bool IsHealthPath(std::string_view path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" ||
         path.starts_with("/healthz/") || path.starts_with("/livez/") ||
         path.starts_with("/readyz/");
}

bool IsPublicPath(std::string_view path) { return path == "/version" || IsHealthPath(path); }

// Kubernetes' answer for a path that names no resource or document it serves.
http::Response NoSuchResourceResponse() {
  ApiError e = NotFoundError({"", ""}, "");
  e.message = "the server could not find the requested resource";
  return ErrorResponse(e);
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
  if (const auto* r = std::get_if<http::StreamingResponse>(&result)) return r->status;
  return 101;
}

auth::Attributes AttributesFor(const UserInfo& user, const RequestInfo& info) {
  auth::Attributes a;
  a.user = user.name;
  a.groups = user.groups;
  a.verb = info.verb;
  a.resource_request = info.is_resource_request;
  a.api_group = info.group;
  a.resource = info.resource;
  a.subresource = info.subresource;
  a.namespace_name = info.namespace_name;
  a.name = info.name;
  a.path = info.path;
  return a;
}

std::vector<std::string> StringList(const rapidjson::Value* v) {
  std::vector<std::string> out;
  if (!v || !v->IsArray()) return out;
  for (const auto& item : v->GetArray()) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}


}  // namespace

ApiHandler::ApiHandler(ApiHandlerOptions options, RestDependencies deps)
    : options_(std::move(options)),
      kv_(deps.kv),
      clock_(deps.clock),
      tokens_(options_.join_token, deps.kv, deps.clock, options_.token_verifier),
      builtin_(BuildServedResources({}, nullptr)),
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
    return tokens_.Authenticate(auth.substr(kBearer.size()));
  }
  return std::nullopt;
}

http::HandlerResult ApiHandler::Handle(http::Request& request) {
  QueryParams query = QueryParams::Parse(request.query);
  RequestInfo info = ParseRequestInfo(request.method, request.path, query);
  std::optional<UserInfo> user = Authenticate(request);
  http::HandlerResult result;
  std::optional<auth::Decision> denied;
  if (user && options_.authorizer) {
    auth::Attributes attributes = AttributesFor(*user, info);
    auth::Decision decision = options_.authorizer->Authorize(attributes);
    if (!decision.allowed) {
      ApiError e = ForbiddenError({info.group, info.resource}, info.name, "");
      e.message = auth::ForbiddenMessage(attributes, decision);
      result = ErrorResponse(e);
      denied = decision;
    }
  }
  if (denied) {
    // answered above
  } else if (!user && !IsPublicPath(request.path)) {
    result = ErrorResponse(UnauthorizedError());
  } else if (!info.is_resource_request) {
    if (request.path == "/version") {
      result = JsonResponse(200, kVersionJson);
    } else if (IsHealthPath(request.path)) {
      result = Health(request, query);
    } else if (request.path == "/metrics") {
      result = Metrics();
    } else if (options_.token_signer && request.method == "GET" &&
               (request.path == authn::kOpenIdConfigurationPath || request.path == authn::kJwksPath)) {
      result = JsonResponse(200, request.path == authn::kJwksPath
                                     ? options_.token_signer->JwksJson()
                                     : authn::OpenIdConfigurationJson(authn::kDefaultIssuer,
                                                                      "https://" + options_.server_address +
                                                                          std::string(authn::kJwksPath)));
    } else if (request.method == "GET" && (request.path.starts_with("/openapi/v2") ||
                                           request.path.starts_with("/openapi/v3"))) {
      result = OpenApi(request);
    } else if (request.path.starts_with("/api")) {
      result = Discovery(request, info, Served()->table);
    } else {
      result = NoSuchResourceResponse();
    }
  } else {
    std::shared_ptr<const ServedResources> served = Served();
    const resources::ResourceInfo* resource = served->table.Find(info.group, info.version, info.resource);
    if (!resource) {
      result = NoSuchResourceResponse();
    } else if (resource->namespaced && info.namespace_name.empty() &&
               info.verb != "list" && info.verb != "watch" && info.verb != "deletecollection" &&
               !(info.verb == "create" && resource->resource == "namespaces")) {
      result = ErrorResponse(NotFoundError({info.group, info.resource}, info.name));
    } else if (info.group == "authorization.k8s.io" && info.verb == "create" &&
               (info.resource == "selfsubjectaccessreviews" || info.resource == "selfsubjectrulesreviews" ||
                info.resource == "subjectaccessreviews" || info.resource == "localsubjectaccessreviews")) {
      result = SelfSubjectReview(request, info, *user);
    } else if (info.resource == "serviceaccounts" && info.subresource == "token" && info.group.empty() &&
               info.verb == "create") {
      result = options_.token_signer
                   ? ServeTokenRequest(request, info, protobuf_, kv_, *options_.token_signer, clock_)
                   : ErrorResponse(ServiceUnavailableError("service-account tokens are not configured"));
    } else if (!resource->HasVerb(info.verb) && info.subresource.empty()) {
      result = ErrorResponse(MethodNotAllowedError(info.verb, {info.group, info.resource}));
    } else if (options_.computed && !options_.computed->Resources().empty() &&
               info.group == options_.computed->Resources().front().group) {
      RestRequest rest_request;
      rest_request.http = &request;
      rest_request.info = info;
      rest_request.query = std::move(query);
      rest_request.resource = resource;
      rest_request.served = served;
      rest_request.user = *user;
      result = options_.computed->Serve(rest_request);
    } else {
      RestRequest rest_request;
      rest_request.http = &request;
      rest_request.info = info;
      rest_request.query = std::move(query);
      rest_request.resource = resource;
      rest_request.custom = served->FindCustom(info.group, info.version, info.resource);
      rest_request.served = served;
      rest_request.user = *user;
      result = rest_.Serve(rest_request);
    }
  }
  Count(info.verb, info.is_resource_request ? info.resource : std::string(), StatusOf(result));
  return result;
}

std::shared_ptr<const openapi::OpenApiService> ApiHandler::OpenApiDocuments() {
  std::shared_ptr<const ServedResources> snapshot =
      options_.crds ? options_.crds->Current() : builtin_;
  MutexLock lock(openapi_mu_);
  if (!openapi_ || snapshot != openapi_snapshot_) {
    openapi::CustomResources custom;
    for (const auto& [key, serving] : snapshot->custom) {
      const auto& [group, version, resource] = key;
      custom.Add(group, version, resource, serving.open_api_v3_schema);
    }
    openapi_ = openapi::OpenApiService::Build(schema::SchemaRegistry::Builtin(), snapshot->table,
                                              custom);
    openapi_snapshot_ = std::move(snapshot);
  }
  return openapi_;
}

std::shared_ptr<const ServedResources> ApiHandler::Served() const {
  std::shared_ptr<const ServedResources> base = options_.crds ? options_.crds->Current() : builtin_;
  return options_.computed ? WithComputed(std::move(base)) : base;
}

std::shared_ptr<const ServedResources> ApiHandler::WithComputed(
    std::shared_ptr<const ServedResources> base) const {
  MutexLock lock(computed_mu_);
  if (base != computed_base_) {
    auto served = std::make_shared<ServedResources>(*base);
    for (const resources::ResourceInfo& info : options_.computed->Resources()) {
      // A CRD of the same name keeps its entry; requests for the group still go to Serve.
      if (!served->table.Find(info.group, info.version, info.resource)) (void)served->table.Add(info);
    }
    computed_base_ = std::move(base);
    computed_served_ = std::move(served);
  }
  return computed_served_;
}

http::HandlerResult ApiHandler::Discovery(const http::Request& request, const RequestInfo& info,
                                          const resources::ResourceTable& table) {
  std::string aggregated_version;
  bool aggregated = WantsAggregatedDiscovery(request.Header("accept"), &aggregated_version);
  auto version = aggregated_version == "v2beta1" ? resources::AggregatedVersion::kV2Beta1
                                                 : resources::AggregatedVersion::kV2;
  auto aggregated_response = [&](bool legacy_core) {
    http::Response r = JsonResponse(200, resources::AggregatedDiscovery(table, legacy_core, version));
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
    return JsonResponse(200, resources::ApiGroupList(table));
  }
  Result<std::string> doc = ::kite::NotFoundError("no such discovery document");
  if (info.api_prefix == "api" && !info.version.empty()) {
    doc = resources::ApiResourceList(table, "", info.version);
  } else if (info.api_prefix == "apis" && !info.group.empty() && !info.version.empty()) {
    doc = resources::ApiResourceList(table, info.group, info.version);
  } else if (info.api_prefix == "apis") {
    std::string_view group = std::string_view(path).substr(std::string_view("/apis/").size());
    while (!group.empty() && group.back() == '/') group.remove_suffix(1);
    doc = resources::ApiGroup(table, group);
  }
  if (!doc.ok()) {
    return NoSuchResourceResponse();
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

http::Response ApiHandler::OpenApi(const http::Request& request) {
  std::optional<openapi::OpenApiResponse> answer = OpenApiDocuments()->Serve(
      {request.path, request.query, request.Header("accept"), request.Header("if-none-match")});
  if (!answer) return NoSuchResourceResponse();
  http::Response r;
  r.status = answer->status;
  r.content_type = std::move(answer->content_type);
  r.headers = std::move(answer->headers);
  r.body = std::move(answer->body);
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
  SetStringMember(review, "apiVersion", "authorization.k8s.io/v1", a);
  const rapidjson::Value* spec = Member(review, "spec");
  if (!spec || !spec->IsObject()) {
    return ErrorResponse(InvalidError("authorization.k8s.io", "SelfSubjectAccessReview", "",
                                      {RequiredCause("spec")}));
  }
  // Whose access: the caller's own for the Self* reviews; the named subject otherwise.
  UserInfo subject = user;
  if (info.resource == "subjectaccessreviews" || info.resource == "localsubjectaccessreviews") {
    subject.name = std::string(StringMember(*spec, "user"));
    subject.groups = StringList(Member(*spec, "groups"));
  }

  if (info.resource == "selfsubjectrulesreviews") {
    std::string ns(StringMember(*spec, "namespace"));
    std::string status = "{";
    if (!options_.authorizer) {
      status += "\"resourceRules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}],"
                "\"nonResourceRules\":[{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}],\"incomplete\":false}";
    } else {
      auto* rbac = dynamic_cast<auth::RbacAuthorizer*>(options_.authorizer);
      auth::RulesReview rules = rbac ? rbac->RulesFor(subject.name, subject.groups, ns) : auth::RulesReview{};
      status += "\"resourceRules\":[";
      for (size_t i = 0; i < rules.resource_rules.size(); ++i) {
        if (i) status += ",";
        auth::AppendPolicyRuleJson(status, rules.resource_rules[i]);
      }
      status += "],\"nonResourceRules\":[";
      for (size_t i = 0; i < rules.non_resource_rules.size(); ++i) {
        if (i) status += ",";
        auth::AppendPolicyRuleJson(status, rules.non_resource_rules[i]);
      }
      status += "],\"incomplete\":false}";
    }
    Result<rapidjson::Document> parsed = ParseJsonObject(status);
    if (parsed.ok()) SetMember(review, "status", rapidjson::Value(*parsed, a), a);
    return JsonResponse(201, ToJson(review));
  }

  auth::Attributes attributes;
  attributes.user = subject.name;
  attributes.groups = subject.groups;
  if (const rapidjson::Value* ra = Member(*spec, "resourceAttributes"); ra && ra->IsObject()) {
    attributes.resource_request = true;
    attributes.verb = std::string(StringMember(*ra, "verb"));
    attributes.api_group = std::string(StringMember(*ra, "group"));
    attributes.resource = std::string(StringMember(*ra, "resource"));
    attributes.subresource = std::string(StringMember(*ra, "subresource"));
    attributes.namespace_name = std::string(StringMember(*ra, "namespace"));
    attributes.name = std::string(StringMember(*ra, "name"));
    if (info.resource == "localsubjectaccessreviews") attributes.namespace_name = info.namespace_name;
  } else if (const rapidjson::Value* na = Member(*spec, "nonResourceAttributes"); na && na->IsObject()) {
    attributes.resource_request = false;
    attributes.verb = std::string(StringMember(*na, "verb"));
    attributes.path = std::string(StringMember(*na, "path"));
  } else {
    return ErrorResponse(InvalidError("authorization.k8s.io", "SelfSubjectAccessReview", "",
                                      {RequiredCause("spec.resourceAttributes",
                                                     "exactly one of nonResourceAttributes or resourceAttributes must be specified")}));
  }
  auth::Decision decision = options_.authorizer ? options_.authorizer->Authorize(attributes)
                                                : auth::Decision{true, "no authorizer"};
  rapidjson::Value& status = EnsureObjectMember(review, "status", a);
  SetMember(status, "allowed", rapidjson::Value(decision.allowed), a);
  if (!decision.reason.empty()) SetStringMember(status, "reason", decision.reason, a);
  return JsonResponse(201, ToJson(review));
}

}  // namespace kite::apiserver
