#include "src/server/schema/protobuf_decoder.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "src/server/schema/schema_parser.h"
#include "tests/server/schema/proto_builder.h"

namespace kite::schema {
namespace {

using testing::Envelope;
using testing::IntOrStringInt;
using testing::IntOrStringStr;
using testing::Json;
using testing::Proto;
using testing::QuantityOf;
using testing::Timestamp;
using testing::ToString;

const SchemaRegistry& Builtin() { return SchemaRegistry::Builtin(); }

// Decodes and compares with the expected JSON (object member order does not matter).
void ExpectDecodes(const std::string& body, std::string_view expected_json) {
  Result<DecodedObject> decoded = DecodeKubernetesProtobuf(body, Builtin());
  INFO((decoded.ok() ? std::string() : decoded.status().ToString()));
  REQUIRE(decoded.ok());
  rapidjson::Document expected = Json(expected_json);
  INFO("got:  " << ToString(decoded->object));
  INFO("want: " << ToString(expected));
  CHECK(decoded->object == expected);
}

std::string DecodeError(const std::string& body) {
  Result<DecodedObject> decoded = DecodeKubernetesProtobuf(body, Builtin());
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().code() == StatusCode::kInvalidArgument);
  return decoded.status().message();
}

// ObjectMeta as gogo writes it for a new object: every non-pointer field, zero or not.
Proto NewObjectMeta(std::string_view name, std::string_view ns) {
  return Proto()
      .Bytes(1, name)
      .Bytes(2, "")
      .Bytes(3, ns)
      .Bytes(4, "")
      .Bytes(5, "")
      .Bytes(6, "")
      .Varint(7, 0)
      .Bytes(8, "");  // the zero creationTimestamp: an empty message
}

TEST_CASE("ConfigMap: data, binaryData and a false pointer bool") {
  Proto cm;
  cm.Msg(1, NewObjectMeta("cfg", "default"))
      .Entry(2, "a.txt", "hello")
      .Entry(2, "empty", "")
      .Entry(3, "bin", std::string("\x00\x01\xff", 3))
      .Varint(4, 0);
  ExpectDecodes(Envelope("v1", "ConfigMap", cm), R"({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "default"},
    "data": {"a.txt": "hello", "empty": ""},
    "binaryData": {"bin": "AAH/"},
    "immutable": false
  })");
}

TEST_CASE("Secret: bytes values become base64") {
  Proto secret;
  secret.Msg(1, NewObjectMeta("db", "prod"))
      .Entry(2, "password", "s3cr\xe9t")
      .Entry(2, "token", "")
      .Bytes(3, "Opaque");
  ExpectDecodes(Envelope("v1", "Secret", secret), R"({
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "db", "namespace": "prod"},
    "data": {"password": "czNjcul0", "token": ""},
    "type": "Opaque"
  })");
}

TEST_CASE("Namespace: empty spec and status stay as objects, labels decode") {
  Proto ns;
  Proto meta = NewObjectMeta("team-a", "");
  meta.Entry(11, "env", "dev").Entry(12, "note", "x");
  ns.Msg(1, meta).Msg(2, Proto()).Msg(3, Proto().Bytes(1, ""));
  ExpectDecodes(Envelope("v1", "Namespace", ns), R"({
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": {"name": "team-a", "labels": {"env": "dev"}, "annotations": {"note": "x"}},
    "spec": {}, "status": {}
  })");
}

