#include <catch2/catch.hpp>

#include "src/server/metrics/metrics_store.h"

namespace kite::metrics {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

ContainerSample Container(std::string ns, std::string pod, std::string name, int64_t at, uint64_t cpu_nanos,
                          uint64_t memory, int64_t started = 0) {
  ContainerSample c;
  c.namespace_ = std::move(ns);
  c.pod = std::move(pod);
  c.container = std::move(name);
  c.start_time_ms = started;
  c.point = {at, cpu_nanos, memory};
  return c;
}

NodeScrape Scrape(std::string node, int64_t at, uint64_t cpu_nanos, std::vector<ContainerSample> containers,
                  std::map<std::string, Labels> pods) {
  NodeScrape s;
  s.node = std::move(node);
  s.node_labels = {{"kubernetes.io/hostname", s.node}};
  s.sample.has_node_point = true;
  s.sample.node = {at, cpu_nanos, 1 << 20};
  s.sample.containers = std::move(containers);
  s.pod_labels = std::move(pods);
  return s;
}

TEST_CASE("usage between two points is the CPU rate in nanocores and the last memory") {
  std::optional<MeasuredUsage> u = UsageBetween({kT0, 1'000'000'000, 10}, {kT0 + 15'000, 4'750'000'000, 20});
  REQUIRE(u.has_value());
  CHECK(u->usage.cpu_nanocores == 250'000'000);  // 3.75 core-seconds over 15 s
  CHECK(u->usage.memory_bytes == 20);
  CHECK(u->window_ms == 15'000);
  CHECK(u->timestamp_ms == kT0 + 15'000);
  // Truncated, as metrics-server converts its float rate.
  u = UsageBetween({kT0, 0, 0}, {kT0 + 3'000, 1'000, 0});
  REQUIRE(u.has_value());
  CHECK(u->usage.cpu_nanocores == 333);
  CHECK_FALSE(UsageBetween({kT0, 5, 0}, {kT0, 6, 0}).has_value());         // no time passed
  CHECK_FALSE(UsageBetween({kT0, 5, 0}, {kT0 - 1, 6, 0}).has_value());     // older
  CHECK_FALSE(UsageBetween({kT0, 5, 0}, {kT0 + 1000, 4, 0}).has_value());  // counter went down
}

TEST_CASE("the store reports nodes and pods from their second point on") {
  MetricsStore store;
  Labels web{{"app", "web"}};
  store.Store({Scrape("n1", kT0, 0,
                      {Container("default", "web-1", "app", kT0, 0, 100),
                       Container("default", "web-1", "sidecar", kT0, 0, 50)},
                      {{"default/web-1", web}})});
  CHECK_FALSE(store.NodeMetrics("n1").has_value());
  CHECK(store.ListNodeMetrics().empty());
  CHECK_FALSE(store.PodMetrics("default", "web-1").has_value());

  store.Store({Scrape("n1", kT0 + 10'000, 20'000'000'000,
                      {Container("default", "web-1", "app", kT0 + 10'000, 5'000'000'000, 200),
                       Container("default", "web-1", "sidecar", kT0 + 9'000, 900'000'000, 60)},
                      {{"default/web-1", web}})});
  std::optional<NodeUsage> node = store.NodeMetrics("n1");
  REQUIRE(node.has_value());
  CHECK(node->usage.cpu_nanocores == 2'000'000'000);
  CHECK(node->usage.memory_bytes == 1 << 20);
  CHECK(node->window_ms == 10'000);
  CHECK(node->labels.at("kubernetes.io/hostname") == "n1");
  std::optional<PodUsage> pod = store.PodMetrics("default", "web-1");
  REQUIRE(pod.has_value());
  REQUIRE(pod->containers.size() == 2);
  CHECK(pod->containers[0].name == "app");
  CHECK(pod->containers[0].usage.cpu_nanocores == 500'000'000);
  CHECK(pod->containers[0].usage.memory_bytes == 200);
  CHECK(pod->containers[1].name == "sidecar");
  CHECK(pod->containers[1].usage.cpu_nanocores == 100'000'000);
  // The earliest container's time and window.
  CHECK(pod->timestamp_ms == kT0 + 9'000);
  CHECK(pod->window_ms == 9'000);
  CHECK(pod->labels == web);
  CHECK(pod->Total().cpu_nanocores == 600'000'000);
  CHECK(pod->Total().memory_bytes == 260);
}

TEST_CASE("a point that is not newer keeps the previous pair; a restart needs two new points") {
  MetricsStore store;
  std::map<std::string, Labels> pods{{"ns/p", {}}};
  store.Store({Scrape("n", kT0, 0, {Container("ns", "p", "c", kT0, 0, 1, kT0 - 5000)}, pods)});
  store.Store({Scrape("n", kT0 + 10'000, 10, {Container("ns", "p", "c", kT0 + 10'000, 1'000'000'000, 1, kT0 - 5000)}, pods)});
  REQUIRE(store.PodMetrics("ns", "p").has_value());
  CHECK(store.PodMetrics("ns", "p")->containers[0].usage.cpu_nanocores == 100'000'000);
  // The same point again (the agent's clock did not move): still answered from last/prev.
  store.Store({Scrape("n", kT0 + 10'000, 10, {Container("ns", "p", "c", kT0 + 10'000, 1'000'000'000, 1, kT0 - 5000)}, pods)});
  REQUIRE(store.PodMetrics("ns", "p").has_value());
  CHECK(store.PodMetrics("ns", "p")->containers[0].usage.cpu_nanocores == 100'000'000);
  REQUIRE(store.NodeMetrics("n").has_value());
  // The container restarted (a new start time after the last point): no usage until the
  // next point.
  store.Store({Scrape("n", kT0 + 20'000, 20, {Container("ns", "p", "c", kT0 + 20'000, 50'000'000, 1, kT0 + 15'000)}, pods)});
  CHECK_FALSE(store.PodMetrics("ns", "p").has_value());
  store.Store({Scrape("n", kT0 + 30'000, 30, {Container("ns", "p", "c", kT0 + 30'000, 2'050'000'000, 1, kT0 + 15'000)}, pods)});
  REQUIRE(store.PodMetrics("ns", "p").has_value());
  CHECK(store.PodMetrics("ns", "p")->containers[0].usage.cpu_nanocores == 200'000'000);
  // A counter that went down without a start time: also a restart.
  store.Store({Scrape("n", kT0 + 40'000, 40, {Container("ns", "p", "c", kT0 + 40'000, 10, 1)}, pods)});
  CHECK_FALSE(store.PodMetrics("ns", "p").has_value());
}

TEST_CASE("pods are listed by namespace and label selector; missing pods and nodes are forgotten") {
  MetricsStore store;
  std::map<std::string, Labels> pods{{"a/web", {{"app", "web"}}}, {"a/db", {{"app", "db"}}}, {"b/web", {{"app", "web"}}}};
  auto round = [&](int64_t at, uint64_t cpu) {
    store.Store({Scrape("n1", at, cpu,
                        {Container("a", "web", "c", at, cpu, 1), Container("a", "db", "c", at, cpu, 1),
                         Container("b", "web", "c", at, cpu, 1),
                         // Not in pod_labels (deleted): dropped.
                         Container("a", "gone", "c", at, cpu, 1)},
                        pods),
                 Scrape("n2", at, cpu, {}, {})});
  };
  round(kT0, 0);
  round(kT0 + 1000, 1'000'000);
  auto names = [](const std::vector<PodUsage>& list) {
    std::vector<std::string> out;
    for (const PodUsage& p : list) out.push_back(p.namespace_ + "/" + p.name);
    return out;
  };
  CHECK(names(store.ListPodMetrics("", selection::LabelSelector::Everything())) ==
        std::vector<std::string>{"a/db", "a/web", "b/web"});
  CHECK(names(store.ListPodMetrics("a", selection::LabelSelector::Everything())) ==
        std::vector<std::string>{"a/db", "a/web"});
  CHECK(names(store.ListPodMetrics("b", selection::LabelSelector::Everything())) == std::vector<std::string>{"b/web"});
  CHECK(names(store.ListPodMetrics("", *selection::LabelSelector::Parse("app=web"))) ==
        std::vector<std::string>{"a/web", "b/web"});
  CHECK(names(store.ListPodMetrics("a", *selection::LabelSelector::Parse("app!=web"))) ==
        std::vector<std::string>{"a/db"});
  CHECK(names(store.ListPodMetrics("c", selection::LabelSelector::Everything())).empty());
  CHECK_FALSE(store.PodMetrics("a", "gone").has_value());
  REQUIRE(store.ListNodeMetrics().size() == 2);
  CHECK(store.ListNodeMetrics()[0].name == "n1");

  // n2 was not scraped this round, and pod a/db went away: both are forgotten at once.
  pods.erase("a/db");
  store.Store({Scrape("n1", kT0 + 2000, 2'000'000, {Container("a", "web", "c", kT0 + 2000, 2'000'000, 1)}, pods)});
  REQUIRE(store.ListNodeMetrics().size() == 1);
  CHECK_FALSE(store.NodeMetrics("n2").has_value());
  CHECK_FALSE(store.PodMetrics("a", "db").has_value());
  CHECK(names(store.ListPodMetrics("", selection::LabelSelector::Everything())) == std::vector<std::string>{"a/web"});
}

}  // namespace
}  // namespace kite::metrics
