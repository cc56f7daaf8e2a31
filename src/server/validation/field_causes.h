// Field-level problems of an object, as Kubernetes reports them in an Invalid error's
// causes: the reason names the kind of problem, the message uses apimachinery's wording
// (util/validation/field), the field is the path ("spec.containers[0].name").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kite::validation {

// One field-level problem of an Invalid (or other) error.
struct StatusCause {
  std::string reason;   // "FieldValueInvalid", "FieldValueRequired", "FieldManagerConflict", ...
  std::string message;  // "Invalid value: \"Foo\": a lowercase RFC 1123 ..."
  std::string field;    // "metadata.name"

  bool operator==(const StatusCause&) const = default;
};

StatusCause RequiredCause(std::string field, std::string detail = "");
// `value` is shown quoted, as Go's %q prints a string.
StatusCause InvalidCause(std::string field, std::string_view value, std::string detail);
// For non-string values, already formatted (a number, true, ...).
StatusCause InvalidRawCause(std::string field, std::string_view formatted_value, std::string detail);
StatusCause NotSupportedCause(std::string field, std::string_view value,
                              const std::vector<std::string>& supported);
StatusCause ForbiddenCause(std::string field, std::string detail);
StatusCause DuplicateCause(std::string field, std::string_view value);
StatusCause TooLongCause(std::string field, size_t max_length);
StatusCause TooManyCause(std::string field, size_t actual, size_t max_items);
StatusCause TypeInvalidCause(std::string field, std::string_view formatted_value, std::string detail);

}  // namespace kite::validation
