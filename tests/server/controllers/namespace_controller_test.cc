// Namespace deletion through the API server and the namespace controller.
#include "src/server/controllers/namespace_controller.h"

#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/crd_controller.h"
#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using testing::Eventually;

struct NamespaceFixture {
  testing::ApiFixture api;
  ControllerManager manager{api.transport()};
  client::ResourceClient namespaces = api.Client(client::kNamespaces);
  client::ResourceClient config_maps = api.Client(client::kConfigMaps);

  explicit NamespaceFixture(bool run_controller = true) {
    NamespaceController::Options options;
    options.max_recheck = std::chrono::milliseconds(200);
    if (run_controller) manager.Add(std::make_unique<NamespaceController>(options));
    manager.Add(std::make_unique<CrdController>());
    REQUIRE(manager.Start().ok());
  }
  ~NamespaceFixture() { manager.Stop(); }

  bool Gone(const client::ResourceClient& client, std::string_view ns, std::string_view name) {
    return client.Get(ns, name).status().code() == StatusCode::kNotFound;
  }
};

const Value* Condition(const Value& ns, std::string_view type) {
  const Value* status = json::Member(ns, "status");
  const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return nullptr;
  for (const Value& c : conditions->GetArray()) {
    if (json::StringMember(c, "type") == type) return &c;
  }
  return nullptr;
}

constexpr char kWidgetCrd[] = R"({"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com",
  "scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget"},
  "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
  "properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}})";

TEST_CASE("deleting a namespace deletes everything in it, then the namespace") {
  NamespaceFixture f;
  client::ResourceRef widgets_ref{"example.com", "v1", "widgets", true};
  client::ResourceClient widgets = f.api.Client(widgets_ref);
  client::ResourceClient pods = f.api.Client(client::kPods);
  client::ResourceClient deployments = f.api.Client(client::kDeployments);
  client::ResourceClient secrets = f.api.Client(client::kSecrets);
  f.api.Create(client::kCustomResourceDefinitions, "", kWidgetCrd);
  f.api.Create(client::kNamespaces, "", R"({"metadata":{"name":"shop"}})");
  f.api.Create(client::kConfigMaps, "shop", R"({"metadata":{"name":"settings"},"data":{"a":"b"}})");
  f.api.Create(client::kSecrets, "shop", R"({"metadata":{"name":"password"},"stringData":{"p":"q"}})");
  f.api.Create(client::kPods, "shop", R"({"metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"nginx"}]}})");
  f.api.Create(client::kDeployments, "shop",
               R"({"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},)"
               R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  // The custom resource is served once the CRD is established.
  auto widget = json::ParseJson(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3}})");
  REQUIRE(widget.ok());
  REQUIRE(Eventually([&] { return widgets.Create("shop", *widget).ok(); }));
  // Objects elsewhere stay.
  f.api.Create(client::kConfigMaps, "default", R"({"metadata":{"name":"keep"},"data":{"a":"b"}})");

  Document ns = f.namespaces.Get("", "shop").value();
  CHECK(json::ToJson(ns["spec"]["finalizers"]) == R"(["kubernetes"])");
  REQUIRE(f.namespaces.Delete("", "shop").ok());
  CHECK(Eventually([&] { return f.Gone(f.namespaces, "", "shop"); }));
  CHECK(f.Gone(f.config_maps, "shop", "settings"));
  CHECK(f.Gone(secrets, "shop", "password"));
  CHECK(f.Gone(pods, "shop", "web"));
  CHECK(f.Gone(deployments, "shop", "web"));
  CHECK(f.Gone(widgets, "shop", "w1"));
  CHECK(f.config_maps.Get("default", "keep").ok());
}

