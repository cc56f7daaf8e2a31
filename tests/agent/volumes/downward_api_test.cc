#include "src/agent/volumes/downward_api.h"

#include <catch2/catch.hpp>

#include "src/agent/volumes/object_data.h"
#include "src/server/json/json_util.h"

namespace kite::agent::volumes {
namespace {

rapidjson::Document Parse(std::string_view text) {
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

const char kPod[] = R"({"metadata":{"name":"web","namespace":"shop","uid":"u-1",
  "labels":{"app":"web","tier":"front"},"annotations":{"note":"say \"hi\"\n"}},
  "spec":{"nodeName":"node-a","serviceAccountName":"robot","containers":[
    {"name":"app","resources":{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"cpu":"1500m","memory":"128Mi"}}},
    {"name":"bare"},
    {"name":"limited","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}})";

TEST_CASE("downward API: pod fields as env sees them") {
  rapidjson::Document pod = Parse(kPod);
  std::vector<std::string> pod_ips{"10.42.0.7", "fd00::7"}, host_ips{"172.16.0.1"};
  auto field = [&](std::string_view path) {
    Result<std::string> v = PodFieldValue(pod, path, pod_ips, host_ips);
    REQUIRE(v.ok());
    return *v;
  };
  CHECK(field("metadata.name") == "web");
  CHECK(field("metadata.namespace") == "shop");
  CHECK(field("metadata.uid") == "u-1");
  CHECK(field("metadata.labels['app']") == "web");
  CHECK(field("metadata.labels['absent']") == "");
  CHECK(field("metadata.annotations['note']") == "say \"hi\"\n");
  CHECK(field("metadata.labels") == "app=\"web\"\ntier=\"front\"");
  CHECK(field("metadata.annotations") == "note=\"say \\\"hi\\\"\\n\"");
  CHECK(field("spec.nodeName") == "node-a");
  CHECK(field("spec.serviceAccountName") == "robot");
  CHECK(field("status.podIP") == "10.42.0.7");
  CHECK(field("status.podIPs") == "10.42.0.7,fd00::7");
  CHECK(field("status.hostIP") == "172.16.0.1");
  CHECK(field("status.hostIPs") == "172.16.0.1");

  Result<std::string> bad = PodFieldValue(pod, "spec.schedulerName", pod_ips, host_ips);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unsupported fieldPath: spec.schedulerName");
  bad = PodFieldValue(pod, "metadata.labels['Bad Key']", pod_ips, host_ips);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("invalid key subscript in metadata.labels['Bad Key']: ", 0) == 0);
  bad = PodFieldValue(pod, "metadata.name['x']", pod_ips, host_ips);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "fieldPath \"metadata.name['x']\" does not support subscript");
  // Volumes see metadata only.
  CHECK_FALSE(MetadataFieldValue(pod, "spec.nodeName").ok());
}

TEST_CASE("downward API: resources with divisors, rounding up, node allocatable for missing limits") {
  rapidjson::Document pod = Parse(kPod);
  NodeAllocatable node{4000, 8LL << 30, 50LL << 30};
  auto value = [&](std::string_view container, std::string_view resource, std::string_view divisor) {
    const rapidjson::Value* c = FindContainer(pod, container);
    REQUIRE(c != nullptr);
    Result<std::string> v = ResourceFieldValue(*c, resource, divisor, node);
    REQUIRE(v.ok());
    return *v;
  };
  CHECK(value("app", "limits.cpu", "") == "2");       // 1.5 cores round up
  CHECK(value("app", "limits.cpu", "1m") == "1500");
  CHECK(value("app", "requests.cpu", "") == "1");     // 250m rounds up to 1
  CHECK(value("app", "requests.cpu", "100m") == "3");
  CHECK(value("app", "limits.memory", "") == "134217728");
  CHECK(value("app", "limits.memory", "1Mi") == "128");
  CHECK(value("app", "requests.memory", "1Gi") == "1");
  CHECK(value("bare", "limits.cpu", "") == "4");      // the node's allocatable
  CHECK(value("bare", "limits.memory", "1Gi") == "8");
  CHECK(value("bare", "limits.ephemeral-storage", "1Gi") == "50");
  CHECK(value("bare", "requests.cpu", "") == "0");
  CHECK(value("limited", "requests.memory", "1Mi") == "1024");  // request = limit
  const rapidjson::Value* c = FindContainer(pod, "app");
  Result<std::string> bad = ResourceFieldValue(*c, "limits.hugepages-2Mi", "", node);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unsupported container resource : limits.hugepages-2Mi");
  CHECK(FindContainer(pod, "nope") == nullptr);
}

TEST_CASE("object data: base64 and ConfigMap/Secret contents") {
  // Padding is optional here ("c"); text that does not decode is skipped ("d").
  rapidjson::Document cm =
      Parse(R"({"data":{"a":"1"},"binaryData":{"b":"AAE=","c":"aGVsbG8","d":"a$=="}})");
  CHECK(ConfigMapData(cm, false) == KeyValues{{"a", "1"}});
  CHECK(ConfigMapData(cm, true) ==
        KeyValues{{"a", "1"}, {"b", std::string("\0\1", 2)}, {"c", "hello"}});
  rapidjson::Document secret = Parse(R"({"data":{"user":"YWRtaW4=","bad":"***"}})");
  CHECK(SecretData(secret) == KeyValues{{"user", "admin"}});
}

}  // namespace
}  // namespace kite::agent::volumes
