#include "src/server/quota/resource_usage.h"

#include <catch2/catch.hpp>

#include "src/server/json/json_util.h"

namespace kite::quota {
namespace {

using admission::Quantity;

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

rapidjson::Document Json(std::string_view text) {
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

Quantity Q(std::string_view text) {
  auto q = Quantity::Parse(text);
  REQUIRE(q.ok());
  return *q;
}

// The usage as "name=value,..." for compact assertions.
std::string UsageOf(std::string_view group, std::string_view resource, std::string_view object_json,
                    int64_t now = kNow) {
  rapidjson::Document object = Json(object_json);
  return PrettyPrint(Usage(group, resource, object, now));
}

TEST_CASE("resource lists: add, subtract without going negative, mask, compare, print") {
  ResourceList a{{"cpu", Q("500m")}, {"pods", Q("1")}};
  ResourceList b{{"cpu", Q("1")}, {"memory", Q("1Gi")}};
  CHECK(PrettyPrint(Add(a, b)) == "cpu=1500m,memory=1Gi,pods=1");
  CHECK(PrettyPrint(SubtractNonNegative(a, b)) == "cpu=0,pods=1");
  CHECK(PrettyPrint(Mask(Add(a, b), {"memory", "pods"})) == "memory=1Gi,pods=1");
  CHECK(PrettyPrint(RemoveZeros(SubtractNonNegative(a, b))) == "pods=1");
  CHECK(Equals({{"cpu", Q("1000m")}}, {{"cpu", Q("1")}}));
  CHECK_FALSE(Equals({{"cpu", Q("1")}}, {{"cpu", Q("1")}, {"pods", Q("0")}}));
  CHECK(Exceeding({{"cpu", Q("2")}, {"pods", Q("3")}, {"secrets", Q("9")}}, {{"cpu", Q("2")}, {"pods", Q("2")}}) ==
        std::vector<std::string>{"pods"});

  rapidjson::Document d;
  rapidjson::Value json = ResourceListToJson(Add(a, b), d.GetAllocator());
  CHECK(json::ToJson(json) == R"({"cpu":"1500m","memory":"1Gi","pods":"1"})");
  CHECK(PrettyPrint(ParseResourceList(&json)) == "cpu=1500m,memory=1Gi,pods=1");
}

TEST_CASE("a pod charges its requests and limits, summed over containers") {
  std::string pod = R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"200m","memory":"128Mi"}}},
      {"name":"b","resources":{"requests":{"cpu":"200m","memory":"64Mi","ephemeral-storage":"1Gi"}}}]}})";
  CHECK(UsageOf("", "pods", pod) ==
        "count/pods=1,cpu=300m,ephemeral-storage=1Gi,limits.cpu=200m,limits.memory=128Mi,memory=128Mi,pods=1,"
        "requests.cpu=300m,requests.ephemeral-storage=1Gi,requests.memory=128Mi");
}

TEST_CASE("a container that only limits requests its limit") {
  CHECK(UsageOf("", "pods", R"({"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}})") ==
        "count/pods=1,cpu=1,limits.cpu=1,limits.memory=1Gi,memory=1Gi,pods=1,requests.cpu=1,requests.memory=1Gi");
}

TEST_CASE("init containers count at their peak; sidecars add to the regular containers") {
  // Regular 100m; init 500m alone; then a sidecar of 50m that keeps running: peak 500m,
  // steady state 100m + 50m.
  std::string pod = R"({"spec":{
      "initContainers":[{"name":"setup","resources":{"requests":{"cpu":"500m"}}},
                        {"name":"proxy","restartPolicy":"Always","resources":{"requests":{"cpu":"50m"}}},
                        {"name":"late","resources":{"requests":{"cpu":"400m"}}}],
      "containers":[{"name":"app","resources":{"requests":{"cpu":"100m"}}}],
      "overhead":{"cpu":"10m","memory":"1Mi"}}})";
  // Peak: max(500m, 400m + 50m) = 500m, above 150m; overhead adds 10m (and memory 1Mi to
  // requests only: nothing limits memory).
  CHECK(UsageOf("", "pods", pod) == "count/pods=1,cpu=510m,memory=1Mi,pods=1,requests.cpu=510m,requests.memory=1Mi");
}

TEST_CASE("extended resources and hugepages are charged under requests.*") {
  CHECK(UsageOf("", "pods", R"({"spec":{"containers":[{"name":"a","resources":{
          "limits":{"example.com/gpu":"2","hugepages-2Mi":"4Mi"}}}]}})") ==
        "count/pods=1,hugepages-2Mi=4Mi,pods=1,requests.example.com/gpu=2,requests.hugepages-2Mi=4Mi");
  ResourceNames names{"requests.example.com/gpu", "hugepages-2Mi", "requests.hugepages-2Mi", "example.com/gpu",
                      "requests.storage", "pods"};
  CHECK(MatchingResources("", "pods", names) ==
        ResourceNames{"hugepages-2Mi", "pods", "requests.example.com/gpu", "requests.hugepages-2Mi"});
}

