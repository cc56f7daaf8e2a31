// RbacIndex: the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings of the store,
// parsed, and Kubernetes' rule resolution over them
// (pkg/registry/rbac/validation/rule.go, DefaultRuleResolver.VisitRulesFor).
//
// Operation: Put/Remove objects by their store key (see kRbacPrefix), then Finish() before
// reading. Rule resolution visits ClusterRoleBindings (in name order) and then, for a
// namespaced request, the RoleBindings of that namespace; a binding applies when one of its
// subjects matches the user:
//   User            the user name
//   Group           one of the user's groups
//   ServiceAccount  user "system:serviceaccount:<ns>:<name>", where <ns> is the subject's
//                   namespace or, when empty, the RoleBinding's (empty in a
//                   ClusterRoleBinding: matches nobody)
// and grants the rules of its roleRef: a Role in the binding's namespace, or a ClusterRole
// (so a RoleBinding to a ClusterRole grants its rules in that namespace only).
//
// Aggregation: a ClusterRole with an aggregationRule has as rules the union of the rules
// of every other ClusterRole that one of its clusterRoleSelectors matches (recursively; in
// selector order, then name order, duplicates dropped), which is what Kubernetes'
// aggregation controller writes into it. Its own stored rules are ignored, as that
// controller overwrites them.
//
// Thread-safety: none inside; a finished index is only read, so it may be shared between
// threads as a const object (RbacAuthorizer publishes copies). Copying is cheap: objects
// are held by shared pointers to immutable values.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/auth/policy_rule.h"

namespace kite::auth {

// Every RBAC object is stored under this prefix:
//   <prefix><resource>/<namespace>/<name>   roles, rolebindings
//   <prefix><resource>/<name>               clusterroles, clusterrolebindings
inline constexpr std::string_view kRbacPrefix = "/registry/rbac.authorization.k8s.io/";

class RbacIndex {
 public:
  struct Binding;  // a parsed RoleBinding or ClusterRoleBinding
  struct Role;     // a parsed Role or ClusterRole

  // Where a visited rule comes from: a binding and the subject of it that matched.
  class RuleSource {
   public:
    RuleSource(const Binding& binding, size_t subject) : binding_(&binding), subject_(subject) {}
    // `ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`, or
    // `RoleBinding "x/ns" of Role "y" to ServiceAccount "sa/ns"`, as Kubernetes words it.
    std::string Describe() const;

   private:
    const Binding* binding_;
    size_t subject_;
  };

  // Returns false to stop visiting.
  using RuleVisitor = std::function<bool(const RuleSource& source, const PolicyRule& rule)>;

  RbacIndex();
  ~RbacIndex();
  RbacIndex(const RbacIndex&);
  RbacIndex& operator=(const RbacIndex&);

  // Adds or replaces the object stored under `key`. Keys that name no RBAC object are
  // ignored. Errors: kInvalidArgument when the value is not a well-formed object of its
  // kind; the key is then removed from the index (a broken object grants nothing).
  Status Put(std::string_view key, std::string_view value);
  void Remove(std::string_view key);
  void Clear();
  // Recomputes what depends on several objects (aggregated ClusterRoles). Call after a
  // group of Put/Remove, before resolving rules.
  void Finish();

  // Calls `visit` with each rule that applies to the user in `namespace_name` ("" = only
  // cluster-wide bindings), until it returns false. A binding whose role cannot be resolved
  // adds a message to `errors` (when not null), such as
  // `clusterrole.rbac.authorization.k8s.io "x" not found`.
  void VisitRulesFor(std::string_view user, const std::vector<std::string>& groups,
                     std::string_view namespace_name, const RuleVisitor& visit,
                     std::vector<std::string>* errors) const;

  // The number of objects held (all four kinds).
  size_t size() const;

 private:
  using RulesPtr = std::shared_ptr<const std::vector<PolicyRule>>;

  // The rules a roleRef names, or null with `error` set.
  const std::vector<PolicyRule>* RoleRefRules(const Binding& binding, std::string& error) const;
  bool AppliesTo(const Binding& binding, std::string_view user,
                 const std::vector<std::string>& groups, size_t& subject) const;
  const RulesPtr& AggregatedRules(const std::string& name, std::map<std::string, bool>& visiting);

  // Keyed by "<namespace>/<name>".
  std::map<std::string, std::shared_ptr<const Role>> roles_;
  // Keyed by name.
  std::map<std::string, std::shared_ptr<const Role>> cluster_roles_;
  // Namespace -> name -> binding.
  std::map<std::string, std::map<std::string, std::shared_ptr<const Binding>>> role_bindings_;
  std::map<std::string, std::shared_ptr<const Binding>> cluster_role_bindings_;
  // The effective rules of every ClusterRole (aggregation applied); rebuilt by Finish().
  std::map<std::string, RulesPtr> cluster_role_rules_;
  bool cluster_roles_changed_ = false;
};

}  // namespace kite::auth
