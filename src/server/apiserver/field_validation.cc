#include "src/server/apiserver/field_validation.h"

namespace kite::apiserver {
namespace {

constexpr int kMaxDepth = 200;

void Prune(rapidjson::Value& object, const schema::MessageSchema& message, const std::string& path,
           bool top, int depth, std::vector<std::string>& unknown);

void PruneValue(rapidjson::Value& value, const schema::FieldSchema& field, const std::string& path,
                int depth, std::vector<std::string>& unknown) {
  bool message_values = field.kind == schema::FieldKind::kMessage && field.message &&
                        !field.message->is_wrapper && !field.message->is_oneof;
  bool map_of_messages = field.kind == schema::FieldKind::kMap &&
                         field.map_value_kind == schema::FieldKind::kMessage &&
                         field.map_value_message && !field.map_value_message->is_wrapper &&
                         !field.map_value_message->is_oneof;
  if (message_values) {
    if (field.repeated && value.IsArray()) {
      for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
        if (value[i].IsObject()) {
          Prune(value[i], *field.message, path + "[" + std::to_string(i) + "]", false, depth + 1, unknown);
        }
      }
    } else if (value.IsObject()) {
      Prune(value, *field.message, path, false, depth + 1, unknown);
    }
  } else if (map_of_messages && value.IsObject()) {
    for (auto& m : value.GetObject()) {
      if (m.value.IsObject()) {
        Prune(m.value, *field.map_value_message,
              path + "[" + std::string(m.name.GetString(), m.name.GetStringLength()) + "]", false,
              depth + 1, unknown);
      }
    }
  }
}

void Prune(rapidjson::Value& object, const schema::MessageSchema& message, const std::string& path,
           bool top, int depth, std::vector<std::string>& unknown) {
  if (depth > kMaxDepth) return;
  std::vector<std::string> remove;
  for (auto& m : object.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (top && (name == "apiVersion" || name == "kind")) continue;
    std::string child = path.empty() ? std::string(name) : path + "." + std::string(name);
    const schema::FieldSchema* field = message.FindJsonField(name);
    if (!field) {
      unknown.push_back(child);
      remove.emplace_back(name);
      continue;
    }
    PruneValue(m.value, *field, child, depth, unknown);
  }
  for (const std::string& name : remove) object.EraseMember(name);
}

}  // namespace

std::vector<std::string> PruneUnknownFields(rapidjson::Value& object,
                                            const schema::MessageSchema& message) {
  std::vector<std::string> unknown;
  if (object.IsObject()) Prune(object, message, "", true, 0, unknown);
  return unknown;
}

}  // namespace kite::apiserver
