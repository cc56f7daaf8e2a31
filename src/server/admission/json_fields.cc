#include "src/server/admission/json_fields.h"

#include <cstdio>
#include <ctime>
#include <unordered_map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::admission {

using selection::GoQuote;

std::string Child(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string out(path);
  out.push_back('.');
  out.append(name);
  return out;
}

std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string Key(std::string_view path, std::string_view key) {
  return std::string(path) + "[" + std::string(key) + "]";
}

void Causes::Required(std::string path, std::string detail) {
  list_.push_back(validation::RequiredCause(std::move(path), std::move(detail)));
}

void Causes::Invalid(std::string path, std::string_view value, std::string detail) {
  InvalidRaw(std::move(path), GoQuote(value), std::move(detail));
}

void Causes::InvalidRaw(std::string path, std::string formatted, std::string detail) {
  std::string message = "Invalid value: " + formatted;
  if (!detail.empty()) message += ": " + detail;
  list_.push_back({"FieldValueInvalid", std::move(message), std::move(path)});
}

void Causes::InvalidInt(std::string path, int64_t value, std::string detail) {
  InvalidRaw(std::move(path), std::to_string(value), std::move(detail));
}

void Causes::NotSupported(std::string path, std::string_view value,
                          const std::vector<std::string>& supported) {
  NotSupportedRaw(std::move(path), GoQuote(value), supported);
}

void Causes::NotSupportedRaw(std::string path, std::string formatted,
                             const std::vector<std::string>& supported) {
  std::string message = "Unsupported value: " + formatted;
  if (!supported.empty()) {
    message += ": supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i > 0) message += ", ";
      message += GoQuote(supported[i]);
    }
  }
  list_.push_back({"FieldValueNotSupported", std::move(message), std::move(path)});
}

void Causes::Forbidden(std::string path, std::string detail) {
  list_.push_back(validation::ForbiddenCause(std::move(path), std::move(detail)));
}

void Causes::Duplicate(std::string path, std::string_view value) {
  DuplicateRaw(std::move(path), GoQuote(value));
}

void Causes::DuplicateRaw(std::string path, std::string formatted) {
  list_.push_back({"FieldValueDuplicate", "Duplicate value: " + formatted, std::move(path)});
}

void Causes::NotFound(std::string path, std::string_view value, std::string detail) {
  std::string message = "Not found: " + GoQuote(value);
  if (!detail.empty()) message += ": " + detail;
  list_.push_back({"FieldValueNotFound", std::move(message), std::move(path)});
}

void Causes::TooLong(std::string path, size_t max_bytes) {
  list_.push_back(validation::TooLongCause(std::move(path), max_bytes));
}

namespace {

const char* JsonTypeName(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return v.IsInt64() || v.IsUint64() ? "integer" : "number";
  }
  return "unknown";
}

}  // namespace

void Causes::TypeInvalid(std::string path, const Value& value, std::string_view expected) {
  list_.push_back(validation::TypeInvalidCause(std::move(path), GoQuote(JsonTypeName(value)),
                                               "must be of type " + std::string(expected)));
}

void Causes::InvalidEach(const std::string& path, std::string_view value,
                         const std::vector<std::string>& details) {
  for (const std::string& d : details) Invalid(path, value, d);
}

const Value* Get(const Value* parent, std::string_view name) {
  if (parent == nullptr) return nullptr;
  const Value* v = json::Member(*parent, name);
  return v == nullptr || v->IsNull() ? nullptr : v;
}

Value* GetMutable(Value* parent, std::string_view name) {
  if (parent == nullptr) return nullptr;
  Value* v = json::MutableMember(*parent, name);
  return v == nullptr || v->IsNull() ? nullptr : v;
}

const Value* GetObject(Causes* causes, const Value* parent, std::string_view name,
                       const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return nullptr;
  if (!v->IsObject()) {
    if (causes) causes->TypeInvalid(path, *v, "object");
    return nullptr;
  }
  return v;
}

const Value* GetArray(Causes* causes, const Value* parent, std::string_view name,
                      const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return nullptr;
  if (!v->IsArray()) {
    if (causes) causes->TypeInvalid(path, *v, "array");
    return nullptr;
  }
  return v;
}

std::optional<std::string_view> GetString(Causes* causes, const Value* parent,
                                          std::string_view name, const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) {
    if (causes) causes->TypeInvalid(path, *v, "string");
    return std::nullopt;
  }
  return std::string_view(v->GetString(), v->GetStringLength());
}

std::optional<int64_t> GetInt(Causes* causes, const Value* parent, std::string_view name,
                              const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsInt64()) {
    if (causes) causes->TypeInvalid(path, *v, "integer");
    return std::nullopt;
  }
  return v->GetInt64();
}

