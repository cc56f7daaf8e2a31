#include "src/server/controllers/daemon_set_controller.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_revision.h"
#include "src/server/controllers/deployment_util.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using client::ObjectPtr;
using rapidjson::Value;

namespace {

constexpr std::string_view kApiVersion = "apps/v1";
constexpr std::string_view kKind = "DaemonSet";
constexpr std::string_view kTemplateGenerationAnnotation = "deprecated.daemonset.template.generation";
constexpr std::string_view kTemplateGenerationLabel = "pod-template-generation";
constexpr int64_t kBackoffInitialMs = 1'000;
constexpr int64_t kBackoffMaxMs = 15 * 60'000;

ObjectPtr Share(rapidjson::Document d) { return std::make_shared<const rapidjson::Document>(std::move(d)); }

std::string_view Sv(const Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

// ---- reading a DaemonSet (absent fields read as Kubernetes' defaults) ----

const Value* SpecMember(const Value& ds, std::string_view field) {
  const Value* spec = json::Member(ds, "spec");
  return spec ? json::Member(*spec, field) : nullptr;
}

int64_t IntOr(const Value* v, int64_t fallback) { return v && v->IsInt64() ? v->GetInt64() : fallback; }

int64_t MinReady(const Value& ds) { return std::max<int64_t>(0, IntOr(SpecMember(ds, "minReadySeconds"), 0)); }

bool IsRollingUpdate(const Value& ds) {
  const Value* strategy = SpecMember(ds, "updateStrategy");
  std::string_view type = strategy ? json::StringMember(*strategy, "type") : std::string_view();
  return type.empty() || type == "RollingUpdate";
}

const Value* RollingParam(const Value& ds, std::string_view field) {
  const Value* strategy = SpecMember(ds, "updateStrategy");
  const Value* rolling = strategy ? json::Member(*strategy, "rollingUpdate") : nullptr;
  return rolling ? json::Member(*rolling, field) : nullptr;
}

// Kubernetes' util.SurgeCount / UnavailableCount: 0 unless RollingUpdate with the field
// set; percentages of `desired` rounded up.
Result<int32_t> RollingCount(const Value& ds, std::string_view field, int32_t desired) {
  if (!IsRollingUpdate(ds)) return 0;
  const Value* strategy = SpecMember(ds, "updateStrategy");
  if (!strategy || !json::Member(*strategy, "rollingUpdate")) return 0;
  return ScaledValueFromIntOrPercent(RollingParam(ds, field), desired, true);
}

bool AllowsSurge(const Value& ds) {
  Result<int32_t> surge = RollingCount(ds, "maxSurge", 1);
  return surge.ok() && *surge != 0;
}

std::optional<int64_t> TemplateGeneration(const Value& ds) {
  std::optional<std::string_view> a = AnnotationOf(ds, kTemplateGenerationAnnotation);
  if (!a || a->empty() || a->size() > 18 || a->find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::strtoll(std::string(*a).c_str(), nullptr, 10);
}

std::optional<int64_t> CollisionCount(const Value& ds) {
  const Value* status = json::Member(ds, "status");
  const Value* c = status ? json::Member(*status, "collisionCount") : nullptr;
  if (!c || !c->IsInt64()) return std::nullopt;
  return c->GetInt64();
}

std::string_view Label(const Value& object, std::string_view key) {
  const Value* labels = LabelsOf(object);
  return labels ? json::StringMember(*labels, key) : std::string_view();
}

std::string_view Phase(const Value& pod) {
  const Value* status = json::Member(pod, "status");
  return status ? json::StringMember(*status, "phase") : std::string_view();
}

std::string_view NodeNameOf(const Value& pod) {
  const Value* spec = json::Member(pod, "spec");
  return spec ? json::StringMember(*spec, "nodeName") : std::string_view();
}

bool IsTerminal(const Value& pod) { return Phase(pod) == "Succeeded" || Phase(pod) == "Failed"; }

// Scheduled first, then oldest first, then by name (podByCreationTimestampAndPhase).
void SortOldestFirst(std::vector<ObjectPtr>& pods) {
  auto created = [](const Value& pod) {
    const Value* md = json::Member(pod, "metadata");
    return md ? ParseTimeMillis(json::StringMember(*md, "creationTimestamp")).value_or(0) : 0;
  };
  std::stable_sort(pods.begin(), pods.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    bool sa = !NodeNameOf(*a).empty(), sb = !NodeNameOf(*b).empty();
    if (sa != sb) return sa;
    int64_t ca = created(*a), cb = created(*b);
    if (ca != cb) return ca < cb;
    return NameOf(*a) < NameOf(*b);
  });
}

// ---- taints and tolerations ----

struct Taint {
  std::string_view key, value, effect;
};

struct Toleration {
  std::string_view key, op, value, effect;

  // Kubernetes' Toleration.ToleratesTaint.
  bool Tolerates(const Taint& taint) const {
    if (!effect.empty() && effect != taint.effect) return false;
    if (!key.empty() && key != taint.key) return false;
    if (op.empty() || op == "Equal") return value == taint.value;
    return op == "Exists";
  }
};

std::vector<Taint> TaintsOf(const Value& node) {
  std::vector<Taint> out;
  const Value* taints = SpecMember(node, "taints");
  if (!taints || !taints->IsArray()) return out;
  for (const Value& t : taints->GetArray()) {
    if (t.IsObject())
      out.push_back({json::StringMember(t, "key"), json::StringMember(t, "value"), json::StringMember(t, "effect")});
  }
  return out;
}

std::vector<Toleration> TolerationsOf(const Value* pod_spec) {
  std::vector<Toleration> out;
  const Value* tolerations = pod_spec ? json::Member(*pod_spec, "tolerations") : nullptr;
  if (!tolerations || !tolerations->IsArray()) return out;
  for (const Value& t : tolerations->GetArray()) {
    if (!t.IsObject()) continue;
    out.push_back({json::StringMember(t, "key"), json::StringMember(t, "operator"), json::StringMember(t, "value"),
                   json::StringMember(t, "effect")});
  }
  return out;
}

// v1helper.AddOrUpdateTolerationInPodSpec for {key, Exists, effect}: one with the same key,
// operator, value and effect is replaced (dropping its tolerationSeconds), else it is added.
void AddOrUpdateToleration(Value& spec, std::string_view key, std::string_view effect,
                           rapidjson::Document::AllocatorType& a) {
  Value t(rapidjson::kObjectType);
  json::SetStringMember(t, "key", key, a);
  json::SetStringMember(t, "operator", "Exists", a);
  json::SetStringMember(t, "effect", effect, a);
  Value* list = json::MutableMember(spec, "tolerations");
  if (!list || !list->IsArray()) {
    json::SetMember(spec, "tolerations", Value(rapidjson::kArrayType), a);
    list = json::MutableMember(spec, "tolerations");
  }
  for (Value& existing : list->GetArray()) {
    if (json::StringMember(existing, "key") == key && json::StringMember(existing, "operator") == "Exists" &&
        json::StringMember(existing, "value").empty() && json::StringMember(existing, "effect") == effect) {
      existing = std::move(t);
      return;
    }
  }
  list->PushBack(std::move(t), a);
}

void AddDaemonTolerations(Value& spec, rapidjson::Document::AllocatorType& a) {
  AddOrUpdateToleration(spec, "node.kubernetes.io/not-ready", "NoExecute", a);
  AddOrUpdateToleration(spec, "node.kubernetes.io/unreachable", "NoExecute", a);
  AddOrUpdateToleration(spec, "node.kubernetes.io/disk-pressure", "NoSchedule", a);
  AddOrUpdateToleration(spec, "node.kubernetes.io/memory-pressure", "NoSchedule", a);
  AddOrUpdateToleration(spec, "node.kubernetes.io/pid-pressure", "NoSchedule", a);
  AddOrUpdateToleration(spec, "node.kubernetes.io/unschedulable", "NoSchedule", a);
  const Value* host_network = json::Member(spec, "hostNetwork");
  if (host_network && host_network->IsBool() && host_network->GetBool()) {
    AddOrUpdateToleration(spec, "node.kubernetes.io/network-unavailable", "NoSchedule", a);
  }
}

// ---- node affinity ----

// A NodeSelectorRequirement against one value (nullopt: the label is absent).
bool RequirementMatches(const Value& req, std::optional<std::string_view> value) {
  std::string_view op = json::StringMember(req, "operator");
  const Value* values = json::Member(req, "values");
  auto contains = [&](std::string_view v) {
    if (!values || !values->IsArray()) return false;
    for (const Value& x : values->GetArray()) {
      if (Sv(x) == v) return true;
    }
    return false;
  };
  if (op == "In") return value && contains(*value);
  if (op == "NotIn") return !value || !contains(*value);
  if (op == "Exists") return value.has_value();
  if (op == "DoesNotExist") return !value.has_value();
  if (op == "Gt" || op == "Lt") {
    if (!value || !values || !values->IsArray() || values->Size() != 1) return false;
    auto parse = [](std::string_view s) -> std::optional<int64_t> {
      if (s.empty() || s.size() > 18) return std::nullopt;
      std::string text(s);
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (*end != '\0') return std::nullopt;
      return v;
    };
    std::optional<int64_t> have = parse(*value), want = parse(Sv((*values)[0]));
    if (!have || !want) return false;
    return op == "Gt" ? *have > *want : *have < *want;
  }
  return false;
}

// A NodeSelectorTerm: all its requirements hold; an empty term matches nothing.
bool TermMatches(const Value& term, const Value& node) {
  const Value* expressions = json::Member(term, "matchExpressions");
  const Value* fields = json::Member(term, "matchFields");
  bool has_expressions = expressions && expressions->IsArray() && !expressions->Empty();
  bool has_fields = fields && fields->IsArray() && !fields->Empty();
  if (!has_expressions && !has_fields) return false;
  const Value* labels = LabelsOf(node);
  if (has_expressions) {
    for (const Value& r : expressions->GetArray()) {
      const Value* v = labels ? json::Member(*labels, json::StringMember(r, "key")) : nullptr;
      std::optional<std::string_view> value;
      if (v && v->IsString()) value = Sv(*v);
      if (!RequirementMatches(r, value)) return false;
    }
  }
  if (has_fields) {
    for (const Value& r : fields->GetArray()) {
      if (json::StringMember(r, "key") != "metadata.name") return false;
      if (!RequirementMatches(r, NameOf(node))) return false;
    }
  }
  return true;
}

// spec.nodeSelector and the required node affinity of a pod spec against a node.
bool RequiredAffinityMatches(const Value* spec, const Value& node) {
  if (!spec) return true;
  const Value* labels = LabelsOf(node);
  if (const Value* selector = json::Member(*spec, "nodeSelector"); selector && selector->IsObject()) {
    for (const auto& m : selector->GetObject()) {
      const Value* v = labels ? json::Member(*labels, Sv(m.name)) : nullptr;
      if (!v || !v->IsString() || !m.value.IsString() || Sv(*v) != Sv(m.value)) return false;
    }
  }
  const Value* affinity = json::Member(*spec, "affinity");
  const Value* node_affinity = affinity ? json::Member(*affinity, "nodeAffinity") : nullptr;
  const Value* required =
      node_affinity ? json::Member(*node_affinity, "requiredDuringSchedulingIgnoredDuringExecution") : nullptr;
  const Value* terms = required ? json::Member(*required, "nodeSelectorTerms") : nullptr;
  if (!terms || !terms->IsArray()) return true;
  for (const Value& term : terms->GetArray()) {
    if (TermMatches(term, node)) return true;
  }
  return false;
}

// The daemon pod of a DaemonSet, judged against nodes (the template parsed once).
class DaemonNodeFilter {
 public:
  DaemonNodeFilter(const DaemonNodeFilter&) = delete;
  DaemonNodeFilter& operator=(const DaemonNodeFilter&) = delete;
  explicit DaemonNodeFilter(const Value& ds) : template_(DaemonPodTemplate(ds, "")) {
    spec_ = json::Member(template_, "spec");
    tolerations_ = TolerationsOf(spec_);
    if (spec_) node_name_ = json::StringMember(*spec_, "nodeName");
  }

  DaemonNodeVerdict Evaluate(const Value& node) const {
    if (!node_name_.empty() && node_name_ != NameOf(node)) return {};
    if (!RequiredAffinityMatches(spec_, node)) return {};
    bool untolerated = false, untolerated_execute = false;
    for (const Taint& taint : TaintsOf(node)) {
      if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
      bool tolerated = std::any_of(tolerations_.begin(), tolerations_.end(),
                                   [&](const Toleration& t) { return t.Tolerates(taint); });
      if (tolerated) continue;
      untolerated = true;
      if (taint.effect == "NoExecute") untolerated_execute = true;
    }
    // A pod already there stays unless a NoExecute taint would evict it anyway.
    if (untolerated) return {false, !untolerated_execute};
    return {true, true};
  }

 private:
  rapidjson::Document template_;
  const Value* spec_ = nullptr;
  std::vector<Toleration> tolerations_;
  std::string_view node_name_;
};

// Sets the pod spec's required node affinity to exactly `node` by name
// (ReplaceDaemonSetPodNodeNameNodeAffinity); the rest of the affinity is kept.
void PinToNode(Value& spec, std::string_view node, rapidjson::Document::AllocatorType& a) {
  Value requirement(rapidjson::kObjectType);
  json::SetStringMember(requirement, "key", "metadata.name", a);
  json::SetStringMember(requirement, "operator", "In", a);
  Value values(rapidjson::kArrayType);
  values.PushBack(Value(node.data(), static_cast<rapidjson::SizeType>(node.size()), a), a);
  json::SetMember(requirement, "values", std::move(values), a);
  Value fields(rapidjson::kArrayType);
  fields.PushBack(std::move(requirement), a);
  Value term(rapidjson::kObjectType);
  json::SetMember(term, "matchFields", std::move(fields), a);
  Value terms(rapidjson::kArrayType);
  terms.PushBack(std::move(term), a);
  Value& affinity = json::EnsureObjectMember(spec, "affinity", a);
  Value& node_affinity = json::EnsureObjectMember(affinity, "nodeAffinity", a);
  Value& required = json::EnsureObjectMember(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution", a);
  json::SetMember(required, "nodeSelectorTerms", std::move(terms), a);
}

struct Deletion {
  ObjectPtr pod;
  bool force = false;  // grace period 0: its node is gone, no kubelet will finish the job
};

// ---- one Reconcile of one DaemonSet ----

struct SyncContext {
  const Clock* clock;
  const client::EventRecorder* recorder;
  WorkQueue* queue;
  PodExpectations* creations;
  PodExpectations* deletions;
  DaemonSetController::FailedPodBackoff* backoff;
  const client::ResourceClient* daemon_sets;
  const client::ResourceClient* pods;
  const client::ResourceClient* nodes;
  const client::ResourceClient* revisions;
};

class DaemonSetSync {
 public:
  // `expectations_met`: read before `pods` was listed, so every pod our last creates and
  // deletes touched is in the list as it is now.
  DaemonSetSync(const SyncContext& ctx, std::string key, bool expectations_met, ObjectPtr ds,
                std::vector<ObjectPtr> nodes, std::vector<ObjectPtr> pods, std::vector<ObjectPtr> revisions)
      : ctx_(ctx),
        key_(std::move(key)),
        expectations_met_(expectations_met),
        ds_ptr_(std::move(ds)),
        ds_(*ds_ptr_),
        filter_(ds_),
        nodes_(std::move(nodes)),
        pods_(std::move(pods)),
        revisions_(std::move(revisions)) {
    for (const ObjectPtr& node : nodes_) node_index_.emplace(NameOf(*node), node.get());
  }

  Status Run();

 private:
  using NodePods = std::map<std::string, std::vector<ObjectPtr>, std::less<>>;

  Status ConstructHistory();
  Status Snapshot(int64_t number);
  Status Dedup(const std::vector<ObjectPtr>& currents);
  Status CleanupHistory();

  NodePods NodeToDaemonPods(bool include_deleted_terminal) const;
  Status Manage();
  void PodsShouldBeOnNode(const Value& node, const NodePods& node_pods, std::vector<std::string>& needing,
                          std::vector<Deletion>& doomed);
  Status RollingUpdate();
  Status SyncNodes(const std::vector<Deletion>& doomed, const std::vector<std::string>& needing);
  bool IsUpdated(const Value& pod) const;
  // The updated and the outdated pod of a node; false when it has more than one of either.
  bool FindUpdatedPodsOnNode(const std::vector<ObjectPtr>& pods, ObjectPtr& updated, ObjectPtr& outdated) const;
  bool Available(const Value& pod) const { return IsPodAvailable(pod, MinReady(ds_), ctx_.clock->NowMillis()); }
  const Value* FindNode(std::string_view name) const;
  Status WriteStatus(bool update_observed_generation);

  std::string_view Namespace() const { return NamespaceOf(ds_); }

  const SyncContext& ctx_;
  const std::string key_;
  const bool expectations_met_;
  const ObjectPtr ds_ptr_;
  const Value& ds_;
  const DaemonNodeFilter filter_;
  const std::vector<ObjectPtr> nodes_;
  const std::vector<ObjectPtr> pods_;
  const std::vector<ObjectPtr> revisions_;
  std::map<std::string_view, const Value*> node_index_;  // nodes_ by name
  ObjectPtr current_;
  std::vector<ObjectPtr> old_;
  std::string hash_;
  bool sent_pod_writes_ = false;  // by SyncNodes: pods_ no longer shows what we asked for
};

Status DaemonSetSync::Run() {
  KITE_RETURN_IF_ERROR(ConstructHistory());
  // Our last creates or deletes are not all in the list yet: count, do not act. (Asking the
  // expectations now instead would let a pod observed since the list make them met while the
  // list lacks it: a second pod for its node.)
  if (!expectations_met_) return WriteStatus(false);
  Status error = Manage();
  // Only when Manage had nothing to do: the rolling update counts on a list that shows
  // every pod there is.
  if (error.ok() && !sent_pod_writes_ && IsRollingUpdate(ds_)) error = RollingUpdate();
  if (error.ok()) error = CleanupHistory();
  Status status_error = WriteStatus(true);
  return error.ok() ? status_error : error;
}

// ---- history ----

Status DaemonSetSync::ConstructHistory() {
  rapidjson::Document data = TemplateRevisionData(ds_);
  std::vector<ObjectPtr> currents;
  for (ObjectPtr revision : revisions_) {
    if (Label(*revision, kControllerRevisionHashLabel).empty()) {
      // The name stands in for the hash, so no hash collision can arise.
      rapidjson::Document copy;
      copy.CopyFrom(*revision, copy.GetAllocator());
      auto& a = copy.GetAllocator();
      Value& labels = json::EnsureObjectMember(json::EnsureObjectMember(copy, "metadata", a), "labels", a);
      json::SetStringMember(labels, kControllerRevisionHashLabel, NameOf(*revision), a);
      Result<rapidjson::Document> updated = ctx_.revisions->Update(copy);
      if (!updated.ok()) return updated.status();
      revision = Share(std::move(updated).value());
    }
    const Value* rd = json::Member(*revision, "data");
    Value null_value;
    if (SemanticEqual(rd ? *rd : null_value, data)) {
      currents.push_back(revision);
    } else {
      old_.push_back(revision);
    }
  }
  int64_t number = MaxRevisionNumber(old_) + 1;
  if (currents.empty()) {
    KITE_RETURN_IF_ERROR(Snapshot(number));
  } else {
    KITE_RETURN_IF_ERROR(Dedup(currents));
    if (RevisionNumber(*current_) < number) {
      Result<ObjectPtr> renumbered = SetRevisionNumber(*ctx_.revisions, current_, number);
      if (!renumbered.ok()) return renumbered.status();
      current_ = *renumbered;
    }
  }
  hash_ = std::string(Label(*current_, kControllerRevisionHashLabel));
  return Status();
}

Status DaemonSetSync::Snapshot(int64_t number) {
  const Value* tmpl = SpecMember(ds_, "template");
  Value empty(rapidjson::kObjectType);
  std::string hash = ComputeTemplateHash(tmpl ? *tmpl : empty, CollisionCount(ds_));
  std::string name = ControllerRevisionName(NameOf(ds_), hash);
  rapidjson::Document cr(rapidjson::kObjectType);
  auto& a = cr.GetAllocator();
  json::SetStringMember(cr, "apiVersion", "apps/v1", a);
  json::SetStringMember(cr, "kind", "ControllerRevision", a);
  Value md(rapidjson::kObjectType);
  json::SetStringMember(md, "name", name, a);
  json::SetStringMember(md, "namespace", Namespace(), a);
  Value labels(rapidjson::kObjectType);
  const Value* tmd = tmpl ? json::Member(*tmpl, "metadata") : nullptr;
  if (const Value* l = tmd ? json::Member(*tmd, "labels") : nullptr; l && l->IsObject()) labels.CopyFrom(*l, a);
  json::SetStringMember(labels, kControllerRevisionHashLabel, hash, a);
  json::SetMember(md, "labels", std::move(labels), a);
  const Value* ds_md = json::Member(ds_, "metadata");
  if (const Value* ann = ds_md ? json::Member(*ds_md, "annotations") : nullptr; ann && ann->IsObject()) {
    json::SetMember(md, "annotations", Value(*ann, a), a);
  }
  Value refs(rapidjson::kArrayType);
  refs.PushBack(NewControllerRef(ds_, kApiVersion, kKind, a), a);
  json::SetMember(md, "ownerReferences", std::move(refs), a);
  json::SetMember(cr, "metadata", std::move(md), a);
  rapidjson::Document data = TemplateRevisionData(ds_);
  json::SetMember(cr, "data", Value(data, a), a);
  json::SetMember(cr, "revision", Value(number), a);

  Result<rapidjson::Document> created = ctx_.revisions->Create(Namespace(), cr);
  if (created.ok()) {
    current_ = Share(std::move(created).value());
    return Status();
  }
  if (created.status().code() != StatusCode::kAlreadyExists) return created.status();
  Result<rapidjson::Document> existing = ctx_.revisions->Get(Namespace(), name);
  if (!existing.ok()) return existing.status();
  if (EqualRevision(*existing, cr)) {
    current_ = Share(std::move(existing).value());
    return Status();
  }
  // Another template has this name: bump collisionCount (on a fresh read, so it moves only
  // once per collision) and try again on the next sync.
  Result<rapidjson::Document> fresh = ctx_.daemon_sets->Get(Namespace(), NameOf(ds_));
  if (!fresh.ok()) return fresh.status();
  if (CollisionCount(*fresh) != CollisionCount(ds_)) {
    return Status(StatusCode::kConflict, "found a stale collision count of DaemonSet " + std::string(NameOf(ds_)) +
                                             " while processing; will retry until it is updated");
  }
  auto& fa = fresh->GetAllocator();
  json::SetMember(json::EnsureObjectMember(*fresh, "status", fa), "collisionCount",
                  Value(CollisionCount(ds_).value_or(0) + 1), fa);
  Result<rapidjson::Document> bumped = ctx_.daemon_sets->UpdateStatus(*fresh);
  if (!bumped.ok()) return bumped.status();
  return created.status();
}

Status DaemonSetSync::Dedup(const std::vector<ObjectPtr>& currents) {
  current_ = currents.front();
  for (const ObjectPtr& r : currents) {
    if (RevisionNumber(*r) >= RevisionNumber(*current_)) current_ = r;
  }
  std::string_view keep_hash = Label(*current_, kControllerRevisionHashLabel);
  for (const ObjectPtr& r : currents) {
    if (r == current_) continue;
    // Pods of the duplicate are pods of the kept one: relabel them first.
    std::string_view dup_hash = Label(*r, kControllerRevisionHashLabel);
    for (const ObjectPtr& pod : pods_) {
      if (Label(*pod, kControllerRevisionHashLabel) != dup_hash) continue;
      std::string patch = R"({"metadata":{"labels":{")" + std::string(kControllerRevisionHashLabel) + R"(":")" +
                          std::string(keep_hash) + R"("}}})";
      Result<rapidjson::Document> patched =
          ctx_.pods->Patch(Namespace(), NameOf(*pod), client::PatchType::kMerge, patch);
      if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return patched.status();
    }
    Status s = ctx_.revisions->Delete(Namespace(), NameOf(*r));
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status();
}

