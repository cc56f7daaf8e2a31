// The node agent's half of the local-path delete handshake, against a real API server: the
// test plays the binder (it writes the requests) and checks directories and answers.
#include "src/agent/volumes/local_path_reclaimer.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "tests/testing/api_fixture.h"
#include "tests/testing/temp_dir.h"

namespace kite::agent::volumes {
namespace {

namespace fs = std::filesystem;
using testing::Eventually;

// A local-path PV of node `node` at `path`, in `phase`.
void CreateVolume(testing::ApiFixture& api, const std::string& name, const std::string& node,
                  const std::string& path, const std::string& phase) {
  api.Create(client::kPersistentVolumes, "",
             R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":")" + name +
                 R"(","annotations":{"pv.kubernetes.io/provisioned-by":"rancher.io/local-path"}},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Delete","storageClassName":"local-path","hostPath":{"path":")" +
                 path +
                 R"(","type":"DirectoryOrCreate"},"nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":[")" +
                 node + R"("]}]}]}}}})");
  auto pv = api.Client(client::kPersistentVolumes).Get("", name);
  REQUIRE(pv.ok());
  json::SetStringMember(json::EnsureObjectMember(*pv, "status", pv->GetAllocator()), "phase", phase, pv->GetAllocator());
  REQUIRE(api.Client(client::kPersistentVolumes).UpdateStatus(*pv).ok());
}

std::string MakeDir(const std::string& path) {
  fs::create_directories(path);
  std::ofstream(path + "/data") << "x";
  return path;
}

void Request(testing::ApiFixture& api, const std::string& node, const std::string& volume, const std::string& path) {
  REQUIRE(api.Client(client::kNodes)
              .Patch("", node, client::PatchType::kMerge,
                     R"({"metadata":{"annotations":{")" + controllers::LocalPathDeleteKey(volume) + R"(":")" + path +
                         R"("}}})")
              .ok());
}

std::string Answer(testing::ApiFixture& api, const std::string& node, const std::string& volume) {
  auto n = api.Client(client::kNodes).Get("", node);
  REQUIRE(n.ok());
  return std::string(controllers::AnnotationOf(*n, controllers::LocalPathDeleteKey(volume)).value_or(""));
}

TEST_CASE("released local-path directories of this node are removed, anything else kept") {
  testing::ApiFixture api;
  testing::TempDir dir;
  std::string root = dir.file("storage");
  api.Create(client::kNodes, "", R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}})");
  std::string released = MakeDir(root + "/pvc-1_default_a");
  std::string bound = MakeDir(root + "/pvc-2_default_b");
  std::string outside = MakeDir(dir.file("elsewhere/pvc-3_default_c"));
  std::string other_node = MakeDir(root + "/pvc-4_default_d");
  CreateVolume(api, "pvc-1", "n1", released, "Released");
  CreateVolume(api, "pvc-2", "n1", bound, "Bound");
  CreateVolume(api, "pvc-3", "n1", outside, "Released");
  CreateVolume(api, "pvc-4", "n2", other_node, "Released");
  LocalPathReclaimer reclaimer(api.transport(), {.node_name = "n1", .root = root, .retry = std::chrono::milliseconds(100)});
  reclaimer.Start();

  Request(api, "n1", "pvc-1", released);
  REQUIRE(Eventually([&] { return Answer(api, "n1", "pvc-1") == "removed"; }));
  CHECK_FALSE(fs::exists(released));

  Request(api, "n1", "pvc-2", bound);
  Request(api, "n1", "pvc-3", outside);
  Request(api, "n1", "pvc-4", other_node);
  Request(api, "n1", "pvc-gone", root + "/pvc-gone_default_e");
  REQUIRE(Eventually([&] {
    return Answer(api, "n1", "pvc-2") == "kept" && Answer(api, "n1", "pvc-3") == "kept" &&
           Answer(api, "n1", "pvc-4") == "kept" && Answer(api, "n1", "pvc-gone") == "kept";
  }));
  CHECK(fs::exists(bound + "/data"));
  CHECK(fs::exists(outside + "/data"));
  CHECK(fs::exists(other_node + "/data"));

  // A request whose path is not the PV's is refused, even under the root.
  std::string decoy = MakeDir(root + "/pvc-5_default_f");
  CreateVolume(api, "pvc-5", "n1", root + "/pvc-5_default_g", "Released");
  Request(api, "n1", "pvc-5", decoy);
  REQUIRE(Eventually([&] { return Answer(api, "n1", "pvc-5") == "kept"; }));
  CHECK(fs::exists(decoy + "/data"));
  reclaimer.Stop();
}

}  // namespace
}  // namespace kite::agent::volumes
