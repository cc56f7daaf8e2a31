// Server-side apply: field ownership, pruning, conflicts and the managedFields encoding.
// Expected managedFields are written out as the Kubernetes 1.32 API server prints them for
// the same requests (structured-merge-diff v4 semantics).
#include "src/server/apply/apply.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "src/server/apply/field_set.h"
#include "src/server/apply/managed_fields.h"
#include "src/server/apply/value_ops.h"
#include "src/server/apply/value_shape.h"
#include "src/server/json/json_util.h"

namespace kite::apply {
namespace {

using patch::StrategicSchema;
using rapidjson::Document;
using rapidjson::Value;

constexpr char kT1[] = "2026-11-24T10:00:00Z";
constexpr char kT2[] = "2026-11-24T10:05:00Z";
constexpr char kT3[] = "2026-11-24T10:10:00Z";
constexpr char kT4[] = "2026-11-24T10:15:00Z";

class FakeSchema : public StrategicSchema {
 public:
  std::optional<Field> Lookup(std::string_view name) const override {
    auto it = fields.find(std::string(name));
    if (it == fields.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, Field> fields;
};

// The parts of apps/v1 Deployment and v1 ConfigMap these tests use, with the tags the
// schema registry derives from the Go types.
struct Schemas {
  FakeSchema metadata, owner_ref, selector, port, env, container, toleration, pod_spec, template_,
      rolling, strategy, spec, condition, status, deployment, config_map;
  Schemas() {
    using F = StrategicSchema::Field;
    metadata.fields["name"] = F{};
    metadata.fields["namespace"] = F{};
    metadata.fields["uid"] = F{};
    metadata.fields["labels"] = F{.is_map = true};
    metadata.fields["annotations"] = F{.is_map = true};
    metadata.fields["finalizers"] = F{.merge_list = true};
    metadata.fields["ownerReferences"] = F{.merge_list = true, .merge_key = "uid", .type = &owner_ref};
    selector.fields["matchLabels"] = F{.is_map = true};
    selector.fields["matchExpressions"] = F{};
    port.fields["containerPort"] = F{};
    port.fields["protocol"] = F{};
    env.fields["name"] = F{};
    env.fields["value"] = F{};
    container.fields["name"] = F{};
    container.fields["image"] = F{};
    container.fields["args"] = F{};
    container.fields["ports"] = F{.merge_list = true, .merge_key = "containerPort", .type = &port};
    container.fields["env"] = F{.merge_list = true, .merge_key = "name", .type = &env};
    toleration.fields["key"] = F{};
    pod_spec.fields["containers"] = F{.merge_list = true, .merge_key = "name", .type = &container};
    pod_spec.fields["tolerations"] = F{.type = &toleration};
    pod_spec.fields["nodeSelector"] = F{.is_map = true};
    template_.fields["metadata"] = F{.type = &metadata};
    template_.fields["spec"] = F{.type = &pod_spec};
    rolling.fields["maxSurge"] = F{};
    strategy.fields["type"] = F{};
    strategy.fields["rollingUpdate"] = F{.type = &rolling};
    spec.fields["replicas"] = F{};
    spec.fields["paused"] = F{};
    spec.fields["selector"] = F{.type = &selector};
    spec.fields["template"] = F{.type = &template_};
    spec.fields["strategy"] = F{.retain_keys = true, .type = &strategy};
    condition.fields["type"] = F{};
    condition.fields["status"] = F{};
    status.fields["replicas"] = F{};
    status.fields["conditions"] = F{.merge_list = true, .merge_key = "type", .type = &condition};
    deployment.fields["metadata"] = F{.type = &metadata};
    deployment.fields["spec"] = F{.type = &spec};
    deployment.fields["status"] = F{.type = &status};
    config_map.fields["metadata"] = F{.type = &metadata};
    config_map.fields["data"] = F{.is_map = true};
  }
};

const Schemas& S() {
  static const Schemas* const s = new Schemas;
  return *s;
}
const StrategicSchema* Deploy() { return &S().deployment; }
const StrategicSchema* ConfigMap() { return &S().config_map; }

Document J(std::string_view text) {
  Result<Document> d = json::ParseJson(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

std::string Compact(std::string_view text) { return json::ToJson(J(text)); }

ManagerIdentity Who(std::string manager, std::string time = kT1, std::string subresource = "",
                    std::string api_version = "apps/v1") {
  return {std::move(manager), std::move(api_version), std::move(subresource), std::move(time)};
}

const ApplyScope kDeploymentMain = ApplyScope::MainResource(true);
const ApplyScope kNoStatus = ApplyScope::MainResource(false);

// Applies and expects success without conflicts.
Document MustApply(const Document* live, std::string_view config, const ManagerIdentity& who,
                   const StrategicSchema* schema = Deploy(), const ApplyScope& scope = kDeploymentMain,
                   bool force = false) {
  Document applied = J(config);
  Result<ApplyOutcome> out = Apply(live, applied, who, force, schema, scope);
  REQUIRE(out.ok());
  REQUIRE(out->conflicts.empty());
  return std::move(out->object);
}

std::vector<FieldConflict> Conflicts(const Document& live, std::string_view config,
                                     const ManagerIdentity& who) {
  Document applied = J(config);
  Result<ApplyOutcome> out = Apply(&live, applied, who, false, Deploy(), kDeploymentMain);
  REQUIRE(out.ok());
  return out->conflicts;
}

const Value& ManagedFieldsOf(const Value& object) {
  const Value* meta = json::Member(object, "metadata");
  REQUIRE(meta != nullptr);
  const Value* mf = json::Member(*meta, "managedFields");
  REQUIRE(mf != nullptr);
  return *mf;
}

bool HasManagedFields(const Value& object) {
  const Value* meta = json::Member(object, "metadata");
  return meta != nullptr && json::Member(*meta, "managedFields") != nullptr;
}

// The entry of `manager` with `operation`, or nullptr.
const Value* Entry(const Value& object, std::string_view manager, std::string_view operation) {
  for (const Value& e : ManagedFieldsOf(object).GetArray()) {
    if (json::StringMember(e, "manager") == manager && json::StringMember(e, "operation") == operation) {
      return &e;
    }
  }
  return nullptr;
}

// fieldsV1 of an entry, compact; "" when there is no such entry.
std::string Fields(const Value& object, std::string_view manager, std::string_view operation = "Apply") {
  const Value* e = Entry(object, manager, operation);
  return e == nullptr ? "" : json::ToJson(*json::Member(*e, "fieldsV1"));
}

std::string Time(const Value& object, std::string_view manager, std::string_view operation = "Apply") {
  const Value* e = Entry(object, manager, operation);
  REQUIRE(e != nullptr);
  return std::string(json::StringMember(*e, "time"));
}

// The value at a dotted path of plain object members ("spec.replicas"), or nullptr.
const Value* At(const Value& object, std::string_view dotted) {
  const Value* v = &object;
  size_t start = 0;
  while (v != nullptr && start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    std::string_view part = dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    v = json::Member(*v, part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return v;
}

std::string ToJsonAt(const Value& object, std::string_view dotted) {
  const Value* v = At(object, dotted);
  return v == nullptr ? "<absent>" : json::ToJson(*v);
}

// The object without metadata.managedFields, compact.
std::string WithoutManagedFields(const Value& object) {
  Document d;
  d.CopyFrom(object, d.GetAllocator());
  if (Value* meta = json::MutableMember(d, "metadata")) json::RemoveMember(*meta, "managedFields");
  return json::ToJson(d);
}

constexpr char kWebConfig[] = R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web"}},
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}
    }
  }
})";

// ---------------------------------------------------------------------------------------

TEST_CASE("apply: create owns every applied field, encoded as Kubernetes prints it") {
  Document created = MustApply(nullptr, kWebConfig, Who("kubectl"));
  // The object is the configuration plus managedFields.
  CHECK(WithoutManagedFields(created) == Compact(kWebConfig));
  // LabelSelector is an atomic struct; container ports are keyed by containerPort and
  // protocol (defaulting to TCP); list items and their fields are both owned.
  CHECK(json::ToJson(ManagedFieldsOf(created)) == Compact(R"([{
    "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
    "time": "2026-11-24T10:00:00Z", "fieldsType": "FieldsV1",
    "fieldsV1": {
      "f:metadata": {"f:labels": {"f:app": {}}},
      "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
          "f:metadata": {"f:labels": {"f:app": {}}},
          "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
            ".": {}, "f:image": {}, "f:name": {},
            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
          }}}
        }
      }
    }
  }])"));
}