TEST_CASE("Deployment: replicas 0 kept, ports, quantities, int-or-string, time, owner references") {
  Proto meta = NewObjectMeta("web", "default");
  meta.Msg(8, Timestamp(1704164645));  // a later occurrence of a field wins
  meta.Msg(13, Proto()
                   .Bytes(1, "ReplicaSet")
                   .Bytes(3, "owner")
                   .Bytes(4, "1234-abcd")
                   .Bytes(5, "apps/v1")
                   .Varint(6, 1)
                   .Varint(7, 0));
  Proto container;
  container.Bytes(1, "nginx")
      .Bytes(2, "nginx:1.27")
      .Msg(6, Proto().Bytes(1, "http").Varint(2, 0).Varint(3, 80).Bytes(4, "TCP").Bytes(5, ""))
      .Msg(6, Proto().Bytes(1, "").Varint(2, 0).Varint(3, 443).Bytes(4, "TCP").Bytes(5, ""))
      .Msg(8, Proto().Entry(1, "cpu", QuantityOf("500m")).Entry(2, "memory", QuantityOf("64Mi")))
      .Bytes(13, "/dev/termination-log")
      .Varint(16, 0)
      .Varint(17, 0)
      .Varint(18, 0);
  Proto pod_spec;
  pod_spec.Msg(2, container)
      .Bytes(3, "Always")
      .Varint(4, 30)
      .Bytes(6, "ClusterFirst")
      .Varint(11, 0);
  Proto template_meta;
  template_meta.Bytes(1, "").Bytes(8, "").Entry(11, "app", "web");
  Proto spec;
  spec.Varint(1, 0)
      .Msg(2, Proto().Entry(1, "app", "web"))
      .Msg(3, Proto().Msg(1, template_meta).Msg(2, pod_spec))
      .Msg(4, Proto()
                  .Bytes(1, "RollingUpdate")
                  .Msg(2, Proto().Msg(1, IntOrStringInt(1)).Msg(2, IntOrStringStr("25%"))))
      .Varint(5, 0)
      .Varint(6, 10)
      .Varint(7, 0)
      .Varint(9, 600);
  Proto deployment;
  deployment.Msg(1, meta).Msg(2, spec).Msg(3, Proto().Varint(1, 0).Varint(2, 0));
  ExpectDecodes(Envelope("apps/v1", "Deployment", deployment), R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {
      "name": "web", "namespace": "default",
      "creationTimestamp": "2024-01-02T03:04:05Z",
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "owner", "uid": "1234-abcd",
                           "controller": true, "blockOwnerDeletion": false}]
    },
    "spec": {
      "replicas": 0,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
          "containers": [{
            "name": "nginx", "image": "nginx:1.27",
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"},
                      {"containerPort": 443, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
            "terminationMessagePath": "/dev/termination-log"
          }],
          "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst"
        }
      },
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
      "revisionHistoryLimit": 10,
      "progressDeadlineSeconds": 600
    },
    "status": {}
  })");
}

TEST_CASE("inline members, probes, int-or-string zero and negative numbers") {
  Proto volume;
  volume.Bytes(1, "config")
      .Msg(2, Proto().Msg(19, Proto().Msg(1, Proto().Bytes(1, "cm")).Varint(3, 420)));
  Proto probe;
  probe.Msg(1, Proto().Msg(2, Proto().Bytes(1, "/healthz").Msg(2, IntOrStringStr("http"))))
      .Varint(2, 5);
  Proto container;
  container.Bytes(1, "c").Msg(10, probe);
  Proto pod_spec;
  pod_spec.Msg(1, volume).Msg(2, container).Varint(4, static_cast<uint64_t>(int64_t{-1}));
  Proto service_spec;
  service_spec.Msg(1, Proto().Varint(3, 80).Msg(4, IntOrStringInt(0)));
  ExpectDecodes(Envelope("v1", "Pod", Proto().Msg(2, pod_spec)), R"({
    "apiVersion": "v1", "kind": "Pod",
    "spec": {
      "volumes": [{"name": "config", "configMap": {"name": "cm", "defaultMode": 420}}],
      "containers": [{"name": "c", "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                                                   "initialDelaySeconds": 5}}],
      "terminationGracePeriodSeconds": -1
    }
  })");
  ExpectDecodes(Envelope("v1", "Service", Proto().Msg(2, service_spec)), R"({
    "apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 0}]}
  })");
}

TEST_CASE("packed and unpacked repeated scalars") {
  // supplementalGroups [1, 300, -2] as one packed run: 01 ac02 feffffffffffffffff01
  const std::string packed_bytes("\x01\xac\x02\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 13);
  Proto security;
  security.Bytes(4, packed_bytes).Varint(4, 7);  // a packed run, then one unpacked element
  Proto pod_spec;
  pod_spec.Msg(14, security);
  ExpectDecodes(Envelope("v1", "Pod", Proto().Msg(2, pod_spec)), R"({
    "apiVersion": "v1", "kind": "Pod", "spec": {"securityContext": {"supplementalGroups": [1, 300, -2, 7]}}
  })");
}

