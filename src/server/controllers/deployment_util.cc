#include "src/server/controllers/deployment_util.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "src/base/clock.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/pod_control.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

// null, {} and [] — and objects and arrays of nothing else — are what Go decodes to a
// zero value, which Semantic.DeepEqual cannot tell from an absent field.
bool IsEmptyValue(const Value& v) {
  if (v.IsNull()) return true;
  if (v.IsArray()) return v.Empty();
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (!IsEmptyValue(m.value)) return false;
    }
    return true;
  }
  return false;
}

// Canonical JSON: members sorted by name, empty values dropped.
void WriteCanonical(const Value& v, rapidjson::Writer<rapidjson::StringBuffer>& w) {
  if (v.IsObject()) {
    std::vector<const Value::Member*> members;
    for (const auto& m : v.GetObject()) {
      if (!IsEmptyValue(m.value)) members.push_back(&m);
    }
    std::sort(members.begin(), members.end(), [](const Value::Member* a, const Value::Member* b) {
      return std::string_view(a->name.GetString(), a->name.GetStringLength()) <
             std::string_view(b->name.GetString(), b->name.GetStringLength());
    });
    w.StartObject();
    for (const Value::Member* m : members) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      WriteCanonical(m->value, w);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const Value& e : v.GetArray()) WriteCanonical(e, w);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}

const Value* Spec(const Value& object) { return json::Member(object, "spec"); }

const Value* SpecMember(const Value& object, std::string_view field) {
  const Value* spec = Spec(object);
  return spec ? json::Member(*spec, field) : nullptr;
}

int32_t Clamp32(int64_t v) { return static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX)); }

int32_t SpecInt32(const Value& object, std::string_view field, int32_t fallback) {
  const Value* v = SpecMember(object, field);
  return v && v->IsInt64() ? Clamp32(v->GetInt64()) : fallback;
}

const Value* RollingParams(const Value& deployment) {
  const Value* strategy = SpecMember(deployment, "strategy");
  return strategy ? json::Member(*strategy, "rollingUpdate") : nullptr;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return v;
}

}  // namespace

// ---- Templates ----

std::string ComputeTemplateHash(const Value& pod_template, std::optional<int64_t> collision_count) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  WriteCanonical(pod_template, writer);
  uint32_t h = 2166136261u;
  auto feed = [&h](unsigned char c) {
    h ^= c;
    h *= 16777619u;
  };
  for (size_t i = 0; i < buffer.GetSize(); ++i) feed(static_cast<unsigned char>(buffer.GetString()[i]));
  if (collision_count) {
    uint32_t c = static_cast<uint32_t>(*collision_count);
    for (int i = 0; i < 4; ++i) feed(static_cast<unsigned char>(c >> (8 * i)));
  }
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string digits = std::to_string(h);
  std::string out;
  for (char d : digits) out.push_back(kAlphabet[static_cast<unsigned char>(d) % (sizeof(kAlphabet) - 1)]);
  return out;
}

