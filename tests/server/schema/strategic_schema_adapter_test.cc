#include "src/server/schema/strategic_schema_adapter.h"

#include <catch2/catch.hpp>

#include "src/server/patch/strategic_merge_patch.h"
#include "tests/server/schema/proto_builder.h"

namespace kite::schema {
namespace {

using patch::StrategicSchema;

const StrategicSchema* Walk(const StrategicSchema* s,
                            std::initializer_list<std::string_view> path) {
  for (std::string_view name : path) {
    REQUIRE(s != nullptr);
    std::optional<StrategicSchema::Field> f = s->Lookup(name);
    INFO(name);
    REQUIRE(f.has_value());
    s = f->type;
  }
  return s;
}

TEST_CASE("merge keys and strategies come from the registry") {
  const StrategicSchema* deployment = StrategicSchemaFor("apps", "v1", "Deployment");
  REQUIRE(deployment != nullptr);
  CHECK(StrategicSchemaFor("apps", "v1", "NoSuchKind") == nullptr);
  CHECK(deployment->Lookup("nonsense") == std::nullopt);

  const StrategicSchema* pod_spec = Walk(deployment, {"spec", "template", "spec"});
  REQUIRE(pod_spec != nullptr);
  auto containers = pod_spec->Lookup("containers");
  REQUIRE(containers.has_value());
  CHECK(containers->merge_list);
  CHECK(containers->merge_key == "name");
  CHECK_FALSE(containers->retain_keys);
  REQUIRE(containers->type != nullptr);
  auto ports = containers->type->Lookup("ports");
  CHECK(ports->merge_key == "containerPort");
  auto command = containers->type->Lookup("command");
  CHECK_FALSE(command->merge_list);
  CHECK(command->type == nullptr);

  auto volumes = pod_spec->Lookup("volumes");
  CHECK(volumes->merge_list);
  CHECK(volumes->retain_keys);
  // Volume sources are inline members of a volume.
  auto config_map = volumes->type->Lookup("configMap");
  REQUIRE(config_map.has_value());
  CHECK(config_map->type != nullptr);
  CHECK(config_map->type->Lookup("items").has_value());

  auto strategy = Walk(deployment, {"spec"})->Lookup("strategy");
  CHECK(strategy->retain_keys);
  CHECK_FALSE(strategy->merge_list);

  const StrategicSchema* meta = Walk(deployment, {"metadata"});
  auto labels = meta->Lookup("labels");
  CHECK(labels->is_map);
  CHECK(labels->type == nullptr);
  auto finalizers = meta->Lookup("finalizers");
  CHECK(finalizers->merge_list);
  CHECK(finalizers->merge_key.empty());
  CHECK(meta->Lookup("ownerReferences")->merge_key == "uid");

  auto limits = Walk(pod_spec, {"containers", "resources"})->Lookup("limits");
  CHECK(limits->is_map);
}

TEST_CASE("the adapter drives strategic merge patch of a Deployment") {
  rapidjson::Document target = testing::Json(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "1"}},
    "spec": {"template": {"spec": {"containers": [
      {"name": "web", "image": "nginx:1.26", "ports": [{"containerPort": 80}]},
      {"name": "sidecar", "image": "envoy"}]}}}})");
  Status s = patch::ApplyStrategicMergePatch(target, R"({
    "metadata": {"labels": {"b": "2"}},
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})",
                                             StrategicSchemaFor("apps", "v1", "Deployment"));
  REQUIRE(s.ok());
  INFO(testing::ToString(target));
  CHECK(target == testing::Json(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "1", "b": "2"}},
    "spec": {"template": {"spec": {"containers": [
      {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
      {"name": "sidecar", "image": "envoy"}]}}}})"));
}

}  // namespace
}  // namespace kite::schema
