#include "src/agent/volumes/volume_manager.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/server/json/json_util.h"
#include "tests/testing/temp_dir.h"

namespace kite::agent::volumes {
namespace {

namespace fs = std::filesystem;

constexpr long kTmpfsMagic = 0x01021994;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int ModeOf(const fs::path& p) {
  struct stat st;
  REQUIRE(stat(p.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

bool OnTmpfs(const fs::path& p) {
  struct statfs st;
  return statfs(p.c_str(), &st) == 0 && st.f_type == kTmpfsMagic;
}

struct Harness {
  testing::TempDir tmp;
  FakePodObjects objects;
  std::unique_ptr<VolumeManager> manager;
  rapidjson::Document pod;

  explicit Harness(bool memory_secrets = false) {
    VolumeManagerOptions options;
    options.agent_dir = tmp.file("agent");
    options.objects = &objects;
    options.node = {4000, 8LL << 30, 50LL << 30};
    options.memory_backed_secrets = memory_secrets;
    manager = std::make_unique<VolumeManager>(options);
  }
  ~Harness() { (void)manager->TearDown("uid-1"); }

  void SetPod(std::string_view volumes, std::string_view extra_spec = "") {
    auto parsed = json::ParseJson(R"({"metadata":{"name":"p","namespace":"ns","uid":"uid-1","labels":{"app":"x"}},
      "spec":{)" + std::string(extra_spec) + R"("serviceAccountName":"robot","containers":[{"name":"c",
      "resources":{"limits":{"memory":"256Mi"}}}],"volumes":)" + std::string(volumes) + "}}");
    REQUIRE(parsed.ok());
    pod = std::move(parsed).value();
  }
  VolumeMap SetUp() {
    Result<VolumeMap> r = manager->SetUp(pod);
    if (!r.ok()) FAIL(r.status().message());
    return std::move(r).value();
  }
  std::string SetUpError() {
    Result<VolumeMap> r = manager->SetUp(pod);
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  }
  std::string VolumeDir(std::string_view plugin, std::string_view name) {
    return tmp.file("agent") + "/pods/uid-1/volumes/kubernetes.io~" + std::string(plugin) + "/" + std::string(name);
  }
};

TEST_CASE("emptyDir: a world-writable directory under the pod's volumes") {
  Harness h;
  h.SetPod(R"([{"name":"scratch","emptyDir":{}}])");
  VolumeMap v = h.SetUp();
  REQUIRE(v.count("scratch"));
  CHECK(v["scratch"].host_path == h.VolumeDir("empty-dir", "scratch"));
  CHECK_FALSE(v["scratch"].read_only);
  CHECK(fs::is_directory(v["scratch"].host_path));
  CHECK(ModeOf(v["scratch"].host_path) == 0777);
  // Contents survive a later sync.
  std::ofstream(v["scratch"].host_path + "/data") << "kept";
  h.SetUp();
  CHECK(Read(v["scratch"].host_path + "/data") == "kept");
  h.SetPod(R"([{"name":"x","emptyDir":{"medium":"HugePages"}}])");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"x\" : unknown storage medium \"HugePages\"");
}

TEST_CASE("emptyDir medium Memory: a tmpfs sized by sizeLimit, unmounted at teardown") {
  if (geteuid() != 0) return;  // mounting needs root
  Harness h;
  h.SetPod(R"([{"name":"mem","emptyDir":{"medium":"Memory","sizeLimit":"16Mi"}}])");
  VolumeMap v = h.SetUp();
  std::string dir = v["mem"].host_path;
  REQUIRE(OnTmpfs(dir));
  struct statfs st;
  REQUIRE(statfs(dir.c_str(), &st) == 0);
  CHECK(static_cast<int64_t>(st.f_blocks) * st.f_bsize == 16LL << 20);
  CHECK(ModeOf(dir) == 0777);
  h.SetUp();  // mounted once, not stacked
  REQUIRE(h.manager->TearDown("uid-1").ok());
  CHECK_FALSE(fs::exists(h.tmp.file("agent") + "/pods/uid-1"));
  CHECK(fs::exists(h.tmp.file("agent") + "/pods"));
}

TEST_CASE("emptyDir medium Memory without sizeLimit: the pod's memory limit") {
  if (geteuid() != 0) return;
  Harness h;
  h.SetPod(R"([{"name":"mem","emptyDir":{"medium":"Memory"}}])");
  VolumeMap v = h.SetUp();
  struct statfs st;
  REQUIRE(statfs(v["mem"].host_path.c_str(), &st) == 0);
  CHECK(static_cast<int64_t>(st.f_blocks) * st.f_bsize == 256LL << 20);
}

TEST_CASE("hostPath: the host's path after Kubernetes' type checks") {
  Harness h;
  std::string base = h.tmp.file("host");
  fs::create_directories(base + "/dir");
  std::ofstream(base + "/file") << "f";
  auto setup = [&](std::string path, std::string type) {
    h.SetPod(R"([{"name":"h","hostPath":{"path":")" + path + R"(","type":")" + type + R"("}}])");
    return h.manager->SetUp(h.pod);
  };
  Result<VolumeMap> r = setup(base + "/dir", "Directory");
  REQUIRE(r.ok());
  CHECK((*r)["h"].host_path == base + "/dir");
  CHECK(setup(base + "/file", "File").ok());
  CHECK(setup(base + "/whatever", "").ok());
  CHECK_FALSE(fs::exists(base + "/whatever"));  // no type: no check, nothing created

  r = setup(base + "/file", "Directory");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: " + base +
                                    "/file is not a directory");
  r = setup(base + "/absent", "File");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("hostPath type check failed: " + base + "/absent is not a file") != std::string::npos);
  r = setup(base + "/dir", "Socket");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("is not a socket file") != std::string::npos);
  r = setup(base + "/dir", "CharDevice");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("is not a character device") != std::string::npos);
  CHECK(setup("/dev/null", "CharDevice").ok());
  r = setup(base + "/dir", "BlockDevice");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("is not a block device") != std::string::npos);
  r = setup(base + "/dir", "Weird");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("Weird is an invalid volume type") != std::string::npos);

  REQUIRE(setup(base + "/made/deep", "DirectoryOrCreate").ok());
  CHECK(fs::is_directory(base + "/made/deep"));
  CHECK(ModeOf(base + "/made/deep") == 0755);
  REQUIRE(setup(base + "/made/new.txt", "FileOrCreate").ok());
  CHECK(fs::is_regular_file(base + "/made/new.txt"));
  CHECK(ModeOf(base + "/made/new.txt") == 0644);

  // A socket.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock = base + "/s.sock";
  REQUIRE(sock.size() < sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, sock.c_str());
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  CHECK(setup(sock, "Socket").ok());
  close(fd);

  // Teardown never touches the host's data.
  REQUIRE(h.manager->TearDown("uid-1").ok());
  CHECK(Read(base + "/file") == "f");
}

