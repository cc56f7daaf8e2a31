// Feeds random, truncated and mutated bodies to the decoder. The only expectation is that it
// returns (an error or an object) without crashing; run under the sanitizer build to catch
// out-of-bounds reads.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "src/server/schema/protobuf_decoder.h"
#include "src/server/schema/protobuf_encoder.h"
#include "tests/server/schema/proto_builder.h"
#include "tests/server/schema/roundtrip_samples.h"

namespace kite::schema {
namespace {

void Feed(std::string_view body, int* ok_count) {
  Result<DecodedObject> r = DecodeKubernetesProtobuf(body, SchemaRegistry::Builtin());
  if (r.ok()) {
    ++*ok_count;
    CHECK(r->object.IsObject());
  } else {
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
}

std::string RandomBytes(std::mt19937& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(len(rng), '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

std::vector<std::string> ValidBodies() {
  std::vector<std::string> bodies;
  rapidjson::Document samples = testing::Json(testing::kRoundTripSamples);
  for (const auto& sample : samples.GetArray()) {
    Result<std::string> encoded = EncodeKubernetesProtobuf(sample, SchemaRegistry::Builtin());
    REQUIRE(encoded.ok());
    bodies.push_back(*encoded);
  }
  return bodies;
}

TEST_CASE("random bodies never crash the decoder") {
  std::mt19937 rng(20240506);
  int ok = 0;
  const char* kinds[][2] = {{"v1", "Pod"},  {"apps/v1", "Deployment"}, {"v1", "ConfigMap"},
                            {"v1", "Node"}, {"batch/v1", "CronJob"},   {"v1", "Event"}};
  for (int i = 0; i < 3000; ++i) {
    std::string noise = RandomBytes(rng, 300);
    Feed(noise, &ok);
    Feed(std::string("k8s\0", 4) + noise, &ok);
    const auto& k = kinds[i % 6];
    Feed(testing::Envelope(k[0], k[1], testing::Proto().Raw(noise)), &ok);
  }
  SUCCEED("decoded " << ok << " random bodies without error");
}

TEST_CASE("truncated and mutated valid bodies never crash the decoder") {
  std::vector<std::string> bodies = ValidBodies();
  REQUIRE_FALSE(bodies.empty());
  std::mt19937 rng(7);
  int ok = 0;
  // Every truncation of the first few bodies.
  for (size_t b = 0; b < 3 && b < bodies.size(); ++b) {
    for (size_t cut = 0; cut < bodies[b].size(); ++cut)
      Feed(std::string_view(bodies[b]).substr(0, cut), &ok);
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 4000; ++i) {
    std::string body = bodies[static_cast<size_t>(i) % bodies.size()];
    std::uniform_int_distribution<size_t> pos(0, body.size() - 1);
    int mutations = 1 + i % 4;
    for (int m = 0; m < mutations; ++m) {
      switch ((i + m) % 4) {
        case 0:
          body[pos(rng)] = static_cast<char>(byte(rng));
          break;  // flip a byte
        case 1:
          body[pos(rng)] ^= static_cast<char>(1 << (i % 8));
          break;  // flip a bit
        case 2:
          body.insert(pos(rng), 1, static_cast<char>(byte(rng)));
          break;  // insert
        case 3:
          body.erase(pos(rng), 1);
          break;  // delete
      }
      if (body.empty()) body = "k";
      pos = std::uniform_int_distribution<size_t>(0, body.size() - 1);
    }
    Feed(body, &ok);
  }
  CHECK(ok > 0);  // some mutations leave a decodable body (e.g. a changed letter)
}

}  // namespace
}  // namespace kite::schema
