// gRPC status codes (the numbers of grpc/doc/statuscodes.md) and how a client derives one
// when the server did not send grpc-status: from the HTTP status of the reply
// (grpc/doc/http-grpc-status-mapping.md) or from an HTTP/2 RST_STREAM error code
// (PROTOCOL-HTTP2.md, "Errors").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace kite::net {

enum class GrpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// The canonical upper-case name ("DEADLINE_EXCEEDED"); "UNKNOWN" for numbers outside 0..16.
std::string_view GrpcCodeName(GrpcCode code);

// A grpc-status value as received: codes outside 0..16 are UNKNOWN, as gRPC clients do.
GrpcCode GrpcCodeFromNumber(int64_t number);

// A reply without grpc-status: 400 → INTERNAL, 401 → UNAUTHENTICATED, 403 →
// PERMISSION_DENIED, 404 → UNIMPLEMENTED, 429/502/503/504 → UNAVAILABLE, others → UNKNOWN.
// (A 200 without grpc-status is not covered here: the caller reports INTERNAL.)
GrpcCode GrpcCodeFromHttpStatus(int http_status);

// A stream reset by the server before any grpc-status: REFUSED_STREAM → UNAVAILABLE,
// CANCEL → CANCELLED, ENHANCE_YOUR_CALM → RESOURCE_EXHAUSTED, INADEQUATE_SECURITY →
// PERMISSION_DENIED, anything else (NO_ERROR, PROTOCOL_ERROR, ...) → INTERNAL.
GrpcCode GrpcCodeFromHttp2Error(uint32_t http2_error_code);

}  // namespace kite::net
