// Encoding of JSON objects into Kubernetes protobuf bodies: the inverse of
// protobuf_decoder.h, so that decode(encode(x)) == x for objects without zero-valued
// non-pointer scalars (those are omitted when decoding, as Go omits them).
//
// Fields are written in field-number order, like gogo-protobuf, but only the fields present
// in the JSON (gogo also writes zero non-pointer scalars; decoders treat both alike).
// Map entries are written sorted by key. JSON null means absent.
//
// Errors (kInvalidArgument, with the JSON path): unknown fields, values of the wrong JSON
// type, integers out of range, malformed base64 / times / durations, nesting deeper than
// kMaxProtobufNesting, and a top-level object without a known apiVersion/kind.
//
// Thread-safety: the functions keep no state; the registry is read-only.
#pragma once

#include <rapidjson/document.h>

#include <string>

#include "src/base/status.h"
#include "src/server/schema/schema_registry.h"

namespace kite::schema {

// "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding "", contentType ""},
// taking the schema from the object's "apiVersion" and "kind".
Result<std::string> EncodeKubernetesProtobuf(const rapidjson::Value& object,
                                             const SchemaRegistry& registry);

// The message's own encoding (what goes in runtime.Unknown.raw). "apiVersion" and "kind"
// members of a top-level kind are skipped.
Result<std::string> EncodeProtobufMessage(const rapidjson::Value& object,
                                          const MessageSchema& schema);

}  // namespace kite::schema