Status DaemonSetSync::CleanupHistory() {
  int64_t to_kill =
      static_cast<int64_t>(old_.size()) - std::max<int64_t>(0, IntOr(SpecMember(ds_, "revisionHistoryLimit"), 10));
  if (to_kill <= 0) return Status();
  std::set<std::string, std::less<>> live;
  for (const auto& [node, pods] : NodeToDaemonPods(true)) {
    for (const ObjectPtr& pod : pods) {
      if (std::string_view h = Label(*pod, kControllerRevisionHashLabel); !h.empty()) live.emplace(h);
    }
  }
  std::vector<ObjectPtr> old = old_;
  SortRevisions(old);
  for (const ObjectPtr& r : old) {
    if (to_kill <= 0) break;
    if (live.count(Label(*r, kControllerRevisionHashLabel))) continue;
    Status s = ctx_.revisions->Delete(Namespace(), NameOf(*r));
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    --to_kill;
  }
  return Status();
}

// ---- pods ----

DaemonSetSync::NodePods DaemonSetSync::NodeToDaemonPods(bool include_deleted_terminal) const {
  NodePods out;
  for (const ObjectPtr& pod : pods_) {
    // Finished and being deleted: nothing left for us to do with it.
    if (!include_deleted_terminal && IsTerminal(*pod) && IsBeingDeleted(*pod)) continue;
    std::optional<std::string> node = DaemonPodTargetNode(*pod);
    if (!node) continue;
    out[*node].push_back(pod);
  }
  return out;
}