TEST_CASE("a finalizer on an object holds the namespace in Terminating, with the conditions") {
  NamespaceFixture f;
  f.api.Create(client::kNamespaces, "", R"({"metadata":{"name":"held"}})");
  f.api.Create(client::kConfigMaps, "held", R"({"metadata":{"name":"pinned","finalizers":["example.com/hold"]}})");
  f.api.Create(client::kConfigMaps, "held", R"({"metadata":{"name":"loose"}})");
  REQUIRE(f.namespaces.Delete("", "held").ok());

  REQUIRE(Eventually([&] {
    auto ns = f.namespaces.Get("", "held");
    if (!ns.ok()) return false;
    const Value* remaining = Condition(*ns, "NamespaceContentRemaining");
    const Value* finalizers = Condition(*ns, "NamespaceFinalizersRemaining");
    return remaining && finalizers && json::StringMember(*remaining, "status") == "True" &&
           json::StringMember(*finalizers, "status") == "True";
  }));
  Document ns = f.namespaces.Get("", "held").value();
  CHECK(json::StringMember(ns["status"], "phase") == "Terminating");
  CHECK(json::StringMember(ns["metadata"], "deletionTimestamp") != "");
  const Value* remaining = Condition(ns, "NamespaceContentRemaining");
  CHECK(json::StringMember(*remaining, "reason") == "SomeResourcesRemain");
  CHECK(json::StringMember(*remaining, "message") == "Some resources are remaining: configmaps. has 1 resource instances");
  const Value* finalizers = Condition(ns, "NamespaceFinalizersRemaining");
  CHECK(json::StringMember(*finalizers, "reason") == "SomeFinalizersRemain");
  CHECK(json::StringMember(*finalizers, "message") ==
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances");
  const Value* discovery = Condition(ns, "NamespaceDeletionDiscoveryFailure");
  REQUIRE(discovery);
  CHECK(json::StringMember(*discovery, "status") == "False");
  CHECK(json::StringMember(*discovery, "reason") == "ResourcesDiscovered");
  const Value* failure = Condition(ns, "NamespaceDeletionContentFailure");
  REQUIRE(failure);
  CHECK(json::StringMember(*failure, "status") == "False");
  CHECK(json::ToJson(ns["spec"]["finalizers"]) == R"(["kubernetes"])");
  CHECK(f.Gone(f.config_maps, "held", "loose"));

  // Nothing new may be created meanwhile.
  auto refused = f.config_maps.Create("held", json::ParseJson(R"({"metadata":{"name":"late"}})").value());
  CHECK_FALSE(refused.ok());
  CHECK(refused.status().message().find("because it is being terminated") != std::string::npos);

  // The finalizer's owner finishes: the object, then the namespace go.
  REQUIRE(f.config_maps.Patch("held", "pinned", client::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  CHECK(Eventually([&] { return f.Gone(f.namespaces, "", "held"); }));
}

TEST_CASE("the namespaces every cluster has cannot be deleted") {
  NamespaceFixture f;
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    INFO(name);
    CHECK(f.namespaces.Get("", name).ok());
    Status s = f.namespaces.Delete("", name);
    CHECK_FALSE(s.ok());
    CHECK(s.message() == "namespaces \"" + std::string(name) + "\" is forbidden: this namespace may not be deleted");
    CHECK(json::Member(f.namespaces.Get("", name).value()["metadata"], "deletionTimestamp") == nullptr);
  }
}

TEST_CASE("DELETE marks a namespace; PUT namespaces/{name}/finalize releases it") {
  NamespaceFixture f(/*run_controller=*/false);
  f.api.Create(client::kNamespaces, "", R"({"metadata":{"name":"manual"}})");
  client::ClientRequest del;
  del.method = "DELETE";
  del.path = "/api/v1/namespaces/manual";
  client::ClientResponse deleted = f.api.transport()->Do(del);
  REQUIRE(deleted.status == 200);
  Document marked = json::ParseJson(deleted.body).value();
  CHECK(json::StringMember(marked, "kind") == "Namespace");
  CHECK(json::StringMember(marked["status"], "phase") == "Terminating");
  CHECK(json::StringMember(marked["metadata"], "deletionTimestamp") != "");

  // Without the controller it stays, also through another DELETE and a status write.
  CHECK(f.namespaces.Delete("", "manual").ok());
  Document ns = f.namespaces.Get("", "manual").value();
  CHECK(f.namespaces.UpdateStatus(ns).ok());
  REQUIRE(f.namespaces.Get("", "manual").ok());

  client::ClientRequest finalize;
  finalize.method = "PUT";
  finalize.path = "/api/v1/namespaces/manual/finalize";
  finalize.body = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"manual"},"spec":{"finalizers":["example.com/other"]}})";
  client::ClientResponse kept = f.api.transport()->Do(finalize);
  CHECK(kept.status == 200);
  CHECK(json::ToJson(f.namespaces.Get("", "manual").value()["spec"]["finalizers"]) == R"(["example.com/other"])");

  finalize.body = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"manual"},"spec":{"finalizers":[]}})";
  client::ClientResponse released = f.api.transport()->Do(finalize);
  CHECK(released.status == 200);
  CHECK(f.Gone(f.namespaces, "", "manual"));
}

}  // namespace
}  // namespace kite::controllers
