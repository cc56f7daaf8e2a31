// Documents whose pool chunks fit their content: parsed, copied, and the size estimate.
#include "src/server/json/sized_document.h"

#include <catch2/catch.hpp>

#include <string>

#include "src/server/json/json_util.h"

namespace kite::json {
namespace {

constexpr std::string_view kPod = R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-7d4b9c5f6-x2x9q",
  "namespace":"default","uid":"6f0c2a8e-1b1d-4c53-9d2e-1b2a3c4d5e6f","resourceVersion":"123456",
  "labels":{"app":"web","pod-template-hash":"7d4b9c5f6"}},"spec":{"nodeName":"sim-node-0042",
  "containers":[{"name":"c","image":"registry.example/web:1.2.3","ports":[{"containerPort":8080}],
  "resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}],"tolerations":[{"key":"node.kubernetes.io/not-ready",
  "operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},"status":{"phase":"Running",
  "podIP":"10.42.42.7","conditions":[{"type":"Ready","status":"True","lastTransitionTime":null}],"ready":true}})";

size_t CapacityOf(rapidjson::Document& doc) { return doc.GetAllocator().Capacity(); }

TEST_CASE("a parsed object takes one chunk sized from its text, not rapidjson's 64 KiB") {
  auto sized = ParseSized(kPod);
  REQUIRE(sized.ok());
  auto plain = ParseJson(kPod);
  REQUIRE(plain.ok());
  CHECK(**sized == *plain);
  rapidjson::Document& doc = **sized;
  CHECK(doc.GetAllocator().Size() > kPod.size() / 2);
  CHECK(CapacityOf(doc) == 2 * kPod.size() + 256);  // one chunk: the content fit
  CHECK(CapacityOf(doc) < 8 * 1024);
}

TEST_CASE("malformed text is the error ParseJson gives") {
  auto sized = ParseSized(R"({"a":)");
  REQUIRE_FALSE(sized.ok());
  CHECK(sized.status().code() == StatusCode::kInvalidArgument);
  CHECK(sized.status().message() == ParseJson(R"({"a":)").status().message());
}

TEST_CASE("a copy gets one chunk that fits it, however it is built") {
  auto source = ParseJson(kPod);
  REQUIRE(source.ok());
  std::string long_text(5000, 'x');
  rapidjson::Value big(rapidjson::kArrayType);
  auto& a = source->GetAllocator();
  for (int i = 0; i < 40; ++i) big.PushBack(rapidjson::Value(long_text.c_str(), a), a);
  source->AddMember("annotations", big, a);
  source->AddMember("short", "abc", a);

  std::shared_ptr<rapidjson::Document> copy = CopySized(*source);
  CHECK(*copy == *source);
  size_t used = copy->GetAllocator().Size();
  CHECK(PoolBytes(*source) >= used);         // the estimate is an upper bound...
  CHECK(PoolBytes(*source) < used + 1024);   // ...and a close one
  CHECK(CapacityOf(*copy) == PoolBytes(*source));  // so the copy took a single chunk
}

TEST_CASE("scalars and empty containers take no pool bytes; a sized document outlives its maker's scope") {
  CHECK(PoolBytes(rapidjson::Value(42)) == 0);
  CHECK(PoolBytes(rapidjson::Value(rapidjson::kObjectType)) == 0);
  CHECK(PoolBytes(rapidjson::Value("short", 5)) == 0);
  std::shared_ptr<const rapidjson::Document> kept;
  {
    auto doc = NewSizedDocument(0);
    doc->SetObject();
    doc->AddMember("name", rapidjson::Value(std::string(300, 'n').c_str(), doc->GetAllocator()), doc->GetAllocator());
    kept = doc;
  }
  CHECK(std::string((*kept)["name"].GetString()).size() == 300);
}

}  // namespace
}  // namespace kite::json
