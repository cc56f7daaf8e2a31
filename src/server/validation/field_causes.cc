#include "src/server/validation/field_causes.h"

#include "src/server/selection/label_validation.h"

namespace kite::validation {
namespace {

// Values appear as Go's %q prints them.
std::string Quote(std::string_view s) { return selection::GoQuote(s); }

}  // namespace

StatusCause RequiredCause(std::string field, std::string detail) {
  return {"FieldValueRequired", detail.empty() ? "Required value" : "Required value: " + detail,
          std::move(field)};
}

StatusCause InvalidCause(std::string field, std::string_view value, std::string detail) {
  return InvalidRawCause(std::move(field), Quote(value), std::move(detail));
}

StatusCause InvalidRawCause(std::string field, std::string_view formatted_value, std::string detail) {
  return {"FieldValueInvalid", "Invalid value: " + std::string(formatted_value) + ": " + detail,
          std::move(field)};
}

StatusCause NotSupportedCause(std::string field, std::string_view value,
                              const std::vector<std::string>& supported) {
  std::string list;
  for (const std::string& s : supported) list += (list.empty() ? "" : ", ") + Quote(s);
  return {"FieldValueNotSupported",
          "Unsupported value: " + Quote(value) + ": supported values: " + list, std::move(field)};
}

StatusCause ForbiddenCause(std::string field, std::string detail) {
  return {"FieldValueForbidden", "Forbidden: " + detail, std::move(field)};
}

StatusCause DuplicateCause(std::string field, std::string_view value) {
  return {"FieldValueDuplicate", "Duplicate value: " + Quote(value), std::move(field)};
}

StatusCause TooLongCause(std::string field, size_t max_length) {
  return {"FieldValueTooLong",
          "Too long: may not be more than " + std::to_string(max_length) + " bytes",
          std::move(field)};
}

StatusCause TooManyCause(std::string field, size_t actual, size_t max_items) {
  return {"FieldValueTooMany",
          "Too many: " + std::to_string(actual) + ": must have at most " +
              std::to_string(max_items) + " items",
          std::move(field)};
}

StatusCause TypeInvalidCause(std::string field, std::string_view formatted_value, std::string detail) {
  return {"FieldValueTypeInvalid",
          "Invalid value: " + std::string(formatted_value) + ": " + detail, std::move(field)};
}

}  // namespace kite::validation