TEST_CASE("configMap: every key, or items with paths and modes; updated in place") {
  Harness h;
  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},
    "data":{"app.conf":"v1","other":"o"},"binaryData":{"bin":"AAE="}})"));
  h.SetPod(R"([{"name":"all","configMap":{"name":"cfg"}},
               {"name":"some","configMap":{"name":"cfg","defaultMode":288,
                 "items":[{"key":"app.conf","path":"conf/app.conf"},{"key":"other","path":"o","mode":256}]}}])");
  VolumeMap v = h.SetUp();
  std::string all = h.VolumeDir("configmap", "all");
  CHECK(v["all"].host_path == all);
  CHECK(v["all"].read_only);
  CHECK(Read(all + "/app.conf") == "v1");
  CHECK(Read(all + "/bin") == std::string("\0\1", 2));
  CHECK(ModeOf(all + "/app.conf") == 0644);
  std::string some = v["some"].host_path;
  CHECK(Read(some + "/conf/app.conf") == "v1");
  CHECK(ModeOf(some + "/conf/app.conf") == 0440);  // defaultMode 288
  CHECK(ModeOf(some + "/o") == 0400);
  CHECK_FALSE(fs::exists(some + "/app.conf"));

  std::string before = fs::read_symlink(all + "/..data").string();
  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"app.conf":"v2","other":"o"}})"));
  h.SetUp();
  CHECK(Read(all + "/app.conf") == "v2");
  CHECK(Read(some + "/conf/app.conf") == "v2");
  CHECK_FALSE(fs::exists(fs::symlink_status(all + "/bin")));
  CHECK(fs::read_symlink(all + "/..data").string() != before);
}

TEST_CASE("configMap and secret: missing objects and keys, optional") {
  Harness h;
  h.SetPod(R"([{"name":"c","configMap":{"name":"nope"}}])");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"c\" : configmap \"nope\" not found");
  h.SetPod(R"([{"name":"c","configMap":{"name":"nope","optional":true}}])");
  VolumeMap v = h.SetUp();
  CHECK(fs::is_directory(v["c"].host_path + "/..data"));

  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"a":"1"}})"));
  h.SetPod(R"([{"name":"c","configMap":{"name":"cfg","items":[{"key":"b","path":"b"}]}}])");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"c\" : configmap references non-existent config key: b");
  h.SetPod(R"([{"name":"c","configMap":{"name":"cfg","optional":true,"items":[{"key":"b","path":"b"},{"key":"a","path":"a"}]}}])");
  v = h.SetUp();
  CHECK(Read(v["c"].host_path + "/a") == "1");

  h.SetPod(R"([{"name":"s","secret":{"secretName":"gone"}}])");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"s\" : secret \"gone\" not found");
  REQUIRE(h.objects.Put("Secret", R"({"metadata":{"name":"creds","namespace":"ns"},"data":{"user":"YWRtaW4="}})"));
  h.SetPod(R"([{"name":"s","secret":{"secretName":"creds","items":[{"key":"pass","path":"p"}]}}])");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"s\" : references non-existent secret key: pass");
}

