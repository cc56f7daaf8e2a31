#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "src/server/schema/protobuf_decoder.h"
#include "src/server/schema/protobuf_encoder.h"
#include "tests/server/schema/proto_builder.h"
#include "tests/server/schema/roundtrip_samples.h"

namespace kite::schema {
namespace {

using testing::Json;
using testing::Proto;
using testing::ToString;

const SchemaRegistry& Builtin() { return SchemaRegistry::Builtin(); }

void ExpectRoundTrip(const rapidjson::Value& object, const SchemaRegistry& registry) {
  Result<std::string> encoded = EncodeKubernetesProtobuf(object, registry);
  INFO("input: " << ToString(object));
  INFO((encoded.ok() ? std::string() : encoded.status().ToString()));
  REQUIRE(encoded.ok());
  Result<DecodedObject> decoded = DecodeKubernetesProtobuf(*encoded, registry);
  INFO((decoded.ok() ? std::string() : decoded.status().ToString()));
  REQUIRE(decoded.ok());
  INFO("output: " << ToString(decoded->object));
  CHECK(decoded->object == object);
  CHECK(decoded->api_version == object["apiVersion"].GetString());
  CHECK(decoded->kind == object["kind"].GetString());
}

TEST_CASE("sample objects of every covered kind survive JSON -> protobuf -> JSON") {
  rapidjson::Document samples = Json(testing::kRoundTripSamples);
  REQUIRE(samples.IsArray());
  std::set<std::string> kinds;
  for (const auto& sample : samples.GetArray()) {
    ExpectRoundTrip(sample, Builtin());
    kinds.insert(std::string(sample["apiVersion"].GetString()) + " " + sample["kind"].GetString());
  }
  for (const char* want : testing::kKindsWithSamples) {
    INFO(want);
    CHECK(kinds.count(want) == 1);
  }
}

TEST_CASE("the encoder writes what gogo writes for a ConfigMap") {
  rapidjson::Document cm =
      Json(R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                                    "data": {"b": "2", "a": "1"}})");
  Result<std::string> encoded = EncodeKubernetesProtobuf(cm, Builtin());
  REQUIRE(encoded.ok());
  Proto raw;
  raw.Msg(1, Proto().Bytes(1, "x")).Entry(2, "a", "1").Entry(2, "b", "2");  // map keys sorted
  CHECK(*encoded == testing::Envelope("v1", "ConfigMap", raw));
}

TEST_CASE("the encoder rejects what it cannot represent") {
  auto error = [](std::string_view json) {
    rapidjson::Document doc = Json(json);
    Result<std::string> r = EncodeKubernetesProtobuf(doc, Builtin());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return r.status().message();
  };
  CHECK(error(R"({"kind": "ConfigMap"})") ==
        "protobuf encoding: the object needs string \"apiVersion\" and \"kind\"");
  CHECK(error(R"({"apiVersion": "v9", "kind": "ConfigMap"})") ==
        "no schema for kind ConfigMap in group/version v9");
  CHECK(error(R"({"apiVersion": "v1", "kind": "ConfigMap", "bogus": 1})") ==
        "protobuf encoding: unknown field \"bogus\" in core.v1.ConfigMap");
  CHECK(error(R"({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": 1}})") ==
        "protobuf encoding: data[a]: expected a string, got a number");
  CHECK(error(R"({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1.5}})") ==
        "protobuf encoding: spec.replicas: expected a 32-bit integer");
  CHECK(
      error(
          R"({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 4294967296}})") ==
      "protobuf encoding: spec.replicas: expected a 32-bit integer");
  CHECK(error(R"({"apiVersion": "v1", "kind": "Secret", "data": {"a": "not base64!"}})") ==
        "protobuf encoding: data[a]: invalid base64");
  CHECK(
      error(
          R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"creationTimestamp": "yesterday"}})") ==
      "protobuf encoding: metadata.creationTimestamp: invalid RFC 3339 time \"yesterday\"");
  CHECK(error(R"({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": {"name": "x"}}})") ==
        "protobuf encoding: spec.containers: expected an array, got an object");
  CHECK(
      error(
          R"({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "x", "ports": [{"containerPort": "80"}]}]}})") ==
      "protobuf encoding: spec.containers[0].ports[0].containerPort: expected a 32-bit integer");
  CHECK(
      error(
          R"({"apiVersion": "v1", "kind": "Pod", "spec": {"volumes": [{"name": "v", "configMap": {"nme": "x"}}]}})") ==
      "protobuf encoding: spec.volumes[0].configMap: unknown field \"nme\" in "
      "core.v1.ConfigMapVolumeSource");
  CHECK(
      error(
          R"({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"strategy": {"rollingUpdate": {"maxSurge": true}}}})") ==
      "protobuf encoding: spec.strategy.rollingUpdate.maxSurge: expected a 32-bit integer or a "
      "string, got a boolean");
}

TEST_CASE("the encoder accepts JSON null as absent and numbers as quantities") {
  rapidjson::Document pod =
      Json(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": null},
    "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": 2, "memory": 0.5}}}]}})");
  Result<std::string> encoded = EncodeKubernetesProtobuf(pod, Builtin());
  REQUIRE(encoded.ok());
  Result<DecodedObject> decoded = DecodeKubernetesProtobuf(*encoded, Builtin());
  REQUIRE(decoded.ok());
  CHECK(decoded->object == Json(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "2", "memory": "0.5"}}}]}})"));
}

