#include "src/server/controllers/resource_quota_controller.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/custom_resource_ref.h"
#include "src/server/crd/crd_status.h"
#include "src/server/json/json_util.h"
#include "src/server/quota/resource_usage.h"
#include "src/server/resources/resource_table.h"

namespace kite::controllers {
namespace {

// How soon a quota counting a kind whose cache is still filling is synced again.
constexpr std::chrono::milliseconds kCacheWaitRetry{250};

using client::ObjectPtr;
using rapidjson::Value;

std::string NamespaceOf(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  return md ? std::string(json::StringMember(*md, "namespace")) : std::string();
}

const Value* Dig(const Value& v, std::string_view a, std::string_view b) {
  const Value* x = json::Member(v, a);
  return x ? json::Member(*x, b) : nullptr;
}

bool SameValue(const Value* a, const Value* b) {
  if (!a || !b) return a == b;
  return *a == *b;
}

// GetQuotaServiceType: the types that charge more than the service itself.
std::string_view QuotaServiceType(const Value& service) {
  const Value* spec = json::Member(service, "spec");
  std::string_view type = spec ? json::StringMember(*spec, "type") : "";
  return type == "NodePort" || type == "LoadBalancer" ? type : "";
}

// The kinds whose usage a quota's hard names ask for: the ones quota knows by name, and
// each count/<resource>.<group>.
std::set<std::pair<std::string, std::string>> KindsFor(const quota::ResourceNames& hard) {
  std::set<std::pair<std::string, std::string>> kinds = {
      {"", "pods"},    {"", "services"},       {"", "persistentvolumeclaims"},
      {"", "configmaps"}, {"", "secrets"}, {"", "resourcequotas"}, {"", "replicationcontrollers"}};
  for (const std::string& name : hard) {
    if (name.rfind("count/", 0) != 0) continue;
    std::string_view rest = std::string_view(name).substr(6);
    size_t dot = rest.find('.');
    std::string resource(rest.substr(0, dot));
    std::string group(dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1));
    if (!resource.empty()) kinds.emplace(std::move(group), std::move(resource));
  }
  return kinds;
}

// The served version of a built-in namespaced resource that can be listed and watched.
std::optional<client::ResourceRef> BuiltinRef(std::string_view group, std::string_view resource) {
  static const resources::ResourceTable table = resources::BuiltinResources();
  std::optional<resources::GroupInfo> info = table.FindGroup(group);
  if (!info) return std::nullopt;
  for (const std::string& version : info->versions) {
    const resources::ResourceInfo* r = table.Find(group, version, resource);
    if (r && r->namespaced && r->HasVerb("list") && r->HasVerb("watch")) {
      return client::ResourceRef{std::string(group), version, std::string(resource), true};
    }
  }
  return std::nullopt;
}

bool SameRef(const client::ResourceRef& a, const client::ResourceRef& b) {
  return a.group == b.group && a.version == b.version && a.resource == b.resource && a.namespaced == b.namespaced;
}

std::string NameOf(const Value& object) {
  const Value* md = json::Member(object, "metadata");
  return md ? std::string(json::StringMember(*md, "name")) : std::string();
}

}  // namespace

