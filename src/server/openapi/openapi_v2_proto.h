// The Swagger 2.0 document as the protobuf message openapi.v2.Document of
// github.com/google/gnostic-models (openapiv2/OpenAPIv2.proto): what kube-apiserver serves
// at /openapi/v2 for Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf,
// and what client-go's discovery.OpenAPISchema() (kubectl explain
// --output=plaintext-openapiv2, Helm) decodes.
//
// The mapping is gnostic's: JSON objects become messages field by field, maps keyed by
// name become repeated Named* pairs in document order, "x-" keys become NamedAny vendor
// extensions whose Any.yaml holds the value as YAML text (yaml_text.h), and values of free
// form (default, example, enum items) are Any with yaml. A parameter with "$ref" is a
// JsonReference; "in": "body" a BodyParameter; query, path, header and formData the
// matching NonBodyParameter sub-schema. Security definitions are chosen by type (and, for
// oauth2, flow). Fields are written in field-number order with proto3 defaults (empty
// strings, false, 0) left out, as Go's proto.Marshal writes them; a present object is
// written even when empty, and a oneof boolean even when false.
//
// Limitations: lenient where gnostic is strict. Keys the message has no field for, and
// values of the wrong JSON type, are skipped rather than failing the document (gnostic's
// ParseDocument would reject the document). Recursion depth follows the document's nesting.
//
// Thread-safety: pure functions.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::openapi {

// The openapi.v2.Document bytes of `document`, a parsed Swagger 2.0 object.
// kInvalidArgument when `document` is not a JSON object.
Result<std::string> SwaggerToProto(const rapidjson::Value& document);

// The same from JSON text. kInvalidArgument when `json` is not a JSON object.
Result<std::string> SwaggerJsonToProto(std::string_view json);

}  // namespace kite::openapi
