// Decoding of Kubernetes protobuf bodies (Content-Type application/vnd.kubernetes.protobuf)
// into the JSON the client would have sent had it spoken JSON.
//
// The body is the 4 bytes "k8s\0" followed by a runtime.Unknown message: typeMeta (1:
// apiVersion 1, kind 2), raw (2: the object's own protobuf encoding), contentEncoding (3),
// contentType (4). The object is decoded with the schema of its kind:
//   - scalars: a zero value of a non-[ptr] field is omitted (gogo-protobuf always writes
//     them; the Go JSON tags are omitempty); [ptr] fields keep it (replicas: 0);
//   - bytes -> base64; Time -> "2024-01-02T03:04:05Z"; MicroTime -> 6 fractional digits;
//     Duration -> "1m30s"; Quantity -> its string; IntOrString -> number or string;
//     RawExtension / FieldsV1 -> the embedded JSON value (a nested "k8s\0" body is decoded);
//   - [inline] members are merged into the parent object; [wrapper] messages become arrays;
//   - unknown field numbers are skipped; invalid UTF-8 in strings becomes U+FFFD, as in Go.
//
// Untrusted input: every length is checked; nesting deeper than kMaxProtobufNesting, wrong
// wire types, truncated values, unknown kinds and invalid well-known values are reported as
// kInvalidArgument with the JSON path of the offending field. Never crashes.
//
// Thread-safety: the functions keep no state; the registry is read-only.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/server/schema/schema_registry.h"

namespace kite::schema {

// The 4-byte prefix of every Kubernetes protobuf body.
inline constexpr std::string_view kKubernetesProtobufMagic{"k8s\0", 4};
// Messages nested deeper than this are rejected (the Unknown envelope is not counted).
inline constexpr int kMaxProtobufNesting = 100;

struct DecodedObject {
  std::string api_version;  // "apps/v1", "v1"
  std::string kind;         // "Deployment"
  // A JSON object with "apiVersion" and "kind" set (they are not part of the raw message).
  rapidjson::Document object;
};

// Decodes a whole body. Errors (kInvalidArgument): "protobuf: <path>: <what>", e.g. a wrong
// magic, a truncated varint, a length beyond the buffer, a wrong wire type, or
// "no schema for kind X in group/version Y".
Result<DecodedObject> DecodeKubernetesProtobuf(std::string_view body,
                                               const SchemaRegistry& registry);

// Decodes one message's bytes (no magic, no envelope) into `out` as a JSON object (or array
// for a [wrapper] message), allocating from `allocator`. Same errors as above.
Status DecodeProtobufMessage(std::string_view bytes, const MessageSchema& schema,
                             const SchemaRegistry& registry, rapidjson::Value* out,
                             rapidjson::Document::AllocatorType& allocator);

}  // namespace kite::schema
