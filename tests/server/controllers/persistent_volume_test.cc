// PersistentVolumes end to end against a real API server: the PV binder, the local-path
// provisioner and the scheduler run; Nodes are made directly and the test plays the node
// agent (it deletes pods and answers the local-path delete handshake).
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/local_path_provisioner.h"
#include "src/server/controllers/persistent_volume_binder.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "src/server/json/json_util.h"
#include "src/server/scheduler/scheduler.h"
#include "tests/server/scheduler/test_objects.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;
using testing::Eventually;
using namespace std::chrono_literals;

Document Parse(std::string_view text) {
  Result<Document> d = json::ParseJson(text);
  REQUIRE(d.ok());
  return std::move(d).value();
}

std::string PvJson(std::string_view name, std::string_view size, std::string_view modes = R"(["ReadWriteOnce"])",
                   std::string_view storage_class = "", std::string_view extra_spec = "") {
  return R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":")" + std::string(name) +
         R"("},"spec":{"capacity":{"storage":")" + std::string(size) + R"("},"accessModes":)" + std::string(modes) +
         R"(,"storageClassName":")" + std::string(storage_class) + R"(","hostPath":{"path":"/tmp/)" +
         std::string(name) + R"("})" + std::string(extra_spec) + "}}";
}

// `class_member` is a spec member with its leading comma (`,"storageClassName":""`), or "".
std::string ClaimJson(std::string_view name, std::string_view size, std::string_view modes = R"(["ReadWriteOnce"])",
                      std::string_view class_member = R"(,"storageClassName":"")") {
  return R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":")" + std::string(name) +
         R"("},"spec":{"accessModes":)" + std::string(modes) + R"(,"resources":{"requests":{"storage":")" +
         std::string(size) + R"("}})" + std::string(class_member) + "}}";
}

// A pod using claim `claim` (volume "v"); `spec_extra` adds spec members.
std::string PodWithClaim(std::string_view name, std::string_view claim, std::string_view spec_extra = "") {
  return scheduler::testing::PodJson(name, "", "", "{}",
                                     R"(,"volumes":[{"name":"v","persistentVolumeClaim":{"claimName":")" +
                                         std::string(claim) + R"("}}])" + std::string(spec_extra));
}

// A node with the local-path root annotation (`root` "" = none, as simulated nodes).
std::string NodeWithRoot(std::string_view name, std::string_view root) {
  Document node = Parse(scheduler::testing::NodeJson(name));
  if (!root.empty()) {
    auto& a = node.GetAllocator();
    Value& md = json::EnsureObjectMember(node, "metadata", a);
    json::SetStringMember(json::EnsureObjectMember(md, "annotations", a), kLocalPathRootAnnotation, root, a);
  }
  return json::ToJson(node);
}

std::string_view Str(const Value& object, std::string_view section, std::string_view field) {
  const Value* s = json::Member(object, section);
  return s ? json::StringMember(*s, field) : std::string_view();
}

struct VolumeCluster {
  testing::ApiFixture api;
  ControllerManager manager{api.transport()};
  client::ResourceClient claims = api.Client(client::kPersistentVolumeClaims);
  client::ResourceClient volumes = api.Client(client::kPersistentVolumes);
  client::ResourceClient pods = api.Client(client::kPods);
  client::ResourceClient nodes = api.Client(client::kNodes);
  client::ResourceClient classes = api.Client(kStorageClasses);
  scheduler::Scheduler* sched = nullptr;
  size_t node_count = 0;

  // `full`: the provisioner and the scheduler too; else the binder alone.
  explicit VolumeCluster(bool full = true) {
    manager.Add(std::make_unique<PersistentVolumeBinder>());
    if (full) {
      manager.Add(std::make_unique<LocalPathProvisioner>());
      scheduler::Scheduler::Options options;
      options.initial_backoff = 100ms;
      options.max_backoff = 400ms;
      auto s = std::make_unique<scheduler::Scheduler>(options);
      sched = s.get();
      manager.Add(std::move(s));
    }
    REQUIRE(manager.Start().ok());
  }
  ~VolumeCluster() { manager.Stop(); }

