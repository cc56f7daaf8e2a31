// Endpoints and EndpointSlices follow the pods a Service selects, their readiness and IPs.
#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/endpoints_controller.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using testing::ApiFixture;
using testing::Eventually;

std::string Pod(const std::string& name, const std::string& app) {
  return R"({"metadata":{"name":")" + name + R"(","labels":{"app":")" + app +
         R"("}},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"nginx","ports":[{"name":"http","containerPort":8080}]}]}})";
}

void SetStatus(ApiFixture& api, const std::string& name, const std::string& ip, bool ready) {
  std::string patch = R"({"status":{"phase":"Running","podIP":")" + ip + R"(","conditions":[{"type":"Ready","status":")" +
                      (ready ? "True" : "False") + R"("}]}})";
  REQUIRE(api.Client(client::kPods).Patch("default", name, client::PatchType::kStrategic, patch, "status").ok());
}

TEST_CASE("endpoints and slices list the selected pods with resolved ports and readiness") {
  ApiFixture api;
  ControllerManager manager(api.transport());
  manager.Add(std::make_unique<EndpointsController>());
  REQUIRE(manager.Start().ok());

  api.Create(client::kPods, "default", Pod("web-1", "web"));
  api.Create(client::kPods, "default", Pod("web-2", "web"));
  api.Create(client::kPods, "default", Pod("web-3", "web"));  // no IP yet
  api.Create(client::kPods, "default", Pod("db-1", "db"));
  SetStatus(api, "web-1", "10.42.0.11", true);
  SetStatus(api, "web-2", "10.42.0.12", false);
  SetStatus(api, "db-1", "10.42.0.13", true);
  api.Create(client::kServices, "default",
             R"({"metadata":{"name":"web","labels":{"tier":"front"}},"spec":{"selector":{"app":"web"},)"
             R"("ports":[{"name":"http","port":80,"targetPort":"http"},{"name":"metrics","port":9090}]}})");

  auto endpoints = api.Client(client::kEndpoints);
  std::string got;
  CHECK(Eventually([&] {
    auto e = endpoints.Get("default", "web");
    if (!e.ok() || !json::Member(*e, "subsets")) return false;
    got = json::ToJson(*json::Member(*e, "subsets"));
    return got.find("10.42.0.12") != std::string::npos;
  }));
  CHECK(got.find(R"("addresses":[{"ip":"10.42.0.11","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"web-1")") !=
        std::string::npos);
  CHECK(got.find(R"("notReadyAddresses":[{"ip":"10.42.0.12")") != std::string::npos);
  CHECK(got.find(R"({"name":"http","port":8080,"protocol":"TCP"})") != std::string::npos);
  CHECK(got.find(R"({"name":"metrics","port":9090,"protocol":"TCP"})") != std::string::npos);
  CHECK(got.find("10.42.0.13") == std::string::npos);

  auto slices = api.Client(client::kEndpointSlices);
  std::string slice_json;
  CHECK(Eventually([&] {
    auto list = slices.List("default", {.label_selector = "kubernetes.io/service-name=web"});
    if (!list.ok() || json::Member(*list, "items")->Size() != 1) return false;
    slice_json = json::ToJson((*json::Member(*list, "items"))[0]);
    return slice_json.find("10.42.0.12") != std::string::npos;
  }));
  CHECK(slice_json.find(R"("addressType":"IPv4")") != std::string::npos);
  CHECK(slice_json.find(R"("addresses":["10.42.0.11"],"conditions":{"ready":true,"serving":true,"terminating":false})") !=
        std::string::npos);
  CHECK(slice_json.find(R"("addresses":["10.42.0.12"],"conditions":{"ready":false,"serving":false,"terminating":false})") !=
        std::string::npos);
  CHECK(slice_json.find(R"("kind":"Service","name":"web")") != std::string::npos);
  CHECK(slice_json.find(R"("tier":"front")") != std::string::npos);

  // Readiness and new IPs flow through; the Service's deletion removes its Endpoints.
  SetStatus(api, "web-2", "10.42.0.12", true);
  SetStatus(api, "web-3", "10.42.0.14", true);
  CHECK(Eventually([&] {
    auto e = endpoints.Get("default", "web");
    if (!e.ok()) return false;
    std::string s = json::ToJson(*e);
    return s.find("notReadyAddresses") == std::string::npos && s.find("10.42.0.14") != std::string::npos;
  }));
  REQUIRE(api.Client(client::kServices).Delete("default", "web").ok());
  CHECK(Eventually([&] { return endpoints.Get("default", "web").status().code() == StatusCode::kNotFound; }));
  manager.Stop();
}

}  // namespace
}  // namespace kite::controllers