TEST_CASE("apply: a field left out of the next apply is removed; an unchanged re-apply is a no-op") {
  const char* first = R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cm","labels":{"app":"x","tier":"y"}},"data":{"a":"1","b":"2"}})";
  Document v1 = MustApply(nullptr, first, Who("tool", kT1, "", "v1"), ConfigMap(), kNoStatus);
  CHECK(Fields(v1, "tool") ==
        Compact(R"({"f:data":{"f:a":{},"f:b":{}},"f:metadata":{"f:labels":{"f:app":{},"f:tier":{}}}})"));

  const char* second = R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cm","labels":{"app":"x"}},"data":{"a":"1"}})";
  Document v2 = MustApply(&v1, second, Who("tool", kT2, "", "v1"), ConfigMap(), kNoStatus);
  CHECK(ToJsonAt(v2, "data") == R"({"a":"1"})");
  CHECK(ToJsonAt(v2, "metadata.labels") == R"({"app":"x"})");
  CHECK(Fields(v2, "tool") == Compact(R"({"f:data":{"f:a":{}},"f:metadata":{"f:labels":{"f:app":{}}}})"));
  CHECK(Time(v2, "tool") == kT2);

  // The same configuration again changes nothing, not even the entry's time.
  Document v3 = MustApply(&v2, second, Who("tool", kT3, "", "v1"), ConfigMap(), kNoStatus);
  CHECK(json::ToJson(v3) == json::ToJson(v2));
  CHECK(Time(v3, "tool") == kT2);

  // Dropping every data key drops the (now unowned) data field itself.
  const char* third = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{"app":"x"}}})";
  Document v4 = MustApply(&v3, third, Who("tool", kT4, "", "v1"), ConfigMap(), kNoStatus);
  CHECK(At(v4, "data") == nullptr);
  CHECK(ToJsonAt(v4, "metadata.name") == R"("cm")");
}

TEST_CASE("apply: two appliers with the same value share the field") {
  Document a = MustApply(nullptr, kWebConfig, Who("alice"));
  const char* bob = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                        "spec":{"replicas":2}})";
  Document b = MustApply(&a, bob, Who("bob", kT2));
  CHECK(Fields(b, "bob") == Compact(R"({"f:spec":{"f:replicas":{}}})"));
  CHECK(Fields(b, "alice").find("\"f:replicas\"") != std::string::npos);
  // Nothing changed, so bob's new entry has no time (as Kubernetes: times are only set when
  // the object changes) and alice's time stays.
  CHECK(json::Member(*Entry(b, "bob", "Apply"), "time") == nullptr);
  CHECK(Time(b, "alice") == kT1);
  CHECK(WithoutManagedFields(b) == WithoutManagedFields(a));

  // 2.0 is the same number as 2: still no conflict.
  const char* bob_float = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                              "spec":{"replicas":2.0}})";
  CHECK(Conflicts(b, bob_float, Who("bob", kT2)).empty());

  // Alice stops naming replicas: bob still owns it, so it stays.
  const char* alice2 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"selector":{"matchLabels":{"app":"web"}},
              "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}})";
  Document c = MustApply(&b, alice2, Who("alice", kT3));
  CHECK(ToJsonAt(c, "spec.replicas") == "2");
  CHECK(Fields(c, "alice").find("\"f:replicas\"") == std::string::npos);
  // ... but the container port she no longer names is gone.
  CHECK(ToJsonAt(c, "spec.template.spec") == R"({"containers":[{"name":"nginx","image":"nginx:1.27"}]})");
  CHECK(ToJsonAt(c, "metadata.labels") == "<absent>");

  // Now only bob owns replicas: he may change it freely; alice may not.
  const char* bob3 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}})";
  Document d = MustApply(&c, bob3, Who("bob", kT4));
  CHECK(ToJsonAt(d, "spec.replicas") == "3");
  std::vector<FieldConflict> conflicts = Conflicts(d, R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web"},"spec":{"replicas":1}})", Who("alice", kT4));
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0] == FieldConflict{"bob", "apps/v1", ".spec.replicas", "Apply", ""});
  // An applier is printed without its apiVersion.
  CHECK(ConflictMessage(conflicts) == "Apply failed with 1 conflict: conflict with \"bob\": .spec.replicas");
}

TEST_CASE("apply: conflict with an Update manager, message and cause; force takes the field") {
  Document created = MustApply(nullptr, kWebConfig, Who("kubectl"));
  // Someone scales with a non-apply write (as `kubectl scale` / `kubectl edit` do).
  Document scaled;
  scaled.CopyFrom(created, scaled.GetAllocator());
  (*json::MutableMember(*json::MutableMember(scaled, "spec"), "replicas")).SetInt(5);
  REQUIRE(TrackUpdate(&created, scaled, Who("kubectl-edit", kT2), Deploy(), kDeploymentMain).ok());
  CHECK(Fields(scaled, "kubectl-edit", "Update") == Compact(R"({"f:spec":{"f:replicas":{}}})"));
  CHECK(Fields(scaled, "kubectl").find("f:replicas") == std::string::npos);

  // Re-applying replicas: 2 now conflicts with the updater.
  std::vector<FieldConflict> conflicts = Conflicts(scaled, kWebConfig, Who("kubectl", kT3));
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0] == FieldConflict{"kubectl-edit", "apps/v1", ".spec.replicas", "Update", ""});
  CHECK(ConflictMessage(conflicts) ==
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas");
  validation::StatusCause cause = ConflictCause(conflicts[0]);
  CHECK(cause.reason == "FieldManagerConflict");
  CHECK(cause.message == "conflict with \"kubectl-edit\" using apps/v1");
  CHECK(cause.field == ".spec.replicas");

  // With force the applier takes the field; the updater's now-empty entry disappears.
  Document forced = MustApply(&scaled, kWebConfig, Who("kubectl", kT3), Deploy(), kDeploymentMain, true);
  CHECK(ToJsonAt(forced, "spec.replicas") == "2");
  CHECK(Entry(forced, "kubectl-edit", "Update") == nullptr);
  CHECK(Fields(forced, "kubectl").find("\"f:replicas\"") != std::string::npos);
  CHECK(Time(forced, "kubectl") == kT3);
}

TEST_CASE("apply: conflict messages for several owners, subresources and appliers") {
  std::vector<FieldConflict> conflicts = {
      {"kcm", "apps/v1", ".status.replicas", "Update", "status"},
      {"alice", "apps/v1", ".spec.replicas", "Update", ""},
      {"bob", "apps/v1", ".spec.paused", "Apply", ""},
      {"alice", "apps/v1", ".spec.template.spec.containers[name=\"app\"].image", "Update", ""},
  };
  CHECK(ConflictMessage(conflicts) ==
        "Apply failed with 4 conflicts: conflicts with \"alice\" using apps/v1:\n"
        "- .spec.replicas\n"
        "- .spec.template.spec.containers[name=\"app\"].image\n"
        "conflicts with \"bob\":\n"
        "- .spec.paused\n"
        "conflicts with \"kcm\" with subresource \"status\" using apps/v1:\n"
        "- .status.replicas");
  CHECK(ConflictCause(conflicts[0]).message == "conflict with \"kcm\" with subresource \"status\" using apps/v1");
}