  void AddNode(std::string_view name, std::string_view root) {
    api.Create(client::kNodes, "", NodeWithRoot(name, root));
    ++node_count;
    if (sched) REQUIRE(Eventually([&] { return sched->cache().NodeCount() == node_count; }));
  }
  std::optional<Document> Get(client::ResourceClient& client, std::string_view name, std::string_view ns = "default") {
    auto got = client.Get(ns, name);
    if (!got.ok()) return std::nullopt;
    return std::move(got).value();
  }
  std::string Phase(client::ResourceClient& client, std::string_view name) {
    auto o = Get(client, name);
    return o ? std::string(PhaseOf(*o)) : std::string("<gone>");
  }
  std::string VolumeOf(std::string_view claim) {
    auto c = Get(claims, claim);
    return c ? std::string(VolumeNameOf(*c)) : std::string();
  }
  bool ClaimBound(std::string_view claim) {
    auto c = Get(claims, claim);
    return c && PhaseOf(*c) == "Bound" && !VolumeNameOf(*c).empty() && IsClaimFullyBound(*c) &&
           Phase(volumes, VolumeNameOf(*c)) == "Bound";
  }
  std::string NodeOfPod(std::string_view pod) {
    auto p = Get(pods, pod);
    return p ? std::string(Str(*p, "spec", "nodeName")) : std::string();
  }
  std::string UnschedulableMessage(std::string_view pod) {
    auto p = Get(pods, pod);
    if (!p) return "";
    const Value* status = json::Member(*p, "status");
    const Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
    if (!conditions || !conditions->IsArray()) return "";
    for (const Value& c : conditions->GetArray()) {
      if (json::StringMember(c, "type") == "PodScheduled" && json::StringMember(c, "status") == "False") {
        return std::string(json::StringMember(c, "message"));
      }
    }
    return "";
  }
  void DeletePod(std::string_view name) { REQUIRE(pods.Delete("default", name, R"({"gracePeriodSeconds":0})").ok()); }
  void DeleteClaim(std::string_view name) { REQUIRE(claims.Delete("default", name).ok()); }
};

TEST_CASE("claims bind to the smallest volume that fits their class, size and access modes") {
  VolumeCluster c(false);
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv-1g", "1Gi"));
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv-5g", "5Gi"));
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv-10g", "10Gi"));
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv-5g-rwx", "5Gi", R"(["ReadWriteOnce","ReadWriteMany"])"));
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv-3g-fast", "3Gi", R"(["ReadWriteOnce"])", "fast"));
  REQUIRE(Eventually([&] { return c.Phase(c.volumes, "pv-10g") == "Available"; }));

  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("plain", "2Gi"));
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("shared", "2Gi", R"(["ReadWriteMany"])"));
  c.api.Create(client::kPersistentVolumeClaims, "default",
               ClaimJson("fast", "2Gi", R"(["ReadWriteOnce"])", R"(,"storageClassName":"fast")"));
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("huge", "20Gi"));

  REQUIRE(Eventually([&] { return c.ClaimBound("plain") && c.ClaimBound("shared") && c.ClaimBound("fast"); }));
  // RWO only: the 5Gi of the one-mode group, not the 5Gi that also offers RWX, nor 10Gi.
  CHECK(c.VolumeOf("plain") == "pv-5g");
  CHECK(c.VolumeOf("shared") == "pv-5g-rwx");
  CHECK(c.VolumeOf("fast") == "pv-3g-fast");
  CHECK(c.Phase(c.volumes, "pv-1g") == "Available");
  CHECK(c.Phase(c.volumes, "pv-10g") == "Available");
  CHECK(c.Phase(c.claims, "huge") == "Pending");
  CHECK(c.VolumeOf("huge").empty());

  Document claim = *c.Get(c.claims, "plain");
  CHECK(AnnotationOf(claim, kAnnBindCompleted) == "yes");
  CHECK(AnnotationOf(claim, kAnnBoundByController) == "yes");
  CHECK(HasFinalizer(claim, kPvcProtectionFinalizer));
  const Value& status = claim["status"];
  CHECK(json::StringMember(status["capacity"], "storage") == "5Gi");
  CHECK(status["accessModes"][0] == "ReadWriteOnce");
  Document pv = *c.Get(c.volumes, "pv-5g");
  CHECK(AnnotationOf(pv, kAnnBoundByController) == "yes");
  const Value& ref = pv["spec"]["claimRef"];
  CHECK(json::StringMember(ref, "name") == "plain");
  CHECK(json::StringMember(ref, "namespace") == "default");
  CHECK(json::StringMember(ref, "uid") == UidOf(claim));

  // A volume that fits arrives later: the waiting claim takes it.
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv-50g", "50Gi"));
  REQUIRE(Eventually([&] { return c.ClaimBound("huge"); }));
  CHECK(c.VolumeOf("huge") == "pv-50g");
}

