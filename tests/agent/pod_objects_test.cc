// ApiPodObjects against a real API server (in process), on a fake clock.
#include "src/agent/pod_objects.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::agent {
namespace {

using namespace std::chrono_literals;

std::string Data(const client::ObjectPtr& object, std::string_view key) {
  const rapidjson::Value* data = json::Member(*object, "data");
  return data ? std::string(json::StringMember(*data, key)) : "";
}

TEST_CASE("ApiPodObjects: reads with a short cache, the kubelet's not-found texts") {
  testing::ApiFixture api;
  FakeClock clock;
  ApiPodObjects objects(api.transport(), {2000ms, &clock});
  api.Create(client::kConfigMaps, "default", R"({"metadata":{"name":"cfg"},"data":{"k":"v1"}})");
  api.Create(client::kSecrets, "default", R"({"metadata":{"name":"s"},"data":{"k":"djE="}})");

  Result<client::ObjectPtr> cm = objects.ConfigMap("default", "cfg");
  REQUIRE(cm.ok());
  CHECK(Data(*cm, "k") == "v1");
  REQUIRE(objects.Secret("default", "s").ok());

  Result<client::ObjectPtr> missing = objects.ConfigMap("default", "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == "configmap \"nope\" not found");
  missing = objects.Secret("default", "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "secret \"nope\" not found");
  missing = objects.PersistentVolumeClaim("default", "claim");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "persistentvolumeclaims \"claim\" not found");
  CHECK(objects.PersistentVolume("pv").status().code() == StatusCode::kNotFound);

  // A change shows once the cache entry is older than its TTL; "not found" is cached too.
  auto updated = api.Client(client::kConfigMaps).Get("default", "cfg");
  REQUIRE(updated.ok());
  json::SetStringMember(*json::MutableMember(*updated, "data"), "k", "v2", updated->GetAllocator());
  REQUIRE(api.Client(client::kConfigMaps).Update(*updated).ok());
  api.Create(client::kConfigMaps, "default", R"({"metadata":{"name":"nope"},"data":{}})");
  CHECK(Data(*objects.ConfigMap("default", "cfg"), "k") == "v1");
  CHECK_FALSE(objects.ConfigMap("default", "nope").ok());
  clock.Advance(2001ms);
  CHECK(Data(*objects.ConfigMap("default", "cfg"), "k") == "v2");
  CHECK(objects.ConfigMap("default", "nope").ok());
}

TEST_CASE("ApiPodObjects: services of a namespace") {
  testing::ApiFixture api;
  FakeClock clock;
  ApiPodObjects objects(api.transport(), {2000ms, &clock});
  api.Create(client::kServices, "default",
             R"({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}],"selector":{"app":"web"}}})");
  Result<std::vector<client::ObjectPtr>> services = objects.Services("default");
  REQUIRE(services.ok());
  std::set<std::string> names;
  for (const client::ObjectPtr& s : *services) {
    names.insert(std::string(json::StringMember(*json::Member(*s, "metadata"), "name")));
  }
  CHECK(names.count("web") == 1);
  Result<std::vector<client::ObjectPtr>> none = objects.Services("empty");
  REQUIRE(none.ok());
  CHECK(none->empty());

  // Watched, not re-listed: later creates and deletes show without the clock moving.
  auto names_in = [&](std::string_view ns) {
    std::set<std::string> out;
    Result<std::vector<client::ObjectPtr>> listed = objects.Services(ns);
    if (listed.ok()) {
      for (const client::ObjectPtr& s : *listed) {
        out.insert(std::string(json::StringMember(*json::Member(*s, "metadata"), "name")));
      }
    }
    return out;
  };
  api.Create(client::kServices, "default",
             R"({"metadata":{"name":"db"},"spec":{"ports":[{"port":5432}],"selector":{"app":"db"}}})");
  CHECK(testing::Eventually([&] { return names_in("default").count("db") == 1; }, 5s));
  REQUIRE(api.Client(client::kServices).Delete("default", "web").ok());
  CHECK(testing::Eventually([&] { return names_in("default").count("web") == 0; }, 5s));
  CHECK(names_in("default").count("db") == 1);
}

TEST_CASE("ApiPodObjects: bound service account tokens, reused until 80% of their life") {
  testing::ApiFixture api;
  FakeClock clock;
  ApiPodObjects objects(api.transport(), {2000ms, &clock});
  api.Create(client::kServiceAccounts, "default", R"({"metadata":{"name":"robot"}})");
  rapidjson::Document pod = api.Create(client::kPods, "default",
                                       R"({"metadata":{"name":"p"},"spec":{"serviceAccountName":"robot",
                                         "containers":[{"name":"c","image":"busybox"}]}})");
  ServiceAccountTokenRequest request;
  request.namespace_ = "default";
  request.service_account = "robot";
  request.audience = "vault";
  request.expiration_seconds = 3600;
  request.pod_name = "p";
  request.pod_uid = json::StringMember(*json::Member(pod, "metadata"), "uid");
  Result<std::string> token = objects.ServiceAccountToken(request);
  REQUIRE(token.ok());
  CHECK(std::count(token->begin(), token->end(), '.') == 2);  // a JWT
  clock.Advance(2000s);
  Result<std::string> again = objects.ServiceAccountToken(request);
  REQUIRE(again.ok());
  CHECK(*again == *token);
  clock.Advance(900s);  // past 80% of the hour
  Result<std::string> fresh = objects.ServiceAccountToken(request);
  REQUIRE(fresh.ok());
  CHECK(*fresh != *token);

  request.service_account = "ghost";
  Result<std::string> missing = objects.ServiceAccountToken(request);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
}

}  // namespace
}  // namespace kite::agent
