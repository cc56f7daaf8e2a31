// The ResourceQuota controller (Kubernetes' pkg/controller/resourcequota): keeps each
// quota's status current — status.hard = spec.hard, status.used = what the namespace's
// objects charge (src/server/quota/resource_usage.h) — so that `kubectl describe quota`
// shows Used beside Hard, and the quota admission check (quota_admission.h), which charges
// admitted writes as they happen, is corrected for everything that frees quota.
//
// Operation, per quota key ("namespace/name"):
//  - the usage of every resource in spec.hard is recomputed from the informers' objects
//    within the quota's scopes; a resource nothing here can count (a count/... of a kind
//    neither built in nor served by an Established, namespaced CRD) keeps the value last
//    written. status {hard, used} is written with UpdateStatus (the quota's resourceVersion
//    as precondition; a conflict retries) when it differs from what is stored;
//  - a quota is synced when it appears, when its spec changes, and every resync period
//    (5 min by default);
//  - replenishment: when a pod, service, claim, configmap, secret or quota is deleted, a
//    pod turns terminal (Succeeded/Failed) or passes its deletion grace, or a claim's
//    allocated storage changes, the namespace's quotas that limit that kind are synced.
//
// Informers: quotas, pods, services, persistentvolumeclaims, configmaps, secrets and
// CustomResourceDefinitions from the start; for a quota naming another kind
// (replicationcontrollers, or count/<resource>.<group> of any built-in namespaced resource)
// the kind's informer is started on first use, and such quotas sync once it has filled
// (until then the key comes back every 250 ms, other resources synced meanwhile); those
// kinds are not replenished on delete, only at the next resync.
//
// Custom resources (count/<plural>.<group>, upstream's generic object-count evaluator):
// counted while the CRD named <plural>.<group> is Established and Namespaced, from a
// subscription (InformerFactory::Subscribe) to the informer of the CRD's storage version
// (or, when that is not served, of a served one), taken when the CRD becomes Established
// and dropped when it is deleted, stops being Established or changes the version served —
// so the informer of a deleted CRD's resource goes too. A CRD that is absent, not yet
// Established or cluster-scoped is skipped: the usage keeps its last value and the quota's
// other resources are synced as usual. A CRD becoming Established syncs the quotas that
// name it; deleting a custom object replenishes like the built-in kinds (creates are
// charged by the admission).
// Subscriptions are taken and dropped by the CRD informer's handlers (so on its thread;
// dropping one stops another informer's thread, never its own).
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers (the work queue never hands one key to two workers).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

inline const client::ResourceRef kResourceQuotas{"", "v1", "resourcequotas", true};

class ResourceQuotaController final : public Controller {
 public:
  struct Options {
    // "Now" for pods' deletion grace; must outlive the controller.
    const Clock* clock = SystemClock::Get();
    // Every quota is recomputed this often whatever happens.
    std::chrono::milliseconds resync_period = std::chrono::minutes(5);
  };

  ResourceQuotaController() : ResourceQuotaController(Options{}) {}
  explicit ResourceQuotaController(Options options) : options_(options) {}

  std::string_view Name() const override { return "resourcequota"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is "namespace/name" of a ResourceQuota.
  Status Reconcile(const std::string& key) override;

 private:
  // The subscription to one CRD's objects (by CRD name).
  struct CustomWatch {
    client::ResourceRef ref;
    client::Subscription subscription;
  };

  // Queues the quotas of `ns` that limit something objects of group/resource charge.
  void Replenish(std::string_view ns, std::string_view group, std::string_view resource);
  // Queues every quota that names count/<plural>.<group> of this CRD.
  void SyncQuotasCounting(const rapidjson::Value& crd);
  // Takes, keeps, changes or drops the subscription of the CRD `name` to match `crd`
  // (nullptr: deleted). From the CRD informer's handlers only (one thread).
  void SyncCustomWatch(const std::string& name, const rapidjson::Value* crd) EXCLUDES(custom_mu_);
  // The objects of `ns` of group/resource: from a registered informer, one started now for
  // a built-in namespaced resource, or a custom resource's subscription. nullopt when
  // nothing here can count the kind; kUnavailable while its cache fills.
  std::optional<Result<std::vector<client::ObjectPtr>>> ObjectsOf(std::string_view group, std::string_view resource,
                                                                  std::string_view ns) EXCLUDES(custom_mu_);

  const Options options_;
  WorkQueue* queue_ = nullptr;
  client::InformerFactory* informers_ = nullptr;
  client::Informer* quotas_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* services_ = nullptr;
  client::Informer* claims_ = nullptr;
  client::Informer* config_maps_ = nullptr;
  client::Informer* secrets_ = nullptr;
  client::Informer* crds_ = nullptr;
  std::optional<client::ResourceClient> client_;

  // Last, so destroyed first: the subscriptions' handlers use the members above.
  Mutex custom_mu_;
  std::map<std::string, CustomWatch> custom_ GUARDED_BY(custom_mu_);
};

}  // namespace kite::controllers
