#include "src/server/controllers/resource_quota_controller.h"

#include <catch2/catch.hpp>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_manager.h"
#include "src/server/controllers/crd_controller.h"
#include "tests/testing/api_fixture.h"

namespace kite::controllers {
namespace {

using testing::ApiFixture;
using testing::Eventually;

std::string Pod(std::string_view name, std::string_view cpu) {
  return R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":{"containers":[{"name":"app","image":"busybox",)"
         R"("resources":{"requests":{"cpu":")" + std::string(cpu) + R"("}}}]}})";
}

// status.<field> of the quota as compact JSON, "" while absent.
std::string QuotaStatus(ApiFixture& api, std::string_view ns, std::string_view name, std::string_view field) {
  auto q = api.Client(kResourceQuotas).Get(ns, name);
  if (!q.ok()) return "";
  const rapidjson::Value* status = json::Member(*q, "status");
  const rapidjson::Value* v = status ? json::Member(*status, field) : nullptr;
  return v ? json::ToJson(*v) : "";
}

struct Fixture {
  ApiFixture api;
  ControllerManager manager{api.transport()};

  // `crd_controller`: establish CRDs too, so that custom resources are served and counted.
  explicit Fixture(std::chrono::milliseconds resync = std::chrono::minutes(5), bool crd_controller = false) {
    api.Create(client::kNamespaces, "", R"({"metadata":{"name":"team"}})");
    if (crd_controller) manager.Add(std::make_unique<CrdController>());
    ResourceQuotaController::Options options;
    options.resync_period = resync;
    manager.Add(std::make_unique<ResourceQuotaController>(options));
  }
  ~Fixture() { manager.Stop(); }
  bool StatusIs(std::string_view name, std::string_view field, std::string_view want) {
    return Eventually([&] { return QuotaStatus(api, "team", name, field) == want; });
  }
};

TEST_CASE("the quota controller fills status.hard and status.used from the namespace's objects") {
  Fixture f;
  f.api.Create(client::kPods, "team", Pod("a", "250m"));
  f.api.Create(client::kPods, "team", Pod("b", "500m"));
  f.api.Create(client::kPods, "default", Pod("elsewhere", "1"));
  f.api.Create(client::kServices, "team", R"({"metadata":{"name":"web"},"spec":{"type":"NodePort","ports":[{"port":80}]}})");
  f.api.Create(client::kConfigMaps, "team", R"({"metadata":{"name":"cfg"}})");
  REQUIRE(f.manager.Start().ok());
  f.api.Create(kResourceQuotas, "team",
               R"({"metadata":{"name":"q"},"spec":{"hard":{"pods":"10","requests.cpu":"2","services":"5",)"
               R"("services.nodeports":"3","configmaps":"4","secrets":"2","count/deployments.apps":"2"}}})");
  CHECK(f.StatusIs("q", "hard",
                   R"({"configmaps":"4","count/deployments.apps":"2","pods":"10","requests.cpu":"2","secrets":"2",)"
                   R"("services":"5","services.nodeports":"3"})"));
  CHECK(f.StatusIs("q", "used",
                   R"({"configmaps":"1","count/deployments.apps":"0","pods":"2","requests.cpu":"750m","secrets":"0",)"
                   R"("services":"1","services.nodeports":"1"})"));

  // A quota on a kind no informer watched yet (deployments) is counted once its cache fills.
  f.api.Create(client::kDeployments, "team",
               R"({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},)"
               R"("template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  // Deployments are not replenished on events: a spec change asks for a recount.
  auto quotas = f.api.Client(kResourceQuotas);
  REQUIRE(quotas.Patch("team", "q", client::PatchType::kMerge, R"({"spec":{"hard":{"pods":"11"}}})").ok());
  CHECK(f.StatusIs("q", "used",
                   R"({"configmaps":"1","count/deployments.apps":"1","pods":"2","requests.cpu":"750m","secrets":"0",)"
                   R"("services":"1","services.nodeports":"1"})"));
  // (The admission already charged the deployment to status.used: wait for the new hard.)
  CHECK(f.StatusIs("q", "hard",
                   R"({"configmaps":"4","count/deployments.apps":"2","pods":"11","requests.cpu":"2","secrets":"2",)"
                   R"("services":"5","services.nodeports":"3"})"));
}

TEST_CASE("deleting objects and terminal pods give quota back") {
  // A recount triggered by one informer's event may read another informer's cache before it
  // saw the latest create (configmaps vs pods); the periodic resync corrects that, as
  // upstream's does, so it is short here.
  Fixture f(std::chrono::seconds(2));
  REQUIRE(f.manager.Start().ok());
  f.api.Create(kResourceQuotas, "team",
               R"({"metadata":{"name":"q"},"spec":{"hard":{"pods":"10","count/pods":"10","requests.cpu":"4",)"
               R"("configmaps":"3"}}})");
  CHECK(f.StatusIs("q", "used", R"({"configmaps":"0","count/pods":"0","pods":"0","requests.cpu":"0"})"));
  // The API server's quota admission charges the creates; deletes and terminal pods give
  // back through the controller's recount.
  f.api.Create(client::kPods, "team", Pod("a", "1"));
  f.api.Create(client::kPods, "team", Pod("b", "1"));
  f.api.Create(client::kPods, "team", Pod("c", "1"));
  f.api.Create(client::kConfigMaps, "team", R"({"metadata":{"name":"x"}})");
  f.api.Create(client::kConfigMaps, "team", R"({"metadata":{"name":"y"}})");

  auto pods = f.api.Client(client::kPods);
  REQUIRE(pods.Delete("team", "c", R"({"gracePeriodSeconds":0})").ok());
  CHECK(f.StatusIs("q", "used", R"({"configmaps":"2","count/pods":"2","pods":"2","requests.cpu":"2"})"));

  // A pod that has finished stops counting, except as an object.
  auto b = pods.Get("team", "b");
  REQUIRE(b.ok());
  rapidjson::Document finished;
  finished.CopyFrom(*b, finished.GetAllocator());
  json::SetMember(finished, "status", rapidjson::Value(rapidjson::kObjectType), finished.GetAllocator());
  json::SetStringMember(*json::MutableMember(finished, "status"), "phase", "Succeeded", finished.GetAllocator());
  REQUIRE(pods.UpdateStatus(finished).ok());
  CHECK(f.StatusIs("q", "used", R"({"configmaps":"2","count/pods":"2","pods":"1","requests.cpu":"1"})"));

  REQUIRE(f.api.Client(client::kConfigMaps).Delete("team", "x").ok());
  CHECK(f.StatusIs("q", "used", R"({"configmaps":"1","count/pods":"2","pods":"1","requests.cpu":"1"})"));
}

TEST_CASE("scoped quotas count only their pods; usage of unknown kinds is kept") {
  Fixture f;
  f.api.Create(client::kPods, "team", Pod("burstable", "100m"));
  f.api.Create(client::kPods, "team",
               R"({"metadata":{"name":"best-effort"},"spec":{"containers":[{"name":"app","image":"busybox"}]}})");
  REQUIRE(f.manager.Start().ok());
  f.api.Create(kResourceQuotas, "team",
               R"({"metadata":{"name":"be"},"spec":{"hard":{"pods":"5"},"scopes":["BestEffort"]}})");
  f.api.Create(kResourceQuotas, "team",
               R"({"metadata":{"name":"custom"},"spec":{"hard":{"count/widgets.example.com":"5","resourcequotas":"9"}}})");
  CHECK(f.StatusIs("be", "used", R"({"pods":"1"})"));
  // No informer can count widgets: the controller leaves that usage out until something
  // (the admission plugin) records it, and keeps it afterwards.
  CHECK(f.StatusIs("custom", "used", R"({"resourcequotas":"2"})"));
}

constexpr char kCronTabCrd[] = R"({"metadata":{"name":"crontabs.stable.example.com"},"spec":{
  "group":"stable.example.com","scope":"Namespaced",
  "names":{"plural":"crontabs","singular":"crontab","kind":"CronTab"},
  "versions":[{"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object"}}},
              {"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
               "properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}})";
constexpr char kClusterThingCrd[] = R"({"metadata":{"name":"clusterthings.stable.example.com"},"spec":{
  "group":"stable.example.com","scope":"Cluster",
  "names":{"plural":"clusterthings","singular":"clusterthing","kind":"ClusterThing"},
  "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}]}})";
const client::ResourceRef kCronTabs{"stable.example.com", "v1", "crontabs", true};
const client::ResourceRef kClusterThings{"stable.example.com", "v1", "clusterthings", false};

std::string CronTab(std::string_view name) {
  return R"({"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":")" + std::string(name) +
         R"("},"spec":{"cronSpec":"* * * * */5"}})";
}