TEST_CASE("apply: associative list items are owned per key") {
  const char* a1 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"}]}}}})";
  const char* b1 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[{"name":"b","image":"b:1"}]}}}})";
  Document v1 = MustApply(nullptr, a1, Who("alice"));
  Document v2 = MustApply(&v1, b1, Who("bob", kT2));
  CHECK(ToJsonAt(v2, "spec.template.spec.containers") ==
        R"([{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}])");
  CHECK(Fields(v2, "bob") == Compact(R"({"f:spec":{"f:template":{"f:spec":{"f:containers":{
      "k:{\"name\":\"b\"}":{".":{},"f:image":{},"f:name":{}}}}}}})"));

  // Alice changes her container: no conflict with bob's.
  const char* a2 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:2"}]}}}})";
  Document v3 = MustApply(&v2, a2, Who("alice", kT3));
  CHECK(ToJsonAt(v3, "spec.template.spec.containers") ==
        R"([{"name":"a","image":"a:2"},{"name":"b","image":"b:1"}])");
  // Bob may not change alice's image.
  std::vector<FieldConflict> c = Conflicts(v3, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[{"name":"a","image":"evil"}]}}}})", Who("bob", kT3));
  REQUIRE(c.size() == 1);
  CHECK(c[0].field == ".spec.template.spec.containers[name=\"a\"].image");

  // Alice replaces her container by c: a goes, b stays; new items come after live ones.
  const char* a3 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[{"name":"c","image":"c:1"}]}}}})";
  Document v4 = MustApply(&v3, a3, Who("alice", kT4));
  CHECK(ToJsonAt(v4, "spec.template.spec.containers") ==
        R"([{"name":"b","image":"b:1"},{"name":"c","image":"c:1"}])");
  // Live-only items keep their place; the configuration's items follow its order.
  const char* a4 = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[{"name":"d","image":"d:1"},{"name":"c","image":"c:1"}]}}}})";
  Document v5 = MustApply(&v4, a4, Who("alice", kT4));
  CHECK(ToJsonAt(v5, "spec.template.spec.containers") ==
        R"([{"name":"b","image":"b:1"},{"name":"d","image":"d:1"},{"name":"c","image":"c:1"}])");
}

TEST_CASE("apply: sets (finalizers) are owned per value") {
  const char* a = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["x"]}})";
  const char* b = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["y","x"]}})";
  Document v1 = MustApply(nullptr, a, Who("alice"));
  Document v2 = MustApply(&v1, b, Who("bob", kT2));
  CHECK(ToJsonAt(v2, "metadata.finalizers") == R"(["y","x"])");
  CHECK(Fields(v2, "bob") == Compact(R"({"f:metadata":{"f:finalizers":{"v:\"x\"":{},"v:\"y\"":{}}}})"));
  // Bob drops both: x stays (alice owns it), y goes.
  Document v3 = MustApply(&v2, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}})",
                          Who("bob", kT3));
  CHECK(ToJsonAt(v3, "metadata.finalizers") == R"(["x"])");
  CHECK(Entry(v3, "bob", "Apply") == nullptr);  // owns nothing any more
}

TEST_CASE("apply: atomic lists are owned and replaced as a whole") {
  const char* a = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"tolerations":[{"key":"a"},{"key":"b"}],
        "containers":[{"name":"c","args":["x","y"]}]}}}})";
  Document v1 = MustApply(nullptr, a, Who("alice"));
  CHECK(Fields(v1, "alice") == Compact(R"({"f:spec":{"f:template":{"f:spec":{
      "f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:args":{},"f:name":{}}},"f:tolerations":{}}}}})"));
  std::vector<FieldConflict> c = Conflicts(v1, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"tolerations":[{"key":"a"}]}}}})", Who("bob", kT2));
  REQUIRE(c.size() == 1);
  CHECK(c[0].field == ".spec.template.spec.tolerations");
  // Alice's new list replaces the old one entirely.
  Document v2 = MustApply(&v1, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"tolerations":[{"key":"z"}],"containers":[{"name":"c","args":["y"]}]}}}})",
                          Who("alice", kT2));
  CHECK(ToJsonAt(v2, "spec.template.spec.tolerations") == R"([{"key":"z"}])");
  CHECK(ToJsonAt(v2, "spec.template.spec.containers") == R"([{"name":"c","args":["y"]}])");
}

TEST_CASE("TrackUpdate: create records every field as Kubernetes does for kubectl create") {
  Document obj = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"default","uid":"u1","resourceVersion":"1","generation":1,
                "creationTimestamp":"2026-11-24T10:00:00Z","labels":{"app":"web"}},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
            "strategy":{"type":"RollingUpdate"},
            "template":{"metadata":{"labels":{"app":"web"}},
                        "spec":{"containers":[{"name":"nginx","image":"nginx"}]}}},
    "status":{}})");
  REQUIRE(TrackUpdate(nullptr, obj, Who("kubectl-create"), Deploy(), kDeploymentMain).ok());
  // Maps and list items new to the object carry "."; structs every typed object has (spec,
  // template, strategy) do not; identity metadata and status (a subresource) are not tracked.
  CHECK(json::ToJson(ManagedFieldsOf(obj)) == Compact(R"([{
    "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1",
    "time": "2026-11-24T10:00:00Z", "fieldsType": "FieldsV1",
    "fieldsV1": {
      "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
      "f:spec": {
        "f:replicas": {}, "f:selector": {}, "f:strategy": {"f:type": {}},
        "f:template": {
          "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
          "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}}}
        }
      }
    }
  }])"));
}

TEST_CASE("TrackUpdate: a patch moves ownership; a no-op keeps managedFields") {
  Document v1 = MustApply(nullptr, kWebConfig, Who("kubectl"));
  Document v2;
  v2.CopyFrom(v1, v2.GetAllocator());
  json::SetMember(*json::MutableMember(v2, "spec"), "replicas", Value(4), v2.GetAllocator());
  json::SetMember(*json::MutableMember(v2, "spec"), "paused", Value(true), v2.GetAllocator());
  REQUIRE(TrackUpdate(&v1, v2, Who("kubectl-patch", kT2), Deploy(), kDeploymentMain).ok());
  CHECK(Fields(v2, "kubectl-patch", "Update") == Compact(R"({"f:spec":{"f:paused":{},"f:replicas":{}}})"));
  CHECK(Fields(v2, "kubectl").find("f:replicas") == std::string::npos);
  CHECK(Fields(v2, "kubectl").find("f:selector") != std::string::npos);
  // Apply entries sort before Update entries.
  CHECK(json::StringMember(ManagedFieldsOf(v2)[0], "operation") == "Apply");
  CHECK(json::StringMember(ManagedFieldsOf(v2)[1], "operation") == "Update");

  // Removing a field takes it from its owner too.
  Document v3;
  v3.CopyFrom(v2, v3.GetAllocator());
  json::RemoveMember(*json::MutableMember(v3, "spec"), "paused");
  REQUIRE(TrackUpdate(&v2, v3, Who("other", kT3), Deploy(), kDeploymentMain).ok());
  CHECK(Fields(v3, "kubectl-patch", "Update") == Compact(R"({"f:spec":{"f:replicas":{}}})"));
  CHECK(Fields(v3, "other", "Update").empty());  // it changed nothing it could own

  // An update that changes nothing leaves managedFields exactly as they were.
  Document v4;
  v4.CopyFrom(v3, v4.GetAllocator());
  REQUIRE(TrackUpdate(&v3, v4, Who("kubectl-patch", kT4), Deploy(), kDeploymentMain).ok());
  CHECK(json::ToJson(v4) == json::ToJson(v3));
}

