#include "src/server/apiserver/token_request_handler.h"

#include "src/server/apiserver/object_codec.h"
#include "src/server/authn/token_request.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

std::optional<rapidjson::Document> Load(store::KvStore* kv, std::string_view resource, std::string_view ns,
                                        std::string_view name) {
  Result<store::KeyValue> stored = kv->Get(ObjectKey("", resource, ns, name));
  if (!stored.ok()) return std::nullopt;
  Result<rapidjson::Document> doc = json::ParseJsonObject(stored->value);
  if (!doc.ok()) return std::nullopt;
  return std::move(doc).value();
}

}  // namespace

http::Response ServeTokenRequest(const http::Request& request, const RequestInfo& info,
                                 const ProtobufDecoder& protobuf, store::KvStore* kv,
                                 const authn::TokenSigner& signer, Clock* clock) {
  Result<rapidjson::Document> body = DecodeObjectBody(request, protobuf);
  if (!body.ok()) return ErrorResponse(BadRequestError(body.status().message()));
  std::optional<rapidjson::Document> sa = Load(kv, "serviceaccounts", info.namespace_name, info.name);
  if (!sa) return ErrorResponse(NotFoundError({"", "serviceaccounts"}, info.name));

  Result<std::optional<authn::BoundObjectRef>> ref = authn::TokenRequestBoundObject(*body);
  if (!ref.ok()) return ErrorResponse(BadRequestError(ref.status().message()));
  std::optional<rapidjson::Document> bound, node;
  if (*ref) {
    // Nodes are cluster-scoped; pods and secrets live in the service account's namespace.
    std::string_view ns = (*ref)->resource == "nodes" ? std::string_view() : std::string_view(info.namespace_name);
    bound = Load(kv, (*ref)->resource, ns, (*ref)->name);
    if (bound && (*ref)->resource == "pods") {
      const rapidjson::Value* spec = json::Member(*bound, "spec");
      std::string_view node_name = spec ? json::StringMember(*spec, "nodeName") : std::string_view();
      if (!node_name.empty()) node = Load(kv, "nodes", "", node_name);
    }
  }
  authn::TokenRequestInput input;
  input.namespace_name = info.namespace_name;
  input.service_account_name = info.name;
  input.body = &*body;
  input.service_account = &*sa;
  input.bound_object = bound ? &*bound : nullptr;
  input.bound_pod_node = node ? &*node : nullptr;
  Result<authn::TokenRequestResult> result =
      authn::CreateServiceAccountToken(input, signer, authn::TokenRequestConfig{}, clock->NowMillis() / 1000);
  if (!result.ok()) {
    const Status& s = result.status();
    switch (s.code()) {
      case StatusCode::kNotFound:
        return ErrorResponse(NotFoundError({"", *ref ? (*ref)->resource : "serviceaccounts"},
                                           *ref ? (*ref)->name : info.name));
      case StatusCode::kConflict:
        return ErrorResponse(ConflictError({"", *ref ? (*ref)->resource : "serviceaccounts"},
                                           *ref ? (*ref)->name : info.name, s.message()));
      case StatusCode::kInvalidArgument:
        return ErrorResponse(BadRequestError(s.message()));
      default:
        return ErrorResponse(InternalServerError(s.message()));
    }
  }
  if (!result->causes.empty()) {
    return ErrorResponse(InvalidError("authentication.k8s.io", "TokenRequest", result->invalid_name,
                                      std::move(result->causes)));
  }
  http::Response response = JsonResponse(201, json::ToJson(result->response));
  for (const std::string& w : result->warnings) response.headers.emplace_back("Warning", "299 - \"" + w + "\"");
  return response;
}

}  // namespace kite::apiserver