TEST_CASE("raw extensions, fields, micro times and wrapper lists") {
  Proto revision;
  revision.Msg(1, Proto().Bytes(1, "rev-1"))
      .Msg(2, Proto().Bytes(1, R"({"spec":{"x":[1,2]}})"))
      .Varint(3, 3);
  ExpectDecodes(Envelope("apps/v1", "ControllerRevision", revision), R"({
    "apiVersion": "apps/v1", "kind": "ControllerRevision",
    "metadata": {"name": "rev-1"}, "data": {"spec": {"x": [1, 2]}}, "revision": 3
  })");

  // A RawExtension that holds a protobuf body of its own.
  std::string inner = Envelope("v1", "ConfigMap", Proto().Msg(1, Proto().Bytes(1, "inner")));
  Proto nested;
  nested.Msg(2, Proto().Bytes(1, inner));
  ExpectDecodes(Envelope("apps/v1", "ControllerRevision", nested), R"({
    "apiVersion": "apps/v1", "kind": "ControllerRevision",
    "data": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}}
  })");

  Proto managed;
  managed.Bytes(1, "kubectl")
      .Bytes(2, "Apply")
      .Msg(4, Timestamp(0))
      .Bytes(6, "FieldsV1")
      .Msg(7, Proto().Bytes(1, R"({"f:data":{}})"));
  Proto event;
  event.Msg(1, Proto().Bytes(1, "e").Msg(17, managed)).Msg(10, Timestamp(1704164645, 123456789));
  ExpectDecodes(Envelope("v1", "Event", event), R"({
    "apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "e", "managedFields": [{"manager": "kubectl", "operation": "Apply",
                 "time": "1970-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}]},
    "eventTime": "2024-01-02T03:04:05.123456Z"
  })");

  Proto resources;
  resources.Bytes(1, "v1").Msg(
      2, Proto().Bytes(1, "pods").Msg(4, Proto().Bytes(1, "get").Bytes(1, "list")));
  ExpectDecodes(Envelope("v1", "APIResourceList", resources), R"({
    "apiVersion": "v1", "kind": "APIResourceList",
    "groupVersion": "v1", "resources": [{"name": "pods", "verbs": ["get", "list"]}]
  })");
}

TEST_CASE("unknown fields are skipped and invalid UTF-8 is replaced") {
  Proto cm;
  cm.Varint(99, 12345)
      .Fixed64(98, 1)
      .Fixed32(97, 1)
      .Bytes(96, "ignored")
      .Msg(1, Proto().Bytes(1, "n\xff").Varint(1000, 5))
      .Entry(2, "k", "v");
  ExpectDecodes(Envelope("v1", "ConfigMap", cm), R"({
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n\ufffd"}, "data": {"k": "v"}
  })");
}

TEST_CASE("a repeated map key keeps the last value") {
  Proto cm;
  cm.Entry(2, "k", "first").Entry(2, "other", "x").Entry(2, "k", "second");
  ExpectDecodes(Envelope("v1", "ConfigMap", cm), R"({
    "apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "second", "other": "x"}
  })");
}