TEST_CASE("TrackUpdate: a new list item is owned with everything in it") {
  Document v1 = MustApply(nullptr, kWebConfig, Who("kubectl"));
  Document v2;
  v2.CopyFrom(v1, v2.GetAllocator());
  Value* containers = json::MutableMember(
      *json::MutableMember(*json::MutableMember(*json::MutableMember(v2, "spec"), "template"), "spec"),
      "containers");
  REQUIRE(containers != nullptr);
  containers->PushBack(Value(J(R"({"name":"side","env":[{"name":"A","value":"1"}]})"), v2.GetAllocator()),
                       v2.GetAllocator());
  REQUIRE(TrackUpdate(&v1, v2, Who("injector", kT2), Deploy(), kDeploymentMain).ok());
  CHECK(Fields(v2, "injector", "Update") == Compact(R"({"f:spec":{"f:template":{"f:spec":{"f:containers":{
      "k:{\"name\":\"side\"}":{".":{},
        "f:env":{".":{},"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},
        "f:name":{}}}}}}})"));
  CHECK(ApplyScope::MainResource(true).Allows("spec"));
  CHECK_FALSE(ApplyScope::MainResource(true).Allows("status"));
  CHECK(ApplyScope::MainResource(false).Allows("status"));
  CHECK_FALSE(ApplyScope::StatusSubresource().Allows("spec"));
  CHECK(ApplyScope::StatusSubresource().Allows("metadata"));
}

TEST_CASE("TrackUpdate: managedFields sent by the client") {
  Document live = MustApply(nullptr, kWebConfig, Who("kubectl"));
  json::SetStringMember(*json::MutableMember(live, "metadata"), "uid", "u1", live.GetAllocator());

  SECTION("absent: carried over from the live object") {
    Document after;
    after.CopyFrom(live, after.GetAllocator());
    json::RemoveMember(*json::MutableMember(after, "metadata"), "managedFields");
    REQUIRE(TrackUpdate(&live, after, Who("x", kT2), Deploy(), kDeploymentMain).ok());
    CHECK(json::ToJson(ManagedFieldsOf(after)) == json::ToJson(ManagedFieldsOf(live)));
  }
  SECTION("[{}] or []: reset, and an existing object is then untracked") {
    for (const char* reset : {"[{}]", "[]"}) {
      Document after;
      after.CopyFrom(live, after.GetAllocator());
      json::SetMember(*json::MutableMember(after, "metadata"), "managedFields", Value(J(reset), after.GetAllocator()),
                      after.GetAllocator());
      json::SetMember(*json::MutableMember(after, "spec"), "replicas", Value(9), after.GetAllocator());
      REQUIRE(TrackUpdate(&live, after, Who("x", kT2), Deploy(), kDeploymentMain).ok());
      CHECK_FALSE(HasManagedFields(after));
    }
  }
  SECTION("a valid list replaces them") {
    Document after;
    after.CopyFrom(live, after.GetAllocator());
    Document mine = J(R"([{"manager":"someone","operation":"Update","apiVersion":"apps/v1",
        "time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:paused":{}}}}])");
    json::SetMember(*json::MutableMember(after, "metadata"), "managedFields", Value(mine, after.GetAllocator()),
                    after.GetAllocator());
    REQUIRE(TrackUpdate(&live, after, Who("x", kT2), Deploy(), kDeploymentMain).ok());
    CHECK(json::ToJson(ManagedFieldsOf(after)) == json::ToJson(mine));
  }
  SECTION("an invalid list is ignored") {
    Document after;
    after.CopyFrom(live, after.GetAllocator());
    json::SetMember(*json::MutableMember(after, "metadata"), "managedFields",
                    Value(J(R"([{"manager":"m","operation":"Delete","apiVersion":"v1"}])"), after.GetAllocator()),
                    after.GetAllocator());
    REQUIRE(TrackUpdate(&live, after, Who("x", kT2), Deploy(), kDeploymentMain).ok());
    CHECK(json::ToJson(ManagedFieldsOf(after)) == json::ToJson(ManagedFieldsOf(live)));
  }
  SECTION("through a subresource the live ones are kept") {
    Document after;
    after.CopyFrom(live, after.GetAllocator());
    json::SetMember(*json::MutableMember(after, "metadata"), "managedFields", Value(J("[{}]"), after.GetAllocator()),
                    after.GetAllocator());
    REQUIRE(TrackUpdate(&live, after, Who("x", kT2, "status"), Deploy(), ApplyScope::StatusSubresource()).ok());
    CHECK(json::ToJson(ManagedFieldsOf(after)) == json::ToJson(ManagedFieldsOf(live)));
  }
}

TEST_CASE("scope: status is neither applied nor owned through the main resource, only through /status") {
  std::string with_status = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"replicas":2},"status":{"replicas":7}})";
  Document v1 = MustApply(nullptr, with_status, Who("kubectl"));
  CHECK(At(v1, "status") == nullptr);
  CHECK(Fields(v1, "kubectl") == Compact(R"({"f:spec":{"f:replicas":{}}})"));

  // Through /status only status is applied; the entry records the subresource.
  Document v2 = MustApply(&v1, with_status, Who("kcm", kT2, "status"), Deploy(),
                          ApplyScope::StatusSubresource());
  CHECK(ToJsonAt(v2, "status") == R"({"replicas":7})");
  CHECK(ToJsonAt(v2, "spec") == R"({"replicas":2})");
  const Value* e = Entry(v2, "kcm", "Apply");
  REQUIRE(e != nullptr);
  CHECK(json::StringMember(*e, "subresource") == "status");
  CHECK(Fields(v2, "kcm") == Compact(R"({"f:status":{"f:replicas":{}}})"));

  // A status write by an updater records its subresource too, and the main resource's
  // applier never conflicts with it.
  Document v3;
  v3.CopyFrom(v2, v3.GetAllocator());
  Document cond = J(R"([{"type":"Available","status":"True"}])");
  json::SetMember(*json::MutableMember(v3, "status"), "conditions", Value(cond, v3.GetAllocator()), v3.GetAllocator());
  REQUIRE(TrackUpdate(&v2, v3, Who("kube-controller-manager", kT3, "status"), Deploy(),
                      ApplyScope::StatusSubresource()).ok());
  CHECK(Fields(v3, "kube-controller-manager", "Update") == Compact(R"({"f:status":{"f:conditions":{
      ".":{},"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}}}})"));
  CHECK(Conflicts(v3, with_status, Who("kubectl", kT4)).empty());
}

TEST_CASE("apply: an object written before tracking starts belongs to before-first-apply") {
  Document live = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","uid":"u1"},"spec":{"replicas":1,"paused":false}})");
  std::vector<FieldConflict> c = Conflicts(live, R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web"},"spec":{"replicas":3}})", Who("kubectl", kT2));
  REQUIRE(c.size() == 1);
  CHECK(c[0] == FieldConflict{"before-first-apply", "apps/v1", ".spec.replicas", "Update", ""});
  // The same value is no conflict; the old fields stay with before-first-apply.
  Document v = MustApply(&live, R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web"},"spec":{"replicas":1}})", Who("kubectl", kT2));
  CHECK(Fields(v, "before-first-apply", "Update") == Compact(R"({"f:spec":{"f:paused":{},"f:replicas":{}}})"));
  CHECK(Fields(v, "kubectl") == Compact(R"({"f:spec":{"f:replicas":{}}})"));
}

