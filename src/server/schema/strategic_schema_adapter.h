// The strategic merge patch schema of a kind, derived from the schema registry: merge keys
// and patch strategies come from the [merge_key=..., strategy=...] annotations of the
// .kschema files (the +patchMergeKey / +patchStrategy tags of the Go types).
//
// Thread-safety: the returned schemas are immutable and live as long as their registry (the
// built-in ones: for the life of the process); any thread may use them.
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>

#include "src/server/patch/strategic_schema.h"
#include "src/server/schema/schema_registry.h"

namespace kite::schema {

// The schema of a built-in kind (group "" for the core group), or nullptr when the registry
// has no such kind (patch it like JSON merge patch).
const patch::StrategicSchema* StrategicSchemaFor(std::string_view group, std::string_view version,
                                                 std::string_view kind);

// Strategic merge patch schemas for every message of one registry.
class StrategicSchemas {
 public:
  // `registry` must outlive this object.
  explicit StrategicSchemas(const SchemaRegistry& registry);
  ~StrategicSchemas();
  StrategicSchemas(const StrategicSchemas&) = delete;
  StrategicSchemas& operator=(const StrategicSchemas&) = delete;

  // nullptr for an unknown kind.
  const patch::StrategicSchema* ForKind(std::string_view group, std::string_view version,
                                        std::string_view kind) const;
  // The schema of a message of this registry.
  const patch::StrategicSchema* ForMessage(const MessageSchema& message) const;

 private:
  class MessageAdapter;
  const SchemaRegistry& registry_;
  std::unordered_map<const MessageSchema*, std::unique_ptr<MessageAdapter>> adapters_;
};

}  // namespace kite::schema
