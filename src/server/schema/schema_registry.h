// The schema registry: one description per Kubernetes type, from which protobuf decoding,
// strategic merge patch keys and (later) OpenAPI documents, defaults and validation are derived.
//
// The descriptions are written in a small proto-like language (the .kschema files under
// src/server/schema/defs/, grammar in schema_parser.h), one file per API group/version, and
// embedded in the binary. SchemaRegistry::Builtin() parses them once.
//
// Thread-safety: a SchemaRegistry is immutable after it is built; any number of threads may
// read it. Pointers to MessageSchema and FieldSchema stay valid for the registry's lifetime
// (also across a move of the registry).
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/base/status.h"

namespace kite::schema {

// What a value is on the wire and in JSON.
enum class FieldKind {
  kString,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kBool,
  kDouble,
  kFloat,
  kBytes,    // base64 string in JSON
  kMessage,  // a JSON object ([wrapper]: an array; [oneof]: the value of its member)
  kMap,      // map<string, V>: a JSON object
  // Well-known types with their own JSON form.
  kTime,          // metav1.Time: {seconds, nanos} <-> "2024-01-02T03:04:05Z"
  kMicroTime,     // metav1.MicroTime: like Time with 6 fractional digits
  kDuration,      // metav1.Duration: {duration ns} <-> Go duration string "1h2m3s"
  kQuantity,      // resource.Quantity: {string} <-> "100m"
  kIntOrString,   // intstr.IntOrString: {type, intVal, strVal} <-> 3 or "25%"
  kRawExtension,  // runtime.RawExtension: {raw bytes} <-> the embedded JSON value
  kFieldsV1,      // metav1.FieldsV1: {raw bytes} <-> the embedded JSON value
};

// "string", "int32", ..., "Time", ... as spelled in .kschema files; "message", "map".
std::string_view FieldKindName(FieldKind kind);

struct MessageSchema;

struct FieldSchema {
  std::string json_name;
  int number = 0;
  FieldKind kind = FieldKind::kString;  // for maps: kMap
  bool repeated = false;
  // A Go pointer scalar: a zero value on the wire is kept in JSON (for non-pointer scalars
  // gogo-protobuf always writes the zero value, which the Go JSON encoding omits).
  bool ptr = false;
  // A Go struct embedded with `json:",inline"`: its own field on the wire, but its members
  // appear directly in the parent's JSON object (Volume.volumeSource, Probe.handler, ...).
  bool inline_json = false;
  const MessageSchema* message = nullptr;  // kind == kMessage
  // kind == kMap: keys are strings; the value's kind (and message, for kMessage values).
  FieldKind map_value_kind = FieldKind::kString;
  const MessageSchema* map_value_message = nullptr;
  // Strategic merge patch (+patchMergeKey / +patchStrategy in the Go types).
  std::string merge_key;
  bool strategy_merge = false;
  bool strategy_retain_keys = false;
  bool strategy_replace = false;
  int line = 0;  // where it was declared, for error messages
};

struct MessageSchema {
  std::string name;      // "Deployment"
  std::string package;   // "apps.v1"
  std::string group;     // "apps" ("" for the core group)
  std::string version;   // "v1"
  bool is_kind = false;  // a top-level object: FindKind finds it
  std::string kind;      // the kind name (usually equal to name) when is_kind
  // A named Go slice (metav1.Verbs, authentication ExtraValue): one repeated field 1 on the
  // wire, a plain JSON array.
  bool is_wrapper = false;
  // A union (apiextensions JSONSchemaPropsOrBool, ...): its JSON form is the value of its
  // last-declared field that is set (null when none is), not an object.
  bool is_oneof = false;
  std::vector<FieldSchema> fields;  // in declaration order

  std::string FullName() const { return package + "." + name; }
  const FieldSchema* FieldByNumber(int number) const;
  // A field declared in this message.
  const FieldSchema* FieldByJsonName(std::string_view json_name) const;
  // A field as seen in this message's JSON object: its own fields first, then the fields of
  // [inline] members (recursively).
  const FieldSchema* FindJsonField(std::string_view json_name) const;

 private:
  friend class SchemaRegistryBuilder;
  std::unordered_map<int, size_t> by_number_;
  std::map<std::string, size_t, std::less<>> by_json_;
  std::map<std::string, const FieldSchema*, std::less<>> by_json_flat_;
};

// One .kschema text and the name used in error messages.
struct SchemaSource {
  std::string_view file_name;
  std::string_view text;
};

// The .kschema texts embedded in the binary (generated at build time from defs/).
std::span<const SchemaSource> BuiltinSchemaSources();

class SchemaRegistry {
 public:
  SchemaRegistry(SchemaRegistry&&) = default;
  SchemaRegistry& operator=(SchemaRegistry&&) = default;

  // The descriptions embedded in the binary, parsed on first use (thread-safe). A parse
  // error there is a build defect: it is printed and the process aborts.
  static const SchemaRegistry& Builtin();

  // The top-level message of a kind, or nullptr. group is "" for the core group. Kinds of a
  // package with `option shared_kinds;` (meta.k8s.io/v1: Status, DeleteOptions, ...) are
  // found under every group/version that does not define the kind itself.
  const MessageSchema* FindKind(std::string_view group, std::string_view version,
                                std::string_view kind) const;
  // A message by full name, "core.v1.PodSpec", or nullptr.
  const MessageSchema* FindMessage(std::string_view full_name) const;

  // Every message, in the order declared.
  const std::vector<std::unique_ptr<MessageSchema>>& messages() const { return messages_; }

 private:
  friend class SchemaRegistryBuilder;
  SchemaRegistry() = default;

  std::vector<std::unique_ptr<MessageSchema>> messages_;
  std::map<std::string, const MessageSchema*, std::less<>> by_full_name_;
  // "group/version/Kind"
  std::map<std::string, const MessageSchema*, std::less<>> kinds_;
  std::map<std::string, const MessageSchema*, std::less<>> shared_kinds_;  // by kind
};

}  // namespace kite::schema