void ResourceQuotaController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  informers_ = &informers;
  quotas_ = &informers.For(kResourceQuotas);
  pods_ = &informers.For(client::kPods);
  services_ = &informers.For(client::kServices);
  claims_ = &informers.For(client::kPersistentVolumeClaims);
  config_maps_ = &informers.For(client::kConfigMaps);
  secrets_ = &informers.For(client::kSecrets);
  crds_ = &informers.For(client::kCustomResourceDefinitions);
  client_.emplace(informers.ClientFor(kResourceQuotas));

  quotas_->AddHandlers({
      .on_add = [this](const ObjectPtr& q) { queue_->Add(client::ObjectKey(*q)); },
      // Status writes (ours and the admission's charges) come back as updates: only a
      // changed spec needs a recount now.
      .on_update =
          [this](const ObjectPtr& old_q, const ObjectPtr& q) {
            if (!SameValue(json::Member(*old_q, "spec"), json::Member(*q, "spec"))) queue_->Add(client::ObjectKey(*q));
          },
      .on_delete = [this](const ObjectPtr& q) { Replenish(NamespaceOf(*q), "", "resourcequotas"); },
  });
  pods_->AddHandlers({
      .on_add = nullptr,
      .on_update =
          [this](const ObjectPtr& old_pod, const ObjectPtr& pod) {
            int64_t now = options_.clock->NowMillis();
            if (quota::PodChargesCompute(*old_pod, now) && !quota::PodChargesCompute(*pod, now)) {
              Replenish(NamespaceOf(*pod), "", "pods");
            }
          },
      .on_delete = [this](const ObjectPtr& pod) { Replenish(NamespaceOf(*pod), "", "pods"); },
  });
  services_->AddHandlers({
      .on_add = nullptr,
      .on_update =
          [this](const ObjectPtr& old_svc, const ObjectPtr& svc) {
            if (QuotaServiceType(*old_svc) != QuotaServiceType(*svc)) Replenish(NamespaceOf(*svc), "", "services");
          },
      .on_delete = [this](const ObjectPtr& svc) { Replenish(NamespaceOf(*svc), "", "services"); },
  });
  claims_->AddHandlers({
      .on_add = nullptr,
      .on_update =
          [this](const ObjectPtr& old_claim, const ObjectPtr& claim) {
            const Value* before = Dig(*old_claim, "status", "allocatedResources");
            const Value* after = Dig(*claim, "status", "allocatedResources");
            if (!SameValue(before ? json::Member(*before, "storage") : nullptr,
                           after ? json::Member(*after, "storage") : nullptr)) {
              Replenish(NamespaceOf(*claim), "", "persistentvolumeclaims");
            }
          },
      .on_delete = [this](const ObjectPtr& claim) { Replenish(NamespaceOf(*claim), "", "persistentvolumeclaims"); },
  });
  config_maps_->AddHandlers({
      .on_add = nullptr,
      .on_update = nullptr,
      .on_delete = [this](const ObjectPtr& cm) { Replenish(NamespaceOf(*cm), "", "configmaps"); },
  });
  secrets_->AddHandlers({
      .on_add = nullptr,
      .on_update = nullptr,
      .on_delete = [this](const ObjectPtr& s) { Replenish(NamespaceOf(*s), "", "secrets"); },
  });
  // A CRD becoming Established (or changing what it serves) makes its count/... countable;
  // its objects are watched while it is.
  crds_->AddHandlers({
      .on_add =
          [this](const ObjectPtr& crd) {
            SyncCustomWatch(NameOf(*crd), crd.get());
            SyncQuotasCounting(*crd);
          },
      .on_update =
          [this](const ObjectPtr& old_crd, const ObjectPtr& crd) {
            SyncCustomWatch(NameOf(*crd), crd.get());
            if (crd::IsEstablished(*old_crd) != crd::IsEstablished(*crd) ||
                !SameValue(json::Member(*old_crd, "spec"), json::Member(*crd, "spec"))) {
              SyncQuotasCounting(*crd);
            }
          },
      .on_delete = [this](const ObjectPtr& crd) { SyncCustomWatch(NameOf(*crd), nullptr); },
  });
}

void ResourceQuotaController::SyncCustomWatch(const std::string& name, const Value* crd) {
  std::optional<client::ResourceRef> want = crd ? CustomResourceOf(*crd) : std::nullopt;
  client::Subscription dropped;
  {
    MutexLock lock(custom_mu_);
    auto it = custom_.find(name);
    if (it == custom_.end() && !want) return;
    if (it != custom_.end()) {
      if (want && SameRef(it->second.ref, *want)) return;
      dropped = std::move(it->second.subscription);
      custom_.erase(it);
    }
  }
  // Outside the lock: this waits for the dropped informer's handlers (and thread).
  dropped.Reset();
  if (!want) return;
  std::string group = want->group, resource = want->resource;
  client::Subscription subscription = informers_->Subscribe(
      *want, {
                 .on_add = nullptr,
                 .on_update = nullptr,
                 .on_delete = [this, group, resource](const ObjectPtr& o) { Replenish(NamespaceOf(*o), group, resource); },
             });
  {
    MutexLock lock(custom_mu_);
    custom_[name] = CustomWatch{*want, std::move(subscription)};
  }
  // Quotas that could not count it yet (or counted another version) count it now.
  SyncQuotasCounting(*crd);
}

void ResourceQuotaController::SyncQuotasCounting(const Value& crd) {
  if (!crd::IsEstablished(crd)) return;
  const std::string count = quota::ObjectCountName(CrdGroup(crd), CrdPlural(crd));
  for (const ObjectPtr& q : quotas_->List()) {
    const Value* spec = json::Member(*q, "spec");
    const Value* hard = spec ? json::Member(*spec, "hard") : nullptr;
    if (hard && hard->IsObject() && hard->HasMember(count)) queue_->Add(client::ObjectKey(*q));
  }
}

void ResourceQuotaController::Replenish(std::string_view ns, std::string_view group, std::string_view resource) {
  for (const ObjectPtr& q : quotas_->List(ns)) {
    quota::ResourceList hard = quota::EffectiveHard(*q);
    if (!quota::MatchingResources(group, resource, quota::Names(hard)).empty()) queue_->Add(client::ObjectKey(*q));
  }
}

