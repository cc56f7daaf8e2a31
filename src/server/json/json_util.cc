#include "src/server/json/json_util.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>

namespace kite::json {
namespace {

rapidjson::Value Str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// YAML 1.1 plain-scalar resolution, limited to what Kubernetes manifests use.
rapidjson::Value PlainScalar(const std::string& s, rapidjson::Document::AllocatorType& a) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return rapidjson::Value();
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "Yes" || s == "on" ||
      s == "On") {
    return rapidjson::Value(true);
  }
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "No" || s == "off" ||
      s == "Off") {
    return rapidjson::Value(false);
  }
  // Integers (decimal, optional sign, no leading zeros except "0") and floats.
  const char* begin = s.c_str();
  char* end = nullptr;
  bool digits_only = true;
  size_t start = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (start == s.size()) digits_only = false;
  for (size_t i = start; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') digits_only = false;
  }
  if (digits_only && !(s.size() - start > 1 && s[start] == '0')) {
    errno = 0;
    long long v = std::strtoll(begin, &end, 10);
    if (errno == 0 && end == begin + s.size()) return rapidjson::Value(static_cast<int64_t>(v));
  }
  bool looks_float = s.find_first_of(".eE") != std::string::npos &&
                     s.find_first_not_of("0123456789+-.eE") == std::string::npos &&
                     s.find_first_of("0123456789") != std::string::npos;
  if (looks_float) {
    errno = 0;
    double d = std::strtod(begin, &end);
    if (errno == 0 && end == begin + s.size() && std::isfinite(d)) return rapidjson::Value(d);
  }
  return Str(s, a);
}

Status Convert(const YAML::Node& node, rapidjson::Value& out, rapidjson::Document::AllocatorType& a,
               int depth) {
  if (depth > 200) return InvalidArgumentError("YAML nested too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.SetNull();
      return Status::Ok();
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
        out = Str(node.Scalar(), a);
      } else {
        out = PlainScalar(node.Scalar(), a);
      }
      return Status::Ok();
    case YAML::NodeType::Sequence:
      out.SetArray();
      for (const YAML::Node& item : node) {
        rapidjson::Value v;
        KITE_RETURN_IF_ERROR(Convert(item, v, a, depth + 1));
        out.PushBack(v, a);
      }
      return Status::Ok();
    case YAML::NodeType::Map:
      out.SetObject();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return InvalidArgumentError("YAML map keys must be strings");
        rapidjson::Value v;
        KITE_RETURN_IF_ERROR(Convert(kv.second, v, a, depth + 1));
        const std::string& key = kv.first.Scalar();
        if (out.HasMember(key)) {
          out[key] = v;
        } else {
          out.AddMember(Str(key, a), v, a);
        }
      }
      return Status::Ok();
  }
  return InternalError("unknown YAML node type");
}

}  // namespace

Status ParseErrorOf(const rapidjson::Document& doc) {
  if (!doc.HasParseError()) return Status::Ok();
  return InvalidArgumentError(std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
                              rapidjson::GetParseError_En(doc.GetParseError()));
}

Result<rapidjson::Document> ParseJson(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) return ParseErrorOf(doc);
  return doc;
}

Result<rapidjson::Document> ParseJsonObject(std::string_view text) {
  Result<rapidjson::Document> doc = ParseJson(text);
  if (!doc.ok()) return doc.status();
  if (!doc->IsObject()) return InvalidArgumentError("expected a JSON object");
  return doc;
}

Result<rapidjson::Document> YamlToJson(std::string_view text) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("invalid YAML: ") + e.what());
  }
  rapidjson::Document doc;
  Status s = Convert(node, doc, doc.GetAllocator(), 0);
  if (!s.ok()) return s;
  return doc;
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const rapidjson::Value* Member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

rapidjson::Value* MutableMember(rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string_view StringMember(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* v = Member(object, name);
  if (!v || !v->IsString()) return {};
  return std::string_view(v->GetString(), v->GetStringLength());
}

void SetMember(rapidjson::Value& object, std::string_view name, rapidjson::Value value,
               rapidjson::Document::AllocatorType& allocator) {
  if (rapidjson::Value* existing = MutableMember(object, name)) {
    *existing = value;
    return;
  }
  object.AddMember(Str(name, allocator), value, allocator);
}

void SetStringMember(rapidjson::Value& object, std::string_view name, std::string_view value,
                     rapidjson::Document::AllocatorType& allocator) {
  SetMember(object, name, Str(value, allocator), allocator);
}

void RemoveMember(rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return;
  object.EraseMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
}

rapidjson::Value& EnsureObjectMember(rapidjson::Value& object, std::string_view name,
                                     rapidjson::Document::AllocatorType& allocator) {
  rapidjson::Value* existing = MutableMember(object, name);
  if (existing && existing->IsObject()) return *existing;
  SetMember(object, name, rapidjson::Value(rapidjson::kObjectType), allocator);
  return *MutableMember(object, name);
}

}  // namespace kite::json
