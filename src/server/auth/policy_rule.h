// PolicyRule: one rule of an RBAC Role or ClusterRole (rbac.authorization.k8s.io/v1), and
// whether it allows a request, with Kubernetes' matching semantics
// (pkg/apis/rbac/v1/evaluation_helpers.go, plugin/pkg/auth/authorizer/rbac/rbac.go):
// - verbs, apiGroups, resources: "*" matches anything; otherwise an exact match.
// - resources: "pods/log" matches the log subresource of pods only; "*/scale" matches the
//   scale subresource of any resource; "pods" does not match any pods subresource.
// - resourceNames: empty matches every name (including requests without one, such as list
//   and create); otherwise the request's name must be listed.
// - nonResourceURLs: "*" matches every path, "/apis/*" every path starting with "/apis/",
//   otherwise an exact match. Resource rules never match non-resource requests and the
//   other way round.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/auth/authorizer.h"

namespace kite::auth {

inline constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;

  bool operator==(const PolicyRule&) const = default;
};

bool RuleAllows(const Attributes& request, const PolicyRule& rule);

// The rule from its JSON form ({"verbs": [...], "apiGroups": [...], "resources": [...],
// "resourceNames": [...], "nonResourceURLs": [...]}; absent or null lists are empty).
// Errors: kInvalidArgument when it is not an object or a list holds a non-string.
Result<PolicyRule> PolicyRuleFromJson(const rapidjson::Value& json);

// Appends the JSON form to `out` (members with empty lists are left out, as Kubernetes'
// omitempty does; "verbs" is always written).
void AppendPolicyRuleJson(std::string& out, const PolicyRule& rule);

}  // namespace kite::auth
