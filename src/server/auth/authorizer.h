// Authorizer: decides whether an authenticated user may do what a request asks.
//
// The request is described by Attributes, as Kubernetes' authorizer.Attributes does: a
// resource request (verb, API group, resource, subresource, namespace, name) or a
// non-resource request (verb and path). An Authorizer answers allowed or not, with a reason
// that is shown to nobody but logs and SubjectAccessReview status. The message a denied
// client sees is built by the caller from the Attributes (ForbiddenMessage below).
//
// Thread-safety: implementations' Authorize may be called concurrently from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kite::auth {

// Well-known user and group names (k8s.io/apiserver/pkg/authentication/user).
inline constexpr std::string_view kSystemMastersGroup = "system:masters";
inline constexpr std::string_view kAllAuthenticatedGroup = "system:authenticated";
inline constexpr std::string_view kAllUnauthenticatedGroup = "system:unauthenticated";
inline constexpr std::string_view kAnonymousUser = "system:anonymous";
inline constexpr std::string_view kNodesGroup = "system:nodes";

struct Attributes {  // what a request wants
  std::string user;
  std::vector<std::string> groups;
  // get list watch create update patch delete deletecollection, or the HTTP verb
  // lower-cased for non-resource requests.
  std::string verb;
  bool resource_request = true;
  std::string api_group, resource, subresource, namespace_name, name;
  std::string path;  // non-resource requests: "/healthz", "/version", "/metrics"
};

struct Decision {
  bool allowed = false;
  // Allowed: what allowed it (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y"
  // to Group "z"`). Denied: "" or what went wrong while evaluating (`RBAC: role.rbac...
  // "r" not found`), which Kubernetes appends to the Forbidden message.
  std::string reason;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Decision Authorize(const Attributes&) = 0;
};

// The message of the 403 Status Kubernetes sends for a denied request
// (apiserver/pkg/endpoints/handlers/responsewriters/errors.go), for example
//   pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the
//   namespace "default"
//   deployments.apps is forbidden: User "bob" cannot list resource "deployments" in API
//   group "apps" at the cluster scope
//   forbidden: User "carol" cannot get path "/metrics"
// followed by ": <reason>" when the decision has one. The Status's details are
// {"name": name, "group": api_group, "kind": resource} (empty for non-resource requests).
std::string ForbiddenMessage(const Attributes& attributes, const Decision& decision);

// Go's %q for the plain names quoted in messages and reasons (quotes and backslashes
// escaped).
std::string Quote(std::string_view s);

// A service account's identity as the token authenticator gives it:
// "system:serviceaccount:<ns>:<name>", with groups "system:serviceaccounts" and
// "system:serviceaccounts:<ns>" (plus "system:authenticated", which every authenticated
// user carries).
std::string ServiceAccountUsername(std::string_view namespace_name, std::string_view name);
std::vector<std::string> ServiceAccountGroups(std::string_view namespace_name);

}  // namespace kite::auth
