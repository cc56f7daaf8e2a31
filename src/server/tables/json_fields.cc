#include "src/server/tables/json_fields.h"

#include <cmath>
#include <cstdint>

namespace kite::tables::internal {

const rapidjson::Value* Get(const rapidjson::Value* v, std::string_view key) {
  if (v == nullptr || !v->IsObject()) return nullptr;
  auto it = v->FindMember(rapidjson::StringRef(key.empty() ? "" : key.data(), key.size()));
  if (it == v->MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

const rapidjson::Value& Arr(const rapidjson::Value* v) {
  static const rapidjson::Value kEmpty(rapidjson::kArrayType);
  return v != nullptr && v->IsArray() ? *v : kEmpty;
}

const rapidjson::Value* First(const rapidjson::Value* v) {
  return v != nullptr && v->IsArray() && !v->Empty() ? &(*v)[0] : nullptr;
}

bool IsObject(const rapidjson::Value* v) { return v != nullptr && v->IsObject(); }

std::string_view Str(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

std::optional<int64_t> Int(const rapidjson::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->IsInt64()) return v->GetInt64();
  if (v->IsUint64()) return INT64_MAX;  // only values above INT64_MAX get here
  if (v->IsDouble()) {
    const double d = v->GetDouble();
    if (std::isfinite(d) && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

int64_t IntOr(const rapidjson::Value* v, int64_t fallback) { return Int(v).value_or(fallback); }

bool Bool(const rapidjson::Value* v) { return v != nullptr && v->IsBool() && v->GetBool(); }

size_t Count(const rapidjson::Value* v) {
  if (v == nullptr) return 0;
  if (v->IsArray()) return v->Size();
  if (v->IsObject()) return v->MemberCount();
  return 0;
}

std::optional<Timestamp> Time(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return ParseTimestamp(Str(v));
}

std::string IntOrString(const rapidjson::Value* v) {
  if (auto n = Int(v)) return std::to_string(*n);
  return std::string(Str(v));
}

std::string_view Name(const rapidjson::Value& obj) { return Str(Dig(&obj, "metadata", "name")); }

bool HasDeletionTimestamp(const rapidjson::Value& obj) {
  return Dig(&obj, "metadata", "deletionTimestamp") != nullptr;
}

}  // namespace kite::tables::internal