// A POST through the API as the admin, for the status code and body of a refusal.
client::ClientResponse Post(ApiFixture& api, std::string path, std::string body, std::string query = "") {
  return api.transport()->Do({"POST", std::move(path), std::move(query), std::move(body), "application/json"});
}

TEST_CASE("count/<plural>.<group> limits a custom resource: admission refuses, the controller counts and frees") {
  Fixture f(std::chrono::minutes(5), /*crd_controller=*/true);
  REQUIRE(f.manager.Start().ok());
  ApiFixture& api = f.api;
  ControllerManager& manager = f.manager;
  auto status_is = [&](std::string_view want) {
    return Eventually([&] { return QuotaStatus(api, "team", "q", "used") == want; });
  };

  // Before the CRDs exist their counts are skipped; the rest of the quota is synced.
  api.Create(kResourceQuotas, "team",
             R"({"metadata":{"name":"q"},"spec":{"hard":{"count/crontabs.stable.example.com":"2",)"
             R"("count/clusterthings.stable.example.com":"0","configmaps":"5"}}})");
  CHECK(status_is(R"({"configmaps":"0"})"));

  // Once Established, the namespaced one is counted; the cluster-scoped one never is.
  api.Create(client::kCustomResourceDefinitions, "", kCronTabCrd);
  api.Create(client::kCustomResourceDefinitions, "", kClusterThingCrd);
  CHECK(status_is(R"({"configmaps":"0","count/crontabs.stable.example.com":"0"})"));

  client::ResourceClient crontabs = api.Client(kCronTabs);
  auto create = [&](std::string_view name) {
    auto object = json::ParseJson(CronTab(name));
    REQUIRE(object.ok());
    return crontabs.Create("team", *object);
  };
  // (The API serves the resource once its watcher has seen the CRD established.)
  REQUIRE(Eventually([&] { return create("a").ok(); }));
  REQUIRE(create("b").ok());
  CHECK(QuotaStatus(api, "team", "q", "used") == R"({"configmaps":"0","count/crontabs.stable.example.com":"2"})");

  client::ClientResponse third =
      Post(api, "/apis/stable.example.com/v1/namespaces/team/crontabs", CronTab("c"));
  CHECK(third.status == 403);
  CHECK(third.body.find(R"("reason":"Forbidden")") != std::string::npos);
  CHECK(third.body.find(R"(crontabs.stable.example.com \"c\" is forbidden: exceeded quota: q, )"
                        R"(requested: count/crontabs.stable.example.com=1, )"
                        R"(used: count/crontabs.stable.example.com=2, )"
                        R"(limited: count/crontabs.stable.example.com=2)") != std::string::npos);
  CHECK(crontabs.Get("team", "c").status().code() == StatusCode::kNotFound);
  // The controller's own count agrees: its recounts leave it at 2.
  CHECK_FALSE(Eventually(
      [&] {
        return QuotaStatus(api, "team", "q", "used") != R"({"configmaps":"0","count/crontabs.stable.example.com":"2"})";
      },
      std::chrono::milliseconds(1000)));
  // A dry run is checked as well.
  client::ClientResponse dry =
      Post(api, "/apis/stable.example.com/v1/namespaces/team/crontabs", CronTab("c"), "dryRun=All");
  CHECK(dry.status == 403);

  // Cluster-scoped custom resources are charged to no quota (its hard 0 does not apply).
  auto thing = json::ParseJson(R"({"apiVersion":"stable.example.com/v1","kind":"ClusterThing","metadata":{"name":"t"}})");
  REQUIRE(thing.ok());
  REQUIRE(Eventually([&] { return api.Client(kClusterThings).Create("", *thing).ok(); }));

  // A delete gives quota back at once (the controller hears it; the periodic resync is 5
  // minutes); then a create fits again.
  REQUIRE(crontabs.Delete("team", "a").ok());
  CHECK(Eventually(
      [&] {
        return QuotaStatus(api, "team", "q", "used") == R"({"configmaps":"0","count/crontabs.stable.example.com":"1"})";
      },
      std::chrono::milliseconds(1500)));
  REQUIRE(create("c").ok());
  CHECK(QuotaStatus(api, "team", "q", "used") == R"({"configmaps":"0","count/crontabs.stable.example.com":"2"})");

  // With the CRD deleted (its objects go first), the quota keeps working for the rest.
  REQUIRE(api.Client(client::kCustomResourceDefinitions).Delete("", "crontabs.stable.example.com").ok());
  REQUIRE(Eventually([&] {
    return api.Client(client::kCustomResourceDefinitions).Get("", "crontabs.stable.example.com").status().code() ==
           StatusCode::kNotFound;
  }));
  api.Create(client::kConfigMaps, "team", R"({"metadata":{"name":"cfg"}})");
  REQUIRE(api.Client(client::kConfigMaps).Delete("team", "cfg").ok());
  // (The create was charged by the admission; only the controller gives it back.)
  CHECK(Eventually(
      [&] { return QuotaStatus(api, "team", "q", "used").find(R"("configmaps":"0")") != std::string::npos; }));
  manager.Stop();
}

