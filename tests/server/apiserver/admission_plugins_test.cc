// The admission plugins that read other objects, through the API: LimitRanger's defaults
// and bounds for pods and claims; ResourceQuota's refusals and charges.
#include <catch2/catch.hpp>

#include "src/server/json/json_util.h"
#include "tests/testing/api_fixture.h"

namespace kite::apiserver {
namespace {

using rapidjson::Document;
using rapidjson::Value;

const client::ResourceRef kLimitRanges{"", "v1", "limitranges", true};
const client::ResourceRef kPods{"", "v1", "pods", true};
const client::ResourceRef kClaims{"", "v1", "persistentvolumeclaims", true};

std::string PodJson(std::string_view name, std::string_view resources) {
  return R"({"metadata":{"name":")" + std::string(name) +
         R"("},"spec":{"containers":[{"name":"c","image":"busybox","resources":)" + std::string(resources) + "}]}}";
}

client::ClientResponse Post(testing::ApiFixture& api, std::string path, std::string body) {
  return api.transport()->Do({"POST", std::move(path), "", std::move(body), "application/json"});
}

std::string Resource(const Value& pod, const char* kind, const char* name) {
  const Value& res = pod["spec"]["containers"][0]["resources"];
  const Value* list = json::Member(res, kind);
  return list ? std::string(json::StringMember(*list, name)) : std::string();
}

TEST_CASE("LimitRange defaults fill a new pod's containers and bounds refuse a pod and a claim") {
  testing::ApiFixture api;
  Document range = api.Create(kLimitRanges, "default", R"({"metadata":{"name":"limits"},"spec":{"limits":[
      {"type":"Container","max":{"cpu":"1"},"min":{"cpu":"50m"},"default":{"cpu":"500m","memory":"256Mi"},
       "defaultRequest":{"cpu":"100m"}},
      {"type":"PersistentVolumeClaim","max":{"storage":"2Gi"}}]}})");
  // The LimitRange itself is stored with its items' defaults (defaultRequest memory from default).
  CHECK(json::StringMember(range["spec"]["limits"][0]["defaultRequest"], "memory") == "256Mi");

  Document pod = api.Create(kPods, "default", PodJson("plain", "{}"));
  CHECK(Resource(pod, "limits", "cpu") == "500m");
  CHECK(Resource(pod, "limits", "memory") == "256Mi");
  CHECK(Resource(pod, "requests", "cpu") == "100m");
  CHECK(Resource(pod, "requests", "memory") == "256Mi");
  CHECK(json::StringMember(pod["metadata"]["annotations"], "kubernetes.io/limit-ranger") ==
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c");
  CHECK(json::StringMember(pod["status"], "qosClass") == "Burstable");

  // Values the pod sets are kept.
  Document own = api.Create(kPods, "default", PodJson("own", R"({"limits":{"cpu":"200m","memory":"64Mi"}})"));
  CHECK(Resource(own, "limits", "cpu") == "200m");
  CHECK(Resource(own, "requests", "cpu") == "200m");

  client::ClientResponse big = Post(api, "/api/v1/namespaces/default/pods", PodJson("big", R"({"limits":{"cpu":"2"}})"));
  CHECK(big.status == 403);
  CHECK(big.body.find(R"(pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2)") !=
        std::string::npos);
  CHECK(big.body.find(R"("reason":"Forbidden")") != std::string::npos);
  CHECK(api.Client(kPods).Get("default", "big").status().code() == StatusCode::kNotFound);

  client::ClientResponse claim = Post(api, "/api/v1/namespaces/default/persistentvolumeclaims",
      R"({"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"5Gi"}}}})");
  CHECK(claim.status == 403);
  CHECK(claim.body.find(R"(persistentvolumeclaims \"data\" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi)") !=
        std::string::npos);

  // Other namespaces are not limited.
  api.Create({"", "v1", "namespaces", false}, "", R"({"metadata":{"name":"free"}})");
  Document free_pod = api.Create(kPods, "free", PodJson("big", R"({"limits":{"cpu":"2"}})"));
  CHECK(Resource(free_pod, "limits", "cpu") == "2");
  CHECK_FALSE(json::Member(free_pod["metadata"], "annotations"));
}

const client::ResourceRef kQuotas{"", "v1", "resourcequotas", true};
const client::ResourceRef kConfigMaps{"", "v1", "configmaps", true};

std::string Used(testing::ApiFixture& api, std::string_view quota, const char* resource) {
  auto q = api.Client(kQuotas).Get("default", quota);
  REQUIRE(q.ok());
  const Value* status = json::Member(*q, "status");
  const Value* used = status ? json::Member(*status, "used") : nullptr;
  return used ? std::string(json::StringMember(*used, resource)) : std::string();
}

TEST_CASE("ResourceQuota refuses what would exceed it and charges what it admits") {
  testing::ApiFixture api;
  api.Create(kQuotas, "default", R"({"metadata":{"name":"q"},"spec":{"hard":{"pods":"2","limits.cpu":"1","configmaps":"1"}}})");

  // A quota on limits.cpu requires pods to set it.
  client::ClientResponse unset = Post(api, "/api/v1/namespaces/default/pods", PodJson("unset", "{}"));
  CHECK(unset.status == 403);
  CHECK(unset.body.find("pods \\\"unset\\\" is forbidden: failed quota: q: must specify limits.cpu for: c") !=
        std::string::npos);

  api.Create(kPods, "default", PodJson("a", R"({"limits":{"cpu":"400m"}})"));
  CHECK(Used(api, "q", "pods") == "1");
  CHECK(Used(api, "q", "limits.cpu") == "400m");
  client::ClientResponse greedy = Post(api, "/api/v1/namespaces/default/pods", PodJson("greedy", R"({"limits":{"cpu":"700m"}})"));
  CHECK(greedy.status == 403);
  CHECK(greedy.body.find(R"(exceeded quota: q, requested: limits.cpu=700m, used: limits.cpu=400m, limited: limits.cpu=1)") !=
        std::string::npos);
  api.Create(kPods, "default", PodJson("b", R"({"limits":{"cpu":"100m"}})"));
  client::ClientResponse third = Post(api, "/api/v1/namespaces/default/pods", PodJson("c", R"({"limits":{"cpu":"100m"}})"));
  CHECK(third.status == 403);
  CHECK(third.body.find("pods \\\"c\\\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2") !=
        std::string::npos);
  CHECK(Used(api, "q", "pods") == "2");

  // A dry run is checked but not charged.
  api.transport()->Do({"POST", "/api/v1/namespaces/default/configmaps", "dryRun=All", R"({"metadata":{"name":"dry"}})",
                       "application/json"});
  api.Create(kConfigMaps, "default", R"({"metadata":{"name":"one"}})");
  client::ClientResponse second_cm = Post(api, "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"two"}})");
  CHECK(second_cm.status == 403);
  CHECK(second_cm.body.find("exceeded quota: q, requested: configmaps=1, used: configmaps=1, limited: configmaps=1") !=
        std::string::npos);
}

}  // namespace
}  // namespace kite::apiserver