TEST_CASE("malformed bodies are rejected with a message") {
  std::string good = Envelope("v1", "ConfigMap", Proto().Msg(1, Proto().Bytes(1, "x")));
  CHECK(DecodeError("") == "protobuf: body does not start with the \"k8s\\0\" magic");
  CHECK(DecodeError("{\"kind\":\"ConfigMap\"}") ==
        "protobuf: body does not start with the \"k8s\\0\" magic");
  CHECK(DecodeError(Envelope("v1", "Frobnicator", Proto())) ==
        "no schema for kind Frobnicator in group/version v1");
  CHECK(DecodeError(Envelope("apps/v1", "ConfigMap", Proto())) ==
        "no schema for kind ConfigMap in group/version apps/v1");
  CHECK(DecodeError(Envelope("v1", "", Proto())) == "protobuf: typeMeta has no kind");

  // A varint cut off at the end of the object.
  CHECK(DecodeError(Envelope("v1", "ConfigMap", Proto().Raw("\x20\x80"))) ==
        "protobuf: immutable: truncated or overlong varint");
  // A length larger than what is left.
  CHECK(DecodeError(Envelope("v1", "ConfigMap", Proto().Raw("\x0a\x05\x0a\x01"))) ==
        "protobuf: metadata: length beyond the end of the buffer");
  // replicas sent as a length-delimited value.
  CHECK(DecodeError(Envelope("apps/v1", "Deployment", Proto().Msg(2, Proto().Bytes(1, "3")))) ==
        "protobuf: spec.replicas: wrong wire type length-delimited, want varint");
  // Deep inside a list.
  Proto container;
  container.Msg(6, Proto().Varint(3, 80)).Msg(6, Proto().Bytes(3, "x"));
  CHECK(DecodeError(Envelope("v1", "Pod", Proto().Msg(2, Proto().Msg(2, container)))) ==
        "protobuf: spec.containers[0].ports[1].containerPort: wrong wire type length-delimited, "
        "want varint");
  // Groups are not supported; field number 0 is invalid.
  CHECK(DecodeError(Envelope("v1", "ConfigMap", Proto().Raw("\x5b"))) ==
        "protobuf: unknown field 11: truncated or unsupported start-group value");
  CHECK(DecodeError(Envelope("v1", "ConfigMap", Proto().Raw("\x0b"))) ==
        "protobuf: metadata: wrong wire type start-group, want length-delimited");
  CHECK(DecodeError(Envelope("v1", "ConfigMap", Proto().Raw("\x02\x00"))) ==
        "protobuf: malformed field key at byte 1");
  // The envelope itself truncated.
  CHECK(DecodeError(good.substr(0, good.size() - 3)).find("length beyond the end of the buffer") !=
        std::string::npos);
  // Well-known values that cannot be represented.
  CHECK(DecodeError(
            Envelope("v1", "ConfigMap", Proto().Msg(1, Proto().Msg(8, Timestamp(INT64_MAX))))) ==
        "protobuf: metadata.creationTimestamp: time out of range (seconds 9223372036854775807)");
  CHECK(DecodeError(
            Envelope("apps/v1", "Deployment",
                     Proto().Msg(
                         2, Proto().Msg(4, Proto().Msg(2, Proto().Msg(1, Proto().Varint(1, 7)))))))
            .find("int-or-string of unknown type 7") != std::string::npos);
  CHECK(DecodeError(
            Envelope("apps/v1", "ControllerRevision", Proto().Msg(2, Proto().Bytes(1, "{nope"))))
            .find("protobuf: data: embedded value is not JSON") == 0);
  CHECK(DecodeError(Envelope(
            "v1", "Pod",
            Proto().Msg(2, Proto().Msg(2, Proto().Msg(8, Proto().Entry(1, "cpu", Proto())))))) ==
        "protobuf: spec.containers[0].resources.limits: empty quantity");
  Proto unknown_encoding;
  unknown_encoding.Msg(1, Proto().Bytes(1, "v1").Bytes(2, "ConfigMap")).Bytes(3, "gzip");
  CHECK(DecodeError(std::string("k8s\0", 4) + unknown_encoding.str()) ==
        "protobuf: unsupported contentEncoding \"gzip\"");
}