TEST_CASE("apply: kubectl server-side apply after client-side apply") {
  // Created by `kubectl apply` (client-side): an Update entry and the annotation.
  Document live = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","uid":"u1","annotations":{
        "kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"name\":\"web\"},\"spec\":{\"paused\":false,\"replicas\":2}}\n"}},
      "spec":{"replicas":2,"paused":false}})");
  REQUIRE(TrackUpdate(nullptr, live, Who("kubectl-client-side-apply"), Deploy(), kDeploymentMain).ok());

  // The field still has its last-applied value: the conflict is forgiven.
  const char* ssa = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}})";
  Document v = MustApply(&live, ssa, Who("kubectl", kT2));
  CHECK(ToJsonAt(v, "spec.replicas") == "3");
  CHECK(Fields(v, "kubectl-client-side-apply", "Update").find("f:replicas") == std::string::npos);
  // ... and the annotation now holds the new configuration, as Go's encoding/json writes it.
  const Value* annotation = At(v, "metadata.annotations");
  REQUIRE(annotation != nullptr);
  CHECK(json::StringMember(*annotation, "kubectl.kubernetes.io/last-applied-configuration") ==
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
        "\"spec\":{\"replicas\":3}}\n");

  // Another manager gets no such favour.
  CHECK(Conflicts(live, ssa, Who("helm", kT2)).size() == 1);
  // Nor does kubectl once someone else changed the field since.
  Document edited;
  edited.CopyFrom(live, edited.GetAllocator());
  json::SetMember(*json::MutableMember(edited, "spec"), "replicas", Value(5), edited.GetAllocator());
  REQUIRE(TrackUpdate(&live, edited, Who("kubectl-edit", kT3), Deploy(), kDeploymentMain).ok());
  std::vector<FieldConflict> c = Conflicts(edited, ssa, Who("kubectl", kT4));
  REQUIRE(c.size() == 1);
  CHECK(c[0].manager == "kubectl-edit");
}

TEST_CASE("apply: an Update owner keeps a field the applier stops naming") {
  const char* a = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"paused":true}})";
  Document v1 = MustApply(nullptr, a, Who("kubectl"));
  // An updater changes paused: it takes the field from the applier.
  Document v2;
  v2.CopyFrom(v1, v2.GetAllocator());
  json::SetMember(*json::MutableMember(v2, "spec"), "paused", Value(false), v2.GetAllocator());
  REQUIRE(TrackUpdate(&v1, v2, Who("ctl", kT2), Deploy(), kDeploymentMain).ok());
  Document v3 = MustApply(&v2, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2}})",
                          Who("kubectl", kT3));
  CHECK(ToJsonAt(v3, "spec.paused") == "false");
}

TEST_CASE("apply: untrusted configurations are rejected with kInvalidArgument") {
  Document live = MustApply(nullptr, kWebConfig, Who("kubectl"));
  struct Case {
    const char* config;
    const char* message;  // expected substring
  };
  const std::vector<Case> cases = {
      {R"([1,2])", "must be an object"},
      {R"("text")", "must be an object"},
      {R"({"metadata":"x"})", ".metadata: expected map, got string"},
      {R"({"metadata":{"name":"web","managedFields":[]}})", "metadata.managedFields must be nil"},
      {R"({"spec":{"template":{"spec":{"containers":"nginx"}}}})",
       ".spec.template.spec.containers: expected list, got string"},
      {R"({"spec":{"template":{"spec":{"containers":{"name":"a"}}}}})",
       ".spec.template.spec.containers: expected list, got map"},
      {R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"a","image":"x"}]}}}})",
       ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"},
      {R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})",
       ".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)"},
      {R"({"spec":{"template":{"spec":{"containers":[1]}}}})", "may not have non-map elements"},
      {R"({"spec":{"template":{"spec":{"containers":[null]}}}})", "may not have a null element"},
      {R"({"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80},{"containerPort":80,"protocol":"TCP"}]}]}}}})",
       "duplicate entries for key [containerPort=80,protocol=\"TCP\"]"},
      {R"({"metadata":{"finalizers":["a","a"]}})", ".metadata.finalizers: duplicate entries for key [=\"a\"]"},
      {R"({"metadata":{"finalizers":[{"a":1}]}})", "associative list without keys has an element that's a map type"},
      {R"({"metadata":{"finalizers":"a"}})", ".metadata.finalizers: expected list, got string"},
      {R"({"metadata":{"labels":["a"]}})", ".metadata.labels: expected map, got list"},
      {R"({"metadata":{"labels":3}})", ".metadata.labels: expected map, got number"},
  };
  for (const Case& c : cases) {
    INFO(c.config);
    Document applied = J(c.config);
    const Document* const live_ptr = &live;
    for (const Document* base : {static_cast<const Document*>(nullptr), live_ptr}) {
      Result<ApplyOutcome> out = Apply(base, applied, Who("kubectl"), false, Deploy(), kDeploymentMain);
      REQUIRE_FALSE(out.ok());
      CHECK(out.status().code() == StatusCode::kInvalidArgument);
      CHECK(out.status().message().find(c.message) != std::string::npos);
    }
  }

  // Deep nesting is refused before any recursion.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 5000; ++i) deep += "}";
  Document nested = J("{\"spec\":" + deep + "}");
  Result<ApplyOutcome> out = Apply(&live, nested, Who("kubectl"), false, Deploy(), kDeploymentMain);
  CHECK(out.status().code() == StatusCode::kInvalidArgument);
  Document after;
  after.CopyFrom(nested, after.GetAllocator());
  CHECK(TrackUpdate(&live, after, Who("x"), Deploy(), kDeploymentMain).code() == StatusCode::kInvalidArgument);
  Document scalar = J("7");
  CHECK(TrackUpdate(&live, scalar, Who("x"), Deploy(), kDeploymentMain).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("apply: odd live objects and values never crash") {
  // Broken managedFields in the stored object: apply refuses (kInternal), updates re-track.
  Document broken = J(R"({"metadata":{"name":"web","uid":"u","managedFields":[{"manager":"m","operation":"Update",
      "apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":"oops"}}]},"spec":{}})");
  Document cfg = J(R"({"spec":{"replicas":1}})");
  Result<ApplyOutcome> out = Apply(&broken, cfg, Who("kubectl"), false, Deploy(), kDeploymentMain);
  CHECK(out.status().code() == StatusCode::kInternal);
  Document after;
  after.CopyFrom(broken, after.GetAllocator());
  CHECK(TrackUpdate(&broken, after, Who("x"), Deploy(), kDeploymentMain).ok());

  // Stored lists that cannot be keyed are handled as atomic lists; mismatched types replace.
  Document odd = J(R"({"metadata":{"name":"web","labels":"notamap","finalizers":[{"x":1},{"x":1}]},
      "spec":{"template":{"spec":{"containers":[{"image":"nameless"},{"name":"a"},{"name":"a"}]}},"replicas":"two"}})");
  const std::vector<const char*> configs = {
      R"({"metadata":{"labels":{"a":"b"},"finalizers":["f"]}})",
      R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"}]}}}})",
      R"({"spec":{"replicas":3,"template":null}})",
      R"({"spec":[],"status":{"x":null}})",
      R"({"metadata":null,"spec":{"template":{"spec":{"containers":[]}}}})",
  };
  for (const char* c : configs) {
    INFO(c);
    Document applied = J(c);
    Result<ApplyOutcome> r = Apply(&odd, applied, Who("kubectl"), true, Deploy(), kDeploymentMain);
    REQUIRE(r.ok());
    Document updated;
    updated.CopyFrom(r->object, updated.GetAllocator());
    CHECK(TrackUpdate(&odd, updated, Who("x"), Deploy(), kDeploymentMain).ok());
    Result<ApplyOutcome> again = Apply(&r->object, applied, Who("kubectl"), false, nullptr, kNoStatus);
    CHECK(again.ok());
  }
  // A null in the configuration removes the field.
  Document v = MustApply(&odd, R"({"spec":{"replicas":null}})", Who("kubectl"), Deploy(), kDeploymentMain, true);
  CHECK(At(v, "spec.replicas") == nullptr);
}