std::optional<int64_t> GetInt32(Causes* causes, const Value* parent, std::string_view name,
                                const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsInt()) {
    if (causes) causes->TypeInvalid(path, *v, "int32");
    return std::nullopt;
  }
  return v->GetInt();
}

std::optional<bool> GetBool(Causes* causes, const Value* parent, std::string_view name,
                            const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsBool()) {
    if (causes) causes->TypeInvalid(path, *v, "boolean");
    return std::nullopt;
  }
  return v->GetBool();
}

const Value* ElementObject(Causes* causes, const Value& element, const std::string& path) {
  if (element.IsObject()) return &element;
  if (causes && !element.IsNull()) causes->TypeInvalid(path, element, "object");
  return nullptr;
}

StringMap GetStringMap(Causes* causes, const Value* parent, std::string_view name,
                       const std::string& path) {
  StringMap out;
  const Value* v = GetObject(causes, parent, name, path);
  if (v == nullptr) return out;
  out.present = true;
  out.entries.reserve(v->MemberCount());
  for (const auto& m : v->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (!m.value.IsString()) {
      if (causes) causes->TypeInvalid(Key(path, key), m.value, "string");
      continue;
    }
    out.entries.emplace_back(key, std::string_view(m.value.GetString(), m.value.GetStringLength()));
  }
  return out;
}

std::optional<std::vector<std::string_view>> GetStringList(Causes* causes, const Value* parent,
                                                           std::string_view name,
                                                           const std::string& path) {
  const Value* v = GetArray(causes, parent, name, path);
  if (v == nullptr) return std::nullopt;
  std::vector<std::string_view> out;
  out.reserve(v->Size());
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const Value& e = (*v)[i];
    if (!e.IsString()) {
      if (causes) causes->TypeInvalid(Index(path, i), e, "string");
      continue;
    }
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::optional<IntOrString> GetIntOrString(Causes* causes, const Value* parent,
                                          std::string_view name, const std::string& path) {
  const Value* v = Get(parent, name);
  if (v == nullptr) return std::nullopt;
  IntOrString out;
  if (v->IsString()) {
    out.is_string = true;
    out.string_value = std::string_view(v->GetString(), v->GetStringLength());
    return out;
  }
  if (v->IsInt()) {
    out.int_value = v->GetInt();
    return out;
  }
  if (causes) causes->TypeInvalid(path, *v, "integer or string");
  return std::nullopt;
}

std::string NumberText(const Value& v) {
  if (!v.IsNumber()) return "";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<std::string> QuantityText(const Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsNumber()) return NumberText(v);
  return std::nullopt;
}

namespace {

bool IsZeroish(const Value* v, int depth) {
  if (v == nullptr || v->IsNull()) return true;
  switch (v->GetType()) {
    case rapidjson::kFalseType: return true;
    case rapidjson::kTrueType: return false;
    case rapidjson::kStringType: return v->GetStringLength() == 0;
    case rapidjson::kNumberType: return v->IsInt64() ? v->GetInt64() == 0 : v->GetDouble() == 0;
    case rapidjson::kArrayType: return v->Empty();
    case rapidjson::kObjectType:
      if (depth > 256) return false;
      for (const auto& m : v->GetObject()) {
        if (!IsZeroish(&m.value, depth + 1)) return false;
      }
      return true;
    default: return false;
  }
}

bool Equal(const Value* a, const Value* b, int depth) {
  if (a != nullptr && a->IsNull()) a = nullptr;
  if (b != nullptr && b->IsNull()) b = nullptr;
  if (a == nullptr || b == nullptr) return IsZeroish(a == nullptr ? b : a, depth);
  if (depth > 256) return false;
  if (a->IsNumber() && b->IsNumber()) {
    if (a->IsInt64() && b->IsInt64()) return a->GetInt64() == b->GetInt64();
    return a->GetDouble() == b->GetDouble();
  }
  if (a->GetType() != b->GetType()) {
    // true/false have distinct rapidjson types.
    if (a->IsBool() && b->IsBool()) return a->GetBool() == b->GetBool();
    return IsZeroish(a, depth) && IsZeroish(b, depth);
  }
  switch (a->GetType()) {
    case rapidjson::kStringType:
      return a->GetStringLength() == b->GetStringLength() &&
             std::string_view(a->GetString(), a->GetStringLength()) ==
                 std::string_view(b->GetString(), b->GetStringLength());
    case rapidjson::kArrayType:
      if (a->Size() != b->Size()) return false;
      for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
        if (!Equal(&(*a)[i], &(*b)[i], depth + 1)) return false;
      }
      return true;
    case rapidjson::kObjectType: {
      // Index b's members so large maps stay linear.
      std::unordered_map<std::string_view, const Value*> index;
      index.reserve(b->MemberCount());
      for (const auto& m : b->GetObject()) {
        index.emplace(std::string_view(m.name.GetString(), m.name.GetStringLength()), &m.value);
      }
      size_t matched = 0;
      for (const auto& m : a->GetObject()) {
        auto it = index.find(std::string_view(m.name.GetString(), m.name.GetStringLength()));
        const Value* other = it == index.end() ? nullptr : it->second;
        if (other != nullptr) ++matched;
        if (!Equal(&m.value, other, depth + 1)) return false;
      }
      if (matched == index.size()) return true;
      // Members only b has must be zero values.
      for (const auto& m : a->GetObject()) {
        index.erase(std::string_view(m.name.GetString(), m.name.GetStringLength()));
      }
      for (const auto& [name, value] : index) {
        if (!IsZeroish(value, depth + 1)) return false;
      }
      return true;
    }
    default:
      return true;  // true == true, false == false
  }
}

bool Absent(const Value& object, std::string_view name) {
  const Value* v = json::Member(object, name);
  return v == nullptr || v->IsNull();
}

}  // namespace

