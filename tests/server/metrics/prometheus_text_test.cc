#include <catch2/catch.hpp>

#include <cmath>

#include "src/server/metrics/prometheus_text.h"
#include "src/server/metrics/resource_metrics.h"

namespace kite::metrics {
namespace {

TEST_CASE("the Prometheus text format parses names, labels, values and timestamps") {
  Result<std::vector<PrometheusSample>> samples = ParsePrometheusText(
      "# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time\n"
      "# TYPE node_cpu_usage_seconds_total counter\n"
      "node_cpu_usage_seconds_total 1234.5 1700000000123\n"
      "\n"
      "container_memory_working_set_bytes{container=\"web\",namespace=\"default\",pod=\"web-1\"} 6.7108864e+07 1700000000456\n"
      "weird{a=\"x\\\"y\\\\z\\nw\", b = \"\" ,} -Inf\r\n"
      "  nan_value NaN\n"
      "plus +Inf 5\n");
  REQUIRE(samples.ok());
  REQUIRE(samples->size() == 5);
  const PrometheusSample& node = (*samples)[0];
  CHECK(node.name == "node_cpu_usage_seconds_total");
  CHECK(node.labels.empty());
  CHECK(node.value == 1234.5);
  CHECK(node.timestamp_ms == 1700000000123);
  const PrometheusSample& container = (*samples)[1];
  CHECK(container.Label("container") == "web");
  CHECK(container.Label("namespace") == "default");
  CHECK(container.Label("pod") == "web-1");
  CHECK(container.Label("missing").empty());
  CHECK(container.value == 67108864);
  const PrometheusSample& weird = (*samples)[2];
  CHECK(weird.Label("a") == "x\"y\\z\nw");
  CHECK(weird.labels.size() == 2);
  CHECK(std::isinf(weird.value));
  CHECK(weird.value < 0);
  CHECK_FALSE(weird.timestamp_ms.has_value());
  CHECK(std::isnan((*samples)[3].value));
  CHECK(std::isinf((*samples)[4].value));
  CHECK((*samples)[4].timestamp_ms == 5);
}

TEST_CASE("malformed metrics text is an error naming the line") {
  for (const char* bad : {
           "metric\n",                         // no value
           "metric abc\n",                     // not a number
           "metric 0x10\n",                    // hex floats are not Go's text format
           "metric{a=\"b\" 1\n",               // unterminated label set
           "metric{a=b} 1\n",                  // unquoted value
           "metric{a=\"b} 1\n",                // unterminated value
           "metric{a=\"\\q\"} 1\n",            // bad escape
           "metric 1 12.5\n",                  // fractional timestamp
           "metric 1 2 3\n",                   // trailing text
           "9metric 1\n",                      // bad name
       }) {
    INFO(bad);
    Result<std::vector<PrometheusSample>> samples = ParsePrometheusText(std::string("ok 1\n") + bad);
    REQUIRE_FALSE(samples.ok());
    CHECK(samples.status().code() == StatusCode::kInvalidArgument);
    CHECK(samples.status().message().find("line 2") != std::string::npos);
  }
}

TEST_CASE("a kubelet's /metrics/resource decodes into node and container points") {
  Result<NodeSample> sample = ParseResourceMetrics(
      "node_cpu_usage_seconds_total 100.000000001 1700000001000\n"
      "node_memory_working_set_bytes 2048 1700000001500\n"
      "container_cpu_usage_seconds_total{container=\"b\",namespace=\"ns\",pod=\"p\"} 2.5 1700000002000\n"
      "container_memory_working_set_bytes{container=\"b\",namespace=\"ns\",pod=\"p\"} 4096 1700000002000\n"
      "container_start_time_seconds{container=\"b\",namespace=\"ns\",pod=\"p\"} 1.7e+09\n"
      "container_cpu_usage_seconds_total{container=\"a\",namespace=\"ns\",pod=\"p\"} 1 \n"
      "container_memory_working_set_bytes{container=\"a\",namespace=\"ns\",pod=\"p\"} 1\n"
      // CPU without memory: dropped, as metrics-server does.
      "container_cpu_usage_seconds_total{container=\"c\",namespace=\"ns\",pod=\"p\"} 1 1\n"
      // Negative values: dropped.
      "container_cpu_usage_seconds_total{container=\"d\",namespace=\"ns\",pod=\"p\"} -1 1\n"
      "container_memory_working_set_bytes{container=\"d\",namespace=\"ns\",pod=\"p\"} 1 1\n"
      "pod_cpu_usage_seconds_total{namespace=\"ns\",pod=\"p\"} 3.5 1700000002000\n"
      "resource_scrape_error 0\n",
      1700000009000);
  REQUIRE(sample.ok());
  REQUIRE(sample->has_node_point);
  CHECK(sample->node.cpu_core_nanos == 100'000'000'001ull);
  CHECK(sample->node.memory_bytes == 2048);
  CHECK(sample->node.timestamp_ms == 1700000001000);  // the CPU sample's time
  REQUIRE(sample->containers.size() == 2);
  const ContainerSample& a = sample->containers[0];
  CHECK(a.container == "a");
  CHECK(a.point.timestamp_ms == 1700000009000);  // no timestamp: the scrape's time
  CHECK(a.start_time_ms == 0);
  const ContainerSample& b = sample->containers[1];
  CHECK(b.namespace_ == "ns");
  CHECK(b.pod == "p");
  CHECK(b.container == "b");
  CHECK(b.point.cpu_core_nanos == 2'500'000'000ull);
  CHECK(b.point.memory_bytes == 4096);
  CHECK(b.point.timestamp_ms == 1700000002000);
  CHECK(b.start_time_ms == 1'700'000'000'000);

  Result<NodeSample> empty = ParseResourceMetrics("resource_scrape_error 1\n", 5);
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->has_node_point);
  CHECK(empty->containers.empty());
  CHECK_FALSE(ParseResourceMetrics("node_cpu_usage_seconds_total {", 5).ok());
}

}  // namespace
}  // namespace kite::metrics
