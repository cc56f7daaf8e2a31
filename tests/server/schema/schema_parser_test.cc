#include "src/server/schema/schema_parser.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "src/server/schema/schema_registry.h"

namespace kite::schema {
namespace {

Result<SchemaRegistry> ParseOne(std::string_view text) {
  SchemaSource source{"test.kschema", text};
  return ParseSchemas(std::span<const SchemaSource>(&source, 1));
}

std::string ErrorOf(std::string_view text) {
  Result<SchemaRegistry> r = ParseOne(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  return r.status().message();
}

constexpr std::string_view kHeader = "package t.v1;\ngroup \"t\";\nversion \"v1\";\n";

TEST_CASE("the built-in schema parses and has every covered kind") {
  Result<SchemaRegistry> parsed = ParseSchemas(BuiltinSchemaSources());
  INFO((parsed.ok() ? std::string() : parsed.status().message()));
  REQUIRE(parsed.ok());
  const SchemaRegistry& builtin = SchemaRegistry::Builtin();
  struct Gvk {
    const char* group;
    const char* version;
    const char* kind;
  };
  const Gvk kinds[] = {
      {"", "v1", "Namespace"},
      {"", "v1", "Pod"},
      {"", "v1", "Service"},
      {"", "v1", "Endpoints"},
      {"", "v1", "ConfigMap"},
      {"", "v1", "Secret"},
      {"", "v1", "ServiceAccount"},
      {"", "v1", "Node"},
      {"", "v1", "Event"},
      {"", "v1", "PersistentVolume"},
      {"", "v1", "PersistentVolumeClaim"},
      {"", "v1", "LimitRange"},
      {"", "v1", "ResourceQuota"},
      {"", "v1", "Binding"},
      {"", "v1", "PodTemplate"},
      {"", "v1", "ReplicationController"},
      {"", "v1", "PodList"},
      {"apps", "v1", "Deployment"},
      {"apps", "v1", "ReplicaSet"},
      {"apps", "v1", "StatefulSet"},
      {"apps", "v1", "DaemonSet"},
      {"apps", "v1", "ControllerRevision"},
      {"batch", "v1", "Job"},
      {"batch", "v1", "CronJob"},
      {"meta.k8s.io", "v1", "Status"},
      {"policy", "v1", "PodDisruptionBudget"},
      {"policy", "v1", "Eviction"},
      {"autoscaling", "v1", "Scale"},
      {"autoscaling", "v1", "HorizontalPodAutoscaler"},
      {"autoscaling", "v2", "HorizontalPodAutoscaler"},
      {"coordination.k8s.io", "v1", "Lease"},
      {"discovery.k8s.io", "v1", "EndpointSlice"},
      {"networking.k8s.io", "v1", "Ingress"},
      {"networking.k8s.io", "v1", "IngressClass"},
      {"networking.k8s.io", "v1", "NetworkPolicy"},
      {"storage.k8s.io", "v1", "StorageClass"},
      {"rbac.authorization.k8s.io", "v1", "Role"},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole"},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding"},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"},
      {"scheduling.k8s.io", "v1", "PriorityClass"},
      {"events.k8s.io", "v1", "Event"},
      {"authorization.k8s.io", "v1", "SelfSubjectAccessReview"},
      {"authorization.k8s.io", "v1", "SubjectAccessReview"},
      {"authentication.k8s.io", "v1", "TokenReview"},
      {"authentication.k8s.io", "v1", "TokenRequest"},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition"},
  };
  for (const Gvk& k : kinds) {
    INFO(k.group << "/" << k.version << "/" << k.kind);
    const MessageSchema* m = builtin.FindKind(k.group, k.version, k.kind);
    REQUIRE(m != nullptr);
    CHECK(m->is_kind);
    CHECK(m->kind == k.kind);
  }
  CHECK(builtin.FindKind("", "v1", "NoSuchKind") == nullptr);
  CHECK(builtin.FindKind("apps", "v2", "Deployment") == nullptr);
  // Types of meta.k8s.io/v1 answer in every group/version.
  const MessageSchema* status = builtin.FindKind("apps", "v1", "Status");
  REQUIRE(status != nullptr);
  CHECK(status->FullName() == "meta.v1.Status");
  const MessageSchema* del = builtin.FindKind("", "v1", "DeleteOptions");
  REQUIRE(del != nullptr);
  CHECK(del->FieldByJsonName("propagationPolicy") != nullptr);

  // Every message-typed field points at a message.
  for (const auto& m : builtin.messages()) {
    for (const FieldSchema& f : m->fields) {
      INFO(m->FullName() << "." << f.json_name);
      if (f.kind == FieldKind::kMessage) CHECK(f.message != nullptr);
      if (f.kind == FieldKind::kMap && f.map_value_kind == FieldKind::kMessage)
        CHECK(f.map_value_message != nullptr);
    }
  }
}

TEST_CASE("the built-in schema carries pointers, inline members and patch strategies") {
  const SchemaRegistry& r = SchemaRegistry::Builtin();
  const MessageSchema* spec = r.FindMessage("apps.v1.DeploymentSpec");
  REQUIRE(spec != nullptr);
  const FieldSchema* replicas = spec->FieldByJsonName("replicas");
  REQUIRE(replicas != nullptr);
  CHECK(replicas->ptr);
  CHECK(replicas->number == 1);
  CHECK(replicas->kind == FieldKind::kInt32);
  CHECK(spec->FieldByJsonName("strategy")->strategy_retain_keys);

  const MessageSchema* pod_spec = r.FindMessage("core.v1.PodSpec");
  REQUIRE(pod_spec != nullptr);
  const FieldSchema* containers = pod_spec->FieldByJsonName("containers");
  REQUIRE(containers != nullptr);
  CHECK(containers->repeated);
  CHECK(containers->merge_key == "name");
  CHECK(containers->strategy_merge);
  CHECK(containers->message == r.FindMessage("core.v1.Container"));
  const FieldSchema* volumes = pod_spec->FieldByJsonName("volumes");
  CHECK(volumes->strategy_merge);
  CHECK(volumes->strategy_retain_keys);

  // Volume's source members are inline: "configMap" is found through Volume.volumeSource.
  const MessageSchema* volume = r.FindMessage("core.v1.Volume");
  REQUIRE(volume != nullptr);
  CHECK(volume->FieldByJsonName("configMap") == nullptr);
  const FieldSchema* config_map = volume->FindJsonField("configMap");
  REQUIRE(config_map != nullptr);
  CHECK(config_map->message == r.FindMessage("core.v1.ConfigMapVolumeSource"));
  CHECK(volume->FindJsonField("volumeSource") == nullptr);

  const MessageSchema* meta = r.FindMessage("meta.v1.ObjectMeta");
  CHECK(meta->FieldByJsonName("creationTimestamp")->kind == FieldKind::kTime);
  CHECK(meta->FieldByJsonName("labels")->kind == FieldKind::kMap);
  CHECK(meta->FieldByJsonName("ownerReferences")->merge_key == "uid");
  CHECK(meta->FieldByJsonName("finalizers")->strategy_merge);
  CHECK(r.FindMessage("meta.v1.Verbs")->is_wrapper);
  CHECK(r.FindMessage("core.v1.Secret")->FieldByJsonName("data")->map_value_kind ==
        FieldKind::kBytes);
}

TEST_CASE("a small schema parses with every option") {
  Result<SchemaRegistry> r = ParseOne(R"(
    // a comment
    package demo.v1;
    group "demo.example.com";
    version "v1";
    message Thing [kind] {
      Inner inner = 3 [inline];
      int32 count = 1 [ptr];
      repeated Item items = 2 [merge_key=name, strategy="merge,retainKeys"];
      repeated string tags = 4 [strategy=merge, retainKeys];
      map<string, Item> byName = 5;
      string ref = 6 [json="$ref"];
    }
    message Inner { string note = 1; }
    message Item { string name = 1; Quantity size = 2; }
    message Names [wrapper] { repeated string items = 1; }
    message Other [kind=Renamed] { Names names = 1; }
  )");
  INFO((r.ok() ? std::string() : r.status().message()));
  REQUIRE(r.ok());
  const MessageSchema* thing = r->FindKind("demo.example.com", "v1", "Thing");
  REQUIRE(thing != nullptr);
  CHECK(thing->fields.size() == 6);
  CHECK(thing->FieldByNumber(1)->ptr);
  const FieldSchema* items = thing->FieldByJsonName("items");
  CHECK(items->merge_key == "name");
  CHECK(items->strategy_merge);
  CHECK(items->strategy_retain_keys);
  const FieldSchema* tags = thing->FieldByJsonName("tags");
  CHECK(tags->strategy_merge);
  CHECK(tags->strategy_retain_keys);
  CHECK(thing->FieldByJsonName("byName")->map_value_message == r->FindMessage("demo.v1.Item"));
  CHECK(thing->FieldByJsonName("$ref") != nullptr);
  CHECK(thing->FindJsonField("note") != nullptr);
  CHECK(r->FindKind("demo.example.com", "v1", "Renamed") == r->FindMessage("demo.v1.Other"));
  CHECK(r->FindKind("demo.example.com", "v1", "Other") == nullptr);
}

TEST_CASE("types may be referenced across files") {
  SchemaSource sources[] = {
      {"a.kschema",
       "package a.v1; group \"a\"; version \"v1\"; message A [kind] { b.v1.B b = 1; }"},
      {"b.kschema", "package b.v1; group \"b\"; version \"v1\"; message B { string x = 1; }"},
  };
  Result<SchemaRegistry> r = ParseSchemas(sources);
  REQUIRE(r.ok());
  CHECK(r->FindMessage("a.v1.A")->fields[0].message == r->FindMessage("b.v1.B"));
}

TEST_CASE("parse errors name the file and line") {
  std::string h(kHeader);  // 3 lines
  CHECK(ErrorOf(h + "message A {\n  string x = 1\n}\n") == "test.kschema:6: expected ';', got '}'");
  CHECK(ErrorOf(h + "message A {\n  Missing x = 1;\n}\n") ==
        "test.kschema:5: unknown type 'Missing' of field A.x");
  CHECK(ErrorOf(h + "message A {\n  string x = 1;\n  string y = 1;\n}\n") ==
        "test.kschema:6: field number 1 used twice in A");
  CHECK(ErrorOf(h + "message A {\n  string x = 1;\n  int32 x = 2;\n}\n") ==
        "test.kschema:6: field name 'x' used twice in A");
  CHECK(ErrorOf(h + "message A {\n  string x = 1 [bogus];\n}\n") ==
        "test.kschema:5: unknown field option 'bogus'");
  CHECK(ErrorOf(h + "message A {\n  string x = 1 [strategy=sideways];\n}\n") ==
        "test.kschema:5: unknown patch strategy 'sideways'");
  CHECK(ErrorOf(h + "message A {\n  map<int32, string> x = 1;\n}\n") ==
        "test.kschema:5: map keys must be string, got 'int32'");
  CHECK(ErrorOf(h + "message A {\n  string x = 1 [inline];\n}\n") ==
        "test.kschema:5: [inline] needs a non-repeated message field");
  CHECK(ErrorOf(h + "message A {\n  string x = 0;\n}\n") ==
        "test.kschema:5: field number 0 out of range 1..536870911");
  CHECK(ErrorOf(h + "\n\ngroup \"unterminated;\n") == "test.kschema:6: unterminated string");
  CHECK(ErrorOf(h + "message A { string x = 1; }\nmessage A { string y = 1; }\n") ==
        "test.kschema:5: message t.v1.A already declared at test.kschema:4");
  CHECK(ErrorOf(h + "message W [wrapper] {\n  string x = 1;\n}\n") ==
        "test.kschema:4: [wrapper] message W needs exactly one repeated field = 1");
  CHECK(ErrorOf(h + "message A {\n  string x = 1;\n") ==
        "test.kschema:6: missing '}' of message A");
  CHECK(ErrorOf("message A { string x = 1; }") ==
        "test.kschema:1: 'package' must come before the first message");
  CHECK(ErrorOf("package t.v1;\nmessage A { string x = 1; }") ==
        "test.kschema:1: missing 'group' or 'version' statement");
  CHECK(ErrorOf(h + "message A { string x = 1; } @") == "test.kschema:4: unexpected character '@'");
  CHECK(ErrorOf(h + "option sideways;") == "test.kschema:4: unknown option 'sideways'");
  CHECK(ErrorOf(h + "message A [kind] { string x = 1; }\nmessage B [kind=A] { string x = 1; }") ==
        "test.kschema:5: kind t/v1/A declared twice");
  CHECK(ErrorOf(h + "message Time { string x = 1; }") ==
        "test.kschema:4: message name 'Time' is a built-in type");
  CHECK(ErrorOf(h + "message U [oneof, kind] { string x = 1; }") ==
        "test.kschema:4: [oneof] message U needs fields and cannot be a kind or a wrapper");
  CHECK(ErrorOf(h + "message U [oneof] { string x = 1; }\nmessage A { U u = 1 [inline]; }") ==
        "test.kschema:5: [inline] field cannot have a [wrapper] or [oneof] type");
}

}  // namespace
}  // namespace kite::schema
