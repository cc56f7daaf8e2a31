#include "src/server/tables/column_path.h"

#include <catch2/catch.hpp>

namespace kite::tables {
namespace {

rapidjson::Document Parse(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

TEST_CASE("ColumnPath follows fields, indexes and quoted keys", "[tables]") {
  auto doc = Parse(R"({"spec":{"replicas":3,"items":[{"n":"a"},{"n":"b"}]},
                       "metadata":{"labels":{"app.kubernetes.io/name":"web"}}})");
  auto eval = [&](const char* path) -> const rapidjson::Value* {
    auto p = ColumnPath::Parse(path);
    REQUIRE(p.ok());
    return p->Evaluate(doc);
  };
  REQUIRE(eval(".spec.replicas") != nullptr);
  CHECK(eval(".spec.replicas")->GetInt() == 3);
  CHECK(std::string(eval(".spec.items[1].n")->GetString()) == "b");
  CHECK(std::string(eval(".spec.items[-1].n")->GetString()) == "b");
  CHECK(std::string(eval("{.spec.items[0].n}")->GetString()) == "a");
  CHECK(std::string(eval(".metadata.labels['app.kubernetes.io/name']")->GetString()) == "web");
  CHECK(std::string(eval(R"(.metadata.labels.app\.kubernetes\.io/name)")->GetString()) == "web");
  CHECK(eval(".spec.items[2]") == nullptr);
  CHECK(eval(".spec.missing.deeper") == nullptr);
  CHECK(eval(".spec.replicas.deeper") == nullptr);
  CHECK(eval(".") == &doc);
}

TEST_CASE("ColumnPath rejects what it does not support", "[tables]") {
  for (const char* bad : {"", "spec.replicas", ".spec..replicas", "..spec",
                          R"(.status.conditions[?(@.type=="Ready")].status)", ".items[*].name",
                          ".items[", ".items[x]", ".labels['unterminated]", "{.spec"}) {
    INFO(bad);
    auto p = ColumnPath::Parse(bad);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace kite::tables
