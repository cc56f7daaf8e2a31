#include "src/server/authn/token_request.h"

#include <algorithm>

#include "src/server/authn/encoding.h"
#include "src/server/json/json_util.h"

namespace kite::authn {
namespace {

using Allocator = rapidjson::Document::AllocatorType;
using validation::InvalidCause;
using validation::InvalidRawCause;
using validation::StatusCause;

// A string member; "" when absent or null; error when present with another type.
Result<std::string> StringField(const rapidjson::Value& object, std::string_view name,
                                std::string_view path) {
  const rapidjson::Value* v = json::Member(object, name);
  if (!v || v->IsNull()) return std::string();
  if (!v->IsString()) return InvalidArgumentError(std::string(path) + " must be a string");
  return std::string(v->GetString(), v->GetStringLength());
}

rapidjson::Value Str(std::string_view s, Allocator& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string_view MetaString(const rapidjson::Value* object, std::string_view name) {
  if (!object) return {};
  const rapidjson::Value* meta = json::Member(*object, "metadata");
  return meta ? json::StringMember(*meta, name) : std::string_view();
}

// The parts of the body the handler needs, type-checked.
struct ParsedRequest {
  std::string name, namespace_name;
  std::vector<std::string> audiences;
  int64_t expiration_seconds = kDefaultTokenExpirationSeconds;
  std::optional<BoundObjectRef> bound;
};

Result<ParsedRequest> ParseRequest(const rapidjson::Value& body) {
  if (!body.IsObject()) return InvalidArgumentError("the TokenRequest body must be a JSON object");
  Result<std::string> kind = StringField(body, "kind", "kind");
  if (!kind.ok()) return kind.status();
  if (!kind->empty() && *kind != "TokenRequest") {
    return InvalidArgumentError("the body must be a TokenRequest, not " + *kind);
  }
  Result<std::string> api_version = StringField(body, "apiVersion", "apiVersion");
  if (!api_version.ok()) return api_version.status();
  if (!api_version->empty() && *api_version != "authentication.k8s.io/v1") {
    return InvalidArgumentError("TokenRequest apiVersion must be authentication.k8s.io/v1, not " +
                                *api_version);
  }
  ParsedRequest r;
  if (const rapidjson::Value* meta = json::Member(body, "metadata"); meta && !meta->IsNull()) {
    if (!meta->IsObject()) return InvalidArgumentError("metadata must be an object");
    Result<std::string> name = StringField(*meta, "name", "metadata.name");
    if (!name.ok()) return name.status();
    r.name = *name;
    Result<std::string> ns = StringField(*meta, "namespace", "metadata.namespace");
    if (!ns.ok()) return ns.status();
    r.namespace_name = *ns;
  }
  const rapidjson::Value* spec = json::Member(body, "spec");
  if (spec && !spec->IsNull()) {
    if (!spec->IsObject()) return InvalidArgumentError("spec must be an object");
    if (const rapidjson::Value* auds = json::Member(*spec, "audiences"); auds && !auds->IsNull()) {
      if (!auds->IsArray()) return InvalidArgumentError("spec.audiences must be an array of strings");
      for (const rapidjson::Value& a : auds->GetArray()) {
        if (!a.IsString()) return InvalidArgumentError("spec.audiences must be an array of strings");
        r.audiences.emplace_back(a.GetString(), a.GetStringLength());
      }
    }
    if (const rapidjson::Value* exp = json::Member(*spec, "expirationSeconds");
        exp && !exp->IsNull()) {
      if (!exp->IsInt64()) {
        return InvalidArgumentError("spec.expirationSeconds must be a 64-bit integer");
      }
      r.expiration_seconds = exp->GetInt64();
    }
  }
  Result<std::optional<BoundObjectRef>> bound = TokenRequestBoundObject(body);
  if (!bound.ok()) return bound.status();
  r.bound = *bound;
  return r;
}

bool AllIn(const std::vector<std::string>& items, const std::vector<std::string>& set) {
  return std::all_of(items.begin(), items.end(), [&](const std::string& i) {
    return std::find(set.begin(), set.end(), i) != set.end();
  });
}

}  // namespace

Result<std::optional<BoundObjectRef>> TokenRequestBoundObject(const rapidjson::Value& body) {
  if (!body.IsObject()) return InvalidArgumentError("the TokenRequest body must be a JSON object");
  const rapidjson::Value* spec = json::Member(body, "spec");
  if (!spec || !spec->IsObject()) return std::optional<BoundObjectRef>();
  const rapidjson::Value* ref = json::Member(*spec, "boundObjectRef");
  if (!ref || ref->IsNull()) return std::optional<BoundObjectRef>();
  if (!ref->IsObject()) return InvalidArgumentError("spec.boundObjectRef must be an object");
  BoundObjectRef out;
  for (auto [field, target] : {std::pair{"apiVersion", &out.api_version},
                               std::pair{"kind", &out.kind}, std::pair{"name", &out.name},
                               std::pair{"uid", &out.uid}}) {
    Result<std::string> v = StringField(*ref, field, std::string("spec.boundObjectRef.") + field);
    if (!v.ok()) return v.status();
    *target = *v;
  }
  // apiVersion "v1" is the core group; "" parses to it too in Kubernetes.
  bool core = out.api_version == "v1" || out.api_version.empty();
  if (core && out.kind == "Pod") {
    out.resource = "pods";
  } else if (core && out.kind == "Secret") {
    out.resource = "secrets";
  } else if (core && out.kind == "Node") {
    out.resource = "nodes";
  } else {
    // apimachinery's GroupVersionKind.String(): "<group>/<version>, Kind=<kind>".
    std::string gv = out.api_version.find('/') == std::string::npos ? "/" + out.api_version
                                                                     : out.api_version;
    return InvalidArgumentError("cannot bind token to object of type " + gv + ", Kind=" + out.kind);
  }
  if (out.name.empty()) {
    return InvalidArgumentError("spec.boundObjectRef.name is required");
  }
  return std::optional<BoundObjectRef>(std::move(out));
}

Result<TokenRequestResult> CreateServiceAccountToken(const TokenRequestInput& input,
                                                     const TokenSigner& signer,
                                                     const TokenRequestConfig& config,
                                                     int64_t now_s) {
  if (!input.body) return InvalidArgumentError("a TokenRequest body is required");
  Result<ParsedRequest> parsed = ParseRequest(*input.body);
  if (!parsed.ok()) return parsed.status();
  ParsedRequest& req = *parsed;
  TokenRequestResult result;

  // The body may name the service account and namespace, but only those of the URL.
  if (!req.name.empty() && req.name != input.service_account_name) {
    result.causes.push_back(InvalidCause("metadata.name", req.name,
                                         "must match the service account name if specified"));
  } else if (!req.namespace_name.empty() && req.namespace_name != input.namespace_name) {
    result.causes.push_back(InvalidCause("metadata.namespace", req.namespace_name,
                                         "must match the service account namespace if specified"));
  }
  if (!result.causes.empty()) {
    result.invalid_name = std::string(input.service_account_name);
    return result;
  }

  if (!input.service_account) {
    return NotFoundError("serviceaccounts \"" + std::string(input.service_account_name) +
                         "\" not found");
  }
  std::string sa_name(MetaString(input.service_account, "name"));
  std::string sa_namespace(MetaString(input.service_account, "namespace"));
  std::string sa_uid(MetaString(input.service_account, "uid"));
  if (sa_name.empty()) sa_name = std::string(input.service_account_name);
  if (sa_namespace.empty()) sa_namespace = std::string(input.namespace_name);

  if (req.audiences.empty()) req.audiences = config.api_audiences;

  if (req.expiration_seconds < kMinTokenExpirationSeconds) {
    result.causes.push_back(InvalidRawCause("spec.expirationSeconds",
                                            std::to_string(req.expiration_seconds),
                                            "may not specify a duration less than 10 minutes"));
  }
  if (req.expiration_seconds > kMaxTokenExpirationSeconds) {
    result.causes.push_back(InvalidRawCause("spec.expirationSeconds",
                                            std::to_string(req.expiration_seconds),
                                            "may not specify a duration larger than 2^32 seconds"));
  }
  if (!result.causes.empty()) return result;  // Kubernetes names no object here ("")

  TokenClaims claims;
  if (req.bound) {
    const BoundObjectRef& ref = *req.bound;
    if (!input.bound_object) {
      return NotFoundError(ref.resource + " \"" + ref.name + "\" not found");
    }
    std::string name(MetaString(input.bound_object, "name"));
    std::string uid(MetaString(input.bound_object, "uid"));
    if (name.empty()) name = ref.name;
    if (ref.kind == "Pod") {
      const rapidjson::Value* spec = json::Member(*input.bound_object, "spec");
      std::string_view pod_sa = spec ? json::StringMember(*spec, "serviceAccountName") : "";
      if (pod_sa != input.service_account_name) {
        return InvalidArgumentError("cannot bind token for serviceaccount \"" +
                                    std::string(input.service_account_name) +
                                    "\" to pod running with different serviceaccount name.");
      }
      claims.pod = BoundObject{"Pod", name, uid};
      std::string_view node_name = spec ? json::StringMember(*spec, "nodeName") : "";
      if (!node_name.empty()) {
        // A missing Node still leaves its name in the claims, without a uid.
        claims.node = BoundObject{"Node", std::string(node_name),
                                  std::string(MetaString(input.bound_pod_node, "uid"))};
      }
    } else if (ref.kind == "Secret") {
      claims.secret = BoundObject{"Secret", name, uid};
    } else {
      claims.node = BoundObject{"Node", name, uid};
    }
    if (!ref.uid.empty() && ref.uid != uid) {
      return ConflictError("the UID in the bound object reference (" + ref.uid +
                           ") does not match the UID in record. The object might have been "
                           "deleted and then recreated");
    }
  }

  if (config.max_expiration_seconds > 0 && req.expiration_seconds > config.max_expiration_seconds) {
    result.warnings.push_back("requested expiration of " + std::to_string(req.expiration_seconds) +
                              " seconds shortened to " +
                              std::to_string(config.max_expiration_seconds) + " seconds");
    req.expiration_seconds = config.max_expiration_seconds;
  }
  // Kubelet's projected tokens ask for 3607 s; Kubernetes issues them for a year and only
  // warns (in audit) after the requested lifetime, so slow token refresh fails soft.
  int64_t lifetime = req.expiration_seconds;
  if (config.extend_expiration && claims.pod &&
      req.expiration_seconds == kWarnOnlyTokenExpirationSeconds &&
      AllIn(req.audiences, config.api_audiences)) {
    claims.warn_after_s = now_s + req.expiration_seconds;
    lifetime = kExtendedTokenExpirationSeconds;
  }

  Result<std::string> jti = RandomUuid();
  if (!jti.ok()) return jti.status();
  claims.issuer = config.issuer;
  claims.audiences = req.audiences;
  claims.namespace_name = sa_namespace;
  claims.service_account_name = sa_name;
  claims.service_account_uid = sa_uid;
  claims.issued_at_s = now_s;
  claims.not_before_s = now_s;
  claims.expires_at_s = now_s + lifetime;
  claims.id = *jti;
  std::string token = signer.Sign(claims);

  rapidjson::Document& out = result.response;
  Allocator& a = out.GetAllocator();
  out.SetObject();
  out.AddMember("kind", "TokenRequest", a);
  out.AddMember("apiVersion", "authentication.k8s.io/v1", a);
  rapidjson::Value meta(rapidjson::kObjectType);
  if (const rapidjson::Value* m = json::Member(*input.body, "metadata"); m && m->IsObject()) {
    meta.CopyFrom(*m, a);
  }
  json::SetStringMember(meta, "name", req.name.empty() ? sa_name : req.name, a);
  json::SetStringMember(meta, "namespace",
                        req.namespace_name.empty() ? sa_namespace : req.namespace_name, a);
  json::SetStringMember(meta, "creationTimestamp", FormatRfc3339(now_s), a);
  out.AddMember("metadata", meta, a);

  rapidjson::Value spec(rapidjson::kObjectType);
  rapidjson::Value audiences(rapidjson::kArrayType);
  for (const std::string& aud : req.audiences) audiences.PushBack(Str(aud, a), a);
  spec.AddMember("audiences", audiences, a);
  spec.AddMember("expirationSeconds", rapidjson::Value(req.expiration_seconds), a);
  rapidjson::Value bound(rapidjson::kNullType);
  if (req.bound) {
    bound.SetObject();
    if (!req.bound->kind.empty()) bound.AddMember("kind", Str(req.bound->kind, a), a);
    if (!req.bound->api_version.empty()) {
      bound.AddMember("apiVersion", Str(req.bound->api_version, a), a);
    }
    bound.AddMember("name", Str(req.bound->name, a), a);
    if (!req.bound->uid.empty()) bound.AddMember("uid", Str(req.bound->uid, a), a);
  }
  spec.AddMember("boundObjectRef", bound, a);
  out.AddMember("spec", spec, a);

  rapidjson::Value status(rapidjson::kObjectType);
  status.AddMember("token", Str(token, a), a);
  // The requested lifetime, even for an extended token (as Kubernetes reports it).
  status.AddMember("expirationTimestamp", Str(FormatRfc3339(now_s + req.expiration_seconds), a), a);
  out.AddMember("status", status, a);

  result.claims = std::move(claims);
  return result;
}

}  // namespace kite::authn
