// Image pulls: policies, back-off, pull secrets — against a runtime whose image store the
// test controls.
#include "src/agent/image_puller.h"

#include <catch2/catch.hpp>

#include "src/base/base64.h"
#include "src/server/json/json_util.h"
#include "tests/agent/recording_runtime.h"

namespace kite::agent {
namespace {

// Every image absent unless the test says otherwise.
struct ImageStoreRuntime : testing::RecordingRuntime {
  ImageStoreRuntime() { all_images = false; }
};

rapidjson::Document Parse(std::string_view text) {
  auto doc = json::ParseJson(text);
  if (!doc.ok()) FAIL(doc.status().message());
  return std::move(doc).value();
}

client::ObjectPtr Object(std::string_view text) { return std::make_shared<const rapidjson::Document>(Parse(text)); }

// A kubernetes.io/dockerconfigjson secret with `config` (JSON text) as its data.
std::string DockerSecret(std::string_view name, std::string_view config, bool old_format = false) {
  const std::string b64 = Base64Encode(config);
  return R"({"metadata":{"name":")" + std::string(name) + R"(","namespace":"ns"},"type":"kubernetes.io/)" +
         (old_format ? "dockercfg" : "dockerconfigjson") + R"(","data":{")" +
         (old_format ? ".dockercfg" : ".dockerconfigjson") + R"(":")" + b64 + R"("}})";
}

rapidjson::Document Pod(std::string_view container, std::string_view spec = "") {
  return Parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u"},"spec":{)" + std::string(spec) +
               R"("containers":[)" + std::string(container) + "]}}");
}

const rapidjson::Value& First(const rapidjson::Document& pod) { return (*json::Member(*json::Member(pod, "spec"), "containers"))[0]; }

TEST_CASE("pull policy: as given, else Always for :latest or untagged, IfNotPresent otherwise") {
  auto policy = [](std::string_view c) { return PullPolicy(Parse(c)); };
  CHECK(policy(R"({"image":"busybox"})") == "Always");
  CHECK(policy(R"({"image":"busybox:latest"})") == "Always");
  CHECK(policy(R"({"image":"busybox:1.36"})") == "IfNotPresent");
  CHECK(policy(R"({"image":"registry:5000/team/app"})") == "Always");
  CHECK(policy(R"({"image":"registry:5000/team/app:v2"})") == "IfNotPresent");
  CHECK(policy(R"({"image":"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})") ==
        "IfNotPresent");
  CHECK(policy(R"({"image":"busybox:1","imagePullPolicy":"Never"})") == "Never");
}

TEST_CASE("IfNotPresent uses a present image, Always pulls, Never refuses an absent one") {
  ImageStoreRuntime rt;
  ImagePuller puller;
  rt.present.insert("kite.local/busybox:1");
  rapidjson::Document pod = Pod(R"({"name":"c","image":"kite.local/busybox:1"})");
  ImagePullOutcome o = puller.Ensure(pod, First(pod), rt, nullptr, 0);
  CHECK(o.ok);
  CHECK(o.image_ref == "sha256:kite.local/busybox:1");
  CHECK(rt.pulls.empty());

  rt.pullable.insert("kite.local/busybox:1");
  pod = Pod(R"({"name":"c","image":"kite.local/busybox:1","imagePullPolicy":"Always"})");
  o = puller.Ensure(pod, First(pod), rt, nullptr, 0);
  CHECK(o.ok);
  CHECK(rt.pulls.size() == 1);

  pod = Pod(R"({"name":"c","image":"kite.local/other:1","imagePullPolicy":"Never"})");
  o = puller.Ensure(pod, First(pod), rt, nullptr, 0);
  CHECK_FALSE(o.ok);
  CHECK(o.reason == "ErrImageNeverPull");
  CHECK(o.message == "Container image \"kite.local/other:1\" is not present with pull policy of Never");
  CHECK(rt.pulls.size() == 1);

  pod = Pod(R"({"name":"c","image":""})");
  o = puller.Ensure(pod, First(pod), rt, nullptr, 0);
  CHECK(o.ok);  // the runtime refuses it
  CHECK(rt.pulls.size() == 1);
}