TEST_CASE("a volume pre-bound by claimRef goes to that claim only") {
  VolumeCluster c(false);
  c.api.Create(client::kPersistentVolumes, "",
               PvJson("reserved", "10Gi", R"(["ReadWriteOnce"])", "",
                      R"(,"claimRef":{"namespace":"default","name":"owner"})"));
  REQUIRE(Eventually([&] { return c.Phase(c.volumes, "reserved") == "Available"; }));
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("intruder", "1Gi"));
  REQUIRE(Eventually([&] { return c.Phase(c.claims, "intruder") == "Pending"; }));
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("owner", "1Gi"));
  REQUIRE(Eventually([&] { return c.ClaimBound("owner"); }));
  CHECK(c.VolumeOf("owner") == "reserved");
  CHECK(c.VolumeOf("intruder").empty());
  Document pv = *c.Get(c.volumes, "reserved");
  CHECK_FALSE(AnnotationOf(pv, kAnnBoundByController));  // the user chose it
  CHECK(json::StringMember(pv["spec"]["claimRef"], "uid") == UidOf(*c.Get(c.claims, "owner")));
}

TEST_CASE("a pod with an unbound Immediate claim is unschedulable until the claim binds") {
  VolumeCluster c;
  c.AddNode("n1", "");
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("imm", "1Gi"));
  c.api.Create(client::kPods, "default", PodWithClaim("p", "imm"));
  // A first attempt may run before the scheduler's claim informer has the new claim (and
  // says it is not found); the claim's arrival retries the pod.
  Eventually([&] {
    return c.UnschedulableMessage("p").starts_with("0/1 nodes are available: pod has unbound immediate");
  });
  INFO(c.UnschedulableMessage("p"));
  CHECK(c.UnschedulableMessage("p").starts_with(
      "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."));
  CHECK(c.NodeOfPod("p").empty());

  c.api.Create(client::kPods, "default", PodWithClaim("lost", "missing"));
  REQUIRE(Eventually([&] { return !c.UnschedulableMessage("lost").empty(); }));
  CHECK(c.UnschedulableMessage("lost").starts_with(
      "0/1 nodes are available: persistentvolumeclaim \"missing\" not found."));

  c.api.Create(client::kPersistentVolumes, "", PvJson("pv", "1Gi"));
  REQUIRE(Eventually([&] { return c.ClaimBound("imm"); }));
  REQUIRE(Eventually([&] { return c.NodeOfPod("p") == "n1"; }));
}