bool DaemonSetSync::IsUpdated(const Value& pod) const {
  std::optional<int64_t> generation = TemplateGeneration(ds_);
  bool generation_matches = generation && Label(pod, kTemplateGenerationLabel) == std::to_string(*generation);
  bool hash_matches = !hash_.empty() && Label(pod, kControllerRevisionHashLabel) == hash_;
  return hash_matches || generation_matches;
}

const Value* DaemonSetSync::FindNode(std::string_view name) const {
  auto it = node_index_.find(name);
  return it == node_index_.end() ? nullptr : it->second;
}

void DaemonSetSync::PodsShouldBeOnNode(const Value& node, const NodePods& node_pods, std::vector<std::string>& needing,
                                       std::vector<Deletion>& doomed) {
  DaemonNodeVerdict verdict = filter_.Evaluate(node);
  std::string_view name = NameOf(node);
  auto it = node_pods.find(name);
  bool exists = it != node_pods.end();
  if (verdict.should_run && !exists) {
    needing.emplace_back(name);
    return;
  }
  if (verdict.should_continue_running) {
    if (!exists) return;
    std::vector<ObjectPtr> running;
    for (const ObjectPtr& pod : it->second) {
      if (IsBeingDeleted(*pod)) continue;
      if (Phase(*pod) == "Failed") {
        // A kubelet that keeps rejecting the pod would make us hot-loop: back off per node.
        std::string backoff_key = key_ + "/" + std::string(name);
        if (std::optional<std::chrono::milliseconds> wait = ctx_.backoff->Remaining(backoff_key)) {
          ctx_.queue->AddAfter(key_, *wait);
          continue;
        }
        ctx_.backoff->Next(backoff_key);
        ctx_.recorder->Event(ds_, client::EventType::kWarning, "FailedDaemonPod",
                             "Found failed daemon pod " + client::ObjectKey(*pod) + " on node " + std::string(name) +
                                 ", will try to kill it");
        doomed.push_back({pod, false});
      } else if (Phase(*pod) == "Succeeded") {
        doomed.push_back({pod, false});
      } else {
        running.push_back(pod);
      }
    }
    SortOldestFirst(running);
    if (!AllowsSurge(ds_)) {
      // More than one: keep the oldest.
      for (size_t i = 1; i < running.size(); ++i) doomed.push_back({running[i], false});
      return;
    }
    if (running.size() <= 1) {
      if (running.empty() && verdict.should_run) needing.emplace_back(name);
      return;
    }
    // Surging: an old and a new pod may coexist until the new one is available.
    ObjectPtr oldest_new, oldest_old;
    for (const ObjectPtr& pod : running) {
      ObjectPtr& slot = Label(*pod, kControllerRevisionHashLabel) == hash_ ? oldest_new : oldest_old;
      if (!slot) {
        slot = pod;
      } else {
        doomed.push_back({pod, false});
      }
    }
    if (oldest_new && oldest_old && (!IsPodReady(*oldest_old) || Available(*oldest_new))) {
      doomed.push_back({oldest_old, false});
    }
    return;
  }
  if (exists) {
    for (const ObjectPtr& pod : it->second) {
      if (!IsBeingDeleted(*pod)) doomed.push_back({pod, false});
    }
  }
}

