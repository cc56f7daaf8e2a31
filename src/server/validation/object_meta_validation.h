// Validation of the metadata every object carries: names (with the rule each resource uses),
// generateName, labels and annotations, with Kubernetes' messages.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "src/server/validation/field_causes.h"

namespace kite::validation {

enum class NameRule {
  kDns1123Subdomain,  // most resources
  kDns1123Label,      // namespaces
  kDns1035Label,      // services
  kPathSegment,       // RBAC objects: anything but "/", "%", "." and ".."
};

NameRule NameRuleFor(std::string_view group, std::string_view resource);

// Problems with `name` under `rule`, as Kubernetes words them; empty when valid.
std::vector<std::string> ValidateName(std::string_view name, NameRule rule);

// Causes for metadata.name/generateName, labels and annotations of `object`.
std::vector<StatusCause> ValidateObjectMeta(const rapidjson::Value& object, NameRule rule);

}  // namespace kite::validation
