#include "src/agent/volumes/object_data.h"

#include "src/base/base64.h"
#include "src/server/json/json_util.h"

namespace kite::agent::volumes {
namespace {

void CopyStrings(const rapidjson::Value* object, KeyValues& out) {
  if (!object || !object->IsObject()) return;
  for (const auto& m : object->GetObject()) {
    if (m.value.IsString()) {
      out[std::string(m.name.GetString(), m.name.GetStringLength())] =
          std::string(m.value.GetString(), m.value.GetStringLength());
    }
  }
}

void CopyDecoded(const rapidjson::Value* object, KeyValues& out) {
  if (!object || !object->IsObject()) return;
  for (const auto& m : object->GetObject()) {
    if (!m.value.IsString()) continue;
    // Padding optional: the API server checked the data on write, and dropping a value
    // here would only hide it from the pod.
    std::optional<std::string> bytes = Base64Decode(
        std::string_view(m.value.GetString(), m.value.GetStringLength()), Base64Padding::kOptional);
    if (bytes) out[std::string(m.name.GetString(), m.name.GetStringLength())] = std::move(*bytes);
  }
}

}  // namespace

KeyValues ConfigMapData(const rapidjson::Value& config_map, bool with_binary) {
  KeyValues out;
  CopyStrings(json::Member(config_map, "data"), out);
  if (with_binary) CopyDecoded(json::Member(config_map, "binaryData"), out);
  return out;
}

KeyValues SecretData(const rapidjson::Value& secret) {
  KeyValues out;
  CopyDecoded(json::Member(secret, "data"), out);
  return out;
}

}  // namespace kite::agent::volumes