Status DaemonSetSync::Manage() {
  NodePods node_pods = NodeToDaemonPods(false);
  std::vector<std::string> needing;
  std::vector<Deletion> doomed;
  for (const ObjectPtr& node : nodes_) PodsShouldBeOnNode(*node, node_pods, needing, doomed);
  // Pods for nodes that are gone go without grace (no kubelet is left to finish a graceful
  // deletion; our cache may not show a pod's binding yet). Unscheduled ones go at once, as
  // in Kubernetes; scheduled ones, terminating or not, once a live read confirms the node is
  // gone (the cache may be behind), as Kubernetes' pod GC does.
  for (const auto& [node, pods] : node_pods) {
    if (FindNode(node)) continue;
    std::optional<bool> gone;
    for (const ObjectPtr& pod : pods) {
      bool scheduled = !NodeNameOf(*pod).empty();
      if (!scheduled) {
        if (!IsBeingDeleted(*pod)) doomed.push_back({pod, true});
        continue;
      }
      if (!gone) {
        Result<rapidjson::Document> live = ctx_.nodes->Get("", node);
        gone = !live.ok() && live.status().code() == StatusCode::kNotFound;
      }
      if (*gone) doomed.push_back({pod, true});
    }
  }
  return SyncNodes(doomed, needing);
}

