#include "src/server/openapi/openapi_v3.h"

#include "src/server/openapi/api_paths.h"
#include "src/server/openapi/definitions.h"
#include "src/server/openapi/json_writing.h"

namespace kite::openapi {
namespace {

using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

Value ParameterV3(const Parameter& p, Allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("description", Str(p.description, a), a);
  v.AddMember("in", Str(p.in, a), a);
  v.AddMember("name", Str(p.name, a), a);
  if (p.required) v.AddMember("required", true, a);
  Value schema(rapidjson::kObjectType);
  schema.AddMember("type", Value(rapidjson::StringRef(ParamTypeName(p.type))), a);
  schema.AddMember("uniqueItems", true, a);
  v.AddMember("schema", schema, a);
  return v;
}

Value Parameters(const std::vector<Parameter>& params, Allocator& a) {
  Value list(rapidjson::kArrayType);
  for (const Parameter& p : params) list.PushBack(ParameterV3(p, a), a);
  return list;
}

// {"<content type>": {"schema": <schema>}, ...}
Value Content(const std::vector<std::string>& types, const Value& schema, Allocator& a) {
  Value content(rapidjson::kObjectType);
  for (const std::string& t : types) {
    Value media(rapidjson::kObjectType);
    media.AddMember("schema", Value(schema, a), a);
    content.AddMember(Str(t, a), media, a);
  }
  return content;
}

Value OperationV3(const Operation& op, const std::string& tag, DefinitionSet& defs, Allocator& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("description", Str(op.description, a), a);
  v.AddMember("operationId", Str(op.operation_id, a), a);
  if (!op.parameters.empty()) v.AddMember("parameters", Parameters(op.parameters, a), a);
  if (op.request.what != BodyType::What::kNone) {
    Value body(rapidjson::kObjectType);
    Value schema = defs.BodySchema(op.request, a);
    body.AddMember("content", Content(RequestContentTypes(op), schema, a), a);
    if (op.request_required) body.AddMember("required", true, a);
    v.AddMember("requestBody", body, a);
  }
  Value responses(rapidjson::kObjectType);
  Value schema = defs.BodySchema(op.response, a);
  for (int code : op.success_codes) {
    Value response(rapidjson::kObjectType);
    response.AddMember("content", Content(ResponseContentTypes(op), schema, a), a);
    response.AddMember("description", Value(rapidjson::StringRef(StatusText(code))), a);
    responses.AddMember(Str(std::to_string(code), a), response, a);
  }
  Value unauthorized(rapidjson::kObjectType);
  unauthorized.AddMember("description", "Unauthorized", a);
  responses.AddMember("401", unauthorized, a);
  v.AddMember("responses", responses, a);
  Value tags(rapidjson::kArrayType);
  tags.PushBack(Str(tag, a), a);
  v.AddMember("tags", tags, a);
  v.AddMember("x-kubernetes-action", Str(op.action, a), a);
  if (!op.gvk.kind.empty()) v.AddMember("x-kubernetes-group-version-kind", GvkObject(op.gvk, a), a);
  return v;
}

}  // namespace

std::string V3PathKey(std::string_view group, std::string_view version) {
  if (group.empty()) return "api/" + std::string(version);
  return "apis/" + std::string(group) + "/" + std::string(version);
}

Result<std::string> BuildV3Document(const schema::SchemaRegistry& registry,
                                    const resources::ResourceTable& table,
                                    std::string_view group, std::string_view version,
                                    const CustomResources& custom) {
  std::vector<PathItem> paths = BuildPaths(table, group, version, custom);
  if (paths.empty()) {
    return NotFoundError("no resources are served in " + V3PathKey(group, version));
  }
  rapidjson::Document doc(rapidjson::kObjectType);
  Allocator& a = doc.GetAllocator();
  DefinitionSet defs(registry, table, custom, Dialect::kOpenApi3);
  const std::string tag = GroupVersionTag(group, version);

  Value paths_json(rapidjson::kObjectType);
  for (const PathItem& item : paths) {
    Value path(rapidjson::kObjectType);
    for (const Operation& op : item.operations) {
      path.AddMember(Str(op.method, a), OperationV3(op, tag, defs, a), a);
    }
    if (!item.parameters.empty()) path.AddMember("parameters", Parameters(item.parameters, a), a);
    paths_json.AddMember(Str(item.path, a), path, a);
  }

  // Keys in the order kube-apiserver writes them (sorted).
  Value components(rapidjson::kObjectType);
  components.AddMember("schemas", defs.Definitions(a), a);
  Value bearer(rapidjson::kObjectType);
  bearer.AddMember("description", "Bearer token authentication", a);
  bearer.AddMember("in", "header", a);
  bearer.AddMember("name", "authorization", a);
  bearer.AddMember("type", "apiKey", a);
  Value schemes(rapidjson::kObjectType);
  schemes.AddMember("BearerToken", bearer, a);
  components.AddMember("securitySchemes", schemes, a);
  doc.AddMember("components", components, a);
  Value info(rapidjson::kObjectType);
  info.AddMember("title", "Kubernetes", a);
  info.AddMember("version", "v1.32.0", a);
  doc.AddMember("info", info, a);
  doc.AddMember("openapi", "3.0.0", a);
  doc.AddMember("paths", paths_json, a);
  Value security(rapidjson::kArrayType);
  Value requirement(rapidjson::kObjectType);
  requirement.AddMember("BearerToken", Value(rapidjson::kArrayType), a);
  security.PushBack(requirement, a);
  doc.AddMember("security", security, a);
  return ToJson(doc);
}

std::string BuildV3Root(const std::vector<std::pair<std::string, std::string>>& key_hashes) {
  rapidjson::Document doc(rapidjson::kObjectType);
  Allocator& a = doc.GetAllocator();
  Value paths(rapidjson::kObjectType);
  for (const auto& [key, hash] : key_hashes) {
    Value entry(rapidjson::kObjectType);
    entry.AddMember("serverRelativeURL", Str("/openapi/v3/" + key + "?hash=" + hash, a), a);
    paths.AddMember(Str(key, a), entry, a);
  }
  doc.AddMember("paths", paths, a);
  return ToJson(doc);
}

}  // namespace kite::openapi
