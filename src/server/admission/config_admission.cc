// ConfigMaps and Secrets: keys, the 1 MiB size limit, immutability, Secret types.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <unordered_map>

#include <rapidjson/document.h>

#include "src/base/base64.h"
#include "src/server/admission/kinds.h"
#include "src/server/admission/value_checks.h"
#include "src/server/json/json_util.h"

namespace kite::admission {
namespace {

constexpr size_t kMaxSize = 1024 * 1024;  // core.MaxSecretSize, for ConfigMaps too
constexpr char kRedacted[] = "<secret contents redacted>";
constexpr char kImmutableSet[] = "field is immutable when `immutable` is set";

bool IsImmutable(const Value* object) {
  const Value* v = Get(object, "immutable");
  return v != nullptr && v->IsTrue();
}

void CheckImmutable(Causes& c, const Value& object, const Value* old, std::initializer_list<const char*> fields) {
  if (old == nullptr || !IsImmutable(old)) return;
  if (!IsImmutable(&object)) c.Forbidden("immutable", kImmutableSet);
  for (const char* f : fields) {
    if (!SemanticEqual(Get(&object, f), Get(old, f))) c.Forbidden(f, kImmutableSet);
  }
}

// Go's json.Unmarshal into map[string]interface{}, for docker config secrets.
std::optional<std::string> JsonObjectError(std::string_view text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseStopWhenDoneFlag>(text.data(), text.size());
  if (d.HasParseError()) {
    size_t at = d.GetErrorOffset();
    if (at >= text.size()) return "unexpected end of JSON input";
    return "invalid character '" + std::string(1, text[at]) + "' looking for beginning of value";
  }
  if (!d.IsObject()) {
    const char* kind = d.IsArray() ? "array" : d.IsString() ? "string" : d.IsNumber() ? "number"
                       : d.IsBool() ? "bool" : "null";
    if (d.IsNull()) return std::nullopt;
    return std::string("json: cannot unmarshal ") + kind + " into Go value of type map[string]interface {}";
  }
  return std::nullopt;
}

}  // namespace

void DefaultConfigMap(Value&, Allocator&) {}

void ValidateConfigMap(Causes& c, const Value& object, const Value* old, std::string_view) {
  CheckImmutable(c, object, old, {"data", "binaryData"});
  size_t total = 0;
  StringMap data = GetStringMap(&c, &object, "data", "data");
  const Value* binary = GetObject(&c, &object, "binaryData", "binaryData");
  for (const auto& [key, value] : data.entries) {
    c.InvalidEach(Key("data", key), key, ConfigMapKeyErrors(key));
    if (Get(binary, key) != nullptr) c.Invalid(Key("data", key), key, "duplicate of key present in binaryData");
    total += value.size();
  }
  if (binary != nullptr) {
    for (const auto& m : binary->GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      c.InvalidEach(Key("binaryData", key), key, ConfigMapKeyErrors(key));
      if (!m.value.IsString()) {
        c.TypeInvalid(Key("binaryData", key), m.value, "string");
        continue;
      }
      Result<std::string> bytes = Base64DecodeOrError(std::string_view(m.value.GetString(), m.value.GetStringLength()));
      if (!bytes.ok()) {
        c.Invalid(Key("binaryData", key), "", bytes.status().message());
        continue;
      }
      total += bytes->size();
    }
  }
  if (total > kMaxSize) c.TooLong("", kMaxSize);
}

void DefaultSecret(Value& object, Allocator& a) {
  DefaultString(object, "type", "Opaque", a);
  // stringData is write-only: it is merged into data (winning over it) and never stored.
  const Value* string_data = Get(&object, "stringData");
  if (string_data == nullptr || !string_data->IsObject()) return;
  for (const auto& m : string_data->GetObject()) {
    if (!m.value.IsString()) return;  // leave it for validation to report
  }
  Value* data = DefaultObject(object, "data", a);
  if (data == nullptr) return;
  string_data = Get(&object, "stringData");  // adding "data" may have moved it
  for (const auto& m : string_data->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    SetStringField(*data, key, Base64Encode(std::string_view(m.value.GetString(), m.value.GetStringLength())), a);
  }
  json::RemoveMember(object, "stringData");
}

void ValidateSecret(Causes& c, const Value& object, const Value* old, std::string_view) {
  std::string_view type = GetString(&c, &object, "type", "type").value_or("");
  if (old != nullptr) {
    std::string_view old_type = json::StringMember(*old, "type");
    if (type != old_type) c.Invalid("type", type, kFieldImmutableErrorMsg);
  }
  CheckImmutable(c, object, old, {"data"});
  StringMap data = GetStringMap(&c, &object, "data", "data");
  std::unordered_map<std::string_view, std::string> decoded;
  size_t total = 0;
  for (const auto& [key, value] : data.entries) {
    c.InvalidEach(Key("data", key), key, ConfigMapKeyErrors(key));
    Result<std::string> bytes = Base64DecodeOrError(value);  // Go's []byte decoding and message
    if (!bytes.ok()) {
      c.Invalid(Key("data", key), kRedacted, bytes.status().message());
      continue;
    }
    total += bytes->size();
    decoded.emplace(key, std::move(*bytes));
  }
  if (Get(&object, "stringData") != nullptr) GetStringMap(&c, &object, "stringData", "stringData");
  if (total > kMaxSize) c.TooLong("data", kMaxSize);
  auto has = [&](const char* key) { return Get(Get(&object, "data"), key) != nullptr; };
  if (type == "kubernetes.io/service-account-token") {
    const Value* annotations = Get(Get(&object, "metadata"), "annotations");
    if (GetString(nullptr, annotations, "kubernetes.io/service-account.name", "").value_or("").empty()) {
      c.Required("metadata.annotations[kubernetes.io/service-account.name]");
    }
  } else if (type == "kubernetes.io/dockercfg" || type == "kubernetes.io/dockerconfigjson") {
    const char* key = type == "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
    if (!has(key)) {
      c.Required(Key("data", key));
    } else if (auto it = decoded.find(key); it != decoded.end()) {
      if (std::optional<std::string> error = JsonObjectError(it->second)) c.Invalid(Key("data", key), kRedacted, *error);
    }
  } else if (type == "kubernetes.io/basic-auth") {
    if (!has("username") && !has("password")) {
      c.Required("data[username]");
      c.Required("data[password]");
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    auto it = decoded.find("ssh-privatekey");
    if (it == decoded.end() || it->second.empty()) c.Required("data[ssh-privatekey]");
  } else if (type == "kubernetes.io/tls") {
    if (!has("tls.crt")) c.Required("data[tls.crt]");
    if (!has("tls.key")) c.Required("data[tls.key]");
  }
}

}  // namespace kite::admission
