#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/service_account_controller.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using testing::ApiFixture;
using testing::Eventually;

TEST_CASE("every namespace gets a default service account, re-created when deleted") {
  ApiFixture api;
  ControllerManager manager(api.transport());
  manager.Add(std::make_unique<ServiceAccountController>());
  REQUIRE(manager.Start().ok());
  auto sas = api.Client(client::kServiceAccounts);

  CHECK(Eventually([&] { return sas.Get("kube-system", "default").ok(); }));
  api.Create(client::kNamespaces, "", R"({"metadata":{"name":"team-a"}})");
  CHECK(Eventually([&] { return sas.Get("team-a", "default").ok(); }));

  REQUIRE(sas.Delete("team-a", "default").ok());
  CHECK(Eventually([&] { return sas.Get("team-a", "default").ok(); }));
  manager.Stop();
}

}  // namespace
}  // namespace kite::controllers
