#include "src/agent/volumes/object_data.h"

#include "src/server/json/json_util.h"

namespace kite::agent::volumes {
namespace {

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

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
    std::optional<std::string> bytes =
        DecodeBase64(std::string_view(m.value.GetString(), m.value.GetStringLength()));
    if (bytes) out[std::string(m.name.GetString(), m.name.GetStringLength())] = std::move(*bytes);
  }
}

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

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