TEST_CASE("apply: large maps and lists stay cheap") {
  // 10000 data keys and 2000 containers: quadratic work here would take minutes.
  std::string data, containers;
  for (int i = 0; i < 10000; ++i) data += (i ? "," : "") + ("\"k" + std::to_string(i) + "\":\"v\"");
  for (int i = 0; i < 2000; ++i) containers += (i ? "," : "") + ("{\"name\":\"c" + std::to_string(i) + "\"}");
  std::string cm = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{)" + data + "}}";
  Document v1 = MustApply(nullptr, cm, Who("a", kT1, "", "v1"), ConfigMap(), kNoStatus);
  std::string other = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k7":"w","new":"x"}})";
  std::vector<FieldConflict> c;
  {
    Document applied = J(other);
    Result<ApplyOutcome> out = Apply(&v1, applied, Who("b", kT2, "", "v1"), false, ConfigMap(), kNoStatus);
    REQUIRE(out.ok());
    c = out->conflicts;
  }
  REQUIRE(c.size() == 1);
  CHECK(c[0].field == ".data.k7");
  Document v2 = MustApply(&v1, other, Who("b", kT2, "", "v1"), ConfigMap(), kNoStatus, true);
  CHECK(ToJsonAt(v2, "data.k7") == R"("w")");
  CHECK(At(v2, "data")->MemberCount() == 10001);
  Document v3;
  v3.CopyFrom(v2, v3.GetAllocator());
  json::RemoveMember(*json::MutableMember(v3, "data"), "k9");
  REQUIRE(TrackUpdate(&v2, v3, Who("c", kT3, "", "v1"), ConfigMap(), kNoStatus).ok());
  CHECK(Fields(v3, "a").find("\"f:k9\"") == std::string::npos);

  std::string deploy = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
      "spec":{"template":{"spec":{"containers":[)" + containers + "]}}}}";
  Document d1 = MustApply(nullptr, deploy, Who("a"));
  Document d2 = MustApply(&d1, deploy, Who("a", kT2));
  CHECK(Time(d2, "a") == kT1);
}

TEST_CASE("Compare: a skipped member of the left side compares as absent") {
  Document before = J(R"({"metadata":{"name":"web","managedFields":[{"manager":"a"}]},
      "spec":{"replicas":1,"paused":false}})");
  Document after = J(R"({"metadata":{"name":"web"},"spec":{"replicas":2,"paused":false}})");
  const Shape root = RootShape(Deploy());
  auto encoded = [](const FieldSet& set) {
    Document d;
    return json::ToJson(set.ToFieldsV1(d.GetAllocator()));
  };
  const Value* skipped = json::Member(*json::Member(before, "metadata"), "managedFields");

  Comparison plain = Compare(&before, &after, root);
  CHECK(encoded(plain.removed) == R"({"f:metadata":{"f:managedFields":{}}})");
  Comparison skipping = Compare(&before, &after, root, skipped);
  CHECK(skipping.removed.empty());
  CHECK(skipping.added.empty());
  CHECK(encoded(skipping.modified) == R"({"f:spec":{"f:replicas":{}}})");

  // A member of the same name on the right is then new.
  json::SetMember(*json::MutableMember(after, "metadata"), "managedFields", Value(rapidjson::kArrayType),
                  after.GetAllocator());
  CHECK(encoded(Compare(&before, &after, root, skipped).added) == R"({"f:metadata":{"f:managedFields":{}}})");
  // Identical objects, members in another order or not, have no changes.
  CHECK(Compare(&before, &before, root).Same());
  Document reordered = J(R"({"spec":{"paused":false,"replicas":1},
      "metadata":{"managedFields":[{"manager":"a"}],"name":"web"}})");
  CHECK(Compare(&before, &reordered, root).Same());
}

