// The garbage collector against a real API server: background, orphan and foreground
// deletion, and dependents with more than one owner.
#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/garbage_collector.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using client::kConfigMaps;
using testing::ApiFixture;
using testing::Eventually;

struct GcFixture {
  ApiFixture api;
  ControllerManager manager{api.transport()};
  client::ResourceClient cms = api.Client(kConfigMaps);

  GcFixture() {
    manager.Add(std::make_unique<GarbageCollector>(BuiltinGcResources()));
    REQUIRE(manager.Start().ok());
  }
  ~GcFixture() { manager.Stop(); }

  std::string MakeOwner(const std::string& name) {
    rapidjson::Document owner = api.Create(kConfigMaps, "default", R"({"metadata":{"name":")" + name + R"("}})");
    return std::string(json::StringMember(*json::Member(owner, "metadata"), "uid"));
  }
  void MakeDependent(const std::string& name, const std::vector<std::pair<std::string, std::string>>& owners,
                     bool block = false) {
    std::string refs;
    for (const auto& [owner_name, uid] : owners) {
      refs += (refs.empty() ? "" : ",") + std::string(R"({"apiVersion":"v1","kind":"ConfigMap","name":")") +
              owner_name + R"(","uid":")" + uid + R"(")" + (block ? R"(,"blockOwnerDeletion":true)" : "") + "}";
    }
    api.Create(kConfigMaps, "default", R"({"metadata":{"name":")" + name + R"(","ownerReferences":[)" + refs + "]}}");
  }
  bool Exists(const std::string& name) { return cms.Get("default", name).ok(); }
  bool Gone(const std::string& name) { return cms.Get("default", name).status().code() == StatusCode::kNotFound; }
};

TEST_CASE("background deletion: dependents follow their deleted owner") {
  GcFixture f;
  std::string uid = f.MakeOwner("owner");
  f.MakeDependent("child-1", {{"owner", uid}});
  f.MakeDependent("child-2", {{"owner", uid}});
  f.api.Create(kConfigMaps, "default", R"({"metadata":{"name":"unrelated"}})");
  REQUIRE(f.cms.Delete("default", "owner", R"({"propagationPolicy":"Background"})").ok());
  CHECK(Eventually([&] { return f.Gone("child-1") && f.Gone("child-2"); }));
  CHECK(f.Exists("unrelated"));
}

TEST_CASE("a dependent whose owner never existed is collected; one with a live owner is kept") {
  GcFixture f;
  std::string uid = f.MakeOwner("alive");
  f.MakeDependent("kept", {{"alive", uid}});
  f.MakeDependent("dangling", {{"ghost", "00000000-0000-4000-8000-000000000000"}});
  CHECK(Eventually([&] { return f.Gone("dangling"); }));
  CHECK(f.Exists("kept"));
}

TEST_CASE("orphan deletion: dependents stay and lose the reference, then the owner goes") {
  GcFixture f;
  std::string uid = f.MakeOwner("owner");
  f.MakeDependent("child", {{"owner", uid}});
  REQUIRE(f.cms.Delete("default", "owner", R"({"propagationPolicy":"Orphan"})").ok());
  CHECK(Eventually([&] { return f.Gone("owner"); }));
  auto child = f.cms.Get("default", "child");
  REQUIRE(child.ok());
  const rapidjson::Value* refs = json::Member(*json::Member(*child, "metadata"), "ownerReferences");
  CHECK((refs == nullptr || refs->Empty()));
}

TEST_CASE("foreground deletion: the owner waits, with its finalizer, until blocking dependents are gone") {
  GcFixture f;
  std::string uid = f.MakeOwner("owner");
  // A finalizer of someone else holds the dependent back, so the wait is observable.
  f.MakeDependent("child", {{"owner", uid}}, /*block=*/true);
  REQUIRE(f.cms.Patch("default", "child", client::PatchType::kMerge,
                      R"({"metadata":{"finalizers":["example.com/hold"]}})").ok());
  REQUIRE(f.cms.Delete("default", "owner", R"({"propagationPolicy":"Foreground"})").ok());
  // The child is being deleted; the owner is still there, marked.
  CHECK(Eventually([&] {
    auto child = f.cms.Get("default", "child");
    return child.ok() && json::Member(*json::Member(*child, "metadata"), "deletionTimestamp") != nullptr;
  }));
  auto owner = f.cms.Get("default", "owner");
  REQUIRE(owner.ok());
  CHECK(json::ToJson(*json::Member(*json::Member(*owner, "metadata"), "finalizers")) == R"(["foregroundDeletion"])");
  // Release the child: both go.
  REQUIRE(f.cms.Patch("default", "child", client::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  CHECK(Eventually([&] { return f.Gone("child") && f.Gone("owner"); }));
}

TEST_CASE("a dependent with two owners loses only the reference to the deleted one") {
  GcFixture f;
  std::string a = f.MakeOwner("a");
  std::string b = f.MakeOwner("b");
  f.MakeDependent("shared", {{"a", a}, {"b", b}});
  REQUIRE(f.cms.Delete("default", "a").ok());
  CHECK(Eventually([&] {
    auto shared = f.cms.Get("default", "shared");
    if (!shared.ok()) return false;
    const rapidjson::Value* refs = json::Member(*json::Member(*shared, "metadata"), "ownerReferences");
    return refs && refs->Size() == 1 && json::StringMember((*refs)[0], "uid") == b;
  }));
}

}  // namespace
}  // namespace kite::controllers
