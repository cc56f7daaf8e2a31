#include "src/agent/node_pressure.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace kite::agent {
namespace {

TEST_CASE("memory pressure starts below 100Mi available, as the kubelet's default threshold") {
  NodeSignals signals;
  signals.memory_available_bytes = (100ll << 20) - 1;
  CHECK(EvaluatePressure(signals).memory);
  signals.memory_available_bytes = 100ll << 20;
  CHECK_FALSE(EvaluatePressure(signals).memory);
}

TEST_CASE("disk pressure below 10% space or 5% inodes free") {
  NodeSignals signals;
  signals.nodefs_available_fraction = 0.09;
  CHECK(EvaluatePressure(signals).disk);
  signals.nodefs_available_fraction = 0.5;
  signals.nodefs_inodes_free_fraction = 0.04;
  CHECK(EvaluatePressure(signals).disk);
  signals.nodefs_inodes_free_fraction = 0.06;
  CHECK_FALSE(EvaluatePressure(signals).disk);
}

TEST_CASE("signals that could not be read never cause pressure") {
  CHECK(EvaluatePressure(NodeSignals{}) == NodePressure{});
}

TEST_CASE("signals are read from meminfo and the data dir's filesystem") {
  std::string meminfo = "/tmp/kite-meminfo-" + std::to_string(getpid());
  {
    std::ofstream out(meminfo);
    out << "MemTotal:       16000000 kB\nMemFree:          100000 kB\nMemAvailable:      51200 kB\n";
  }
  NodeSignals signals = ReadNodeSignals("/", meminfo);
  std::remove(meminfo.c_str());
  REQUIRE(signals.memory_available_bytes);
  CHECK(*signals.memory_available_bytes == 51200ll * 1024);
  CHECK(EvaluatePressure(signals).memory);  // 50 MiB < 100 MiB
  REQUIRE(signals.nodefs_available_fraction);
  CHECK(*signals.nodefs_available_fraction > 0.0);
  CHECK(*signals.nodefs_available_fraction <= 1.0);

  NodeSignals missing = ReadNodeSignals("/no/such/dir", "/no/such/meminfo");
  CHECK_FALSE(missing.memory_available_bytes);
  CHECK_FALSE(missing.nodefs_available_fraction);
}

}  // namespace
}  // namespace kite::agent