// Builds an object that sets every field of `m` (to a non-zero value, so that it survives
// decoding), down to `depth` levels of messages; a message already being filled further up
// (a recursive type such as JSONSchemaProps) is not entered again.
std::vector<const MessageSchema*> filling;
void Fill(const MessageSchema& m, int depth, rapidjson::Value* out,
          rapidjson::Document::AllocatorType& a);

void FillValue(FieldKind kind, const MessageSchema* message, int depth, rapidjson::Value* v,
               rapidjson::Document::AllocatorType& a) {
  switch (kind) {
    case FieldKind::kString:
      v->SetString("text", a);
      break;
    case FieldKind::kInt32:
      v->SetInt(-7);
      break;
    case FieldKind::kInt64:
      v->SetInt64(-9000000000LL);
      break;
    case FieldKind::kUint32:
      v->SetUint(4000000000U);
      break;
    case FieldKind::kUint64:
      v->SetUint64(18000000000000000000ULL);
      break;
    case FieldKind::kBool:
      v->SetBool(true);
      break;
    case FieldKind::kDouble:
      v->SetDouble(2.5);
      break;
    case FieldKind::kFloat:
      v->SetDouble(0.75);
      break;
    case FieldKind::kBytes:
      v->SetString("AQID", a);
      break;
    case FieldKind::kMessage:
      Fill(*message, depth + 1, v, a);
      break;
    case FieldKind::kTime:
      v->SetString("2024-01-02T03:04:05Z", a);
      break;
    case FieldKind::kMicroTime:
      v->SetString("2024-01-02T03:04:05.123456Z", a);
      break;
    case FieldKind::kDuration:
      v->SetString("1m30s", a);
      break;
    case FieldKind::kQuantity:
      v->SetString("250m", a);
      break;
    case FieldKind::kIntOrString:
      v->SetString("25%", a);
      break;
    case FieldKind::kRawExtension:
      v->SetObject().AddMember("embedded", rapidjson::Value(1), a);
      break;
    case FieldKind::kFieldsV1:
      v->SetObject().AddMember("f:x", rapidjson::Value(rapidjson::kObjectType), a);
      break;
    case FieldKind::kMap:
      break;
  }
}

bool Filling(const MessageSchema* m) {
  return m != nullptr && std::find(filling.begin(), filling.end(), m) != filling.end();
}

void Fill(const MessageSchema& m, int depth, rapidjson::Value* out,
          rapidjson::Document::AllocatorType& a) {
  if (m.is_oneof) {
    // The last member: the one the decoder prefers.
    const FieldSchema& last = m.fields.back();
    rapidjson::Value item;
    filling.push_back(&m);
    FillValue(last.kind, last.message, depth, &item, a);
    filling.pop_back();
    if (last.repeated) {
      out->SetArray().PushBack(item, a);
    } else {
      *out = item;
    }
    return;
  }
  if (m.is_wrapper) {
    out->SetArray();
    rapidjson::Value item;
    FillValue(m.fields[0].kind, m.fields[0].message, depth, &item, a);
    out->PushBack(item, a);
    return;
  }
  if (!out->IsObject()) out->SetObject();
  for (const FieldSchema& f : m.fields) {
    if (f.inline_json) {
      Fill(*f.message, depth, out, a);  // members land in this object
      continue;
    }
    bool nested = f.kind == FieldKind::kMessage ||
                  (f.kind == FieldKind::kMap && f.map_value_kind == FieldKind::kMessage);
    if (nested && (depth >= 5 || Filling(f.message) || Filling(f.map_value_message) ||
                   f.message == &m || f.map_value_message == &m)) {
      continue;
    }
    filling.push_back(&m);
    rapidjson::Value v;
    if (f.kind == FieldKind::kMap) {
      v.SetObject();
      rapidjson::Value item;
      FillValue(f.map_value_kind, f.map_value_message, depth, &item, a);
      v.AddMember("key", item, a);
    } else if (f.repeated) {
      v.SetArray();
      rapidjson::Value item;
      FillValue(f.kind, f.message, depth, &item, a);
      v.PushBack(item, a);
    } else {
      FillValue(f.kind, f.message, depth, &v, a);
    }
    filling.pop_back();
    out->AddMember(rapidjson::Value(f.json_name.c_str(), a), v, a);
  }
}

TEST_CASE("every kind in the registry round-trips with every field set") {
  const SchemaRegistry& registry = Builtin();
  int kinds = 0;
  for (const auto& m : registry.messages()) {
    if (!m->is_kind) continue;
    ++kinds;
    rapidjson::Document doc;
    auto& a = doc.GetAllocator();
    doc.SetObject();
    std::string api_version = m->group.empty() ? m->version : m->group + "/" + m->version;
    doc.AddMember("apiVersion", rapidjson::Value(api_version.c_str(), a), a);
    doc.AddMember("kind", rapidjson::Value(m->kind.c_str(), a), a);
    Fill(*m, 0, &doc, a);
    INFO(m->FullName());
    ExpectRoundTrip(doc, registry);
  }
  CHECK(kinds > 50);
}

}  // namespace
}  // namespace kite::schema
