#include "src/server/apiserver/api_error.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kite::apiserver {
namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

ApiError Make(int code, std::string reason, std::string message) {
  ApiError e;
  e.code = code;
  e.reason = std::move(reason);
  e.message = std::move(message);
  return e;
}

}  // namespace

std::string GroupResource::ToString() const {
  return group.empty() ? resource : resource + "." + group;
}

std::string ApiError::ToJson() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("kind");
  w.String("Status");
  w.Key("apiVersion");
  w.String("v1");
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("status");
  w.String("Failure");
  w.Key("message");
  w.String(message);
  if (!reason.empty()) {
    w.Key("reason");
    w.String(reason);
  }
  bool has_details = !name.empty() || !group.empty() || !kind.empty() || !causes.empty() ||
                     retry_after_seconds > 0;
  if (has_details) {
    w.Key("details");
    w.StartObject();
    if (!name.empty()) {
      w.Key("name");
      w.String(name);
    }
    if (!group.empty()) {
      w.Key("group");
      w.String(group);
    }
    if (!kind.empty()) {
      w.Key("kind");
      w.String(kind);
    }
    if (!causes.empty()) {
      w.Key("causes");
      w.StartArray();
      for (const StatusCause& c : causes) {
        w.StartObject();
        w.Key("reason");
        w.String(c.reason);
        w.Key("message");
        w.String(c.message);
        if (!c.field.empty()) {
          w.Key("field");
          w.String(c.field);
        }
        w.EndObject();
      }
      w.EndArray();
    }
    if (retry_after_seconds > 0) {
      w.Key("retryAfterSeconds");
      w.Int(retry_after_seconds);
    }
    w.EndObject();
  }
  w.Key("code");
  w.Int(code);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

ApiError NotFoundError(const GroupResource& what, std::string_view name) {
  ApiError e = Make(404, "NotFound", what.ToString() + " " + Quote(name) + " not found");
  e.name = name;
  e.group = what.group;
  e.kind = what.resource;
  return e;
}

ApiError AlreadyExistsError(const GroupResource& what, std::string_view name) {
  ApiError e = Make(409, "AlreadyExists", what.ToString() + " " + Quote(name) + " already exists");
  e.name = name;
  e.group = what.group;
  e.kind = what.resource;
  return e;
}

ApiError ConflictError(const GroupResource& what, std::string_view name, std::string_view why) {
  ApiError e = Make(409, "Conflict", "Operation cannot be fulfilled on " + what.ToString() + " " +
                                         Quote(name) + ": " + std::string(why));
  e.name = name;
  e.group = what.group;
  e.kind = what.resource;
  return e;
}

ApiError ModifiedConflictError(const GroupResource& what, std::string_view name) {
  return ConflictError(what, name,
                       "the object has been modified; please apply your changes to the latest "
                       "version and try again");
}

ApiError InvalidError(std::string_view group, std::string_view kind, std::string_view name,
                      std::vector<StatusCause> causes) {
  std::string list;
  for (const StatusCause& c : causes) {
    if (!list.empty()) list += ", ";
    list += c.field.empty() ? c.message : c.field + ": " + c.message;
  }
  if (causes.size() > 1) list = "[" + list + "]";
  std::string qualified = group.empty() ? std::string(kind) : std::string(kind) + "." + std::string(group);
  ApiError e = Make(422, "Invalid", qualified + " " + Quote(name) + " is invalid: " + list);
  e.name = name;
  e.group = group;
  e.kind = kind;
  e.causes = std::move(causes);
  return e;
}

ApiError BadRequestError(std::string message) { return Make(400, "BadRequest", std::move(message)); }

ApiError UnauthorizedError() { return Make(401, "Unauthorized", "Unauthorized"); }

ApiError ForbiddenError(const GroupResource& what, std::string_view name, std::string message) {
  std::string subject = what.ToString() + (name.empty() ? "" : " " + Quote(name));
  ApiError e = Make(403, "Forbidden", subject + " is forbidden: " + message);
  e.name = name;
  e.group = what.group;
  e.kind = what.resource;
  return e;
}

ApiError MethodNotAllowedError(std::string_view verb, const GroupResource& what) {
  ApiError e = Make(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource");
  (void)verb;
  e.group = what.group;
  e.kind = what.resource;
  return e;
}

ApiError UnsupportedMediaTypeError(std::string_view content_type) {
  return Make(415, "UnsupportedMediaType",
              "the body of the request was in an unknown format - accepted media types include: "
              "application/json, application/yaml, application/vnd.kubernetes.protobuf" +
                  (content_type.empty() ? std::string() : " (got " + std::string(content_type) + ")"));
}

ApiError NotAcceptableError() {
  return Make(406, "NotAcceptable",
              "only the following media types are accepted: application/json, application/yaml, "
              "application/json;as=Table;v=v1;g=meta.k8s.io");
}

ApiError ExpiredError(std::string message) { return Make(410, "Expired", std::move(message)); }
ApiError GoneError(std::string message) { return Make(410, "Gone", std::move(message)); }

ApiError RequestEntityTooLargeError(std::string message) {
  return Make(413, "RequestEntityTooLarge", std::move(message));
}

ApiError TimeoutError(std::string message, int retry_after_seconds) {
  ApiError e = Make(504, "Timeout", std::move(message));
  e.retry_after_seconds = retry_after_seconds;
  return e;
}

ApiError TooManyRequestsError(std::string message, int retry_after_seconds) {
  ApiError e = Make(429, "TooManyRequests", std::move(message));
  e.retry_after_seconds = retry_after_seconds;
  return e;
}

ApiError InternalServerError(std::string message) {
  return Make(500, "InternalError", "Internal error occurred: " + message);
}

ApiError ServiceUnavailableError(std::string message) {
  return Make(503, "ServiceUnavailable", std::move(message));
}

ApiError FromStoreStatus(const Status& status, const GroupResource& what, std::string_view name) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return NotFoundError(what, name);
    case StatusCode::kAlreadyExists:
      return AlreadyExistsError(what, name);
    case StatusCode::kConflict:
      return ModifiedConflictError(what, name);
    case StatusCode::kCompacted:
      return ExpiredError("too old resource version: " + status.message());
    case StatusCode::kInvalidArgument:
      return BadRequestError(status.message());
    case StatusCode::kUnavailable:
      return ServiceUnavailableError(status.message());
    default:
      return InternalServerError(status.message());
  }
}

}  // namespace kite::apiserver