TEST_CASE("secret: decoded files, on a tmpfs when mounting is allowed") {
  bool root = geteuid() == 0;
  Harness h(/*memory_secrets=*/true);
  REQUIRE(h.objects.Put("Secret", R"({"metadata":{"name":"creds","namespace":"ns"},"data":{"user":"YWRtaW4="}})"));
  h.SetPod(R"([{"name":"s","secret":{"secretName":"creds","defaultMode":256}}])");
  VolumeMap v = h.SetUp();
  CHECK(v["s"].host_path == h.VolumeDir("secret", "s"));
  CHECK(v["s"].read_only);
  CHECK(Read(v["s"].host_path + "/user") == "admin");
  CHECK(ModeOf(v["s"].host_path + "/user") == 0400);
  if (root) CHECK(OnTmpfs(v["s"].host_path));
  REQUIRE(h.manager->TearDown("uid-1").ok());
  CHECK_FALSE(fs::exists(v["s"].host_path));
}

TEST_CASE("downwardAPI: metadata and resources; labels follow the pod") {
  Harness h;
  h.SetPod(R"([{"name":"info","downwardAPI":{"items":[
    {"path":"name","fieldRef":{"fieldPath":"metadata.name"}},
    {"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
    {"path":"mem","resourceFieldRef":{"containerName":"c","resource":"limits.memory","divisor":"1Mi"},"mode":384},
    {"path":"cpu","resourceFieldRef":{"containerName":"c","resource":"limits.cpu"}}]}}])");
  VolumeMap v = h.SetUp();
  std::string dir = v["info"].host_path;
  CHECK(dir == h.VolumeDir("downward-api", "info"));
  CHECK(Read(dir + "/name") == "p");
  CHECK(Read(dir + "/labels") == "app=\"x\"");
  CHECK(Read(dir + "/mem") == "256");
  CHECK(ModeOf(dir + "/mem") == 0600);
  CHECK(Read(dir + "/cpu") == "4");  // no limit: the node's allocatable
  json::SetStringMember(*json::MutableMember(*json::MutableMember(h.pod, "metadata"), "labels"), "app", "y",
                        h.pod.GetAllocator());
  h.SetUp();
  CHECK(Read(dir + "/labels") == "app=\"y\"");

  h.SetPod(R"([{"name":"info","downwardAPI":{"items":[
    {"path":"x","resourceFieldRef":{"containerName":"ghost","resource":"limits.cpu"}},
    {"path":"y","fieldRef":{"fieldPath":"spec.nodeName"}}]}}])");
  CHECK(h.SetUpError() ==
        "MountVolume.SetUp failed for volume \"info\" : [container ghost not found, unsupported fieldPath: spec.nodeName]");
}

TEST_CASE("projected: secret, configMap, downwardAPI and a bound service account token") {
  Harness h;
  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"kube-root-ca.crt","namespace":"ns"},"data":{"ca.crt":"CA"}})"));
  REQUIRE(h.objects.Put("Secret", R"({"metadata":{"name":"s","namespace":"ns"},"data":{"k":"dg=="}})"));
  h.SetPod(R"([{"name":"kube-api-access","projected":{"defaultMode":420,"sources":[
    {"serviceAccountToken":{"expirationSeconds":3607,"path":"token","audience":"api"}},
    {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
    {"secret":{"name":"s"}},
    {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}]}}])");
  VolumeMap v = h.SetUp();
  std::string dir = v["kube-api-access"].host_path;
  CHECK(dir == h.VolumeDir("projected", "kube-api-access"));
  CHECK(v["kube-api-access"].read_only);
  CHECK(Read(dir + "/token") == "token-1");
  CHECK(Read(dir + "/ca.crt") == "CA");
  CHECK(Read(dir + "/k") == "v");
  CHECK(Read(dir + "/namespace") == "ns");
  std::vector<ServiceAccountTokenRequest> requests = h.objects.token_requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].namespace_ == "ns");
  CHECK(requests[0].service_account == "robot");
  CHECK(requests[0].audience == "api");
  CHECK(requests[0].expiration_seconds == 3607);
  CHECK(requests[0].pod_name == "p");
  CHECK(requests[0].pod_uid == "uid-1");

  // A refreshed token replaces the file in place.
  h.objects.ExpireTokens();
  h.SetUp();
  CHECK(Read(dir + "/token") == "token-2");

  h.objects.Remove("ConfigMap", "ns", "kube-root-ca.crt");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"kube-api-access\" : configmap \"kube-root-ca.crt\" not found");
}