std::optional<Result<std::vector<ObjectPtr>>> ResourceQuotaController::ObjectsOf(std::string_view group,
                                                                                std::string_view resource,
                                                                                std::string_view ns) {
  auto waiting = [&] { return UnavailableError("waiting for the cache of " + quota::ObjectCountName(group, resource)); };
  client::Informer* informer = nullptr;
  if (group.empty()) {
    if (resource == "pods") informer = pods_;
    if (resource == "services") informer = services_;
    if (resource == "persistentvolumeclaims") informer = claims_;
    if (resource == "configmaps") informer = config_maps_;
    if (resource == "secrets") informer = secrets_;
    if (resource == "resourcequotas") informer = quotas_;
  }
  if (!informer) {
    if (std::optional<client::ResourceRef> ref = BuiltinRef(group, resource)) informer = &informers_->For(*ref);
  }
  if (informer) {
    if (!informer->HasSynced()) return waiting();
    return informer->List(ns);
  }
  // A custom resource: the CRD's name is <plural>.<group>.
  if (group.empty()) return std::nullopt;
  MutexLock lock(custom_mu_);
  auto it = custom_.find(std::string(resource) + "." + std::string(group));
  if (it == custom_.end() || it->second.ref.group != group || it->second.ref.resource != resource) return std::nullopt;
  // Under the lock: the subscription (and its informer) stays while it is read.
  const client::Subscription& subscription = it->second.subscription;
  if (!subscription->HasSynced()) return waiting();
  return subscription->List(ns);
}

Status ResourceQuotaController::Reconcile(const std::string& key) {
  if (!quotas_->Get(key)) return Status();
  auto [ns, name] = client::SplitObjectKey(key);
  // The live quota, not the cached one: admission charges it through its status, which this
  // controller's cache may not show yet when a delete it replenishes arrives first (a status
  // change alone queues nothing), and the charge would then stay until the resync.
  Result<rapidjson::Document> live = client_->Get(ns, name);
  if (!live.ok()) return live.status().code() == StatusCode::kNotFound ? Status() : live.status();
  ObjectPtr q = std::make_shared<const rapidjson::Document>(std::move(live).value());
  const Value* spec = json::Member(*q, "spec");
  const quota::ResourceList hard = quota::ParseResourceList(spec ? json::Member(*spec, "hard") : nullptr);
  const quota::ResourceNames hard_names = quota::Names(hard);
  const std::vector<quota::ScopeSelector> scopes = quota::QuotaScopes(*q);
  const Value* status = json::Member(*q, "status");
  const Value* status_hard = status ? json::Member(*status, "hard") : nullptr;
  const Value* status_used = status ? json::Member(*status, "used") : nullptr;
  const quota::ResourceList recorded = quota::ParseResourceList(status_used);

  // Usage this controller cannot count keeps its last observation.
  quota::ResourceList used = recorded;
  bool pending = false;  // a cache still filling
  int64_t now = options_.clock->NowMillis();
  for (const auto& [group, resource] : KindsFor(hard_names)) {
    quota::ResourceNames charged = quota::MatchingResources(group, resource, hard_names);
    if (charged.empty()) continue;
    std::optional<Result<std::vector<ObjectPtr>>> listed = ObjectsOf(group, resource, ns);
    if (!listed) continue;
    if (!listed->ok()) {
      pending = true;
      continue;
    }
    const std::vector<ObjectPtr>& objects = **listed;
    std::vector<const Value*> pointers;
    pointers.reserve(objects.size());
    for (const ObjectPtr& o : objects) pointers.push_back(o.get());
    for (auto& [n, v] : quota::CalculateUsage(group, resource, scopes, charged, pointers, now)) used[n] = v;
  }
  used = quota::Mask(used, hard_names);

  bool dirty = !status_hard || !status_used || !quota::Equals(hard, quota::ParseResourceList(status_hard)) ||
               !quota::Equals(used, recorded);
  if (dirty) {
    rapidjson::Document desired;
    desired.CopyFrom(*q, desired.GetAllocator());
    auto& a = desired.GetAllocator();
    Value new_status(rapidjson::kObjectType);
    new_status.AddMember("hard", quota::ResourceListToJson(hard, a), a);
    new_status.AddMember("used", quota::ResourceListToJson(used, a), a);
    json::SetMember(desired, "status", std::move(new_status), a);
    Result<rapidjson::Document> written = client_->UpdateStatus(desired);
    if (!written.ok()) {
      // Deleted meanwhile: nothing to keep current.
      return written.status().code() == StatusCode::kNotFound ? Status() : written.status();
    }
  }
  // A cache still filling (a kind's informer just started, or a CRD's whose resource is
  // not served yet) is not an error: look again soon, quietly.
  queue_->AddAfter(key, pending ? kCacheWaitRetry : options_.resync_period);
  return Status();
}

}  // namespace kite::controllers
