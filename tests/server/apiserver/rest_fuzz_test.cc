// Untrusted input through every REST verb: random and mutated bodies under every content
// type must give a Kubernetes error (4xx) or a success, never a crash, and never lose what
// is stored.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/server/json/json_util.h"
#include "src/server/apiserver/rest_handler.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/protobuf_decoder.h"
#include "src/server/schema/schema_registry.h"
#include "src/server/schema/strategic_schema_adapter.h"
#include "src/store/open_store.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

struct Harness {
  Harness() : table(resources::BuiltinResources()) {
    kv = std::move(store::OpenStore("memory://")).value();
    RestDependencies deps;
    deps.kv = kv.get();
    deps.clock = SystemClock::Get();
    deps.protobuf = [](std::string_view body) -> Result<rapidjson::Document> {
      Result<schema::DecodedObject> d = schema::DecodeKubernetesProtobuf(body, schema::SchemaRegistry::Builtin());
      if (!d.ok()) return d.status();
      return std::move(d->object);
    };
    deps.strategic_schema = [](std::string_view g, std::string_view v, std::string_view k) {
      return schema::StrategicSchemaFor(g, v, k);
    };
    handler = std::make_unique<RestHandler>(std::move(deps));
  }

  int Call(const std::string& method, const std::string& path, const std::string& content_type,
           const std::string& body) {
    http::Request request;
    request.method = method;
    size_t q = path.find('?');
    request.path = path.substr(0, q);
    request.query = q == std::string::npos ? "" : path.substr(q + 1);
    request.headers = {{"content-type", content_type}, {"accept", "application/json"}};
    request.body = body;
    RestRequest r;
    r.http = &request;
    r.query = QueryParams::Parse(request.query);
    r.info = ParseRequestInfo(method, request.path, r.query);
    r.resource = table.Find(r.info.group, r.info.version, r.info.resource);
    REQUIRE(r.resource != nullptr);
    http::HandlerResult result = handler->Serve(r);
    if (auto* response = std::get_if<http::Response>(&result)) {
      last_body = response->body;
      return response->status;
    }
    auto& streaming = std::get<http::StreamingResponse>(result);
    streaming.stream->Cancel();
    return streaming.status;
  }

  resources::ResourceTable table;
  std::unique_ptr<store::KvStore> kv;
  std::unique_ptr<RestHandler> handler;
  std::string last_body;
};

std::string Mutate(std::string s, std::mt19937& rng) {
  if (s.empty()) return s;
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0: s[at] = static_cast<char>(rng()); break;
      case 1: s.erase(at, 1 + rng() % 8); break;
      case 2: s.insert(at, std::string(1 + rng() % 4, "{}[]\":,0a\\"[rng() % 10])); break;
      case 3: s = s.substr(0, at); break;
    }
    if (s.empty()) break;
  }
  return s;
}

// A Secret in the `k8s\0` envelope: typeMeta {apiVersion v1, kind Secret}, raw = an empty
// ObjectMeta.
constexpr char kSecretBytes[] = "k8s\0\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x02\x0a\x00";
const std::string kSecretProtobuf(kSecretBytes, sizeof(kSecretBytes) - 1);

TEST_CASE("random and mutated bodies never crash a verb, and stored objects survive") {
  Harness h;
  REQUIRE(h.Call("POST", "/api/v1/namespaces", "application/json",
                 R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"f"}})") == 201);
  const std::string deployment =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"a":"b"}},)"
      R"("spec":{"replicas":2,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},)"
      R"("spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":80}]}]}}}})";
  REQUIRE(h.Call("POST", "/apis/apps/v1/namespaces/f/deployments", "application/json", deployment) == 201);

  const std::vector<std::string> seeds = {
      deployment,
      R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","image":"y"}]}}}})",
      R"([{"op":"replace","path":"/spec/replicas","value":3},{"op":"remove","path":"/metadata/labels/a"}])",
      R"({"metadata":{"labels":{"x":null}},"spec":{"replicas":null}})",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 4\n",
      kSecretProtobuf,
  };
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"POST", "/apis/apps/v1/namespaces/f/deployments"},
      {"PUT", "/apis/apps/v1/namespaces/f/deployments/d"},
      {"PUT", "/apis/apps/v1/namespaces/f/deployments/d/status"},
      {"PATCH", "/apis/apps/v1/namespaces/f/deployments/d"},
      {"PATCH", "/apis/apps/v1/namespaces/f/deployments/d/scale"},
      {"PATCH", "/apis/apps/v1/namespaces/f/deployments/d?fieldManager=fuzz"},
      {"DELETE", "/apis/apps/v1/namespaces/f/deployments/zzz"},
      {"POST", "/api/v1/namespaces/f/pods/p/binding"},
      {"POST", "/api/v1/namespaces/f/secrets"},
  };
  const std::vector<std::string> types = {
      "application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
      "application/json-patch+json", "application/merge-patch+json",
      "application/strategic-merge-patch+json", "application/apply-patch+yaml", "text/plain"};

  std::mt19937 rng(20261124);
  int successes = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto& [method, path] = calls[rng() % calls.size()];
    std::string body = Mutate(seeds[rng() % seeds.size()], rng);
    int status = h.Call(method, path, types[rng() % types.size()], body);
    INFO(method << " " << path << " -> " << status << ": " << h.last_body);
    REQUIRE(((status >= 200 && status < 300) || (status >= 400 && status < 500)));
    if (status < 300) ++successes;
    if (status >= 400) {
      Result<rapidjson::Document> error = ParseJsonObject(h.last_body);
      REQUIRE(error.ok());
      CHECK(StringMember(*error, "kind") == "Status");
    }
  }
  CHECK(successes > 0);  // the mutations are not all rejected: the paths past parsing run too
  // Whatever happened, the deployment is still there and still parses.
  REQUIRE(h.Call("GET", "/apis/apps/v1/namespaces/f/deployments/d", "", "") == 200);
  CHECK(ParseJsonObject(h.last_body).ok());
}

}  // namespace
}  // namespace kite::apiserver