TEST_CASE("FieldSet: fieldsV1 round trip, ordering and unknown elements") {
  const char* text = R"({"f:a":{},"f:b":{".":{},"f:c":{}},
      "f:l":{"k:{\"name\":\"x\"}":{".":{},"f:name":{}},"k:{\"port\":8,\"protocol\":\"TCP\"}":{}},
      "f:s":{"v:1":{},"v:2":{},"v:\"a\"":{},"v:true":{}},"f:z":{"i:0":{}}})";
  Document in = J(text);
  Result<FieldSet> set = FieldSet::FromFieldsV1(in);
  REQUIRE(set.ok());
  CHECK(set->size() == 11);
  CHECK(set->Has({PathElement::Field("b")}));
  CHECK_FALSE(set->Has({PathElement::Field("l")}));
  Document out;
  Value encoded = set->ToFieldsV1(out.GetAllocator());
  CHECK(json::ToJson(encoded) == Compact(text));
  // Keys are read in any order and written sorted; unknown prefixes are dropped.
  Document shuffled = J(R"({"f:b":{"f:c":{},".":{}},"r:new":{},"f:a":{}})");
  Result<FieldSet> s2 = FieldSet::FromFieldsV1(shuffled);
  REQUIRE(s2.ok());
  CHECK(json::ToJson(s2->ToFieldsV1(out.GetAllocator())) == R"({"f:a":{},"f:b":{".":{},"f:c":{}}})");
  for (const char* bad : {R"({"f:a":1})", R"({"k:[1]":{}})", R"({"v:{":{}})", R"({"i:x":{}})", "[]"}) {
    INFO(bad);
    Document d = J(bad);
    CHECK(FieldSet::FromFieldsV1(d).status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(PathString({PathElement::Field("spec"), PathElement::Value(PathValue::FromJson(J("\"a<b\""))),
                    PathElement::Index(2)}) == ".spec[=\"a<b\"][2]");
  CHECK(PathElement::Value(PathValue::FromJson(J("\"a<b\""))).Serialize() == "v:\"a\\u003cb\"");
}

// ---------------------------------------------------------------------------------------
// The field set's tree: cases a trie gets wrong easily.

Path P(std::initializer_list<std::string_view> fields) {
  Path p;
  for (std::string_view f : fields) p.push_back(PathElement::Field(f));
  return p;
}

PathElement KeyOf(std::string_view key_json) {
  Result<PathElement> pe = PathElement::Parse("k:" + std::string(key_json));
  REQUIRE(pe.ok());
  return *pe;
}

PathElement ValueOf(std::string_view json_text) { return PathElement::Value(PathValue::FromJson(J(json_text))); }

std::string V1(const FieldSet& set) {
  Document d;
  return json::ToJson(set.ToFieldsV1(d.GetAllocator()));
}

FieldSet FromV1(std::string_view text) {
  Document d = J(text);
  Result<FieldSet> set = FieldSet::FromFieldsV1(d);
  REQUIRE(set.ok());
  return std::move(set).value();
}

std::vector<std::string> Printed(const FieldSet& set) {
  std::vector<std::string> out;
  set.ForEach([&](const Path& p) { out.push_back(PathString(p)); });
  return out;
}

TEST_CASE("FieldSet: a member with members below it, and erasing it") {
  FieldSet s;
  s.Insert(P({"a", "b"}));
  s.Insert(P({"a"}));
  s.Insert(P({"a", "c", "d"}));
  CHECK(s.size() == 3);
  CHECK(s.Has(P({"a"})));
  CHECK(s.HasDescendant(P({"a"})));
  CHECK_FALSE(s.Has(P({"a", "c"})));  // only on the way to a member
  CHECK(s.Touches(P({"a", "c"})));
  CHECK_FALSE(s.HasDescendant(P({"a", "b"})));
  CHECK_FALSE(s.Touches(P({"b"})));
  CHECK(V1(s) == R"({"f:a":{".":{},"f:b":{},"f:c":{"f:d":{}}}})");
  CHECK(V1(s.Leaves()) == R"({"f:a":{"f:b":{},"f:c":{"f:d":{}}}})");

  // Erasing a member that has members below it keeps them, and its node ("." goes).
  s.Erase(P({"a"}));
  CHECK_FALSE(s.Has(P({"a"})));
  CHECK(s.HasDescendant(P({"a"})));
  CHECK(s.size() == 2);
  CHECK(V1(s) == R"({"f:a":{"f:b":{},"f:c":{"f:d":{}}}})");
  // Erasing what is not there changes nothing; a path that only leads to members is none.
  s.Erase(P({"a", "c"}));
  s.Erase(P({"x", "y"}));
  CHECK(s.size() == 2);
  // The last member below a node takes the node with it: no empty object is left that
  // would read back as a member.
  s.Erase(P({"a", "c", "d"}));
  CHECK(V1(s) == R"({"f:a":{"f:b":{}}})");
  CHECK_FALSE(s.Touches(P({"a", "c"})));
  s.Erase(P({"a", "b"}));
  CHECK(s.empty());
  CHECK(V1(s) == "{}");
  CHECK(s == FieldSet());
}

TEST_CASE("FieldSet: union, difference and intersection of overlapping trees") {
  const FieldSet a = FromV1(R"({"f:m":{".":{},"f:x":{},"f:y":{"f:z":{}}},"f:n":{"k:{\"name\":\"c\"}":{".":{},"f:image":{}}}})");
  const FieldSet b = FromV1(R"({"f:m":{"f:x":{},"f:y":{".":{},"f:w":{}}},"f:n":{"k:{\"name\":\"c\"}":{"f:image":{}}},"f:o":{}})");

  const FieldSet u = a.Union(b);
  CHECK(V1(u) == Compact(R"({"f:m":{".":{},"f:x":{},"f:y":{".":{},"f:w":{},"f:z":{}}},
      "f:n":{"k:{\"name\":\"c\"}":{".":{},"f:image":{}}},"f:o":{}})"));
  CHECK(u == b.Union(a));
  CHECK(u.size() == a.size() + b.size() - a.Intersection(b).size());

  const FieldSet d = a.Difference(b);
  CHECK(V1(d) == Compact(R"({"f:m":{".":{},"f:y":{"f:z":{}}},"f:n":{"k:{\"name\":\"c\"}":{}}})"));
  CHECK(V1(b.Difference(a)) == Compact(R"({"f:m":{"f:y":{".":{},"f:w":{}}},"f:o":{}})"));
  CHECK(V1(a.Intersection(b)) == Compact(R"({"f:m":{"f:x":{}},"f:n":{"k:{\"name\":\"c\"}":{"f:image":{}}}})"));
  CHECK(a.Difference(a).empty());
  CHECK(a.Intersection(FieldSet()).empty());

  // The in-place forms agree with the copying ones.
  FieldSet in_place = a;
  in_place.InsertAll(b);
  CHECK(in_place == u);
  in_place = a;
  in_place.EraseAll(b);
  CHECK(in_place == d);
  // Subtracting everything below a node removes the node.
  in_place.EraseAll(FromV1(R"({"f:m":{"f:y":{"f:z":{}}}})"));
  CHECK(V1(in_place) == Compact(R"({"f:m":{},"f:n":{"k:{\"name\":\"c\"}":{}}})"));

  // Recursive difference drops whole subtrees under a member of the prefixes.
  CHECK(V1(a.RecursiveDifference(FromV1(R"({"f:m":{"f:y":{}}})"))) ==
        Compact(R"({"f:m":{".":{},"f:x":{}},"f:n":{"k:{\"name\":\"c\"}":{".":{},"f:image":{}}}})"));
  CHECK(V1(a.RecursiveDifference(FromV1(R"({"f:m":{"f:y":{"f:q":{}}}})"))) == V1(a));
  FieldSet everything;
  everything.Insert({});
  CHECK(a.RecursiveDifference(everything).empty());

  // A set built in another order is the same set.
  FieldSet shuffled;
  a.ForEach([&](const Path& p) { shuffled.Insert(p); });
  FieldSet reversed;
  std::vector<Path> paths = a.Paths();
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) reversed.Insert(*it);
  CHECK(shuffled == a);
  CHECK(reversed == a);
  CHECK_FALSE(reversed == b);
}

TEST_CASE("FieldSet: fieldsV1 key order with fields, keys, values and indexes mixed") {
  FieldSet s;
  const Path base = P({"l"});
  auto under = [&](PathElement e) {
    Path p = base;
    p.push_back(std::move(e));
    return p;
  };
  // Inserted out of order on purpose.
  for (const PathElement& e : {PathElement::Index(10), PathElement::Index(2), ValueOf("null"), ValueOf(R"({"b":1,"a":2})"),
                               ValueOf("[1]"), ValueOf("true"), ValueOf("false"), ValueOf(R"("b")"), ValueOf(R"("a")"),
                               ValueOf("10"), ValueOf("9"), ValueOf("-1.5"), KeyOf(R"({"name":"b"})"),
                               KeyOf(R"({"name":"a","x":1})"), KeyOf(R"({"name":"a"})"), PathElement::Field("z"),
                               PathElement::Field("B"), PathElement::Field("a")}) {
    s.Insert(under(e));
  }
  CHECK(V1(s) == Compact(R"({"f:l":{"f:B":{},"f:a":{},"f:z":{},
      "k:{\"name\":\"a\"}":{},"k:{\"name\":\"a\",\"x\":1}":{},"k:{\"name\":\"b\"}":{},
      "v:-1.5":{},"v:9":{},"v:10":{},"v:\"a\"":{},"v:\"b\"":{},"v:false":{},"v:true":{},"v:[1]":{},
      "v:{\"a\":2,\"b\":1}":{},"v:null":{},"i:2":{},"i:10":{}}})"));
  CHECK(s.size() == 18);
  // Numbers compare by value; keys are the same element however fieldsV1 spells them.
  CHECK(s.Has(under(ValueOf("10.0"))));
  CHECK(s.Has(under(KeyOf(R"( { "x" : 1.0 , "name" : "a" } )"))));
  CHECK_FALSE(s.Has(under(KeyOf(R"({"name":"a","x":2})"))));
  // Read back (keys in another order, another spelling) it is the same set, written the same.
  const FieldSet read = FromV1(R"({"f:l":{"i:10":{},"v:10.0":{},"k:{\"x\":1,\"name\":\"a\"}":{},"f:z":{},
      "v:{\"a\":2.0,\"b\":1}":{},"v:null":{},"v:[1]":{},"v:true":{},"v:false":{},"v:\"b\"":{},"v:\"a\"":{},
      "v:9":{},"v:-1.5":{},"k:{\"name\":\"b\"}":{},"k:{ \"name\":\"a\" }":{},"f:B":{},"f:a":{},"i:2":{}}})");
  CHECK(read == s);
  CHECK(V1(read) == V1(s));
  // Repeated keys (one spelled differently) merge into one node, members and children alike.
  const FieldSet merged = FromV1(R"({"f:a":{"v:1":{}},"f:b":{},"f:a":{"v:1.0":{"f:x":{}}}})");
  CHECK(V1(merged) == Compact(R"({"f:a":{"v:1":{".":{},"f:x":{}}},"f:b":{}})"));
  CHECK(Printed(merged) == std::vector<std::string>{".a[=1]", ".a[=1].x", ".b"});
}