TEST_CASE("local-path: the first pod's node gets a provisioned volume, later pods follow it") {
  VolumeCluster c;
  c.AddNode("n1", "/data/n1/storage/");
  c.AddNode("n2", "/data/n2/storage");
  // The provisioner's class, the default: a claim without a class gets it at admission.
  REQUIRE(Eventually([&] { return c.Get(c.classes, "local-path", "").has_value(); }));
  Document sc = *c.Get(c.classes, "local-path", "");
  CHECK(json::StringMember(sc, "provisioner") == "rancher.io/local-path");
  CHECK(json::StringMember(sc, "volumeBindingMode") == "WaitForFirstConsumer");
  CHECK(json::StringMember(sc, "reclaimPolicy") == "Delete");
  CHECK(AnnotationOf(sc, "storageclass.kubernetes.io/is-default-class") == "true");

  Document created = c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("data", "2Gi", R"(["ReadWriteOnce"])", ""));
  CHECK(Str(created, "spec", "storageClassName") == "local-path");
  std::string uid(UidOf(created));
  // Waits for its first consumer, provisioning nothing.
  REQUIRE(Eventually([&] {
    auto claim = c.Get(c.claims, "data");
    return claim && HasFinalizer(*claim, kPvcProtectionFinalizer);
  }));
  std::this_thread::sleep_for(300ms);
  CHECK(c.Phase(c.claims, "data") == "Pending");
  CHECK_FALSE(c.Get(c.volumes, "pvc-" + uid, ""));
  CHECK_FALSE(AnnotationOf(*c.Get(c.claims, "data"), kAnnSelectedNode));

  c.api.Create(client::kPods, "default", PodWithClaim("p1", "data"));
  REQUIRE(Eventually([&] { return !c.NodeOfPod("p1").empty(); }));
  std::string node = c.NodeOfPod("p1");
  std::string other = node == "n1" ? "n2" : "n1";
  CHECK(AnnotationOf(*c.Get(c.claims, "data"), kAnnSelectedNode) == node);
  REQUIRE(Eventually([&] { return c.ClaimBound("data"); }));
  CHECK(c.VolumeOf("data") == "pvc-" + uid);

  Document pv = *c.Get(c.volumes, "pvc-" + uid, "");
  CHECK(Str(pv["spec"], "hostPath", "path") == "/data/" + node + "/storage/pvc-" + uid + "_default_data");
  CHECK(Str(pv["spec"], "hostPath", "type") == "DirectoryOrCreate");
  CHECK(LocalPathNodeOf(pv) == node);
  CHECK(json::StringMember(pv["spec"]["capacity"], "storage") == "2Gi");
  CHECK(pv["spec"]["accessModes"][0] == "ReadWriteOnce");
  CHECK(json::StringMember(pv["spec"], "persistentVolumeReclaimPolicy") == "Delete");
  CHECK(json::StringMember(pv["spec"], "storageClassName") == "local-path");
  CHECK(json::StringMember(pv["spec"]["claimRef"], "uid") == uid);
  CHECK(AnnotationOf(pv, kAnnProvisionedBy) == "rancher.io/local-path");

  // Later pods of the claim land where the volume is.
  for (const char* name : {"p2", "p3", "p4"}) {
    c.api.Create(client::kPods, "default", PodWithClaim(name, "data"));
    REQUIRE(Eventually([&] { return !c.NodeOfPod(name).empty(); }));
    CHECK(c.NodeOfPod(name) == node);
  }
  // One that may only run elsewhere cannot.
  c.api.Create(client::kPods, "default",
               PodWithClaim("elsewhere", "data", R"(,"nodeSelector":{"kubernetes.io/hostname":")" + other + R"("})"));
  REQUIRE(Eventually([&] { return !c.UnschedulableMessage("elsewhere").empty(); }));
  CHECK(c.UnschedulableMessage("elsewhere").find("1 node(s) had volume node affinity conflict") != std::string::npos);

  // Deleting the claim: kept while pods use it, then released; the node agent (this test)
  // is asked to remove the directory before the PV goes.
  c.DeleteClaim("data");
  std::this_thread::sleep_for(300ms);
  REQUIRE(c.Get(c.claims, "data"));
  for (const char* name : {"p1", "p2", "p3", "p4", "elsewhere"}) c.DeletePod(name);
  REQUIRE(Eventually([&] { return !c.Get(c.claims, "data"); }));
  std::string key = LocalPathDeleteKey("pvc-" + uid);
  REQUIRE(Eventually([&] { return AnnotationOf(*c.Get(c.nodes, node, ""), key).has_value(); }));
  CHECK(AnnotationOf(*c.Get(c.nodes, node, ""), key) == Str(pv["spec"], "hostPath", "path"));
  CHECK(c.Phase(c.volumes, "pvc-" + uid) == "Released");
  std::this_thread::sleep_for(200ms);
  REQUIRE(c.Get(c.volumes, "pvc-" + uid, ""));  // not before the node answers
  REQUIRE(c.nodes.Patch("", node, client::PatchType::kMerge,
                        R"({"metadata":{"annotations":{")" + key + R"(":"removed"}}})").ok());
  REQUIRE(Eventually([&] { return !c.Get(c.volumes, "pvc-" + uid, ""); }));
  REQUIRE(Eventually([&] { return !AnnotationOf(*c.Get(c.nodes, node, ""), key); }));
}

TEST_CASE("local-path on a node without a local-path root uses the default and deletes at once") {
  VolumeCluster c;
  c.AddNode("sim", "");
  REQUIRE(Eventually([&] { return c.Get(c.classes, "local-path", "").has_value(); }));
  Document created = c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("d", "1Gi", R"(["ReadWriteOnce"])", ""));
  std::string uid(UidOf(created));
  c.api.Create(client::kPods, "default", PodWithClaim("p", "d"));
  REQUIRE(Eventually([&] { return c.ClaimBound("d"); }));
  Document pv = *c.Get(c.volumes, "pvc-" + uid, "");
  CHECK(Str(pv["spec"], "hostPath", "path") == "/var/lib/kite/storage/pvc-" + uid + "_default_d");
  c.DeletePod("p");
  c.DeleteClaim("d");
  REQUIRE(Eventually([&] { return !c.Get(c.volumes, "pvc-" + uid, ""); }));
}