bool SemanticEqual(const Value* a, const Value* b) { return Equal(a, b, 0); }

void SetStringField(Value& object, std::string_view name, std::string_view value, Allocator& a) {
  json::SetStringMember(object, name, value.data() == nullptr ? std::string_view("") : value, a);
}

void DefaultString(Value& object, std::string_view name, std::string_view value, Allocator& a) {
  if (!object.IsObject()) return;
  const Value* v = json::Member(object, name);
  if (v == nullptr || v->IsNull() || (v->IsString() && v->GetStringLength() == 0)) {
    SetStringField(object, name, value, a);
  }
}

void DefaultInt(Value& object, std::string_view name, int64_t value, Allocator& a) {
  if (object.IsObject() && Absent(object, name)) json::SetMember(object, name, Value(value), a);
}

void DefaultIntZero(Value& object, std::string_view name, int64_t value, Allocator& a) {
  if (!object.IsObject()) return;
  const Value* v = json::Member(object, name);
  if (v == nullptr || v->IsNull() || (v->IsInt64() && v->GetInt64() == 0)) {
    json::SetMember(object, name, Value(value), a);
  }
}

void DefaultBool(Value& object, std::string_view name, bool value, Allocator& a) {
  if (object.IsObject() && Absent(object, name)) json::SetMember(object, name, Value(value), a);
}

Value* DefaultObject(Value& object, std::string_view name, Allocator& a) {
  if (!object.IsObject()) return nullptr;
  if (Absent(object, name)) json::SetMember(object, name, Value(rapidjson::kObjectType), a);
  Value* v = json::MutableMember(object, name);
  return v != nullptr && v->IsObject() ? v : nullptr;
}

Value* MutableObject(Value& object, std::string_view name) {
  Value* v = json::MutableMember(object, name);
  return v != nullptr && v->IsObject() ? v : nullptr;
}

Value* MutableArray(Value& object, std::string_view name) {
  Value* v = json::MutableMember(object, name);
  return v != nullptr && v->IsArray() ? v : nullptr;
}

bool IsZeroTime(std::string_view t) {
  return t.empty() || t == "0001-01-01T00:00:00Z" || t == "0001-01-01T00:00:00.000000Z";
}

std::string GoTime(std::string_view text) {
  if (IsZeroTime(text)) return "0001-01-01 00:00:00 +0000 UTC";
  std::tm tm{};
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return GoQuote(text);
  }
  std::string_view rest = text.substr(19);
  std::string fraction;
  if (!rest.empty() && rest[0] == '.') {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    fraction = std::string(rest.substr(1, n - 1));
    rest = rest.substr(n);
  }
  int offset_seconds = 0;
  if (rest == "Z" || rest == "z") {
    offset_seconds = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hours = (rest[1] - '0') * 10 + (rest[2] - '0');
    int minutes = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset_seconds = (rest[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  } else {
    return GoQuote(text);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t utc = timegm(&tm) - offset_seconds;
  std::tm out{};
  if (!gmtime_r(&utc, &out)) return GoQuote(text);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d", out.tm_year + 1900, out.tm_mon + 1,
                out.tm_mday, out.tm_hour, out.tm_min, out.tm_sec);
  std::string result = buffer;
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (fraction.size() > 9) fraction.resize(9);
  if (!fraction.empty()) result += "." + fraction;
  return result + " +0000 UTC";
}

}  // namespace kite::admission
