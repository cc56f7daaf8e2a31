// Helpers the OpenAPI tests share: the built-in documents, parsing a served document and
// walking its references.
#pragma once

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "src/server/openapi/openapi_service.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/schema_registry.h"

namespace kite::openapi::testing {

inline const schema::SchemaRegistry& Registry() { return schema::SchemaRegistry::Builtin(); }

inline const resources::ResourceTable& BuiltinTable() {
  static const resources::ResourceTable table = resources::BuiltinResources();
  return table;
}

// The documents of the built-in resources, built once per test binary.
inline const OpenApiService& BuiltinService() {
  static const std::unique_ptr<OpenApiService> service = OpenApiService::Build(Registry(), BuiltinTable());
  return *service;
}

// `json` parsed; fails the test unless it is a JSON object.
inline std::shared_ptr<rapidjson::Document> ParseDocument(const std::string& json) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(json.data(), json.size());
  INFO(json.substr(0, 300));
  REQUIRE_FALSE(doc->HasParseError());
  REQUIRE(doc->IsObject());
  return doc;
}

// Every "$ref" anywhere under `v`.
inline void CollectRefs(const rapidjson::Value& v, std::vector<std::string>& out) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (std::string(m.name.GetString()) == "$ref" && m.value.IsString()) {
        out.push_back(m.value.GetString());
      } else {
        CollectRefs(m.value, out);
      }
    }
  } else if (v.IsArray()) {
    for (const rapidjson::Value& item : v.GetArray()) CollectRefs(item, out);
  }
}

}  // namespace kite::openapi::testing
