// Kubernetes API errors: the metav1.Status object that clients (kubectl, client-go, the
// Python client) parse to print "Error from server (NotFound): ..." and to decide whether to
// retry. Reasons, codes and message shapes follow apimachinery's api/errors package, so the
// messages users see are the ones they know.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/validation/field_causes.h"

namespace kite::apiserver {

using validation::StatusCause;

struct ApiError {
  int code = 500;
  std::string reason;  // "NotFound", "AlreadyExists", ... ("" for a plain failure)
  std::string message;
  // Status.details; empty strings are left out.
  std::string name;
  std::string group;
  std::string kind;  // the resource (plural) for most errors, the Kind for Invalid
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;

  std::string ToJson() const;  // the metav1.Status object
};

// What an error is about: "configmaps" in core, or "deployments" in "apps".
struct GroupResource {
  std::string group;
  std::string resource;
  std::string ToString() const;  // "configmaps", "deployments.apps"
};

ApiError NotFoundError(const GroupResource& what, std::string_view name);
ApiError AlreadyExistsError(const GroupResource& what, std::string_view name);
ApiError ConflictError(const GroupResource& what, std::string_view name, std::string_view why);
// Kubernetes' optimistic-concurrency failure ("the object has been modified; ...").
ApiError ModifiedConflictError(const GroupResource& what, std::string_view name);
ApiError InvalidError(std::string_view group, std::string_view kind, std::string_view name,
                      std::vector<StatusCause> causes);
ApiError BadRequestError(std::string message);
ApiError UnauthorizedError();
ApiError ForbiddenError(const GroupResource& what, std::string_view name, std::string message);
ApiError MethodNotAllowedError(std::string_view verb, const GroupResource& what);
ApiError UnsupportedMediaTypeError(std::string_view content_type);
ApiError NotAcceptableError();
ApiError ExpiredError(std::string message);  // 410, reason Expired
ApiError GoneError(std::string message);     // 410, reason Gone
ApiError RequestEntityTooLargeError(std::string message);
ApiError TimeoutError(std::string message, int retry_after_seconds);
ApiError TooManyRequestsError(std::string message, int retry_after_seconds);
ApiError InternalServerError(std::string message);
ApiError ServiceUnavailableError(std::string message);

using validation::DuplicateCause;
using validation::ForbiddenCause;
using validation::InvalidCause;
using validation::NotSupportedCause;
using validation::RequiredCause;
using validation::TooLongCause;

// A store failure on `name` of `what`, as the Kubernetes error clients expect.
ApiError FromStoreStatus(const Status& status, const GroupResource& what, std::string_view name);

}  // namespace kite::apiserver

namespace kite::apiserver {

// A value or the Kubernetes error that replaces it.
template <class T>
class ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)), ok_(true) {}         // NOLINT: implicit
  ApiResult(ApiError error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit
  bool ok() const { return ok_; }
  T& value() { return value_; }
  T& operator*() { return value_; }
  T* operator->() { return &value_; }
  const ApiError& error() const { return error_; }

 private:
  T value_{};
  ApiError error_;
  bool ok_;
};

}  // namespace kite::apiserver
