#include "src/server/openapi/openapi_v2.h"

#include <algorithm>

#include "src/server/openapi/api_paths.h"
#include "src/server/openapi/definitions.h"
#include "src/server/openapi/json_writing.h"

namespace kite::openapi {
namespace {

using rapidjson::Value;

Value ParameterV2(const Parameter& p, JsonAllocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("description", Str(p.description, a), a);
  v.AddMember("in", Str(p.in, a), a);
  v.AddMember("name", Str(p.name, a), a);
  if (p.required) v.AddMember("required", true, a);
  v.AddMember("type", Value(rapidjson::StringRef(ParamTypeName(p.type))), a);
  v.AddMember("uniqueItems", true, a);
  return v;
}

Value StringList(const std::vector<std::string>& items, JsonAllocator& a) {
  Value list(rapidjson::kArrayType);
  for (const std::string& s : items) list.PushBack(Str(s, a), a);
  return list;
}

Value OperationV2(const Operation& op, const std::string& tag, DefinitionSet& defs,
                  JsonAllocator& a) {
  Value v(rapidjson::kObjectType);
  if (op.request.what != BodyType::What::kNone) {
    v.AddMember("consumes", StringList(RequestContentTypes(op), a), a);
  } else if (op.action == "connect") {
    v.AddMember("consumes", StringList({"*/*"}, a), a);
  }
  v.AddMember("description", Str(op.description, a), a);
  v.AddMember("operationId", Str(op.operation_id, a), a);
  Value params(rapidjson::kArrayType);
  if (op.request.what != BodyType::What::kNone) {
    Value body(rapidjson::kObjectType);
    body.AddMember("in", "body", a);
    body.AddMember("name", "body", a);
    if (op.request_required) body.AddMember("required", true, a);
    body.AddMember("schema", defs.BodySchema(op.request, a), a);
    params.PushBack(body, a);
  }
  for (const Parameter& p : op.parameters) params.PushBack(ParameterV2(p, a), a);
  if (!params.Empty()) v.AddMember("parameters", params, a);
  v.AddMember("produces", StringList(ResponseContentTypes(op), a), a);
  Value responses(rapidjson::kObjectType);
  Value schema = defs.BodySchema(op.response, a);
  for (int code : op.success_codes) {
    Value response(rapidjson::kObjectType);
    response.AddMember("description", Value(rapidjson::StringRef(StatusText(code))), a);
    response.AddMember("schema", Value(schema, a), a);
    responses.AddMember(Str(std::to_string(code), a), response, a);
  }
  Value unauthorized(rapidjson::kObjectType);
  unauthorized.AddMember("description", "Unauthorized", a);
  responses.AddMember("401", unauthorized, a);
  v.AddMember("responses", responses, a);
  Value schemes(rapidjson::kArrayType);
  schemes.PushBack("https", a);
  v.AddMember("schemes", schemes, a);
  Value tags(rapidjson::kArrayType);
  tags.PushBack(Str(tag, a), a);
  v.AddMember("tags", tags, a);
  v.AddMember("x-kubernetes-action", Str(op.action, a), a);
  if (!op.gvk.kind.empty()) v.AddMember("x-kubernetes-group-version-kind", GvkObject(op.gvk, a), a);
  return v;
}

}  // namespace

std::string BuildV2Document(const schema::SchemaRegistry& registry,
                            const resources::ResourceTable& table,
                            const CustomResources& custom) {
  rapidjson::Document doc(rapidjson::kObjectType);
  JsonAllocator& a = doc.GetAllocator();
  DefinitionSet defs(registry, table, custom, Dialect::kSwagger2);

  std::vector<std::pair<PathItem, std::string>> all;  // path, tag
  for (const resources::GroupInfo& g : table.Groups()) {
    for (const std::string& version : g.versions) {
      std::string tag = GroupVersionTag(g.name, version);
      for (PathItem& item : BuildPaths(table, g.name, version, custom)) all.emplace_back(std::move(item), tag);
    }
  }
  std::sort(all.begin(), all.end(),
            [](const auto& x, const auto& y) { return x.first.path < y.first.path; });
  Value paths(rapidjson::kObjectType);
  for (const auto& [item, tag] : all) {
    Value path(rapidjson::kObjectType);
    for (const Operation& op : item.operations) {
      path.AddMember(Str(op.method, a), OperationV2(op, tag, defs, a), a);
    }
    if (!item.parameters.empty()) {
      Value params(rapidjson::kArrayType);
      for (const Parameter& p : item.parameters) params.PushBack(ParameterV2(p, a), a);
      path.AddMember("parameters", params, a);
    }
    paths.AddMember(Str(item.path, a), path, a);
  }

  doc.AddMember("definitions", defs.Definitions(a), a);
  Value info(rapidjson::kObjectType);
  info.AddMember("title", "Kubernetes", a);
  info.AddMember("version", "v1.32.0", a);
  doc.AddMember("info", info, a);
  doc.AddMember("paths", paths, a);
  Value security(rapidjson::kArrayType);
  Value requirement(rapidjson::kObjectType);
  requirement.AddMember("BearerToken", Value(rapidjson::kArrayType), a);
  security.PushBack(requirement, a);
  doc.AddMember("security", security, a);
  Value bearer(rapidjson::kObjectType);
  bearer.AddMember("description", "Bearer token authentication", a);
  bearer.AddMember("in", "header", a);
  bearer.AddMember("name", "authorization", a);
  bearer.AddMember("type", "apiKey", a);
  Value security_definitions(rapidjson::kObjectType);
  security_definitions.AddMember("BearerToken", bearer, a);
  doc.AddMember("securityDefinitions", security_definitions, a);
  doc.AddMember("swagger", "2.0", a);
  return ToJson(doc);
}

}  // namespace kite::openapi
