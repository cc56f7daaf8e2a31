#include <catch2/catch.hpp>

#include "src/server/apiserver/api_server.h"
#include "src/server/json/json_util.h"
#include "src/server/metrics/metrics_api.h"
#include "src/store/memory_store.h"
#include "tests/testing/temp_dir.h"

namespace kite::metrics {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

// A real API server (in-memory store) serving the metrics API over `store`.
class MetricsServer {
 public:
  MetricsServer() : api_(&store, &clock) {
    apiserver::ApiServerOptions options;
    options.server_dir = dir_.file("server");
    options.port = 0;
    options.computed_api = &api_;
    auto server = apiserver::ApiServer::Start(options, &kv_);
    if (!server.ok()) throw std::runtime_error(server.status().message());
    server_ = std::move(server).value();
  }
  ~MetricsServer() { server_->Stop(); }

  http::Response Call(const std::string& method, const std::string& target, const std::string& accept = "",
                      const std::string& user = "admin", const std::string& group = "system:masters") {
    http::Request r;
    r.method = method;
    r.target = target;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!accept.empty()) r.headers.emplace_back("accept", accept);
    if (method == "POST") {
      r.headers.emplace_back("content-type", "application/json");
      r.body = R"({"apiVersion":"metrics.k8s.io/v1beta1","kind":"NodeMetrics","metadata":{"name":"x"}})";
    }
    r.peer.has_verified_certificate = true;
    r.peer.common_name = user;
    r.peer.organizations = {group};
    http::HandlerResult result = server_->handler()->Handle(r);
    REQUIRE(std::holds_alternative<http::Response>(result));
    return std::get<http::Response>(result);
  }

  rapidjson::Document Json(const http::Response& response) {
    Result<rapidjson::Document> doc = json::ParseJson(response.body);
    REQUIRE(doc.ok());
    return std::move(doc).value();
  }

