#include <catch2/catch.hpp>

#include <limits>

#include "src/server/scheduler/quantity.h"
#include "src/server/scheduler/resources.h"
#include "tests/server/scheduler/test_objects.h"

namespace kite::scheduler {
namespace {

std::optional<int64_t> Milli(std::string_view s) { return ParseQuantity(s, QuantityScale::kMilli); }
std::optional<int64_t> Unit(std::string_view s) { return ParseQuantity(s, QuantityScale::kUnit); }

TEST_CASE("quantities parse in Kubernetes' units, rounding up") {
  CHECK(Milli("100m") == 100);
  CHECK(Milli("1") == 1000);
  CHECK(Milli("1.5") == 1500);
  CHECK(Milli("0.5") == 500);
  CHECK(Milli(".5") == 500);
  CHECK(Milli("2k") == 2'000'000);
  CHECK(Milli("100n") == 1);  // 0.0001 millicores rounds up
  CHECK(Milli("1e3") == 1'000'000);
  CHECK(Unit("1Ki") == 1024);
  CHECK(Unit("1Gi") == 1073741824);
  CHECK(Unit("1.5Gi") == 1610612736);
  CHECK(Unit("500Mi") == 524288000);
  CHECK(Unit("1M") == 1'000'000);
  CHECK(Unit("1E") == 1'000'000'000'000'000'000);
  CHECK(Unit("1E-2") == 1);  // 0.01 rounds up
  CHECK(Unit("0.1") == 1);
  CHECK(Unit("+3") == 3);
  CHECK(Unit("-1.5") == -1);  // towards +infinity
  CHECK(Unit("100m") == 1);
  CHECK(Unit("8Ei") == std::numeric_limits<int64_t>::max());  // saturates
}

TEST_CASE("malformed quantities are rejected") {
  for (std::string_view bad : {"", "m", "abc", "1Xi", "1e", "1 Gi", "1..2", "1Gii", "--1", "1ee3"}) {
    INFO(bad);
    CHECK_FALSE(Unit(bad).has_value());
  }
}

TEST_CASE("pod requests: containers add up, init containers take the max, sidecars add, overhead adds") {
  using testing::Pod;
  auto p = Pod(R"({"metadata":{"name":"p","namespace":"default"},"spec":{
      "initContainers":[{"name":"i1","resources":{"requests":{"cpu":"2","memory":"1Gi"}}},
                        {"name":"i2","resources":{"requests":{"cpu":"500m","memory":"3Gi"}}}],
      "containers":[{"name":"a","resources":{"requests":{"cpu":"1","memory":"1Gi"}}},
                    {"name":"b","resources":{"requests":{"cpu":"500m"},"limits":{"memory":"512Mi"}}}],
      "overhead":{"cpu":"100m"}}})");
  // cpu: max(1.5, 2, 0.5) + 0.1; memory: max(1Gi + 512Mi (limit as request), 1Gi, 3Gi)
  CHECK(p->requests.milli_cpu == 2100);
  CHECK(p->requests.memory == 3LL << 30);

  auto sidecar = Pod(R"({"metadata":{"name":"p","namespace":"default"},"spec":{
      "initContainers":[{"name":"log","restartPolicy":"Always","resources":{"requests":{"cpu":"500m"}}},
                        {"name":"setup","resources":{"requests":{"cpu":"1"}}}],
      "containers":[{"name":"a","resources":{"requests":{"cpu":"1","example.com/gpu":"2"}}}]}})");
  // The sidecar runs beside the app (1.5) and beside the later init container (1.5).
  CHECK(sidecar->requests.milli_cpu == 1500);
  CHECK(sidecar->requests.scalar.at("example.com/gpu") == 2);

  auto empty = Pod(R"({"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  CHECK(empty->requests.IsZero());
  CHECK(empty->non_zero_requests.milli_cpu == 2 * kDefaultMilliCpuRequest);
  CHECK(empty->non_zero_requests.memory == 2 * kDefaultMemoryRequest);
}

}  // namespace
}  // namespace kite::scheduler