TEST_CASE("a released volume is kept with Retain and deleted with Delete") {
  VolumeCluster c(false);
  c.api.Create(client::kPersistentVolumes, "",
               PvJson("keep", "1Gi", R"(["ReadWriteOnce"])", "", R"(,"persistentVolumeReclaimPolicy":"Retain")"));
  c.api.Create(client::kPersistentVolumes, "",
               PvJson("drop", "1Gi", R"(["ReadWriteOnce"])", "", R"(,"persistentVolumeReclaimPolicy":"Delete")"));
  c.api.Create(client::kPersistentVolumeClaims, "default",
               R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"a"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"","volumeName":"keep"}})");
  c.api.Create(client::kPersistentVolumeClaims, "default",
               R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"b"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"","volumeName":"drop"}})");
  REQUIRE(Eventually([&] { return c.ClaimBound("a") && c.ClaimBound("b"); }));
  CHECK(c.VolumeOf("a") == "keep");
  CHECK_FALSE(AnnotationOf(*c.Get(c.claims, "a"), kAnnBoundByController));  // the user named it
  c.DeleteClaim("a");
  c.DeleteClaim("b");
  REQUIRE(Eventually([&] { return c.Phase(c.volumes, "keep") == "Released"; }));
  REQUIRE(Eventually([&] { return !c.Get(c.volumes, "drop", ""); }));
  std::this_thread::sleep_for(200ms);
  CHECK(c.Phase(c.volumes, "keep") == "Released");  // a new claim does not take it
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("c", "1Gi"));
  std::this_thread::sleep_for(300ms);
  CHECK(c.Phase(c.claims, "c") == "Pending");
}

TEST_CASE("a claim in use by a scheduled pod stays until the pod is gone") {
  VolumeCluster c(false);
  c.api.Create(client::kPersistentVolumes, "", PvJson("pv", "1Gi"));
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("used", "1Gi"));
  REQUIRE(Eventually([&] { return c.ClaimBound("used"); }));
  c.api.Create(client::kPods, "default", PodWithClaim("user", "used", R"(,"nodeName":"somewhere")"));
  c.DeleteClaim("used");
  std::this_thread::sleep_for(400ms);
  auto claim = c.Get(c.claims, "used");
  REQUIRE(claim);
  CHECK(IsBeingDeleted(*claim));
  CHECK(c.Phase(c.volumes, "pv") == "Bound");
  c.DeletePod("user");
  REQUIRE(Eventually([&] { return !c.Get(c.claims, "used"); }));
  REQUIRE(Eventually([&] { return c.Phase(c.volumes, "pv") == "Released"; }));  // Retain: the default
}

TEST_CASE("the default StorageClass is given to claims without a class, also afterwards") {
  VolumeCluster c(false);
  Document early = c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("early", "1Gi", R"(["ReadWriteOnce"])", ""));
  CHECK_FALSE(json::Member(early["spec"], "storageClassName"));
  c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("none", "1Gi"));  // "" names no class
  c.api.Create(kStorageClasses, "",
               R"({"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"std","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"example.com/none","volumeBindingMode":"WaitForFirstConsumer"})");
  REQUIRE(Eventually([&] { return Str(*c.Get(c.claims, "early"), "spec", "storageClassName") == "std"; }));
  Document late = c.api.Create(client::kPersistentVolumeClaims, "default", ClaimJson("late", "1Gi", R"(["ReadWriteOnce"])", ""));
  CHECK(Str(late, "spec", "storageClassName") == "std");
  std::this_thread::sleep_for(200ms);
  CHECK(Str(*c.Get(c.claims, "none"), "spec", "storageClassName").empty());
  CHECK(c.Phase(c.claims, "early") == "Pending");
}

TEST_CASE("local-path volumes are built from the claim and the node") {
  Document claim = Parse(
      R"({"metadata":{"name":"c","namespace":"ns","uid":"u-1","resourceVersion":"7"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"3Gi"}},"storageClassName":"local-path"}})");
  Document node = Parse(NodeWithRoot("w", "/srv/kite/storage"));
  Document pv = LocalPathProvisioner::VolumeFor(claim, node, "Retain");
  CHECK(NameOf(pv) == "pvc-u-1");
  CHECK(Str(pv["spec"], "hostPath", "path") == "/srv/kite/storage/pvc-u-1_ns_c");
  CHECK(json::StringMember(pv["spec"], "volumeMode") == "Filesystem");
  CHECK(json::StringMember(pv["spec"], "persistentVolumeReclaimPolicy") == "Retain");
  CHECK(LocalPathNodeOf(pv) == "w");
  Document other = Parse(NodeWithRoot("x", ""));
  CHECK_FALSE(VolumeNodeAffinityAllows(pv, other));
  CHECK(VolumeNodeAffinityAllows(pv, node));
}

}  // namespace
}  // namespace kite::controllers