  FakeClock clock{kT0 + 60'000};
  MetricsStore store;

 private:
  testing::TempDir dir_;
  store::MemoryStore kv_;
  MetricsApi api_;
  std::unique_ptr<apiserver::ApiServer> server_;
};

NodeScrape Node(std::string name, int64_t at, uint64_t cpu_nanos, uint64_t memory) {
  NodeScrape s;
  s.node = std::move(name);
  s.node_labels = {{"kubernetes.io/hostname", s.node}};
  s.sample.has_node_point = true;
  s.sample.node = {at, cpu_nanos, memory};
  return s;
}

void AddContainer(NodeScrape& s, std::string ns, std::string pod, std::string name, int64_t at, uint64_t cpu,
                  uint64_t memory, Labels labels) {
  ContainerSample c;
  c.namespace_ = ns;
  c.pod = pod;
  c.container = std::move(name);
  c.point = {at, cpu, memory};
  s.sample.containers.push_back(std::move(c));
  s.pod_labels[ns + "/" + pod] = std::move(labels);
}

// Two rounds: node n1 at 1.5 cores, 3 GiB; pods web (two containers) and db in default,
// dns in kube-system.
void Fill(MetricsStore& store) {
  for (int round = 0; round < 2; ++round) {
    int64_t at = kT0 + round * 15'000;
    uint64_t k = static_cast<uint64_t>(round);
    NodeScrape n1 = Node("n1", at, k * 22'500'000'000ull, 3ull << 30);
    AddContainer(n1, "default", "web", "app", at, k * 3'750'000'000ull, 64ull << 20, {{"app", "web"}});
    AddContainer(n1, "default", "web", "proxy", at, k * 150'000'000ull, 1234 * 1024, {{"app", "web"}});
    AddContainer(n1, "default", "db", "postgres", at, k * 1'851'851'851ull, 1000, {{"app", "db"}});
    AddContainer(n1, "kube-system", "dns", "coredns", at, k * 15'000'000ull, 1 << 20, {{"k8s-app", "dns"}});
    NodeScrape n2 = Node("n2", at + 12, k * 15'000'000'000ull, 1ull << 30);
    store.Store({std::move(n1), std::move(n2)});
  }
}

TEST_CASE("metrics.k8s.io is in discovery as kubectl top looks for it") {
  MetricsServer s;
  rapidjson::Document groups = s.Json(s.Call("GET", "/apis"));
  bool found = false;
  for (const auto& g : (*json::Member(groups, "groups")).GetArray()) {
    if (json::StringMember(g, "name") != "metrics.k8s.io") continue;
    found = true;
    CHECK(json::StringMember(*json::Member(g, "preferredVersion"), "version") == "v1beta1");
  }
  CHECK(found);

  http::Response aggregated =
      s.Call("GET", "/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
  CHECK(aggregated.body.find("\"metrics.k8s.io\"") != std::string::npos);
  CHECK(aggregated.body.find("\"PodMetrics\"") != std::string::npos);

  rapidjson::Document list = s.Json(s.Call("GET", "/apis/metrics.k8s.io/v1beta1"));
  CHECK(json::StringMember(list, "groupVersion") == "metrics.k8s.io/v1beta1");
  std::map<std::string, std::pair<std::string, bool>> resources;
  for (const auto& r : (*json::Member(list, "resources")).GetArray()) {
    resources[std::string(json::StringMember(r, "name"))] = {std::string(json::StringMember(r, "kind")),
                                                             json::Member(r, "namespaced")->GetBool()};
    CHECK(json::ToJson(*json::Member(r, "verbs")) == R"(["get","list"])");
  }
  CHECK(resources["nodes"] == std::make_pair(std::string("NodeMetrics"), false));
  CHECK(resources["pods"] == std::make_pair(std::string("PodMetrics"), true));
  CHECK(s.Call("GET", "/apis/metrics.k8s.io").status == 200);
}

TEST_CASE("node metrics are served as metrics-server writes them") {
  MetricsServer s;
  Fill(s.store);
  http::Response got = s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1");
  REQUIRE(got.status == 200);
  CHECK(got.body ==
        R"({"kind":"NodeMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"n1",)"
        R"("creationTimestamp":"2023-11-14T22:14:20Z","labels":{"kubernetes.io/hostname":"n1"}},)"
        R"("timestamp":"2023-11-14T22:13:35Z","window":"15s","usage":{"cpu":"1500m","memory":"3Gi"}})");

  rapidjson::Document list = s.Json(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes"));
  CHECK(json::StringMember(list, "kind") == "NodeMetricsList");
  CHECK(json::StringMember(list, "apiVersion") == "metrics.k8s.io/v1beta1");
  const rapidjson::Value& items = *json::Member(list, "items");
  REQUIRE(items.Size() == 2);
  CHECK(json::StringMember(*json::Member(items[1], "metadata"), "name") == "n2");
  CHECK(json::StringMember(items[1], "window") == "15s");
  CHECK(json::StringMember(*json::Member(items[1], "usage"), "cpu") == "1");
  CHECK(json::Member(items[0], "kind") == nullptr);  // list items carry no type

  rapidjson::Document selected =
      s.Json(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dn2"));
  REQUIRE(json::Member(selected, "items")->Size() == 1);
  rapidjson::Document by_field = s.Json(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes?fieldSelector=metadata.name%3Dn1"));
  REQUIRE(json::Member(by_field, "items")->Size() == 1);
  CHECK(json::StringMember(*json::Member((*json::Member(by_field, "items"))[0], "metadata"), "name") == "n1");

  http::Response missing = s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body.find(R"(nodemetrics.metrics.k8s.io \"nope\" not found)") != std::string::npos);
  CHECK(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3D%3D%3Db").status == 400);
  CHECK(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes?fieldSelector=spec.x%3D1").status == 400);
}

TEST_CASE("pod metrics are served per namespace, across namespaces and by selector") {
  MetricsServer s;
  Fill(s.store);
  http::Response got = s.Call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web");
  REQUIRE(got.status == 200);
  CHECK(got.body ==
        R"({"kind":"PodMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"web","namespace":"default",)"
        R"("creationTimestamp":"2023-11-14T22:14:20Z","labels":{"app":"web"}},"timestamp":"2023-11-14T22:13:35Z",)"
        R"("window":"15s","containers":[{"name":"app","usage":{"cpu":"250m","memory":"64Mi"}},)"
        R"({"name":"proxy","usage":{"cpu":"10m","memory":"1234Ki"}}]})");

  auto names = [&](const std::string& target) {
    rapidjson::Document list = s.Json(s.Call("GET", target));
    CHECK(json::StringMember(list, "kind") == "PodMetricsList");
    std::vector<std::string> out;
    for (const auto& item : json::Member(list, "items")->GetArray()) {
      const rapidjson::Value& md = *json::Member(item, "metadata");
      out.push_back(std::string(json::StringMember(md, "namespace")) + "/" + std::string(json::StringMember(md, "name")));
    }
    return out;
  };
  CHECK(names("/apis/metrics.k8s.io/v1beta1/pods") ==
        std::vector<std::string>{"default/db", "default/web", "kube-system/dns"});
  CHECK(names("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods") ==
        std::vector<std::string>{"default/db", "default/web"});
  CHECK(names("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb") ==
        std::vector<std::string>{"default/web"});
  CHECK(names("/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app+in+(db,web)&fieldSelector=metadata.name!%3Dweb") ==
        std::vector<std::string>{"default/db"});
  CHECK(names("/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.namespace%3Dkube-system") ==
        std::vector<std::string>{"kube-system/dns"});

  rapidjson::Document db = s.Json(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db"));
  const rapidjson::Value& usage = *json::Member((*json::Member(db, "containers"))[0], "usage");
  CHECK(json::StringMember(usage, "cpu") == "123456790n");  // 1851851851 core-ns / 15 s, truncated
  CHECK(json::StringMember(usage, "memory") == "1k");

  http::Response missing = s.Call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body.find(R"(podmetrics.metrics.k8s.io \"default/nope\" not found)") != std::string::npos);
}

TEST_CASE("the metrics API is read-only, authorized and answers tables") {
  MetricsServer s;
  Fill(s.store);
  http::Response created = s.Call("POST", "/apis/metrics.k8s.io/v1beta1/nodes");
  CHECK(created.status == 405);
  CHECK(s.Call("DELETE", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web").status == 405);
  CHECK(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes?watch=true").status == 405);
  // RBAC applies: an authenticated user without rights is refused.
  CHECK(s.Call("GET", "/apis/metrics.k8s.io/v1beta1/nodes", "", "nobody", "system:authenticated").status == 403);

  http::Response table = s.Call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
                                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  REQUIRE(table.status == 200);
  rapidjson::Document doc = s.Json(table);
  CHECK(json::StringMember(doc, "kind") == "Table");
  const rapidjson::Value& rows = *json::Member(doc, "rows");
  REQUIRE(rows.Size() == 2);
  CHECK(json::ToJson(*json::Member(rows[1], "cells")) == R"(["web","260m","66770Ki","15s"])");
  CHECK(json::StringMember(*json::Member(*json::Member(rows[1], "object"), "metadata"), "namespace") == "default");
}

}  // namespace
}  // namespace kite::metrics
