#include <catch2/catch.hpp>

#include <atomic>
#include <map>

#include "src/server/client/informer.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"
#include "src/server/metrics/scraper.h"
#include "tests/testing/api_fixture.h"

namespace kite::metrics {
namespace {

using testing::ApiFixture;
using testing::Eventually;

std::string NodeJson(const std::string& name, const std::string& ready, bool simulated) {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name + R"(","labels":{"zone":"a")" +
         (simulated ? R"(,"kite.dev/simulated":"true")" : "") +
         R"(}},"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],)"
         R"("conditions":[{"type":"Ready","status":")" + ready + R"("}]}})";
}

std::string PodJson(const std::string& name, const std::string& app) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"(","labels":{"app":")" + app +
         R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}})";
}

// What a node's agent would answer: one container of `pod` (and one of a pod that does not
// exist) with `cpu_seconds` used by `at_ms`.
std::string AgentText(const std::string& pod, double cpu_seconds, int64_t at_ms) {
  std::string at = " " + std::to_string(at_ms) + "\n";
  return "node_cpu_usage_seconds_total " + std::to_string(cpu_seconds * 4) + at +
         "node_memory_working_set_bytes 1048576" + at +
         "container_cpu_usage_seconds_total{container=\"c\",namespace=\"default\",pod=\"" + pod + "\"} " +
         std::to_string(cpu_seconds) + at +
         "container_memory_working_set_bytes{container=\"c\",namespace=\"default\",pod=\"" + pod + "\"} 2048" + at +
         "container_cpu_usage_seconds_total{container=\"c\",namespace=\"default\",pod=\"ghost\"} 1" + at +
         "container_memory_working_set_bytes{container=\"c\",namespace=\"default\",pod=\"ghost\"} 1" + at;
}

TEST_CASE("nodes to scrape: Ready and not simulated") {
  auto node = [](const std::string& ready, bool simulated) {
    return std::move(json::ParseJson(NodeJson("n", ready, simulated))).value();
  };
  CHECK(ShouldScrape(node("True", false)));
  CHECK_FALSE(ShouldScrape(node("False", false)));
  CHECK_FALSE(ShouldScrape(node("Unknown", false)));
  CHECK_FALSE(ShouldScrape(node("True", true)));
  CHECK_FALSE(ShouldScrape(*json::ParseJson(R"({"metadata":{"name":"n"}})")));
}

TEST_CASE("a scrape round joins the agents' numbers with node and pod labels") {
  ApiFixture api;
  api.Create(client::kNodes, "", NodeJson("n1", "True", false));
  api.Create(client::kNodes, "", NodeJson("n2", "True", false));
  api.Create(client::kNodes, "", NodeJson("down", "False", false));
  api.Create(client::kNodes, "", NodeJson("sim", "True", true));
  api.Create(client::kPods, "default", PodJson("web", "web"));
  api.Create(client::kPods, "default", PodJson("db", "db"));
  client::Informer nodes(api.Client(client::kNodes));
  client::Informer pods(api.Client(client::kPods));
  nodes.Start();
  pods.Start();
  REQUIRE(nodes.WaitForSync(std::chrono::seconds(10)));
  REQUIRE(pods.WaitForSync(std::chrono::seconds(10)));
  REQUIRE(Eventually([&] { return nodes.List().size() == 4 && pods.List().size() == 2; }));

  std::atomic<int> round{0};
  std::map<std::string, int> asked;
  Mutex asked_mu;
  NodeFetcher fetch = [&](const rapidjson::Value& node) -> Result<std::string> {
    std::string name(json::StringMember(*json::Member(node, "metadata"), "name"));
    {
      MutexLock lock(asked_mu);
      ++asked[name];
    }
    int64_t at = 1'700'000'000'000 + round * 10'000;
    if (name == "n1") return AgentText("web", round * 5.0, at);  // 0.5 cores
    if (name == "n2" && round == 0) return AgentText("db", 0, at);
    return UnavailableError("connection refused");  // n2 from the second round on
  };
  std::vector<std::string> logged;
  ScraperOptions options;
  options.log = [&](const std::string& line) { logged.push_back(line); };
  MetricsStore store;
  Scraper scraper(options, fetch, &nodes, &pods, &store);
  scraper.ScrapeOnce();
  round = 1;
  scraper.ScrapeOnce();

  // Only the Ready, real nodes were asked.
  CHECK(asked == std::map<std::string, int>{{"n1", 2}, {"n2", 2}});
  std::optional<NodeUsage> n1 = store.NodeMetrics("n1");
  REQUIRE(n1.has_value());
  CHECK(n1->usage.cpu_nanocores == 2'000'000'000);
  CHECK(n1->labels.at("zone") == "a");
  std::optional<PodUsage> web = store.PodMetrics("default", "web");
  REQUIRE(web.has_value());
  CHECK(web->containers.at(0).usage.cpu_nanocores == 500'000'000);
  CHECK(web->containers.at(0).usage.memory_bytes == 2048);
  CHECK(web->labels.at("app") == "web");
  CHECK(web->window_ms == 10'000);
  // The pod the API does not know is dropped; the node that failed this round is forgotten.
  CHECK_FALSE(store.PodMetrics("default", "ghost").has_value());
  CHECK_FALSE(store.NodeMetrics("n2").has_value());
  CHECK_FALSE(store.PodMetrics("default", "db").has_value());
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("cannot scrape node n2: connection refused") != std::string::npos);
  round = 2;
  scraper.ScrapeOnce();
  CHECK(logged.size() == 1);  // one line per failing spell, not per round
}

TEST_CASE("the scraper runs every resolution until stopped") {
  ApiFixture api;
  api.Create(client::kNodes, "", NodeJson("n1", "True", false));
  api.Create(client::kPods, "default", PodJson("web", "web"));
  client::Informer nodes(api.Client(client::kNodes));
  client::Informer pods(api.Client(client::kPods));
  nodes.Start();
  pods.Start();
  REQUIRE(Eventually([&] { return nodes.List().size() == 1 && pods.List().size() == 1; }));
  std::atomic<int> calls{0};
  NodeFetcher fetch = [&](const rapidjson::Value&) -> Result<std::string> {
    int n = calls++;
    return AgentText("web", n * 0.25, 1'700'000'000'000 + n * 1000);
  };
  MetricsStore store;
  ScraperOptions options;
  options.resolution = std::chrono::milliseconds(20);
  Scraper scraper(options, fetch, &nodes, &pods, &store);
  scraper.Start();
  CHECK(Eventually([&] { return store.PodMetrics("default", "web").has_value(); }));
  scraper.Stop();
  int after_stop = calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(calls == after_stop);
  std::optional<PodUsage> web = store.PodMetrics("default", "web");
  REQUIRE(web.has_value());
  CHECK(web->containers.at(0).usage.cpu_nanocores == 250'000'000);
}

}  // namespace
}  // namespace kite::metrics