TEST_CASE("a failed pull is ErrImagePull, then ImagePullBackOff for 10 s doubling to 5 minutes") {
  ImageStoreRuntime rt;
  ImagePuller puller;
  rapidjson::Document pod = Pod(R"({"name":"c","image":"registry.local/app:v1"})");
  int64_t now = 1'000'000;
  ImagePullOutcome o = puller.Ensure(pod, First(pod), rt, nullptr, now);
  CHECK_FALSE(o.ok);
  CHECK(o.reason == "ErrImagePull");
  CHECK(o.message == "failed to pull and unpack image \"registry.local/app:v1\": not found");
  CHECK(o.retry_at > now);

  std::vector<int64_t> waits;
  for (int round = 0; round < 7; ++round) {
    int64_t failed_at = now;
    o = puller.Ensure(pod, First(pod), rt, nullptr, now + 1);
    REQUIRE(o.reason == "ImagePullBackOff");
    CHECK(o.message == "Back-off pulling image \"registry.local/app:v1\": ErrImagePull: "
                       "failed to pull and unpack image \"registry.local/app:v1\": not found");
    waits.push_back(o.retry_at - failed_at);
    now = o.retry_at;
    o = puller.Ensure(pod, First(pod), rt, nullptr, now);
    REQUIRE(o.reason == "ErrImagePull");
  }
  CHECK(waits == std::vector<int64_t>{10'000, 20'000, 40'000, 80'000, 160'000, 300'000, 300'000});
  CHECK(rt.pulls.size() == 8);

  // Once the image can be pulled, the next attempt after the back-off works.
  rt.pullable.insert("registry.local/app:v1");
  o = puller.Ensure(pod, First(pod), rt, nullptr, now + 300'000);
  CHECK(o.ok);
}

TEST_CASE("pull secrets: matching registry credentials are tried in turn") {
  std::vector<client::ObjectPtr> secrets = {
      Object(DockerSecret("one", R"({"auths":{"https://registry.local:5000/v2/":{"username":"alice","password":"a"},
                                              "other.example":{"auth":"Ym9iOmI="}}})")),
      Object(DockerSecret("two", R"({"*.corp.example":{"username":"carol","password":"c"},
                                     "https://index.docker.io/v1/":{"username":"dave","password":"d"}})", true))};
  auto users = [&](const std::string& image) {
    std::vector<std::string> out;
    for (const runtime::PullAuth& a : PullCredentials(image, secrets)) out.push_back(a.username);
    return out;
  };
  CHECK(users("registry.local:5000/team/app:v1") == std::vector<std::string>{"alice"});
  CHECK(users("registry.local/team/app").empty());  // the port must match
  CHECK(users("other.example/x") == std::vector<std::string>{"bob"});
  CHECK(PullCredentials("other.example/x", secrets)[0].password == "b");
  // As the kubelet: no server address (containerd would have to match it to the host).
  CHECK(PullCredentials("other.example/x", secrets)[0].server_address.empty());
  CHECK(users("eu.corp.example/app") == std::vector<std::string>{"carol"});
  CHECK(users("a.b.corp.example/app").empty());  // one glob label matches one label
  CHECK(users("busybox") == std::vector<std::string>{"dave"});
  CHECK(users("docker.io/library/busybox:1") == std::vector<std::string>{"dave"});
  CHECK(users("localhost/app").empty());

  // Through Ensure: the pod's secrets are read and each credential tried until one works.
  ImageStoreRuntime rt;
  FakePodObjects objects;
  REQUIRE(objects.Put("Secret", DockerSecret("pull", R"({"auths":{"registry.local:5000":{"username":"wrong"},
                                                                  "registry.local:5000/team":{"username":"right"}}})")));
  rt.pullable.insert("registry.local:5000/team/app:v1");
  rt.required_user = "right";
  rapidjson::Document pod = Pod(R"({"name":"c","image":"registry.local:5000/team/app:v1"})",
                                R"("imagePullSecrets":[{"name":"missing"},{"name":"pull"}],)");
  ImagePuller puller;
  ImagePullOutcome o = puller.Ensure(pod, First(pod), rt, &objects, 0);
  CHECK(o.ok);
  REQUIRE(rt.pulls.size() == 2);
  CHECK(rt.pulls[0].second == "wrong");
  CHECK(rt.pulls[1].second == "right");

  // Every credential failing: the errors together.
  rt.required_user = "nobody";
  rt.present.clear();
  rt.pulls.clear();
  ImagePuller fresh;
  o = fresh.Ensure(pod, First(pod), rt, &objects, 0);
  CHECK(o.reason == "ErrImagePull");
  CHECK(o.message == "[401 Unauthorized, 401 Unauthorized]");
}

}  // namespace
}  // namespace kite::agent
