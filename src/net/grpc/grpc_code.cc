#include "src/net/grpc/grpc_code.h"

#include <array>

namespace kite::net {

std::string_view GrpcCodeName(GrpcCode code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  int number = static_cast<int>(code);
  if (number < 0 || number >= static_cast<int>(kNames.size())) return "UNKNOWN";
  return kNames[static_cast<size_t>(number)];
}

GrpcCode GrpcCodeFromNumber(int64_t number) {
  if (number < 0 || number > static_cast<int>(GrpcCode::kUnauthenticated)) {
    return GrpcCode::kUnknown;
  }
  return static_cast<GrpcCode>(number);
}

GrpcCode GrpcCodeFromHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return GrpcCode::kInternal;
    case 401:
      return GrpcCode::kUnauthenticated;
    case 403:
      return GrpcCode::kPermissionDenied;
    case 404:
      return GrpcCode::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode::kUnavailable;
    default:
      return GrpcCode::kUnknown;
  }
}

GrpcCode GrpcCodeFromHttp2Error(uint32_t http2_error_code) {
  // Error codes of RFC 9113 section 7.
  switch (http2_error_code) {
    case 0x7:  // REFUSED_STREAM: the server did not process the request
      return GrpcCode::kUnavailable;
    case 0x8:  // CANCEL
      return GrpcCode::kCancelled;
    case 0xb:  // ENHANCE_YOUR_CALM
      return GrpcCode::kResourceExhausted;
    case 0xc:  // INADEQUATE_SECURITY
      return GrpcCode::kPermissionDenied;
    default:
      return GrpcCode::kInternal;
  }
}

}  // namespace kite::net
