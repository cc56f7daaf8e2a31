// Content negotiation: what a request body is (Content-Type) and what the client accepts
// back (Accept), in the forms Kubernetes clients send them.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::apiserver {

// "application/json; charset=utf-8" → "application/json".
std::string MediaTypeOf(std::string_view content_type);

enum class OutputKind {
  kJson,            // the object itself
  kTable,           // meta.k8s.io Table (kubectl get)
  kNotAcceptable,   // nothing we can produce
};
// Picks the first entry of `accept` (in the client's order) that we can produce.
OutputKind NegotiateObjectOutput(std::string_view accept);

// For /api and /apis: the aggregated discovery document (apidiscovery.k8s.io v2 or v2beta1)
// when the Accept header asks for it, else the legacy document. `version` is "v2" or
// "v2beta1" when aggregated.
bool WantsAggregatedDiscovery(std::string_view accept, std::string* version);

// Decodes the protobuf encoding of a built-in object into its JSON form.
using ProtobufDecoder = std::function<Result<rapidjson::Document>(std::string_view body)>;

// The request body as a JSON object, from JSON, YAML or (with `protobuf`) Kubernetes
// protobuf. kInvalidArgument for a malformed body; kNotFound (as "unsupported") when the
// media type is not one of those: the caller answers 415.
Result<rapidjson::Document> DecodeObjectBody(const http::Request& request,
                                             const ProtobufDecoder& protobuf);

}  // namespace kite::apiserver
