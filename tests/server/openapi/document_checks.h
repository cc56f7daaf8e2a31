// Helpers the OpenAPI tests share: parsing a served document and walking its references.
#pragma once

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

namespace kite::openapi::testing {

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
