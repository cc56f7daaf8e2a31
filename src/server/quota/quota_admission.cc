#include "src/server/quota/quota_admission.h"

#include <set>

#include "src/server/apiserver/object_codec.h"
#include "src/server/json/json_util.h"

namespace kite::quota {
namespace {

using rapidjson::Value;

// Rounds of read-check-write when a quota changes under us (upstream retries 3 times).
constexpr int kMaxRounds = 5;

bool IsCoreKind(std::string_view group, std::string_view resource, std::string_view want) {
  return group.empty() && resource == want;
}

ResourceNames ToNames(const std::vector<std::string>& names) { return ResourceNames(names.begin(), names.end()); }

std::string ConflictMessage(std::string_view name) {
  return "Operation cannot be fulfilled on resourcequotas \"" + std::string(name) +
         "\": the object has been modified; please apply your changes to the latest version and try again";
}

}  // namespace

QuotaAdmission::QuotaAdmission(store::KvStore* kv, const Clock* clock)
    : kv_(kv), clock_(clock), quotas_(kv, apiserver::CollectionPrefix("", "resourcequotas", "")) {}

bool QuotaAdmission::Handles(std::string_view group, std::string_view resource, bool is_update) {
  if (!is_update) return true;
  // Services change type; claims grow. Everything else is charged once, when created.
  return IsCoreKind(group, resource, "services") || IsCoreKind(group, resource, "persistentvolumeclaims");
}

std::optional<std::string> QuotaAdmission::Admit(std::string_view group, std::string_view resource,
                                                 std::string_view ns, const Value& object, const Value* old,
                                                 bool dry_run) {
  if (ns.empty() || !Handles(group, resource, old != nullptr)) return std::nullopt;
  // Most namespaces have no quota: answer those without serializing on mu_.
  Result<std::vector<store::KeyValue>> any = quotas_.Range(apiserver::CollectionPrefix("", "resourcequotas", ns));
  if (any.ok() && any->empty()) return std::nullopt;
  MutexLock lock(mu_);
  std::set<std::string> pending;  // after a conflict: the quotas still to charge
  std::string last_conflict;
  for (int round = 0; round < kMaxRounds; ++round) {
    Result<std::vector<StoredQuota>> read = ReadQuotas(ns);
    if (!read.ok()) return "unable to read resource quotas: " + read.status().message();
    std::vector<StoredQuota> quotas = std::move(read).value();
    if (round > 0) {
      std::erase_if(quotas, [&](const StoredQuota& q) { return !pending.count(q.key); });
    }
    if (quotas.empty()) return std::nullopt;

    Outcome outcome = Evaluate(quotas, group, resource, ns, object, old, clock_->NowMillis());
    if (outcome.refusal) return outcome.refusal;
    if (dry_run || outcome.charges.empty()) return std::nullopt;

    pending.clear();
    for (const Charge& charge : outcome.charges) {
      StoredQuota& quota = quotas[charge.index];
      Status written = WriteUsed(quota, charge.used);
      if (written.ok() || written.code() == StatusCode::kNotFound) continue;  // deleted: nothing to charge
      if (written.code() != StatusCode::kConflict) {
        return "unable to update quota " + quota.name + ": " + written.message();
      }
      pending.insert(quota.key);
      last_conflict = ConflictMessage(quota.name);
    }
    if (pending.empty()) return std::nullopt;
  }
  return last_conflict;
}

Result<std::vector<QuotaAdmission::StoredQuota>> QuotaAdmission::ReadQuotas(std::string_view ns) {
  Result<std::vector<store::KeyValue>> stored = quotas_.Range(apiserver::CollectionPrefix("", "resourcequotas", ns));
  if (!stored.ok()) return stored.status();
  std::vector<StoredQuota> quotas;
  for (const store::KeyValue& kv : *stored) {
    Result<rapidjson::Document> object = json::ParseJsonObject(kv.value);
    if (!object.ok()) continue;  // a corrupt record limits nothing
    StoredQuota q;
    q.key = kv.key;
    q.revision = kv.mod_revision;
    q.object = std::move(object).value();
    if (const Value* md = json::Member(q.object, "metadata")) q.name = std::string(json::StringMember(*md, "name"));
    quotas.push_back(std::move(q));
  }
  return quotas;
}

QuotaAdmission::Outcome QuotaAdmission::Evaluate(const std::vector<StoredQuota>& quotas, std::string_view group,
                                                 std::string_view resource, std::string_view ns,
                                                 const Value& object, const Value* old, int64_t now_ms) {
  Outcome outcome;
  struct Applicable {
    size_t index;
    ResourceList hard;
    ResourceNames restricted;
  };
  std::vector<Applicable> applicable;
  bool is_pod = IsCoreKind(group, resource, "pods");
  for (size_t i = 0; i < quotas.size(); ++i) {
    const StoredQuota& q = quotas[i];
    ResourceList hard = EffectiveHard(q.object);
    if (!QuotaMatches(q.object, hard, group, resource, object)) continue;
    ResourceNames restricted = MatchingResources(group, resource, Names(hard));
    if (is_pod) {
      if (std::optional<std::string> missing = PodConstraintViolation(restricted, object)) {
        outcome.refusal = "failed quota: " + q.name + ": " + *missing;
        return outcome;
      }
    }
    applicable.push_back({i, std::move(hard), std::move(restricted)});
  }
  if (applicable.empty()) return outcome;

  ResourceList usage = Usage(group, resource, object, now_ms);
  if (std::vector<std::string> negative = NegativeNames(usage); !negative.empty()) {
    outcome.refusal = "quota usage is negative for resource(s): " + JoinNames(negative);
    return outcome;
  }
  ResourceList old_usage;
  if (old) old_usage = Usage(group, resource, *old, now_ms);

  for (const Applicable& a : applicable) {
    const StoredQuota& q = quotas[a.index];
    // An update is charged its increase, unless the old object was outside this quota.
    ResourceList delta = usage;
    if (old && QuotaMatches(q.object, a.hard, group, resource, *old)) delta = SubtractNonNegative(usage, old_usage);
    delta = RemoveZeros(delta);
    if (delta.empty()) continue;

    const Value* status = json::Member(q.object, "status");
    const ResourceList recorded = ParseResourceList(status ? json::Member(*status, "used") : nullptr);
    ResourceList used = recorded;
    ResourceNames unknown;
    for (const std::string& name : a.restricted) {
      if (!used.count(name)) unknown.insert(name);
    }
    if (!unknown.empty()) used = Add(used, StoredUsage(group, resource, ns, QuotaScopes(q.object), unknown, now_ms));

    ResourceList requested = Mask(delta, Names(a.hard));
    ResourceList new_used = Add(used, requested);
    std::vector<std::string> exceeded = Exceeding(Mask(new_used, Names(requested)), a.hard);
    if (!exceeded.empty()) {
      ResourceNames failed = ToNames(exceeded);
      outcome.refusal = "exceeded quota: " + q.name + ", requested: " + PrettyPrint(Mask(requested, failed)) +
                        ", used: " + PrettyPrint(Mask(used, failed)) + ", limited: " + PrettyPrint(Mask(a.hard, failed));
      outcome.charges.clear();
      return outcome;
    }
    if (!Equals(new_used, recorded)) outcome.charges.push_back({a.index, std::move(new_used)});
  }
  return outcome;
}

ResourceList QuotaAdmission::StoredUsage(std::string_view group, std::string_view resource, std::string_view ns,
                                         const std::vector<ScopeSelector>& scopes, const ResourceNames& names,
                                         int64_t now_ms) {
  Result<store::RangeResult> range =
      kv_->Range(store::RangeRequest::Prefix(apiserver::CollectionPrefix(group, resource, ns)));
  std::vector<rapidjson::Document> objects;
  if (range.ok()) {
    objects.reserve(range->kvs.size());
    for (const store::KeyValue& kv : range->kvs) {
      Result<rapidjson::Document> object = json::ParseJsonObject(kv.value);
      if (object.ok()) objects.push_back(std::move(object).value());
    }
  }
  std::vector<const Value*> pointers;
  pointers.reserve(objects.size());
  for (const rapidjson::Document& d : objects) pointers.push_back(&d);
  return CalculateUsage(group, resource, scopes, names, pointers, now_ms);
}

Status QuotaAdmission::WriteUsed(StoredQuota& quota, const ResourceList& used) {
  rapidjson::Document& object = quota.object;
  auto& a = object.GetAllocator();
  Value& status = json::EnsureObjectMember(object, "status", a);
  if (!status.IsObject()) status.SetObject();
  json::SetMember(status, "used", ResourceListToJson(used, a), a);
  std::string stored = apiserver::EncodeForStorage(object);
  Result<int64_t> revision = kv_->Update(quota.key, stored, quota.revision);
  if (!revision.ok()) return revision.status();
  quota.revision = *revision;
  return Status();
}

}  // namespace kite::quota