bool SemanticEqual(const Value& a, const Value& b) {
  if (IsEmptyValue(a) || IsEmptyValue(b)) return IsEmptyValue(a) && IsEmptyValue(b);
  if (a.IsObject() && b.IsObject()) {
    for (const auto& m : a.GetObject()) {
      const Value* other = json::Member(b, std::string_view(m.name.GetString(), m.name.GetStringLength()));
      if (other ? !SemanticEqual(m.value, *other) : !IsEmptyValue(m.value)) return false;
    }
    for (const auto& m : b.GetObject()) {
      if (!json::Member(a, std::string_view(m.name.GetString(), m.name.GetStringLength())) &&
          !IsEmptyValue(m.value)) {
        return false;
      }
    }
    return true;
  }
  if (a.IsArray() && b.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!SemanticEqual(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

bool EqualIgnoreHash(const Value& template_a, const Value& template_b) {
  auto without_hash = [](const Value& t) {
    rapidjson::Document copy;
    copy.CopyFrom(t, copy.GetAllocator());
    if (Value* md = json::MutableMember(copy, "metadata")) {
      if (Value* labels = json::MutableMember(*md, "labels"); labels && labels->IsObject()) {
        json::RemoveMember(*labels, kPodTemplateHashLabel);
      }
    }
    return copy;
  };
  rapidjson::Document a = without_hash(template_a);
  rapidjson::Document b = without_hash(template_b);
  return SemanticEqual(a, b);
}

// ---- Reading a Deployment ----

int32_t DeploymentReplicas(const Value& deployment) { return std::max(0, SpecInt32(deployment, "replicas", 1)); }

bool IsRollingUpdate(const Value& deployment) {
  const Value* strategy = SpecMember(deployment, "strategy");
  return !strategy || json::StringMember(*strategy, "type") != "Recreate";
}

bool IsPaused(const Value& deployment) {
  const Value* p = SpecMember(deployment, "paused");
  return p && p->IsBool() && p->GetBool();
}

int32_t MinReadySeconds(const Value& object) { return std::max(0, SpecInt32(object, "minReadySeconds", 0)); }

int32_t RevisionHistoryLimit(const Value& deployment) {
  return std::max(0, SpecInt32(deployment, "revisionHistoryLimit", 10));
}

std::optional<int32_t> ProgressDeadlineSeconds(const Value& deployment) {
  int32_t v = SpecInt32(deployment, "progressDeadlineSeconds", 600);
  if (v == INT32_MAX) return std::nullopt;
  return v;
}

Result<int32_t> ScaledValueFromIntOrPercent(const Value* value, int32_t total, bool round_up) {
  if (!value || value->IsNull()) return InvalidArgumentError("nil value for IntOrString");
  if (value->IsInt64()) return Clamp32(value->GetInt64());
  if (!value->IsString()) return InvalidArgumentError("invalid type: neither int nor percentage");
  std::string_view s(value->GetString(), value->GetStringLength());
  if (s.empty() || s.back() != '%') {
    return InvalidArgumentError("invalid type: string is not a percentage");
  }
  std::optional<int64_t> percent = ParseInt(s.substr(0, s.size() - 1));
  if (!percent) return InvalidArgumentError("invalid value for IntOrString: invalid value \"" + std::string(s) + "\"");
  double scaled = static_cast<double>(*percent) * static_cast<double>(total) / 100.0;
  return Clamp32(static_cast<int64_t>(round_up ? std::ceil(scaled) : std::floor(scaled)));
}

Result<Fenceposts> ResolveFenceposts(const Value& deployment, int32_t desired) {
  const Value* params = RollingParams(deployment);
  Value default_value("25%");
  const Value* surge_v = params ? json::Member(*params, "maxSurge") : nullptr;
  const Value* unavailable_v = params ? json::Member(*params, "maxUnavailable") : nullptr;
  if (!surge_v || surge_v->IsNull()) surge_v = &default_value;
  if (!unavailable_v || unavailable_v->IsNull()) unavailable_v = &default_value;
  Result<int32_t> surge = ScaledValueFromIntOrPercent(surge_v, desired, true);
  if (!surge.ok()) return surge.status();
  Result<int32_t> unavailable = ScaledValueFromIntOrPercent(unavailable_v, desired, false);
  if (!unavailable.ok()) return unavailable.status();
  Fenceposts f{*surge, *unavailable};
  // Both 0 (e.g. 1% of 2 rounds down) would deadlock: allow one unavailable pod.
  if (f.max_surge == 0 && f.max_unavailable == 0) f.max_unavailable = 1;
  return f;
}

namespace {

Fenceposts FencepostsOrDefault(const Value& deployment) {
  int32_t desired = DeploymentReplicas(deployment);
  Result<Fenceposts> f = ResolveFenceposts(deployment, desired);
  if (f.ok()) return *f;
  // Malformed values (validation's business) count as the 25%/25% default.
  rapidjson::Document bare(rapidjson::kObjectType);
  f = ResolveFenceposts(bare, desired);
  return f.ok() ? *f : Fenceposts{0, 1};
}

}  // namespace

int32_t MaxSurge(const Value& deployment) {
  if (!IsRollingUpdate(deployment)) return 0;
  return FencepostsOrDefault(deployment).max_surge;
}

int32_t MaxUnavailable(const Value& deployment) {
  int32_t replicas = DeploymentReplicas(deployment);
  if (!IsRollingUpdate(deployment) || replicas == 0) return 0;
  return std::min(FencepostsOrDefault(deployment).max_unavailable, replicas);
}

// ---- Reading a ReplicaSet ----

int32_t RsSpecReplicas(const Value& rs) { return std::max(0, SpecInt32(rs, "replicas", 1)); }

int32_t RsStatusCount(const Value& rs, std::string_view field) {
  const Value* status = json::Member(rs, "status");
  const Value* v = status ? json::Member(*status, field) : nullptr;
  return v && v->IsInt64() ? Clamp32(v->GetInt64()) : 0;
}

std::optional<int64_t> Revision(const Value& rs) {
  std::optional<std::string_view> v = AnnotationOf(rs, kRevisionAnnotation);
  if (!v) return 0;
  return ParseInt(*v);
}

int64_t MaxRevision(const std::vector<client::ObjectPtr>& replica_sets) {
  int64_t max = 0;
  for (const client::ObjectPtr& rs : replica_sets) {
    if (!rs) continue;
    if (std::optional<int64_t> r = Revision(*rs)) max = std::max(max, *r);
  }
  return max;
}

std::optional<int32_t> IntAnnotation(const Value& object, std::string_view key) {
  std::optional<std::string_view> v = AnnotationOf(object, key);
  if (!v) return std::nullopt;
  std::optional<int64_t> n = ParseInt(*v);
  if (!n) return std::nullopt;
  return Clamp32(*n);
}

int32_t SpecReplicaSum(const std::vector<client::ObjectPtr>& replica_sets) {
  int64_t sum = 0;
  for (const client::ObjectPtr& rs : replica_sets) {
    if (rs) sum += RsSpecReplicas(*rs);
  }
  return Clamp32(sum);
}

int32_t StatusSum(const std::vector<client::ObjectPtr>& replica_sets, std::string_view field) {
  int64_t sum = 0;
  for (const client::ObjectPtr& rs : replica_sets) {
    if (rs) sum += RsStatusCount(*rs, field);
  }
  return Clamp32(sum);
}

std::vector<client::ObjectPtr> ActiveReplicaSets(const std::vector<client::ObjectPtr>& replica_sets) {
  std::vector<client::ObjectPtr> out;
  for (const client::ObjectPtr& rs : replica_sets) {
    if (rs && RsSpecReplicas(*rs) > 0) out.push_back(rs);
  }
  return out;
}

bool CreatedBefore(const Value& a, const Value& b) {
  const Value* ma = json::Member(a, "metadata");
  const Value* mb = json::Member(b, "metadata");
  std::string_view ta = ma ? json::StringMember(*ma, "creationTimestamp") : std::string_view();
  std::string_view tb = mb ? json::StringMember(*mb, "creationTimestamp") : std::string_view();
  // The API server writes UTC "YYYY-MM-DDTHH:MM:SSZ": text order is time order.
  if (ta != tb) return ta < tb;
  return NameOf(a) < NameOf(b);
}

void SortByCreation(std::vector<client::ObjectPtr>& replica_sets) {
  std::stable_sort(replica_sets.begin(), replica_sets.end(),
                   [](const client::ObjectPtr& a, const client::ObjectPtr& b) { return CreatedBefore(*a, *b); });
}

void SortByRevision(std::vector<client::ObjectPtr>& replica_sets) {
  std::stable_sort(replica_sets.begin(), replica_sets.end(), [](const client::ObjectPtr& a, const client::ObjectPtr& b) {
    int64_t ra = Revision(*a).value_or(0), rb = Revision(*b).value_or(0);
    if (ra != rb) return ra < rb;
    return CreatedBefore(*a, *b);
  });
}

// ---- Writing a ReplicaSet ----

bool SetAnnotation(rapidjson::Document& object, std::string_view key, std::string_view value) {
  auto& a = object.GetAllocator();
  Value& md = json::EnsureObjectMember(object, "metadata", a);
  Value* annotations = json::MutableMember(md, "annotations");
  if (!annotations || !annotations->IsObject()) {
    json::SetMember(md, "annotations", Value(rapidjson::kObjectType), a);
    annotations = json::MutableMember(md, "annotations");
  }
  const Value* current = json::Member(*annotations, key);
  if (current && current->IsString() && std::string_view(current->GetString(), current->GetStringLength()) == value) {
    return false;
  }
  json::SetStringMember(*annotations, key, value, a);
  return true;
}

bool ReplicasAnnotationsNeedUpdate(const Value& rs, int32_t desired, int32_t max_replicas) {
  return AnnotationOf(rs, kDesiredReplicasAnnotation) != std::to_string(desired) ||
         AnnotationOf(rs, kMaxReplicasAnnotation) != std::to_string(max_replicas);
}

bool SetReplicasAnnotations(rapidjson::Document& rs, int32_t desired, int32_t max_replicas) {
  bool changed = SetAnnotation(rs, kDesiredReplicasAnnotation, std::to_string(desired));
  changed |= SetAnnotation(rs, kMaxReplicasAnnotation, std::to_string(max_replicas));
  return changed;
}

namespace {

bool SkipCopyAnnotation(std::string_view key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevisionAnnotation ||
         key == kRevisionHistoryAnnotation || key == kDesiredReplicasAnnotation ||
         key == kMaxReplicasAnnotation || key == "deprecated.deployment.rollback.to";
}

}  // namespace

bool SetNewReplicaSetAnnotations(const Value& deployment, rapidjson::Document& rs, int64_t new_revision,
                                 bool exists) {
  bool changed = false;
  const Value* dmd = json::Member(deployment, "metadata");
  if (const Value* annotations = dmd ? json::Member(*dmd, "annotations") : nullptr;
      annotations && annotations->IsObject()) {
    for (const auto& m : annotations->GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (SkipCopyAnnotation(key) || !m.value.IsString()) continue;
      changed |= SetAnnotation(rs, key, std::string_view(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  std::optional<std::string_view> old_text = AnnotationOf(rs, kRevisionAnnotation);
  std::string old_revision(old_text.value_or(""));
  int64_t old = 0;
  if (!old_revision.empty()) {
    std::optional<int64_t> parsed = ParseInt(old_revision);
    if (!parsed) return changed;  // a malformed revision is left for a person to fix
    old = *parsed;
  }
  if (old < new_revision) {
    SetAnnotation(rs, kRevisionAnnotation, std::to_string(new_revision));
    changed = true;
    // An old ReplicaSet taking the newest revision (a rollback): remember its old numbers.
    if (old_text) {
      std::string history(AnnotationOf(rs, kRevisionHistoryAnnotation).value_or(""));
      if (history.empty()) {
        history = old_revision;
      } else {
        history += "," + old_revision;
        while (history.size() > kMaxRevisionHistoryChars) {
          size_t comma = history.find(',');
          if (comma == std::string::npos) break;
          history.erase(0, comma + 1);
        }
      }
      SetAnnotation(rs, kRevisionHistoryAnnotation, history);
    }
  }
  if (!exists) {
    int32_t replicas = DeploymentReplicas(deployment);
    changed |= SetReplicasAnnotations(rs, replicas, replicas + MaxSurge(deployment));
  }
  return changed;
}

// ---- Rollout arithmetic ----

int32_t NewRsNewReplicas(const Value& deployment, int32_t current_pods, int32_t new_rs_replicas) {
  int32_t replicas = DeploymentReplicas(deployment);
  if (!IsRollingUpdate(deployment)) return replicas;
  int32_t max_total = replicas + MaxSurge(deployment);
  if (current_pods >= max_total) return new_rs_replicas;
  int32_t scale_up = std::min(max_total - current_pods, replicas - new_rs_replicas);
  return new_rs_replicas + std::max(0, scale_up);
}

bool IsSaturated(const Value& deployment, const Value* rs) {
  if (!rs) return false;
  int32_t replicas = DeploymentReplicas(deployment);
  std::optional<int32_t> desired = IntAnnotation(*rs, kDesiredReplicasAnnotation);
  return desired && RsSpecReplicas(*rs) == replicas && *desired == replicas &&
         RsStatusCount(*rs, "availableReplicas") == replicas;
}

int32_t ReplicaSetProportion(const Value& rs, const Value& deployment, int32_t to_add, int32_t added) {
  int32_t size = RsSpecReplicas(rs);
  if (size == 0 || to_add == 0 || to_add == added) return 0;
  int32_t fraction = 0;
  int32_t replicas = DeploymentReplicas(deployment);
  if (replicas == 0) {
    fraction = -size;  // scaling to zero: all of it goes
  } else {
    int32_t max_replicas = replicas + MaxSurge(deployment);
    std::optional<int32_t> before = IntAnnotation(rs, kMaxReplicasAnnotation);
    int32_t base = before && *before != 0
                       ? *before
                       : DeploymentStatus::FromJson(json::Member(deployment, "status")).replicas;
    if (base == 0) return 0;
    double scaled = static_cast<double>(size) * max_replicas / base;
    fraction = Clamp32(static_cast<int64_t>(std::round(scaled))) - size;
  }
  int32_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

// ---- Status ----

DeploymentStatus DeploymentStatus::FromJson(const Value* status) {
  DeploymentStatus s;
  if (!status || !status->IsObject()) return s;
  auto count = [status](std::string_view field) -> int64_t {
    const Value* v = json::Member(*status, field);
    return v && v->IsInt64() ? v->GetInt64() : 0;
  };
  s.observed_generation = count("observedGeneration");
  s.replicas = Clamp32(count("replicas"));
  s.updated_replicas = Clamp32(count("updatedReplicas"));
  s.ready_replicas = Clamp32(count("readyReplicas"));
  s.available_replicas = Clamp32(count("availableReplicas"));
  s.unavailable_replicas = Clamp32(count("unavailableReplicas"));
  if (const Value* c = json::Member(*status, "collisionCount"); c && c->IsInt64()) {
    s.collision_count = Clamp32(c->GetInt64());
  }
  if (const Value* conditions = json::Member(*status, "conditions"); conditions && conditions->IsArray()) {
    for (const Value& c : conditions->GetArray()) {
      if (!c.IsObject()) continue;
      s.conditions.push_back({std::string(json::StringMember(c, "type")), std::string(json::StringMember(c, "status")),
                              std::string(json::StringMember(c, "lastUpdateTime")),
                              std::string(json::StringMember(c, "lastTransitionTime")),
                              std::string(json::StringMember(c, "reason")),
                              std::string(json::StringMember(c, "message"))});
    }
  }
  return s;
}

Value DeploymentStatus::ToJson(rapidjson::Document::AllocatorType& a) const {
  Value out(rapidjson::kObjectType);
  auto count = [&](std::string_view field, int64_t n) {
    if (n != 0) json::SetMember(out, field, Value(n), a);
  };
  count("observedGeneration", observed_generation);
  count("replicas", replicas);
  count("updatedReplicas", updated_replicas);
  count("readyReplicas", ready_replicas);
  count("availableReplicas", available_replicas);
  count("unavailableReplicas", unavailable_replicas);
  if (!conditions.empty()) {
    Value list(rapidjson::kArrayType);
    for (const DeploymentCondition& c : conditions) {
      Value v(rapidjson::kObjectType);
      json::SetStringMember(v, "type", c.type, a);
      json::SetStringMember(v, "status", c.status, a);
      if (!c.last_update_time.empty()) json::SetStringMember(v, "lastUpdateTime", c.last_update_time, a);
      if (!c.last_transition_time.empty()) json::SetStringMember(v, "lastTransitionTime", c.last_transition_time, a);
      if (!c.reason.empty()) json::SetStringMember(v, "reason", c.reason, a);
      if (!c.message.empty()) json::SetStringMember(v, "message", c.message, a);
      list.PushBack(std::move(v), a);
    }
    json::SetMember(out, "conditions", std::move(list), a);
  }
  if (collision_count) json::SetMember(out, "collisionCount", Value(*collision_count), a);
  return out;
}

const DeploymentCondition* FindCondition(const DeploymentStatus& status, std::string_view type) {
  for (const DeploymentCondition& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

void SetCondition(DeploymentStatus& status, DeploymentCondition condition) {
  const DeploymentCondition* current = FindCondition(status, condition.type);
  if (current && current->status == condition.status && current->reason == condition.reason) return;
  if (current && current->status == condition.status) {
    condition.last_transition_time = current->last_transition_time;
  }
  RemoveCondition(status, condition.type);
  status.conditions.push_back(std::move(condition));
}

void RemoveCondition(DeploymentStatus& status, std::string_view type) {
  std::erase_if(status.conditions, [type](const DeploymentCondition& c) { return c.type == type; });
}

DeploymentCondition NewCondition(std::string type, std::string status, std::string reason, std::string message,
                                 int64_t now_ms) {
  std::string now = FormatRfc3339Seconds(now_ms);
  return {std::move(type), std::move(status), now, now, std::move(reason), std::move(message)};
}

bool DeploymentComplete(const Value& deployment, const DeploymentStatus& status) {
  int32_t replicas = DeploymentReplicas(deployment);
  return status.updated_replicas == replicas && status.replicas == replicas &&
         status.available_replicas == replicas && status.observed_generation >= GenerationOf(deployment);
}

bool DeploymentProgressing(const DeploymentStatus& old_status, const DeploymentStatus& status) {
  int32_t old_old = old_status.replicas - old_status.updated_replicas;
  int32_t new_old = status.replicas - status.updated_replicas;
  return status.updated_replicas > old_status.updated_replicas || new_old < old_old ||
         status.available_replicas > old_status.available_replicas;
}

bool DeploymentTimedOut(const Value& deployment, const DeploymentStatus& status, int64_t now_ms) {
  std::optional<int32_t> deadline = ProgressDeadlineSeconds(deployment);
  if (!deadline) return false;
  const DeploymentCondition* c = FindCondition(status, "Progressing");
  if (!c) return false;
  // A finished rollout has nothing left to time out.
  if (c->reason == "NewReplicaSetAvailable") return false;
  if (c->reason == "ProgressDeadlineExceeded") return true;
  std::optional<int64_t> from = ParseTimeMillis(c->last_update_time);
  if (!from) return false;
  return *from + int64_t{*deadline} * 1000 < now_ms;
}

}  // namespace kite::controllers
