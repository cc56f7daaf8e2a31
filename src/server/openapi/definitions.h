// DefinitionSet: the schema definitions of an OpenAPI document, generated from the schema
// registry (never written by hand), named as Kubernetes names them:
//   apps.v1.Deployment          -> io.k8s.api.apps.v1.Deployment
//   meta.v1.ObjectMeta          -> io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta
//   apiextensions.v1.X          -> io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.X
//   Time, MicroTime             -> io.k8s.apimachinery.pkg.apis.meta.v1.Time (string, date-time)
//   Quantity                    -> io.k8s.apimachinery.pkg.api.resource.Quantity
//   IntOrString                 -> io.k8s.apimachinery.pkg.util.intstr.IntOrString
//   RawExtension                -> io.k8s.apimachinery.pkg.runtime.RawExtension (object)
//   FieldsV1                    -> io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1 (object)
//   the body of a PATCH         -> io.k8s.apimachinery.pkg.apis.meta.v1.Patch (object)
//
// What a message's schema carries: type object; properties sorted by JSON name, with the
// members of [inline] fields flattened in; apiVersion and kind on top-level kinds;
// x-kubernetes-group-version-kind (a list) on kinds; formats int32/int64/double/float/byte/
// date-time; x-kubernetes-patch-merge-key and x-kubernetes-patch-strategy from the
// registry's merge keys and strategies. [wrapper] messages (metav1.Verbs) are inlined as
// arrays; [oneof] unions are typeless definitions, as Kubernetes writes them.
// References: Swagger 2.0 puts "$ref" directly in the property (beside the patch
// extensions); OpenAPI 3 wraps it as allOf: [{"$ref"}] the way kube-apiserver 1.32 does.
// The registry knows neither required fields nor list types, so `required` and
// x-kubernetes-list-type / x-kubernetes-list-map-keys are not written.
//
// Custom resources (those `custom` lists) are described from their CRD's schema as
// kube-apiserver describes them (crd_schema.h), named by the reversed group:
// "com.example.stable.v1.CronTab" and "com.example.stable.v1.CronTabList".
// A kind the registry does not describe (the table serves it, the registry lacks it, and it
// is not custom) gets a placeholder definition: an object that keeps unknown fields, without
// a group-version-kind, so kubectl falls back to its compiled-in types for such kinds.
//
// Kinds shared by every group version (meta/v1 Status, DeleteOptions) list in their
// x-kubernetes-group-version-kind the built-in group versions only, so that a document of a
// built-in group version does not change when custom resources come and go.
//
// Thread-safety: an instance is used by one thread; the registry, table and custom resources
// it reads are immutable and must outlive it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "src/server/openapi/api_paths.h"
#include "src/server/openapi/custom_resources.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/schema_registry.h"

namespace kite::openapi {

enum class Dialect { kSwagger2, kOpenApi3 };

// The definition name of a registry message, e.g. "io.k8s.api.apps.v1.Deployment".
std::string DefinitionName(const schema::MessageSchema& message);

class DefinitionSet {
 public:
  using Allocator = rapidjson::Document::AllocatorType;

  DefinitionSet(const schema::SchemaRegistry& registry, const resources::ResourceTable& table,
                const CustomResources& custom, Dialect dialect);

  // {"$ref": "#/definitions/<name>"} (v2) or {"$ref": "#/components/schemas/<name>"} (v3)
  // for the type of a body; kString: {"type": "string"}. Records the definition as needed.
  rapidjson::Value BodySchema(const BodyType& body, Allocator& a);

  // Every definition referred to so far, and those they refer to, as one JSON object
  // sorted by name.
  rapidjson::Value Definitions(Allocator& a);

 private:
  enum class Builtin { kNone, kTime, kMicroTime, kQuantity, kIntOrString, kRawExtension,
                       kFieldsV1, kPatch, kJson };
  struct Entry {
    const schema::MessageSchema* message = nullptr;  // a registry message, or
    Builtin builtin = Builtin::kNone;                // a well-known type, or
    Gvk placeholder;                                 // a kind the registry lacks, or
    const resources::ResourceInfo* custom = nullptr; // a custom kind (or its list kind)
    bool custom_list = false;
  };

  // The name of the definition, recorded as needed.
  std::string Need(const schema::MessageSchema& message);
  std::string Need(Builtin builtin);
  rapidjson::Value Ref(const std::string& name, Allocator& a) const;

  rapidjson::Value MessageDefinition(const schema::MessageSchema& message, Allocator& a);
  rapidjson::Value BuiltinDefinition(Builtin builtin, Allocator& a) const;
  rapidjson::Value PlaceholderDefinition(const Gvk& gvk, Allocator& a) const;
  // The custom resource whose kind or list kind is `gvk`, or nullptr.
  const resources::ResourceInfo* FindCustom(const Gvk& gvk) const;
  rapidjson::Value CustomDefinition(const Entry& entry, Allocator& a);
  // The name of the definition of a meta.v1 message ("ObjectMeta"), recorded as needed.
  std::string NeedMeta(const char* name);
  // The schema of one field as a property of `owner`'s object.
  rapidjson::Value PropertySchema(const schema::MessageSchema& owner,
                                  const schema::FieldSchema& field, Allocator& a);
  // The schema of one value (an array item, a map value, or a single field) without the
  // field's own extensions. *is_ref tells whether it is a bare {"$ref"}.
  rapidjson::Value ValueSchema(const schema::MessageSchema& owner, schema::FieldKind kind,
                               const schema::MessageSchema* message, bool* is_ref, Allocator& a);
  rapidjson::Value GvkList(const schema::MessageSchema& message, Allocator& a) const;

  const schema::SchemaRegistry& registry_;
  const resources::ResourceTable& table_;
  const CustomResources& custom_;
  Dialect dialect_;
  std::vector<std::pair<std::string, std::string>> served_group_versions_;
  std::map<std::string, Entry> needed_;  // by definition name
};

}  // namespace kite::openapi