TEST_CASE("terminal pods and pods past their deletion grace charge only count/pods") {
  std::string resources = R"("spec":{"containers":[{"name":"a","resources":{"requests":{"cpu":"1"}}}]})";
  CHECK(UsageOf("", "pods", "{" + resources + R"(,"status":{"phase":"Succeeded"}})") == "count/pods=1");
  CHECK(UsageOf("", "pods", "{" + resources + R"(,"status":{"phase":"Failed"}})") == "count/pods=1");
  CHECK(UsageOf("", "pods", "{" + resources + R"(,"status":{"phase":"Running"}})") ==
        "count/pods=1,cpu=1,pods=1,requests.cpu=1");
  // Deleted at kNow with 30 s grace: still charged until the grace has passed.
  std::string deleting = R"({"metadata":{"deletionTimestamp":"2023-11-14T22:13:20Z","deletionGracePeriodSeconds":30},)" +
                         resources + "}";
  CHECK(UsageOf("", "pods", deleting, kNow + 30'000) == "count/pods=1,cpu=1,pods=1,requests.cpu=1");
  CHECK(UsageOf("", "pods", deleting, kNow + 31'000) == "count/pods=1");
}

TEST_CASE("services charge node ports and load balancers by type") {
  CHECK(UsageOf("", "services", R"({"spec":{"ports":[{"port":80}]}})") ==
        "count/services=1,services=1,services.loadbalancers=0,services.nodeports=0");
  CHECK(UsageOf("", "services", R"({"spec":{"type":"NodePort","ports":[{"port":80},{"port":443}]}})") ==
        "count/services=1,services=1,services.loadbalancers=0,services.nodeports=2");
  CHECK(UsageOf("", "services", R"({"spec":{"type":"LoadBalancer","ports":[{"port":80}]}})") ==
        "count/services=1,services=1,services.loadbalancers=1,services.nodeports=1");
  CHECK(UsageOf("", "services", R"({"spec":{"type":"LoadBalancer","allocateLoadBalancerNodePorts":false,
          "ports":[{"port":80},{"port":81,"nodePort":30001}]}})") ==
        "count/services=1,services=1,services.loadbalancers=1,services.nodeports=1");
}

TEST_CASE("claims charge storage in whole bytes, also per storage class") {
  CHECK(UsageOf("", "persistentvolumeclaims",
                R"({"spec":{"storageClassName":"gold","resources":{"requests":{"storage":"1500m"}}}})") ==
        "count/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/persistentvolumeclaims=1,"
        "gold.storageclass.storage.k8s.io/requests.storage=2,persistentvolumeclaims=1,requests.storage=2");
  // The beta annotation wins over the field; a larger allocation is what is charged.
  CHECK(UsageOf("", "persistentvolumeclaims",
                R"({"metadata":{"annotations":{"volume.beta.kubernetes.io/storage-class":"silver"}},
                    "spec":{"storageClassName":"gold","resources":{"requests":{"storage":"1Gi"}}},
                    "status":{"allocatedResources":{"storage":"2Gi"}}})") ==
        "count/persistentvolumeclaims=1,persistentvolumeclaims=1,requests.storage=2Gi,"
        "silver.storageclass.storage.k8s.io/persistentvolumeclaims=1,silver.storageclass.storage.k8s.io/requests.storage=2Gi");
  CHECK(MatchingResources("", "persistentvolumeclaims",
                          {"bronze.storageclass.storage.k8s.io/requests.storage", "requests.storage", "pods"}) ==
        ResourceNames{"bronze.storageclass.storage.k8s.io/requests.storage", "requests.storage"});
}

TEST_CASE("object counts: legacy names for four core kinds, count/<resource>.<group> for any") {
  CHECK(UsageOf("", "configmaps", "{}") == "configmaps=1,count/configmaps=1");
  CHECK(UsageOf("", "secrets", "{}") == "count/secrets=1,secrets=1");
  CHECK(UsageOf("", "resourcequotas", "{}") == "count/resourcequotas=1,resourcequotas=1");
  CHECK(UsageOf("apps", "deployments", "{}") == "count/deployments.apps=1");
  CHECK(UsageOf("", "serviceaccounts", "{}") == "count/serviceaccounts=1");
  CHECK(MatchingResources("apps", "deployments", {"count/deployments.apps", "deployments", "pods"}) ==
        ResourceNames{"count/deployments.apps"});
  CHECK(MatchingResources("", "secrets", {"secrets", "count/secrets", "configmaps"}) ==
        ResourceNames{"count/secrets", "secrets"});
}

TEST_CASE("quota scopes select pods") {
  rapidjson::Document best_effort = Json(R"({"spec":{"containers":[{"name":"a"}]}})");
  rapidjson::Document burstable =
      Json(R"({"spec":{"activeDeadlineSeconds":60,"priorityClassName":"high",
              "containers":[{"name":"a","resources":{"requests":{"memory":"1Mi"}}}]}})");
  auto matches = [](std::string_view scope_json, const rapidjson::Value& pod) {
    rapidjson::Document quota = Json(std::string(R"({"spec":{"hard":{"pods":"5"},)") + std::string(scope_json) + "}}");
    return QuotaMatches(quota, EffectiveHard(quota), "", "pods", pod);
  };
  CHECK(matches(R"("scopes":["BestEffort"])", best_effort));
  CHECK_FALSE(matches(R"("scopes":["BestEffort"])", burstable));
  CHECK(matches(R"("scopes":["NotBestEffort","Terminating"])", burstable));
  CHECK_FALSE(matches(R"("scopes":["NotTerminating"])", burstable));
  CHECK(matches(R"("scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In","values":["high","mid"]}]})",
                burstable));
  CHECK_FALSE(matches(R"("scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In","values":["mid"]}]})",
                      burstable));
  CHECK(matches(R"("scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"NotIn","values":["high"]}]})",
                best_effort));
  CHECK(matches(R"("scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"Exists"}]})", burstable));
  CHECK(matches(R"("scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"DoesNotExist"}]})",
                best_effort));

  // Scopes apply to pods only: a scoped quota matches no service; a quota must also limit
  // something the kind charges.
  rapidjson::Document service = Json(R"({"spec":{}})");
  rapidjson::Document scoped = Json(R"({"spec":{"hard":{"services":"5"},"scopes":["BestEffort"]}})");
  CHECK_FALSE(QuotaMatches(scoped, EffectiveHard(scoped), "", "services", service));
  rapidjson::Document unscoped = Json(R"({"spec":{"hard":{"services":"5"}}})");
  CHECK(QuotaMatches(unscoped, EffectiveHard(unscoped), "", "services", service));
  CHECK_FALSE(QuotaMatches(unscoped, EffectiveHard(unscoped), "", "pods", best_effort));
}

