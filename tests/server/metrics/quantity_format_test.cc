#include <catch2/catch.hpp>

#include "src/server/metrics/quantity_format.h"

namespace kite::metrics {
namespace {

TEST_CASE("CPU nanocores are written as metrics-server's canonical quantities") {
  CHECK(FormatCpuNanocores(0) == "0");
  CHECK(FormatCpuNanocores(-5) == "0");
  CHECK(FormatCpuNanocores(123456789) == "123456789n");
  CHECK(FormatCpuNanocores(12'000'000) == "12m");
  CHECK(FormatCpuNanocores(250'000'000) == "250m");
  CHECK(FormatCpuNanocores(1'500'000) == "1500u");
  CHECK(FormatCpuNanocores(1'000) == "1u");
  CHECK(FormatCpuNanocores(1'010) == "1010n");
  CHECK(FormatCpuNanocores(2'000'000'000) == "2");
  CHECK(FormatCpuNanocores(2'500'000'000) == "2500m");
  CHECK(FormatCpuNanocores(1'000'000'000'000) == "1k");
}

TEST_CASE("memory bytes are written as binary quantities, small ones in decimal") {
  CHECK(FormatMemoryBytes(0) == "0");
  CHECK(FormatMemoryBytes(512) == "512");
  CHECK(FormatMemoryBytes(1000) == "1k");
  CHECK(FormatMemoryBytes(1023) == "1023");
  CHECK(FormatMemoryBytes(1024) == "1Ki");
  CHECK(FormatMemoryBytes(1500) == "1500");
  CHECK(FormatMemoryBytes(1234 * 1024) == "1234Ki");
  CHECK(FormatMemoryBytes(64ll << 20) == "64Mi");
  CHECK(FormatMemoryBytes((64ll << 20) + 1024) == "65537Ki");
  CHECK(FormatMemoryBytes(3ll << 30) == "3Gi");
}

}  // namespace
}  // namespace kite::metrics