TEST_CASE("persistentVolumeClaim: the bound PV's path, created when missing; unbound claims wait") {
  Harness h;
  std::string storage = h.tmp.file("storage/pvc-1");
  h.SetPod(R"([{"name":"data","persistentVolumeClaim":{"claimName":"claim"}}])");
  CHECK(h.SetUpError() ==
        "error processing PVC ns/claim: failed to fetch PVC from API server: persistentvolumeclaims \"claim\" not found");

  REQUIRE(h.objects.Put("PersistentVolumeClaim",
                        R"({"metadata":{"name":"claim","namespace":"ns","uid":"c-1"},"spec":{},"status":{"phase":"Pending"}})"));
  CHECK(h.SetUpError() == "error processing PVC ns/claim: PVC is not bound");

  REQUIRE(h.objects.Put("PersistentVolumeClaim", R"({"metadata":{"name":"claim","namespace":"ns","uid":"c-1"},
    "spec":{"volumeName":"pvc-1"},"status":{"phase":"Bound"}})"));
  CHECK(h.SetUpError() ==
        "error processing PVC ns/claim: failed to fetch PV pvc-1 from API server: persistentvolumes \"pvc-1\" not found");

  REQUIRE(h.objects.Put("PersistentVolume", R"({"metadata":{"name":"pvc-1"},"spec":{"hostPath":{"path":")" + storage +
                                                R"("},"claimRef":{"uid":"c-1"}}})"));
  VolumeMap v = h.SetUp();
  CHECK(v["data"].host_path == storage);
  CHECK_FALSE(v["data"].read_only);
  CHECK(fs::is_directory(storage));
  CHECK(ModeOf(storage) == 0777);
  std::ofstream(storage + "/db") << "rows";

  // readOnly; a local PV.
  REQUIRE(h.objects.Put("PersistentVolume", R"({"metadata":{"name":"pvc-1"},"spec":{"local":{"path":")" + storage + R"("}}})"));
  h.SetPod(R"([{"name":"data","persistentVolumeClaim":{"claimName":"claim","readOnly":true}}])");
  v = h.SetUp();
  CHECK(v["data"].read_only);

  // A PV bound to another claim.
  REQUIRE(h.objects.Put("PersistentVolume", R"({"metadata":{"name":"pvc-1"},"spec":{"hostPath":{"path":")" + storage +
                                                R"("},"claimRef":{"uid":"other"}}})"));
  CHECK(h.SetUpError() == "error processing PVC ns/claim: PV pvc-1 is bound to another claim");

  // Teardown leaves the data.
  REQUIRE(h.manager->TearDown("uid-1").ok());
  CHECK(Read(storage + "/db") == "rows");
}

TEST_CASE("ephemeral volumes use the claim <pod>-<volume>") {
  Harness h;
  h.SetPod(R"([{"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{}}}}])");
  CHECK(h.SetUpError().find("persistentvolumeclaims \"p-scratch\" not found") != std::string::npos);
}

TEST_CASE("fsGroup: emptyDir and projected files get the group") {
  if (geteuid() != 0) return;
  Harness h;
  REQUIRE(h.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"ns"},"data":{"a":"1"}})"));
  h.SetPod(R"([{"name":"e","emptyDir":{}},{"name":"c","configMap":{"name":"cfg","defaultMode":256}}])",
           R"("securityContext":{"fsGroup":2000},)");
  VolumeMap v = h.SetUp();
  struct stat st;
  REQUIRE(stat(v["e"].host_path.c_str(), &st) == 0);
  CHECK(st.st_gid == 2000);
  CHECK((st.st_mode & 07777) == 02777);
  REQUIRE(stat((v["c"].host_path + "/a").c_str(), &st) == 0);
  CHECK(st.st_gid == 2000);
  CHECK((st.st_mode & 07777) == 0440);
}

TEST_CASE("unsafe names are refused; teardown of an unknown pod is fine") {
  Harness h;
  h.SetPod(R"([{"name":"..","emptyDir":{}}])");
  CHECK(h.SetUpError() == "volume name \"..\" cannot name a directory");
  CHECK(h.manager->TearDown("../x").code() == StatusCode::kInvalidArgument);
  CHECK(h.manager->TearDown("never-seen").ok());
  h.SetPod(R"([{"name":"n","nfs":{"server":"x","path":"/"}}])");
  CHECK(h.SetUpError() == "MountVolume.SetUp failed for volume \"n\" : volume type not supported by this node");
}

}  // namespace
}  // namespace kite::agent::volumes