Status DaemonSetSync::SyncNodes(const std::vector<Deletion>& doomed, const std::vector<std::string>& needing) {
  int create_count = static_cast<int>(std::min<size_t>(needing.size(), DaemonSetController::kBurstReplicas));
  size_t delete_count = std::min<size_t>(doomed.size(), DaemonSetController::kBurstReplicas);
  std::vector<std::string> delete_keys;
  for (size_t i = 0; i < delete_count; ++i) delete_keys.push_back(client::ObjectKey(*doomed[i].pod));
  ctx_.creations->ExpectCreations(key_, create_count);
  ctx_.deletions->ExpectDeletions(key_, delete_keys);
  if (create_count > 0 || delete_count > 0) sent_pod_writes_ = true;

  Status first_error;
  if (create_count > 0) {
    rapidjson::Document pod_template = DaemonPodTemplate(ds_, hash_);
    rapidjson::Document ref_doc;
    Value ref = NewControllerRef(ds_, kApiVersion, kKind, ref_doc.GetAllocator());
    std::atomic<int> next{0};
    std::atomic<int> created{0};
    BatchResult result = SlowStartBatch(create_count, 1, [&]() -> Status {
      int i = next++;
      rapidjson::Document t;
      t.CopyFrom(pod_template, t.GetAllocator());
      PinToNode(json::EnsureObjectMember(t, "spec", t.GetAllocator()), needing[i], t.GetAllocator());
      rapidjson::Document pod = PodFromTemplate(t, NameOf(ds_), ref);
      Result<rapidjson::Document> made = ctx_.pods->Create(Namespace(), pod);
      if (made.ok()) {
        ++created;
        ctx_.recorder->Event(ds_, client::EventType::kNormal, "SuccessfulCreate",
                             "Created pod: " + std::string(NameOf(*made)));
        return Status();
      }
      // Every create fails in a terminating namespace; nothing to report.
      if (made.status().message().find("because it is being terminated") != std::string::npos) return Status();
      ctx_.recorder->Event(ds_, client::EventType::kWarning, "FailedCreate", "Error creating: " + made.status().message());
      return made.status();
    });
    // Creates refused or never sent will never show up in the cache.
    for (int i = created.load(); i < create_count; ++i) ctx_.creations->CreationObserved(key_);
    first_error = result.error;
  }
  for (size_t i = 0; i < delete_count; ++i) {
    const Value& pod = *doomed[i].pod;
    std::string options = R"({"preconditions":{"uid":")" + std::string(UidOf(pod)) + R"("})";
    options += doomed[i].force ? R"(,"gracePeriodSeconds":0})" : "}";
    Status s = ctx_.pods->Delete(Namespace(), NameOf(pod), options);
    if (s.ok()) {
      ctx_.recorder->Event(ds_, client::EventType::kNormal, "SuccessfulDelete", "Deleted pod: " + std::string(NameOf(pod)));
    } else {
      ctx_.deletions->DeletionObserved(key_, client::ObjectKey(pod));
      if (s.code() != StatusCode::kNotFound) {
        ctx_.recorder->Event(ds_, client::EventType::kWarning, "FailedDelete", "Error deleting: " + s.message());
        if (first_error.ok()) first_error = s;
      }
    }
  }
  return first_error;
}

