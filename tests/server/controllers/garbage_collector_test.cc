// The garbage collector against a real API server: background, orphan and foreground
// deletion, dependents with more than one owner, and custom resources (as owners and as
// dependents) of CRDs created while the collector runs.
#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/crd_controller.h"
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
    manager.Add(std::make_unique<CrdController>());  // establishes the CRDs tests create
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

  // A custom object of `ref` (once the API serves it) with these ownerReferences (JSON
  // array text); its uid.
  std::string MakeCustom(const client::ResourceRef& ref, std::string_view kind, const std::string& name,
                         const std::string& owner_refs = "[]") {
    std::string ns = ref.namespaced ? "default" : "";
    auto object = json::ParseJson(R"({"apiVersion":")" + ref.group + "/" + ref.version + R"(","kind":")" +
                                  std::string(kind) + R"(","metadata":{"name":")" + name +
                                  R"(","ownerReferences":)" + owner_refs + "}}");
    REQUIRE(object.ok());
    Result<rapidjson::Document> created = Status(StatusCode::kNotFound, "");
    // (The API serves the resource once its CRD is Established.)
    REQUIRE(Eventually([&] { return (created = api.Client(ref).Create(ns, *object)).ok(); }));
    return std::string(UidOf(*created));
  }
  void MakeConfigMap(const std::string& name, const std::string& owner_refs) {
    api.Create(kConfigMaps, "default", R"({"metadata":{"name":")" + name + R"(","ownerReferences":)" + owner_refs + "}}");
  }
  static bool IsGone(const Result<rapidjson::Document>& r) { return r.status().code() == StatusCode::kNotFound; }
  // Returns once the collector has seen every ConfigMap created before: one created now
  // with a missing owner is collected (the ConfigMap informer delivers in order). Needed
  // before deleting an owner of another resource, whose events may overtake them.
  void AwaitConfigMapsSeen() {
    std::string name = "barrier-" + std::to_string(barriers++);
    MakeDependent(name, {{"ghost", "00000000-0000-4000-8000-00000000000f"}});
    REQUIRE(Eventually([&] { return Gone(name); }));
  }
  int barriers = 0;
};

std::string OwnerRef(std::string_view api_version, std::string_view kind, std::string_view name, std::string_view uid,
                     bool block = false) {
  return R"({"apiVersion":")" + std::string(api_version) + R"(","kind":")" + std::string(kind) + R"(","name":")" +
         std::string(name) + R"(","uid":")" + std::string(uid) + R"(")" + (block ? R"(,"blockOwnerDeletion":true)" : "") +
         "}";
}

const rapidjson::Value* OwnerRefsOf(const rapidjson::Value& object) {
  return json::Member(*json::Member(object, "metadata"), "ownerReferences");
}