TEST_CASE("a CRD deleted and created again under the same name is counted and replenished again") {
  Fixture f(std::chrono::minutes(5), /*crd_controller=*/true);
  REQUIRE(f.manager.Start().ok());
  ApiFixture& api = f.api;
  ControllerManager& manager = f.manager;
  client::ResourceClient crds = api.Client(client::kCustomResourceDefinitions);
  client::ResourceClient crontabs = api.Client(kCronTabs);
  auto create = [&](std::string_view name) {
    auto object = json::ParseJson(CronTab(name));
    REQUIRE(object.ok());
    // (The API serves the resource once its watcher has seen the CRD established.)
    REQUIRE(Eventually([&] { return crontabs.Create("team", *object).ok(); }));
  };
  auto used_is = [&](std::string_view count, std::chrono::milliseconds within) {
    std::string want = R"({"count/crontabs.stable.example.com":")" + std::string(count) + R"("})";
    return Eventually([&] { return QuotaStatus(api, "team", "q", "used") == want; }, within);
  };
  api.Create(kResourceQuotas, "team",
             R"({"metadata":{"name":"q"},"spec":{"hard":{"count/crontabs.stable.example.com":"10"}}})");

  api.Create(client::kCustomResourceDefinitions, "", kCronTabCrd);
  create("a");
  create("b");
  CHECK(used_is("2", std::chrono::seconds(10)));
  // The informer of the resource lives while the CRD does.
  CHECK(manager.informers().Has(kCronTabs));

  REQUIRE(crds.Delete("", "crontabs.stable.example.com").ok());
  REQUIRE(Eventually([&] { return crds.Get("", "crontabs.stable.example.com").status().code() == StatusCode::kNotFound; }));
  CHECK(Eventually([&] { return !manager.informers().Has(kCronTabs); }));

  api.Create(client::kCustomResourceDefinitions, "", kCronTabCrd);
  create("c");
  create("d");
  create("e");
  // Counted from the new informer (whatever the admission charged meanwhile)...
  CHECK(used_is("3", std::chrono::seconds(10)));
  // ...and its deletes give quota back, promptly.
  REQUIRE(crontabs.Delete("team", "c").ok());
  CHECK(used_is("2", std::chrono::milliseconds(1500)));
  manager.Stop();
}

TEST_CASE("a CRD that is not Established leaves its count out without holding up the quota") {
  Fixture f;  // no CRD controller: nothing establishes the CRD
  REQUIRE(f.manager.Start().ok());
  f.api.Create(client::kCustomResourceDefinitions, "", kCronTabCrd);
  f.api.Create(kResourceQuotas, "team",
               R"({"metadata":{"name":"q"},"spec":{"hard":{"count/crontabs.stable.example.com":"2","secrets":"3"}}})");
  CHECK(f.StatusIs("q", "used", R"({"secrets":"0"})"));
  CHECK(f.StatusIs("q", "hard", R"({"count/crontabs.stable.example.com":"2","secrets":"3"})"));
  // Replenishment of the other kinds works as usual.
  f.api.Create(client::kSecrets, "team", R"({"metadata":{"name":"s"}})");
  CHECK(f.StatusIs("q", "used", R"({"secrets":"1"})"));
  REQUIRE(f.api.Client(client::kSecrets).Delete("team", "s").ok());
  CHECK(f.StatusIs("q", "used", R"({"secrets":"0"})"));
}

}  // namespace
}  // namespace kite::controllers