bool DaemonSetSync::FindUpdatedPodsOnNode(const std::vector<ObjectPtr>& pods, ObjectPtr& updated,
                                          ObjectPtr& outdated) const {
  updated = nullptr;
  outdated = nullptr;
  for (const ObjectPtr& pod : pods) {
    if (IsBeingDeleted(*pod)) continue;
    ObjectPtr& slot = IsUpdated(*pod) ? updated : outdated;
    if (slot) return false;
    slot = pod;
  }
  return true;
}

Status DaemonSetSync::RollingUpdate() {
  NodePods node_pods = NodeToDaemonPods(false);
  int32_t desired = 0;
  for (const ObjectPtr& node : nodes_) {
    if (!filter_.Evaluate(*node).should_run) continue;
    ++desired;
    node_pods.try_emplace(std::string(NameOf(*node)));
  }
  Result<int32_t> max_unavailable_r = RollingCount(ds_, "maxUnavailable", desired);
  if (!max_unavailable_r.ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "invalid value for MaxUnavailable: " + max_unavailable_r.status().message());
  }
  Result<int32_t> max_surge_r = RollingCount(ds_, "maxSurge", desired);
  if (!max_surge_r.ok()) {
    return Status(StatusCode::kInvalidArgument, "invalid value for MaxSurge: " + max_surge_r.status().message());
  }
  int32_t max_unavailable = *max_unavailable_r, max_surge = *max_surge_r;
  // An impossible configuration (both 0) moves one node at a time.
  if (desired > 0 && max_unavailable == 0 && max_surge == 0) max_unavailable = 1;

  if (max_surge == 0) {
    // Delete just enough outdated pods to stay within maxUnavailable; Manage re-creates them.
    int32_t unavailable = 0;
    std::vector<Deletion> allowed, candidates;
    for (const auto& [node, pods] : node_pods) {
      ObjectPtr updated, outdated;
      if (!FindUpdatedPodsOnNode(pods, updated, outdated)) {
        ++unavailable;  // Manage cleans up the excess first
        continue;
      }
      if ((!updated && !outdated) || (updated && outdated)) {
        ++unavailable;
      } else if (updated) {
        if (!Available(*updated)) ++unavailable;
      } else if (!Available(*outdated)) {
        allowed.push_back({outdated, false});  // unavailable anyway: replace it
        ++unavailable;
      } else if (unavailable < max_unavailable) {
        candidates.push_back({outdated, false});
      }
    }
    int32_t remaining = std::clamp<int32_t>(max_unavailable - unavailable, 0, static_cast<int32_t>(candidates.size()));
    allowed.insert(allowed.end(), candidates.begin(), candidates.begin() + remaining);
    return SyncNodes(allowed, {});
  }

  // Surging: start a new pod beside an old one on up to maxSurge nodes; delete the old one
  // once the new one is available.
  std::vector<Deletion> doomed, should_not_run;
  std::vector<std::string> candidate_nodes, allowed_nodes;
  int32_t surging = 0, available = 0;
  for (const auto& [node, pods] : node_pods) {
    ObjectPtr updated, outdated;
    if (!FindUpdatedPodsOnNode(pods, updated, outdated)) {
      ++surging;
      continue;
    }
    if (outdated) {
      if (Available(*outdated)) ++available;
    } else if (updated && Available(*updated)) {
      ++available;
    }
    if (!outdated) continue;  // Manage handles the node
    if (!updated) {
      const Value* n = FindNode(node);
      bool should_run = n && filter_.Evaluate(*n).should_run;
      if (!Available(*outdated)) {
        if (!should_run) {
          doomed.push_back({outdated, false});
        } else {
          allowed_nodes.push_back(node);
        }
        continue;
      }
      if (!should_run) {
        should_not_run.push_back({outdated, false});
        continue;
      }
      if (surging >= max_surge) continue;
      candidate_nodes.push_back(node);
      continue;
    }
    if (!Available(*updated)) {
      ++surging;
      continue;
    }
    doomed.push_back({outdated, false});
  }
  // Old pods on nodes that should no longer run it go only while more are available than
  // desired.
  if (int32_t deletable = available - desired; deletable > 0) {
    deletable = std::min<int32_t>(deletable, static_cast<int32_t>(should_not_run.size()));
    doomed.insert(doomed.end(), should_not_run.begin(), should_not_run.begin() + deletable);
  }
  int32_t remaining = std::clamp<int32_t>(max_surge - surging, 0, static_cast<int32_t>(candidate_nodes.size()));
  allowed_nodes.insert(allowed_nodes.end(), candidate_nodes.begin(), candidate_nodes.begin() + remaining);
  return SyncNodes(doomed, allowed_nodes);
}

// ---- status ----

Status DaemonSetSync::WriteStatus(bool update_observed_generation) {
  NodePods node_pods = NodeToDaemonPods(false);
  int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  int64_t now = ctx_.clock->NowMillis();
  std::optional<int64_t> soonest;
  for (const ObjectPtr& node : nodes_) {
    DaemonNodeVerdict verdict = filter_.Evaluate(*node);
    auto it = node_pods.find(NameOf(*node));
    bool scheduled = it != node_pods.end() && !it->second.empty();
    if (!verdict.should_run) {
      if (scheduled) ++misscheduled;
      continue;
    }
    ++desired;
    if (!scheduled) continue;
    ++current;
    std::vector<ObjectPtr> pods = it->second;
    SortOldestFirst(pods);
    const Value& pod = *pods.front();
    if (IsPodReady(pod)) {
      ++ready;
      if (IsPodAvailable(pod, MinReady(ds_), now)) ++available;
      if (std::optional<int64_t> ms = MillisUntilAvailable(pod, MinReady(ds_), now)) {
        soonest = soonest ? std::min(*soonest, *ms) : *ms;
      }
    }
    if (IsUpdated(pod)) ++updated;
  }
  // Pods ready but not yet available: look again when the first of them is.
  if (soonest) ctx_.queue->AddAfter(key_, std::chrono::milliseconds(*soonest));
  int64_t unavailable = desired - available;

  const Value* old = json::Member(ds_, "status");
  auto old_int = [&](std::string_view f) { return IntOr(old ? json::Member(*old, f) : nullptr, 0); };
  int64_t generation = GenerationOf(ds_);
  if (old_int("desiredNumberScheduled") == desired && old_int("currentNumberScheduled") == current &&
      old_int("numberMisscheduled") == misscheduled && old_int("numberReady") == ready &&
      old_int("updatedNumberScheduled") == updated && old_int("numberAvailable") == available &&
      old_int("numberUnavailable") == unavailable && old_int("observedGeneration") >= generation) {
    return Status();
  }
  auto fill = [&](rapidjson::Document& target) {
    auto& a = target.GetAllocator();
    Value& status = json::EnsureObjectMember(target, "status", a);
    if (update_observed_generation) json::SetMember(status, "observedGeneration", Value(generation), a);
    json::SetMember(status, "desiredNumberScheduled", Value(desired), a);
    json::SetMember(status, "currentNumberScheduled", Value(current), a);
    json::SetMember(status, "numberMisscheduled", Value(misscheduled), a);
    json::SetMember(status, "numberReady", Value(ready), a);
    json::SetMember(status, "updatedNumberScheduled", Value(updated), a);
    json::SetMember(status, "numberAvailable", Value(available), a);
    json::SetMember(status, "numberUnavailable", Value(unavailable), a);
    // Go's omitempty.
    for (const char* f : {"observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable"}) {
      const Value* v = json::Member(status, f);
      if (v && v->IsInt64() && v->GetInt64() == 0) json::RemoveMember(status, f);
    }
  };
  rapidjson::Document copy;
  copy.CopyFrom(ds_, copy.GetAllocator());
  fill(copy);
  Result<rapidjson::Document> written = ctx_.daemon_sets->UpdateStatus(copy);
  if (written.ok() || written.status().code() == StatusCode::kNotFound) return Status();
  if (written.status().code() != StatusCode::kConflict) return written.status();
  // One retry on a fresh copy (the cached one was stale).
  Result<rapidjson::Document> fresh = ctx_.daemon_sets->Get(Namespace(), NameOf(ds_));
  if (!fresh.ok()) return fresh.status().code() == StatusCode::kNotFound ? Status() : fresh.status();
  if (UidOf(*fresh) != UidOf(ds_)) return Status();
  fill(*fresh);
  written = ctx_.daemon_sets->UpdateStatus(*fresh);
  return written.ok() ? Status() : written.status();
}

}  // namespace

