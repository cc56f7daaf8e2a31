#include "src/server/crd/scale_paths.h"

#include <algorithm>
#include <limits>
#include <map>

#include "src/server/crd/value_format.h"
#include "src/server/json/json_util.h"

namespace kite::crd {
namespace {

using rapidjson::Value;

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// ".spec.replicas" → {"spec", "replicas"}: the leading '.' is optional, as upstream.
std::vector<std::string> SplitPath(std::string_view path) {
  if (!path.empty() && path.front() == '.') path.remove_prefix(1);
  std::vector<std::string> fields;
  while (true) {
    size_t dot = path.find('.');
    fields.emplace_back(path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return fields;
}

// apimachinery's jsonPath(fields): ".spec.replicas".
std::string JoinPath(const std::vector<std::string>& fields, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < fields.size(); ++i) out += "." + fields[i];
  return out;
}

Status AccessorError(const std::vector<std::string>& fields, size_t count, const Value& value,
                     std::string_view expected) {
  return InvalidArgumentError(JoinPath(fields, count) + " accessor error: " + GoValueString(value) +
                              " is of the type " + GoTypeName(value) + ", expected " + std::string(expected));
}

// apimachinery's NestedFieldNoCopy: the value at `fields`, nullptr when absent (a null on
// the way counts as absent), an error when a value on the way is not an object.
Result<const Value*> NestedField(const Value& object, const std::vector<std::string>& fields) {
  const Value* v = &object;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (v->IsNull()) return static_cast<const Value*>(nullptr);
    if (!v->IsObject()) return AccessorError(fields, i + 1, *v, "map[string]interface{}");
    v = json::Member(*v, fields[i]);
    if (!v) return static_cast<const Value*>(nullptr);
  }
  return v;
}

void SetInt(rapidjson::Document& d, Value& parent, const char* name, int64_t value) {
  json::SetMember(parent, name, Value(value), d.GetAllocator());
}

std::vector<validation::StatusCause> ValidateReplicas(const Value& object, const std::string& path) {
  Result<std::optional<int64_t>> replicas = NestedInt64(object, path);
  if (!replicas.ok()) return {validation::InvalidRawCause(path, "0", replicas.status().message())};
  int64_t n = replicas->value_or(0);
  if (n < 0) return {validation::InvalidRawCause(path, std::to_string(n), "should be a non-negative integer")};
  if (n > kMaxInt32) {
    return {validation::InvalidRawCause(path, std::to_string(n),
                                        "should be less than or equal to " + std::to_string(kMaxInt32))};
  }
  return {};
}

}  // namespace

Result<std::optional<int64_t>> NestedInt64(const Value& object, std::string_view path) {
  std::vector<std::string> fields = SplitPath(path);
  Result<const Value*> v = NestedField(object, fields);
  if (!v.ok()) return v.status();
  if (!*v) return std::optional<int64_t>();
  if (!(*v)->IsInt64()) return AccessorError(fields, fields.size(), **v, "int64");
  return std::optional<int64_t>((*v)->GetInt64());
}

Result<std::optional<std::string>> NestedString(const Value& object, std::string_view path) {
  std::vector<std::string> fields = SplitPath(path);
  Result<const Value*> v = NestedField(object, fields);
  if (!v.ok()) return v.status();
  if (!*v) return std::optional<std::string>();
  if (!(*v)->IsString()) return AccessorError(fields, fields.size(), **v, "string");
  return std::optional<std::string>(std::string((*v)->GetString(), (*v)->GetStringLength()));
}

Status SetNestedInt64(Value& object, std::string_view path, int64_t value,
                      rapidjson::Document::AllocatorType& allocator) {
  std::vector<std::string> fields = SplitPath(path);
  // Check the whole way first so that a failure leaves `object` as it was.
  const Value* probe = &object;
  for (size_t i = 0; i + 1 < fields.size() && probe; ++i) {
    if (!probe->IsObject()) break;
    const Value* next = json::Member(*probe, fields[i]);
    if (next && !next->IsNull() && !next->IsObject()) {
      return InvalidArgumentError("value cannot be set because " + JoinPath(fields, i + 1) +
                                  " is not a map[string]interface{}");
    }
    probe = next && next->IsObject() ? next : nullptr;
  }
  if (!object.IsObject()) return InvalidArgumentError("value cannot be set because the object is not a map");
  Value* v = &object;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    Value* next = json::MutableMember(*v, fields[i]);
    if (!next || !next->IsObject()) {
      json::SetMember(*v, fields[i], Value(rapidjson::kObjectType), allocator);
      next = json::MutableMember(*v, fields[i]);
    }
    v = next;
  }
  json::SetMember(*v, fields.back(), Value(value), allocator);
  return Status::Ok();
}

Result<CustomScale> ScaleOfCustomResource(const Value& object, const ScaleSubresource& paths) {
  Result<std::optional<int64_t>> spec_replicas = NestedInt64(object, paths.spec_replicas_path);
  if (!spec_replicas.ok()) return spec_replicas.status();
  Result<std::optional<int64_t>> status_replicas = NestedInt64(object, paths.status_replicas_path);
  if (!status_replicas.ok()) return status_replicas.status();
  std::optional<std::string> selector;
  if (!paths.label_selector_path.empty()) {
    Result<std::optional<std::string>> read = NestedString(object, paths.label_selector_path);
    if (!read.ok()) return read.status();
    selector = std::move(read).value();
  }

  CustomScale out;
  rapidjson::Document& scale = out.scale;
  scale.SetObject();
  auto& a = scale.GetAllocator();
  json::SetStringMember(scale, "kind", "Scale", a);
  json::SetStringMember(scale, "apiVersion", "autoscaling/v1", a);
  Value md(rapidjson::kObjectType);
  if (const Value* old = json::Member(object, "metadata"); old && old->IsObject()) {
    for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
      const Value* v = json::Member(*old, f);
      if (v && v->IsString() && v->GetStringLength() > 0) json::SetMember(md, f, Value(*v, a), a);
    }
  }
  json::SetMember(scale, "metadata", std::move(md), a);
  // Scale's int32 fields; spec.replicas is omitempty in autoscaling/v1, status.replicas not.
  auto int32_of = [](int64_t n) { return static_cast<int64_t>(static_cast<int32_t>(n)); };
  Value spec(rapidjson::kObjectType);
  out.spec_replicas_found = spec_replicas->has_value();
  if (int64_t n = int32_of(spec_replicas->value_or(0)); n != 0) SetInt(scale, spec, "replicas", n);
  json::SetMember(scale, "spec", std::move(spec), a);
  Value status(rapidjson::kObjectType);
  SetInt(scale, status, "replicas", int32_of(status_replicas->value_or(0)));
  if (selector && !selector->empty()) json::SetStringMember(status, "selector", *selector, a);
  json::SetMember(scale, "status", std::move(status), a);
  return out;
}

std::vector<validation::StatusCause> ValidateScaleSpec(const Value& object, const ScaleSubresource& paths) {
  return ValidateReplicas(object, paths.spec_replicas_path);
}

std::vector<validation::StatusCause> ValidateScaleStatus(const Value& object, const ScaleSubresource& paths) {
  std::vector<validation::StatusCause> causes = ValidateReplicas(object, paths.status_replicas_path);
  if (!paths.label_selector_path.empty()) {
    Result<std::optional<std::string>> selector = NestedString(object, paths.label_selector_path);
    if (!selector.ok()) {
      causes.push_back(validation::InvalidCause(paths.label_selector_path, "", selector.status().message()));
    }
  }
  return causes;
}

}  // namespace kite::crd
