// QuotaAdmission: Kubernetes' ResourceQuota admission plugin
// (k8s.io/apiserver/pkg/admission/plugin/resourcequota, controller.go): a write that would
// take a namespace past one of its ResourceQuotas is refused, and an admitted one is
// charged to the quotas' status.used at once, so the next request sees it without waiting
// for the quota controller.
//
// Operation, per Admit of an object of group/resource in namespace `ns`:
//  - Which writes count: creates of every kind; updates of services (a type change can
//    take node ports or a load balancer) and persistentvolumeclaims (a larger request);
//    pod updates do not (their resources are immutable). Call it for writes of the object
//    itself, not of a subresource. Cluster-scoped objects (ns "") are never limited.
//    Custom resources are admitted here too (count/<plural>.<group>, on create).
//  - The namespace's quotas are read from an in-memory mirror of the store's quotas
//    (src/store/prefix_mirror.h), as fresh as a store read; a namespace without quotas
//    costs no lock and no database read. A quota applies when it limits a
//    resource the kind charges and the object is in all its scopes (resource_usage.h). Its
//    limits are status.hard, or spec.hard while the controller has not yet written status.
//  - For pods, a quota limiting cpu or memory requires every container to set them:
//    "failed quota: <quota>: must specify limits.cpu for: app".
//  - The charge is the object's usage; for an update, only the increase over the old
//    object (when the old object was in the quota too). used + charge must stay within
//    hard for every charged resource the quota limits, else:
//    "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2".
//  - Unlike upstream, which refuses with "status unknown for quota" until the controller
//    has computed a resource's usage, a usage missing from status.used is computed here
//    from the namespace's stored objects of the kind.
//  - Then each charged quota's status.used is written with a compare-and-swap on its
//    revision (the stored JSON is re-encoded with the API server's own EncodeForStorage, so
//    the value keeps the storage form: no resourceVersion inside). On a conflict the quotas
//    still to charge are read again and checked again, up to 5 rounds; quotas already
//    charged are not charged twice. Charges of requests whose object write then fails are
//    left for the quota controller to correct, as upstream does.
//
// Returns the refusal as the text after `<resource> "<name>" is forbidden: ` (a 403), or
// nullopt when admitted. Failures to read or write the store are refusals too, with the
// store's message ("unable to ... quota ...").
//
// Thread-safety: Admit may be called from any thread; calls are serialized by a mutex (the
// store's compare-and-swap keeps quota writes from other processes consistent too).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/quota/resource_usage.h"
#include "src/store/kv_store.h"
#include "src/store/prefix_mirror.h"

namespace kite::quota {

class QuotaAdmission {
 public:
  // `kv` and `clock` must outlive this object.
  QuotaAdmission(store::KvStore* kv, const Clock* clock);

  // `object` is the object about to be stored (defaults applied), `old` the stored one for
  // an update (nullptr for a create). With `dry_run` the request is checked but no quota is
  // charged.
  std::optional<std::string> Admit(std::string_view group, std::string_view resource, std::string_view ns,
                                   const rapidjson::Value& object, const rapidjson::Value* old,
                                   bool dry_run = false);

  // Whether Admit looks at this write at all (upstream's Evaluator.Handles).
  static bool Handles(std::string_view group, std::string_view resource, bool is_update);

 private:
  struct StoredQuota {
    std::string key;
    std::string name;
    int64_t revision = 0;
    rapidjson::Document object;
  };
  struct Charge {
    size_t index = 0;  // into the quotas evaluated
    ResourceList used;
  };
  struct Outcome {
    std::optional<std::string> refusal;
    std::vector<Charge> charges;
  };

  Result<std::vector<StoredQuota>> ReadQuotas(std::string_view ns) REQUIRES(mu_);
  Outcome Evaluate(const std::vector<StoredQuota>& quotas, std::string_view group, std::string_view resource,
                   std::string_view ns, const rapidjson::Value& object, const rapidjson::Value* old,
                   int64_t now_ms) REQUIRES(mu_);
  // The usage of `names` by the stored objects of group/resource in `ns` within `scopes`.
  ResourceList StoredUsage(std::string_view group, std::string_view resource, std::string_view ns,
                           const std::vector<ScopeSelector>& scopes, const ResourceNames& names,
                           int64_t now_ms) REQUIRES(mu_);
  // Writes status.used; the store's status (kConflict when the quota changed since read).
  Status WriteUsed(StoredQuota& quota, const ResourceList& used) REQUIRES(mu_);

  store::KvStore* const kv_;
  const Clock* const clock_;
  store::PrefixMirror quotas_;  // every ResourceQuota
  Mutex mu_;
};

}  // namespace kite::quota