TEST_CASE("nesting deeper than the limit is rejected") {
  SchemaSource source{"deep.kschema", R"(
    package deep.v1; group "deep"; version "v1";
    message Node [kind] { Node child = 1; string name = 2; RawExtension raw = 3; }
  )"};
  Result<SchemaRegistry> registry = ParseSchemas(std::span<const SchemaSource>(&source, 1));
  REQUIRE(registry.ok());
  auto nested = [](int depth) {
    Proto p;
    p.Bytes(2, "leaf");
    for (int i = 0; i < depth; ++i) p = Proto().Msg(1, p);
    return p;
  };
  Result<DecodedObject> ok =
      DecodeKubernetesProtobuf(Envelope("deep/v1", "Node", nested(99)), *registry);
  CHECK(ok.ok());
  Result<DecodedObject> deep =
      DecodeKubernetesProtobuf(Envelope("deep/v1", "Node", nested(101)), *registry);
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().message().find("nesting deeper than 100 messages") != std::string::npos);
  // Deep JSON inside a raw extension counts too.
  std::string deep_json = std::string(200, '[') + std::string(200, ']');
  Result<DecodedObject> json = DecodeKubernetesProtobuf(
      Envelope("deep/v1", "Node", Proto().Msg(3, Proto().Bytes(1, deep_json))), *registry);
  REQUIRE_FALSE(json.ok());
  CHECK(json.status().message() == "protobuf: raw: embedded JSON nests too deep");
}

TEST_CASE("durations decode as Go duration strings") {
  SchemaSource source{"d.kschema", R"(
    package d.v1; group "d"; version "v1";
    message Timer [kind] { Duration every = 1; Duration never = 2; repeated Duration list = 3;
                           double ratio = 4; float scale = 5; uint64 big = 6; }
  )"};
  Result<SchemaRegistry> registry = ParseSchemas(std::span<const SchemaSource>(&source, 1));
  REQUIRE(registry.ok());
  Proto timer;
  double ratio = 0.25;
  float scale = 1.5f;
  uint64_t ratio_bits, scale_bits = 0;
  std::memcpy(&ratio_bits, &ratio, 8);
  std::memcpy(&scale_bits, &scale, 4);
  timer.Msg(1, Proto().Varint(1, 90000000000ULL))
      .Msg(2, Proto().Varint(1, 0))
      .Msg(3, Proto().Varint(1, 1500000))
      .Fixed64(4, ratio_bits)
      .Fixed32(5, static_cast<uint32_t>(scale_bits))
      .Varint(6, UINT64_MAX);
  Result<DecodedObject> decoded =
      DecodeKubernetesProtobuf(Envelope("d/v1", "Timer", timer), *registry);
  REQUIRE(decoded.ok());
  CHECK(decoded->object ==
        Json(R"({"apiVersion": "d/v1", "kind": "Timer", "every": "1m30s", "never": "0s",
                                    "list": ["1.5ms"], "ratio": 0.25, "scale": 1.5, "big": 18446744073709551615})"));
}

}  // namespace
}  // namespace kite::schema

namespace kite::schema {
namespace {

TEST_CASE("apiextensions unions decode to their JSON alternative") {
  Proto string_schema;
  string_schema.Bytes(5, "string");
  Proto spec_schema;
  spec_schema.Bytes(5, "object")
      .Entry(29, "labels",
             Proto().Bytes(5, "object").Msg(30, Proto().Varint(1, 1).Msg(2, string_schema)))
      .Entry(29, "free", Proto().Bytes(5, "object").Msg(30, Proto().Varint(1, 0)))
      .Entry(29, "tags", Proto().Bytes(5, "array").Msg(24, Proto().Msg(1, string_schema)))
      .Entry(29, "pair", Proto().Msg(24, Proto().Msg(2, string_schema).Msg(2, string_schema)))
      .Entry(32, "a", Proto().Bytes(2, "b"));
  Proto version;
  version.Bytes(1, "v1").Varint(2, 1).Varint(3, 1).Msg(4, Proto().Msg(1, spec_schema));
  Proto crd;
  crd.Msg(1, Proto().Bytes(1, "widgets.example.com"))
      .Msg(2, Proto().Bytes(1, "example.com").Msg(7, version));
  Result<DecodedObject> decoded = DecodeKubernetesProtobuf(
      testing::Envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd),
      SchemaRegistry::Builtin());
  REQUIRE(decoded.ok());
  CHECK(decoded->object == testing::Json(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "versions": [{"name": "v1", "served": true, "storage": true,
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "free": {"type": "object", "additionalProperties": false},
        "tags": {"type": "array", "items": {"type": "string"}},
        "pair": {"items": [{"type": "string"}, {"type": "string"}]}},
        "dependencies": {"a": ["b"]}}}}]}})"));
}

}  // namespace
}  // namespace kite::schema