// ---- public helpers ----

DaemonNodeVerdict NodeShouldRunDaemonPod(const Value& node, const Value& daemon_set) {
  return DaemonNodeFilter(daemon_set).Evaluate(node);
}

rapidjson::Document DaemonPodTemplate(const Value& daemon_set, std::string_view hash) {
  rapidjson::Document t(rapidjson::kObjectType);
  auto& a = t.GetAllocator();
  if (const Value* tmpl = SpecMember(daemon_set, "template"); tmpl && tmpl->IsObject()) t.CopyFrom(*tmpl, a);
  Value& spec = json::EnsureObjectMember(t, "spec", a);
  if (spec.IsObject()) AddDaemonTolerations(spec, a);
  std::optional<int64_t> generation = TemplateGeneration(daemon_set);
  if (generation || !hash.empty()) {
    Value& md = json::EnsureObjectMember(t, "metadata", a);
    if (!md.IsObject()) return t;
    Value& labels = json::EnsureObjectMember(md, "labels", a);
    if (!labels.IsObject()) return t;
    if (generation) json::SetStringMember(labels, kTemplateGenerationLabel, std::to_string(*generation), a);
    if (!hash.empty()) json::SetStringMember(labels, kControllerRevisionHashLabel, hash, a);
  }
  return t;
}

