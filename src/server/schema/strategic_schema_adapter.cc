#include "src/server/schema/strategic_schema_adapter.h"

namespace kite::schema {

// One message's fields as strategic merge patch sees them. Members of [inline] fields are
// looked up as the message's own, as they appear in the JSON object.
class StrategicSchemas::MessageAdapter : public patch::StrategicSchema {
 public:
  // The schema of a value of message type `m`: for a [oneof] union, that of its object
  // alternative (the one strategic merge patch can descend into), if it has one.
  static const MessageSchema* ObjectForm(const MessageSchema* m) {
    if (!m->is_oneof) return m->is_wrapper ? nullptr : m;
    for (const FieldSchema& f : m->fields) {
      if (!f.repeated && f.kind == FieldKind::kMessage) return ObjectForm(f.message);
    }
    return nullptr;
  }

  MessageAdapter(const MessageSchema& message, const StrategicSchemas& owner)
      : message_(message), owner_(owner) {}

  std::optional<Field> Lookup(std::string_view field_name) const override {
    const FieldSchema* f = message_.FindJsonField(field_name);
    if (f == nullptr) return std::nullopt;
    Field out;
    out.merge_list = f->repeated && f->strategy_merge;
    out.retain_keys = f->strategy_retain_keys;
    out.merge_key = f->merge_key;
    if (f->kind == FieldKind::kMessage) {
      if (const MessageSchema* m = ObjectForm(f->message)) out.type = owner_.ForMessage(*m);
    } else if (f->kind == FieldKind::kMap) {
      out.is_map = true;
      if (f->map_value_kind == FieldKind::kMessage) {
        if (const MessageSchema* m = ObjectForm(f->map_value_message))
          out.type = owner_.ForMessage(*m);
      }
    }
    return out;
  }

 private:
  const MessageSchema& message_;
  const StrategicSchemas& owner_;
};

StrategicSchemas::StrategicSchemas(const SchemaRegistry& registry) : registry_(registry) {
  for (const auto& m : registry.messages()) {
    adapters_.emplace(m.get(), std::make_unique<MessageAdapter>(*m, *this));
  }
}

StrategicSchemas::~StrategicSchemas() = default;

const patch::StrategicSchema* StrategicSchemas::ForKind(std::string_view group,
                                                        std::string_view version,
                                                        std::string_view kind) const {
  const MessageSchema* m = registry_.FindKind(group, version, kind);
  return m == nullptr ? nullptr : ForMessage(*m);
}

const patch::StrategicSchema* StrategicSchemas::ForMessage(const MessageSchema& message) const {
  auto it = adapters_.find(&message);
  return it == adapters_.end() ? nullptr : it->second.get();
}

const patch::StrategicSchema* StrategicSchemaFor(std::string_view group, std::string_view version,
                                                 std::string_view kind) {
  static const StrategicSchemas* const schemas = new StrategicSchemas(SchemaRegistry::Builtin());
  return schemas->ForKind(group, version, kind);
}

}  // namespace kite::schema