TEST_CASE("the effective hard limits are status.hard, or spec.hard before the controller wrote status") {
  rapidjson::Document fresh = Json(R"({"spec":{"hard":{"pods":"2"}}})");
  CHECK(PrettyPrint(EffectiveHard(fresh)) == "pods=2");
  rapidjson::Document synced = Json(R"({"spec":{"hard":{"pods":"3"}},"status":{"hard":{"pods":"2"},"used":{"pods":"0"}}})");
  CHECK(PrettyPrint(EffectiveHard(synced)) == "pods=2");
}

TEST_CASE("a quota on cpu or memory requires every container to set it") {
  rapidjson::Document pod = Json(R"({"spec":{
      "initContainers":[{"name":"init","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}],
      "containers":[{"name":"b","resources":{"requests":{"cpu":"1"}}},{"name":"a"}]}})");
  CHECK(PodConstraintViolation({"pods", "requests.storage"}, pod) == std::nullopt);
  CHECK(PodConstraintViolation({"limits.cpu", "requests.memory", "pods"}, pod) ==
        std::optional<std::string>("must specify limits.cpu for: a,b; requests.memory for: a,b"));
  CHECK(PodConstraintViolation({"cpu"}, pod) == std::optional<std::string>("must specify cpu for: a"));
}

TEST_CASE("usage over a namespace's objects honours scopes and counts only the asked resources") {
  rapidjson::Document a = Json(R"({"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"250m"}}}]}})");
  rapidjson::Document b = Json(R"({"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]}})");
  rapidjson::Document c = Json(R"({"spec":{"containers":[{"name":"c"}]}})");
  rapidjson::Document done = Json(R"({"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"2"}}}]},
                                      "status":{"phase":"Succeeded"}})");
  std::vector<const rapidjson::Value*> pods{&a, &b, &c, &done};
  ResourceNames hard{"pods", "requests.cpu", "count/pods", "secrets", "limits.memory"};
  CHECK(PrettyPrint(CalculateUsage("", "pods", {}, hard, pods, kNow)) ==
        "count/pods=4,limits.memory=0,pods=3,requests.cpu=1250m");
  CHECK(PrettyPrint(CalculateUsage("", "pods", {{"BestEffort", "Exists", {}}}, hard, pods, kNow)) ==
        "count/pods=1,limits.memory=0,pods=1,requests.cpu=0");
  CHECK(CalculateUsage("", "services", {}, hard, pods, kNow).empty());
}

}  // namespace
}  // namespace kite::quota