TEST_CASE("FieldSet: ForEach visits a path before the paths below it, siblings in order") {
  const FieldSet s = FromV1(R"({"f:spec":{".":{},"f:containers":{"k:{\"name\":\"b\"}":{".":{},"f:image":{}},
      "k:{\"name\":\"a\"}":{"f:image":{}}},"f:replicas":{}},"f:metadata":{"f:labels":{"f:x":{}}}})");
  CHECK(Printed(s) == std::vector<std::string>{
                          ".metadata.labels.x", ".spec", ".spec.containers[name=\"a\"].image",
                          ".spec.containers[name=\"b\"]", ".spec.containers[name=\"b\"].image", ".spec.replicas"});
  CHECK(s.Paths().size() == s.size());
  CHECK(Printed(s.Leaves()) == std::vector<std::string>{".metadata.labels.x", ".spec.containers[name=\"a\"].image",
                                                          ".spec.containers[name=\"b\"].image", ".spec.replicas"});
  const FieldSet::Node* spec = s.root().FindField("spec");
  REQUIRE(spec != nullptr);
  CHECK(spec->member());
  REQUIRE(spec->children().size() == 2);
  CHECK(spec->children()[0].element() == PathElement::Field("containers"));
  CHECK(spec->Find(PathElement::Field("replicas")) != nullptr);
  CHECK(spec->FindField("status") == nullptr);
}

TEST_CASE("FieldSet: the depth limit") {
  auto nested = [](int levels) {
    std::string text;
    for (int i = 0; i < levels; ++i) text += "{\"f:a\":";
    text += "{}";
    for (int i = 0; i < levels; ++i) text += "}";
    return text;
  };
  // A member kMaxDepth elements long is read and written back.
  Document ok = J(nested(FieldSet::kMaxDepth));
  Result<FieldSet> deep = FieldSet::FromFieldsV1(ok);
  REQUIRE(deep.ok());
  CHECK(deep->size() == 1);
  Path path(FieldSet::kMaxDepth, PathElement::Field("a"));
  CHECK(deep->Has(path));
  CHECK(V1(*deep) == nested(FieldSet::kMaxDepth));
  FieldSet copy = *deep;
  copy.Erase(path);
  CHECK(copy.empty());
  // One more is refused, as is anything far deeper, without deep recursion.
  for (int levels : {FieldSet::kMaxDepth + 1, 20000}) {
    Document too_deep = J(nested(levels));
    Result<FieldSet> r = FieldSet::FromFieldsV1(too_deep);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() == "fieldsV1: nested too deeply");
  }
  // Broken trees name where they broke.
  Document bad = J(R"({"f:spec":{"k:{\"name\":\"a\"}":{"v:1":[]}}})");
  CHECK(FieldSet::FromFieldsV1(bad).status().message() ==
        R"(fieldsV1: expected an object at ".spec[name="a"][=1]")");
}

TEST_CASE("FieldSet::Builder: siblings in any order and more than once, several outputs") {
  FieldSet::Builder b(2);
  const PathElement key = KeyOf(R"({"name":"x"})");
  b.PushField("z");
  b.MarkMember(0);
  b.Pop();
  b.PushField("a");
  b.PushField("unmarked");  // makes no node
  b.Pop();
  b.Push(key);
  CHECK(b.CurrentPath() == ".a[name=\"x\"]");
  b.PushField("image");
  b.MarkMember(1);
  b.Pop();
  b.MarkMember(0);
  b.Pop();
  b.PushField("c");
  b.MarkMember(0);
  b.Pop();
  b.PushField("b");
  b.MarkMember(0);
  b.Pop();
  b.PushField("c");  // again: merged with the first "c"
  b.PushField("d");
  b.MarkMember(0);
  b.Pop();
  b.Pop();
  b.Pop();
  b.PushField("m");
  b.MarkMember(1);
  b.Pop();
  CHECK(b.depth() == 0);
  const FieldSet first = b.Finish(0);
  const FieldSet second = b.Finish(1);
  CHECK(V1(first) == Compact(R"({"f:a":{"f:b":{},"f:c":{".":{},"f:d":{}},"k:{\"name\":\"x\"}":{}},"f:z":{}})"));
  CHECK(V1(second) == Compact(R"({"f:a":{"k:{\"name\":\"x\"}":{"f:image":{}}},"f:m":{}})"));
  FieldSet expected;
  expected.Insert(P({"a", "b"}));
  expected.Insert(P({"a", "c"}));
  expected.Insert(P({"a", "c", "d"}));
  expected.Insert({PathElement::Field("a"), key});
  expected.Insert(P({"z"}));
  CHECK(first == expected);
}

TEST_CASE("apply: the first repeated key of a long list is the one reported") {
  // Items 5 and 17 repeat items 2 and 0; item 5 comes first in the list.
  std::string items;
  for (int i = 0; i < 20; ++i) {
    int v = i == 5 ? 2 : i == 17 ? 0 : i;
    items += (i ? "," : "") + ("\"f" + std::to_string(v) + "\"");
  }
  Document config = J(R"({"metadata":{"name":"web","finalizers":[)" + items + "]}}");
  Result<ApplyOutcome> out = Apply(nullptr, config, Who("kubectl"), false, Deploy(), kDeploymentMain);
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message() == ".metadata.finalizers: duplicate entries for key [=\"f2\"]");
  // A repeated key after an item that cannot be keyed: the item is reported.
  std::string odd = R"("a","b",{"x":1})";
  for (int i = 0; i < 20; ++i) odd += ",\"a\"";
  Document config2 = J(R"({"metadata":{"name":"web","finalizers":[)" + odd + "]}}");
  out = Apply(nullptr, config2, Who("kubectl"), false, Deploy(), kDeploymentMain);
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message() ==
        ".metadata.finalizers: element 2: associative list without keys has an element that's a map type");
  // A long list without repeats is owned item by item.
  std::string unique;
  for (int i = 0; i < 30; ++i) unique += (i ? "," : "") + ("\"f" + std::to_string(29 - i) + "\"");
  Document v = MustApply(nullptr, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":[)" +
                                      unique + "]}}",
                         Who("kubectl"));
  std::string fields = Fields(v, "kubectl");
  CHECK(fields.find("\"v:\\\"f0\\\"\":{},\"v:\\\"f1\\\"\":{},\"v:\\\"f10\\\"\"") != std::string::npos);
}

TEST_CASE("managedFields: more than ten updaters are merged into ancient-changes") {
  ManagedFields managed;
  for (int i = 0; i < 12; ++i) {
    ManagedEntry e{"m" + std::to_string(i), kOperationUpdate, "apps/v1", "",
                   "2026-11-24T10:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ":00Z", {}};
    e.fields.Insert({PathElement::Field("f" + std::to_string(i))});
    managed[IdentityKey(e)] = e;
  }
  CapUpdateManagers(managed, 10);
  CHECK(managed.size() == 10);
  const ManagedEntry& bucket = managed.at(IdentityKey("ancient-changes", kOperationUpdate, "apps/v1", ""));
  CHECK(bucket.fields.size() == 3);  // m0, m1 and m2
  CHECK(bucket.time == std::optional<std::string>("2026-11-24T10:02:00Z"));
  CHECK(managed.count(IdentityKey("m3", kOperationUpdate, "apps/v1", "")) == 1);
  CHECK(UnixSeconds("1970-01-02T00:00:01Z") == 86401);
  CHECK(UnixSeconds("1970-01-01T01:00:00+01:00") == 0);
}

}  // namespace
}  // namespace kite::apply
