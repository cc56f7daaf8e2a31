// RbacAuthorizer: Kubernetes' RBAC authorizer (rbac.authorization.k8s.io/v1) over the
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the KvStore.
//
// Decision: members of group "system:masters" are always allowed (Kubernetes' privileged
// group authorizer, which runs before RBAC). Otherwise the request is allowed when a rule
// that applies to the user (see rbac_index.h) allows it (see policy_rule.h), with the
// reason `RBAC: allowed by <binding>`; when none does it is denied, with reason "" or the
// resolution errors met on the way (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not
// found`; several are joined as "[a, b]"). RBAC only adds permissions: there is no deny
// rule.
//
// Operation: Start() lists every object under kRbacPrefix into an in-memory index and
// watches the prefix from the listed revision; one background thread applies the events
// and publishes a new immutable snapshot of the index after each batch. Authorize and
// RulesFor read the current snapshot and never touch the store. When the watch fails
// (cut off for falling behind, compacted, store closed) the thread lists again, retrying
// with back-off (100 ms doubling to 5 s) until it succeeds or the authorizer is destroyed.
// Objects that do not parse are left out of the index (they grant nothing) and reported
// on stderr.
//
// Concurrency: every public method is thread-safe. Authorize holds the lock only to take
// the snapshot pointer. A change is visible once the watch thread has applied it:
// WaitForRevision() waits for that. The destructor stops and joins the thread promptly
// (the watch wakes it through the watcher's ready callback; there is no polling).
//
// Limitations: no escalation checks (creating a Role with rules one does not hold, or
// binding a role, needs no `escalate`/`bind` verb here); no Node authorizer. Memory is
// proportional to the RBAC objects, with no limit. The store must outlive the authorizer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/auth/authorizer.h"
#include "src/server/auth/policy_rule.h"
#include "src/server/auth/rbac_index.h"
#include "src/store/kv_store.h"

namespace kite::auth {

// What a SelfSubjectRulesReview reports (authorization.k8s.io/v1 SubjectRulesReviewStatus).
struct RulesReview {
  // Rules with resources: verbs, api_groups, resources, resource_names (no URLs).
  std::vector<PolicyRule> resource_rules;
  // Rules with nonResourceURLs: verbs and non_resource_urls only.
  std::vector<PolicyRule> non_resource_rules;
  // Always false: RBAC knows every rule it holds.
  bool incomplete = false;
  // Resolution errors (missing roles), "" when none; the rules listed are still valid.
  std::string evaluation_error;
};

class RbacAuthorizer final : public Authorizer {
 public:
  // Lists the RBAC objects of `kv` and starts watching them. `kv` must outlive the result.
  // Errors: those of the initial list or watch.
  static Result<std::unique_ptr<RbacAuthorizer>> Start(store::KvStore* kv);
  ~RbacAuthorizer() override;
  RbacAuthorizer(const RbacAuthorizer&) = delete;
  RbacAuthorizer& operator=(const RbacAuthorizer&) = delete;

  Decision Authorize(const Attributes& attributes) override EXCLUDES(mu_);

  // Every rule RBAC grants the user in `namespace_name` ("" = cluster-wide bindings only),
  // in resolution order, as Kubernetes' RBAC RulesFor returns them. Membership of
  // system:masters adds nothing here (Kubernetes' privileged-group authorizer has no rules
  // to list; the default cluster-admin binding lists them).
  RulesReview RulesFor(std::string_view user, const std::vector<std::string>& groups,
                       std::string_view namespace_name) EXCLUDES(mu_);

  // Waits until every change under kRbacPrefix up to `revision` is in the index; false on
  // timeout. Pass the revision the store returned for a write of an RBAC object.
  bool WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) EXCLUDES(mu_);
  // The store revision the index reflects.
  int64_t revision() EXCLUDES(mu_);

 private:
  explicit RbacAuthorizer(store::KvStore* kv);

  std::shared_ptr<const RbacIndex> Snapshot() EXCLUDES(mu_);
  // Lists the prefix into working_ and starts watcher_ after it; publishes the result.
  Status Relist() EXCLUDES(mu_);
  void Publish(int64_t revision) EXCLUDES(mu_);
  // The watch thread's loop.
  void Run() EXCLUDES(wake_mu_, mu_);
  // Waits up to `timeout` for the watcher's signal or Stop; false when stopping.
  bool WaitForWake(std::chrono::milliseconds timeout) EXCLUDES(wake_mu_);
  void Wake() EXCLUDES(wake_mu_);

  store::KvStore* const kv_;

  Mutex mu_;
  CondVar published_;  // signalled after each Publish
  std::shared_ptr<const RbacIndex> index_ GUARDED_BY(mu_);
  int64_t revision_ GUARDED_BY(mu_) = 0;

  // Wake-ups of the watch thread. Separate from mu_ because Wake runs inside the store's
  // locks (the watcher's ready callback).
  Mutex wake_mu_;
  CondVar wake_cv_;
  bool wake_ GUARDED_BY(wake_mu_) = false;
  bool stopping_ GUARDED_BY(wake_mu_) = false;

  // Owned by the watch thread once it runs (by Start before).
  RbacIndex working_;
  std::unique_ptr<store::Watcher> watcher_;

  std::thread thread_;
};

}  // namespace kite::auth
