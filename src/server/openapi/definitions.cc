#include "src/server/openapi/definitions.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "src/server/openapi/crd_schema.h"
#include "src/server/openapi/json_writing.h"

namespace kite::openapi {
namespace {

using rapidjson::Value;
using schema::FieldKind;
using schema::FieldSchema;
using schema::MessageSchema;

constexpr const char* kMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.";

// The Go package path Kubernetes uses in definition names, from a registry package.
std::string PackagePrefix(std::string_view package) {
  if (package == "meta.v1") return "io.k8s.apimachinery.pkg.apis.meta.v1";
  if (package.starts_with("apiextensions.")) {
    return "io.k8s.apiextensions-apiserver.pkg.apis." + std::string(package);
  }
  if (package.starts_with("apiregistration.")) {
    return "io.k8s.kube-aggregator.pkg.apis." + std::string(package);
  }
  return "io.k8s.api." + std::string(package);
}

// The name of a kind the registry lacks: built-in groups as Kubernetes names them; other
// groups (custom resources) by their reversed domain, "com.example.stable.v1.CronTab".
std::string KindDefinitionName(const Gvk& gvk) {
  std::string_view group = gvk.group;
  if (group.empty()) return "io.k8s.api.core." + gvk.version + "." + gvk.kind;
  if (group == "apiextensions.k8s.io") {
    return PackagePrefix("apiextensions." + gvk.version) + "." + gvk.kind;
  }
  if (group.find('.') == std::string_view::npos || group.ends_with(".k8s.io")) {
    return "io.k8s.api." + std::string(group.substr(0, group.find('.'))) + "." + gvk.version +
           "." + gvk.kind;
  }
  std::string reversed;
  size_t end = group.size();
  while (true) {
    size_t dot = group.rfind('.', end - 1);
    size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    if (!reversed.empty()) reversed += '.';
    reversed += group.substr(start, end - start);
    if (dot == std::string_view::npos) break;
    end = dot;
  }
  return reversed + "." + gvk.version + "." + gvk.kind;
}

Value TypeOnly(const char* type, DefinitionSet::Allocator& a, const char* format = nullptr) {
  Value v(rapidjson::kObjectType);
  if (format) v.AddMember("format", Value(rapidjson::StringRef(format)), a);
  v.AddMember("type", Value(rapidjson::StringRef(type)), a);
  return v;
}

void AddString(Value& object, const char* key, std::string_view s, DefinitionSet::Allocator& a) {
  object.AddMember(Value(rapidjson::StringRef(key)), Str(s, a), a);
}

// The members of a message's JSON object: its own fields first, then those of [inline]
// fields (recursively), as MessageSchema::FindJsonField sees them.
void CollectJsonFields(const MessageSchema& message,
                       std::map<std::string, const FieldSchema*>& out) {
  for (const FieldSchema& f : message.fields) {
    if (!(f.inline_json && f.kind == FieldKind::kMessage && f.message)) {
      out.emplace(f.json_name, &f);
    }
  }
  for (const FieldSchema& f : message.fields) {
    if (f.inline_json && f.kind == FieldKind::kMessage && f.message) {
      CollectJsonFields(*f.message, out);
    }
  }
}

std::string PatchStrategy(const FieldSchema& f) {
  std::string s;
  auto add = [&](const char* part) {
    if (!s.empty()) s += ',';
    s += part;
  };
  if (f.strategy_merge) add("merge");
  if (f.strategy_retain_keys) add("retainKeys");
  if (f.strategy_replace) add("replace");
  return s;
}

// "a boolean", "a JSONSchemaProps object", "a list of strings": for [oneof] descriptions.
std::string Describe(const FieldSchema& f) {
  std::string what;
  switch (f.kind) {
    case FieldKind::kBool: what = f.repeated ? "booleans" : "a boolean"; break;
    case FieldKind::kString: what = f.repeated ? "strings" : "a string"; break;
    case FieldKind::kMessage:
      what = f.message ? (f.repeated ? f.message->name + " objects" : "a " + f.message->name +
                                                                          " object")
                       : "an object";
      break;
    default: what = f.repeated ? "values" : "a value"; break;
  }
  return f.repeated ? "a list of " + what : what;
}

}  // namespace

std::string DefinitionName(const MessageSchema& message) {
  return PackagePrefix(message.package) + "." + message.name;
}

DefinitionSet::DefinitionSet(const schema::SchemaRegistry& registry,
                             const resources::ResourceTable& table, const CustomResources& custom,
                             Dialect dialect)
    : registry_(registry), table_(table), custom_(custom), dialect_(dialect) {
  for (const resources::GroupInfo& g : table.Groups()) {
    for (const std::string& v : g.versions) {
      bool built_in = false;
      for (const resources::ResourceInfo* r : table.ResourcesOf(g.name, v)) {
        built_in |= !custom.Contains(r->group, r->version, r->resource);
      }
      if (built_in) served_group_versions_.emplace_back(g.name, v);
    }
  }
}

const resources::ResourceInfo* DefinitionSet::FindCustom(const Gvk& gvk) const {
  if (custom_.empty()) return nullptr;
  for (const resources::ResourceInfo* r : table_.ResourcesOf(gvk.group, gvk.version)) {
    if ((r->kind == gvk.kind || r->list_kind == gvk.kind) &&
        custom_.Contains(r->group, r->version, r->resource)) {
      return r;
    }
  }
  return nullptr;
}

std::string DefinitionSet::NeedMeta(const char* name) {
  const MessageSchema* message = registry_.FindMessage(std::string("meta.v1.") + name);
  if (!message) {  // the built-in registry always has it: a build defect
    std::fprintf(stderr, "kite: the schema registry lacks meta.v1.%s\n", name);
    std::abort();
  }
  return Need(*message);
}

Value DefinitionSet::CustomDefinition(const Entry& entry, Allocator& a) {
  const resources::ResourceInfo& r = *entry.custom;
  const std::string prefix =
      dialect_ == Dialect::kSwagger2 ? "#/definitions/" : "#/components/schemas/";
  Gvk kind{r.group, r.version, r.kind};
  if (entry.custom_list) {
    std::string item = KindDefinitionName(kind);
    needed_.try_emplace(item, Entry{nullptr, Builtin::kNone, {}, &r, false});
    return CustomListDefinition({r.group, r.version, r.list_kind}, r.kind, prefix + item,
                                prefix + NeedMeta("ListMeta"), a);
  }
  return CustomKindDefinition(custom_.Schema(r.group, r.version, r.resource), kind, dialect_,
                              prefix + NeedMeta("ObjectMeta"), a);
}

std::string DefinitionSet::Need(const MessageSchema& message) {
  std::string name = DefinitionName(message);
  needed_.try_emplace(name, Entry{&message, Builtin::kNone, {}, nullptr, false});
  return name;
}

std::string DefinitionSet::Need(Builtin builtin) {
  std::string name;
  switch (builtin) {
    case Builtin::kTime: name = std::string(kMeta) + "Time"; break;
    case Builtin::kMicroTime: name = std::string(kMeta) + "MicroTime"; break;
    case Builtin::kQuantity: name = "io.k8s.apimachinery.pkg.api.resource.Quantity"; break;
    case Builtin::kIntOrString: name = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"; break;
    case Builtin::kRawExtension: name = "io.k8s.apimachinery.pkg.runtime.RawExtension"; break;
    case Builtin::kFieldsV1: name = std::string(kMeta) + "FieldsV1"; break;
    case Builtin::kPatch: name = std::string(kMeta) + "Patch"; break;
    case Builtin::kJson: name = PackagePrefix("apiextensions.v1") + ".JSON"; break;
    case Builtin::kNone: std::abort();  // a caller's bug
  }
  needed_.try_emplace(name, Entry{nullptr, builtin, {}, nullptr, false});
  return name;
}

Value DefinitionSet::Ref(const std::string& name, Allocator& a) const {
  std::string ref = (dialect_ == Dialect::kSwagger2 ? "#/definitions/" : "#/components/schemas/") +
                    name;
  Value v(rapidjson::kObjectType);
  v.AddMember("$ref", Str(ref, a), a);
  return v;
}

Value DefinitionSet::BodySchema(const BodyType& body, Allocator& a) {
  switch (body.what) {
    case BodyType::What::kNone: return Value(rapidjson::kNullType);
    case BodyType::What::kString: return TypeOnly("string", a);
    case BodyType::What::kPatch: return Ref(Need(Builtin::kPatch), a);
    case BodyType::What::kObject: break;
  }
  // Custom kinds first: the registry would take a custom "Status" for meta/v1's.
  if (const resources::ResourceInfo* r = FindCustom(body.gvk)) {
    std::string name = KindDefinitionName(body.gvk);
    needed_.try_emplace(name, Entry{nullptr, Builtin::kNone, {}, r, body.gvk.kind != r->kind});
    return Ref(name, a);
  }
  const MessageSchema* message =
      registry_.FindKind(body.gvk.group, body.gvk.version, body.gvk.kind);
  if (message) return Ref(Need(*message), a);
  std::string name = KindDefinitionName(body.gvk);
  needed_.try_emplace(name, Entry{nullptr, Builtin::kNone, body.gvk, nullptr, false});
  return Ref(name, a);
}

Value DefinitionSet::Definitions(Allocator& a) {
  std::map<std::string, Value> done;
  // Generating a definition may need more: repeat until nothing new appears.
  while (true) {
    std::vector<std::pair<std::string, Entry>> todo;
    for (const auto& [name, entry] : needed_) {
      if (!done.contains(name)) todo.emplace_back(name, entry);
    }
    if (todo.empty()) break;
    for (const auto& [name, entry] : todo) {
      Value def;
      if (entry.message) {
        def = MessageDefinition(*entry.message, a);
      } else if (entry.custom) {
        def = CustomDefinition(entry, a);
      } else if (entry.builtin != Builtin::kNone) {
        def = BuiltinDefinition(entry.builtin, a);
      } else {
        def = PlaceholderDefinition(entry.placeholder, a);
      }
      done.emplace(name, std::move(def));
    }
  }
  Value out(rapidjson::kObjectType);
  for (auto& [name, def] : done) out.AddMember(Str(name, a), def, a);
  return out;
}

Value DefinitionSet::GvkList(const MessageSchema& message, Allocator& a) const {
  std::vector<std::pair<std::string, std::string>> gvs = {{message.group, message.version}};
  // Kinds shared by every group version (meta/v1 Status, DeleteOptions, WatchEvent) are
  // listed under each served group version that resolves to them, as Kubernetes does.
  for (const auto& [group, version] : served_group_versions_) {
    if (registry_.FindKind(group, version, message.kind) == &message &&
        std::find(gvs.begin(), gvs.end(), std::make_pair(group, version)) == gvs.end()) {
      gvs.emplace_back(group, version);
    }
  }
  Value list(rapidjson::kArrayType);
  for (const auto& [group, version] : gvs) {
    Value gvk(rapidjson::kObjectType);
    AddString(gvk, "group", group, a);
    AddString(gvk, "kind", message.kind, a);
    AddString(gvk, "version", version, a);
    list.PushBack(gvk, a);
  }
  return list;
}

Value DefinitionSet::MessageDefinition(const MessageSchema& message, Allocator& a) {
  Value def(rapidjson::kObjectType);
  if (message.is_oneof) {
    // A union has no single JSON type; Kubernetes leaves such definitions typeless.
    std::string description = "One of: ";
    for (size_t i = 0; i < message.fields.size(); ++i) {
      if (i) description += i + 1 == message.fields.size() ? " or " : ", ";
      description += Describe(message.fields[i]);
    }
    AddString(def, "description", description + ".", a);
    return def;
  }
  if (message.is_wrapper && !message.fields.empty()) {
    bool is_ref = false;
    const FieldSchema& f = message.fields[0];
    Value items = ValueSchema(message, f.kind, f.message, &is_ref, a);
    def.AddMember("items", items, a);
    def.AddMember("type", "array", a);
    return def;
  }

  std::map<std::string, Value> properties;
  std::map<std::string, const FieldSchema*> fields;
  CollectJsonFields(message, fields);
  for (const auto& [json_name, field] : fields) {
    properties.emplace(json_name, PropertySchema(message, *field, a));
  }
  if (message.is_kind && message.kind != "WatchEvent") {
    if (!properties.contains("apiVersion")) {
      Value v = TypeOnly("string", a);
      AddString(v, "description", "The group/version of this object's schema, e.g. apps/v1.", a);
      properties.emplace("apiVersion", std::move(v));
    }
    if (!properties.contains("kind")) {
      Value v = TypeOnly("string", a);
      AddString(v, "description", "The kind of this object, in CamelCase.", a);
      properties.emplace("kind", std::move(v));
    }
  }
  if (!properties.empty()) {
    Value props(rapidjson::kObjectType);
    for (auto& [name, schema] : properties) props.AddMember(Str(name, a), schema, a);
    def.AddMember("properties", props, a);
  }
  def.AddMember("type", "object", a);
  if (message.is_kind) def.AddMember("x-kubernetes-group-version-kind", GvkList(message, a), a);
  return def;
}

Value DefinitionSet::PropertySchema(const MessageSchema& owner, const FieldSchema& field,
                                    Allocator& a) {
  Value prop;
  bool is_ref = false;
  if (field.kind == FieldKind::kMap) {
    prop = Value(rapidjson::kObjectType);
    prop.AddMember("additionalProperties",
                   ValueSchema(owner, field.map_value_kind, field.map_value_message, &is_ref, a),
                   a);
    prop.AddMember("type", "object", a);
    is_ref = false;
  } else if (field.repeated) {
    prop = Value(rapidjson::kObjectType);
    prop.AddMember("items", ValueSchema(owner, field.kind, field.message, &is_ref, a), a);
    prop.AddMember("type", "array", a);
    is_ref = false;
  } else {
    prop = ValueSchema(owner, field.kind, field.message, &is_ref, a);
  }
  if (is_ref && dialect_ == Dialect::kOpenApi3) {
    // kube-openapi writes a reference with siblings as allOf: [{"$ref"}]; kubectl's
    // strategic merge patch code (PatchMetaFromOpenAPIV3) resolves exactly that form.
    Value all_of(rapidjson::kArrayType);
    all_of.PushBack(prop, a);
    prop = Value(rapidjson::kObjectType);
    prop.AddMember("allOf", all_of, a);
  }
  if (!field.merge_key.empty()) {
    AddString(prop, "x-kubernetes-patch-merge-key", field.merge_key, a);
  }
  std::string strategy = PatchStrategy(field);
  if (!strategy.empty()) AddString(prop, "x-kubernetes-patch-strategy", strategy, a);
  return prop;
}

Value DefinitionSet::ValueSchema(const MessageSchema& owner, FieldKind kind,
                                 const MessageSchema* message, bool* is_ref, Allocator& a) {
  *is_ref = false;
  switch (kind) {
    case FieldKind::kString: return TypeOnly("string", a);
    case FieldKind::kInt32: return TypeOnly("integer", a, "int32");
    case FieldKind::kInt64:
    case FieldKind::kUint32:
    case FieldKind::kUint64: return TypeOnly("integer", a, "int64");
    case FieldKind::kBool: return TypeOnly("boolean", a);
    case FieldKind::kDouble: return TypeOnly("number", a, "double");
    case FieldKind::kFloat: return TypeOnly("number", a, "float");
    case FieldKind::kBytes: return TypeOnly("string", a, "byte");
    case FieldKind::kDuration: return TypeOnly("string", a);
    case FieldKind::kMap: return TypeOnly("object", a);  // maps of maps do not occur
    default: break;
  }
  *is_ref = true;
  switch (kind) {
    case FieldKind::kTime: return Ref(Need(Builtin::kTime), a);
    case FieldKind::kMicroTime: return Ref(Need(Builtin::kMicroTime), a);
    case FieldKind::kQuantity: return Ref(Need(Builtin::kQuantity), a);
    case FieldKind::kIntOrString: return Ref(Need(Builtin::kIntOrString), a);
    case FieldKind::kFieldsV1: return Ref(Need(Builtin::kFieldsV1), a);
    case FieldKind::kRawExtension:
      // JSONSchemaProps' default/enum/example hold any JSON value (apiextensions' JSON
      // type), not an embedded object.
      if (owner.package == "apiextensions.v1" && owner.name == "JSONSchemaProps") {
        return Ref(Need(Builtin::kJson), a);
      }
      return Ref(Need(Builtin::kRawExtension), a);
    default: break;
  }
  // kMessage.
  if (!message) {  // the registry checked every reference; keep a sane answer regardless
    *is_ref = false;
    return TypeOnly("object", a);
  }
  if (message->is_wrapper && !message->fields.empty()) {
    // A named slice (metav1.Verbs): written in place as the array it is.
    *is_ref = false;
    bool item_is_ref = false;
    const FieldSchema& f = message->fields[0];
    Value v(rapidjson::kObjectType);
    v.AddMember("items", ValueSchema(*message, f.kind, f.message, &item_is_ref, a), a);
    v.AddMember("type", "array", a);
    return v;
  }
  return Ref(Need(*message), a);
}

Value DefinitionSet::BuiltinDefinition(Builtin builtin, Allocator& a) const {
  const bool v3 = dialect_ == Dialect::kOpenApi3;
  Value def(rapidjson::kObjectType);
  auto one_of = [&](const char* t1, const char* t2) {
    Value list(rapidjson::kArrayType);
    list.PushBack(TypeOnly(t1, a), a);
    list.PushBack(TypeOnly(t2, a), a);
    return list;
  };
  switch (builtin) {
    case Builtin::kTime:
    case Builtin::kMicroTime:
      AddString(def, "description",
                builtin == Builtin::kTime
                    ? "A time in RFC 3339 form, to the second (2024-01-02T03:04:05Z)."
                    : "A time in RFC 3339 form with microseconds.",
                a);
      def.AddMember("format", "date-time", a);
      def.AddMember("type", "string", a);
      break;
    case Builtin::kQuantity:
      AddString(def, "description",
                "A fixed-point amount with an optional unit suffix: 100m, 0.5, 2Gi, 1e3.", a);
      // OpenAPI 3 admits a number too (kube-openapi's OpenAPIV3OneOfTypes); v2 a string.
      if (v3) {
        def.AddMember("oneOf", one_of("string", "number"), a);
      } else {
        def.AddMember("type", "string", a);
      }
      break;
    case Builtin::kIntOrString:
      AddString(def, "description", "An integer or a string (a port name, a percentage).", a);
      def.AddMember("format", "int-or-string", a);
      if (v3) {
        def.AddMember("oneOf", one_of("integer", "string"), a);
      } else {
        def.AddMember("type", "string", a);
      }
      def.AddMember("x-kubernetes-int-or-string", true, a);
      break;
    case Builtin::kRawExtension:
      AddString(def, "description", "An embedded object, in its own JSON form.", a);
      def.AddMember("type", "object", a);
      break;
    case Builtin::kFieldsV1:
      AddString(def, "description", "A set of field paths in the FieldsV1 JSON encoding.", a);
      def.AddMember("type", "object", a);
      break;
    case Builtin::kPatch:
      AddString(def, "description",
                "A patch, in the form its Content-Type names (JSON patch, merge patch, "
                "strategic merge patch or apply configuration).",
                a);
      def.AddMember("type", "object", a);
      break;
    case Builtin::kJson:
      AddString(def, "description", "Any JSON value.", a);
      break;
    case Builtin::kNone: break;
  }
  return def;
}

Value DefinitionSet::PlaceholderDefinition(const Gvk& gvk, Allocator& a) const {
  Value def(rapidjson::kObjectType);
  AddString(def, "description",
            "This server has no schema for " + gvk.kind + "; its fields are not described.", a);
  def.AddMember("type", "object", a);
  def.AddMember("x-kubernetes-preserve-unknown-fields", true, a);
  return def;
}

}  // namespace kite::openapi