constexpr char kWidgetCrd[] = R"({"metadata":{"name":"widgets.example.com"},"spec":{
  "group":"example.com","scope":"Namespaced",
  "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
  "versions":[{"name":"v1","served":true,"storage":true,
               "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})";
constexpr char kGadgetCrd[] = R"({"metadata":{"name":"gadgets.example.com"},"spec":{
  "group":"example.com","scope":"Cluster",
  "names":{"plural":"gadgets","singular":"gadget","kind":"Gadget"},
  "versions":[{"name":"v1","served":true,"storage":true,
               "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})";
const client::ResourceRef kWidgets{"example.com", "v1", "widgets", true};
const client::ResourceRef kGadgets{"example.com", "v1", "gadgets", false};

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

// Every custom-resource case below creates its CRD after the collector started.

TEST_CASE("a ConfigMap owned by a custom resource follows its deleted owner") {
  GcFixture f;
  f.api.Create(client::kCustomResourceDefinitions, "", kWidgetCrd);
  f.api.Create(client::kCustomResourceDefinitions, "", kGadgetCrd);
  std::string widget = f.MakeCustom(kWidgets, "Widget", "w");
  std::string gadget = f.MakeCustom(kGadgets, "Gadget", "g");
  f.MakeConfigMap("of-widget", "[" + OwnerRef("example.com/v1", "Widget", "w", widget) + "]");
  // A namespaced dependent of a cluster-scoped owner.
  f.MakeConfigMap("of-gadget", "[" + OwnerRef("example.com/v1", "Gadget", "g", gadget) + "]");
  // Live owners keep them.
  f.MakeDependent("dangling", {{"ghost", "00000000-0000-4000-8000-000000000000"}});
  REQUIRE(Eventually([&] { return f.Gone("dangling"); }));
  CHECK(f.Exists("of-widget"));
  CHECK(f.Exists("of-gadget"));

  REQUIRE(f.api.Client(kWidgets).Delete("default", "w", R"({"propagationPolicy":"Background"})").ok());
  REQUIRE(f.api.Client(kGadgets).Delete("", "g").ok());
  CHECK(Eventually([&] { return f.Gone("of-widget") && f.Gone("of-gadget"); }));
}

TEST_CASE("a custom resource owned by ConfigMaps is collected with them, losing references one at a time") {
  GcFixture f;
  f.api.Create(client::kCustomResourceDefinitions, "", kWidgetCrd);
  std::string a = f.MakeOwner("a");
  std::string b = f.MakeOwner("b");
  f.MakeCustom(kWidgets, "Widget", "w", "[" + OwnerRef("v1", "ConfigMap", "a", a) + "," + OwnerRef("v1", "ConfigMap", "b", b) + "]");
  client::ResourceClient widgets = f.api.Client(kWidgets);

  // One owner goes: the reference to it is removed (a merge patch; custom resources take no
  // strategic one).
  REQUIRE(f.cms.Delete("default", "a").ok());
  CHECK(Eventually([&] {
    auto w = widgets.Get("default", "w");
    if (!w.ok()) return false;
    const rapidjson::Value* refs = OwnerRefsOf(*w);
    return refs && refs->Size() == 1 && json::StringMember((*refs)[0], "uid") == b;
  }));
  // The last owner goes: so does the widget.
  REQUIRE(f.cms.Delete("default", "b").ok());
  CHECK(Eventually([&] { return GcFixture::IsGone(widgets.Get("default", "w")); }));
}

TEST_CASE("foreground deletion of a custom resource: its dependent goes first, then it does") {
  GcFixture f;
  f.api.Create(client::kCustomResourceDefinitions, "", kWidgetCrd);
  std::string widget = f.MakeCustom(kWidgets, "Widget", "w");
  f.MakeConfigMap("child", "[" + OwnerRef("example.com/v1", "Widget", "w", widget, /*block=*/true) + "]");
  // Someone else's finalizer holds the dependent back, so the wait is observable.
  REQUIRE(f.cms.Patch("default", "child", client::PatchType::kMerge,
                      R"({"metadata":{"finalizers":["example.com/hold"]}})").ok());
  f.AwaitConfigMapsSeen();
  client::ResourceClient widgets = f.api.Client(kWidgets);
  REQUIRE(widgets.Delete("default", "w", R"({"propagationPolicy":"Foreground"})").ok());
  CHECK(Eventually([&] {
    auto child = f.cms.Get("default", "child");
    return child.ok() && json::Member(*json::Member(*child, "metadata"), "deletionTimestamp") != nullptr;
  }));
  auto w = widgets.Get("default", "w");
  REQUIRE(w.ok());
  CHECK(json::ToJson(*json::Member(*json::Member(*w, "metadata"), "finalizers")) == R"(["foregroundDeletion"])");
  // Release the child: it goes, then the widget's finalizer is removed and it goes too.
  REQUIRE(f.cms.Patch("default", "child", client::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  CHECK(Eventually([&] { return f.Gone("child") && GcFixture::IsGone(widgets.Get("default", "w")); }));
}

TEST_CASE("orphan deletion of a custom resource: the dependent stays without the reference") {
  GcFixture f;
  f.api.Create(client::kCustomResourceDefinitions, "", kWidgetCrd);
  std::string widget = f.MakeCustom(kWidgets, "Widget", "w");
  f.MakeConfigMap("child", "[" + OwnerRef("example.com/v1", "Widget", "w", widget) + "]");
  f.AwaitConfigMapsSeen();
  client::ResourceClient widgets = f.api.Client(kWidgets);
  REQUIRE(widgets.Delete("default", "w", R"({"propagationPolicy":"Orphan"})").ok());
  CHECK(Eventually([&] { return GcFixture::IsGone(widgets.Get("default", "w")); }));
  auto child = f.cms.Get("default", "child");
  REQUIRE(child.ok());
  const rapidjson::Value* refs = OwnerRefsOf(*child);
  CHECK((refs == nullptr || refs->Empty()));
}

TEST_CASE("a dependent whose owner is of a kind no CRD serves is not deleted") {
  GcFixture f;
  f.MakeConfigMap("of-unknown", "[" + OwnerRef("nothere.example.com/v1", "Nothing", "n",
                                               "00000000-0000-4000-8000-000000000001") + "]");
  // A CRD that is deleted again: afterwards its kind is unknown too, and its informer goes.
  f.api.Create(client::kCustomResourceDefinitions, "", kWidgetCrd);
  f.MakeCustom(kWidgets, "Widget", "w");
  REQUIRE(Eventually([&] { return f.manager.informers().Has(kWidgets); }));
  REQUIRE(f.api.Client(client::kCustomResourceDefinitions).Delete("", "widgets.example.com").ok());
  REQUIRE(Eventually([&] { return !f.manager.informers().Has(kWidgets); }));
  f.MakeConfigMap("of-old-widget", "[" + OwnerRef("example.com/v1", "Widget", "w",
                                                  "00000000-0000-4000-8000-000000000002") + "]");
  // The collector is at work (a dependent of a missing ConfigMap goes) but keeps those two.
  f.MakeDependent("dangling", {{"ghost", "00000000-0000-4000-8000-000000000000"}});
  REQUIRE(Eventually([&] { return f.Gone("dangling"); }));
  CHECK(f.Exists("of-unknown"));
  CHECK(f.Exists("of-old-widget"));
}

}  // namespace
}  // namespace kite::controllers
