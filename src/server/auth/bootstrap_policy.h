// The default RBAC policy a cluster starts with: the ClusterRoles and ClusterRoleBindings
// Kubernetes ships (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) that matter to Kite.
//
// ClusterRoles:
//   cluster-admin               everything (all resources, all non-resource URLs)
//   admin, edit, view           aggregated from ClusterRoles labelled
//                               rbac.authorization.k8s.io/aggregate-to-{admin,edit,view};
//                               edit carries aggregate-to-admin and view aggregate-to-edit,
//                               so admin ⊇ edit ⊇ view. Their stored rules are the
//                               aggregation result, as Kubernetes' controller writes it.
//   system:aggregate-to-{admin,edit,view}   the rules aggregated into them, for the
//                               resources Kite serves
//   system:discovery            get on /api, /apis, /version, /healthz, ... (discovery)
//   system:basic-user           create self-subject reviews
//   system:public-info-viewer   get on /healthz, /livez, /readyz, /version
//   system:node                 what a kubelet needs
// ClusterRoleBindings (same names as their roles):
//   cluster-admin → Group system:masters; system:discovery, system:basic-user →
//   Group system:authenticated; system:public-info-viewer → Groups system:authenticated and
//   system:unauthenticated; system:node → Group system:nodes.
//
// Every object carries label kubernetes.io/bootstrapping=rbac-defaults and annotation
// rbac.authorization.kubernetes.io/autoupdate=true, a fresh uid and creationTimestamp from
// the clock, and is stored as the API server stores objects (compact JSON, apiVersion, kind
// and metadata first, no resourceVersion; key under kRbacPrefix).
#pragma once

#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/status.h"
#include "src/store/kv_store.h"

namespace kite::auth {

// Creates each default object that is missing. Existing objects are left as they are (an
// administrator's change to a default role survives restarts), so calling it again, or
// concurrently from several servers, is harmless. Errors: the store's, other than
// kAlreadyExists.
Status EnsureBootstrapPolicy(store::KvStore* kv, Clock* clock);

// The store keys of the default objects, in creation order (for tests and tooling).
std::vector<std::string> BootstrapPolicyKeys();

}  // namespace kite::auth
