// Parsing of .kschema texts into a SchemaRegistry.
//
// The language (one file per API group/version):
//
//   // comment to the end of the line
//   package apps.v1;            // the package; other files refer to its types as apps.v1.Name
//   group "apps";               // the API group ("" for the core group)
//   version "v1";
//   option shared_kinds;        // optional: kinds here are found under every group/version
//
//   message Deployment [kind] {                 // [kind]: a top-level object of kind Deployment
//     meta.v1.ObjectMeta metadata = 1;          // <type> <json name> = <protobuf number>;
//     DeploymentSpec spec = 2;                  // unqualified: same package
//   }
//   message DeploymentSpec {
//     int32 replicas = 1 [ptr];                 // a Go pointer: zero values are kept
//     repeated string finalizers = 2 [strategy=merge];
//     repeated Container containers = 3 [merge_key=name, strategy=merge];
//     repeated Volume volumes = 4 [merge_key=name, strategy="merge,retainKeys"];
//     map<string, Quantity> limits = 5;
//     VolumeSource volumeSource = 6 [inline];   // members appear in the parent JSON object
//     string ref = 7 [json="$ref"];             // JSON name differs from the identifier
//   }
//   message Verbs [wrapper] { repeated string items = 1; }   // a JSON array on its own
//
// Types: string bytes bool int32 int64 uint32 uint64 double float, the well-known types
// Time MicroTime Duration Quantity IntOrString RawExtension FieldsV1, message names, and
// map<string, V> with V any non-map type. Message options: kind, kind=Name, wrapper, oneof
// (a union whose JSON form is the value of its last-declared field that is set, as
// apiextensions' JSONSchemaPropsOrBool: `true` or a schema object).
// Field options: ptr, inline, json="...", merge_key=..., strategy=merge|retainKeys|replace
// (a list in quotes, or `retainKeys` alone after strategy=merge).
#pragma once

#include <span>

#include "src/base/status.h"
#include "src/server/schema/schema_registry.h"

namespace kite::schema {

// Parses the texts into one registry; types may refer across texts. Checks names, numbers,
// options and that every referenced type exists.
// Errors: kInvalidArgument "file:line: what is wrong".
Result<SchemaRegistry> ParseSchemas(std::span<const SchemaSource> sources);

}  // namespace kite::schema
