#include "src/server/controllers/root_ca_publisher.h"

#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using testing::ApiFixture;
using testing::Eventually;

constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

// Whether `ns` has the kube-root-ca.crt ConfigMap with the CA and the description.
bool Published(const client::ResourceClient& config_maps, std::string_view ns) {
  auto cm = config_maps.Get(ns, kRootCaConfigMapName);
  if (!cm.ok()) return false;
  const rapidjson::Value* data = json::Member(*cm, "data");
  return data && data->MemberCount() == 1 && json::StringMember(*data, "ca.crt") == kPem &&
         AnnotationOf(*cm, "kubernetes.io/description").value_or("") == kRootCaDescription;
}

TEST_CASE("every namespace gets kube-root-ca.crt, restored when deleted or changed") {
  ApiFixture api;
  ControllerManager manager(api.transport());
  manager.Add(std::make_unique<RootCaPublisher>(kPem));
  REQUIRE(manager.Start().ok());
  auto config_maps = api.Client(client::kConfigMaps);

  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    INFO(ns);
    CHECK(Eventually([&] { return Published(config_maps, ns); }));
  }
  api.Create(client::kNamespaces, "", R"({"metadata":{"name":"team-a"}})");
  CHECK(Eventually([&] { return Published(config_maps, "team-a"); }));

  REQUIRE(config_maps.Delete("team-a", kRootCaConfigMapName).ok());
  CHECK(Eventually([&] { return Published(config_maps, "team-a"); }));

  // Changed data and a lost annotation are put back; other changes (labels) stay.
  REQUIRE(config_maps
              .Patch("team-a", kRootCaConfigMapName, client::PatchType::kMerge,
                     R"({"metadata":{"labels":{"x":"y"},"annotations":null},"data":{"ca.crt":"forged","extra":"1"}})")
              .ok());
  CHECK(Eventually([&] { return Published(config_maps, "team-a"); }));
  auto cm = config_maps.Get("team-a", kRootCaConfigMapName);
  REQUIRE(cm.ok());
  CHECK(json::StringMember(*LabelsOf(*cm), "x") == "y");
  manager.Stop();
}

}  // namespace
}  // namespace kite::controllers
