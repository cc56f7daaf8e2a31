#include "src/server/openapi/json_writing.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kite::openapi {

rapidjson::Value Str(std::string_view s, JsonAllocator& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString: return "string";
    case ParamType::kInteger: return "integer";
    case ParamType::kBoolean: return "boolean";
  }
  return "string";
}

std::vector<std::string> RequestContentTypes(const Operation& op) {
  if (op.request.what == BodyType::What::kPatch) {
    if (op.custom) {
      return {"application/apply-patch+yaml", "application/json-patch+json",
              "application/merge-patch+json"};
    }
    return {"application/apply-patch+yaml", "application/json-patch+json",
            "application/merge-patch+json", "application/strategic-merge-patch+json"};
  }
  if (op.custom) return {"application/json", "application/yaml"};
  return {"*/*"};
}

std::vector<std::string> ResponseContentTypes(const Operation& op) {
  if (op.custom && op.response_mode != ResponseMode::kText) {
    return {"application/json", "application/yaml"};
  }
  switch (op.response_mode) {
    case ResponseMode::kObject:
      return {"application/json", "application/vnd.kubernetes.protobuf", "application/yaml"};
    case ResponseMode::kStream:
      return {"application/json", "application/json;stream=watch",
              "application/vnd.kubernetes.protobuf",
              "application/vnd.kubernetes.protobuf;stream=watch", "application/yaml"};
    case ResponseMode::kText: return {"*/*"};
  }
  return {};
}

const char* StatusText(int code) {
  switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    default: return "";
  }
}

rapidjson::Value GvkObject(const Gvk& gvk, JsonAllocator& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("group", Str(gvk.group, a), a);
  v.AddMember("kind", Str(gvk.kind, a), a);
  v.AddMember("version", Str(gvk.version, a), a);
  return v;
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace kite::openapi
