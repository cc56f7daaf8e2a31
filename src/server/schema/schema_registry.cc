#include "src/server/schema/schema_registry.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/server/schema/schema_parser.h"

namespace kite::schema {

std::string_view FieldKindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kString:
      return "string";
    case FieldKind::kInt32:
      return "int32";
    case FieldKind::kInt64:
      return "int64";
    case FieldKind::kUint32:
      return "uint32";
    case FieldKind::kUint64:
      return "uint64";
    case FieldKind::kBool:
      return "bool";
    case FieldKind::kDouble:
      return "double";
    case FieldKind::kFloat:
      return "float";
    case FieldKind::kBytes:
      return "bytes";
    case FieldKind::kMessage:
      return "message";
    case FieldKind::kMap:
      return "map";
    case FieldKind::kTime:
      return "Time";
    case FieldKind::kMicroTime:
      return "MicroTime";
    case FieldKind::kDuration:
      return "Duration";
    case FieldKind::kQuantity:
      return "Quantity";
    case FieldKind::kIntOrString:
      return "IntOrString";
    case FieldKind::kRawExtension:
      return "RawExtension";
    case FieldKind::kFieldsV1:
      return "FieldsV1";
  }
  return "?";
}

const FieldSchema* MessageSchema::FieldByNumber(int number) const {
  auto it = by_number_.find(number);
  return it == by_number_.end() ? nullptr : &fields[it->second];
}

const FieldSchema* MessageSchema::FieldByJsonName(std::string_view json_name) const {
  auto it = by_json_.find(json_name);
  return it == by_json_.end() ? nullptr : &fields[it->second];
}

const FieldSchema* MessageSchema::FindJsonField(std::string_view json_name) const {
  auto it = by_json_flat_.find(json_name);
  return it == by_json_flat_.end() ? nullptr : it->second;
}

const SchemaRegistry& SchemaRegistry::Builtin() {
  // A magic static: initialized once, thread-safe.
  static const SchemaRegistry* const registry = [] {
    Result<SchemaRegistry> parsed = ParseSchemas(BuiltinSchemaSources());
    if (!parsed.ok()) {
      std::fprintf(stderr, "kite: the built-in schema does not parse: %s\n",
                   parsed.status().message().c_str());
      std::abort();
    }
    return new SchemaRegistry(std::move(parsed).value());
  }();
  return *registry;
}

const MessageSchema* SchemaRegistry::FindKind(std::string_view group, std::string_view version,
                                              std::string_view kind) const {
  std::string key;
  key.reserve(group.size() + version.size() + kind.size() + 2);
  key.append(group).append("/").append(version).append("/").append(kind);
  if (auto it = kinds_.find(key); it != kinds_.end()) return it->second;
  if (auto it = shared_kinds_.find(kind); it != shared_kinds_.end()) return it->second;
  return nullptr;
}

const MessageSchema* SchemaRegistry::FindMessage(std::string_view full_name) const {
  auto it = by_full_name_.find(full_name);
  return it == by_full_name_.end() ? nullptr : it->second;
}

}  // namespace kite::schema
