// The in-process client against a real API server: REST verbs, error mapping, watch
// streams, and informers that stay equal to the store through adds, updates, deletes and
// a relist.
#include <catch2/catch.hpp>

#include <atomic>

#include "src/server/client/informer.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::client {
namespace {

using testing::ApiFixture;
using testing::Eventually;

TEST_CASE("resource client verbs and Kubernetes errors as statuses") {
  ApiFixture api;
  ResourceClient cms = api.Client(kConfigMaps);
  auto created = cms.Create("default", *json::ParseJson(R"({"metadata":{"name":"a"},"data":{"k":"v"}})"));
  REQUIRE(created.ok());
  CHECK(json::StringMember(*json::Member(*created, "metadata"), "uid").size() == 36);

  auto again = cms.Create("default", *json::ParseJson(R"({"metadata":{"name":"a"}})"));
  CHECK(again.status().code() == StatusCode::kAlreadyExists);
  CHECK(cms.Get("default", "missing").status().code() == StatusCode::kNotFound);
  auto invalid = cms.Create("default", *json::ParseJson(R"({"metadata":{"name":"Bad_Name"}})"));
  CHECK(invalid.status().code() == StatusCode::kInvalidArgument);

  // A stale resourceVersion is a conflict.
  rapidjson::Document stale;
  stale.CopyFrom(*created, stale.GetAllocator());
  auto patched = cms.Patch("default", "a", PatchType::kMerge, R"({"data":{"k":"w"}})");
  REQUIRE(patched.ok());
  CHECK(cms.Update(stale).status().code() == StatusCode::kConflict);

  auto list = cms.List("default");
  REQUIRE(list.ok());
  CHECK(json::Member(*list, "items")->Size() == 1);
  CHECK(cms.Delete("default", "a").ok());
  CHECK(cms.Delete("default", "a").code() == StatusCode::kNotFound);
}

TEST_CASE("watch through the in-process transport delivers events as lines") {
  ApiFixture api;
  ResourceClient cms = api.Client(kConfigMaps);
  auto list = cms.List("default");
  REQUIRE(list.ok());
  ListOptions options;
  options.resource_version = json::StringMember(*json::Member(*list, "metadata"), "resourceVersion");
  auto reader = cms.Watch("default", options);
  REQUIRE(reader.ok());
  api.Create(kConfigMaps, "default", R"({"metadata":{"name":"w"}})");
  std::vector<std::string> lines;
  REQUIRE(Eventually([&] {
    auto more = (*reader)->Next(std::chrono::milliseconds(50));
    if (more.ok()) lines.insert(lines.end(), more->begin(), more->end());
    return !lines.empty();
  }));
  auto event = json::ParseJsonObject(lines[0]);
  REQUIRE(event.ok());
  CHECK(json::StringMember(*event, "type") == "ADDED");
}

TEST_CASE("informer cache follows adds, updates and deletes, with handlers in order") {
  ApiFixture api;
  api.Create(kConfigMaps, "default", R"({"metadata":{"name":"before"}})");
  Informer informer(api.Client(kConfigMaps));
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  informer.AddHandlers({
      .on_add = [&](const ObjectPtr&) { ++adds; },
      .on_update = [&](const ObjectPtr&, const ObjectPtr&) { ++updates; },
      .on_delete = [&](const ObjectPtr&) { ++deletes; },
  });
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(10)));
  CHECK(informer.Get("default", "before") != nullptr);
  CHECK(adds == 1);

  api.Create(kConfigMaps, "kube-system", R"({"metadata":{"name":"other"}})");
  REQUIRE(api.Client(kConfigMaps).Patch("default", "before", PatchType::kMerge, R"({"data":{"x":"1"}})").ok());
  REQUIRE(api.Client(kConfigMaps).Delete("default", "before").ok());
  REQUIRE(Eventually([&] { return deletes == 1; }));
  CHECK(adds == 2);
  CHECK(updates == 1);
  CHECK(informer.Get("default", "before") == nullptr);
  REQUIRE(informer.List("kube-system").size() == 1);
  CHECK(informer.List().size() == 1);
  CHECK(ObjectKey(*informer.List()[0]) == "kube-system/other");
  informer.Stop();
}

TEST_CASE("object keys split back into namespace and name") {
  CHECK(SplitObjectKey("ns/name") == std::pair<std::string, std::string>{"ns", "name"});
  CHECK(SplitObjectKey("node-1") == std::pair<std::string, std::string>{"", "node-1"});
  CHECK(ObjectKey("", "n") == "n");
}

}  // namespace
}  // namespace kite::client