std::optional<std::string> DaemonPodTargetNode(const Value& pod) {
  if (std::string_view node = NodeNameOf(pod); !node.empty()) return std::string(node);
  const Value* spec = json::Member(pod, "spec");
  const Value* affinity = spec ? json::Member(*spec, "affinity") : nullptr;
  const Value* node_affinity = affinity ? json::Member(*affinity, "nodeAffinity") : nullptr;
  const Value* required =
      node_affinity ? json::Member(*node_affinity, "requiredDuringSchedulingIgnoredDuringExecution") : nullptr;
  const Value* terms = required ? json::Member(*required, "nodeSelectorTerms") : nullptr;
  if (!terms || !terms->IsArray()) return std::nullopt;
  for (const Value& term : terms->GetArray()) {
    const Value* fields = json::Member(term, "matchFields");
    if (!fields || !fields->IsArray()) continue;
    for (const Value& r : fields->GetArray()) {
      if (json::StringMember(r, "key") != "metadata.name" || json::StringMember(r, "operator") != "In") continue;
      const Value* values = json::Member(r, "values");
      if (!values || !values->IsArray() || values->Size() != 1 || !(*values)[0].IsString()) return std::nullopt;
      return std::string(Sv((*values)[0]));
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> DaemonSetController::FailedPodBackoff::Remaining(
    const std::string& key) const {
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  int64_t waited = clock_->NowMillis() - it->second.last_ms;
  if (waited >= it->second.delay_ms) return std::nullopt;
  return std::chrono::milliseconds(it->second.delay_ms - waited);
}

void DaemonSetController::FailedPodBackoff::Next(const std::string& key) {
  MutexLock lock(mu_);
  int64_t now = clock_->NowMillis();
  auto [it, fresh] = entries_.try_emplace(key);
  Entry& e = it->second;
  // Long quiet: start over.
  if (fresh || now - e.last_ms > 2 * kBackoffMaxMs) {
    e.delay_ms = kBackoffInitialMs;
  } else {
    e.delay_ms = std::min(2 * e.delay_ms, kBackoffMaxMs);
  }
  e.last_ms = now;
}

DaemonSetController::DaemonSetController(const Clock* clock, client::EventRecorder recorder)
    : clock_(clock), recorder_(std::move(recorder)), creations_(clock), deletions_(clock), failed_backoff_(clock) {}

void DaemonSetController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  queue_ = &queue;
  daemon_sets_ = &informers.For(client::kDaemonSets);
  pods_ = &informers.For(client::kPods);
  nodes_ = &informers.For(client::kNodes);
  revisions_ = &informers.For(client::kControllerRevisions);
  ds_client_.emplace(informers.ClientFor(client::kDaemonSets));
  pod_client_.emplace(informers.ClientFor(client::kPods));
  node_client_.emplace(informers.ClientFor(client::kNodes));
  revision_client_.emplace(informers.ClientFor(client::kControllerRevisions));
  daemon_sets_->AddHandlers({
      .on_add = [this](const ObjectPtr& ds) { queue_->Add(client::ObjectKey(*ds)); },
      .on_update = [this](const ObjectPtr&, const ObjectPtr& ds) { queue_->Add(client::ObjectKey(*ds)); },
      .on_delete =
          [this](const ObjectPtr& ds) {
            std::string key = client::ObjectKey(*ds);
            creations_.Delete(key);
            deletions_.Delete(key);
            queue_->Add(key);
          },
  });
  pods_->AddHandlers({
      .on_add = [this](const ObjectPtr& pod) { OnPodAdd(pod); },
      .on_update = [this](const ObjectPtr& old_pod, const ObjectPtr& pod) { OnPodUpdate(old_pod, pod); },
      .on_delete = [this](const ObjectPtr& pod) { OnPodDelete(pod); },
  });
  nodes_->AddHandlers({
      .on_add = [this](const ObjectPtr& node) { OnNodeAdd(node); },
      .on_update = [this](const ObjectPtr& old_node, const ObjectPtr& node) { OnNodeUpdate(old_node, node); },
      .on_delete = [this](const ObjectPtr&) { EnqueueAll(); },
  });
}

ObjectPtr DaemonSetController::ResolveRef(std::string_view ns, const OwnerReference& ref) const {
  if (ref.kind != kKind || ref.api_version.substr(0, ref.api_version.find('/')) != "apps") return nullptr;
  ObjectPtr ds = daemon_sets_->Get(ns, ref.name);
  if (!ds || UidOf(*ds) != ref.uid) return nullptr;
  return ds;
}

void DaemonSetController::EnqueueOrphanOwners(const Value& pod) {
  for (const ObjectPtr& ds : daemon_sets_->List(NamespaceOf(pod))) {
    Result<selection::LabelSelector> selector = SpecSelector(*ds);
    if (!selector.ok() || selector->Empty() || !selector->MatchesObject(pod)) continue;
    queue_->Add(client::ObjectKey(*ds));
  }
}

void DaemonSetController::OnPodAdd(const ObjectPtr& pod) {
  if (IsBeingDeleted(*pod)) {
    // Seen for the first time already terminating (e.g. after a restart): not a creation.
    OnPodDelete(pod);
    return;
  }
  if (std::optional<OwnerReference> ref = ControllerOf(*pod)) {
    if (ObjectPtr ds = ResolveRef(NamespaceOf(*pod), *ref)) {
      std::string key = client::ObjectKey(*ds);
      creations_.CreationObserved(key);
      queue_->Add(key);
    }
    return;
  }
  EnqueueOrphanOwners(*pod);
}

void DaemonSetController::OnPodUpdate(const ObjectPtr& old_pod, const ObjectPtr& pod) {
  const Value* old_labels = LabelsOf(*old_pod);
  const Value* labels = LabelsOf(*pod);
  bool labels_changed =
      (old_labels == nullptr) != (labels == nullptr) || (old_labels && labels && *old_labels != *labels);
  if (IsBeingDeleted(*pod)) {
    // Graceful deletion shows as an update first; count it as the deletion now.
    OnPodDelete(pod);
    if (labels_changed) OnPodDelete(old_pod);
    return;
  }
  std::optional<OwnerReference> old_ref = ControllerOf(*old_pod);
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  bool ref_changed = old_ref.has_value() != ref.has_value() || (old_ref && ref && old_ref->uid != ref->uid);
  std::string_view ns = NamespaceOf(*pod);
  if (ref_changed && old_ref) {
    if (ObjectPtr ds = ResolveRef(ns, *old_ref)) queue_->Add(client::ObjectKey(*ds));
  }
  if (ref) {
    ObjectPtr ds = ResolveRef(ns, *ref);
    if (!ds) return;
    std::string key = client::ObjectKey(*ds);
    queue_->Add(key);
    int64_t min_ready = MinReady(*ds);
    if (min_ready > 0 && !IsPodReady(*old_pod) && IsPodReady(*pod)) {
      queue_->AddAfter(key, std::chrono::seconds(min_ready + 1));
    }
    return;
  }
  if (labels_changed || ref_changed) EnqueueOrphanOwners(*pod);
}

void DaemonSetController::OnPodDelete(const ObjectPtr& pod) {
  std::optional<OwnerReference> ref = ControllerOf(*pod);
  if (!ref) return;
  ObjectPtr ds = ResolveRef(NamespaceOf(*pod), *ref);
  if (!ds) return;
  std::string key = client::ObjectKey(*ds);
  deletions_.DeletionObserved(key, client::ObjectKey(*pod));
  queue_->Add(key);
}

void DaemonSetController::OnNodeAdd(const ObjectPtr& node) {
  for (const ObjectPtr& ds : daemon_sets_->List()) {
    if (NodeShouldRunDaemonPod(*node, *ds).should_run) queue_->Add(client::ObjectKey(*ds));
  }
}

void DaemonSetController::OnNodeUpdate(const ObjectPtr& old_node, const ObjectPtr& node) {
  // Only labels and spec (taints) decide where daemon pods go; heartbeats change neither.
  const Value* old_labels = LabelsOf(*old_node);
  const Value* labels = LabelsOf(*node);
  const Value* old_spec = json::Member(*old_node, "spec");
  const Value* spec = json::Member(*node, "spec");
  auto same = [](const Value* a, const Value* b) { return (!a && !b) || (a && b && *a == *b); };
  if (same(old_labels, labels) && same(old_spec, spec)) return;
  for (const ObjectPtr& ds : daemon_sets_->List()) {
    DaemonNodeFilter filter(*ds);
    if (!(filter.Evaluate(*old_node) == filter.Evaluate(*node))) queue_->Add(client::ObjectKey(*ds));
  }
}

void DaemonSetController::EnqueueAll() {
  for (const ObjectPtr& ds : daemon_sets_->List()) queue_->Add(client::ObjectKey(*ds));
}

Status DaemonSetController::Reconcile(const std::string& key) {
  ObjectPtr ds = daemon_sets_->Get(key);
  if (!ds) {
    creations_.Delete(key);
    deletions_.Delete(key);
    return Status();
  }
  Result<selection::LabelSelector> selector = SpecSelector(*ds);
  // A selector that is malformed, selects everything or nothing, or does not select the
  // template's pods is for validation to reject; acting on it would create pods forever.
  if (!selector.ok() || selector->Empty() || selector->IsNothing()) return Status();
  const Value* tmpl = SpecMember(*ds, "template");
  const Value* tmd = tmpl ? json::Member(*tmpl, "metadata") : nullptr;
  if (!selector->Matches(tmd ? json::Member(*tmd, "labels") : nullptr)) return Status();
  if (IsBeingDeleted(*ds)) return Status();
  std::string_view ns = NamespaceOf(*ds);

  // Before listing pods: a pod observed after this read is then in the list too (the cache
  // is updated before handlers run).
  bool expectations_met = creations_.Satisfied(key) && deletions_.Satisfied(key);
  ControllerRefManager pod_refs(*ds, std::string(kApiVersion), std::string(kKind), *selector, &*ds_client_,
                                &*pod_client_);
  Result<std::vector<ObjectPtr>> pods = pod_refs.Claim(pods_->List(ns));
  if (!pods.ok()) return pods.status();
  ControllerRefManager revision_refs(*ds, std::string(kApiVersion), std::string(kKind), *selector, &*ds_client_,
                                     &*revision_client_);
  Result<std::vector<ObjectPtr>> revisions = revision_refs.Claim(revisions_->List(ns));
  if (!revisions.ok()) return revisions.status();

  SyncContext ctx{clock_,           &recorder_,   queue_,        &creations_,    &deletions_,
                  &failed_backoff_, &*ds_client_, &*pod_client_, &*node_client_, &*revision_client_};
  DaemonSetSync sync(ctx, key, expectations_met, ds, nodes_->List(), std::move(pods).value(), std::move(revisions).value());
  return sync.Run();
}

}  // namespace kite::controllers
